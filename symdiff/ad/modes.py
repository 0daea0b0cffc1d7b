"""Which pass builds which derivative program: the one place reverse and forward mode meet.

``reverse`` cannot run a generated gradient's tapes backwards, so a program with tapes is
differentiated in one forward pass instead; a vector-Jacobian product is reverse mode with a
cotangent parameter; a Hessian-vector product is the tangent program of a generated
gradient. Deciding that here keeps ``reverse`` and ``forward`` independent of each other.

Which mode a gradient is cheaper in is decided here too (``cheaper_gradient``): reverse mode
costs one backward pass however many inputs there are, but a loop makes it keep a tape of
every step and walk it back; forward mode costs one pass per input and keeps nothing. So the
gradient of a function of one scalar with a loop in it is computed in forward mode; without a
loop the two do the same arithmetic and reverse mode's program, the adjoint a person writes,
stays; with several inputs forward mode would need a pass for each.
"""

from __future__ import annotations

import dataclasses

from ..ir.nodes import Function, Loop, Var
from ..naming import is_internal
from .analysis import walk
from .forward import extra_params, gradient_program, has_tapes, jvp_program
from .program import GradProgram, Kind
from .reverse import reverse


def derivative_program(fn: Function, wrt: tuple[Var, ...], kind: Kind | str) -> GradProgram:
    """The program of ``kind`` for ``fn`` with respect to ``wrt``.

    ``"grad"`` is the gradient (forward mode when ``fn`` has tapes: see ``gradient_program``),
    ``"jvp"`` the tangent program, ``"hvp"`` the tangent program of a generated gradient
    (its direction is called ``v``), ``"vjp"`` the reverse sweep seeded with a cotangent
    parameter named after the result.
    """
    kind = Kind(kind)
    if kind is Kind.GRAD:
        if has_tapes(fn):  # a generated gradient with loops: its tapes are not run backwards
            return gradient_program(fn, wrt, None)
        return reverse(fn, wrt)
    if kind is Kind.GRAD_FWD:
        return gradient_program(fn, wrt, None)
    if kind is Kind.JVP:
        return jvp_program(fn, wrt)
    if kind is Kind.HVP:
        return jvp_program(fn, wrt, ["v"] if len(wrt) == 1 else None, kind=Kind.HVP)
    if kind is Kind.VJP:
        result = fn.result
        out = result.name if isinstance(result, Var) and not is_internal(result.name) else "out"
        (cotangent,), signature = extra_params(fn, [f"d_{out}"])
        if has_tapes(fn):  # refused: a cotangent would need the tapes run backwards
            return gradient_program(fn, wrt, cotangent)
        prog = reverse(fn, wrt, seed=cotangent)
        return dataclasses.replace(
            prog,
            params=prog.params + (cotangent,),
            signature=signature,
            scalar_value=True,  # any shape: the cotangent has the result's
            kind=Kind.VJP,
        )
    raise ValueError(f"no derivative program of kind {kind!r}")  # pragma: no cover


def cheaper_gradient(fn: Function, scalar_wrt: tuple[bool, ...]) -> Kind:
    """``Kind.GRAD_FWD`` when ``fn``'s gradient is cheaper in forward mode, else
    ``Kind.GRAD``: one input, a scalar at this call (``scalar_wrt`` says, per input), and a
    loop, whose tape reverse mode would keep (see the module's docstring)."""
    if scalar_wrt != (True,) or not any(isinstance(s, Loop) for s in walk(fn.body)):
        return Kind.GRAD
    return Kind.GRAD_FWD
