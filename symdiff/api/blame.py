"""Whose fault is it? One rule for every exception that leaves a gradient call.

Generated code runs the user's own operations (their matmul, their ``np.sum(x, axis=5)``,
their indexing) and symdiff's derivative code side by side, so an exception out of it can be
either's. The rule: run the user's function on the same inputs. If it raises too, the error
is the user's, and it is reported as a ``UserCodeError`` located at the line of *their* file
that raised, found in that second run's own traceback (exact, where mapping a generated line
back through the ``# line N`` comments could only guess at the governing statement); if it
runs, the fault is symdiff's and an ``InternalError`` carries the generated line, the source
line it came from and the IR.

The same module gives a place to the refusals raised where none is known (the arguments of a
call, the function's result, its ``wrt``): the function's ``def`` line, the parameter
concerned or the ``return`` statement, with a message in symdiff's words rather than NumPy's.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import re
import sysconfig
import traceback
import types
from typing import Any, Callable

import numpy as np

from ..errors import (
    InputError,
    InternalError,
    Loc,
    NonScalarOutputError,
    SymdiffError,
    UserCodeError,
    WrtError,
)
from ..frontend.source import Source, display_path, get_source, unwrap
from ..frontend.structures import whole_use
from ..ir.printer import pformat

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARIES = tuple(
    os.path.abspath(p)
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    | {os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))}
)


# ----------------------------------------------------------------------------- places


def _source(f: Any) -> Source | None:
    try:
        return get_source(f)
    except Exception:  # no source (a builtin, a lambda typed at the prompt): no place
        return None


def function_loc(f: Any) -> Loc | None:
    """The ``def`` line of ``f`` (decorators skipped), or None when it has no source."""
    src = _source(f)
    if src is not None:
        return src.loc(src.tree)
    code = getattr(unwrap(f), "__code__", None)
    if code is None:
        return None
    return _frame_loc(code.co_filename, code.co_firstlineno, code.co_name, None)


def param_loc(f: Any, name: str) -> Loc | None:
    """The parameter ``name`` in the ``def`` line of ``f`` (else the ``def`` line itself)."""
    src = _source(f)
    if src is None:
        return function_loc(f)
    a = src.tree.args
    for node in [*a.posonlyargs, *a.args, a.vararg, *a.kwonlyargs, a.kwarg]:
        if node is not None and node.arg == name:
            return src.loc(node)
    return src.loc(src.tree)


def return_loc(f: Any) -> Loc | None:
    """The ``return`` of ``f`` when it has exactly one (else its ``def`` line): where a
    result that is not a scalar comes from."""
    src = _source(f)
    if src is None:
        return function_loc(f)
    returns = [n for n in _own_nodes(src.tree) if isinstance(n, ast.Return)]
    return src.loc(returns[0] if len(returns) == 1 else src.tree)


def _own_nodes(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, not those of functions or classes defined in it."""
    out: list[ast.AST] = []
    todo: list[ast.AST] = list(fn.body)
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _frame_loc(filename: str, line: int, func: str, col: int | None) -> Loc:
    text = linecache.getline(filename, line).rstrip("\n")
    if col is None:
        col = len(text) - len(text.lstrip())
    return Loc(display_path(filename), line, col, text, func)


def _is_library(filename: str) -> bool:
    if filename.startswith("<"):
        return filename.startswith("<symdiff ") or filename.startswith("<frozen")
    full = os.path.abspath(filename)
    return full.startswith(_PACKAGE + os.sep) or full.startswith(_LIBRARIES)


def raising_loc(exc: BaseException, files: set[str] = frozenset()) -> Loc | None:  # type: ignore[assignment]
    """The user's line that raised ``exc``: the innermost frame of its traceback in one of
    ``files`` (the function's own file and its helpers'), else the innermost frame outside
    symdiff, NumPy and the standard library; None when every frame is library code."""
    frames = traceback.extract_tb(exc.__traceback__)
    for wanted in (lambda fr: fr.filename in files, lambda fr: not _is_library(fr.filename)):
        for fr in reversed(frames):
            if wanted(fr) and fr.lineno:
                return _frame_loc(fr.filename, fr.lineno, fr.name, getattr(fr, "colno", None))
    return None


# ----------------------------------------------------------------------------- the user's errors

_MIXED: dict[type, type] = {}


def _user_class(cls: type) -> type:
    """``UserCodeError`` that is also a ``cls``: ``except ValueError`` around a gradient call
    still catches the ``ValueError`` of the user's wrong shapes."""
    if cls in _MIXED:
        return _MIXED[cls]
    mixed: type = UserCodeError
    for base in cls.__mro__:  # the class itself, else the nearest base that can be mixed in
        if not issubclass(base, Exception) or issubclass(base, SymdiffError):
            continue
        try:
            mixed = type(
                "UserCodeError",
                (UserCodeError, base),
                {"__module__": UserCodeError.__module__, "__str__": BaseException.__str__},
            )
            mixed("probe")  # a constructor that needs more (UFuncTypeError): try its base
            break
        except Exception:
            mixed = UserCodeError
    _MIXED[cls] = mixed
    return mixed


