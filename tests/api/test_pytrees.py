"""Structured arguments (pytrees) and has_aux: gradients with the arguments' structure,
checked against central finite differences over every leaf."""

from __future__ import annotations

import copy
import dataclasses
from collections import namedtuple
from typing import Any

import numpy as np
import pytest

import symdiff
from symdiff.errors import SymdiffError, UnsupportedSyntaxError, WrtError

RNG = np.random.default_rng(0)


def _leaves(tree: Any, at: tuple = ()) -> list[tuple]:
    """(path, leaf) for every leaf, the paths as (kind, key) steps."""
    if isinstance(tree, dict):
        return [x for k in tree for x in _leaves(tree[k], (*at, ("item", k)))]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return [x for f in tree._fields for x in _leaves(getattr(tree, f), (*at, ("attr", f)))]
    if isinstance(tree, (list, tuple)):
        return [x for i, v in enumerate(tree) for x in _leaves(v, (*at, ("item", i)))]
    if dataclasses.is_dataclass(tree):
        return [
            x
            for f in dataclasses.fields(tree)
            for x in _leaves(getattr(tree, f.name), (*at, ("attr", f.name)))
        ]
    return [(at, tree)]


def _get(tree: Any, at: tuple) -> Any:
    for kind, key in at:
        tree = getattr(tree, key) if kind == "attr" else tree[key]
    return tree


def _set(tree: Any, at: tuple, value: Any) -> Any:
    """A copy of ``tree`` with the leaf at ``at`` replaced."""
    if not at:
        return value
    (_, key), rest = at[0], at[1:]
    if isinstance(tree, dict):
        return {**tree, key: _set(tree[key], rest, value)}
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return tree._replace(**{key: _set(getattr(tree, key), rest, value)})
    if isinstance(tree, (list, tuple)):
        items = list(tree)
        items[key] = _set(items[key], rest, value)
        return type(tree)(items)
    out = copy.copy(tree)
    object.__setattr__(out, key, _set(getattr(tree, key), rest, value))
    return out


def fd_tree(f: Any, args: tuple, pos: int, eps: float = 1e-6) -> Any:
    """Central differences of ``f`` over every leaf of argument ``pos``, in its structure."""
    tree = args[pos]
    out = tree
    for at, leaf in _leaves(tree):
        arr = np.asarray(leaf, dtype=float)
        g = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            up, down = arr.copy(), arr.copy()
            up[i] += eps
            down[i] -= eps
            wrap = (lambda a: float(a)) if np.ndim(leaf) == 0 else (lambda a: a)
            hi = f(*args[:pos], _set(tree, at, wrap(up)), *args[pos + 1 :])
            lo = f(*args[:pos], _set(tree, at, wrap(down)), *args[pos + 1 :])
            g[i] = (hi - lo) / (2 * eps)
        out = _set(out, at, float(g) if np.ndim(leaf) == 0 else g)
    return out


def assert_same_tree(got: Any, want: Any) -> None:
    """Same structure (types, keys, lengths) and close leaves."""
    assert type(got) is type(want), (type(got), type(want))
    g, w = _leaves(got), _leaves(want)
    assert [p for p, _ in g] == [p for p, _ in w]
    for (p, a), (_, b) in zip(g, w):
        assert np.shape(a) == np.shape(b), p
        assert type(a) is type(b), (p, type(a), type(b))
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8, err_msg=str(p))


def mlp_loss(params, x, y):
    h = np.tanh(params["W1"] @ x + params["b1"])
    out = params["W2"] @ h + params["b2"]
    return np.sum((out - y) ** 2)


def mlp_params() -> dict:
    return {
        "W1": RNG.normal(size=(4, 3)),
        "b1": RNG.normal(size=4),
        "W2": RNG.normal(size=(2, 4)),
        "b2": RNG.normal(size=2),
    }


X, Y = RNG.normal(size=3), RNG.normal(size=2)


def test_dict_of_mlp_parameters():
    params = mlp_params()
    g = symdiff.grad(mlp_loss)(params, X, Y)
    assert list(g) == list(params)  # the argument's keys, in its order
    assert_same_tree(g, fd_tree(mlp_loss, (params, X, Y), 0))


def test_generated_code_names_the_leaves_by_their_keys():
    gf = symdiff.grad(mlp_loss)
    gf(mlp_params(), X, Y)
    assert gf.source.startswith("def mlp_loss_grad(W1, b1, W2, b2, x, y):")
    body = gf.source.split('"""')[2].splitlines()
    code = [ln for ln in body if not ln.strip().startswith("#")]  # comments quote the user
    assert not any("params" in ln for ln in code)  # the body reads the leaves


