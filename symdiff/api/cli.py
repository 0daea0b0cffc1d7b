"""The ``symdiff`` command: show, emit, check and draw gradients of functions in files.

Functions are named ``FILE.py:FUNC``. A file can declare, by three module-level names, what
the commands need beyond the function itself (see docs/cli.md):

- ``example_<FUNC>()`` returns a tuple of arguments to call ``FUNC`` with (``check``, ``demo``);
  a bare ``FILE.py`` means every function that has one;
- ``WRT = {"FUNC": ("W", "b")}`` gives the default ``wrt`` of each function (else argument 0);
- ``<FUNC>_hand_grad`` is a hand-written gradient, returning what ``grad(FUNC, wrt=...)``
  returns, which ``demo`` compares and times against the generated one.

Exit status: 0 success, 1 a gradient check failed (or ``regenerate --check`` found drift),
2 an error in the input (printed as symdiff's located message), 3 a bug in symdiff.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import inspect
import math
import os
import re
import sys
import textwrap
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import GradientCheckError, InternalError, SymdiffError
from ..pipeline import Transformed
from ..version import __version__
from .blame import call_user, raising_loc, user_error
from .cache import cached_transform
from .check import ArgReport, CheckReport, check_grad
from .gradient import grad
from .wrt import Wrt

EXAMPLE_PREFIX = "example_"
HAND_SUFFIX = "_hand_grad"
WRT_NAME = "WRT"
EMIT_NAME = "EMIT"  # {function name: kinds of derivative}: what a whole file's module holds
TIMING_SECONDS = 0.02  # per timed run; three runs per function keep the demo short


class CommandError(SymdiffError):
    """A command line names something that does not exist or breaks a convention."""


# ----------------------------------------------------------------------------- user modules


@dataclass
class Target:
    """One function named on the command line, with what its module declares about it."""

    module: Any
    path: str
    func: Callable[..., Any]
    name: str
    wrt: Wrt

    @property
    def label(self) -> str:
        return f"{os.path.splitext(os.path.basename(self.path))[0]}.{self.name}"

    def example(self) -> tuple:
        maker = getattr(self.module, EXAMPLE_PREFIX + self.name, None)
        if maker is None:
            raise CommandError(
                f"{self.path} has no example inputs for {self.name}",
                hint=f"define {EXAMPLE_PREFIX}{self.name}() returning a tuple of arguments",
            )
        args = _run_user(maker, f"{EXAMPLE_PREFIX}{self.name}()")
        if not isinstance(args, (tuple, list)):
            raise CommandError(
                f"{EXAMPLE_PREFIX}{self.name}() returned a {type(args).__name__}, "
                "not a tuple of arguments",
                hint="return a tuple, e.g. `return (W, x)`, or `return (x,)` for one argument",
            )
        return tuple(args)

    def hand_grad(self) -> Callable[..., Any] | None:
        return getattr(self.module, self.name + HAND_SUFFIX, None)


def _run_user(fn: Callable[..., Any], what: str, *args: Any) -> Any:
    """Run the user's code (an example, a hand-written gradient): what it raises is theirs."""
    return call_user(fn, what, *args)


_modules: dict[tuple[str, int], Any] = {}


def load_module(path: str) -> Any:
    """Execute a Python file as a module (its ``__main__`` block does not run)."""
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise CommandError(f"no such file: {path}")
    key = (full, os.stat(full).st_mtime_ns)
    if key in _modules:
        return _modules[key]
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(full))[0])
    name = f"_symdiff_user_{stem}"
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise CommandError(f"{path} is not a Python file", hint="name a .py file")
    module = importlib.util.module_from_spec(spec)
    saved_path = list(sys.path)
    sys.path.insert(0, os.path.dirname(full))  # so that it can import its neighbours
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        raise user_error(exc, f"importing {path}", raising_loc(exc, {full})) from exc
    finally:
        sys.path[:] = saved_path
    _modules[key] = module
    return module


