"""The sine and cosine of one taped value computed together in the forward loop: the
backward loop reads the partner from the tape instead of calling <math.h> again, and the
gradient is unchanged (1e-12 against symdiff's NumPy gradient)."""

import math

import numpy as np

import symdiff

from .compiling import agree, compare, needs_cc


def cos_loop(x):
    y = x
    for _ in range(30):
        y = y * math.cos(y) + 0.1 * x
    return y


def sin_loop(x, z):
    y = x
    for _ in range(12):
        y = math.sin(y) * z
    return y


def exp_loop(x):
    y = x
    for _ in range(10):
        y = 0.5 * math.exp(-y * y)
    return y


def coupled_loop(x, z):
    y = x
    for _ in range(8):
        y = math.sin(y) * z + 0.1 * x
        z = math.cos(z) + 0.3 * y  # cos(z) follows the push that tapes z
    return y * z


def uncommented(src: str) -> str:
    """The code without its comments (they quote the Python)."""
    return "\n".join(line for line in src.splitlines() if not line.lstrip().startswith("//"))


def backward_loop(src: str) -> str:
    """The code after the "backward pass" title."""
    return uncommented(src[src.index("// backward pass") :])


def test_the_backward_loop_reads_the_sine_its_forward_loop_computed():
    src = symdiff.emit_c(cos_loop, 0.3).emitted.grad.text
    forward, backward = src[: src.index("// backward pass")], backward_loop(src)
    assert "cos(y)" in forward and "sin(y)" in forward  # side by side: one sincos
    assert "sin(" not in backward and "cos(" not in backward


def test_a_sine_in_the_forward_loop_takes_its_cosine_along():
    src = symdiff.emit_c(sin_loop, 0.3, 0.9, wrt=(0, 1)).emitted.grad.text
    assert "cos(" not in backward_loop(src)
    assert src.count("cos(y)") == 1


def test_a_function_without_a_partner_stays_where_it_was():
    # the derivative of exp is exp itself, already on the tape: nothing to pair
    src = uncommented(symdiff.emit_c(exp_loop, 0.3).emitted.grad.text)
    assert "sin(" not in src and "cos(" not in src
    assert src.count("exp(") == 1


def test_a_partner_after_the_push_is_taped_from_before_it():
    # the push is placed as early as what it tapes allows, before z's next value: the sine
    # of z is computed at the push, not after the cosine, which the push precedes
    src = symdiff.emit_c(coupled_loop, 0.3, 0.9, wrt=(0, 1)).emitted.grad.text
    assert "= sin(z_1);" in uncommented(src) and "sin(" not in backward_loop(src)


def test_the_function_itself_tapes_nothing():
    value = symdiff.emit_c(cos_loop, 0.3).emitted.value.text
    assert "sin(" not in value and "tape" not in value


@needs_cc
def test_paired_gradients_agree_with_numpy():
    cases = ((cos_loop, (0.3,), 0), (sin_loop, (0.3, 0.9), (0, 1)))
    for f, args, wrt in cases + ((coupled_loop, (0.3, 0.9), (0, 1)),):
        got, ref = compare(f, *args, wrt=wrt)
        assert agree(got, ref), (f.__name__, got, ref)
    # against central differences too: the pairing must not change what is computed
    h = 1e-6
    fd = (cos_loop(0.3 + h) - cos_loop(0.3 - h)) / (2 * h)
    assert np.isclose(symdiff.c_grad(cos_loop)(0.3), fd, rtol=1e-7)
