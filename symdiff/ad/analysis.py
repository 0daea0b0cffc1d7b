"""Facts about an IR program that the reverse pass and the emitter rely on.

- activity: which values depend on the ``wrt`` inputs (only those get adjoints);
- scalars: which values are certainly scalars (no broadcasting to undo for them);
- liveness: which statements contribute to the results (everything else is dead code).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Set

from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Block, Const, Effect, Function, If, Loop, Pop, Push, Var


def varied(fn: Function, wrt: tuple[Var, ...]) -> set[Var]:
    """Values that depend on a ``wrt`` input through differentiable operations."""
    active = set(wrt)
    changed = True
    while changed:  # loops feed values back, so iterate to a fixed point
        changed = False
        for stmt in walk(fn.body):
            for target, sources in _flows(stmt):
                if target not in active and any(s in active for s in sources):
                    active.add(target)
                    changed = True
    return active


def _flows(stmt):
    """(target, sources) pairs: the target's value is computed from those sources."""
    if isinstance(stmt, Assign):
        if stmt.prim.differentiable:
            yield stmt.target, [a for a in stmt.args if isinstance(a, Var)]
    elif isinstance(stmt, If):
        for p in stmt.phis:
            yield p.target, [p.then, p.orelse]
    elif isinstance(stmt, Loop):
        for c in stmt.carries:
            yield c.var, [c.init, c.next]
            yield c.out, [c.var]


def walk(block: Block):
    """Every statement of ``block``, nested blocks included, in program order."""
    for stmt in block:
        yield stmt
        if isinstance(stmt, If):
            yield from walk(stmt.then)
            yield from walk(stmt.orelse)
        elif isinstance(stmt, Loop):
            yield from walk(stmt.body)
            yield from walk(stmt.cond_block)


def scalars(fn: Function, known: Set[Var] = frozenset(), anywhere: bool = False) -> set[Var]:
    """Values that are certainly Python or NumPy scalars.

    Forward facts: results of ``math`` functions and full reductions, arithmetic on scalars.
    Backward facts (a ``math`` function's argument is a scalar; a scalar result of an
    elementwise operation had scalar inputs) hold only where the statement certainly ran, so
    they are applied only to values defined in the statement's own block. Loop state is
    assumed scalar when it starts scalar, and the assumption is dropped unless every
    iteration keeps it scalar (a greatest fixed point).
    """
    loops = [s for s in walk(fn.body) if isinstance(s, Loop)]
    assumed = {c for lp in loops for c in lp.carries}
    while True:
        out = _scalar_facts(fn, set(known), assumed, anywhere)
        kept = {c for c in assumed if is_scalar(c.init, out) and is_scalar(c.next, out)}
        if kept == assumed:
            return out
        assumed = kept


def _scalar_facts(fn: Function, out: set[Var], assumed: set, anywhere: bool = False) -> set[Var]:
    for c in assumed:
        out.update((c.var, c.out))
    shapes = {  # tuples of ints: an item of one (``X.shape[0]``) is a Python int
        s.target
        for s in walk(fn.body)
        if isinstance(s, Assign) and s.prim in (P.shape_attr, P.np_shape)
    }
    changed = True
    while changed:
        changed = False
        for stmt, local in _walk_scoped(fn.body, set(fn.params)):
            new: list[Var] = []
            if isinstance(stmt, Assign):
                if _scalar_result(stmt, out) or _item_of_shape(stmt, shapes):
                    new.append(stmt.target)
                backward = stmt.prim.family == "math" or (
                    stmt.target in out and _pointwise(stmt.prim)
                )
                if backward:
                    new += [a for a in stmt.args if isinstance(a, Var) and (anywhere or a in local)]
            elif isinstance(stmt, If):
                new += [
                    p.target
                    for p in stmt.phis
                    if is_scalar(p.then, out) and is_scalar(p.orelse, out)
                ]
            for v in new:
                if v not in out:
                    out.add(v)
                    changed = True
    return out


def _walk_scoped(block: Block, local: set[Var]):
    """(statement, variables defined in the statement's own block) pairs, nested included."""
    local = set(local)
    for stmt in block:
        local.update(_defines(stmt))
    for stmt in block:
        yield stmt, local
        if isinstance(stmt, If):
            yield from _walk_scoped(stmt.then, set())
            yield from _walk_scoped(stmt.orelse, set())
        elif isinstance(stmt, Loop):
            inner = {c.var for c in stmt.carries} | ({stmt.index} if stmt.index else set())
            yield from _walk_scoped(stmt.cond_block + stmt.body, inner)


def _defines(stmt) -> tuple[Var, ...]:
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, If):
        return tuple(p.target for p in stmt.phis)
    if isinstance(stmt, Loop):
        return tuple(c.out for c in stmt.carries)
    if isinstance(stmt, Pop):
        return stmt.targets
    return ()


def flows_from(
    block: Block, seeds: Set[Var], starts: Callable[[Assign, set[Var]], bool]
) -> set[Var]:
    """``seeds``, the targets of the assignments ``starts`` accepts (given the set so far),
    and everything a branch's phi or a loop's carry passes them on to, to a fixed point.

    One mechanism for "which values are of this sort" questions (runtime lists, values that
    carry a direction axis): they differ only in which assignments begin the sort, and must
    agree on how branches and loops carry it.
    """
    out = set(seeds)
    changed = True
    while changed:
        changed = False
        for stmt in walk(block):
            new: list[Var] = []
            if isinstance(stmt, Assign) and starts(stmt, out):
                new.append(stmt.target)
            elif isinstance(stmt, If):
                new += [p.target for p in stmt.phis if p.then in out or p.orelse in out]
            elif isinstance(stmt, Loop):
                for c in stmt.carries:
                    if c.init in out or c.next in out:
                        new += [c.var, c.out]
            for v in new:
                if v not in out:
                    out.add(v)
                    changed = True
    return out


