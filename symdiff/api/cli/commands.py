"""The commands that show, emit, check and draw the derivatives of the functions named."""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from typing import Any

import numpy as np

from ...errors import GradientCheckError
from ...pipeline import Transformed
from ..cache import cached_transform
from ..check import ArgReport, CheckReport, check_grad
from ..gradient import grad
from ..wrt import Wrt
from .targets import (
    HAND_SUFFIX,
    CommandError,
    Target,
    example_args,
    file_derivatives,
    parse_wrt,
    resolve,
    resolve_all,
    run_user,
    whole_file,
)


def cmd_show(args: argparse.Namespace) -> int:
    from ..export import derivative

    targets = resolve(args.target, parse_wrt(args.wrt))
    kinds = parse_kinds(args.kind or "grad")
    for i, (t, kind) in enumerate((t, k) for t in targets for k in kinds):
        if i:
            print()
        example = None if args.generic else t.example_or_none()
        if kind != "grad":  # the derivative object's own generated program(s)
            if args.backend:
                raise CommandError(
                    f"--backend writes gradients only; --kind {kind} is written for NumPy",
                    hint="leave out --kind, or --backend",
                )
            d = derivative(t.func, kind, t.wrt)
            print((d.generic_source if example is None else d.specialise(*example).source).rstrip())
            continue
        if args.backend:  # the shape-generic program, written for that library
            tr = cached_transform(t.func, t.wrt, args.simplify, backend=args.backend)
        else:
            tr = gradient_for(t, args.simplify, example)
        print(tr.value_and_grad_source if args.value else tr.grad_source, end="")
    return 0


def gradient_for(t: Target, simplify: bool, example: tuple | None) -> Transformed:
    """The gradient program of a target: specialised to its example's types when given."""
    if example is None:
        return cached_transform(t.func, t.wrt, simplify)
    return grad(t.func, wrt=t.wrt, simplify=simplify).specialise(*example).latest


def parse_kinds(text: str) -> list[str]:
    from ..export import KINDS

    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise CommandError(
            f"--kind {text!r}: no derivative called {(unknown or [''])[0]!r}",
            hint=f"a comma-separated list of {', '.join(KINDS)}",
        )
    return kinds


def cmd_emit(args: argparse.Namespace) -> int:
    from ..export import derivative, emit

    wrt = parse_wrt(args.wrt)
    targets = resolve_all(args.targets, wrt)
    if getattr(args, "lang", "python") == "c":
        from ..c import emit_targets

        if args.kind not in (None, "grad") or args.simplify:
            raise CommandError(
                "--lang c writes gradients as they are: no --kind other than grad, no --simplify",
                hint="drop those options, or emit Python for the other kinds",
            )

        for line in emit_targets(targets, args.output):
            print(line)
        return 0
    names = [t.name for t in targets]
    plain: Wrt | dict[str, Wrt]
    if args.kind is None and wrt is None and all(whole_file(s) for s in args.targets):
        objs = [o for spec in args.targets for o in file_derivatives(spec)]
        plain = {t.name: t.wrt for t in targets}
    else:
        kinds = parse_kinds(args.kind or "grad")
        objs = [derivative(t.func, k, t.wrt) for t in targets for k in kinds]
        plain = {t.name: t.wrt for t in targets} if "grad" in kinds else {}
    if len(set(names)) != len(names):  # one name in two files: one wrt for all
        plain = targets[0].wrt
    whole = [s for s in args.targets if whole_file(s)]
    examples = example_args(targets, args.generic, whole)
    text = emit(*objs, wrt=plain, simplify=args.simplify, args=examples)
    if args.output is None:
        print(text, end="")
        return 0
    stem = os.path.splitext(os.path.basename(targets[0].path))[0]
    out = output_path(args.output, f"{stem}_grad.py")
    write_text(out, text)
    print(f"wrote {out} ({', '.join(names)})")
    return 0


def output_path(out: str, name: str) -> str:
    """Where ``emit -o OUT`` writes: OUT itself when it names a file (ends in ``.py``, is an
    existing file, or has an extension and is no existing folder), else ``OUT/name`` (an
    existing folder, a path ending in a separator, a name without an extension)."""
    if os.path.isdir(out) or out.endswith((os.sep, "/")):
        return os.path.join(out, name)
    if out.endswith(".py") or os.path.isfile(out) or os.path.splitext(out)[1]:
        return out
    return os.path.join(out, name)


