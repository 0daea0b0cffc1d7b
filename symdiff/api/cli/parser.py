"""The ``symdiff`` argument parser and ``main``, which turns what a command raises into its
exit status: 2 for an error in the input, 3 for a bug in symdiff."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Any, Callable, Sequence

from ...errors import InternalError, SymdiffError
from ...version import __version__
from .commands import cmd_check, cmd_emit, cmd_graph, cmd_show
from .demo import cmd_demo
from .regenerate import cmd_regenerate
from .targets import EMIT_NAME, EXAMPLE_PREFIX


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
    generic = argparse.ArgumentParser(add_help=False)
    generic.add_argument(
        "--generic", action="store_true",
        help=f"the shape-generic program, for arguments of any type and shape (default: "
        f"specialised to the types of the file's {EXAMPLE_PREFIX}<FUNC>() arguments, "
        "where it has one)",
    )  # fmt: skip
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
            "symdiff show examples/dense_layer.py:loss --generic   # for any shapes",
            "symdiff show examples/mlp.py:loss --backend jax",
        ),
        cmd_show, options, generic,
    )  # fmt: skip
    p.add_argument("target", metavar="FILE.py:FUNC", help=target)
    p.add_argument("--value", action="store_true", help="show <name>_value_and_grad instead")
    p.add_argument("--kind", metavar="KINDS",
                   help="grad (default), jvp, vjp, jacobian, hessian or hvp: the program(s) "
                   "that derivative runs, as its .source shows them")  # fmt: skip
    p.add_argument("--backend", metavar="LIBRARY",
                   help="the array library to write the gradient for: numpy (default), "
                   "array-api, jax, torch, dask or cupy (docs/backends.md)")  # fmt: skip

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
        "\nending in /, or one without an extension); without -o the module is printed."
        f"\nFunctions with an {EXAMPLE_PREFIX}<FUNC>() are written for the types of its "
        "arguments\n(--generic: for any).",
        cmd_emit, options, generic,
    )  # fmt: skip
    p.add_argument("targets", nargs="+", metavar="FILE.py:FUNC", help=target)
    p.add_argument("-o", "--output", metavar="DIR_OR_FILE", help="a .py file or a folder")
    p.add_argument("--lang", choices=("python", "c"), default="python",
                   help="c: a C99 header and source per function, for the sizes of its "
                   "example_<FUNC>() arguments, into the folder -o names (docs/c.md)")  # fmt: skip
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
        cmd_check, options, generic,
    )  # fmt: skip
    p.add_argument("targets", nargs="+", metavar="FILE.py:FUNC", help=target)

    p = command(
        "demo", "differentiate, check and time every bundled example",
        _examples("symdiff demo", "symdiff demo --simplify", "symdiff demo path/to/my_examples"),
        cmd_demo, generic,
    )  # fmt: skip
    p.add_argument("folder", nargs="?", default="examples",
                   help="a folder of example files (default: ./examples)")  # fmt: skip
    p.add_argument("--simplify", action="store_true",
                   help="simplify each gradient with SymPy (simplify=True) before timing it")  # fmt: skip

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
    p.add_argument("--shapes", action="store_true",
                   help="also draw the shape bookkeeping (np.shape, np.size, ...), hidden "
                   "by default")  # fmt: skip

    p = command(
        "regenerate", "rewrite generated/ from examples/ (or check it is current)",
        _examples("symdiff regenerate", "symdiff regenerate --check   # exit 1 if out of date"),
        cmd_regenerate, generic,
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
