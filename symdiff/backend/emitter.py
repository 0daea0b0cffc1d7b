"""Emit: a gradient program as the Python source of its two generated functions.

The work is done in three steps, one module each: ``plan`` decides what each function
computes and under which names (pruning, shapes, storage, in-place updates, folding),
``printer`` turns the IR into fresh ``ast`` statements with the comment quoting the source
line each one differentiates (``comments`` says which line that is), and this driver puts
a function around them: the signature, the docstring, the value check and the return.
``module_names`` binds every module-level name the code reads (``np``, helpers, the user's
constants) under a name no local shadows. ``Emitted`` also carries, per function, the
``Loc`` of every statement: ``line_locations`` turns that into a map from the lines of the
generated (and formatted) text back to the user's lines.
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

from .. import naming
from ..ad.program import GradProgram
from ..errors import Loc
from ..ir.nodes import Const, Loop, Var, defined_by
from ..naming import is_internal
from ..version import __version__
from .comments import line_locations
from .module_names import Globals
from .plan import Plan, walk
from .printer import Printer
from .targets import NUMPY, Backend

__all__ = ["Emitted", "Globals", "emit", "line_locations", "local_names", "subject"]

# per kind of program (GradProgram.kind): the two functions' names and titles, and what d_v is
_KINDS = {
    "grad": (naming.GRAD_FN, naming.VALUE_AND_GRAD_FN, "Gradient", "Value and gradient",
             "d_v holds the derivative of the result with respect to v."),
    "grad_fwd": (naming.GRAD_FN, naming.VALUE_AND_GRAD_FN, "Gradient", "Value and gradient",
                 "Computed in forward mode (one pass, no tape): v_dot holds the derivative of v "
                 "with respect to {wrt}."),
    "jvp": ("{}_tangent", "{}_jvp", "Tangent (Jacobian-vector product)", "Value and tangent",
            "v_dot holds the derivative of v along the direction given for {wrt}."),
    "hvp": ("{}_hvp", "{}_grad_and_hvp", "Hessian-vector product", "Gradient and Hessian-vector product",
            "The tangent program of the gradient: u_dot holds the derivative of u along v, the "
            "direction given for {wrt} (d_u_dot: of the adjoint d_u), and the result is H·v."),
    "vjp": ("{}_vjp", "{}_value_and_vjp", "Vector-Jacobian product",
            "Value and vector-Jacobian product",
            "d_v holds the derivative of the result, weighted by the given cotangent, with "
            "respect to v."),
}  # fmt: skip
_DOC_WIDTH = 84
BATCHED_NOTE = (
    " Batched: each tangent has a leading axis of directions (x_dot[k] is the tangent along "
    "direction k), so one call pushes every direction."
)
# kinds whose forward sweep carries the derivative: every forward statement is commented
_FORWARD_KINDS = ("jvp", "hvp", "grad_fwd")


@dataclass
class Emitted:
    """Source text of the generated functions and the objects their module-level names denote."""

    grad_name: str
    vg_name: str
    grad_source: str
    vg_source: str
    bindings: dict[str, Any] = field(default_factory=dict)
    helpers: list[str] = field(default_factory=list)  # names of runtime helpers used
    # per function, the Loc of each statement in source order: see comments.line_locations
    grad_locations: tuple[Loc | None, ...] = ()
    vg_locations: tuple[Loc | None, ...] = ()


def function_source(
    prog: GradProgram,
    g: Globals,
    which: str,
    name: str,
    origin: str,
    specialised: tuple[str, ...] = (),
) -> tuple[str, tuple[Loc | None, ...]]:
    """One generated function (``which`` is "grad" or "value_and_grad") and the Loc of each
    of its statements in source order, its docstring first. ``specialised`` is the abstract
    signature the program was written for, one ``name: type`` per argument (see ``emit``)."""
    if g.backend.from_arguments:  # chosen before the locals, so none of them takes it
        g.namespace_local = g.gen.fresh(g.backend.alias)
    plan = Plan(prog, set(g.gen.taken), which)
    g.locals_seen |= set(plan.names.values())
    p = Printer(plan, g)
    body: list[ast.stmt] = []
    if g.backend.from_arguments:
        body.append(_namespace_statement(prog, g))
    body += p.attach(p.block(plan.forward, prog.kind in _FORWARD_KINDS, {}), ["# forward pass"])
    value = p.x.atom(prog.value) if plan.needs_value else None
    if not prog.scalar_value:  # then the value is computed in both functions
        assert value is not None
        check = ast.Call(
            g.dotted("ensure_scalar"), [copy.deepcopy(value), ast.Constant(prog.name)], []
        )
        body.append(ast.Expr(check))
    body += p.attach(p.block(plan.backward, True, {}), ["# backward pass"])
    grads: list[ast.expr] = []
    for v, a in zip(prog.wrt, prog.grads):
        if a is None:
            grads.append(ast.Call(g.dotted("np.zeros_like"), [ast.Name(v.name)], []))
        else:
            grads.append(p.x.atom(a))
    tupled = len(grads) > 1 or prog.tuple_result
    result: ast.expr = ast.Tuple(grads) if tupled else grads[0]
    kind = _KINDS[prog.kind]
    if which == "grad":
        title = kind[2]
    else:
        assert value is not None
        result, title = ast.Tuple([value, result]), kind[3]
    body.append(p.returns(result))
    wrt = ", ".join(v.name for v in prog.wrt)
    para = textwrap.fill(
        f"Generated by symdiff {__version__} from {origin}. "
        + kind[4].format(wrt=wrt)
        + (BATCHED_NOTE if prog.batched else ""),
        _DOC_WIDTH,
    )
    doc = f"{title} of `{subject(prog)}` with respect to {wrt}.\n\n{para}\n"
    if specialised:
        doc += "\n" + specialised_paragraph(specialised) + "\n"
    signature = prog.signature or tuple(v.name for v in prog.params)
    args = _arguments(signature, dict(prog.defaults), lambda v: g.const(Const(v)))
    head = ast.FunctionDef(name, args, [ast.Expr(ast.Constant(_indented(doc)))], [], None)
    ast.fix_missing_locations(head)  # unparse reads line numbers of a def
    text = "\n".join([ast.unparse(head), *p.render(body, 1)]) + "\n"
    return text, (None, *p.locations(body))


def _namespace_statement(prog: GradProgram, g: Globals) -> ast.stmt:
    """``xp = array_namespace(W, x, b)``: the array library of the arguments, at call time
    (``backend.targets.portable.array_namespace``: the arrays among them decide)."""
    from .targets import portable

    call = ast.Call(
        ast.Name(g.name("array_namespace", portable.array_namespace)),
        [ast.Name(v.name) for v in prog.params],
        [],
    )
    return ast.Assign([ast.Name(g.namespace_local, ast.Store())], call)


def specialised_paragraph(signature: tuple[str, ...]) -> str:
    """The docstring's note of the argument types a specialised program is written for.

    A reader must know that the code is not for every argument (a float accumulator starts
    at ``0.0``, an ``unbroadcast`` is gone because the shapes agree), so the note lists each
    argument's type; it wraps between arguments, never inside ``ndarray[float64, (n, 3)]``."""
    lengths = " ".join(signature)
    legend = []
    if re.search(r"[(, ]n[,)]", lengths):
        legend.append("n in a shape: any length other than 1")
    if "?" in lengths:
        legend.append("?: any length")
    words = ["Specialised", "for"] + [f"{s}," for s in signature[:-1]] + [signature[-1]]
    if legend:
        words += f"({'; '.join(legend)})".split(" ")
    words[-1] += "."
    lines: list[str] = []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= _DOC_WIDTH:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return "\n".join(lines)


