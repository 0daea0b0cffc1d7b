"""``symdiff regenerate``: the standalone module of every example file, written to (or compared
with) the generated folder, so that committed modules cannot drift from the examples.
"""

from __future__ import annotations

import argparse
import os

from .commands import write_text
from .targets import example_args, example_files, file_derivatives, file_wrt, resolve


def regenerate(examples: str, generic: bool = False) -> dict[str, str]:
    """File name → text of the standalone module of every example that has targets, each
    function specialised to its example's argument types (``generic``: for any)."""
    from ..export import emit

    texts = {}
    for path in example_files(examples):
        args = example_args(resolve(path), generic, [path])
        text = emit(*file_derivatives(path), wrt=file_wrt(path), args=args)
        texts[os.path.splitext(os.path.basename(path))[0] + "_grad.py"] = text
    return texts


REFRESH = "symdiff regenerate"


def cmd_regenerate(args: argparse.Namespace) -> int:
    texts = regenerate(args.examples, args.generic)
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
        write_text(os.path.join(args.out, name), text)
    for n in stale:
        os.remove(os.path.join(args.out, n))
    print(
        f"wrote {len(texts)} modules to {args.out}" + (f", removed {len(stale)}" if stale else "")
    )
    return 0
