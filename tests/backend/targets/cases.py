"""The functions every backend is checked on, their arguments, and the comparison.

Each backend's gradient must equal the NumPy backend's (the reference, itself checked against
finite differences elsewhere) to 1e-10 in float64, for the specialised program (types known)
and the shape-generic one, and return arrays of the backend's own type.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

from symdiff import pipeline


def logistic_regression(w, X, y):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def mlp(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def softmax_cross_entropy(Z, Y):
    m = np.max(Z, axis=1, keepdims=True)
    e = np.exp(Z - m)
    s = np.sum(e, axis=1, keepdims=True)
    return -np.sum(Y * (Z - m - np.log(s))) / Z.shape[0]


def rnn(Wh, Wx, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h**2)


def branchy(w, x):
    s = np.sum(w * x)
    if s > 0.0:
        return s**2
    else:
        return -s


def arguments(seed: int = 0) -> dict[str, tuple[Callable[..., Any], Any, tuple[np.ndarray, ...]]]:
    """name -> (function, wrt, NumPy arguments)."""
    rng = np.random.default_rng(seed)
    n = 7
    return {
        "logistic_regression": (
            logistic_regression,
            0,
            (rng.normal(size=4), rng.normal(size=(n, 4)), (rng.random(n) > 0.5) * 1.0),
        ),
        "mlp": (
            mlp,
            (0, 1, 2, 3),
            (
                rng.normal(size=(4, 5)),
                rng.normal(size=5),
                rng.normal(size=(5, 2)),
                rng.normal(size=2),
                rng.normal(size=(n, 4)),
                rng.normal(size=(n, 2)),
            ),
        ),
        "softmax_cross_entropy": (
            softmax_cross_entropy,
            0,
            (rng.normal(size=(n, 3)), np.eye(3)[rng.integers(0, 3, n)]),
        ),
        "rnn": (
            rnn,
            (0, 1),
            (
                rng.normal(size=(3, 3)) * 0.5,
                rng.normal(size=(3, 2)),
                rng.normal(size=(5, 2)),
                rng.normal(size=3),
            ),
        ),
        "branchy": (branchy, 0, (rng.normal(size=4), rng.normal(size=4))),
        "branchy_negative": (branchy, 0, (rng.normal(size=4), -rng.normal(size=4))),
    }


NAMES = list(arguments())


def code_of(source: str) -> str:
    """The statements of a generated function, without its docstring and comments."""
    body = ast.parse(source).body[0].body  # type: ignore[attr-defined]
    return "\n".join(ast.unparse(s) for s in body[1:])


def flat(g: Any) -> tuple[Any, ...]:
    return g if isinstance(g, tuple) else (g,)


def compare(
    name: str,
    backend: str,
    convert: Callable[[np.ndarray], Any],
    array_type: type,
    to_numpy: Callable[[Any], np.ndarray] = np.asarray,
    typed: bool = True,
    call: Callable[[Callable[..., Any]], Callable[..., Any]] = lambda g: g,
) -> pipeline.Transformed:
    """The gradient of case ``name`` on ``backend`` equals NumPy's and has the library's
    type; ``call`` wraps the generated function (``jax.jit``)."""
    f, wrt, args = arguments()[name]
    reference = flat(pipeline.transform(f, wrt, args=args).grad(*args))
    t = pipeline.transform(f, wrt, args=args if typed else None, backend=backend)
    got = flat(call(t.grad)(*(convert(a) for a in args)))
    assert len(got) == len(reference)
    for g, r in zip(got, reference):
        assert isinstance(g, array_type), f"{type(g).__name__} is not {array_type.__name__}"
        np.testing.assert_allclose(to_numpy(g), r, rtol=1e-10, atol=1e-12)
    return t