def write_text(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def run_check(
    t: Target, simplify: bool = False, generic: bool = False
) -> tuple[CheckReport, Transformed, tuple]:
    """Check symdiff's gradient and, when the file has one, the hand-written gradient too,
    both against finite differences with ``check_grad``'s tolerances: the report holds one
    row per argument for each (the hand-written rows named ``<FUNC>_hand_grad: <arg>``), so
    a wrong hand-written gradient fails the check exactly as a wrong generated one would.
    The gradient checked is the one printed and timed: specialised to the example's types,
    or with ``generic`` the shape-generic one."""
    args = t.example()
    g = grad(t.func, wrt=t.wrt, simplify=simplify)
    if generic:
        g.specialising = False
    else:
        g.specialise(*args)
    tr = g.latest
    report = check_grad(t.func, *args, wrt=t.wrt, grad_fn=g, raise_on_failure=False)
    hand = hand_report(t, args)
    if hand is not None:
        report = CheckReport(report.function, report.args + hand, report.rtol, report.atol)
    return report, tr, args


def hand_report(t: Target, inputs: tuple) -> tuple[ArgReport, ...] | None:
    """The rows of the hand-written gradient's check, or None when the file has none."""
    hand = t.hand_grad()
    if hand is None:
        return None
    label = f"{t.name}{HAND_SUFFIX}"

    def call(*args: Any, **kwargs: Any) -> Any:
        return run_user(lambda: hand(*args, **kwargs), f"{label}()")

    try:
        report = check_grad(t.func, *inputs, wrt=t.wrt, grad_fn=call, raise_on_failure=False)
    except GradientCheckError as exc:  # the wrong shape or number of gradients: a failure
        why = exc.message.replace("the gradient", "its gradient")
        return (ArgReport(f"{label}: {why}", (), "", math.inf, math.inf, 0, False),)
    return tuple(dataclasses.replace(a, name=f"{label}: {a.name}") for a in report.args)


def cmd_check(args: argparse.Namespace) -> int:
    failed = 0
    targets = resolve_all(args.targets, parse_wrt(args.wrt))
    for i, t in enumerate(targets):
        report, tr, inputs = run_check(t, args.simplify, args.generic)
        if i:
            print()
        print(f"{t.path}:{t.name}\n{report}")
        diff = hand_difference(t, tr, inputs)
        if diff is not None:
            print(f"hand-written {t.name}{HAND_SUFFIX}: max abs difference {diff:.2e}")
        print("verdict: ok" if report.ok else "verdict: FAIL")
        failed += not report.ok
    return 1 if failed else 0


def hand_difference(t: Target, tr: Transformed, inputs: tuple) -> float | None:
    """The largest difference between the generated and the hand-written gradient (inf when
    their shapes differ): shown beside the check, which is what decides the verdict."""
    hand = t.hand_grad()
    if hand is None:
        return None
    mine = tr.grad(*inputs)
    theirs = run_user(hand, f"{t.name}{HAND_SUFFIX}()", *inputs)
    if not tr.single:
        if not isinstance(theirs, (tuple, list)) or len(theirs) != len(mine):
            return math.inf
        pairs = list(zip(mine, theirs))
    else:
        pairs = [(mine, theirs)]
    worst = 0.0
    for a, b in pairs:
        try:
            a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        except (TypeError, ValueError):
            return math.inf
        if a.shape != b.shape:
            return math.inf
        worst = max(worst, float(np.max(np.abs(a - b), initial=0.0)))
    return worst


def cmd_graph(args: argparse.Namespace) -> int:
    from ..graph import graph_of

    (t,) = resolve(args.target, parse_wrt(args.wrt), need_one=True)
    g = graph_of(t.func, t.wrt, args.simplify, args.shapes)
    if args.output is None:
        print(g.dot, end="")
        return 0
    ext = os.path.splitext(args.output)[1].lower().lstrip(".")
    if ext in ("dot", "gv", ""):
        write_text(args.output, g.dot)
    else:
        data = g.render(ext)
        with open(args.output, "wb") as fh:
            fh.write(data)
    print(f"wrote {args.output}")
    return 0
