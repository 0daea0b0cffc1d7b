"""Every refusal of the frontend is located and true (issue 14).

Each hostile function marks the line symdiff must point at with ``# <-``; the test parses the
first line of the error (``file:line:col: message``) and checks the class, the file, the line,
that the caret column is at the given text, and the message. Refusals of things that need no
derivative (constants, integers, random draws, classes, builtins) never advise ``defrule``.
"""

import collections
import inspect
import math
import re

import numpy as np
import pytest

from symdiff import (
    SourceUnavailableError,
    SymdiffError,
    UndefinedNameError,
    UnsupportedFunctionError,
    UnsupportedSyntaxError,
    from_source,
    grad,
)

OBS_T = [0.0, 0.5, 1.0]
CONFIG = {"scale": 2.0}
FUNCS = [np.sin, np.cos]
RNG = np.random.default_rng(0)
abs = 3.0  # noqa: A001  (this module shadows a builtin)
FIRST = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<message>.*)$")


def helper_a(x):
    return helper_b(x) * 2.0


def helper_b(x):
    return helper_a(x) + 1.0  # <-


def recursive_helpers(x):
    return helper_a(x)


def recursive(x):
    if x > 1.0:
        return recursive(x - 1.0)  # <-
    return x


def reversed_value(x):
    return np.sum(np.array(reversed(x)) * x)  # <-


def reversed_enumerate(x):
    s = 0.0
    for i, v in reversed(enumerate(x)):  # <-
        s = s + v
    return s


def reversed_variable_step(x, k):
    s = 0.0
    for i in reversed(range(0, 5, k)):  # <-
        s = s + x
    return s


def random_moving(x, sigma):
    return np.sum(x * np.random.normal(0.0, sigma, 3))  # <-


def random_size_keyword(x):
    return np.sum(x * np.random.normal(size=x.shape))  # <-


def random_unsupported(x):
    y = np.random.shuffle(x)  # noqa: F841  # <-
    return np.sum(x)


def random_generator(x):
    return np.sum(x * RNG.normal(size=3))  # <-


def unique_of_input(x):
    return np.sum(np.unique(x))  # <-


def float32_of_input(x):
    return np.float32(x) * 2.0  # <-


def isinstance_bad_class(x):
    if isinstance(x, 3):  # <-
        return x
    return x * 2.0


def construct_class(x):
    d = collections.OrderedDict()  # noqa: F841  # <-
    return x


def builtin_unsupported(x):
    y = sorted(x)  # noqa: F841  # <-
    return np.sum(x)


def inner_lambda(x):
    g = lambda v: v * 2.0  # noqa: E731  # <-
    return g(x)


def expression_statement(x):
    x.sort()  # <-
    return np.sum(x)


def deeply_nested(x):
    return x  # replaced below by a 300-deep chain


def dunder_globals(x):
    return recursive.__globals__["OBS_T"] * x  # <-


def dunder_class(x):
    return x.__class__(x)  # <-


def dict_value(x):
    return x * CONFIG  # <-


def list_of_functions(x):
    return FUNCS[0](x)  # <-


def shadowed_builtin_param(x, sum):
    return sum(x)  # <-


def shadowed_builtin_module(x):
    return x * abs(x)  # <-


def return_in_loop(x):
    for i in range(3):
        return x  # <-
    return x


def bare_return(x):
    return  # <-


def missing_return_path(x):
    if x > 0.0:  # <-
        return x


def star_args(x, *xs):  # <-
    return x


def try_except(x):
    try:  # <-
        return x
    except ValueError:
        return x


def with_block(x):
    with open("f"):  # <-
        return x


def global_statement(x):
    global OBS_T  # <-
    return x


def while_else(x):
    while x > 1.0:  # <-
        x = x / 2.0
    else:
        x = x + 1.0
    return x


def dict_literal(x):
    d = {"a": x}  # noqa: F841  # <-
    return x


def f_string(x):
    s = f"{x:{3}}"  # noqa: F841  # <-
    return x


def walrus(x):
    if (y := x * 2.0) > 1.0:  # <-
        return y
    return x


def chained_comparison(x):
    if 0.0 < x < 1.0:  # <-
        return x
    return x * 2.0


def alias_update(x):
    y = np.copy(x)
    z = y
    y += 1.0  # <-
    return np.sum(z)


def write_seen_by_an_alias(x):
    y = x[1:]
    x[1] = 1.0  # <-
    return np.sum(y)


def undefined(x):
    return x * not_defined_anywhere  # noqa: F821  # <-


