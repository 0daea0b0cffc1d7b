"""The runtime package's layout: what its modules may import, and what it exports.

Emitted modules carry copies of runtime helpers and must run with NumPy alone, so a runtime
module that imported anything else (or a sibling's private name) would break them; and
generated code finds helpers by name through ``symdiff.runtime``.
"""

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff import runtime
from symdiff.api import copied
from symdiff.ir import primitives as P
from symdiff.runtime.layout import index_grad

PACKAGE = Path(runtime.__file__).parent
FILES = sorted(PACKAGE.glob("*.py"))
TOPIC_NAMES = {m.__name__.rsplit(".", 1)[1] for m in runtime.TOPICS}


def _imports(path: Path) -> list[tuple[int, str, list[str], int]]:
    """(level, module, names, line) of every import in ``path``, inside functions too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(0, a.name, [a.asname or a.name], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names]
            found.append((node.level, node.module or "", names, node.lineno))
    return found


def test_every_runtime_module_is_a_topic_copied_reads():
    assert {p.stem for p in FILES} - {"__init__"} == TOPIC_NAMES


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_runtime_module_imports_only_numpy_and_its_siblings(path):
    for level, module, names, line in _imports(path):
        where = f"{path.name}:{line}"
        if level == 0:
            assert module == "numpy" or module.startswith("numpy."), where
            continue
        assert level == 1, f"{where} reaches outside the runtime package"
        if module:  # from .sibling import name: public names, under their own names
            assert module in TOPIC_NAMES, where
            assert all(not n.startswith("_") and " as " not in n for n in names), where
        else:  # from . import sibling
            assert set(names) <= TOPIC_NAMES, where


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_runtime_module_stays_small(path):
    assert path.read_text().count("\n") <= 300


def test_every_helper_primitive_is_a_function_the_runtime_exports():
    assert P.HELPERS
    for prim in P.HELPERS:
        name = prim.impl.__name__
        assert name in runtime.__all__, name
        assert getattr(runtime, name) is prim.impl, name
        assert inspect.isfunction(prim.impl) and prim.impl.__module__ in {
            m.__name__ for m in runtime.TOPICS
        }, name


def test_the_exports_are_exactly_the_public_functions_of_the_topics():
    public = {
        name
        for module in runtime.TOPICS
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__ and name[0] != "_"
    }
    assert set(runtime.__all__) == public
    assert len(runtime.__all__) == len(set(runtime.__all__))


def test_helper_names_are_unique_across_the_topics():
    # an emitted module puts the copies side by side in one namespace
    defined = [
        name
        for module in runtime.TOPICS
        for name, obj in vars(module).items()
        if inspect.isfunction(obj) and obj.__module__ == module.__name__
    ]
    assert len(defined) == len(set(defined))
    assert set(defined) == set(copied.HELPERS)


def test_the_copy_layout_names_only_helpers_that_exist():
    # a stale name would hide that a renamed helper now falls to the end of emitted modules
    assert set(copied.LAYOUT) <= set(copied.HELPERS)
    assert list(copied.HELPERS)[: len(copied.LAYOUT)] == list(copied.LAYOUT)


def test_a_copy_follows_calls_into_other_topic_modules():
    funcs, _ = copied.needed(["dot_grad"])
    homes = {copied.HELPERS[f].__module__.rsplit(".", 1)[1] for f in funcs}
    assert {"dot_grad", "tensordot_grad", "einsum_grad", "unbroadcast"} <= set(funcs)
    assert homes == {"products", "broadcasting"}


def _standalone(name):
    funcs, consts = copied.needed([name])
    assert consts == []
    text = "import numpy as np\n" + "".join(copied.helper_source(f, {}) for f in funcs)
    ns: dict = {}
    exec(compile(text, f"<copy of {name}>", "exec"), ns)
    return ns[name]


def _central(f, x, eps=1e-6):
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        d = np.zeros(x.shape)
        d[i] = eps
        out[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return out


@pytest.mark.parametrize(
    "name, fn, shapes",
    [
        ("dot_grad", np.dot, [(3, 4), (4,)]),
        ("inner_grad", np.inner, [(2, 3), (4, 3)]),
        ("solve_grad_a", None, [(3, 3), (3, 2)]),
        ("linspace_grad", None, [(2,), (2,)]),
    ],
)
def test_a_copied_helper_that_calls_another_topic_gives_the_gradient(name, fn, shapes):
    """The copy of a helper whose callees live in other topic modules runs on NumPy alone and
    agrees with central differences in float64 (the helper and its copy, both)."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s) for s in shapes)
    copy = _standalone(name)
    if name == "solve_grad_a":
        a = a + 3 * np.eye(3)
        x = np.linalg.solve(a, b)
        g = rng.standard_normal(x.shape)
        z = runtime.solve_adjoint(g, a, b)
        want = _central(lambda m: np.sum(g * np.linalg.solve(m, b)), a)
        got = [copy(z, x, a, b), runtime.solve_grad_a(z, x, a, b)]
    elif name == "linspace_grad":
        g = rng.standard_normal((5, 2))
        want = _central(lambda s: np.sum(g * np.linspace(s, b, 5)), a)
        got = [copy(g, a, b, 5), runtime.linspace_grad(g, a, b, 5)]
    else:
        g = rng.standard_normal(np.shape(fn(a, b)))
        want = _central(lambda m: np.sum(g * fn(m, b)), a)
        got = [copy(g, a, b, part=0), getattr(runtime, name)(g, a, b, part=0)]
    for value in got:
        np.testing.assert_allclose(value, want, rtol=1e-6, atol=1e-8)


def test_index_grad_of_a_tuple_of_numbers():
    # t = (a, b, c); t[i]: np.result_type reads a bare tuple as a dtype description
    np.testing.assert_array_equal(index_grad(1.0, (0.5, 1.0, 2.0), 1), [0.0, 1.0, 0.0])


def test_an_item_of_a_tuple_picked_at_run_time():
    def pick(a, b, c, i):
        x = a, b, c
        return x[i] * a

    assert symdiff.grad(pick, wrt=(0, 1, 2))(0.5, 1.5, 2.0, 1) == (1.5, 0.5, 0.0)
    symdiff.check_grad(pick, 0.5, 1.5, 2.0, 2, wrt=(0, 1, 2))


@pytest.mark.parametrize(
    "index",
    [np.s_[1], np.s_[:, 2], np.s_[1:3, None], np.s_[..., 0], np.s_[np.int64(1), ::2]],
)
def test_index_grad_of_a_basic_index_scatters_once(index):
    x = np.arange(12.0).reshape(3, 4)
    g = np.ones_like(x[index]) * 2.0
    expected = np.zeros_like(x)
    np.add.at(expected, index, g)
    np.testing.assert_array_equal(runtime.index_grad(g, x, index), expected)


def test_index_grad_of_repeated_indices_adds_them():
    x = np.zeros(3)
    out = runtime.index_grad(np.ones(4), x, np.array([0, 2, 2, 1]))
    np.testing.assert_array_equal(out, [1.0, 1.0, 2.0])
    mask = np.array([True, False, True])
    np.testing.assert_array_equal(runtime.index_grad(np.ones(2), x, mask), [1.0, 0.0, 1.0])
