"""The logarithm of a softmax, under ``simplify=True``: ``log(exp(u) / s)`` is ``u - log(s)``.

Written as ``np.log(softmax(z))``, a cross-entropy differentiates a quotient and then a
logarithm of it: the gradient divides the labels by the probabilities, multiplies by them
again, and sums a product across the vector, where a person writes ``softmax(z) - y``.
Rewriting the function before its derivative is built turns it into the log-sum-exp form
(``u - log(s)``, with ``u`` the exponent and ``s`` its normaliser), whose gradient the exact
algebra already writes as the person does (``optimize.shift`` then also sees that the max
shift inside ``u`` cancels).

The identity holds in real arithmetic, not bit for bit (the rounding of the quotient and of
its logarithm is not that of the difference), so it is ``simplify=True``'s, like SymPy's
cancellations; it is proved with SymPy (``proof_text``) and each use is listed. Only where it
cannot change a type or a shape: the same logarithm (``np.log`` or ``math.log``) of the
same family's ``exp``, divided by a value computed from that exponential (its sum, which
has the exponential's dtype). The forward value it computes is the more accurate one: it
is finite where ``exp(u)`` overflows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from ..ir import primitives as P
from ..ir.nodes import Assign, Atom, Function, Primitive, Stmt, Var, iter_assigns, used_by

# the logarithm, the exponential and the difference of each spelling
_FAMILIES = {P.np_log: (P.np_exp, P.np_subtract), P.m_log: (P.m_exp, P.sub)}
_DIVISIONS = frozenset({P.div, P.np_divide})


@dataclass(frozen=True)
class LogRewrite:
    """One logarithm of a quotient rewritten: where, and the identity that allows it."""

    line: int | None
    before: str
    after: str
    proof: str


def logs_of_softmax(fn: Function) -> tuple[Function, tuple[LogRewrite, ...]]:
    """``fn`` with each top-level ``log(exp(u) / s)`` written ``u - log(s)`` (``s`` computed
    from ``exp(u)``), and the rewrites made. The quotient's statement goes when nothing
    else reads it."""
    defs = {s.target: s for s in fn.body if isinstance(s, Assign)}
    names = {s.target.name for s in iter_assigns(fn.body)} | {p.name for p in fn.params}
    body: list[Stmt] = []
    done: list[LogRewrite] = []
    quotients: set[Atom] = set()
    for stmt in fn.body:
        match = _match(stmt, defs)
        if match is None:
            body.append(stmt)
            continue
        assert isinstance(stmt, Assign)
        u, s, sub = match
        quotients.add(stmt.args[0])
        log_s = Var(_fresh(names, "%log"))
        body.append(Assign(log_s, stmt.prim, (s,), (), stmt.loc))
        body.append(Assign(stmt.target, sub, (u, log_s), (), stmt.loc))
        line = stmt.loc.line if stmt.loc is not None else None
        done.append(LogRewrite(line, "log(exp(u) / s)", "u - log(s)", proof_text()))
    if not done:
        return fn, ()
    kept = _drop_unread(tuple(body), quotients, fn.result)
    return dataclasses.replace(fn, body=kept), tuple(done)


def _match(stmt: Stmt, defs: dict[Var, Assign]) -> tuple[Atom, Atom, Primitive] | None:
    """(u, s, the subtraction) when ``stmt`` is ``log(q)``, ``q = e / s``, ``e = exp(u)``."""
    if not isinstance(stmt, Assign) or stmt.prim not in _FAMILIES or stmt.params:
        return None
    if len(stmt.args) != 1:  # math.log(x, base)
        return None
    exp, sub = _FAMILIES[stmt.prim]
    q = defs.get(stmt.args[0]) if isinstance(stmt.args[0], Var) else None
    if q is None or q.prim not in _DIVISIONS or q.params:
        return None
    if len(q.args) != 2:
        return None
    e_var, s = q.args
    e = defs.get(e_var) if isinstance(e_var, Var) else None
    if e is None or e.prim is not exp or e.params:
        return None
    # s from the exponential (its sum): s has its dtype, so u - log(s) has the quotient's
    made_s = defs.get(s) if isinstance(s, Var) else None
    if made_s is None or e_var not in made_s.args:
        return None
    return e.args[0], s, sub


def _drop_unread(body: tuple[Stmt, ...], quotients: set[Atom], result: Atom) -> tuple[Stmt, ...]:
    """``body`` without the quotients rewritten away that nothing reads any more."""
    read = {a for s in body for a in used_by(s) if isinstance(a, Var)} | {result}
    gone = quotients - read
    return tuple(s for s in body if not (isinstance(s, Assign) and s.target in gone))


def _fresh(names: set[str], base: str) -> str:
    i = 1
    while f"{base}{i}" in names:
        i += 1
    names.add(f"{base}{i}")
    return f"{base}{i}"


@lru_cache(maxsize=1)
def proof_text() -> str:
    """The identity, proved once with SymPy (``u`` real, ``s`` positive: where the quotient's
    logarithm is real, ``s`` has the sign of ``exp(u) / s``), as the report shows it."""
    import sympy as sp  # loaded by simplify=True only

    u = sp.Symbol("u", real=True)
    s = sp.Symbol("s", positive=True)
    before, after = sp.log(sp.exp(u) / s), u - sp.log(s)
    if sp.cancel(sp.expand_log(before - after)) != 0:
        raise AssertionError("log(exp(u) / s) = u - log(s) not proved")  # never: a SymPy bug
    return "expand_log: log(exp(u)/s) - (u - log(s)) = 0 for real u, s > 0"