def lists(fn: Function, makers: frozenset | None = None) -> set[Var]:
    """Values that are runtime Python lists (built by ``append`` in a loop, or by ``makers``)."""
    makers = P.LIST_MAKERS if makers is None else makers
    return flows_from(fn.body, set(), lambda stmt, _out: stmt.prim in makers)


def is_scalar(a: Atom, known: set[Var]) -> bool:
    if isinstance(a, Const):
        return isinstance(a.value, (int, float, bool)) or (
            hasattr(a.value, "ndim") and a.value.ndim == 0
        )
    return a in known


def _pointwise(prim) -> bool:
    return (prim.elementwise or prim.form.operator) and prim is not P.matmul


def _scalar_result(stmt: Assign, known: set[Var]) -> bool:
    prim = stmt.prim
    if prim.returns_scalar:
        return True
    if prim in (P.np_sum, P.np_mean, P.np_max, P.np_min) and stmt.param("axis") is None:
        return not stmt.param("keepdims", False)
    if _pointwise(prim):
        return all(is_scalar(a, known) for a in stmt.args)
    return False


def _item_of_shape(stmt: Assign, shapes: set[Var]) -> bool:
    index = stmt.param("index") if stmt.prim is P.getitem else None
    return (
        bool(stmt.args)
        and stmt.args[0] in shapes
        and isinstance(index, tuple)
        and len(index) == 1
        and index[0][0] == "at"
        and isinstance(index[0][1], int)
    )


def use_counts(blocks: list[Block], extra: tuple[Atom, ...] = ()) -> Counter:
    """How often each variable is read, nested blocks included."""
    counts: Counter = Counter()
    for block in blocks:
        for stmt in walk(block):
            for a in _reads(stmt):
                if isinstance(a, Var):
                    counts[a] += 1
    for a in extra:
        if isinstance(a, Var):
            counts[a] += 1
    return counts


def _reads(stmt):
    if isinstance(stmt, Assign):
        return stmt.args
    if isinstance(stmt, Push):
        return (stmt.tape, *stmt.values)
    if isinstance(stmt, Pop):
        return (stmt.tape,)
    if isinstance(stmt, If):
        return (stmt.cond, *(p.then for p in stmt.phis), *(p.orelse for p in stmt.phis))
    return (
        *stmt.header,
        *(c.init for c in stmt.carries),
        *(c.next for c in stmt.carries),
        *(a for a in (stmt.cond, stmt.exit) if a is not None),
    )


def prune(block: Block, live: set[Var]) -> Block:
    """Drop the statements whose results are never read; ``live`` is updated in place.

    Walks backwards so that a statement kept makes its inputs live for the ones before it.
    Tape pushes and pops are always kept (they pair up across the two sweeps), and so are
    the statements made for their effect (``print``, ``assert``).
    """
    kept: list = []
    for stmt in reversed(block):
        if isinstance(stmt, Assign):
            if stmt.target not in live and stmt.prim.effect is not Effect.OUTPUT:
                continue
            live.update(a for a in stmt.args if isinstance(a, Var))
        elif isinstance(stmt, Push):
            live.update(a for a in (stmt.tape, *stmt.values) if isinstance(a, Var))
        elif isinstance(stmt, Pop):
            live.add(stmt.tape)
        elif isinstance(stmt, If):
            branch = _prune_if(stmt, live)
            if branch is not None:
                kept.append(branch)
            continue
        else:
            loop = _prune_loop(stmt, live)
            if loop is not None:
                kept.append(loop)
            continue
        kept.append(stmt)
    return tuple(reversed(kept))


def _prune_if(stmt: If, live: set[Var]) -> If | None:
    phis = tuple(p for p in stmt.phis if p.target in live)
    then_live = set(live) | {p.then for p in phis if isinstance(p.then, Var)}
    else_live = set(live) | {p.orelse for p in phis if isinstance(p.orelse, Var)}
    then = prune(stmt.then, then_live)
    orelse = prune(stmt.orelse, else_live)
    if not phis and not then and not orelse:
        return None
    live |= then_live | else_live
    if isinstance(stmt.cond, Var):
        live.add(stmt.cond)
    return If(stmt.cond, then, orelse, phis, stmt.loc)


def _prune_loop(stmt: Loop, live: set[Var]) -> Loop | None:
    keep = {c for c in stmt.carries if c.out in live}
    while True:
        inner = set(live) | {c.next for c in keep if isinstance(c.next, Var)}
        inner |= {a for a in (stmt.cond, stmt.exit) if isinstance(a, Var)}
        body = prune(stmt.body, inner)
        cond_block = prune(stmt.cond_block, inner)
        more = {c for c in stmt.carries if c.var in inner and c not in keep}
        if not more:
            break
        keep |= more
    carries = tuple(c for c in stmt.carries if c in keep)
    if not carries and not _has_effects(body):
        return None
    live |= inner
    live.update(a for a in stmt.header if isinstance(a, Var))
    live.update(c.init for c in carries if isinstance(c.init, Var))
    return Loop(
        stmt.kind, stmt.header, stmt.index, carries, body, cond_block, stmt.cond, stmt.exit,
        stmt.loc,
    )  # fmt: skip


def _has_effects(block: Block) -> bool:
    for stmt in walk(block):
        if isinstance(stmt, (Push, Pop)):
            return True
        if isinstance(stmt, Assign) and stmt.prim.effect is Effect.OUTPUT:
            return True
    return False