def module_targets(module: Any) -> list[str]:
    """Functions of a module that have example inputs, in the order of the file."""
    found = []
    for name, obj in vars(module).items():
        if name.startswith(EXAMPLE_PREFIX) or not inspect.isfunction(obj):
            continue
        if obj.__module__ == module.__name__ and callable(
            getattr(module, EXAMPLE_PREFIX + name, None)
        ):
            found.append((obj.__code__.co_firstlineno, name))
    return [name for _, name in sorted(found)]


def parse_wrt(text: str | None) -> Wrt | None:
    """``"W,b"`` → ``("W", "b")``; ``"x"`` → ``"x"``; digits are positions."""
    if text is None:
        return None
    items: list[int | str] = [int(p) if p.strip().lstrip("-").isdigit() else p.strip()
                              for p in text.split(",") if p.strip()]  # fmt: skip
    if not items:
        raise CommandError("--wrt is empty", hint="e.g. --wrt W,b")
    return items[0] if len(items) == 1 else tuple(items)


def resolve(spec: str, wrt: Wrt | None = None, need_one: bool = False) -> list[Target]:
    """``FILE.py:FUNC`` (one function) or ``FILE.py`` (every function with example inputs)."""
    path, _, name = spec.rpartition(":")
    if _whole_file(spec):
        path, name = spec, ""
    module = load_module(path)
    if name:
        names = [name]
    else:
        names = module_targets(module)
        if not names:
            raise CommandError(
                f"{path} has no function with example inputs, so name one",
                hint=f"write {path}:FUNC, or define {EXAMPLE_PREFIX}FUNC() in the file",
            )
        if need_one and len(names) > 1:
            raise CommandError(
                f"{path} has several functions ({', '.join(names)}): name one",
                hint=f"write {path}:{names[0]}",
            )
    declared = getattr(module, WRT_NAME, {})
    if not isinstance(declared, dict):
        raise CommandError(f"{WRT_NAME} in {path} must be a dict from function name to wrt")
    targets = []
    for n in names:
        func = getattr(module, n, None)
        if func is None or not callable(func):
            defined = module_targets(module) or sorted(
                k for k, v in vars(module).items() if inspect.isfunction(v)
            )
            raise CommandError(
                f"{path} defines no function {n!r}",
                hint=f"functions: {', '.join(defined) or 'none'}",
            )
        w = wrt if wrt is not None else declared.get(n, 0)
        if isinstance(w, list):
            w = tuple(w)
        targets.append(Target(module, path, func, n, w))
    return targets


def _whole_file(spec: str) -> bool:
    path, sep, name = spec.rpartition(":")
    return not sep or not name.isidentifier()


def resolve_all(specs: Sequence[str], wrt: Wrt | None) -> list[Target]:
    """The targets of several specs, each function once."""
    seen: dict[tuple[str, str], Target] = {}
    for spec in specs:
        for t in resolve(spec, wrt):
            seen.setdefault((os.path.abspath(t.path), t.name), t)
    return list(seen.values())


# ----------------------------------------------------------------------------- commands


def cmd_show(args: argparse.Namespace) -> int:
    from .export import derivative

    targets = resolve(args.target, parse_wrt(args.wrt))
    kinds = _kinds(args.kind or "grad")
    for i, (t, kind) in enumerate((t, k) for t in targets for k in kinds):
        if i:
            print()
        if kind != "grad":  # the derivative object's own generated program(s)
            print(derivative(t.func, kind, t.wrt).source.rstrip("\n"))
            continue
        tr = cached_transform(t.func, t.wrt, args.simplify)
        print(tr.value_and_grad_source if args.value else tr.grad_source, end="")
    return 0


def _kinds(text: str) -> list[str]:
    from .export import KINDS

    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise CommandError(
            f"--kind {text!r}: no derivative called {(unknown or [''])[0]!r}",
            hint=f"a comma-separated list of {', '.join(KINDS)}",
        )
    return kinds