def user_error(exc: BaseException, what: str, loc: Loc | None, hint: str = "") -> SymdiffError:
    """The user's exception as a located ``UserCodeError`` (a ``SymdiffError`` passes as it
    is: it already says what is wrong)."""
    if isinstance(exc, SymdiffError):
        return exc
    text = str(exc).strip().splitlines()
    detail = f": {text[0]}" if text else ""
    message = f"{what} raised {type(exc).__name__}{detail}"
    new = _user_class(type(exc))(message, loc, hint)
    new.args = (str(SymdiffError(message, loc, hint)),)  # a base whose __init__ set others
    new.original = exc
    new.__cause__ = exc
    return new


def call_user(fn: Callable[..., Any], what: str, *args: Any, **kwargs: Any) -> Any:
    """Call user code that is not differentiated (an example, a hand-written gradient):
    whatever it raises is the user's, at their line."""
    try:
        return fn(*args, **kwargs)
    except SymdiffError:
        raise
    except Exception as exc:
        raise user_error(exc, what, raising_loc(exc)) from exc


def _user_files(t: Any) -> set[str]:
    files = set()
    for src in (t.source, *t.helpers):
        code = getattr(unwrap(src.func), "__code__", None)
        if code is not None:
            files.add(code.co_filename)
    return files


# ----------------------------------------------------------------------------- the hooks


def explain_build(exc: SymdiffError, f: Any) -> SymdiffError:
    """A refusal raised while ``grad(f)`` was set up: ``def f(*xs)`` is named for what it is,
    at its ``*xs`` (the others already list the arguments there are)."""
    if exc.loc is not None or not isinstance(exc, WrtError):
        return exc
    src = _source(f)
    if src is None:
        return exc
    star = src.tree.args.vararg
    if star is not None and not (src.tree.args.args or src.tree.args.posonlyargs):
        return exc.relocated(
            param_loc(f, star.arg),
            f"{src.name} takes its arguments as *{star.arg}; gradients are taken with respect "
            "to named arguments",
            f"name them (def {src.name}(x, y): ...), or pass one array: def {src.name}"
            f"({star.arg}): ... called with np.array([...])",
        )
    return exc  # a wrong name or position: the message and its list of arguments say it


def explain_call(exc: BaseException, f: Any, args: tuple, kwargs: dict, t: Any) -> BaseException:
    """What a gradient call should raise for ``exc``, which left the generated code (or the
    preparation of its arguments): see the module docstring for the rule."""
    if isinstance(exc, InternalError):  # already judged, by a derivative object run inside
        return exc
    if isinstance(exc, SymdiffError):
        return _place(exc, f, args, kwargs, t)
    own = users_own_error(f, args, kwargs, t)
    if own is not None:
        return own
    if isinstance(exc, ArithmeticError):
        return exc  # a Python-float overflow of a derivative where the value is finite
    return _internal(exc, f, t)


def users_own_error(f: Any, args: tuple, kwargs: dict, t: Any) -> SymdiffError | None:
    """Run ``f`` on the arguments: what it raises, as the user's located error (its own
    class kept, at the line of their file that raised); None when it runs.

    Also how a shape error the type analysis predicts is confirmed before a specialised
    program is refused: the user sees what their own code raises, with NumPy's exact words,
    and a prediction the function does not bear out is the analysis's mistake, not theirs.
    """
    try:
        f(*args, **kwargs)
    except SymdiffError as own:  # the function itself calls symdiff and is refused
        return own
    except Exception as own:
        name = getattr(f, "__name__", "the function")
        loc = raising_loc(own, _user_files(t)) or function_loc(f)
        return user_error(own, name, loc)
    return None


def _internal(exc: BaseException, f: Any, t: Any) -> InternalError:
    name = getattr(f, "__name__", "the function")
    where = ""
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        if fr.filename.startswith("<symdiff ") and fr.lineno:
            lines = linecache.getlines(fr.filename)
            where = f" at its line {fr.lineno} ({(fr.line or '').strip()})"
            origin = _governing_comment(lines, fr.lineno)
            if origin:
                where += f", from {t.source.file} {origin}"
            break
    new = InternalError(
        f"the generated gradient raised {type(exc).__name__}: {exc}{where}, "
        f"but {name} itself runs on the same inputs",
        ir=_ir_text(t),
        source=t.value_and_grad_source,
    )
    new.__cause__ = exc
    return new


def _governing_comment(lines: list[str], lineno: int) -> str:
    """The ``# line N: ...`` comment nearest above a generated line: the source statement
    whose derivative that line computes (empty for the forward pass, which has none)."""
    for text in reversed(lines[: max(lineno, 0)]):
        m = re.match(r"\s*# (line \d+: .*)$", text)
        if m:
            return m.group(1)
    return ""