def _indented(doc: str) -> str:
    """A docstring's text as it stands in a function body: lines after the first indented."""
    first, _, rest = doc.partition("\n")
    return first + "\n" + textwrap.indent(rest, "    ") + "    "


def _arguments(
    signature: tuple[str, ...], defaults: dict[str, Any], const: Callable[[Any], ast.expr]
) -> ast.arguments:
    """The parameter list: names with ``/`` and ``*`` markers, and their default values."""
    posonly: list[ast.arg] = []
    positional: list[ast.arg] = []
    kwonly: list[ast.arg] = []
    pos_defaults: list[ast.expr] = []
    kw_defaults: list[ast.expr | None] = []
    bucket = posonly if "/" in signature else positional
    for n in signature:
        if n == "/":
            bucket = positional
        elif n == "*":
            bucket = kwonly
        else:
            bucket.append(ast.arg(n))
            default = const(defaults[n]) if n in defaults else None
            if bucket is kwonly:
                kw_defaults.append(default)
            elif default is not None:
                pos_defaults.append(default)
    return ast.arguments(posonly, positional, None, kwonly, kw_defaults, None, pos_defaults)


def local_names(prog: GradProgram) -> set[str]:
    """The user's names in a program: generated names must avoid all of them."""
    names = {p.name for p in prog.params} | {prog.name}
    for s in walk(prog.forward + prog.backward):
        for v in defined_by(s) + (() if not isinstance(s, Loop) else _loop_vars(s)):
            if not is_internal(v.name):
                names.add(v.name)
    return names


def _loop_vars(s: Loop) -> tuple[Var, ...]:
    return tuple(c.var for c in s.carries) + ((s.index,) if s.index is not None else ())


def subject(prog: GradProgram) -> str:
    """The function a program is a derivative of: for a Hessian-vector product, the one whose
    generated gradient it differentiates (``loss`` for ``loss_grad``)."""
    suffix = naming.GRAD_FN.format("")
    if prog.kind == "hvp" and prog.name.endswith(suffix) and len(prog.name) > len(suffix):
        return prog.name[: -len(suffix)]
    return prog.name


def emit(
    prog: GradProgram,
    origin: str,
    g: Globals | None = None,
    specialised: tuple[str, ...] = (),
    backend: Backend = NUMPY,
) -> Emitted:
    """Both generated functions of ``prog``; ``g`` shares module-level names across several.
    ``specialised`` (one ``name: type`` per argument) says in the docstrings for which
    argument types the program was specialised; empty for the shape-generic program.
    ``backend`` is the array library written for (``g``'s, when ``g`` is given)."""
    g = g or Globals(set(), backend)
    g.gen.taken |= local_names(prog)
    grad_name, vg_name = (g.gen.fresh(k.format(subject(prog))) for k in _KINDS[prog.kind][:2])
    grad_src, grad_locs = function_source(prog, g, "grad", grad_name, origin, specialised)
    vg_src, vg_locs = function_source(prog, g, "value_and_grad", vg_name, origin, specialised)
    return Emitted(
        grad_name, vg_name, grad_src, vg_src, dict(g.bindings), list(g.helpers), grad_locs, vg_locs
    )