def bad_attribute(x):
    y = x * 2.0
    return np.sum(y.foo)  # <-


def append_to_array(x):
    x.append(1.0)  # <-
    return x


def array_method(x):
    y = x * 2.0
    return np.sum(y.tolist())  # <-


def zip_strict(x):
    s = 0.0
    for a, b in zip(x, x, strict=True):  # <-
        s = s + a * b
    return s


def range_keywords(x):
    s = 0.0
    for i in range(stop=3):  # <-
        s = s + x
    return s


def no_rule(x):
    q, r = np.linalg.qr(x)  # <-
    return np.sum(q)


def math_on_list(x):
    return x * math.fsum(OBS_T)  # <-


def _deep():
    text = "def deep(x):\n    return " + "(" * 120 + "x" + " + 1.0)" * 120 + " + x" * 120 + "\n"
    return from_source(text), 2, "(("


WHERE = {recursive_helpers: helper_b}  # refused inside the helper it inlines

# (function, error class, first-line message pattern, text at the caret, defrule advice ok)
CASES = [
    (recursive_helpers, UnsupportedSyntaxError, r"recursive call to `helper_a`", "helper_a(", 0),
    (recursive, UnsupportedSyntaxError, r"recursive call to `recursive`", "recursive(", 0),
    (reversed_value, UnsupportedSyntaxError, r"reversed\(\) is supported only as", "reversed(", 0),
    (reversed_enumerate, UnsupportedSyntaxError, r"reversed\(\) of enumerate", "reversed(", 0),
    (reversed_variable_step, UnsupportedSyntaxError, r"constant, non-zero integer step", "rev", 0),
    (random_moving, UnsupportedFunctionError, r"arguments of `np.random.normal` depend", "np.", 0),
    (
        random_size_keyword,
        UnsupportedSyntaxError,
        r"argument `size` .* must be a constant",
        "np",
        0,
    ),
    (random_unsupported, UnsupportedFunctionError, r"not a random draw symdiff supports", "np", 0),
    (random_generator, UnsupportedFunctionError, r"`RNG.normal` is not a random draw", "RNG", 0),
    (unique_of_input, UnsupportedFunctionError, r"`np.unique` is supported only on", "np.uni", 0),
    (float32_of_input, UnsupportedFunctionError, r"`np.float32` of a value computed", "np.f", 0),
    (isinstance_bad_class, UnsupportedSyntaxError, r"isinstance\(\) needs a class", "3)", 0),
    (construct_class, UnsupportedFunctionError, r"`collections.OrderedDict` is a class", "co", 0),
    (builtin_unsupported, UnsupportedFunctionError, r"the builtin `sorted\(\)`", "sorted(", 0),
    (inner_lambda, UnsupportedSyntaxError, r"lambdas inside the differentiated", "lambda", 0),
    (
        expression_statement,
        UnsupportedSyntaxError,
        r"expression statements \(calls made for their side effects\) are not supported$",
        "x.sort()",
        0,
    ),
    (dunder_globals, UnsupportedSyntaxError, r"reading `recursive.__globals__`", "recursive.", 0),
    (dunder_class, UnsupportedSyntaxError, r"reading `x.__class__` is not supported", "x.__", 0),
    (dict_value, UnsupportedSyntaxError, r"`CONFIG` cannot be used .* \(it is a dict\)", "CO", 0),
    (list_of_functions, UnsupportedSyntaxError, r"`FUNCS` cannot be used .* a list\)", "FUNCS", 0),
    (shadowed_builtin_param, UnsupportedSyntaxError, r"`sum` is not callable", "sum(", 0),
    (shadowed_builtin_module, UnsupportedSyntaxError, r"`abs` is not callable", "abs(", 0),
    (return_in_loop, UnsupportedSyntaxError, r"return inside a loop is not supported", "ret", 0),
    (bare_return, UnsupportedSyntaxError, r"a bare return gives no value", "return", 0),
    (missing_return_path, UnsupportedSyntaxError, r"not every path through this `if`", "if", 0),
    (star_args, UnsupportedSyntaxError, r"functions with \*args or \*\*kwargs", "xs", 0),
    (try_except, UnsupportedSyntaxError, r"try/except is not supported$", "try", 0),
    (with_block, UnsupportedSyntaxError, r"with blocks are not supported$", "with", 0),
    (global_statement, UnsupportedSyntaxError, r"global statements are not supported$", "gl", 0),
    (while_else, UnsupportedSyntaxError, r"while/else is not supported$", "while", 0),
    (dict_literal, UnsupportedSyntaxError, r"dicts are not supported$", "{", 0),
    (f_string, UnsupportedSyntaxError, r"a format spec computed in the f-string", 'f"', 0),
    (walrus, UnsupportedSyntaxError, r"assignment expressions \(:=\) are not supported$", "y", 0),
    (chained_comparison, UnsupportedSyntaxError, r"chained comparisons are not supported", "0", 0),
    (alias_update, UnsupportedSyntaxError, r"`y \+=` would change the array that `z`", "y +=", 0),
    (write_seen_by_an_alias, UnsupportedSyntaxError, r"array that `y` also names", "x[1]", 0),
    (undefined, UndefinedNameError, r"the name `not_defined_anywhere` is not defined", "not_", 0),
    (bad_attribute, UnsupportedSyntaxError, r"the attribute `.foo` is not supported", "y.foo", 0),
    (append_to_array, UnsupportedSyntaxError, r"append is supported on lists created", "x.", 0),
    (array_method, UnsupportedFunctionError, r"the array method `.tolist\(\)`", "y.tolist", 0),
    (
        zip_strict,
        UnsupportedSyntaxError,
        r"zip\(\) is supported over one or more sequences, without keywords",
        "zip(",
        0,
    ),
    (range_keywords, UnsupportedSyntaxError, r"range\(\) takes 1 to 3 positional", "range(", 0),
    (no_rule, UnsupportedFunctionError, r"no derivative rule for `np.linalg.qr`", "np.linalg", 1),
    (math_on_list, UnsupportedFunctionError, r"no derivative rule for `math.fsum`", "math.", 1),
]


