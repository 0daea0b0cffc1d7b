"""The pipeline and the objects on top of it: formatting only when a source is read, the
cache's explicit clear, the derivative-program kinds, and bound methods through every
derivative object (checked against central finite differences in float64)."""

import inspect

import numpy as np
import pytest

import symdiff
from symdiff import pipeline
from symdiff.ad.program import Kind
from symdiff.api import cache


def loss(w, x):
    return np.sum(np.tanh(w * x) ** 2)


def _fd(f, x, h=1e-6):
    """Central differences of a scalar or array function of a float64 array ``x``."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = h
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    out = np.stack(cols, axis=-1)
    return out.reshape(np.shape(f(x)) + x.shape)


@pytest.fixture
def formats(monkeypatch):
    """Every call of the formatter, by the text it was given."""
    seen = []
    real = pipeline.format_source

    def counting(text):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(pipeline, "format_source", counting)
    return seen


def test_a_transformation_formats_nothing_until_a_source_is_read(formats):
    t = pipeline.transform(loss, 0)
    w, x = np.linspace(-1, 1, 5), np.linspace(0.5, 2, 5)
    t.grad(w, x)
    t.value_and_grad(w, x)
    assert formats == []
    first = t.grad_source
    assert t.grad_source is first  # formatted once
    assert len(formats) == 1
    assert t.value_and_grad_source.startswith("def loss_value_and_grad(w, x")
    assert len(formats) == 2


def test_calling_a_gradient_never_formats(formats):
    f = symdiff.from_source("def fresh(w):\n    return np.sum(np.sin(w) * w)\n")
    g = symdiff.grad(f)
    w = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(g(w), _fd(f, w), rtol=1e-7, atol=1e-9)
    assert formats == []
    assert "def fresh_grad(w):" in g.source
    assert len(formats) == 1


def test_the_formatted_source_is_what_the_unformatted_code_computes():
    t = pipeline.transform(loss, (0, 1))
    w, x = np.linspace(-1, 1, 5), np.linspace(0.5, 2, 5)
    for a, b in zip(t.grad(w, x), t.readable_grad(w, x)):
        np.testing.assert_array_equal(a, b)
    value, grads = t.readable_value_and_grad(w, x)
    assert value == loss(w, x)
    for a, b in zip(grads, t.grad(w, x)):
        np.testing.assert_array_equal(a, b)
    assert inspect.getsource(t.readable_grad) == t.grad_source
    assert t.readable_grad.__symdiff_from__ is t


def test_a_second_derivative_reads_back_the_formatted_source():
    g = symdiff.grad(lambda_free_cube)
    assert inspect.getsource(g.__symdiff_generated__()) == g.source
    gg = symdiff.grad(g)
    assert gg(1.5) == pytest.approx(6 * 1.5, rel=1e-12)
    assert gg.transformed.source.text == g.generic_source  # g ran: g.source is specialised


def lambda_free_cube(x):
    return x * x * x


def test_clear_makes_every_cached_transformation_stale():
    a = cache.cached_transform(loss, 0, False)
    assert cache.cached_transform(loss, 0, False) is a
    cache.clear()
    b = cache.cached_transform(loss, 0, False)
    assert b is not a
    assert cache.cached_transform(loss, 0, False) is b


def test_program_kinds_compare_as_their_names():
    assert Kind.GRAD == "grad" and Kind("hvp") is Kind.HVP
    assert f"{Kind.GRAD_FWD}" == "grad_fwd"
    assert pipeline.transform(loss, 0).program.kind is Kind.GRAD
    assert pipeline.transform(loss, 0, mode="jvp").program.kind is Kind.JVP
    assert pipeline.transform(loss, 0, mode=Kind.VJP).program.kind is Kind.VJP
    assert Kind.JVP.forward_only and Kind.HVP.forward_only and not Kind.VJP.forward_only


class Model:
    """Methods whose derivatives are taken through the bound object."""

    def energy(self, w):
        return np.sum(np.sin(w) * w**2)

    def field(self, w):
        return np.tanh(w) * w[0]


def test_every_derivative_object_takes_a_bound_method():
    m = Model()
    w = np.array([0.3, -1.2, 0.7])
    v = np.array([1.0, -0.5, 2.0])
    grad_fd = lambda u: _fd(m.energy, u)  # noqa: E731
    jac_fd = _fd(m.field, w)
    np.testing.assert_allclose(symdiff.grad(m.energy)(w), grad_fd(w), rtol=1e-7, atol=1e-8)
    value, tangent = symdiff.jvp(m.field)(w, v)
    np.testing.assert_allclose(value, m.field(w), rtol=1e-14)
    np.testing.assert_allclose(tangent, jac_fd @ v, rtol=1e-7, atol=1e-8)
    value, pullback = symdiff.vjp(m.field)(w)
    np.testing.assert_allclose(pullback(v), v @ jac_fd, rtol=1e-7, atol=1e-8)
    for mode in ("fwd", "rev"):
        np.testing.assert_allclose(
            symdiff.jacobian(m.field, mode=mode)(w), jac_fd, rtol=1e-7, atol=1e-8
        )
    hess_fd = _fd(lambda u: symdiff.grad(m.energy)(u), w)
    np.testing.assert_allclose(symdiff.hessian(m.energy)(w), hess_fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(symdiff.hvp(m.energy)(w, v), hess_fd @ v, rtol=1e-6, atol=1e-7)


def test_the_generated_module_name_is_written_once():
    """The mark of generated code is one constant next to the compiler that sets it; the
    pipeline (not lower()) asks it whether a function is symdiff's own output."""
    import ast
    import pathlib

    from symdiff.backend import compiler

    package = pathlib.Path(symdiff.__file__).parent
    places = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value == compiler.GENERATED_MODULE:
                if id(node) not in docstrings:
                    places.append(path.relative_to(package).as_posix())
    assert places == ["backend/compiler.py"]
    t = pipeline.transform(loss, 0)
    assert t.grad.__globals__["__name__"] == compiler.GENERATED_MODULE
    assert loss.__globals__["__name__"] != compiler.GENERATED_MODULE
