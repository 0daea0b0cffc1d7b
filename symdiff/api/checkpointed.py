"""``grad(f, checkpoint=...)``: reverse mode through a long loop in bounded memory.

The ordinary gradient keeps on its tape what every iteration of a loop computed: memory
grows as steps times state. With ``checkpoint=``, ``f`` is cut around its top-level
``for ... in range(...)`` loop (``frontend.loop_split``) into a head, a step and a tail;
each is differentiated by the ordinary pipeline, and ``runtime.revolve`` runs the loop
under Griewank and Walther's binomial schedule: a few snapshots of the loop's state are
kept, each step is recomputed from the nearest one when the backward sweep needs it, and
the step's own gradient (one iteration's tape, freed after it) turns the adjoint of the
state after the step into the adjoint of the state before it.

A step's adjoint is the gradient of ``sum(np.sum(c * g_c))`` over the carried values ``c``
after the step, ``g_c`` being their adjoints: a vector-Jacobian product written as a scalar
function, so the one reverse mode symdiff has covers it. The head's adjoint is the same
construction over the values the head hands to the loop and the tail.
"""

from __future__ import annotations

import inspect
import math
import re
from typing import Any, Callable

import numpy as np

from ..errors import InputError, UnsupportedSyntaxError
from ..frontend.loop_split import LoopPieces, fresh, function, split_at_loop
from ..frontend.source import from_source, get_source
from ..runtime.revolve import Counts, Revolve, repetitions
from .differences import compare
from .wrt import Wrt, resolve_wrt

Checkpoint = int | str
# (function, wrt, with_value) -> a gradient callable: GradientFunction, passed in by
# api.gradient so that this module does not import the module that imports it
Differentiate = Callable[[Callable[..., Any], Wrt, bool], Any]

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
}
_BUDGET = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmg]i?b|b)?\s*$", re.IGNORECASE)


def parse_checkpoint(checkpoint: Any) -> tuple[str, int]:
    """``("snapshots", s)``, ``("bytes", b)`` or ``("auto", 0)`` for a ``checkpoint=`` value:
    an int is a number of snapshots, a string with a unit (``"200MB"``, ``"1GiB"``) a memory
    budget for them, ``"auto"`` (or True) the fewest snapshots that recompute no step more
    than twice."""
    if checkpoint is True or checkpoint == "auto":
        return "auto", 0
    if isinstance(checkpoint, (int, np.integer)) and not isinstance(checkpoint, bool):
        if checkpoint < 1:
            raise InputError(
                f"checkpoint={checkpoint}: binomial checkpointing keeps at least one snapshot",
                hint='pass a number of snapshots (1 or more), a budget such as "200MB", or "auto"',
            )
        return "snapshots", int(checkpoint)
    if isinstance(checkpoint, str):
        found = _BUDGET.match(checkpoint)
        if found and found.group(2):
            size = float(found.group(1)) * _UNITS[found.group(2).lower()]
            return "bytes", int(size)
    raise InputError(
        f"checkpoint={checkpoint!r} is not a number of snapshots, a memory budget or 'auto'",
        hint='write checkpoint=100 (snapshots), checkpoint="200MB" (bytes: B, kB, MB, GB, KiB, '
        'MiB, GiB) or checkpoint="auto"',
    )


def state_bytes(state: tuple[Any, ...]) -> int:
    """The memory one snapshot of ``state`` takes: its arrays' data, 8 bytes per number."""
    return sum(int(v.nbytes) if isinstance(v, np.ndarray) else 8 for v in state)


def snapshots_for(how: tuple[str, int], steps: int, state: tuple[Any, ...]) -> int:
    """The number of snapshots for a loop of ``steps`` steps over ``state``."""
    kind, amount = how
    if kind == "snapshots":
        return amount
    if kind == "auto":  # C(s + 2, 2) >= steps: every step advanced at most twice
        s = max(1, math.isqrt(2 * steps))
        while s > 1 and repetitions(steps, s - 1) <= 2:
            s -= 1
        while repetitions(steps, s) > 2:
            s += 1
        return s
    one = max(state_bytes(state), 1)
    if amount < one:
        raise InputError(
            f"a checkpoint budget of {amount} bytes holds no snapshot of the loop's state "
            f"({one} bytes)",
            hint="give a larger budget, or a number of snapshots (checkpoint=1 is the least)",
        )
    return amount // one


