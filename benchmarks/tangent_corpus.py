"""Run Tangent's own corpus of test functions through symdiff, against finite differences.

Tangent (google/tangent) keeps its test functions in ``tests/functions.py``; neither its
registry package (``tangent``) nor its fork's (``tangent-ad``) ships that file, so this
script reads it from a checkout of the repository, fetched at run time (``git clone``) or
given with ``--functions``. The corpus imports ``tangent`` itself, so the fork's package is
installed, for this run only, into a temporary directory. Nothing of the corpus is kept in
this project.

Each function is called with inputs following the corpus's own conventions (scalars named
``a``, ``b``, ``c``; an integer ``n``; a vector ``x``; the shapes Tangent's tests use for
the others) and differentiated with respect to every float argument. The table says:

- ``passed``: symdiff's gradient agrees with central differences (``symdiff.check_grad``)
  at every input tried;
- ``refused``: symdiff raised a ``SymdiffError`` when building or calling the gradient
  (the reason is its first line);
- ``failed``: a wrong gradient, or any other exception;
- ``out of scope``: written against Tangent's runtime (``tangent.push``/``pop`` stacks,
  ``tangent.trace``, ``insert_grad_of``) or TensorFlow, not NumPy; or raising by itself
  on every input tried (``cart2polar`` calls ``np.arctan(b, a)``, whose second argument
  is ``out``; Tangent's own tests skip it).

    python benchmarks/tangent_corpus.py                 # clones google/tangent
    python benchmarks/tangent_corpus.py --functions path/to/tangent/tests/functions.py
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

import symdiff
from symdiff.errors import SymdiffError

REPOSITORY = "https://github.com/google/tangent"
# names in a function's source that tie it to Tangent's runtime or to TensorFlow
RUNTIME = ("tangent", "insert_grad_of", "tf", "tfe")
# a spread of signs and magnitudes, as Tangent tries, away from the thresholds its
# functions branch on (0.1 in while_big: finite differences straddle the jump there)
SCALARS = (-1.5, -0.5, 0.3, 0.7, 2.0)


def corpus_file(given: str | None, workdir: Path) -> Path:
    """The corpus: the file given, or ``tests/functions.py`` of a fresh shallow clone."""
    if given:
        return Path(given)
    checkout = workdir / "tangent"
    subprocess.run(["git", "clone", "-q", "--depth", "1", REPOSITORY, str(checkout)], check=True)
    return checkout / "tests" / "functions.py"


def install_runtime(workdir: Path) -> None:
    """Tangent's package, which the corpus imports, installed for this run only."""
    target = workdir / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(target), "tangent-ad"],
        check=True,
    )
    sys.path.insert(0, str(target))


def load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location("tangent_corpus_functions", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def out_of_scope(tree: ast.FunctionDef) -> str | None:
    """Why a function is outside symdiff's subset by construction, or None."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    decorators = {ast.unparse(d) for d in tree.decorator_list}
    if names & {"tf", "tfe"}:
        return "TensorFlow"
    if names & set(RUNTIME) or decorators:
        return "Tangent's runtime"
    return None


def inputs(
    params: list[str], rng: np.random.Generator, vectors: bool = False
) -> list[tuple[list[Any], tuple]]:
    """Argument lists for a function with these parameters, and the float positions
    (the wrt); empty when the names follow no convention the corpus documents. With
    ``vectors``, ``a``, ``b`` and ``c`` are vectors (for the few functions that iterate
    over an ``a``)."""
    shapes = {
        ("input", "label", "W", "b"): [(3,), (5,), (3, 5), (5,)],
        ("inputs", "W"): [(3, 2), (2, 3)],
        ("x", "h", "U", "W", "b"): [(1, 3), (1, 3), (3, 3), (3, 3), (1, 3)],
    }
    if tuple(params) in shapes:
        args = [rng.normal(size=s) for s in shapes[tuple(params)]]
        if params[1] == "label":
            args[1] = np.eye(5)[1]
            return [(args, (0, 2, 3))]
        return [(args, tuple(range(len(args))))]
    cases = []
    for k, s in enumerate(SCALARS):
        args: list[Any] = []
        wrt = []
        for i, p in enumerate(params):
            if p in ("a", "b", "c"):
                scalar = SCALARS[(k + "abc".index(p)) % len(SCALARS)]
                args.append(scalar * rng.uniform(0.5, 1.5, size=3) if vectors else scalar)
                wrt.append(i)
            elif p == "n":
                args.append(1 + k % 3)
            elif p == "i":
                args.append(k % 3)
            elif p == "x":
                args.append(rng.normal(size=3 + 2 * (k % 3)))
                wrt.append(i)
            elif p == "sqm":
                args.append(rng.normal(size=(3, 3)))
                wrt.append(i)
            elif p == "abc_packed_in_tuple":
                args.append((s, SCALARS[(k + 1) % 5], SCALARS[(k + 2) % 5]))
                wrt.append(i)
            elif p == "val":
                args.append({"a": s, "b": SCALARS[(k + 1) % 5], "c": SCALARS[(k + 2) % 5]})
                wrt.append(i)
            elif p == "p":
                args.append({"i": {"j": 3.0 + s, "k": 4.0 - s}})
                wrt.append(i)
            else:
                return []
        if wrt:
            cases.append((args, tuple(wrt)))
    return cases


def verdict(f: Callable[..., Any], cases: list[tuple[list[Any], tuple]]) -> tuple[str, str]:
    """("passed" | "refused" | "failed", reason) over every input tried."""
    tried = 0
    for args, wrt in cases:
        try:
            value = f(*_copies(args))
            if not np.isfinite(np.sum(value)):
                continue  # no gradient verdict where f itself is not finite
        except Exception:
            continue  # outside f's domain (a while loop that never ends is not in the corpus)
        try:
            symdiff.check_grad(f, *_copies(args), wrt=wrt)
        except symdiff.GradientCheckError as exc:
            return "failed", str(exc).splitlines()[0]
        except SymdiffError as exc:
            return "refused", str(exc).splitlines()[0]
        except Exception as exc:
            return "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
        tried += 1
    if not tried:
        return "out of scope", "the function itself raises on every input tried"
    return "passed", f"{tried} input(s)"


def _copies(args: list[Any]) -> list[Any]:
    """Fresh arrays for each call: some corpus functions assign into their argument."""
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", help="the corpus file (tests/functions.py of Tangent)")
    parser.add_argument("--verbose", action="store_true", help="print the passed ones too")
    opts = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = corpus_file(opts.functions, work)
        install_runtime(work)
        module = load(path)
        tree = ast.parse(path.read_text())
        defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        rows = []
        for name, node in defs.items():
            f = getattr(module, name, None)
            if not inspect.isfunction(f):
                continue
            scope = out_of_scope(node)
            if scope is not None:
                rows.append((name, "out of scope", scope))
                continue
            cases = inputs(list(inspect.signature(f).parameters), rng)
            if not cases:
                rows.append((name, "out of scope", "no documented inputs for its arguments"))
                continue
            status, reason = verdict(f, cases)
            if status == "out of scope":  # iterating over `a`, say: try it as a vector
                status, reason = verdict(
                    f, inputs(list(inspect.signature(f).parameters), rng, True)
                )
            rows.append((name, status, reason))
    counts: dict[str, int] = {}
    for name, status, reason in rows:
        counts[status] = counts.get(status, 0) + 1
        if status != "passed" or opts.verbose:
            print(f"{name:32} {status:13} {reason}")
    print()
    print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())), f"of {len(rows)} functions")


if __name__ == "__main__":
    main()