def cmd_emit(args: argparse.Namespace) -> int:
    from .export import derivative, emit

    wrt = parse_wrt(args.wrt)
    targets = resolve_all(args.targets, wrt)
    names = [t.name for t in targets]
    plain: Wrt | dict[str, Wrt]
    if args.kind is None and wrt is None and all(_whole_file(s) for s in args.targets):
        objs = [o for spec in args.targets for o in file_derivatives(spec)]
        plain = {t.name: t.wrt for t in targets}
    else:
        kinds = _kinds(args.kind or "grad")
        objs = [derivative(t.func, k, t.wrt) for t in targets for k in kinds]
        plain = {t.name: t.wrt for t in targets} if "grad" in kinds else {}
    if len(set(names)) != len(names):  # one name in two files: one wrt for all
        plain = targets[0].wrt
    text = emit(*objs, wrt=plain, simplify=args.simplify)
    if args.output is None:
        print(text, end="")
        return 0
    stem = os.path.splitext(os.path.basename(targets[0].path))[0]
    out = output_path(args.output, f"{stem}_grad.py")
    _write(out, text)
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


def _write(path: str, text: str) -> None:
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)


def run_check(t: Target, simplify: bool = False) -> tuple[CheckReport, Transformed, tuple]:
    """Check symdiff's gradient and, when the file has one, the hand-written gradient too,
    both against finite differences with ``check_grad``'s tolerances: the report holds one
    row per argument for each (the hand-written rows named ``<FUNC>_hand_grad: <arg>``), so
    a wrong hand-written gradient fails the check exactly as a wrong generated one would."""
    args = t.example()
    tr = cached_transform(t.func, t.wrt, simplify)
    report = check_grad(t.func, *args, wrt=t.wrt, raise_on_failure=False)
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
        return _run_user(lambda: hand(*args, **kwargs), f"{label}()")

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
        report, tr, inputs = run_check(t, args.simplify)
        if i:
            print()
        print(f"{t.path}:{t.name}\n{report}")
        diff = _hand_difference(t, tr, inputs)
        if diff is not None:
            print(f"hand-written {t.name}{HAND_SUFFIX}: max abs difference {diff:.2e}")
        print("verdict: ok" if report.ok else "verdict: FAIL")
        failed += not report.ok
    return 1 if failed else 0


def _hand_difference(t: Target, tr: Transformed, inputs: tuple) -> float | None:
    """The largest difference between the generated and the hand-written gradient (inf when
    their shapes differ): shown beside the check, which is what decides the verdict."""
    hand = t.hand_grad()
    if hand is None:
        return None
    mine = tr.grad(*inputs)
    theirs = _run_user(hand, f"{t.name}{HAND_SUFFIX}()", *inputs)
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
    from .graph import graph_of, render

    (t,) = resolve(args.target, parse_wrt(args.wrt), need_one=True)
    g = graph_of(t.func, t.wrt, args.simplify)
    if args.output is None:
        print(g.dot, end="")
        return 0
    ext = os.path.splitext(args.output)[1].lower().lstrip(".")
    if ext in ("dot", "gv", ""):
        _write(args.output, g.dot)
    else:
        data = render(g.dot, ext)
        with open(args.output, "wb") as fh:
            fh.write(data)
    print(f"wrote {args.output}")
    return 0


# ----------------------------------------------------------------------------- regenerate


