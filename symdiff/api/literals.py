"""Python source for the values a standalone module holds as constants: numbers, strings,
containers and small NumPy arrays, each written so that it reads back exactly (checked by
evaluating it), laid out by rows when an array does not fit on a line.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import SymdiffError
from .copied import WIDTH as _WIDTH

MAX_CONSTANT_ELEMENTS = 1000  # larger arrays belong in a data file, not in source code
_DTYPES = {"b", "i", "u", "f"}


class StandaloneError(SymdiffError):
    """Something the functions read cannot be written into a module that only has NumPy."""


def _number(x: Any, np_name: str) -> str:
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    x = float(x)
    if math.isnan(x):
        return f"{np_name}.nan"
    if math.isinf(x):
        return f"{np_name}.inf" if x > 0 else f"-{np_name}.inf"
    return repr(x)


def _array(a: np.ndarray, np_name: str) -> str:
    """``np.array([...], dtype=...)``, laid out by rows when it does not fit on one line."""
    dtype = f"dtype={np_name}.{_dtype_name(a.dtype)}"
    if a.size == 0:
        return f"{np_name}.zeros({a.shape!r}, {dtype})"
    if a.ndim == 0:
        return f"{np_name}.array({_element(a[()], np_name)}, {dtype})"
    flat = [_element(v, np_name) for v in a.ravel()]
    one_line = f"{np_name}.array({_nested(flat, a.shape)}, {dtype})"
    if len(one_line) <= _WIDTH - 16:
        return one_line
    return f"{np_name}.array(\n    {_rows(flat, a.shape, 4)},\n    {dtype},\n)"


def _dtype_name(dtype: np.dtype) -> str:
    return "bool_" if dtype.kind == "b" else dtype.name  # np.bool_ exists in NumPy 1 and 2


def _nested(flat: list[str], shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return "[" + ", ".join(flat) + "]"
    step = len(flat) // shape[0]
    return (
        "["
        + ", ".join(_nested(flat[i : i + step], shape[1:]) for i in range(0, len(flat), step))
        + "]"
    )


def _rows(flat: list[str], shape: tuple[int, ...], col: int) -> str:
    """Rows one per line, long rows wrapped, continuation lines aligned under the bracket."""
    if len(shape) == 1:
        lines: list[str] = []
        line = ""
        for item in flat:
            if line and col + 1 + len(line) + len(item) + 4 > _WIDTH:
                lines.append(line + ",")
                line = item
            else:
                line = f"{line}, {item}" if line else item
        return "[" + ("\n" + " " * (col + 1)).join(lines + [line]) + "]"
    step = len(flat) // shape[0]
    inner = [_rows(flat[i : i + step], shape[1:], col + 1) for i in range(0, len(flat), step)]
    return "[" + (",\n" + " " * (col + 1)).join(inner) + "]"


def _element(v: Any, np_name: str) -> str:
    if isinstance(v, np.floating):
        return _float_text(v, np_name)
    return _number(v, np_name)


def _float_text(v: np.floating, np_name: str) -> str:
    """The shortest text that reads back as the same value in the array's own precision."""
    if not np.isfinite(v):
        return _number(v, np_name)
    text = np.format_float_positional(v, unique=True, trim="0")
    if "e" not in text and len(text) > 12:
        text = np.format_float_scientific(v, unique=True, trim="0")
    return text if any(c in text for c in ".en") else text + ".0"


def literal(value: Any, np_name: str, what: str) -> str:
    """Python source that rebuilds ``value`` exactly, or ``StandaloneError``."""
    if value is None or isinstance(value, (bool, int, float, str, complex)):
        if isinstance(value, complex) and not all(map(math.isfinite, (value.real, value.imag))):
            raise StandaloneError(f"{what} is a non-finite complex number")
        if isinstance(value, float):
            return _number(value, np_name)
        return repr(value)
    if isinstance(value, np.generic) and value.dtype.kind in _DTYPES and value.dtype.itemsize <= 8:
        inner = (
            _float_text(value, np_name)
            if isinstance(value, np.floating)  # the scalars of dtype kind "f"
            else _number(value.item(), np_name)
        )
        return f"{np_name}.{_dtype_name(value.dtype)}({inner})"
    if isinstance(value, (tuple, list)):
        items = [literal(v, np_name, f"an item of {what}") for v in value]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict) and all(isinstance(k, (str, int)) for k in value):
        items = [f"{k!r}: {literal(v, np_name, f'an item of {what}')}" for k, v in value.items()]
        return "{" + ", ".join(items) + "}"
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _DTYPES or value.dtype.itemsize > 8:
            raise StandaloneError(
                f"{what} is an array of dtype {value.dtype}, which emit cannot write as source",
                hint="use a bool, integer or float (up to 64-bit) array",
            )
        if value.size > MAX_CONSTANT_ELEMENTS:
            raise StandaloneError(
                f"{what} is an array of {value.size} elements; emit writes at most "
                f"{MAX_CONSTANT_ELEMENTS} into source code",
                hint="pass the array as an argument of the function instead of reading a "
                "module-level value",
            )
        return _array(value, np_name)
    raise StandaloneError(
        f"{what} is a {type(value).__name__}, which emit cannot write as source",
        hint="standalone modules hold numbers, strings, tuples, lists, dicts and small "
        "NumPy arrays; pass other values as arguments",
    )


def check_roundtrip(text: str, value: Any, np_name: str, what: str) -> None:
    """Insurance: the literal must evaluate to the value it claims to be."""
    back = eval(text, {np_name: np, "__builtins__": {}})  # noqa: S307 - our own text
    if not _equal_deep(back, value):
        raise StandaloneError(f"{what} cannot be written as source exactly")


def _equal_deep(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and type(a) is type(b):
        return len(a) == len(b) and all(map(_equal_deep, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal_deep(a[k], b[k]) for k in a)
    if isinstance(b, float) and isinstance(a, float) and math.isnan(b):
        return math.isnan(a)
    if isinstance(b, (np.ndarray, np.generic)):
        return (
            type(a) is type(b)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=b.dtype.kind == "f"))
        )
    return type(a) is type(b) and a == b


def needs_numpy(obj: Any) -> bool:
    if isinstance(obj, (np.ndarray, np.generic)):
        return True
    if isinstance(obj, float):
        return not math.isfinite(obj)
    if isinstance(obj, (tuple, list)):
        return any(map(needs_numpy, obj))
    if isinstance(obj, dict):
        return any(map(needs_numpy, obj.values()))
    return False


def assignment(alias: str, text: str) -> str:
    if "\n" in text:  # an array laid out by rows: keep black from putting one number per line
        return f"# fmt: off\n{alias} = {text}\n# fmt: on"
    return f"{alias} = {text}"
