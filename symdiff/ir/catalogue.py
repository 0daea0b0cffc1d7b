"""The builder of the primitive catalogue: every name and every Python object claimed once.

``primitives`` adds its rows here while the module is executed and freezes the result at its
end. Two primitives sharing a name would make every by-name lookup (``F.exp`` in a rule, a
declared function's spelling) silently pick one of them, so a second claim of a name or of
an object by a different primitive is refused on the spot: the package does not import.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping, TypeVar

from ..errors import InternalError
from .nodes import Primitive


class Catalogue:
    """Primitives by name and by the Python objects that stand for them, while being built."""

    def __init__(self) -> None:
        self._by_name: dict[str, Primitive] = {}
        self._by_object: dict[Any, Primitive] = {}
        self._frozen = False

    def add(self, prim: Primitive, *objects: Any) -> Primitive:
        """Record ``prim`` and the objects (``np.exp``, an alias) that resolve to it."""
        if self._frozen:
            raise InternalError(f"the catalogue is complete; {prim.name!r} comes too late")
        known = self._by_name.get(prim.name)
        if known is not None and known is not prim:
            raise InternalError(f"two primitives are named {prim.name!r}: {known!r} and {prim!r}")
        for obj in objects:
            owner = self._by_object.get(obj)
            if owner is not None and owner is not prim:
                raise InternalError(f"{obj!r} stands for both {owner!r} and {prim!r}")
        self._by_name[prim.name] = prim
        for obj in objects:
            self._by_object[obj] = prim
        return prim

    def freeze(self) -> tuple[Mapping[str, Primitive], Mapping[Any, Primitive]]:
        """Read-only views of the names and objects; nothing can be added afterwards."""
        self._frozen = True
        return MappingProxyType(dict(self._by_name)), MappingProxyType(dict(self._by_object))


V = TypeVar("V")


def lookup(table: Mapping[Any, V], obj: Any) -> V | None:
    """``table[obj]``, or None, for any object: an unhashable one (an array) names nothing."""
    try:
        return table.get(obj)
    except TypeError:
        return None