def _expected_line(f):
    lines, start = inspect.getsourcelines(WHERE.get(f, f))
    marked = [start + i for i, text in enumerate(lines) if text.rstrip().endswith("# <-")]
    assert len(marked) == 1, f"{f.__name__} marks {len(marked)} lines"
    return marked[0]


def _first_line(exc):
    first = str(exc).splitlines()[0]
    m = FIRST.match(first)
    assert m is not None, f"refusal without a location: {first!r}"
    return m


def _args_for(f):
    n = len([p for p in inspect.signature(f).parameters.values() if p.kind != p.VAR_POSITIONAL])
    return [np.array([0.5, 1.5, 2.5])] + [1.0] * (n - 1)


def test_the_suite_is_large_enough():
    assert len(CASES) >= 35


@pytest.mark.parametrize(
    "f,kind,message,caret,defrule", CASES, ids=lambda c: getattr(c, "__name__", "")
)
def test_refusal_is_located_and_true(f, kind, message, caret, defrule):
    with pytest.raises(SymdiffError) as info:
        grad(f)(*_args_for(f))
    exc = info.value
    assert type(exc) is kind, f"{type(exc).__name__}: {exc}"
    m = _first_line(exc)
    assert m["file"] == "tests/frontend/test_lowering_refusals.py"
    assert int(m["line"]) == _expected_line(f), str(exc)
    col = int(m["col"]) - 1
    assert exc.loc.text[col:].startswith(caret), str(exc)
    assert re.search(message, m["message"]), m["message"]
    text = str(exc).splitlines()
    assert text[2].strip() == "^" and len(text[2]) - 1 == col + 4  # the caret line
    if not defrule:
        assert "defrule" not in str(exc), str(exc)


def test_a_deeply_nested_expression_is_refused_where_it_starts():
    f, line, caret = _deep()
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(f)(1.0)
    m = _first_line(info.value)
    assert m["file"].startswith("<symdiff-source-") and int(m["line"]) == line
    assert info.value.loc.text[int(m["col"]) - 1 :].startswith(caret)
    assert m["message"] == "this expression nests more than 200 operations deep"


def test_a_lambda_sharing_its_line_with_another_is_refused_where_it_is_written():
    pair = (lambda x: x * x, lambda x: x + x)  # noqa: E731
    line = inspect.currentframe().f_lineno - 1
    with pytest.raises(SourceUnavailableError) as info:
        grad(pair[1])
    m = _first_line(info.value)
    assert m["file"] == "tests/frontend/test_lowering_refusals.py" and int(m["line"]) == line
    assert info.value.loc.text[int(m["col"]) - 1 :].startswith("lambda x")
    assert m["message"] == (
        f"line {line} holds several lambdas, so symdiff cannot tell which one is being "
        "differentiated"
    )
    assert "hint: write the function with `def`" in str(info.value)