def file_derivatives(path: str) -> list[Any]:
    """What the module of a whole example file holds: the gradient of every function with
    example inputs, then what the file's ``EMIT`` dict asks for (``{"loss": ["hessian"]}``)."""
    from .export import KINDS, derivative

    targets = resolve(path)
    module = targets[0].module
    wanted = getattr(module, EMIT_NAME, {})
    declared = getattr(module, WRT_NAME, {})
    if not isinstance(wanted, dict):
        raise CommandError(f"{EMIT_NAME} in {path} must be a dict from function name to kinds")
    objs: list[Any] = [t.func for t in targets]
    for name, kinds in wanted.items():
        func = getattr(module, name, None)
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        bad = [k for k in kinds if k not in KINDS]
        if not callable(func) or bad:
            raise CommandError(
                f"{EMIT_NAME} in {path} asks for {name!r}: "
                + (f"no derivative called {bad[0]!r}" if bad else "no such function"),
                hint=f"kinds: {', '.join(KINDS)}",
            )
        w = declared.get(name, 0)
        w = tuple(w) if isinstance(w, list) else w
        already = name in {t.name for t in targets}
        for k in kinds:
            if k != "grad":
                objs.append(derivative(func, k, w))
            elif not already:  # a gradient object carries its wrt, as the others do
                objs.append(grad(func, wrt=w))
    return objs


def file_wrt(path: str) -> dict[str, Wrt]:
    return {t.name: t.wrt for t in resolve(path)}


def regenerate(examples: str) -> dict[str, str]:
    """File name → text of the standalone module of every example that has targets."""
    from .export import emit

    texts = {}
    for path in example_files(examples):
        text = emit(*file_derivatives(path), wrt=file_wrt(path))
        texts[os.path.splitext(os.path.basename(path))[0] + "_grad.py"] = text
    return texts


def example_files(folder: str) -> list[str]:
    if not os.path.isdir(folder):
        raise CommandError(
            f"no examples folder at {folder} (paths are relative to the current directory)",
            hint="run from the root of the symdiff repository, where examples/ is, "
            "or pass the folder",
        )
    names = sorted(
        n for n in os.listdir(folder) if n.endswith(".py") and not n.startswith(("_", "."))
    )
    files = []
    for n in names:
        path = os.path.join(folder, n)
        if module_targets(load_module(path)):
            files.append(path)
    return files


REFRESH = "symdiff regenerate"


def cmd_regenerate(args: argparse.Namespace) -> int:
    texts = regenerate(args.examples)
    stale = sorted(
        n
        for n in (os.listdir(args.out) if os.path.isdir(args.out) else [])
        if n.endswith("_grad.py") and n not in texts
    )
    if args.check:
        drift = []
        for name, text in texts.items():
            path = os.path.join(args.out, name)
            current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
            if current != text:
                drift.append(name if current is not None else f"{name} (missing)")
        drift += [f"{n} (no example produces it)" for n in stale]
        if drift:
            print(f"out of date in {args.out}: " + ", ".join(drift))
            print(f"refresh with: {REFRESH}")
            return 1
        print(f"{len(texts)} generated modules are up to date")
        return 0
    for name, text in texts.items():
        _write(os.path.join(args.out, name), text)
    for n in stale:
        os.remove(os.path.join(args.out, n))
    print(
        f"wrote {len(texts)} modules to {args.out}" + (f", removed {len(stale)}" if stale else "")
    )
    return 0


# ----------------------------------------------------------------------------- demo


def best_time(fn: Callable[[], Any]) -> float:
    """Seconds per call: calls are batched to ``TIMING_SECONDS``, best of three batches."""
    fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= TIMING_SECONDS or n >= 1 << 20:
            break
        n *= 2 if elapsed == 0 else max(2, min(10, int(TIMING_SECONDS / elapsed) + 1))
    best = elapsed
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - start)
    return best / n


def _us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f} us"


def _section(title: str, body: str) -> str:
    return f"{title}\n{textwrap.indent(body.rstrip(), '    ')}\n"