def test_value_and_grad_and_wrt_by_name():
    params = mlp_params()
    value, g = symdiff.value_and_grad(mlp_loss, wrt="params")(params, X, Y)
    assert value == pytest.approx(mlp_loss(params, X, Y))
    assert_same_tree(g, fd_tree(mlp_loss, (params, X, Y), 0))
    gp, gx = symdiff.grad(mlp_loss, wrt=("params", "x"))(params, X, Y)
    assert_same_tree(gp, g)
    assert_same_tree(gx, fd_tree(mlp_loss, (params, X, Y), 1))


def test_wrt_a_read_of_a_structure():
    params = mlp_params()
    full = fd_tree(mlp_loss, (params, X, Y), 0)
    gW1 = symdiff.grad(mlp_loss, wrt="params['W1']")(params, X, Y)
    np.testing.assert_allclose(gW1, full["W1"], rtol=1e-6)
    gW1, gb2 = symdiff.grad(mlp_loss, wrt=('params["W1"]', "params['b2']"))(params, X, Y)
    np.testing.assert_allclose(gb2, full["b2"], rtol=1e-6)


def test_a_leaf_never_read_gets_a_zero_gradient():
    params = {**mlp_params(), "scale": 2.0, "extra": np.ones(3)}
    g = symdiff.grad(mlp_loss)(params, X, Y)
    assert g["scale"] == 0.0 and type(g["scale"]) is float
    np.testing.assert_array_equal(g["extra"], np.zeros(3))


def test_nested_dicts_and_lists():
    def loss(p, x):
        h = np.sin(p["layers"][0]["W"] @ x)
        return np.sum(p["layers"][1]["W"] @ h) * p["scale"]

    p = {
        "layers": [{"W": RNG.normal(size=(3, 2))}, {"W": RNG.normal(size=(2, 3))}],
        "scale": 1.5,
    }
    x = RNG.normal(size=2)
    assert_same_tree(symdiff.grad(loss)(p, x), fd_tree(loss, (p, x), 0))


def test_tuple_unpacking_keeps_the_users_names():
    def loss(layers, x):
        (W1, b1), (W2, b2) = layers
        h = np.tanh(W1 @ x + b1)
        return np.sum((W2 @ h + b2) ** 2)

    layers = [(RNG.normal(size=(3, 2)), RNG.normal(size=3)), (RNG.normal(size=(1, 3)), 0.5)]
    gf = symdiff.grad(loss)
    x = RNG.normal(size=2)
    assert_same_tree(gf(layers, x), fd_tree(loss, (layers, x), 0))
    assert gf.source.startswith("def loss_grad(W1, b1, W2, b2, x):")
    with pytest.raises(ValueError, match="too many values to unpack"):
        gf([*layers, layers[0]], x)


def test_named_tuple_and_dataclass():
    Layer = namedtuple("Layer", "W b")

    @dataclasses.dataclass(frozen=True)
    class Params:
        W: np.ndarray
        b: float

    def by_attr(p, x):
        return np.sum(np.sin(p.W @ x) * p.b)

    def by_index(p, x):
        return np.sum(np.sin(p[0] @ x) * p[1])

    x = RNG.normal(size=2)
    for p in (Layer(RNG.normal(size=(2, 2)), 0.7), Params(RNG.normal(size=(2, 2)), 0.7)):
        g = symdiff.grad(by_attr)(p, x)
        assert_same_tree(g, fd_tree(by_attr, (p, x), 0))
    lay = Layer(RNG.normal(size=(2, 2)), 0.7)
    assert_same_tree(symdiff.grad(by_index)(lay, x), fd_tree(by_index, (lay, x), 0))


def test_a_tuple_of_one_array_twice_is_a_tuple_of_gradients():
    def product(t):
        return np.sum(t[0] * t[1])

    def whole(t):
        return np.sum(np.sin(t))

    W = RNG.normal(size=3)
    for f in (product, whole):
        g = symdiff.grad(f)((W, W))
        assert type(g) is tuple and len(g) == 2
        assert_same_tree(g, fd_tree(f, ((W, W),), 0))


def test_an_array_argument_is_still_subscripted_as_an_array():
    def f(x):
        return x[0] ** 2 * x[-1]

    x = np.array([1.5, 2.0, -0.5])
    np.testing.assert_allclose(symdiff.grad(f)(x), [2 * 1.5 * -0.5, 0.0, 1.5**2])
    g = symdiff.grad(f)([1.5, 2.0, -0.5])  # a list of floats: a list of their gradients
    assert type(g) is list and g == pytest.approx([2 * 1.5 * -0.5, 0.0, 1.5**2])


