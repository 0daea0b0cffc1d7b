"""Facts about an IR program that the reverse pass and the emitter rely on.

- activity: which values depend on the ``wrt`` inputs (only those get adjoints);
- scalars: which values are certainly scalars (no broadcasting to undo for them);
- liveness: which statements contribute to the results (everything else is dead code).
"""

from __future__ import annotations

from collections import Counter

from .ir import Assign, Atom, Block, Const, Function, If, Loop, Var, defined_by, used_by


def varied(fn: Function, wrt: tuple[Var, ...]) -> set[Var]:
    """Values that depend on a ``wrt`` input through differentiable operations."""
    active = set(wrt)
    changed = True
    while changed:  # loops feed values back, so iterate to a fixed point
        changed = False
        for stmt in _walk(fn.body):
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


def _walk(block: Block):
    for stmt in block:
        yield stmt
        if isinstance(stmt, If):
            yield from _walk(stmt.then)
            yield from _walk(stmt.orelse)
        elif isinstance(stmt, Loop):
            yield from _walk(stmt.body)
            yield from _walk(stmt.cond_block)


def scalars(fn: Function, known: set[Var] = frozenset()) -> set[Var]:
    """Values that are certainly Python or NumPy scalars.

    Sources: results of ``math`` functions and full reductions, arithmetic on scalars, and the
    arguments of ``math`` functions (which accept nothing else).
    """
    out = set(known)
    changed = True
    while changed:
        changed = False
        for stmt in _walk(fn.body):
            new: list[Var] = []
            if isinstance(stmt, Assign):
                if stmt.prim.name.startswith("math."):
                    new += [a for a in stmt.args if isinstance(a, Var)]
                if _scalar_result(stmt, out):
                    new.append(stmt.target)
                elif stmt.target in out and _pointwise(stmt.prim):
                    # broadcasting never lowers the rank: a scalar result had scalar inputs
                    new += [a for a in stmt.args if isinstance(a, Var)]
            elif isinstance(stmt, If):
                new += [
                    p.target
                    for p in stmt.phis
                    if is_scalar(p.then, out) and is_scalar(p.orelse, out)
                ]
            elif isinstance(stmt, Loop):
                for c in stmt.carries:
                    if is_scalar(c.init, out) and is_scalar(c.next, out | {c.var}):
                        new += [c.var, c.out]
            for v in new:
                if v not in out:
                    out.add(v)
                    changed = True
    return out


def is_scalar(a: Atom, known: set[Var]) -> bool:
    if isinstance(a, Const):
        return isinstance(a.value, (int, float, bool)) or (
            hasattr(a.value, "ndim") and a.value.ndim == 0
        )
    return a in known


def _pointwise(prim) -> bool:
    return (prim.elementwise or prim.form in ("infix", "prefix")) and prim.name != "matmul"


def _scalar_result(stmt: Assign, known: set[Var]) -> bool:
    prim = stmt.prim
    if prim.returns_scalar:
        return True
    if prim.name in ("np.sum", "np.mean", "np.max", "np.min") and stmt.param("axis") is None:
        return not stmt.param("keepdims", False)
    if _pointwise(prim):
        return all(is_scalar(a, known) for a in stmt.args)
    return False


def use_counts(blocks: list[Block], extra: tuple[Atom, ...] = ()) -> Counter:
    """How often each variable is read, nested blocks included."""
    counts: Counter = Counter()
    for block in blocks:
        for stmt in _walk(block):
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
    if isinstance(stmt, If):
        return (stmt.cond, *(p.then for p in stmt.phis), *(p.orelse for p in stmt.phis))
    return (
        *stmt.header,
        *(c.init for c in stmt.carries),
        *(c.next for c in stmt.carries),
        *((stmt.cond,) if stmt.cond is not None else ()),
    )


def prune(block: Block, live: set[Var]) -> Block:
    """Drop the statements whose results are never read; ``live`` is updated in place.

    Walks backwards so that a statement kept makes its inputs live for the ones before it.
    """
    kept: list = []
    for stmt in reversed(block):
        if isinstance(stmt, Assign):
            if stmt.target not in live:
                continue
            live.update(a for a in stmt.args if isinstance(a, Var))
            kept.append(stmt)
        else:
            if not any(v in live for v in defined_by(stmt)) and not _has_effects(stmt):
                continue
            live.update(a for a in used_by(stmt) if isinstance(a, Var))
            kept.append(stmt)
    return tuple(reversed(kept))


def _has_effects(stmt) -> bool:
    return False