def cmd_demo(args: argparse.Namespace) -> int:
    folder = args.folder
    files = example_files(folder)
    targets = [t for f in files for t in resolve(f)]
    if not targets:
        raise CommandError(f"no examples with example inputs in {folder}")
    rows = []
    width = len(str(len(targets)))
    for i, t in enumerate(targets, 1):
        print(f"[{i:>{width}}/{len(targets)}] {t.label} ...", flush=True)
        row = {"example": t.label, "check": "error", "rel": "-", "gen": None, "hand": None}
        rows.append(row)
        try:
            demo_one(t, row)
        except SymdiffError as exc:
            print(textwrap.indent(f"error: {exc}", "    ") + "\n")
        except Exception as exc:  # a bug: report it, and go on with the other examples
            if getattr(args, "debug", False):
                traceback.print_exc()
            print(f"    error (a bug in symdiff): {type(exc).__name__}: {exc}\n")
    print(summary_table(rows))
    failed = [str(r["example"]) for r in rows if r["check"] != "ok"]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
        return 1
    print(f"all {len(rows)} gradients agree with finite differences")
    return 0


def demo_one(t: Target, row: dict) -> None:
    """Source, generated gradient, check table and timing of one example; fills ``row``."""
    report, tr, inputs = run_check(t)
    helpers = "".join(h.text + "\n" for h in tr.helpers)
    print(_section(f"source ({tr.source.file}):", helpers + tr.source.text))
    print(_section("generated gradient:", tr.grad_source))
    print(_section("finite-difference check:", report.table()))
    own = [a for a in report.args if not a.name.startswith(f"{t.name}{HAND_SUFFIX}: ")]
    row["check"] = "ok" if report.ok else "FAIL" if not all(a.ok for a in own) else "FAIL (hand)"
    row["rel"] = f"{max((a.max_rel_error for a in own), default=0.0):.1e}"
    row["gen"] = best_time(lambda: tr.grad(*inputs))
    hand = t.hand_grad()
    if hand is None:
        lines = [f"generated {_us(row['gen'])} per call (no {t.name}{HAND_SUFFIX} to compare)"]
    else:
        diff = _hand_difference(t, tr, inputs)
        row["hand"] = best_time(lambda: hand(*inputs))
        lines = [
            f"max abs difference from {t.name}{HAND_SUFFIX}: {diff:.1e}",
            f"generated {_us(row['gen'])} per call, hand-written {_us(row['hand'])} "
            f"(ratio {row['gen'] / row['hand']:.2f})",
        ]
    print(_section("timing:", "\n".join(lines)))


def summary_table(rows: list[dict]) -> str:
    head = ("example", "check", "max rel error", "generated", "hand-written", "gen/hand")
    table = [head]
    for r in rows:
        ratio = f"{r['gen'] / r['hand']:.2f}" if r["gen"] and r["hand"] else "-"
        table.append((r["example"], r["check"], r["rel"], _us(r["gen"]), _us(r["hand"]), ratio))
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "summary\n" + "\n".join(lines)


