"""``print(...)`` and ``assert`` in a differentiated function: kept in the forward pass of the
generated code, where the user wrote them, and never differentiated."""

import math

import numpy as np
import pytest

import symdiff
from symdiff import UnsupportedSyntaxError, check_grad, grad
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Effect

from ..helpers import agrees

X = np.array([0.5, -1.2, 2.0])


def traced(x, n):
    assert n >= 0, "n must be non-negative"
    y = np.tanh(x)
    print("y:", y)
    total = 0.0
    for i in range(n):
        total = total + np.sum(y * i)
        print("step", i, total, sep=" | ")
    assert np.all(np.isfinite(y))
    return total + np.sum(x**2)


def test_the_rows_are_statements_without_derivatives():
    for prim in (P.b_print, P.b_assert):
        assert prim.effect is Effect.OUTPUT and not prim.differentiable
    assert P.resolve(print) is P.b_print


@pytest.mark.parametrize("n", [0, 1, 4])
def test_the_gradient_prints_what_the_function_prints(n, capsys):
    agrees(traced, X, n)
    capsys.readouterr()
    traced(X, n)
    expected = capsys.readouterr().out
    grad(traced)(X, n)
    assert capsys.readouterr().out == expected
    symdiff.value_and_grad(traced)(X, n)
    assert capsys.readouterr().out == expected


def test_the_generated_forward_pass_reads_as_the_function(capsys):
    source = symdiff.gradient_source(traced)
    forward, backward = source.split("# backward pass")
    for line in (
        'assert n >= 0, "n must be non-negative"',
        'print("y:", y)',
        'print("step", i, total_1, sep=" | ")',
        "assert np.all(np.isfinite(y))",
    ):
        assert line in forward, source
    assert "print" not in backward and "assert" not in backward


def test_a_printed_value_the_gradient_does_not_need_is_still_computed(capsys):
    def f(x):
        print("value", np.sum(np.exp(x)))
        return np.sum(x * 3.0)

    np.testing.assert_allclose(grad(f)(X), 3.0 * np.ones(3))
    assert capsys.readouterr().out == f"value {np.sum(np.exp(X))}\n"
    assert 'print("value", np.sum(np.exp(x)))' in symdiff.gradient_source(f)


def test_a_failing_assertion_is_the_users_assertion_error_at_the_users_line():
    with pytest.raises(AssertionError, match="n must be non-negative") as info:
        grad(traced)(X, -1)
    assert isinstance(info.value, symdiff.SymdiffError)
    assert info.value.loc.line == traced.__code__.co_firstlineno + 1


def test_second_derivatives_and_tangents_keep_them_and_agree_with_differences(capsys):
    fd = np.stack(
        [(grad(traced)(X + e, 3) - grad(traced)(X - e, 3)) / 2e-6 for e in np.eye(3) * 1e-6]
    )
    np.testing.assert_allclose(symdiff.hessian(traced)(X, 3), fd, rtol=1e-6, atol=1e-6)
    assert "print(" in symdiff.hvp(traced).source

    def cube(x: float):
        assert x > 0, "positive only"
        print("x =", x)
        return x**3 * math.cos(x)

    h = 1e-5
    second = (grad(cube)(1.3 + h) - grad(cube)(1.3 - h)) / (2 * h)
    assert grad(grad(cube))(1.3) == pytest.approx(second, rel=1e-6)
    _, tangent = symdiff.jvp(cube)(1.3, 1.0)
    assert tangent == pytest.approx(grad(cube)(1.3))
    assert grad(cube, simplify=True)(1.3) == pytest.approx(grad(cube)(1.3))
    with pytest.raises(AssertionError, match="positive only"):
        grad(grad(cube))(-1.0)


def test_the_standalone_module_keeps_them(capsys):
    module = symdiff.emit(traced)
    namespace: dict = {}
    exec(compile(module, "<emitted>", "exec"), namespace)  # noqa: S102
    capsys.readouterr()
    np.testing.assert_allclose(namespace["traced_grad"](X, 2), grad(traced)(X, 2))
    assert "step | 1 | " in capsys.readouterr().out
    with pytest.raises(AssertionError):
        namespace["traced_grad"](X, -1)


def _refused(f, words):
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(f)(X)
    assert words in str(info.value)
    return info.value


def test_print_as_a_value_and_other_calls_for_effect_are_refused():
    def printed_value(x):
        y = print(x)
        return np.sum(x) + (y is None)

    exc = _refused(printed_value, "`print()` is supported only as a statement of its own")
    assert exc.loc.text[exc.loc.col :].startswith("print(x)")

    def sorts(x):
        x.sort()
        return np.sum(x)

    _refused(sorts, "expression statements (calls made for their side effects)")

    def shadowed(x):
        print = np.exp  # noqa: F841  (print is not the builtin here)
        print(x)
        return np.sum(x)

    _refused(shadowed, "expression statements (calls made for their side effects)")


def test_an_assertion_inside_a_branch_and_a_comprehension_condition():
    def f(x, lo):
        if np.sum(x) > lo:
            assert lo < 10.0, "lo too large"
            y = x * 2.0
        else:
            y = x
        return sum([v**2 for v in y if v > lo])

    for lo in (-5.0, 0.0, 5.0):
        check_grad(f, X, lo)


def test_literal_lists_and_tuples_print_as_python_prints_them(capsys):
    def f(x: float):
        print([x, 2.0], (x, 1), "done", end="!\n")
        return x * 2.0

    f(1.5)
    expected = capsys.readouterr().out
    assert expected == "[1.5, 2.0] (1.5, 1) done!\n"
    grad(f)(1.5)
    assert capsys.readouterr().out == expected


def test_f_strings_print_as_in_the_function_and_stay_f_strings(capsys):
    def f(x, n):
        loss = 0.0
        for i in range(n):
            loss = loss + np.sum(np.sin(x) * i)
            print(f"step {i}: loss={loss:.4f} {x!r} {x[0]:>8.2e} {'done'}")
        assert loss < 1e6, f"diverged at {loss}"
        return loss + np.sum(x**2)

    for n in (0, 1, 3):
        agrees(f, X, n)
        capsys.readouterr()
        f(X, n)
        expected = capsys.readouterr().out
        grad(f)(X, n)
        assert capsys.readouterr().out == expected
    source = symdiff.gradient_source(f)
    assert """print(f"step {i}: loss={loss_1:.4f} {x!r} {x[0]:>8.2e} {'done'}")""" in source
    assert 'f"diverged at {loss}"' in source

    def computed_spec(x):
        width = 8
        print(f"{x[0]:{width}}")
        return np.sum(x)

    exc = _refused(computed_spec, "a format spec computed in the f-string is not supported")
    # at the field (Python 3.12) or at the f-string holding it (before)
    assert exc.loc.text[exc.loc.col :].lstrip('f"').startswith("{x[0]:{width}}")
