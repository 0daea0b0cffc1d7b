"""C expressions with their precedence, and the elementwise operations written as C.

Every expression the C emitter builds is an ``Ex``: its text, its C precedence and its C
type (``double``, or ``long`` for Python's integers and booleans). Parentheses are added
only where C's precedence needs them, as a person writes ``a * b + c`` and not
``((a * b) + c)``; an operand of equal precedence on the right keeps its parentheses, so the
order in which floating point operations are done is the order the Python code gave.

``ELEMENTWISE`` holds one entry per elementwise primitive the C backend writes: a function
from the operands' expressions to the result's. It is the only place that knows how NumPy
and ``math`` spell an operation in C99 (``np.arctan`` is ``atan``, ``x ** 2`` is ``x * x``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

DOUBLE = "double"
LONG = "long"

# C precedence levels (higher binds tighter)
TERNARY, OR, AND, EQUALITY, RELATION, ADD, MUL, UNARY, PRIMARY = 3, 4, 5, 9, 10, 12, 13, 14, 16


@dataclass(frozen=True)
class Ex:
    """A C expression: its text, how tightly it binds, and its C type."""

    text: str
    prec: int = PRIMARY
    ctype: str = DOUBLE

    def at(self, prec: int) -> str:
        """The text as an operand of an operator binding with ``prec``."""
        return self.text if self.prec >= prec else f"({self.text})"


def literal(value: object) -> Ex:
    """A Python constant as a C literal: floats always with a point or exponent."""
    if isinstance(value, bool):
        return Ex("1" if value else "0", ctype=LONG)
    if isinstance(value, int):
        return Ex(str(value), ctype=LONG) if value >= 0 else Ex(str(value), UNARY, LONG)
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return Ex("NAN")
    if math.isinf(v):
        return Ex("INFINITY") if v > 0 else Ex("-INFINITY", UNARY)
    text = repr(v)
    if "e" not in text and "." not in text:
        text += ".0"
    return Ex(text, UNARY) if text.startswith("-") else Ex(text)


def binary(a: Ex, op: str, b: Ex, prec: int, ctype: str | None = None) -> Ex:
    """``a op b``; the right operand keeps parentheses at equal precedence."""
    out = ctype or (LONG if a.ctype == LONG and b.ctype == LONG else DOUBLE)
    return Ex(f"{a.at(prec)} {op} {b.at(prec + 1)}", prec, out)


def call(name: str, *args: Ex, ctype: str = DOUBLE) -> Ex:
    return Ex(f"{name}({', '.join(a.text for a in args)})", PRIMARY, ctype)


def unary(op: str, a: Ex, ctype: str | None = None) -> Ex:
    return Ex(f"{op}{a.at(UNARY)}", UNARY, ctype or a.ctype)


def as_double(a: Ex) -> Ex:
    return a if a.ctype == DOUBLE else Ex(f"(double){a.at(UNARY)}", UNARY)


def ternary(c: Ex, a: Ex, b: Ex) -> Ex:
    ctype = LONG if a.ctype == LONG and b.ctype == LONG else DOUBLE
    return Ex(f"{c.at(OR)} ? {a.at(OR)} : {b.at(TERNARY)}", TERNARY, ctype)


def _div(a: Ex, b: Ex) -> Ex:
    # Python's / is true division, also between integers
    if a.ctype == LONG and b.ctype == LONG:
        a = as_double(a)
    return binary(a, "/", b, MUL, DOUBLE)


def _pow(a: Ex, b: Ex) -> Ex:
    if b.text in ("2", "2.0") and a.prec == PRIMARY and "(" not in a.text:
        return binary(a, "*", a, MUL, DOUBLE if a.ctype == DOUBLE or b.ctype == DOUBLE else LONG)
    if b.text in ("2", "2.0") and a.ctype == DOUBLE:
        return call("pow", a, Ex("2.0"))  # the operand once; compilers write it as a * a
    if b.text == "0.5":
        return call("sqrt", a)
    return call("pow", as_double(a), as_double(b))


def _mul(a: Ex, b: Ex) -> Ex:
    # 1.0 * x is x exactly (also for -0.0, inf and nan): the rules' seeds write it
    if a.text == "1.0":
        return as_double(b)
    if b.text == "1.0":
        return as_double(a)
    return binary(a, "*", b, MUL)


def _compare(op: str, prec: int) -> Callable[..., Ex]:
    return lambda a, b: binary(a, op, b, prec, LONG)


def _fn(name: str) -> Callable[..., Ex]:
    return lambda *args: call(name, *map(as_double, args))


def _maximum(a: Ex, b: Ex) -> Ex:
    return ternary(binary(a, ">=", b, RELATION, LONG), a, b)


def _minimum(a: Ex, b: Ex) -> Ex:
    return ternary(binary(a, "<=", b, RELATION, LONG), a, b)


def _sign(a: Ex) -> Ex:
    pos = binary(a, ">", Ex("0.0"), RELATION, LONG)
    neg = binary(a, "<", Ex("0.0"), RELATION, LONG)
    return as_double(Ex(f"({pos.text}) - ({neg.text})", ADD, LONG))


def _where(c: Ex, a: Ex, b: Ex) -> Ex:
    return ternary(c, a, b)


def _clip(x: Ex, lo: Ex, hi: Ex) -> Ex:
    return _minimum(_maximum(x, lo), hi)


def _logaddexp(a: Ex, b: Ex) -> Ex:
    # log(e^a + e^b) without overflow: the larger one plus log1p of the other's share
    share = call("log1p", call("exp", unary("-", call("fabs", binary(a, "-", b, ADD)))))
    return binary(_maximum(a, b), "+", share, ADD)


def _logaddexp2(a: Ex, b: Ex) -> Ex:
    # log2(2^a + 2^b): the larger one plus log2 of 1 + the other's share
    share = call("log1p", call("exp2", unary("-", call("fabs", binary(a, "-", b, ADD)))))
    return binary(_maximum(a, b), "+", binary(share, "*", Ex("1.4426950408889634"), MUL), ADD)


def _log(x: Ex, base: Ex | None = None) -> Ex:
    if base is None:
        return call("log", as_double(x))
    return binary(call("log", as_double(x)), "/", call("log", as_double(base)), MUL)


# name of the primitive -> its C expression over the operands' expressions
ELEMENTWISE: dict[str, Callable[..., Ex]] = {
    "add": lambda a, b: binary(a, "+", b, ADD),
    "sub": lambda a, b: binary(a, "-", b, ADD),
    "mul": _mul,
    "div": _div,
    "pow": _pow,
    "pow:builtin": _pow,
    "neg": lambda a: unary("-", a),
    "pos": lambda a: a,
    "lt": _compare("<", RELATION),
    "le": _compare("<=", RELATION),
    "gt": _compare(">", RELATION),
    "ge": _compare(">=", RELATION),
    "eq": _compare("==", EQUALITY),
    "ne": _compare("!=", EQUALITY),
    "not": lambda a: unary("!", a, LONG),
    "abs": _fn("fabs"),
    "max": _maximum,
    "min": _minimum,
    "float": as_double,
    "np.float64": as_double,
    "as_float": as_double,
    "np.real": lambda a: a,
    "np.conj": lambda a: a,
    "np.positive": lambda a: a,
    "np.negative": lambda a: unary("-", a),
    "np.add": lambda a, b: binary(a, "+", b, ADD),
    "np.subtract": lambda a, b: binary(a, "-", b, ADD),
    "np.multiply": _mul,
    "np.divide": _div,
    "np.power": _pow,
    "np.square": lambda a: _pow(as_double(a), Ex("2.0")),
    "np.reciprocal": lambda a: _div(Ex("1.0"), a),
    "np.maximum": _maximum,
    "np.minimum": _minimum,
    "np.where": _where,
    "np.clip": _clip,
    "np.sign": _sign,
    "np.greater": _compare(">", RELATION),
    "np.greater_equal": _compare(">=", RELATION),
    "np.less": _compare("<", RELATION),
    "np.less_equal": _compare("<=", RELATION),
    "np.equal": _compare("==", EQUALITY),
    "np.not_equal": _compare("!=", EQUALITY),
    "math.log": _log,
    "np.logaddexp": _logaddexp,
    "np.logaddexp2": _logaddexp2,
    "np.fmax": _fn("fmax"),  # C99's fmax and fmin return the number when one side is NaN,
    "np.fmin": _fn("fmin"),  # as NumPy's do
    "np.isnan": lambda a: call("isnan", as_double(a), ctype=LONG),
    "np.isinf": lambda a: call("isinf", as_double(a), ctype=LONG),
    "np.isfinite": lambda a: call("isfinite", as_double(a), ctype=LONG),
    "math.isnan": lambda a: call("isnan", as_double(a), ctype=LONG),
    "math.isinf": lambda a: call("isinf", as_double(a), ctype=LONG),
    "math.isfinite": lambda a: call("isfinite", as_double(a), ctype=LONG),
    "math.pow": lambda a, b: call("pow", as_double(a), as_double(b)),
}

# functions with the same meaning in math.h: NumPy's and math's names -> C's
_SAME = {
    "exp": "exp", "exp2": "exp2", "expm1": "expm1", "log": "log", "log2": "log2",
    "log10": "log10", "log1p": "log1p", "sqrt": "sqrt", "cbrt": "cbrt", "sin": "sin",
    "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "fabs": "fabs", "floor": "floor", "ceil": "ceil", "trunc": "trunc", "erf": "erf",
    "erfc": "erfc", "hypot": "hypot", "atan2": "atan2", "arctan2": "atan2",
    "asin": "asin", "acos": "acos", "atan": "atan", "arcsin": "asin", "arccos": "acos",
    "arctan": "atan", "asinh": "asinh", "acosh": "acosh", "atanh": "atanh",
    "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh", "absolute": "fabs",
    "abs": "fabs", "fmod": "fmod",
}  # fmt: skip
for _py, _c in _SAME.items():
    ELEMENTWISE.setdefault(f"np.{_py}", _fn(_c))
    ELEMENTWISE.setdefault(f"math.{_py}", _fn(_c))

# every function name the generated code may call: no local may be called so
C_FUNCTIONS = frozenset(_SAME.values()) | {
    "pow",
    "sqrt",
    "log",
    "fmax",
    "fmin",
    "isnan",
    "isinf",
    "isfinite",
    "INFINITY",
    "NAN",
}

C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while _Bool _Complex _Imaginary main".split()
)
