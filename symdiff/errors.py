"""The exception hierarchy.

Two families, kept apart on purpose: ``SymdiffError`` subclasses say *your code* is outside
what symdiff can differentiate (with the place and a hint), ``InternalError`` says *symdiff*
is wrong and carries what a bug report needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Loc:
    """Where a statement came from: feeds error carets and the comments in generated code."""

    file: str
    line: int
    col: int
    text: str  # the whole source line, without its newline
    func: str = ""

    def short(self) -> str:
        where = f"{self.func}, line {self.line}" if self.func else f"line {self.line}"
        return f"{where}: {self.text.strip()}"


class SymdiffError(Exception):
    """Base of every error symdiff raises on purpose."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str = ""):
        self.message = message
        self.loc = loc
        self.hint = hint
        super().__init__(self._render())

    def relocated(
        self, loc: Loc | None, message: str | None = None, hint: str | None = None
    ) -> SymdiffError:
        """A copy of this error (same class) placed at ``loc``, optionally reworded: for a
        refusal raised where its place was not known (see ``symdiff.api.blame``)."""
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.loc = loc
        new.message = self.message if message is None else message
        new.hint = self.hint if hint is None else hint
        new.args = (new._render(),)
        new.__cause__ = self.__cause__
        new.__suppress_context__ = True
        return new

    def _render(self) -> str:
        parts = []
        if self.loc is not None:
            parts.append(f"{self.loc.file}:{self.loc.line}:{self.loc.col + 1}: {self.message}")
            text = self.loc.text.rstrip()
            if text:
                parts.append(f"    {text}")
                parts.append("    " + " " * self.loc.col + "^")
        else:
            parts.append(self.message)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class SourceUnavailableError(SymdiffError):
    """The function's source text cannot be found (REPL, exec, builtins, partials)."""


class UnsupportedSyntaxError(SymdiffError):
    """A Python construct outside the differentiable subset."""


class AliasUpdateError(UnsupportedSyntaxError):
    """An in-place update another name would see, refused only because the kinds of some
    parameters are not known: called with numbers for all of ``params`` (which are never
    updated in place), the same code is a plain rebinding, so ``grad`` waits for the call."""

    def __init__(
        self, message: str, loc: Loc | None = None, hint: str = "", params: tuple[str, ...] = ()
    ):
        self.params = params
        super().__init__(message, loc, hint)


class UndefinedNameError(UnsupportedSyntaxError):
    """A name the function reads is not defined (yet: it may be defined later in the module)."""


class UnsupportedFunctionError(SymdiffError):
    """A call to a function that has no derivative rule and no source to look inside."""


class BackendError(SymdiffError):
    """A backend was asked for something its array library cannot express, or is absent."""


class NonDifferentiableError(SymdiffError):
    """A gradient was requested through an operation whose derivative is undefined."""


class WrtError(SymdiffError):
    """``wrt`` names no argument, or an argument that cannot be differentiated."""


class NonScalarOutputError(SymdiffError, ValueError):
    """The function returned something other than a scalar, so it has no gradient."""


class InputError(SymdiffError, TypeError):
    """An argument of a type the gradient cannot take (complex, object arrays, ...)."""


class GradientCheckError(SymdiffError, AssertionError):
    """A gradient disagrees with central finite differences past the tolerance."""

    def __init__(self, message: str, report: object = None):
        self.report = report
        super().__init__(message)


class NonFiniteError(SymdiffError, ValueError):
    """The function is NaN or infinite at the point where its gradient is to be checked.

    Finite differences of a NaN are NaN, so every coordinate would "disagree"; the fault is
    the input (or the function's domain), not the gradient, and the message says which."""


class UserCodeError(SymdiffError):
    """The user's own code raised: their function (run by generated code or directly), an
    example or hand-written gradient, or their module while it was imported.

    The message is located at the user's line that raised. Raised for a user's exception,
    the instance is also of that exception's class (see ``symdiff.api.blame``), so that an
    ``except ValueError`` written around a call keeps catching the ``ValueError`` of a wrong
    shape; ``original`` is the exception itself."""

    original: BaseException | None = None


class InternalError(Exception):
    """A bug in symdiff, not in the user's code; the message carries what to report."""

    def __init__(self, message: str, *, ir: str = "", source: str = ""):
        self.message = message
        self.ir = ir
        self.source = source
        text = f"this is a bug in symdiff: {message}\nplease report it with the details below."
        if ir:
            text += f"\n--- IR ---\n{ir}"
        if source:
            text += f"\n--- generated source ---\n{source}"
        super().__init__(text)


def describe(value: Any) -> str:
    """A value as an error message names it: its kind and size, never its whole repr."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} values"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"
