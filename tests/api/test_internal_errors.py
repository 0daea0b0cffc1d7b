"""A bug in symdiff is reported as InternalError ("this is a bug in symdiff") with the IR and
the generated source attached; it is never confused with "your code is not supported"."""

import dataclasses
import math

import numpy as np
import pytest

from symdiff import (
    InternalError,
    NonDifferentiableError,
    SymdiffError,
    from_source,
    grad,
    value_and_grad,
)
from symdiff import pipeline as api


def subject(x):
    return np.sum(np.tanh(x) * x)


def boom(*args, **kwargs):
    raise RuntimeError("boom")


def test_internal_error_is_not_a_symdiff_error():
    assert not issubclass(InternalError, SymdiffError)


def test_a_failing_reverse_pass_is_an_internal_error_with_the_ir(monkeypatch):
    monkeypatch.setattr(api, "derivative_program", boom)
    with pytest.raises(InternalError) as e:
        api.transform(subject)
    err = e.value
    assert str(err).startswith("this is a bug in symdiff: RuntimeError during the reverse pass")
    assert "subject (tests/api/test_internal_errors.py:" in str(err)
    assert err.ir.startswith("def subject(x):") and "np.tanh(x)" in err.ir
    assert "--- IR ---" in str(err)
    assert isinstance(err.__cause__, RuntimeError)


def test_a_failing_emitter_is_an_internal_error(monkeypatch):
    fresh = from_source("def fresh(x):\n    return np.sum(np.tanh(x) * x)\n")  # not cached
    monkeypatch.setattr(api, "emit", boom)
    with pytest.raises(InternalError, match="RuntimeError during emission of fresh") as e:
        grad(fresh)  # through the public entry point and the cache
    assert "np.tanh(x)" in e.value.ir


def test_a_failing_lowering_has_no_ir_yet(monkeypatch):
    monkeypatch.setattr(api, "lower", boom)
    with pytest.raises(InternalError, match="RuntimeError during lowering of subject") as e:
        api.transform(subject)
    assert e.value.ir == "" and e.value.source == ""


def test_a_failing_formatter_attaches_the_unformatted_source(monkeypatch):
    def refuse(text):
        raise ValueError("cannot format")

    monkeypatch.setattr(api, "format_source", refuse)
    t = api.transform(subject)  # formatting waits until the source is read
    with pytest.raises(InternalError, match="ValueError during formatting") as e:
        _ = t.grad_source
    assert "def subject_grad(x):" in e.value.source
    assert "--- generated source ---" in str(e.value)
    assert e.value.ir.startswith("def subject(x):")


def test_an_internal_error_raised_without_the_ir_gets_it(monkeypatch):
    def bare(*args, **kwargs):
        raise InternalError("an invariant broke")

    monkeypatch.setattr(api, "derivative_program", bare)
    with pytest.raises(InternalError, match="this is a bug in symdiff: an invariant broke") as e:
        api.transform(subject)
    assert e.value.ir.startswith("def subject(x):")


def test_a_symdiff_error_from_a_stage_passes_unchanged(monkeypatch):
    def refuse(*args, **kwargs):
        raise NonDifferentiableError("no rule here")

    monkeypatch.setattr(api, "derivative_program", refuse)
    with pytest.raises(NonDifferentiableError, match="no rule here"):
        api.transform(subject)


def test_generated_code_failing_where_the_function_runs_is_an_internal_error():
    g = grad(subject)
    t = g.transformed

    def broken(*args, **kwargs):
        raise TypeError("generated code is wrong")

    g(np.ones(2))  # the program specialised to this signature, which the call below runs
    (entry,) = g._programs.values()
    entry.t = g._t = dataclasses.replace(t, grad=broken, value_and_grad=broken)
    entry.fast = None
    with pytest.raises(InternalError, match="generated gradient raised TypeError") as e:
        g(np.ones(2))
    assert "but subject itself runs on the same inputs" in str(e.value)
    assert "def subject_value_and_grad(x):" in e.value.source


def domain(x):
    return math.log(x) + math.sqrt(x)


def test_an_error_the_function_itself_raises_is_the_users():
    with pytest.raises(ValueError, match="math domain error"):
        value_and_grad(domain)(-1.0)


def needs_two(x, y):
    return x * y


def test_calling_with_the_wrong_arguments_is_the_users_error():
    g = grad(needs_two)
    with pytest.raises(TypeError, match="missing 1 required positional argument"):
        g(1.0)
