"""Attribute reads of parameters as inputs: methods of a model class (``self.w``) and
objects holding parameters (``params.w``), differentiated with respect to the attributes
(``wrt="self.w"``) and checked against central differences."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import symdiff
from symdiff.errors import UnsupportedSyntaxError, WrtError
from symdiff.frontend.attributes import flattened


class Dense:
    """A linear layer followed by tanh: weights read, never written."""

    def __init__(self, rng: np.random.Generator, n_in: int, n_out: int):
        self.W = rng.normal(size=(n_out, n_in))
        self.b = rng.normal(size=n_out)

    def loss(self, x, y):
        return np.sum((np.tanh(self.W @ x + self.b) - y) ** 2)


class MLP:
    def __init__(self, rng: np.random.Generator):
        self.hidden = Dense(rng, 3, 4)
        self.v = rng.normal(size=4)
        self.scale = 0.5

    def loss(self, x, y):
        h = np.tanh(self.hidden.W @ x + self.hidden.b)
        return self.scale * (self.v @ h - y) ** 2 + 0.01 * np.sum(self.hidden.W**2)


def regularised(params, x):
    return np.sum(np.sin(params.w * x)) + params.alpha * params.w.T @ params.w


class Params:
    def __init__(self, w, alpha):
        self.w, self.alpha = w, alpha


def numeric(f, obj, dotted, *args, h=1e-6):
    """d f / d obj.<dotted>, by central differences on copies of the object."""
    path = dotted.split(".")[1:]
    base = np.asarray(_get(obj, path), dtype=float)
    g = np.zeros_like(base)
    for i in np.ndindex(base.shape):
        vals = []
        for sign in (1.0, -1.0):
            o = copy.deepcopy(obj)
            value = np.array(base)
            value[i] += sign * h
            _set(o, path, value if base.ndim else float(value))
            vals.append(f(o, *args))
        g[i] = (vals[0] - vals[1]) / (2 * h)
    return g


def _get(obj, path):
    for p in path:
        obj = getattr(obj, p)
    return obj


def _set(obj, path, value):
    setattr(_get(obj, path[:-1]), path[-1], value)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_a_bound_method_reads_its_attributes_as_inputs(rng):
    layer = Dense(rng, 3, 2)
    x, y = rng.normal(size=3), rng.normal(size=2)
    dW, db, dx = symdiff.grad(layer.loss, wrt=("self.W", "self.b", "x"))(x, y)
    np.testing.assert_allclose(dW, numeric(Dense.loss, layer, "self.W", x, y), rtol=1e-6)
    np.testing.assert_allclose(db, numeric(Dense.loss, layer, "self.b", x, y), rtol=1e-6)
    symdiff.check_grad(layer.loss, x, y)  # wrt=0 is still x: self is not counted


def test_nested_attributes_of_a_model(rng):
    model = MLP(rng)
    x, y = rng.normal(size=3), 0.3
    wrt = ("self.hidden.W", "self.hidden.b", "self.v", "self.scale")
    value, grads = symdiff.value_and_grad(model.loss, wrt=wrt)(x, y)
    assert value == pytest.approx(model.loss(x, y))
    for g, dotted in zip(grads, wrt):
        np.testing.assert_allclose(g, numeric(MLP.loss, model, dotted, x, y), rtol=1e-5)
    assert isinstance(grads[3], float)  # shaped like the attribute, a number here


def test_an_object_parameter_read_through_attributes(rng):
    p, x = Params(rng.normal(size=3), 0.2), rng.normal(size=3)
    dw, dalpha = symdiff.grad(regularised, wrt=("params.w", "params.alpha"))(p, x)
    np.testing.assert_allclose(dw, numeric(regularised, p, "params.w", x), rtol=1e-6)
    assert dalpha == pytest.approx(p.w @ p.w)
    dx = symdiff.grad(regularised, wrt=1)(p, x)  # positions count the caller's arguments
    np.testing.assert_allclose(dx, p.w * np.cos(p.w * x))


def test_the_gradient_reads_the_attributes_at_each_call(rng):
    layer = Dense(rng, 2, 2)
    g = symdiff.grad(layer.loss, wrt="self.b")
    x, y = np.ones(2), np.zeros(2)
    first = g(x, y)
    layer.b = layer.b + 1.0
    np.testing.assert_allclose(g(x, y), numeric(Dense.loss, layer, "self.b", x, y), rtol=1e-6)
    assert not np.allclose(first, g(x, y))


def test_second_order_through_attributes(rng):
    layer = Dense(rng, 3, 2)
    x, y = rng.normal(size=3), rng.normal(size=2)
    H = symdiff.hessian(layer.loss, wrt="self.b")(x, y)
    h = 1e-5
    for i in range(2):
        up, down = copy.deepcopy(layer), copy.deepcopy(layer)
        up.b[i] += h
        down.b[i] -= h
        column = symdiff.grad(up.loss, wrt="self.b")(x, y)
        column = (column - symdiff.grad(down.loss, wrt="self.b")(x, y)) / (2 * h)
        np.testing.assert_allclose(H[:, i], column, rtol=1e-6, atol=1e-8)


def test_wrt_the_object_itself_names_its_attributes(rng):
    with pytest.raises(WrtError, match="attributes") as err:
        symdiff.grad(Dense(rng, 2, 2).loss, wrt="self")
    assert "'self.W', 'self.b'" in str(err.value)
    with pytest.raises(WrtError, match="does not read"):
        symdiff.grad(Dense(rng, 2, 2).loss, wrt="self.c")
    with pytest.raises(WrtError, match="attributes"):  # at the call: a dataclass would do
        symdiff.grad(regularised, wrt=0)(Params(np.ones(3), 0.2), np.ones(3))


def test_an_attribute_write_is_still_refused():
    class Stateful:
        def __init__(self):
            self.w = 1.0

        def step(self, x):
            self.w = self.w * x
            return self.w

    with pytest.raises(UnsupportedSyntaxError, match="assignment to attributes"):
        symdiff.grad(Stateful().step)


def test_what_is_read_as_an_input_and_what_is_not():
    def arrays_only(x, y):
        return np.sum(x.T @ y) + x.shape[0]

    def method_call(self, x):
        return self.predict(x) + self.w

    assert flattened(arrays_only) is None  # x.T and x.shape are array attributes
    assert flattened(method_call) is None  # calling self.predict needs the object
    flat = flattened(regularised)
    assert flat is not None
    assert flat.objects == {"params": ("params.w", "params.alpha")}
    assert flat.flat_names() == ["params_w", "params_alpha", "x"]


def test_generated_code_names_the_reads(rng):
    source = symdiff.grad(Dense(rng, 2, 2).loss, wrt="self.W").source
    assert "def loss_grad(self_W, self_b, x, y):" in source
    # comments quote the line as the user wrote it
    assert ": return np.sum((np.tanh(self.W @ x + self.b) - y) ** 2)" in source


def test_check_true_compares_over_the_attributes(rng):
    layer = Dense(rng, 3, 2)
    x, y = rng.normal(size=3), rng.normal(size=2)
    g = symdiff.grad(layer.loss, wrt=("self.W", "x"), check=True)
    dW, dx = g(x, y)  # raises GradientCheckError past the tolerance
    np.testing.assert_allclose(dW, numeric(Dense.loss, layer, "self.W", x, y), rtol=1e-6)


def test_a_closure_read_by_a_method():
    def make(k):
        class Scaled:
            w = np.array([1.0, -2.0])

            def loss(self, x):
                return k * np.sum(self.w * x)

        return Scaled()

    s = make(3.0)
    dw = symdiff.grad(s.loss, wrt="self.w", check=True)(np.array([0.5, 4.0]))
    np.testing.assert_allclose(dw, [1.5, 12.0])


def test_calls_specialise_to_the_attributes_read(rng):
    # the program is specialised to the arguments the generated code takes: the attributes
    # read in the object's place, whose abstract types are part of the call's key
    layer = Dense(rng, 3, 2)
    x, y = rng.normal(size=3), rng.normal(size=2)
    g = symdiff.grad(layer.loss, wrt="self.b")
    np.testing.assert_allclose(g(x, y), numeric(Dense.loss, layer, "self.b", x, y), rtol=1e-6)
    assert g.latest.signature is not None
    assert "Specialised for self_W: ndarray[float64, (n, n)], self_b:" in g.source
    assert "def loss_grad(self_W, self_b, x, y):" in g.generic_source
    layer.b = 0.5  # the same call with a number for b: another signature, another program
    assert isinstance(g(x, y), float)
    assert len(g._programs) == 2
    assert "self_b: float" in g.source
    H = symdiff.hessian(regularised, wrt="params.w")
    p = Params(rng.normal(size=3), 0.2)
    np.testing.assert_allclose(
        H(p, x), np.diag(-(x**2) * np.sin(p.w * x)) + 2 * 0.2 * np.eye(3), atol=1e-12
    )
    assert H.latest.signature is not None
