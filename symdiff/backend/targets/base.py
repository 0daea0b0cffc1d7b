"""What a backend is: the spelling of every primitive in one array library.

Generated code names NumPy (``np.exp``), ``math`` and runtime helpers by their NumPy
spellings; the IR and the rules never see a backend. The emitter asks the backend of the
module it writes for each spelling (``Backend.spell``), so the choice of library is made
in one place, when the code is written, and a primitive the library cannot express is
refused then, naming the primitive and the backend, rather than failing inside a call.

A backend also says how values are updated (in place, or functionally with
``x.at[i].set(v)`` for libraries whose arrays are immutable), whether a data-dependent
``if`` must become a ``where`` (for tracing compilers), the keywords its reductions take
(``dim=``/``keepdim=`` for PyTorch) and which array types are its own (``grad(f)`` called
with a library's arrays picks that library's backend).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

from ...errors import BackendError, Loc


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


# the modules generated code reads by their NumPy-side names
_NUMPY_HEADS = ("np.", "math.")


@dataclass(frozen=True, eq=False)  # one object per library: compared and hashed by identity
class Backend:
    """One array library as generated code calls it.

    ``library`` is the module imported under ``alias`` (``jax.numpy`` as ``jnp``); empty
    when the namespace is taken from the arguments at call time (the array API: the first
    statement of each function is ``xp = array_namespace(...)``). ``spellings`` maps a NumPy
    spelling to this library's when they differ; a ``np.`` name it does not map is looked
    up in the namespace under the same name, or in ``names`` when the namespace is only
    known at call time. ``helpers`` maps a spelling (a runtime helper's name, or a NumPy
    function better written once for every library, such as ``np.shape``) to the object
    implementing it (``module:attribute``); a runtime helper it lacks is refused.
    """

    name: str
    library: str
    alias: str
    spellings: Mapping[str, str] = field(default_factory=_empty)
    keywords: Mapping[str, str] = field(default_factory=_empty)
    helpers: Mapping[str, str] = field(default_factory=_empty)
    names: frozenset[str] = frozenset()
    # math.<name> written as <alias>.<name> (a tracer is no Python float: jax.jit)
    math_in_namespace: bool = False
    # a keyword that needs another present (torch: keepdim= needs dim=, even dim=None)
    requires: Mapping[str, str] = field(default_factory=_empty)
    # helpers that are given the namespace as ``xp=`` (they make arrays from numbers)
    namespace_helpers: frozenset[str] = frozenset({"np.broadcast_to"})
    # typed rewrites (``optimize.specialise``) that write this library's preferred forms
    rewrites: Mapping[Any, Any] = field(default_factory=_empty)
    functional: bool = False
    traced: bool = False
    array_modules: tuple[str, ...] = ()
    install: str = ""
    notes: str = ""
    refusals: Mapping[str, str] = field(default_factory=_empty)

    @property
    def is_numpy(self) -> bool:
        return self.name == "numpy"

    @property
    def from_arguments(self) -> bool:
        """The namespace is found from the arguments when the gradient is called."""
        return not self.library

    def module(self) -> Any:
        """The library's namespace (imported on first use: it may not be installed)."""
        try:
            return importlib.import_module(self.library)
        except ImportError as exc:
            raise BackendError(
                f"the {self.name!r} backend needs {self.library.split('.')[0]}, which is not "
                f"installed ({exc})",
                hint=f"pip install {self.install}" if self.install else "",
            ) from None

    def spell(self, spelling: str, loc: Loc | None = None) -> str:
        """This library's spelling of ``spelling``: ``alias.name``, a runtime helper's name
        (``helper:<name>``), or a builtin's. Raises ``BackendError`` when the library has
        no counterpart."""
        if self.is_numpy:
            return spelling
        if spelling in self.refusals:
            raise self.refused(spelling, self.refusals[spelling], loc)
        if spelling in self.spellings:
            return self.spellings[spelling]
        if spelling in self.helpers:
            return "helper:" + spelling
        if spelling.startswith("math.") and self.math_in_namespace:
            rest = spelling[len("math.") :]
            if self._has(rest):
                return f"{self.alias}.{rest}"
            raise self.refused(spelling, f"{self.describe()} has no `{rest}`", loc)
        if spelling.startswith("math.") or spelling in ("float", "int", "bool"):
            return spelling  # math on Python floats means the same everywhere
        if not spelling.startswith("np."):
            if _is_runtime_helper(spelling):
                raise self.refused(spelling, "its runtime helper is written for NumPy", loc)
            return spelling  # builtins (range, len), the user's declared functions
        rest = spelling[3:]
        if "." not in rest and self._has(rest):
            return f"{self.alias}.{rest}"
        raise self.refused(spelling, f"{self.describe()} has no `{rest}`", loc)

    def renames(self, spelling: str) -> bool:
        """Whether a call spelled ``spelling`` goes to the library itself (its keywords
        then are the library's), not to a helper or builtin (which take NumPy's)."""
        return spelling.startswith("np.") and spelling not in self.helpers

    def takes_namespace(self, spelling: str) -> bool:
        """Whether the call spelled ``spelling`` is to a helper given the namespace (``xp=``)."""
        return not self.is_numpy and spelling in self.namespace_helpers and spelling in self.helpers

    def keyword(self, name: str) -> str:
        return self.keywords.get(name, name)

    def describe(self) -> str:
        return f"the {self.library} namespace" if self.library else "the array API standard"

    def refused(self, spelling: str, why: str, loc: Loc | None) -> BackendError:
        return BackendError(
            f"the {self.name!r} backend cannot express `{spelling}`: {why}",
            loc,
            "compute this part with backend='numpy' (the default), or write it with "
            "functions this library has (docs/backends.md lists each backend's spellings)",
        )

    def _has(self, name: str) -> bool:
        if self.from_arguments:
            return name in self.names
        return hasattr(self.module(), name)


def _is_runtime_helper(spelling: str) -> bool:
    from ... import runtime

    return spelling in runtime.__all__


def resolve(target: str) -> Callable[..., Any]:
    """The object a ``module:function`` entry of ``Backend.helpers`` names."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
