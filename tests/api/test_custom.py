"""symdiff.defrule: derivatives users declare for their own primitives.

Each declared rule is checked like the built-in table, against central finite differences,
and every test removes what it declares (``with`` blocks), so nothing leaks between tests.
"""

import importlib
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff.ad import rules
from symdiff.api import custom
from symdiff.api.custom import CustomRuleError
from symdiff.errors import NonDifferentiableError, UnsupportedFunctionError
from symdiff.ir import primitives as P


def smooth_abs(x, eps=1e-3):
    """sqrt(x^2 + eps^2), computed element by element: symdiff cannot look inside."""
    return np.vectorize(lambda v: math.sqrt(v * v + eps * eps))(x)


def soft_max2(a, b, t=0.1):
    """A smooth maximum that broadcasts like a ufunc."""
    return t * np.logaddexp(a / t, b / t)


def digamma(x):
    """psi(x): the recurrence psi(x) = psi(x + 1) - 1/x, then the asymptotic series."""
    acc = 0.0
    while x < 6.0:
        acc -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    tail = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))
    return acc + math.log(x) - 0.5 / x - tail


def loss_abs(x):
    return np.sum(smooth_abs(x, eps=0.1) * np.arange(1.0, 1.0 + x.size))


def loss_abs_default(x):
    return np.sum(smooth_abs(x) ** 2)


def loss_max(a, b):
    return np.sum(soft_max2(a, b) * np.cos(a))


def loss_gamma(x, y):
    return math.lgamma(x) * y + math.gamma(y)


ABS_RULE = lambda F, g, y, x, eps: g * x / y  # noqa: E731


def test_declared_rule_replaces_looking_inside():
    x = np.linspace(-1.5, 1.2, 7)
    with pytest.raises(symdiff.SymdiffError):
        symdiff.grad(loss_abs)  # np.vectorize of a lambda: nothing symdiff can read
    with symdiff.defrule(smooth_abs, ABS_RULE) as declared:
        assert declared.name == "smooth_abs"
        source = symdiff.gradient_source(loss_abs)
        assert "smooth_abs(x, eps=0.1)" in source
        symdiff.check_grad(loss_abs, x)
        symdiff.check_grad(loss_abs_default, x)  # the default eps reaches the rule too


def test_static_parameters_and_broadcasting():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=4)
    rule = lambda F, g, y, a, b, t: (g * F.exp((a - y) / t), g * F.exp((b - y) / t))  # noqa: E731
    with symdiff.defrule(soft_max2, rule, elementwise=True):
        assert "soft_max2(a, b)" in symdiff.gradient_source(loss_max, wrt=("a", "b"))
        symdiff.check_grad(loss_max, a, b, wrt=("a", "b"))


def test_library_functions_and_rules_calling_declared_functions():
    """math.lgamma and math.gamma (C functions) use digamma, declared without a derivative."""
    with (
        symdiff.defrule(digamma, None),
        symdiff.defrule(math.lgamma, lambda F, g, y, x: g * F.digamma(x)),
        symdiff.defrule(math.gamma, lambda F, g, y, x: g * y * F.digamma(x)),
    ):
        source = symdiff.gradient_source(loss_gamma, wrt=("x", "y"))
        assert "math.lgamma(x)" in source and "digamma(x)" in source
        for x, y in [(0.7, 1.3), (2.5, 3.1), (4.0, 0.6)]:
            symdiff.check_grad(loss_gamma, x, y, wrt=("x", "y"))


def test_a_function_without_a_derivative_is_refused_where_one_is_needed():
    def uses_digamma(x):
        return digamma(x) * x

    with symdiff.defrule(digamma, None):
        with pytest.raises(NonDifferentiableError, match="digamma") as info:
            symdiff.grad(uses_digamma)
        assert info.value.loc is not None


def test_rules_are_removed_and_do_not_leak():
    before = (dict(P.ALL), dict(P.BY_OBJECT), dict(rules.RULES))
    with symdiff.defrule(smooth_abs, ABS_RULE):
        symdiff.grad(loss_abs)(np.ones(3))
        assert custom.declared()
    assert not custom.declared()
    assert (dict(P.ALL), dict(P.BY_OBJECT), dict(rules.RULES)) == before
    with pytest.raises(symdiff.SymdiffError):
        symdiff.grad(loss_abs)  # looked inside again: the rule is gone, so is the gradient


