"""Batched directions (``optimize.batching``): one tangent pass with a leading axis of
directions agrees with one pass per direction and with central finite differences.

The completeness tests walk every primitive with a tangent rule. Each must appear in a row of
``tests/ad/test_rules.ROWS`` whose tangent program batched, or, for the helpers of generated
gradients, in a gradient whose Hessian program batched; or be listed in ``ONE_AT_A_TIME``
below (pushed one direction at a time, correct but slower). A new tangent rule without a
batching row therefore fails here until it has one (``optimize.batch_rules``) or is listed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

import symdiff
from symdiff.ad import rules
from symdiff.ad.tangents import TANGENTS
from symdiff.api import higher
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir.nodes import Primitive, iter_assigns

from ..ad.test_rules import ROWS, Row, build

D = 3  # directions per check: more than one, and not a length any row's shapes use

# Tangent rules whose programs are pushed one direction at a time: their tangent programs have
# a step that even the loop over directions cannot write. Remove a name when it batches (the
# test says so); never add one to silence a wrong result (those fail the agreement tests).
# (The analysis does not know the type of these tangents' helpers' results, so the sum that
# reads them cannot be told from a sum over a tuple.)
ONE_AT_A_TIME: frozenset[str] = frozenset({"np.linalg.norm", "np.sort", "sort_grad"})


@pytest.fixture(autouse=True)
def one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are of the one-pass programs, off by default for Jacobians and Hessians
    (symdiff.api.higher.ONE_PASS) until the random-program failures are fixed."""
    monkeypatch.setattr(higher, "ONE_PASS", True)


def _directions(x, rng) -> np.ndarray:
    return rng.standard_normal((D, *np.shape(x)))


def _fd(f, inputs, i, v, h=1e-6):
    """Central difference of f along v in input i (float64)."""
    plus, minus = list(inputs), list(inputs)
    plus[i] = inputs[i] + h * v
    minus[i] = inputs[i] - h * v
    return (f(*plus) - f(*minus)) / (2 * h)


@lru_cache(maxsize=None)
def _jvp_outcome(k: int) -> tuple[bool, frozenset[Primitive]]:
    """Row k's batched tangent program against d single passes and finite differences;
    whether it batched, and the primitives of the row's function."""
    r = ROWS[k]
    f, inputs = build(r)
    rng = np.random.default_rng(k)
    fn, _ = lower(get_source(f), reserved=set())
    prims = frozenset(s.prim for s in iter_assigns(fn.body))
    try:
        one = symdiff.jvp(f, wrt=0)
    except symdiff.NonDifferentiableError:  # no tangent rule at all: nothing to batch
        return False, frozenset()
    many = symdiff.jvp(f, wrt=0, batched=True)
    V = _directions(inputs[0], rng)
    value, T = many(*inputs, V)
    assert T.shape == (D,), r.id
    np.testing.assert_allclose(value, f(*inputs), rtol=1e-12, atol=1e-12)
    for k_, v in enumerate(V):
        v = v if np.ndim(v) else float(v)
        single = one(*inputs, v)[1]
        np.testing.assert_allclose(T[k_], single, rtol=1e-10, atol=1e-10, err_msg=r.id)
        fd = _fd(f, inputs, 0, v)
        np.testing.assert_allclose(T[k_], fd, rtol=max(r.rtol, 1e-5), atol=max(r.atol, 1e-5))
    return bool(many.last_batched), prims


