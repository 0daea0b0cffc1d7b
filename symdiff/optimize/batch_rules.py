"""The batching table: how each operation a tangent program applies to a tangent is written
when that tangent has a leading direction axis (``optimize.batching``).

A row receives the writer, the statement (its arguments already read through earlier
rewrites) and which arguments are batched, and either writes statements assigning the
statement's target or answers the atom the target stands for. Ranks are those of one
direction (the analysis of the unbatched program); a batched value has one axis more.

Three ideas cover most rows:
- broadcasting operations align from the right, so a batched operand only needs unit axes
  after its direction axis when the result has more axes than it (``x_dot`` of a scalar
  times an array ``b``: ``x_dot[:, None] * b``);
- an axis counted from the front moves one place (``axis=0`` is ``axis=1``), one counted
  from the back stays, and "every axis" becomes every axis but the first;
- an index gets a leading ``:`` (``x_dot[:, i]``).
Matrix products need a row of their own: ``W @ x_dot`` for a vector ``x`` is ``x_dot @ W.T``.

A primitive missing here is refused for batching (the directions then run one at a time):
``tests/optimize/test_batching.py`` walks every primitive with a tangent rule and checks
that its tangent program batches, against separate directions and finite differences.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

from ..abstract.table import evaluate
from ..abstract.values import Kind as ValueKind
from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Carry, Const, Form, Loop, LoopKind, Primitive
from .batching import BatchRule, Writer


def _pointwise(prim: Primitive) -> bool:
    return (prim.elementwise or prim.form.operator) and prim is not P.matmul


def broadcasting(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """Elementwise: a batched operand of lower rank than the result gets unit axes."""
    if s.prim.family == "math":  # a function of Python floats: one number at a time
        return per_direction(w, s, flags)
    out = w.rank(s.target)
    args = [w.leading(a, out - w.rank(a)) if b else a for a, b in zip(s.args, flags)]
    w.apply(s.prim, *args, target=s.target, **dict(s.params))
    return None


def _shift(axis: Any, rank: int) -> Any:
    """An axis of one direction's value as an axis of the batched value."""
    if axis is None:
        return 1 if rank == 1 else tuple(range(1, rank + 1))
    if isinstance(axis, tuple):
        return tuple(_shift(a, rank) for a in axis)
    return axis + 1 if axis >= 0 else axis