def test_declaring_again_replaces_and_undefrule_removes():
    first = symdiff.defrule(smooth_abs, lambda F, g, y, x, eps: 0.0 * g)
    second = symdiff.defrule(smooth_abs, ABS_RULE)
    try:
        assert custom.declared() == (second,)
        symdiff.check_grad(loss_abs, np.array([-0.5, 0.3]))
    finally:
        symdiff.undefrule(smooth_abs)
        first.remove()  # already gone: harmless
    assert not custom.declared()


def test_a_rule_with_the_wrong_number_of_adjoints_is_located():
    with symdiff.defrule(soft_max2, lambda F, g, y, a, b, t: g):
        with pytest.raises(CustomRuleError, match="returned 1 adjoint") as info:
            symdiff.grad(loss_max, wrt=("a", "b"))
    assert info.value.loc is not None and "soft_max2" in info.value.loc.text


def test_a_failing_rule_is_reported_with_its_place():
    with symdiff.defrule(smooth_abs, lambda F, g, y, x, eps: g * F.no_such_function(x)):
        with pytest.raises(CustomRuleError, match="no_such_function") as info:
            symdiff.grad(loss_abs)
    assert info.value.loc is not None and info.value.loc.func == "loss_abs"


@pytest.mark.parametrize("function", [np.exp, math.exp, abs])
def test_builtin_primitives_keep_their_rules(function):
    with pytest.raises(CustomRuleError, match="already has"):
        symdiff.defrule(function, lambda F, g, y, x: g)


def test_names_that_would_shadow_symdiff_or_python_are_refused():
    def unbroadcast(x):
        return x

    def sum(x):  # noqa: A001
        return x

    for fn in (unbroadcast, sum):
        with pytest.raises(CustomRuleError, match="taken"):
            symdiff.defrule(fn, lambda F, g, y, x: g)
    with symdiff.defrule(sum, lambda F, g, y, x: g, name="my_sum") as declared:
        assert declared.name == "my_sum"


def test_unsupported_function_points_to_defrule():
    def uses_i0(x):
        return np.sum(np.i0(x))

    with pytest.raises(UnsupportedFunctionError) as info:
        symdiff.grad(uses_i0)
    err = info.value
    assert "np.i0" in err.message and "defrule" in err.hint and err.loc.line > 0


def test_standalone_module_carries_declared_functions():
    """The module copies a declared plain Python function and imports a math one."""
    with (
        symdiff.defrule(smooth_abs, ABS_RULE),
        symdiff.defrule(digamma, None),
        symdiff.defrule(math.lgamma, lambda F, g, y, x: g * F.digamma(x)),
        symdiff.defrule(math.gamma, lambda F, g, y, x: g * y * F.digamma(x)),
    ):
        text = symdiff.emit(loss_abs, loss_gamma, wrt={"loss_gamma": ("x", "y")})
        ref_abs = symdiff.grad(loss_abs)
        ref_gamma = symdiff.grad(loss_gamma, wrt=("x", "y"))
    assert "def smooth_abs(x, eps=1e-3):" in text and "def digamma(x):" in text
    namespace: dict = {}
    exec(compile(text, "<module>", "exec"), namespace)
    x = np.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(namespace["loss_abs_grad"](x), ref_abs(x))
    np.testing.assert_allclose(namespace["loss_gamma_grad"](1.7, 0.4), ref_gamma(1.7, 0.4))


def test_the_documented_example_runs_and_is_right(tmp_path, monkeypatch):
    """The example of docs/numpy.md, imported as a module of its own."""
    doc = (Path(__file__).resolve().parent.parent.parent / "docs" / "numpy.md").read_text()
    example = doc.split("## Custom rules")[1].split("```python")[1].split("```")[0]
    (tmp_path / "doc_example.py").write_text(example)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        module = importlib.import_module("doc_example")
        x = np.array([0.3, -1.2, 2.0])
        symdiff.check_grad(module.loss.__wrapped__, x, grad_fn=module.loss)
        assert "softplus(x)" in module.loss.source and "digamma(" in module.loss.source
    finally:
        for fn in list(custom.declared()):
            fn.remove()
        sys.modules.pop("doc_example", None)