def differentiable(v: Any) -> bool:
    """Whether a value has an adjoint: a float or an array of floats (integers do not)."""
    if isinstance(v, np.ndarray):
        return v.dtype.kind == "f"
    return isinstance(v, (float, np.floating))


class CheckpointedGradient:
    """What ``grad(f, checkpoint=...)`` returns: called like ``grad(f)``, same results."""

    def __init__(
        self,
        f: Callable[..., Any],
        wrt: Wrt,
        checkpoint: Checkpoint,
        with_value: bool,
        differentiate: Differentiate,
        check: bool = False,
    ):
        self.how = parse_checkpoint(checkpoint)
        self.check = check
        self.checkpoint = checkpoint
        self.wrt = wrt
        self._with_value = with_value
        self._differentiate = differentiate
        # the whole function first: what it refuses is refused here, at its own lines
        self.unchecked = differentiate(f, wrt, with_value)
        src = get_source(f)
        self.pieces: LoopPieces = split_at_loop(src)
        self._f = f
        names = list(self.pieces.params)
        self._wrt_names = {names[i] for i in resolve_wrt(names, wrt, f)[0]}
        self._signature = inspect.signature(f)
        self.__name__ = f"{src.name}_{'value_and_grad' if with_value else 'grad'}"
        self.__doc__ = (
            f"The {'value and gradient' if with_value else 'gradient'} of `{src.name}`, its "
            f"loop (line {self.pieces.loop_line}) reversed by binomial checkpointing "
            f"(checkpoint={checkpoint!r})."
        )
        namespace = {**src.globals, **src.closure}
        taken = set(namespace) | set(self.pieces.params) | set(self.pieces.before)
        self._np = "np" if namespace.get("np", np) is np else fresh("np_", taken)
        namespace[self._np] = np
        self._namespace = namespace
        self._taken = taken | {self._np}
        self.head = from_source(self.pieces.head, namespace=namespace)
        self.step = from_source(self.pieces.step, namespace=namespace)
        self.tail = from_source(self.pieces.tail, namespace=namespace)
        self._built: dict[tuple[bool, ...], tuple[Any, Any, Any]] = {}
        self._latest: tuple[bool, ...] | None = None
        self.counts = Counts()
        self.snapshots = 0

    # ------------------------------------------------------------------ the pieces' gradients

    def _dot(self, name: str, params: tuple[str, ...], lines, start, pairs) -> Callable:
        """``name(params..., g...)``: ``lines`` then the sum of ``np.sum(v * g_v)``."""
        terms = " + ".join(f"{self._np}.sum({v} * {g})" for v, g in pairs) or "0.0"
        text = function(name, params + tuple(g for _, g in pairs), list(lines), start,
                        [f"return {terms}"])  # fmt: skip
        return from_source(text, namespace=self._namespace)

    def _programs(self, active: tuple[bool, ...]) -> tuple[Any, Any, Any]:
        """The tail's value and gradient, the step's reverse and the head's reverse, for
        this pattern of which values before the loop have adjoints (floats do, ints not)."""
        built = self._built.get(active)
        if built is not None:
            return built
        p = self.pieces
        is_active = dict(zip(p.before, active))
        adjoint = {v: fresh(f"g_{v}", self._taken) for v in p.before}
        tail_wrt = tuple(v for v in p.carried + p.epilogue if is_active[v])
        tail = self._differentiate(self.tail, tail_wrt, True) if tail_wrt else None
        step_dot = self._dot(
            f"{self._f.__name__}_step_dot",
            (p.index, *p.carried, *p.invariant),
            p.body_lines,
            p.body_start,
            [(c, adjoint[c]) for c in p.carried if is_active[c]],
        )
        step_wrt = tuple(v for v in p.carried + p.invariant if is_active[v])
        step = self._differentiate(step_dot, step_wrt, False) if step_wrt else None
        head_dot = self._dot(
            f"{self._f.__name__}_head_dot",
            p.params,
            p.head_lines,
            p.head_start,
            [(v, adjoint[v]) for v in p.before if is_active[v]],
        )
        head = self._differentiate(head_dot, self.wrt, False)
        built = self._built[active] = (tail, step, head)
        return built

    # ------------------------------------------------------------------ a call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self._run(args, kwargs)
        if self.check:
            self.check = False  # once, on the first call's inputs, as grad(check=True) does
            compare(self._f, args, kwargs, wrt=self.wrt, grad_fn=self._grads)
        return out

    def _grads(self, *args: Any, **kwargs: Any) -> Any:
        out = self._run(args, kwargs)
        return out[1] if self._with_value else out

    def _run(self, args: tuple, kwargs: dict) -> Any:
        p = self.pieces
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        params = tuple(bound.arguments[name] for name in p.params)
        out = self.head(*params)
        steps = out[0]
        before = dict(zip(p.before, out[1:]))
        if not isinstance(steps, range):
            raise UnsupportedSyntaxError(f"the loop's range is {type(steps).__name__}")
        # a parameter outside wrt has no adjoint, unless the loop carries it: after one step
        # it may depend on wrt (u = u * x); a value the head computes may have one
        active = tuple(
            differentiable(before[v])
            and (v in self._wrt_names or v not in p.params or v in p.carried)
            for v in p.before
        )
        self._latest = active
        tail, step_grad, head = self._programs(active)
        is_active = dict(zip(p.before, active))
        invariants = tuple(before[v] for v in p.invariant)
        epilogue = tuple(before[v] for v in p.epilogue)
        state = tuple(before[c] for c in p.carried)
        n = len(steps)
        self.snapshots = min(snapshots_for(self.how, n, state), max(n, 1))
        schedule = Revolve(n, self.snapshots, in_place=p.in_place)
        step = self.step

        def advance(j: int, s: tuple) -> tuple:
            return step(steps[j], *s, *invariants)

        final = schedule.forward(state, advance)
        for c, start, end in zip(p.carried, state, final):
            if differentiable(end) and not is_active[c]:
                raise InputError(
                    f"`{c}` enters the checkpointed loop as {type(start).__name__} and "
                    f"leaves it as {type(end).__name__}: the snapshots' adjoints are decided "
                    "by the values before the loop",
                    hint=f"give `{c}` a float value before the loop (`{c} = 0.0`, "
                    f"`{c} = np.zeros(...)`)",
                )
        tail_wrt = [v for v in p.carried + p.epilogue if is_active[v]]
        if tail is None:
            value, tail_grads = self.tail(*final, *epilogue), ()
        else:
            value, tail_grads = tail(*final, *epilogue)
        from_tail: dict[str, Any] = dict(zip(tail_wrt, tail_grads))
        sums: dict[str, Any] = {v: from_tail[v] for v in p.epilogue if v in from_tail}
        step_inv = [v for v in p.invariant if is_active[v]]
        step_car = [c for c in p.carried if is_active[c]]

        def reverse(j: int, s: tuple, adj: tuple) -> tuple:
            grads = step_grad(steps[j], *s, *invariants, *adj)
            for v, g in zip(step_inv, grads[len(step_car) :]):
                sums[v] = g if v not in sums else sums[v] + g
            return tuple(grads[: len(step_car)])

        adjoints = tuple(from_tail[c] for c in step_car)
        if step_grad is not None and step_car:
            adjoints = schedule.backward(adjoints, advance, reverse)
        self.counts = schedule.counts
        for c, g in zip(step_car, adjoints):
            sums[c] = g
        seeds = [
            sums[v] if v in sums else np.zeros_like(before[v], dtype=float)
            for v in p.before
            if is_active[v]
        ]
        grads = head(*params, *seeds)
        return (value, grads) if self._with_value else grads

    # ------------------------------------------------------------------ reading it

    @property
    def source(self) -> str:
        """The pieces and their generated gradients: the step's is one iteration's reverse,
        which ``runtime.revolve`` calls once per step, from the state a snapshot gives."""
        p = self.pieces
        active = self._latest or tuple(
            v in self._wrt_names or v not in p.params or v in p.carried for v in p.before
        )
        tail, step, head = self._programs(active)
        parts = [
            f"# {self.__doc__}",
            self.pieces.head.strip(),
            self.pieces.step.strip(),
            self.pieces.tail.strip(),
        ]
        parts += [g.source for g in (tail, step, head) if g is not None]
        return "\n\n\n".join(parts) + "\n"

    def __repr__(self) -> str:
        return f"<checkpointed {self.__name__} (checkpoint={self.checkpoint!r})>"
