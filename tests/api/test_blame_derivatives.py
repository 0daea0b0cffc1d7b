"""The blame rule for every derivative object, not only ``grad``: ``jvp``, ``vjp``,
``jacobian``, ``hessian`` and ``hvp`` report the user's own failing operation as a located
``UserCodeError`` (still of the NumPy exception's class), a wrong tangent, cotangent or
vector as the caller's ``InputError`` naming the argument, and only a fault of the generated
code itself as an ``InternalError``."""

import dataclasses
import linecache

import numpy as np
import pytest

import symdiff
from symdiff.errors import InputError, InternalError, SymdiffError, UserCodeError


def dense(W, x):
    y = W @ x  # @dense
    return np.tanh(y)


def energy(W, x):
    y = W @ x  # @energy
    return np.sum(y**2)  # @energy-return


def line_of(tag):
    text = open(__file__, encoding="utf-8").read()
    (n,) = [i for i, t in enumerate(text.splitlines(), 1) if t.rstrip().endswith(f"# @{tag}")]
    return n


def def_line(f):
    return f.__code__.co_firstlineno


W_BAD, X_BAD = np.ones((3, 4)), np.ones(5)  # W @ x cannot be formed: the user's error
W, X = np.arange(12.0).reshape(3, 4) / 10.0, np.linspace(-1.0, 1.0, 4)


def assert_users_matmul(info, func, tag):
    """The error is the user's, of NumPy's class, at their line, saying what raised."""
    exc = info.value
    assert isinstance(exc, UserCodeError) and isinstance(exc, ValueError)
    assert type(exc.original) is ValueError and exc.__cause__ is exc.original
    assert exc.loc is not None and exc.loc.file.endswith("test_blame_derivatives.py")
    assert exc.loc.line == line_of(tag) and exc.loc.func == func
    assert exc.loc.text.strip().startswith("y = W @ x")
    assert exc.loc.text[exc.loc.col :].startswith("W @ x")  # the caret under the matmul
    first = str(exc).splitlines()[0]
    assert first.startswith(f"{exc.loc.file}:{exc.loc.line}:9: {func} raised ValueError: matmul: ")
    assert str(exc).splitlines()[1].strip() == f"y = W @ x  # @{tag}"


# ----------------------------------------------------------------------------- the user's error


def test_jvp_blames_the_users_matmul():
    with pytest.raises(ValueError) as info:  # f's own arguments only: not f(W, x, tangent)
        symdiff.jvp(dense, wrt=1)(W_BAD, X_BAD, np.ones(5))
    assert_users_matmul(info, "dense", "dense")


def test_vjp_blames_the_users_matmul():
    with pytest.raises(ValueError) as info:
        symdiff.vjp(dense, wrt=1)(W_BAD, X_BAD)
    assert_users_matmul(info, "dense", "dense")


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_jacobian_blames_the_users_matmul(mode):
    with pytest.raises(ValueError) as info:
        symdiff.jacobian(dense, wrt=1, mode=mode)(W_BAD, X_BAD)
    assert_users_matmul(info, "dense", "dense")


def test_hessian_blames_the_users_matmul():
    with pytest.raises(ValueError) as info:
        symdiff.hessian(energy, wrt=1)(W_BAD, X_BAD)
    assert_users_matmul(info, "energy", "energy")


def test_hvp_blames_the_users_matmul():
    h = symdiff.hvp(energy, wrt=1)
    with pytest.raises(ValueError) as info:
        h(W_BAD, X_BAD, np.ones(5))
    assert_users_matmul(info, "energy", "energy")
    with pytest.raises(ValueError) as info:
        h.gradient_and_hvp(W_BAD, X_BAD, np.ones(5))
    assert_users_matmul(info, "energy", "energy")