@lru_cache(maxsize=None)
def _hessian_outcome(k: int) -> tuple[bool, frozenset[Primitive]]:
    """Row k's Hessian (every direction in batches) against one H·v per direction; whether it
    batched, and the primitives of the gradient it differentiates."""
    r = ROWS[k]
    f, inputs = build(r)
    try:
        H = symdiff.hessian(f, wrt=0)
        full = H(*inputs)
    except symdiff.SymdiffError:  # no second derivative for this row (a refusal, not ours)
        return False, frozenset()
    hv = symdiff.hvp(f, wrt=0)
    x = inputs[0]
    n = int(np.size(x))
    flat = np.reshape(full, (n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = 1.0
        col = np.reshape(hv(*inputs, np.reshape(e, np.shape(x)) if np.ndim(x) else 1.0), -1)
        np.testing.assert_allclose(flat[:, j], col, rtol=1e-9, atol=1e-9, err_msg=r.id)
    grad_prog = H.gradient.latest.program
    prims = frozenset(s.prim for s in iter_assigns(grad_prog.forward + grad_prog.backward))
    return bool(H.last_batched), prims


def _ok_rows() -> list[int]:
    return [k for k, r in enumerate(ROWS) if not r.consts]


@pytest.mark.parametrize("k", _ok_rows(), ids=[ROWS[k].id for k in _ok_rows()])
def test_batched_tangents_agree_with_single_ones_and_finite_differences(k: int) -> None:
    _jvp_outcome(k)


def _small(r: Row) -> bool:
    arg = next(iter(r.args.values()))
    return int(np.prod(arg.shape, dtype=int)) <= 12


HESSIAN_ROWS = [k for k in _ok_rows() if _small(ROWS[k])]


@pytest.mark.parametrize("k", HESSIAN_ROWS, ids=[ROWS[k].id for k in HESSIAN_ROWS])
def test_batched_hessians_agree_with_hessian_vector_products(k: int) -> None:
    _hessian_outcome(k)


def test_every_tangent_rule_batches_or_is_listed() -> None:
    """Batched: the primitive is in a row whose program ran as one pass."""
    batched: set[Primitive] = set()
    for k in _ok_rows():
        ok, prims = _jvp_outcome(k)
        if ok:
            batched |= prims
    for k in HESSIAN_ROWS:
        ok, prims = _hessian_outcome(k)
        if ok:
            batched |= prims
    internal = {p for p in TANGENTS if p in rules.INTERNAL}
    wanted = {p for p in TANGENTS if p.name not in ONE_AT_A_TIME}
    missing = sorted(p.name for p in wanted - batched if p not in internal or p in _reached())
    assert not missing, f"tangent rules that do not batch (optimize.batch_rules): {missing}"
    stale = sorted(n for n in ONE_AT_A_TIME if any(p.name == n for p in batched))
    assert not stale, f"listed in ONE_AT_A_TIME but batched: {stale}"


@lru_cache(maxsize=None)
def _reached() -> frozenset[Primitive]:
    """The gradient helpers the rows' Hessians meet at all."""
    seen: set[Primitive] = set()
    for k in HESSIAN_ROWS:
        seen |= _hessian_outcome(k)[1]
    return frozenset(seen)


def test_one_at_a_time_names_are_tangent_rules() -> None:
    names = {p.name for p in TANGENTS}
    assert ONE_AT_A_TIME <= names, sorted(ONE_AT_A_TIME - names)


def test_a_refused_step_falls_back_to_one_direction_at_a_time() -> None:
    def f(x):
        for _ in range(3):  # the gradient keeps x on a tape: its tangents would ride on it
            x = np.sin(x) * x
        return np.sum(x)

    x = np.array([0.5, -1.0, 2.0])
    H = symdiff.hessian(f)
    got = H(x)
    assert H.last_batched is False
    np.testing.assert_allclose(got, _hessian_by_fd(f, x), rtol=1e-5, atol=1e-5)


def _hessian_by_fd(f, x, h=1e-5):
    g = symdiff.grad(f)
    n = x.size
    out = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        out[:, j] = (g(x + e) - g(x - e)) / (2 * h)
    return out


def test_the_common_steps_are_written_without_a_loop() -> None:
    def loss(w, X, y):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)) + 0.5 * np.sum(w[1:] ** 2)

    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((20, 4)), (rng.random(20) < 0.5) * 1.0, rng.standard_normal(4)
    H = symdiff.hessian(loss)
    got = H(w, X, y)
    assert H.last_batched is True
    np.testing.assert_allclose(got, _hessian_by_fd(lambda u: loss(u, X, y), w), rtol=1e-6)
    source = H._batched.source
    assert ".append(" not in source and "v @ X.T" in source and "v[:, 1:]" in source, source


def test_jvp_batched_checks_its_tangents() -> None:
    def f(x):
        return np.sin(x) * 2.0

    x = np.array([0.1, 0.2, 0.3])
    fj = symdiff.jvp(f, batched=True)
    value, T = fj(x, np.eye(3))
    np.testing.assert_allclose(value, f(x))
    np.testing.assert_allclose(T, np.diag(2.0 * np.cos(x)), rtol=1e-12)
    with pytest.raises(symdiff.InputError, match=r"\(directions, \*\(3,\)\)"):
        fj(x, x)
    value, T = fj(x, np.zeros((0, 3)))
    assert T.shape == (0, 3)


def test_jacobian_forward_mode_is_one_pass_and_chunks(monkeypatch) -> None:
    from symdiff.api import batched as api_batched

    def f(x, W):
        return np.tanh(W @ x) * np.sum(x**2)

    rng = np.random.default_rng(1)
    x, W = rng.standard_normal(5), rng.standard_normal((3, 5))
    J = symdiff.jacobian(f, mode="fwd")
    got = J(x, W)
    assert J.last_batched is True
    want = symdiff.jacobian(f, mode="rev")(x, W)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    monkeypatch.setattr(api_batched, "BUDGET", 10)  # chunks of two directions
    np.testing.assert_allclose(J(x, W), want, rtol=1e-12, atol=1e-14)
    Jw = symdiff.jacobian(f, wrt=("x", "W"), mode="fwd")(x, W)
    want_w = symdiff.jacobian(f, wrt=("x", "W"), mode="rev")(x, W)
    for a, b in zip(Jw, want_w):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