# ----------------------------------------------------------------------------- parser


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {ln}" for ln in lines)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS,
        help="show the Python traceback of errors",
    )  # fmt: skip
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--wrt", help="arguments to differentiate, e.g. W,b (default: the "
                         "file's WRT dict, else the first argument)")  # fmt: skip
    options.add_argument("--simplify", action="store_true", help="simplify the gradient")
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="symdiff",
        description="Differentiate Python functions by reading their source.",
        epilog=_examples(
            "symdiff show examples/dense_layer.py:loss --wrt W,b",
            "symdiff check examples/dense_layer.py",
            "symdiff emit examples/dense_layer.py -o generated/",
            "symdiff graph examples/dense_layer.py:loss -o loss.svg",
            "symdiff demo",
        )
        + "\n\nexit status: 0 ok, 1 a gradient check failed, 2 an error in the input, "
        "3 a bug in symdiff",
        formatter_class=raw,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"symdiff {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, helptext: str, epilog: str, run: Callable, *parents: Any) -> Any:
        p = sub.add_parser(
            name, help=helptext, description=helptext, epilog=epilog, formatter_class=raw,
            parents=[common, *parents],
        )  # fmt: skip
        p.set_defaults(run=run)
        return p

    target = "FILE.py:FUNC, or FILE.py for every function with an example_<FUNC>()"
    p = command(
        "show", "print the generated gradient source",
        _examples(
            "symdiff show examples/dense_layer.py:loss",
            "symdiff show examples/activations.py:sigmoid_sum --simplify",
            "symdiff show examples/mlp.py:loss --wrt W1,b1 --value",
            "symdiff show examples/newton_step.py:loss --wrt w --kind hvp",
        ),
        cmd_show, options,
    )  # fmt: skip
    p.add_argument("target", metavar="FILE.py:FUNC", help=target)
    p.add_argument("--value", action="store_true", help="show <name>_value_and_grad instead")
    p.add_argument("--kind", metavar="KINDS",
                   help="grad (default), jvp, vjp, jacobian, hessian or hvp: the program(s) "
                   "that derivative runs, as its .source shows them")  # fmt: skip

    p = command(
        "emit", "write a standalone module (needs only NumPy) with the gradients",
        _examples(
            "symdiff emit examples/dense_layer.py:loss -o dense_grad.py",
            "symdiff emit examples/dense_layer.py -o generated/   # every example function",
            "symdiff emit a.py:f b.py:g --wrt 0         # one module, wrt=0 for both",
            "symdiff emit examples/newton_step.py:loss --wrt w --kind grad,hessian",
        )
        + "\n\n-o FILE writes FILE (a name ending in .py, an existing file, or any name with an"
        "\nextension); -o DIR writes DIR/<first file>_grad.py (an existing folder, a name"
        "\nending in /, or one without an extension); without -o the module is printed.",
        cmd_emit, options,
    )  # fmt: skip
    p.add_argument("targets", nargs="+", metavar="FILE.py:FUNC", help=target)
    p.add_argument("-o", "--output", metavar="DIR_OR_FILE", help="a .py file or a folder")
    p.add_argument("--kind", metavar="KINDS",
                   help="what to write for each function, comma-separated: grad, jvp, vjp, "
                   "jacobian, hessian, hvp (default: grad, and for a whole file also what "
                   f"its {EMIT_NAME} dict asks for)")  # fmt: skip

    p = command(
        "check", "compare gradients with finite differences on the example inputs",
        _examples(
            "symdiff check examples/dense_layer.py:loss",
            "symdiff check examples/*.py",
        )
        + f"\n\nInputs come from {EXAMPLE_PREFIX}<FUNC>() in the same file; exit 1 on failure.",
        cmd_check, options,
    )  # fmt: skip
    p.add_argument("targets", nargs="+", metavar="FILE.py:FUNC", help=target)

    p = command(
        "demo", "differentiate, check and time every bundled example",
        _examples("symdiff demo", "symdiff demo path/to/my_examples"),
        cmd_demo,
    )  # fmt: skip
    p.add_argument("folder", nargs="?", default="examples",
                   help="a folder of example files (default: ./examples)")  # fmt: skip

    p = command(
        "graph", "draw the computational graph and its backward flow (Graphviz)",
        _examples(
            "symdiff graph examples/dense_layer.py:loss > loss.dot",
            "symdiff graph examples/dense_layer.py:loss -o loss.svg   # needs Graphviz `dot`",
        ),
        cmd_graph, options,
    )  # fmt: skip
    p.add_argument("target", metavar="FILE.py:FUNC", help="the function to draw")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="FILE.dot, or .svg/.png/.pdf rendered with dot")  # fmt: skip

    p = command(
        "regenerate", "rewrite generated/ from examples/ (or check it is current)",
        _examples("symdiff regenerate", "symdiff regenerate --check   # exit 1 if out of date"),
        cmd_regenerate,
    )  # fmt: skip
    p.add_argument("--examples", default="examples", help="folder of examples (./examples)")
    p.add_argument("--out", default="generated", help="folder of modules (./generated)")
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except SymdiffError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except InternalError as exc:
        if debug:
            traceback.print_exc()
        print(str(exc), file=sys.stderr)
        return 3
    except BrokenPipeError:  # the reader went away, as in `symdiff show ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