@pytest.mark.parametrize("n", [0, 1, 3])
def test_structure_with_a_loop(n):
    def loss(p, x):
        acc = 0.0
        for _ in range(n):
            x = np.tanh(p["W"] @ x + p["b"])
            acc = acc + np.sum(x)
        return acc + p["c"] * np.sum(x)

    p = {"W": RNG.normal(size=(2, 2)), "b": RNG.normal(size=2), "c": 0.3}
    x = RNG.normal(size=2)
    assert_same_tree(symdiff.grad(loss)(p, x), fd_tree(loss, (p, x), 0))


def test_structures_of_another_shape_get_their_own_program():
    def loss(p):
        return np.sum(p["a"] ** 2)

    gf = symdiff.grad(loss)
    assert gf({"a": 2.0}) == {"a": 4.0}
    g = gf({"a": np.ones(2), "b": 1.0})
    np.testing.assert_array_equal(g["a"], [2.0, 2.0])
    assert g["b"] == 0.0


def test_refusals():
    def dynamic(params, k):
        return np.sum(params[k])

    with pytest.raises(SymdiffError, match="key computed at run time") as err:
        symdiff.grad(dynamic)({"W": np.ones(2)}, "W")
    assert err.value.loc is not None and "params[k]" in err.value.loc.text  # at the use
    assert "constant keys" in err.value.hint
    with pytest.raises(WrtError, match="neither an argument"):
        symdiff.grad(mlp_loss, wrt="params[k]")
    with pytest.raises(SymdiffError, match="passes no structure"):
        symdiff.grad(mlp_loss, wrt="params['W1']")(np.ones(3), X, Y)
    with pytest.raises(SymdiffError, match="str, which has no gradient"):
        symdiff.grad(mlp_loss)({**mlp_params(), "name": "mlp"}, X, Y)
    with pytest.raises(KeyError):
        symdiff.grad(mlp_loss)({"W1": np.ones((4, 3))}, X, Y)


def aux_loss(params, x, y):
    pred = params["W1"] @ x + params["b1"]
    return np.sum((pred - y) ** 2), {"pred": pred, "tag": "mlp"}


def test_has_aux():
    params = {"W1": RNG.normal(size=(2, 3)), "b1": RNG.normal(size=2)}

    def loss_only(p, x, y):
        return aux_loss(p, x, y)[0]

    g, aux = symdiff.grad(aux_loss, has_aux=True)(params, X, Y)
    assert_same_tree(g, fd_tree(loss_only, (params, X, Y), 0))
    assert aux["tag"] == "mlp" and aux["pred"].shape == (2,)
    (value, aux), g2 = symdiff.value_and_grad(aux_loss, has_aux=True)(params, X, Y)
    assert value == pytest.approx(loss_only(params, X, Y)) and aux["tag"] == "mlp"
    assert_same_tree(g2, g)

    def plain(x):
        return np.sum(x**2), x.shape

    g, shape = symdiff.grad(plain, has_aux=True)(np.ones(2))
    np.testing.assert_array_equal(g, [2.0, 2.0])
    assert shape == (2,)


def test_has_aux_refuses_a_return_that_is_not_a_pair():
    def single(x):
        return np.sum(x)

    with pytest.raises(UnsupportedSyntaxError, match="not a pair") as err:
        symdiff.grad(single, has_aux=True)
    assert err.value.loc is not None and "return np.sum(x)" in err.value.loc.text


def test_gradient_source_and_emit_with_structures():
    params = mlp_params()
    src = symdiff.gradient_source(mlp_loss, params, X, Y)
    assert src.startswith("def mlp_loss_grad(W1, b1, W2, b2, x, y):")
    with pytest.raises(WrtError, match="structures"):
        symdiff.emit(mlp_loss, args=(params, X, Y))


def test_check_true_and_a_bound_method_with_has_aux():
    class Model:
        def __init__(self):
            self.W = RNG.normal(size=(2, 2))

        def loss(self, p, x):
            return np.sum(np.sin(self.W @ x) * p["s"]), "aux"

    m, x = Model(), RNG.normal(size=2)
    (dW, dp), aux = symdiff.grad(m.loss, has_aux=True, wrt=("self.W", "p"))({"s": 2.0}, x)
    assert aux == "aux" and dp["s"] == pytest.approx(np.sum(np.sin(m.W @ x)))
    g = symdiff.grad(mlp_loss, check=True)(mlp_params(), X, Y)  # differences over the leaves
    assert set(g) == {"W1", "b1", "W2", "b2"}