def _ir_text(t: Any) -> str:
    try:
        return pformat(t.function)
    except Exception:
        return "<the IR could not be printed>"


def _place(exc: SymdiffError, f: Any, args: tuple, kwargs: dict, t: Any) -> SymdiffError:
    """A refusal raised during the call without a place: put it where it belongs."""
    if exc.loc is not None:
        return exc
    if isinstance(exc, NonScalarOutputError):
        hint = (
            "a gradient needs one real number: reduce the result (np.sum(...)), or for an "
            "array result use symdiff.jacobian (the whole Jacobian) or symdiff.vjp (one "
            "vector-Jacobian product)"
        )
        return exc.relocated(return_loc(f), hint=exc.hint or hint)
    if isinstance(exc, InputError):
        name, value = _bad_argument(f, args, kwargs, t)
        if name is None:
            return exc.relocated(function_loc(f))
        described = describe_input(value)
        fname = getattr(f, "__name__", "the function")
        if described is None:  # complex, bool: the message already says it in our words
            return exc.relocated(param_loc(f, name))
        if isinstance(value, dict) or _ragged(value):  # a structure, not an array
            placed = _structure_use(f, name, described)
            if placed is not None:
                return exc.relocated(*placed)
        return exc.relocated(
            param_loc(f, name),
            f"argument {name} of {fname} is {described}, so it cannot be differentiated",
            "pass a float or a NumPy array of floats; an argument that is not differentiated "
            f"can be anything, so leave {name} out of wrt if it is not a number",
        )
    return exc.relocated(function_loc(f))


def _ragged(value: Any) -> bool:
    """A list or tuple of items of different shapes: a structure, never an array."""
    if not isinstance(value, (list, tuple)):
        return False
    try:
        return len({np.shape(item) for item in value}) > 1
    except Exception:
        return False


def _structure_use(f: Any, name: str, described: str) -> tuple[Loc, str, str] | None:
    """A structure argument refused because the function uses it otherwise than through
    constant reads: the place of that use, the message and the hint."""
    src = _source(f)
    node = None if src is None else whole_use(src.tree, name)
    if src is None or node is None:
        return None
    how = "with a key computed at run time" if isinstance(node, ast.Subscript) else "whole"
    return (
        src.loc(node),
        f"argument {name} is {described}, used here {how}: symdiff differentiates a "
        "structure through the constant reads of it in the function itself",
        f'read its leaves with constant keys, attributes or unpacking ({name}["W"], '
        f"{name}.W, W, b = {name}) and pass those on (docs/pytrees.md)",
    )


def _bad_argument(f: Any, args: tuple, kwargs: dict, t: Any) -> tuple[str | None, Any]:
    """The first argument being differentiated that is not a number or an array of them."""
    try:
        plain = unwrap(f)
        given = (f.__self__, *args) if isinstance(f, types.MethodType) else args
        bound = inspect.signature(plain).bind_partial(*given, **kwargs).arguments
        names = list(inspect.signature(plain).parameters)
    except (TypeError, ValueError):
        return None, None
    for pos in t.wrt_positions:
        if pos < len(names) and names[pos] in bound and _not_numeric(bound[names[pos]]):
            return names[pos], bound[names[pos]]
    return None, None


def _not_numeric(value: Any) -> bool:
    return describe_input(value) is not None or _kind(value) in "bc"


def _kind(value: Any) -> str:
    try:
        return np.asarray(value).dtype.kind
    except Exception:
        return "O"


def describe_input(value: Any) -> str | None:
    """What an argument is, in words, when it is neither a number nor a rectangular array
    of real numbers (None for those, and for bools and complex numbers, refused apart)."""
    kind = type(value).__name__
    if value is None:
        return "None"
    if isinstance(value, (str, bytes)):
        shown = repr(value) if len(value) <= 20 else repr(value[:20])[:-1] + "...'"
        return f"a {kind} ({shown}), not a number"
    if isinstance(value, dict):
        keys = ", ".join(map(repr, list(value)[:3])) + (", ..." if len(value) > 3 else "")
        return f"a dict (keys {keys})"
    if isinstance(value, (tuple, list)):
        shapes: list[tuple[int, ...] | None] = []
        for item in value:
            try:
                shapes.append(np.shape(item))
            except Exception:
                shapes.append(None)
        if len(set(shapes)) > 1:
            shown = ", ".join(str(s) for s in shapes[:4]) + (", ..." if len(shapes) > 4 else "")
            return f"a {kind} of items of different shapes ({shown}), not a rectangular array"
        odd = [type(i).__name__ for i in value if describe_input(i) is not None]
        if odd:
            return f"a {kind} holding a {odd[0]}, not an array of numbers"
        return None
    if isinstance(value, (int, float, complex, np.number, np.bool_, bool)):
        return None
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iufcb":
            return None
        return f"an array of dtype {value.dtype}, not of numbers"
    return f"a {kind}, not a number or an array of numbers"