def along(*names: str, none_is_all: bool = True):
    """A reduction or scan whose axis parameters (``axis``, ``axis1``...) are shifted."""

    def rule(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
        if not flags[0] or any(flags[1:]):
            w.refuse(f"`{s.prim.name}` with a batched argument other than the first")
        rank = w.rank(s.args[0])
        params = dict(s.params)
        for name in names:
            axis = params.get(name, dict(s.prim.defaults).get(name))
            if axis is None and not none_is_all:
                if rank != 1:  # np.cumsum(x): over the flattened array
                    w.refuse(f"`{s.prim.name}` over a flattened array of rank {rank}")
                axis = 0
            params[name] = _shift(axis, rank)
        w.apply(s.prim, *s.args, target=s.target, **params)
        return None

    return rule


def _first_only(w: Writer, s: Assign, flags: tuple[bool, ...]) -> None:
    if not flags[0] or any(flags[1:]):
        w.refuse(f"`{s.prim.name}` with a batched argument other than the first")


def _constant(w: Writer, a: Atom, what: str) -> Any:
    if not isinstance(a, Const):
        w.refuse(f"{what} known only when the program runs")
    return a.value  # type: ignore[union-attr]


def _matmul(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """``a @ b`` with one batched operand; NumPy's stacking rules decide what works as is."""
    a, b = s.args
    ra, rb = w.rank(a), w.rank(b)
    if s.prim is P.np_dot and (min(ra, rb) == 0 or max(ra, rb) > 2):
        w.refuse("`np.dot` of these ranks")
    if ra == 0 or rb == 0 or all(flags):
        w.refuse(f"`{s.prim.name}` of these operands")
    if flags[0] and (rb <= 2 or ra >= rb):  # (d, ..., m, n) @ b stacks over d
        w.apply(P.matmul, a, b, target=s.target)
    elif flags[1] and rb >= 2 and (ra <= 2 or rb >= ra):  # a @ (d, ..., n, k)
        w.apply(P.matmul, a, b, target=s.target)
    elif flags[1] and rb == 1 and ra <= 2:  # a @ v for each row v of b: b @ a.T
        w.apply(P.matmul, b, a if ra == 1 else w.transposed(a), target=s.target)
    else:
        w.refuse(f"`{s.prim.name}` of a rank-{ra} and a rank-{rb} operand")
    return None


def _transpose(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """Axes reversed (or permuted) behind the direction axis, which stays first."""
    _first_only(w, s, flags)
    rank = w.rank(s.args[0])
    axes = s.param("axes") if s.prim is P.np_transpose else None
    order = tuple(range(rank - 1, -1, -1)) if axes is None else tuple(axes)
    if any(a < 0 for a in order):
        order = tuple(a % rank for a in order)
    w.apply(P.np_transpose, s.args[0], target=s.target, axes=(0, *(a + 1 for a in order)))
    return None


def _swapaxes(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    _first_only(w, s, flags)
    rank = w.rank(s.args[0])
    a1, a2 = (_constant(w, a, "the axes of np.swapaxes") for a in s.args[1:])
    w.apply(
        P.np_swapaxes, s.args[0], Const(_shift(a1, rank)), Const(_shift(a2, rank)), target=s.target
    )
    return None


def _expand_dims(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    _first_only(w, s, flags)
    axis = _constant(w, s.args[1], "the axis of np.expand_dims")
    out = w.rank(s.target)  # negative axes count in the result, which has one axis more too
    w.apply(P.np_expand_dims, s.args[0], Const(_shift(axis, out)), target=s.target)
    return None


def _reshape(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """The shape gets the direction axis in front: ``np.reshape(x_dot, (-1, *shape))``."""
    _first_only(w, s, flags)
    shape = s.args[1]
    if isinstance(shape, Const):
        value = shape.value
        dims = (value,) if isinstance(value, int) else tuple(value)
        if -1 in dims:
            w.refuse("np.reshape with a -1 in the shape")
        w.apply(P.np_reshape, s.args[0], Const((-1, *dims)), target=s.target)
        return None
    if w.value(shape).items is None:
        w.refuse("np.reshape to a shape that is not a tuple")
    full = w.apply(P.add, w.directions(s.args[0]), shape)
    w.apply(P.np_reshape, s.args[0], full, target=s.target)
    return None


def _ravel(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    _first_only(w, s, flags)
    if w.rank(s.args[0]) == 1:
        return s.args[0]
    if w.rank(s.args[0]) == 0:
        w.refuse("np.ravel of a scalar")
    shape = w.apply(P.add, w.directions(s.args[0]), Const((-1,)))
    w.apply(P.np_reshape, s.args[0], shape, target=s.target)
    return None


def _broadcast_to(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """``np.broadcast_to(x_dot, shape)``: aligned first, then the direction axis in front."""
    _first_only(w, s, flags)
    out = w.rank(s.target)
    x = w.leading(s.args[0], out - w.rank(s.args[0]))
    shape = s.args[1]
    if isinstance(shape, Const) and isinstance(shape.value, int):
        shape = Const((shape.value,))
    full = w.apply(P.add, w.directions(x), shape)
    w.apply(P.np_broadcast_to, x, full, target=s.target)
    return None


def _getitem(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """``x_dot[:, index]``; two array indices apart (``x[i, :, j]``) are refused: NumPy
    would move their axes in front of the direction axis."""
    if any(flags[1:]):
        w.refuse("an index computed from a tangent")
    if w.value(s.args[0]).kind in (ValueKind.TUPLE, ValueKind.LIST):
        w.apply(s.prim, *s.args, target=s.target, **dict(s.params))  # an item: batched itself
        return None
    layout = tuple(s.param("index", ()))
    items = [item for item in layout if item[0] != "tuple"]
    arrays = [
        i
        for i, item in enumerate(items)
        if item[0] == "at" and w.value(s.args[1 + item[1]]).rank not in (0,)
    ]
    if arrays and arrays[-1] - arrays[0] + 1 != len(arrays):
        w.refuse("indexing with array indices apart")
    layout = (("tuple",), ("slice", None, None, None), *items)
    w.apply(P.getitem, *s.args, target=s.target, index=layout)
    return None


def _index_grad(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """``index_grad(g_dot, x, index)`` (``g_dot`` scattered into zeros like ``x``): zeros
    with the direction axis, ``g_dot`` added at ``[:, index]``."""
    _first_only(w, s, flags)
    g, x, *idx = s.args
    if w.value(x).kind is not ValueKind.ARRAY:
        w.refuse("the adjoint of an index into a tuple")
    layout = tuple(s.param("index", ()))
    region = evaluate(
        Assign(s.target, P.getitem, (x, *idx), (("index", layout),), s.loc),
        (w.value(x), *(w.value(i) for i in idx)),
    )
    if region.rank is None or region.rank != w.rank(g):  # g broadcast over the region
        w.refuse("an adjoint broadcast over its index")
    items = [item for item in layout if item[0] != "tuple"]
    shape = w.apply(P.add, w.directions(g), w.apply(P.np_shape, x))
    zeros = w.apply(P.np_zeros, shape)
    batched = (("tuple",), ("slice", None, None, None), *items)
    w.apply(P.index_add, zeros, g, *idx, target=s.target, index=batched)
    return None


def _same(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """The identity on a tangent's values (``float(x_dot)``, a copy): the batched value."""
    _first_only(w, s, flags)
    if s.prim is P.b_float:
        return s.args[0]
    w.apply(s.prim, *s.args, target=s.target, **dict(s.params))
    return None


def _container(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """A tuple of values, some batched: each item keeps its own layout."""
    w.apply(s.prim, *s.args, target=s.target, **dict(s.params))
    return None


def _joined(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """``np.concatenate``/``np.stack`` of batched and unbatched values: every operand made
    batched with the same number of directions, the axis shifted."""
    rank = w.rank(s.args[0])
    first = next(a for a, f in zip(s.args, flags) if f)
    args = [
        a if f else w.apply(P.np_broadcast_to, a, w.apply(P.add, w.directions(first), w.apply(P.np_shape, a)))
        for a, f in zip(s.args, flags)
    ]  # fmt: skip
    params = dict(s.params)
    params["axis"] = _shift(params.get("axis", 0), rank + (s.prim is P.np_stack))
    if params["axis"] is None or isinstance(params["axis"], tuple):
        w.refuse(f"`{s.prim.name}` of flattened arrays")
    w.apply(s.prim, *args, target=s.target, **params)
    return None


def _where(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    return broadcasting(w, s, flags)


def _zeros_like(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    w.apply(s.prim, *s.args, target=s.target, **dict(s.params))
    return None


def per_direction(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """Any operation, one direction at a time inside the one pass, the results stacked:

        results = []
        for k in range(len(x_dot)):
            results.append(np.tile(x_dot[k], 2))
        y_dot = np.stack(results)

    Correct for every primitive whose result is an array or a number (each direction gets
    exactly the unbatched operation); a tuple or list result is refused (its items would be
    stacked into one array). The rows above write the common operations without the loop.
    """
    kind = w.value(s.target).kind
    numeric = kind in _NUMBERS or _pointwise(s.prim)
    if not numeric and (
        kind is not ValueKind.UNKNOWN or s.prim in _PIECES or s.prim.form in _PACKS
    ):
        w.refuse(f"`{s.prim.name}`, whose result is a {kind.value},")
    for a, f in zip(s.args, flags):
        held = w.value(a).kind
        if f and held not in _NUMBERS and not (held is ValueKind.UNKNOWN and _pointwise(s.prim)):
            w.refuse(f"`{s.prim.name}` of a {held.value}")  # a tuple's len is not d
    first = next(a for a, f in zip(s.args, flags) if f)
    count = w.apply(P.b_len, first)
    start = w.apply(P.make_list)
    k, acc, grown, out = w.fresh(), w.fresh(), w.fresh(), w.fresh()
    body: list[Any] = []
    inner = Writer(w.types, w.loc, w.fresh, body)
    args = [
        inner.apply(P.getitem, a, k, index=(("at", 0),)) if f else a for a, f in zip(s.args, flags)
    ]
    item = inner.apply(s.prim, *args, **dict(s.params))
    inner.apply(P.list_append, acc, item, target=grown)
    loop = Loop(
        LoopKind.RANGE, (Const(0), count), k, (Carry(acc, start, grown, out),), tuple(body),
        loc=w.loc,
    )  # fmt: skip
    w.stmts.append(loop)
    w.apply(P.np_stack_list, out, target=s.target)
    return None


# results that are tuples or lists of arrays (the analysis may not say so): never stacked
_PIECES = frozenset(
    {P.np_split, P.np_array_split, P.np_hsplit, P.np_vsplit, P.np_dsplit, P.la_eigh,
     P.la_slogdet, P.la_svd, P.unstack, P.zeros_like_list, P.add_lists}
)  # fmt: skip
_PACKS = (Form.TUPLE, Form.LIST, Form.LISTCALL)
_NUMBERS = (ValueKind.ARRAY, ValueKind.NP_SCALAR, ValueKind.FLOAT)


def _split(axis: int | None) -> BatchRule:
    """``np.split`` and kin: the pieces of the batched value, split one axis further on
    (``np.hsplit`` splits a vector's only axis, a matrix's second)."""

    def rule(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
        _first_only(w, s, flags)
        rank = w.rank(s.args[0])
        where = s.param("axis", 0) if axis is None else (axis if rank > 1 or axis != 1 else 0)
        sections = s.param("indices_or_sections")
        w.apply(
            s.prim if axis is None else P.np_split, s.args[0], target=s.target, indices_or_sections=sections,
            axis=_shift(where, rank),
        )  # fmt: skip
        return None

    return rule


def _stack_list(w: Writer, s: Assign, flags: tuple[bool, ...]) -> Atom | None:
    """``np.stack(xs)`` of a list of batched items (``np.array(xs)`` is ``axis=0``)."""
    axis = s.param("axis", 0) if s.prim is P.np_stack_list else 0
    w.apply(P.np_stack_list, s.args[0], target=s.target, axis=axis + 1 if axis >= 0 else axis)
    return None


def _table() -> Mapping[Primitive, BatchRule]:
    rows: dict[Primitive, BatchRule] = {
        prim: broadcasting for prim in P.ALL.values() if _pointwise(prim)
    }
    rows.update(
        {
            P.np_where: _where,
            P.matmul: _matmul,
            P.np_matmul: _matmul,
            P.np_dot: _matmul,
            P.np_sum: along("axis"),
            P.np_mean: along("axis"),
            P.np_average: along("axis"),
            P.np_cumsum: along("axis", none_is_all=False),
            P.np_diff: along("axis"),
            P.np_trace: along("axis1", "axis2"),
            P.np_diagonal: along("axis1", "axis2"),
            P.np_transpose: _transpose,
            P.T_attr: _transpose,
            P.np_swapaxes: _swapaxes,
            P.np_expand_dims: _expand_dims,
            P.np_reshape: _reshape,
            P.np_ravel: _ravel,
            P.np_broadcast_to: _broadcast_to,
            P.getitem: _getitem,
            P.index_grad: _index_grad,
            P.b_float: _same,
            P.np_copy: _same,
            P.make_tuple: _container,
            P.tuple_item: _container,
            P.np_concatenate: _joined,
            P.np_stack: _joined,
            P.np_zeros_like: _zeros_like,
            P.np_split: _split(None),
            P.np_array_split: _split(None),
            P.np_vsplit: _split(0),
            P.np_hsplit: _split(1),
            P.np_dsplit: _split(2),
            P.make_list: _container,
            P.list_append: _container,
            P.sum_list: _container,
            P.np_stack_list: _stack_list,
            P.np_array_list: _stack_list,
        }
    )
    return MappingProxyType(rows)


BATCH_RULES: Mapping[Primitive, BatchRule] = _table()


def rule_for(prim: Primitive) -> BatchRule:
    """The row of ``prim``, or the loop over directions (``per_direction``)."""
    return BATCH_RULES.get(prim, per_direction)
