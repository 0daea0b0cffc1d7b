"""Hostile inputs to the tools around the gradients: every error names its class, its place
(the file and line of the first message line, parsed) and says what is wrong in its first
line. The subjects live in tests/api/trust_subjects.py, their lines found by ``# @tag``."""

import re
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff.errors import (
    InputError,
    NonFiniteError,
    NonScalarOutputError,
    SymdiffError,
    UserCodeError,
    WrtError,
)
from symdiff.frontend.source import display_path

from . import trust_subjects as S

SUBJECTS = Path(S.__file__)
FIRST = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<message>.*)$")


def line_of(tag: str, path: Path = SUBJECTS) -> int:
    lines = path.read_text().splitlines()
    (n,) = [i for i, text in enumerate(lines, 1) if text.rstrip().endswith(f"# @{tag}")]
    return n


def parse(exc: BaseException) -> tuple[str, int, str]:
    first = str(exc).splitlines()[0]
    m = FIRST.match(first)
    assert m, f"no file:line:col at the start of {first!r}"
    return m["file"], int(m["line"]), m["message"]


HINT_ARRAY = "hint: pass a float or a NumPy array of floats"
JACOBIAN = "symdiff.jacobian (the whole Jacobian) or symdiff.vjp"

# (id, call, classes the error is an instance of, tag of its line, first line after the place;
#  a message ending in "..." is a prefix, and a hint, when given, must be in the text)
CASES = [
    (
        "matmul-shapes",
        lambda: symdiff.grad(S.matmul_shapes)(np.ones((3, 4)), np.ones(5)),
        (UserCodeError, ValueError),
        "matmul",
        "matmul_shapes raised ValueError: matmul: Input operand 1 has a mismatch in its core "
        "dimension 0...",
        "",
    ),
    (
        "axis-five",
        lambda: symdiff.grad(S.axis_five)(np.ones(3)),
        (UserCodeError, np.exceptions.AxisError),
        "axis",
        "axis_five raised AxisError: axis 5 is out of bounds for array of dimension 1",
        "",
    ),
    (
        "broadcast",
        lambda: symdiff.grad(S.broadcast)(np.ones(3), np.ones(4)),
        (UserCodeError, ValueError),
        "broadcast",
        "broadcast raised ValueError: operands could not be broadcast together with shapes "
        "(3,) (4,)",
        "",
    ),
    (
        "index-past-end",
        lambda: symdiff.grad(S.index_past_end)(np.ones(3)),
        (UserCodeError, IndexError),
        "index",
        "index_past_end raised IndexError: index 5 is out of bounds for axis 0 with size 3",
        "",
    ),
    (
        "string-times-array",
        lambda: symdiff.grad(S.times_label)(np.ones(3), "a"),
        (UserCodeError, TypeError),
        "dtype",
        "times_label raised UFuncTypeError: ufunc 'multiply' did not contain a loop...",
        "",
    ),
    (
        "reshape",
        lambda: symdiff.grad(S.reshape_wrong)(np.ones(3)),
        (UserCodeError, ValueError),
        "reshape",
        "reshape_wrong raised ValueError: cannot reshape array of size 3 into shape (4,4)",
        "",
    ),
    (
        "own-raise-in-a-custom-rule-function",
        lambda: S.grad_through_checked_sqrt(np.array([1.0, -1.0])),
        (UserCodeError, ValueError),
        "own-raise",
        "uses_checked_sqrt raised ValueError: checked_sqrt needs x >= 0",
        "",
    ),
    (
        "math-domain",
        lambda: symdiff.value_and_grad(S.math_domain)(-1.0),
        (UserCodeError, ValueError),
        "domain",
        "math_domain raised ValueError: math domain error",
        "",
    ),
    (
        "missing-argument",
        lambda: symdiff.grad(S.two)(1.0),
        (UserCodeError, TypeError),
        "def-two",
        "two raised TypeError: two() missing 1 required positional argument: 'y'",
        "",
    ),
    (
        "singular-matrix",
        lambda: symdiff.grad(S.singular)(np.zeros((2, 2))),
        (UserCodeError, np.linalg.LinAlgError),
        "inv",
        "singular raised LinAlgError: Singular matrix",
        "",
    ),
    (
        "vector-result",
        lambda: symdiff.grad(S.vector)(np.ones(3)),
        (NonScalarOutputError, ValueError),
        "return-vector",
        "vector must return a scalar to be differentiated, but returned an array of shape (3,)",
        JACOBIAN,
    ),
    (
        "vector-result-two-returns",
        lambda: symdiff.grad(S.vector_two_ways)(np.ones(3)),
        (NonScalarOutputError,),
        "def-two-ways",
        "vector_two_ways must return a scalar to be differentiated, but returned an array of "
        "shape (3,)",
        JACOBIAN,
    ),
    (
        "star-args",
        lambda: symdiff.grad(S.star_args),
        (WrtError,),
        "def-star",
        "star_args takes its arguments as *xs; gradients are taken with respect to named "
        "arguments",
        "hint: name them (def star_args(x, y): ...)",
    ),
    (
        "str-argument",
        lambda: symdiff.grad(S.total)("ab"),
        (InputError, TypeError),
        "def-total",
        "argument x of total is a str ('ab'), not a number, so it cannot be differentiated",
        HINT_ARRAY,
    ),
    (
        "dict-argument",
        lambda: symdiff.grad(S.total)({"a": 1.0, "b": 2.0}),
        (InputError,),
        "use-total",  # a structure: refused where the function uses it whole
        "argument x is a dict (keys 'a', 'b'), used here whole: symdiff differentiates a "
        "structure through the constant reads of it in the function itself",
        "read its leaves with constant keys",
    ),
    (
        "ragged-tuple-argument",
        lambda: symdiff.grad(S.total)((1.0, (2.0, 3.0))),
        (InputError,),
        "use-total",
        "argument x is a tuple of items of different shapes ((), (2,)), not a rectangular "
        "array, used here whole: symdiff differentiates a structure through the constant "
        "reads of it in the function itself",
        "read its leaves with constant keys",
    ),
    (
        "list-holding-a-str",
        lambda: symdiff.grad(S.total)([1.0, "two"]),
        (InputError,),
        "def-total",
        "argument x of total is a list holding a str, not an array of numbers, so it cannot be "
        "differentiated",
        HINT_ARRAY,
    ),
    (
        "none-argument",
        lambda: symdiff.grad(S.total)(None),
        (InputError,),
        "def-total",
        "argument x of total is None, so it cannot be differentiated",
        HINT_ARRAY,
    ),
    (
        "object-argument",
        lambda: symdiff.grad(S.total)(S.Thing()),
        (InputError,),
        "def-total",
        "argument x of total is a Thing, not a number or an array of numbers, so it cannot be "
        "differentiated",
        HINT_ARRAY,
    ),
    (
        "complex-argument",
        lambda: symdiff.grad(S.total)(1 + 2j),
        (InputError,),
        "def-total",
        "argument x is complex; symdiff differentiates real functions only",
        "hint: split it into real and imaginary parts",
    ),
    (
        "bool-argument",
        lambda: symdiff.grad(S.total)(True),
        (WrtError,),
        "def-total",
        "argument 'x' of total is a boolean here; integers and booleans have no derivative",
        "hint: pass x as a float (1.0 or 0.0, not True) if it is one",
    ),
    (
        "str-keyword-argument",
        lambda: symdiff.grad(S.total)(x="ab"),
        (InputError,),
        "def-total",
        "argument x of total is a str ('ab'), not a number, so it cannot be differentiated",
        HINT_ARRAY,
    ),
    (
        "second-wrt-argument",
        lambda: symdiff.grad(S.weighted, wrt=(0, 1))(np.ones(2), "w"),
        (InputError,),
        "def-weighted",
        "argument w of weighted is a str ('w'), not a number, so it cannot be differentiated",
        "so leave w out of wrt",
    ),
    (
        "array-of-strings",
        lambda: symdiff.grad(S.total)(np.array(["a", "b"])),
        (InputError,),
        "def-total",
        "argument x of total is an array of dtype <U1, not of numbers, so it cannot be "
        "differentiated",
        HINT_ARRAY,
    ),
    (
        "check-nan-input",
        lambda: symdiff.check_grad(S.total, np.array([1.0, np.nan])),
        (NonFiniteError, ValueError),
        "def-total",
        "total is NaN at this input (total(...) = nan), so its gradient cannot be checked "
        "there: argument x holds nan at index 1 (1 of 2)",
        "",
    ),
    (
        "check-inf-in-another-argument",
        lambda: symdiff.check_grad(S.weighted, np.ones(2), np.array([np.inf, 1.0])),
        (NonFiniteError,),
        "def-weighted",
        "weighted is infinite at this input (weighted(...) = inf), so its gradient cannot be "
        "checked there: argument w holds inf at index 0 (1 of 2)",
        "",
    ),
    (
        "check-outside-the-domain",
        lambda: symdiff.check_grad(S.logs, np.array([-1.0])),
        (NonFiniteError,),
        "def-logs",
        "logs is NaN at this input (logs(...) = nan), so its gradient cannot be checked there",
        "hint: check at a point where logs is finite",
    ),
    (
        "check-overflow",
        lambda: symdiff.check_grad(S.grows, np.array([1000.0])),
        (NonFiniteError,),
        "def-grows",
        "grows is infinite at this input (grows(...) = inf), so its gradient cannot be checked "
        "there",
        "",
    ),
    (
        "check-with-the-function-raising",
        lambda: symdiff.check_grad(S.axis_five, np.ones(3), grad_fn=lambda x: x),
        (UserCodeError, ValueError),
        "axis",
        "axis_five raised AxisError: axis 5 is out of bounds for array of dimension 1",
        "",
    ),
]


@pytest.mark.parametrize("call, classes, tag, message, hint", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_hostile_input(call, classes, tag, message, hint):
    with np.errstate(all="ignore"):
        with pytest.raises(SymdiffError) as info:
            call()
    exc = info.value
    for cls in classes:
        assert isinstance(exc, cls), f"{type(exc).__mro__} is not a {cls.__name__}"
    file, line, first = parse(exc)
    assert file == display_path(str(SUBJECTS))
    assert line == line_of(tag)
    if message.endswith("..."):
        assert first.startswith(message[:-3]), first
    else:
        assert first == message
    assert "bug in symdiff" not in str(exc)
    if hint:
        assert hint in str(exc)


def test_there_are_at_least_25_cases():
    assert len(CASES) >= 25
    assert len({c[0] for c in CASES}) == len(CASES)