def test_a_pullback_after_a_good_call_still_computes():
    """Blame changes nothing on the good path: values against central differences."""
    value, pullback = symdiff.vjp(dense, wrt=1)(W, X)
    ct = np.array([0.3, -1.0, 2.0])
    eps = 1e-6
    fd = np.array(
        [
            (ct @ dense(W, X + eps * e) - ct @ dense(W, X - eps * e)) / (2 * eps)
            for e in np.eye(X.size)
        ]
    )
    np.testing.assert_allclose(pullback(ct), fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(value, dense(W, X))


class Layer:
    def apply(self, W, x):
        y = W @ x  # @method
        return np.tanh(y)


def test_a_bound_methods_error_is_located_in_the_method():
    with pytest.raises(ValueError) as info:  # the object is passed first, as f takes it
        symdiff.jvp(Layer().apply, wrt=1)(W_BAD, X_BAD, np.ones(5))
    exc = info.value
    assert isinstance(exc, UserCodeError) and exc.loc.line == line_of("method")
    assert exc.loc.text[exc.loc.col :].startswith("W @ x")  # the caret under the matmul
    assert (
        str(exc)
        .splitlines()[0]
        .startswith(f"{exc.loc.file}:{exc.loc.line}:13: apply raised ValueError: matmul: ")
    )


def test_a_good_jvp_still_matches_central_differences():
    t = np.array([0.5, -1.0, 0.25, 2.0])
    value, d = symdiff.jvp(dense, wrt=1)(W, X, t)
    eps = 1e-6
    fd = (dense(W, X + eps * t) - dense(W, X - eps * t)) / (2 * eps)
    np.testing.assert_allclose(d, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(value, dense(W, X))


# ----------------------------------------------------------------------------- the caller's error


def test_a_tangent_of_the_wrong_shape_is_the_callers_error_named_by_argument():
    with pytest.raises(InputError) as info:  # dense itself runs on (W, X)
        symdiff.jvp(dense, wrt=1)(W, X, np.ones(5))
    exc = info.value
    assert not isinstance(exc, UserCodeError)
    assert exc.message == "the tangent for x has shape (5,), but x has shape (4,)"
    assert exc.loc is not None and exc.loc.line == def_line(dense)
    assert exc.loc.text[exc.loc.col :].startswith("x")  # the caret is under the parameter x
    assert str(exc).splitlines()[0] == f"{exc.loc.file}:{exc.loc.line}:{exc.loc.col + 1}: " + (
        exc.message
    )


def test_a_tangent_for_the_second_of_two_arguments_names_that_argument():
    with pytest.raises(InputError) as info:
        symdiff.jvp(dense, wrt=(0, 1))(W, X, np.ones((3, 4)), np.ones(3))
    assert info.value.message == "the tangent for x has shape (3,), but x has shape (4,)"
    with pytest.raises(InputError) as info:
        symdiff.jvp(dense, wrt=(0, 1))(W, X, np.ones((4, 3)), np.ones(4))
    assert info.value.message == "the tangent for W has shape (4, 3), but W has shape (3, 4)"
    assert info.value.loc.text[info.value.loc.col :].startswith("W")


def test_a_vector_of_the_wrong_shape_for_hvp_is_the_callers_error():
    with pytest.raises(InputError) as info:
        symdiff.hvp(energy, wrt=1)(W, X, np.ones(3))
    assert info.value.message == "the vector for x has shape (3,), but x has shape (4,)"
    assert info.value.loc.line == def_line(energy)


def test_a_cotangent_of_the_wrong_shape_is_located_at_the_return():
    _, pullback = symdiff.vjp(dense, wrt=1)(W, X)
    with pytest.raises(InputError) as info:
        pullback(np.ones(4))
    exc = info.value
    assert exc.message == "the cotangent has shape (4,), but dense returned shape (3,)"
    assert exc.loc is not None and exc.loc.line == def_line(dense) + 2  # `return np.tanh(y)`
    assert exc.loc.text.strip() == "return np.tanh(y)"


def test_a_non_numeric_argument_is_refused_in_symdiffs_words_at_its_parameter():
    with pytest.raises(InputError) as info:
        symdiff.jvp(dense, wrt=1)(W, "abc", np.ones(4))
    exc = info.value
    assert exc.message.startswith("argument x of dense is a str ('abc')")
    assert exc.loc.line == def_line(dense) and exc.loc.text[exc.loc.col :].startswith("x")


# ----------------------------------------------------------------------------- symdiff's fault


def broken_program(tag):
    """A compiled function that raises where the user's code would not."""
    name = f"<symdiff broken_{tag} 0000000000>"
    text = "def broken(*args, **kwargs):\n    # line 99: y = W @ x\n    raise TypeError('boom')\n"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    space: dict = {}
    exec(compile(text, name, "exec"), space)
    return space["broken"]


def break_(d, tag):
    t = d.transformed
    bad = broken_program(tag)
    d._t = dataclasses.replace(t, grad=bad, value_and_grad=bad)
    d._specialised = lambda full, simplify: d._t  # every call's program is the broken one


def assert_internal(info):
    exc = info.value
    assert not isinstance(exc, SymdiffError)
    assert exc.message.startswith("the generated gradient raised TypeError: boom at its line 3")
    assert "but " in exc.message and exc.message.endswith("itself runs on the same inputs")
    assert "this is a bug in symdiff" in str(exc).splitlines()[0]


def test_a_broken_tangent_program_is_internal():
    j = symdiff.jvp(dense, wrt=1)
    break_(j, "jvp")
    with pytest.raises(InternalError) as info:
        j(W, X, np.ones(4))
    assert_internal(info)


def test_a_broken_pullback_is_internal():
    v = symdiff.vjp(dense, wrt=1)
    break_(v, "vjp")
    _, pullback = v(W, X)
    with pytest.raises(InternalError) as info:
        pullback(np.ones(3))
    assert_internal(info)


def test_a_broken_jacobian_is_internal_once_not_wrapped_twice():
    jac = symdiff.jacobian(dense, wrt=1, mode="rev")
    break_(jac._vjp, "jacobian")
    with pytest.raises(InternalError) as info:
        jac(W, X)
    assert_internal(info)
    assert not isinstance(info.value.__cause__, InternalError)


def test_a_broken_hessian_is_internal():
    h = symdiff.hessian(energy, wrt=1)
    break_(h._tangents, "hessian")
    with pytest.raises(InternalError) as info:
        h(W, X)
    assert_internal(info)
