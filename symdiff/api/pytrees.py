"""Calls with structured arguments (pytrees): the leaves in, the gradient's structure out.

A call that passes a dict, list, tuple, named tuple or dataclass for a parameter the
function reads through constant subscripts, attributes or unpacking (see
``frontend.structures``) runs the gradient of the function of the leaves it reads, built
once per *cut* (where, along each read, the call's values stop being structures): the cut
is the key of that program, so a call with another structure gets its own, and a call with
the same structure and any leaf values reuses it. The gradient comes back with the
argument's own structure: the same dict keys (in the argument's order), list or tuple
lengths, named-tuple or dataclass type, each leaf's gradient shaped and typed like the leaf
and a leaf the function never reads given a zero gradient, as JAX gives.

``wrt`` names whole parameters (their gradient is a structure), or reads of them written
as in the function (``"params['W1']"``, ``"p.W"``, ``"layers[0]"``), whose gradient is that
of the value there.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from typing import Any, Callable

import numpy as np

from ..errors import InputError, WrtError
from ..frontend.structures import Path, StructureReads, chain, show_path
from .wrt import Wrt

NOT_A_TREE = object()  # the call passes no structure the function reads into


def is_node(v: Any) -> bool:
    """A structure whose items or fields are read as leaves: a dict, list, tuple (named
    tuples included) or dataclass instance."""
    t = type(v)
    return (
        t is dict
        or t is list
        or t is tuple
        or isinstance(v, (dict, list, tuple))
        or (dataclasses.is_dataclass(v) and not isinstance(v, type))
    )


def _step(v: Any, kind: str, key: Any) -> Any:
    return getattr(v, key) if kind == "attr" else v[key]


def _steppable(v: Any, kind: str) -> bool:
    if kind == "item":
        return isinstance(v, (dict, list, tuple))
    return is_node(v) or not isinstance(v, (np.ndarray, np.generic, int, float, complex))


def value_at(v: Any, path: Path) -> Any:
    for kind, key in path:
        v = _step(v, kind, key)
    return v


def shape_key(reads: StructureReads, values: dict[str, Any]) -> tuple:
    """What ``cut`` depends on in a call's values, cheaply: along each read, the type of
    each value met and the length of each list or tuple indexed. Calls with equal keys have
    equal cuts (and so run one program), which a repeated call finds by this key alone."""
    out: list[Any] = []
    for p, chains in reads.chains.items():
        v0 = values.get(p)
        if not is_node(v0):
            out.append(None)
            continue
        for path in chains:
            v: Any = v0
            seen: list[Any] = [type(v)]
            for kind, key in path:
                if not _steppable(v, kind):
                    break
                if kind == "item" and type(key) is int and isinstance(v, (list, tuple)):
                    seen.append(len(v))
                v = getattr(v, key) if kind == "attr" else v[key]
                seen.append(type(v))
            out.append(tuple(seen))
    for u in reads.unpackings:  # the lengths the dropped unpackings take for granted
        v0 = values.get(u.param)
        for where, _ in u.lengths:
            try:
                inner = value_at(v0, where)
            except Exception:
                inner = None
            out.append(len(inner) if isinstance(inner, (list, tuple)) else None)
    return tuple(out)


def cut(
    reads: StructureReads, values: dict[str, Any]
) -> tuple[dict[str, tuple[Path, ...]], dict[tuple[str, Path], Path]]:
    """Each parameter whose value is a structure, and its reads cut where the value stops
    being one (a read whose start is read whole is cut there too); {} when no parameter
    read through constant reads is given a structure. Paths are canonical: an index
    counted from the end is counted from the start, and a named tuple's index is its field
    (``t[-1]`` and ``t[1]`` of a pair are one leaf, ``p[0]`` and ``p.W`` too); the second
    result maps each read as written, cut, to its canonical path."""
    out: dict[str, tuple[Path, ...]] = {}
    aliases: dict[tuple[str, Path], Path] = {}
    for p, chains in reads.chains.items():
        if p not in values or not is_node(values[p]):
            continue
        paths: list[tuple[Path, Path]] = []  # (as written, canonical), cut
        for path in chains:
            v, done = values[p], []
            for kind, key in path:
                if not _steppable(v, kind):
                    break
                if kind == "item" and isinstance(v, (list, tuple)) and type(key) is int:
                    key = key % len(v) if -len(v) <= key < len(v) else key
                    if hasattr(v, "_fields") and 0 <= key < len(v):  # p[0] is p.W
                        kind, key = "attr", v._fields[key]
                v = _step(v, kind, key)  # a missing key raises what Python raises in f
                done.append((kind, key))
            if not done:
                paths = []
                break
            paths.append((path[: len(done)], tuple(done)))
        if not paths:
            continue
        kept: list[Path] = []
        for canonical in sorted({c for _, c in paths}, key=len):  # read whole wins
            if not any(canonical[: len(k)] == k for k in kept):
                kept.append(canonical)
        ordered: list[Path] = []
        for written, canonical in paths:  # first use first
            k = next(k for k in kept if canonical[: len(k)] == k)
            aliases[(p, written[: len(k)])] = k
            if k not in ordered:
                ordered.append(k)
        out[p] = tuple(ordered)
        _check_lengths(reads, p, values[p], out[p])
    return out, aliases


def _check_lengths(reads: StructureReads, p: str, value: Any, paths: tuple[Path, ...]) -> None:
    """An unpacking the rewritten function drops must have had as many items as targets."""
    for u in reads.unpackings:
        if u.param == p:
            for where, n in u.lengths:
                inner = value_at(value, where)
                got = len(inner) if isinstance(inner, (list, tuple)) else None
                if got is not None and got != n:
                    what = "too many" if got > n else "not enough"
                    raise ValueError(
                        f"{what} values to unpack (expected {n}, got {got}): "
                        f"{show_path(p, where)} has {got} items"
                    )


def parse_wrt(
    wrt: Wrt, names: list[str], params: tuple[str, ...]
) -> tuple[list[tuple[str, Path]], bool]:
    """``wrt`` as (parameter, path) pairs, and whether it was a single entry. ``names`` are
    the parameters a caller passes, which positions count; ``params`` every parameter (a
    bound method's ``self`` too, which a read such as ``"self.W"`` names)."""
    single = isinstance(wrt, (int, str))
    items = (wrt,) if single else tuple(wrt)  # type: ignore[arg-type]
    out: list[tuple[str, Path]] = []
    for w in items:
        if isinstance(w, int) and not isinstance(w, bool):
            out.append((names[w], ()))  # resolve_wrt has checked the range
            continue
        try:
            read = chain(ast.parse(str(w).strip(), mode="eval").body)
        except SyntaxError:
            read = None
        if read is None or read[0] not in params:
            raise WrtError(
                f"wrt names {w!r}, which is neither an argument nor a constant read of one",
                hint="arguments: " + ", ".join(names) + "; reads are written as in the "
                "function: 'params[\"W1\"]', 'p.W', 'layers[0]'",
            )
        out.append(read)
    return out, single


def base_wrt(
    wanted: list[tuple[str, Path]], single: bool, objects: dict[str, tuple[str, ...]]
) -> Wrt:
    """What the shape-generic program (calls without structures) differentiates: each read
    with a subscript stands for its parameter, and an object read through attributes
    (``objects``, see ``frontend.attributes``) for the attributes it is read for."""
    out: list[str] = []
    for p, path in wanted:
        lead = 0
        while lead < len(path) and path[lead][0] == "attr":
            lead += 1
        dotted = show_path(p, path[:lead])
        if (lead and lead == len(path)) or any(dotted == d for d in objects.get(p, ())):
            out.append(dotted)
        elif p in objects:
            out.extend(objects[p])
        else:
            out.append(p)
    out = list(dict.fromkeys(out))
    return out[0] if single and len(out) == 1 else tuple(out)


@dataclasses.dataclass(frozen=True)
class Variant:
    """The gradient for one cut: ``inner`` differentiates the function of the leaves,
    ``order`` says what each of its parameters is (a parameter and a path), and ``groups``
    how its gradients make the ones asked for: an index, or a parameter, a path and the
    (path inside, index) of each leaf under it."""

    inner: Any
    order: tuple[tuple[str, Path], ...]
    groups: tuple[Any, ...]
    one: bool  # inner differentiates one leaf: its gradient is not in a tuple


def variant(
    reads: StructureReads,
    the_cut: dict[str, tuple[Path, ...]],
    aliases: dict[tuple[str, Path], Path],
    wanted: list[tuple[str, Path]],
    make: Callable[[Callable[..., Any], Wrt], Any],
) -> Variant:
    """The gradient for calls with this cut (built once per cut by the caller)."""
    function, order = reads.function(the_cut, aliases)
    flat_names = list(inspect.signature(function).parameters)
    inner_wrt: list[str] = []
    groups: list[Any] = []

    def index_of(name: str) -> int:
        if name not in inner_wrt:
            inner_wrt.append(name)
        return inner_wrt.index(name)

    for p, path in wanted:
        if p not in the_cut:
            groups.append(index_of(show_path(p, path)))
            continue
        exact = [i for i, (q, at) in enumerate(order) if q == p and at == path]
        if exact:
            groups.append(index_of(flat_names[exact[0]]))
            continue
        inside = [
            (at[len(path) :], index_of(flat_names[i]))
            for i, (q, at) in enumerate(order)
            if q == p and at[: len(path)] == path
        ]
        if not inside and any(q == p and path[: len(at)] == at for q, at in order):
            raise WrtError(
                f"wrt names {show_path(p, path)}, inside a value the function reads whole",
                hint="name the value it reads: "
                + ", ".join(show_path(q, at) for q, at in order if q == p),
            )
        groups.append((p, path, tuple(inside)))
    if not inner_wrt:
        raise WrtError(
            "wrt names only values the function never reads, which have no gradient but zero",
            hint="reads: " + ", ".join(show_path(q, at) for q, at in order if at),
        )
    one = len(inner_wrt) == 1  # one leaf: the generated code returns its gradient alone
    inner = make(function, inner_wrt[0] if one else tuple(inner_wrt))
    return Variant(inner, tuple(order), tuple(groups), one)


def assemble(v: Variant, grads: tuple, values: dict[str, Any], single: bool) -> Any:
    """The gradients asked for from those of the leaves: a structure rebuilt for a group."""
    if v.one:
        grads = (grads,)
    out = []
    for g in v.groups:
        if isinstance(g, int):
            out.append(grads[g])
        else:
            p, path, inside = g
            out.append(rebuild(value_at(values[p], path), {at: grads[i] for at, i in inside}, ()))
    return out[0] if single else tuple(out)


def rebuild(value: Any, grads: dict[Path, Any], at: Path) -> Any:
    """``value``'s structure with the gradient of each leaf: the one computed for its path,
    or zero for a leaf that is never read."""
    if at in grads:
        return grads[at]
    if isinstance(value, dict):
        out = {k: rebuild(x, grads, (*at, ("item", k))) for k, x in value.items()}
        if type(value) is dict:
            return out
        try:
            return type(value)(out)  # an OrderedDict
        except TypeError:
            return out
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple
        return type(value)(
            *(rebuild(getattr(value, f), grads, (*at, ("attr", f))) for f in value._fields)
        )
    if isinstance(value, (list, tuple)):
        return type(value)(rebuild(x, grads, (*at, ("item", i))) for i, x in enumerate(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            f.name: rebuild(getattr(value, f.name), grads, (*at, ("attr", f.name)))
            for f in dataclasses.fields(value)
        }
        return _dataclass_like(value, fields)
    return zero_like(value, at)


def _dataclass_like(value: Any, fields: dict[str, Any]) -> Any:
    """A copy of the dataclass instance ``value`` with its fields replaced (without calling
    its ``__init__``, which may compute or check fields from arrays that are gradients)."""
    out = object.__new__(type(value))
    for name, x in fields.items():
        object.__setattr__(out, name, x)
    return out


def zero_like(value: Any, at: Path) -> Any:
    """The gradient of a leaf the function never reads."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "b"
    ):
        raise InputError(f"the leaf at {_shown(at)} is a bool, which has no gradient")
    if isinstance(value, np.ndarray):
        return np.zeros_like(value, dtype=value.dtype if value.dtype.kind == "f" else np.float64)
    if isinstance(value, np.generic):
        return (value.dtype.type if value.dtype.kind == "f" else np.float64)(0.0)
    if isinstance(value, (int, float)):
        return 0.0
    raise InputError(
        f"the leaf at {_shown(at)} is a {type(value).__name__}, which has no gradient",
        hint="a structure being differentiated holds numbers and arrays only: pass the "
        "others as arguments that are not in wrt",
    )


def _shown(at: Path) -> str:
    return show_path("", at) or "the top"


def leaves(tree: Any, at: Path = ()) -> list[tuple[Path, Any]]:
    """Every leaf of ``tree`` with its path, in the documented order (docs/pytrees.md): a
    dict's keys sorted where they sort (as JAX orders them), else in the dict's order; a
    list's or tuple's items in order; a named tuple's or dataclass's fields in order."""
    if isinstance(tree, dict):
        try:
            keys = sorted(tree)
        except TypeError:
            keys = list(tree)
        return [x for k in keys for x in leaves(tree[k], (*at, ("item", k)))]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return [x for f in tree._fields for x in leaves(getattr(tree, f), (*at, ("attr", f)))]
    if isinstance(tree, (list, tuple)):
        return [x for i, v in enumerate(tree) for x in leaves(v, (*at, ("item", i)))]
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        fields = [f.name for f in dataclasses.fields(tree)]
        return [x for f in fields for x in leaves(getattr(tree, f), (*at, ("attr", f)))]
    return [(at, tree)]


def replace_at(tree: Any, at: Path, value: Any) -> Any:
    """A copy of ``tree`` with the leaf at ``at`` replaced (the rest shared)."""
    if not at:
        return value
    (_, key), rest = at[0], at[1:]
    if isinstance(tree, dict):
        out = dict(tree)
        out[key] = replace_at(tree[key], rest, value)
        return out if type(tree) is dict else type(tree)(out)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return tree._replace(**{key: replace_at(getattr(tree, key), rest, value)})  # type: ignore[attr-defined]
    if isinstance(tree, (list, tuple)):
        items = list(tree)
        items[key] = replace_at(items[key], rest, value)
        return type(tree)(items)
    fields = {f.name: getattr(tree, f.name) for f in dataclasses.fields(tree)}
    fields[key] = replace_at(fields[key], rest, value)
    return _dataclass_like(tree, fields)
