"""The runtime helpers an emitted module carries: which ones, and their text, copied.

A standalone module must run where symdiff is not installed, so the helpers of
``symdiff.runtime`` its gradients call are copied into it as source. The copy keeps the
helper's own layout and comments (a rename touches only the names renamed, where ``ast``
found them) and is made to fit the module's line length: ``symdiff.runtime`` is written at
the project's 100 columns, an emitted module at black's 88, and black reflows neither
docstrings, comments nor strings, so those are rewrapped here.

The runtime is a package of topic modules, but an emitted module holds its copies side by
side in one namespace: helpers are found in every topic module, a call from one topic into
another is followed through the caller's own module, and a name two topics define is refused.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
import types
from typing import Any, Callable

from .. import runtime

WIDTH = 88  # black's line length in backend/fmt.py

# The order an emitted module lays its copied helpers out in: that of the single module
# ``symdiff.runtime`` was before it became one module per topic, so that a module emitted
# after the split is byte for byte the one emitted before it. A helper not listed here (a
# new one) follows the listed ones, by topic module and then by its place in that module.
LAYOUT = (
    "unbroadcast",
    "sum_to",
    "_as_matrices",
    "matmul_grad_a",
    "matmul_grad_b",
    "index_grad",
    "unconcat",
    "ensure_scalar",
    "scalar_checked",
    "scalar_seed",
    "unstack",
    "sum_list_grad",
    "zeros_like_list",
    "_reduced_last",
    "_restore",
    "prod_grad",
    "median_grad",
    "sort_grad",
    "cumprod_grad",
    "diff_grad",
    "norm_grad",
    "_matrix_norm_grad",
    "average_grad",
    "take_grad",
    "diagonal_grad",
    "diag_grad",
    "tile_grad",
    "repeat_grad",
    "unpad",
    "rollaxis_grad",
    "unjoin",
    "unsplit",
    "_letters",
    "_einsum_terms",
    "einsum_grad",
    "tensordot_grad",
    "dot_grad",
    "inner_grad",
    "kron_grad",
    "convolve_grad",
    "solve_adjoint",
    "solve_grad_a",
    "_symmetric_read",
    "eigh_grad",
    "_inverse_gaps",
    "cholesky_grad",
    "_symmetric_tangent",
    "cholesky_tangent",
    "eigvalsh_tangent",
    "eigh_vectors_tangent",
    "add_lists",
    "svd_grad",
    "permutation_grad",
    "permutation_tangent",
    "linspace_grad",
    "_unit",
    "_float_dtype",
    "zero_directions",
    "_block",
    "jacobian_columns",
    "jacobian_rows",
)


def _defined(kind: Callable[[Any], bool]) -> dict[str, tuple[int, int, Any]]:
    """The module-level objects of ``kind`` that the runtime's topic modules define, by name,
    with (module rank, source line) for ordering. An emitted module holds the copies in one
    namespace, so a name defined by two topic modules could not be copied: it is refused."""
    found: dict[str, tuple[int, int, Any]] = {}
    for rank, module in enumerate(runtime.TOPICS):
        for name, obj in vars(module).items():
            if not kind(obj) or name.startswith("__") or _imported(module, obj):
                continue
            if name in found and found[name][2] is obj:
                continue  # a value a topic module takes from a sibling (not a function)
            if name in found:
                raise ImportError(f"two runtime modules define {name!r}; an emitted module can't")
            line = obj.__code__.co_firstlineno if inspect.isfunction(obj) else 0
            found[name] = (rank, line, obj)
    return found


def _imported(module: types.ModuleType, obj: Any) -> bool:
    """Whether ``obj`` came into ``module`` from elsewhere (NumPy, a sibling topic module)."""
    if inspect.ismodule(obj):
        return True
    return inspect.isfunction(obj) and obj.__module__ != module.__name__


def _ordered(found: dict[str, tuple[int, int, Any]]) -> dict[str, Any]:
    """``found`` by name, in ``LAYOUT`` order: ``needed`` lists what a module copies in the
    order of this dict, and that order is the layout of every emitted module."""
    place = {name: i for i, name in enumerate(LAYOUT)}
    key = {n: (place.get(n, len(LAYOUT)), rank, line) for n, (rank, line, _) in found.items()}
    return {name: found[name][2] for name in sorted(found, key=key.__getitem__)}


# every function of the runtime (private ones too: a copy carries the helpers it calls)
HELPERS: dict[str, Any] = _ordered(_defined(inspect.isfunction))
# the runtime's module-level values that are neither functions nor modules
CONSTANTS: dict[str, Any] = _ordered(
    _defined(lambda obj: not inspect.isfunction(obj) and not inspect.ismodule(obj))
)


def needed(names: list[str]) -> tuple[list[str], list[str]]:
    """The runtime helpers used, those they call, and the runtime constants they read.

    A name a helper reads is looked up where that helper is defined, so a call into another
    topic module is followed like a call within its own."""
    todo, need, consts = list(names), set(), set()
    while todo:
        name = todo.pop()
        if name in need:
            continue
        need.add(name)
        fn = HELPERS[name]
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
        for read in sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}):
            obj = fn.__globals__.get(read)
            if HELPERS.get(read) is obj is not None:
                todo.append(read)
            elif read in CONSTANTS and CONSTANTS[read] is obj:
                consts.add(read)
            elif obj is not None and inspect.isfunction(obj) and obj in HELPERS.values():
                raise RuntimeError(f"{name} calls the runtime helper {obj.__name__} as {read}")
    return [n for n in HELPERS if n in need], sorted(consts)


def helper_source(name: str, mapping: dict[str, str], width: int = WIDTH) -> str:
    """The source of the helper ``name`` with the module-level names in ``mapping`` renamed,
    its docstrings and comments wrapped to ``width`` columns."""
    text = textwrap.dedent(inspect.getsource(HELPERS[name]))
    if any(k != v for k, v in mapping.items()):
        text = renamed(text, mapping)
    return fitted(text, width)


# ----------------------------------------------------------------------------- renaming


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self.mapping.get(node.name, node.name)
        self.generic_visit(node)
        return node


def renamed(text: str, mapping: dict[str, str]) -> str:
    """``text`` with the names (and function names) in ``mapping`` replaced in place, so the
    rest of it (comments, the layout of strings) is untouched. Should a position ``ast``
    gives not hold the name, the tree is printed again instead: correct, if plainer."""
    tree = ast.parse(text)
    lines = [line.encode() for line in text.splitlines(True)]
    edits = []  # (line, byte offset, old, new); ast offsets count UTF-8 bytes
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and mapping.get(node.id, node.id) != node.id:
            edits.append((node.lineno - 1, node.col_offset, node.id, mapping[node.id]))
        elif isinstance(node, ast.FunctionDef) and mapping.get(node.name, node.name) != node.name:
            m = re.compile(rb"def\s+").match(lines[node.lineno - 1], node.col_offset)
            if m is not None:
                edits.append((node.lineno - 1, m.end(), node.name, mapping[node.name]))
    for row, col, old, new in sorted(edits, reverse=True):
        line = lines[row]
        if line[col : col + len(old.encode())] != old.encode():
            return ast.unparse(_Rename(mapping).visit(tree)) + "\n"
        lines[row] = line[:col] + new.encode() + line[col + len(old.encode()) :]
    out = b"".join(lines).decode()
    expected = ast.dump(_Rename(mapping).visit(ast.parse(text)))
    if ast.dump(ast.parse(out)) != expected:  # never a copy that means something else
        return ast.unparse(_Rename(mapping).visit(ast.parse(text))) + "\n"
    return out


# ----------------------------------------------------------------------------- fitting


def fitted(text: str, width: int) -> str:
    """``text`` with every docstring paragraph and comment that is wider than ``width``
    rewrapped (the others keep their lines); the code means the same."""
    tree = ast.parse(text)
    lines = text.splitlines(True)
    spans = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            doc = body[0].value
            spans.append((doc.lineno - 1, doc.end_lineno or doc.lineno, doc.col_offset))
    for start, end, indent in sorted(spans, reverse=True):
        lines[start:end] = _docstring(lines[start:end], indent, width)
    out = "".join(_comment(line, width) for line in lines)
    if ast.dump(ast.parse(out)) != ast.dump(tree):  # a docstring's value changes; code may not
        return out if _same_code(out, text) else text
    return out


def _docstring(lines: list[str], indent: int, width: int) -> list[str]:
    """A docstring's lines with each paragraph that has a line wider than ``width`` filled
    again; a paragraph that fits (a formula, a list laid out by hand) stays as written."""
    pad = " " * indent
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.rstrip("\n"))
        else:
            paragraphs.append([])
    out: list[str] = []
    for i, para in enumerate(paragraphs):
        if i:
            out.append("\n")
        if all(len(line) <= width for line in para):
            out += [line + "\n" for line in para]
            continue
        words = " ".join(line.strip() for line in para)
        out += [pad + line + "\n" for line in textwrap.wrap(words, width - indent)]
    return out


def _comment(line: str, width: int) -> str:
    stripped = line.lstrip()
    if len(line.rstrip("\n")) <= width or not stripped.startswith("#"):
        return line
    pad = line[: len(line) - len(stripped)]
    body = stripped[1:].strip()
    wrapped = textwrap.wrap(body, width - len(pad) - 2) or [""]
    return "".join(f"{pad}# {part}\n" for part in wrapped)


def _same_code(a: str, b: str) -> bool:
    """Whether two texts differ in their docstrings' whitespace only."""

    def plain(text: str) -> str:
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                node.value = " ".join(node.value.split())
        return ast.dump(tree)

    return plain(a) == plain(b)
