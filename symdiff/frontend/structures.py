"""Parameters that are structures (pytrees): dicts, lists, tuples, named tuples, dataclasses.

A JAX user's ``loss(params, x)`` reads ``params["W1"]`` and ``params["b1"]``; a model keeps
its layers in a tuple (``W, b = layer``) or a dataclass (``p.W``). symdiff differentiates
functions of arrays and numbers, so such a function is, for one call, a function of the
leaves it reads: ``loss(W1, b1, x)``. Which reads reach a leaf is only known at the call
(``x[0]`` is an element of an array, or the first item of a tuple of arrays), so this
module does two things:

- ``structure_reads(f)``, once per function: every chain of constant reads of a parameter
  (``p.W``, ``p["W1"]``, ``p[0]``, ``p["l1"].W``, and a first-level unpacking
  ``W, b = p``), in the order a reader meets them; a parameter used in any other way (passed
  whole, subscripted with a computed key, iterated) has none and stays as it is;
- ``StructureReads.function(cut)``, once per call shape: the function rewritten with each
  chain, cut where the call's value stops being a structure, replaced by a parameter of its
  own. The rewritten tree keeps ``f``'s lines and columns (errors and comments point at the
  user's code), and a leaf keeps the user's name where it has one (``W1`` for
  ``params["W1"]``, ``W`` for the ``W`` of ``W, b = layer``).

The API (``api.pytrees``) decides the cut from the call's values, passes the leaves, and
builds the gradient back into the argument's structure.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any, Callable

from ..ir.rows.methods import ATTRIBUTES
from .attributes import compile_tree, leaf_arguments
from .source import Source, get_source, unwrap

Step = tuple[str, Any]  # ("attr", name) or ("item", key): one constant read
Path = tuple[Step, ...]  # the reads from a parameter to a value, the parameter not included


def chain(node: ast.expr) -> tuple[str, Path] | None:
    """``node`` as a parameter name and its constant reads (``p["W"].b`` is
    ``("p", (("item", "W"), ("attr", "b")))``), or None when it is not such a chain. An
    array attribute (``.T``, ``.shape``) or a special name ends a chain: it reads an array."""
    steps: list[Step] = []
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr in ATTRIBUTES or node.attr.startswith("__"):
                return None
            steps.append(("attr", node.attr))
            node = node.value
        elif isinstance(node, ast.Subscript):
            key = _constant_key(node.slice)
            if key is None:
                return None
            steps.append(("item", key[0]))
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, tuple(reversed(steps))
        else:
            return None


def _constant_key(node: ast.expr) -> tuple[Any] | None:
    if isinstance(node, ast.Constant) and type(node.value) in (str, int):
        return (node.value,)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) is int
    ):
        return (-node.operand.value,)
    return None


def show_path(param: str, path: Path) -> str:
    """A read as the user writes it: ``params['W1']``, ``p.W``, ``layers[0].b``."""
    out = param
    for kind, key in path:
        out += f".{key}" if kind == "attr" else f"[{key!r}]"
    return out


@dataclass(frozen=True)
class Unpacking:
    """``W, b = p`` (first-level statement ``index`` of the body): ``value`` is read, and
    unpacked into ``names`` (a nested tuple for nested targets)."""

    index: int
    param: str
    value: Path
    targets: tuple[tuple[Path, str], ...]  # each target's path from the parameter, its name
    lengths: tuple[tuple[Path, int], ...]  # each unpacked value's path and its length


@dataclass(frozen=True)
class StructureReads:
    """The constant reads of ``f``'s parameters, found once (see the module docstring)."""

    source: Source
    params: tuple[str, ...]  # the positional parameters, in order
    chains: dict[str, tuple[Path, ...]]  # a parameter's reads in order of first use
    unpackings: tuple[Unpacking, ...]

    def function(
        self, cut: dict[str, tuple[Path, ...]], aliases: dict[tuple[str, Path], Path]
    ) -> tuple[Callable[..., Any], list]:
        """``f`` rewritten to take, for each parameter in ``cut``, the values at its cut
        paths instead of the parameter (``aliases``: the cut path each read, as written and
        cut, stands for); and, for each parameter of the rewritten function,
        ``(param, path)`` (an empty path for a parameter kept as it is)."""
        tree = self.source.tree
        taken = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(self.params)
        unpacked = {
            (u.param, aliases.get((u.param, path), path)): name
            for u in self.unpackings
            for path, name in u.targets
        }
        names: dict[tuple[str, Path], str] = {}
        wanted = [(p, path) for p in self.params for path in cut.get(p, ())]
        for p, path in wanted:  # the unpacking targets first: they are the user's own names
            if (p, path) in unpacked:
                names[(p, path)] = unpacked[(p, path)]
        lasts = [path[-1][1] for p, path in wanted if path and (p, path) not in names]
        for p, path in wanted:
            if (p, path) in names:
                continue
            last = path[-1][1] if path else None
            if isinstance(last, str) and last.isidentifier() and lasts.count(last) == 1:
                base = last  # params["W1"] is W1 when nothing else would be
            else:
                base = "_".join([p, *(_ident(k) for _, k in path)])
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            taken.add(name)
            names[(p, path)] = name
        new = copy.deepcopy(tree)
        new.decorator_list = []
        done = {
            u.index
            for u in self.unpackings
            if u.param in cut
            and all(aliases.get((u.param, path)) in cut[u.param] for path, _ in u.targets)
        }
        new.body = [s for i, s in enumerate(new.body) if i not in done] or [ast.Pass()]
        written = {w: names[(w[0], c)] for w, c in aliases.items() if (w[0], c) in names}
        _Replace(written).visit(new)
        args = tree.args
        new_args: list[ast.arg] = []
        order: list[tuple[str, Path]] = []
        for a in args.posonlyargs + args.args:
            if a.arg in cut:
                for path in cut[a.arg]:
                    new_args.append(
                        ast.arg(names[(a.arg, path)], lineno=a.lineno, col_offset=a.col_offset)
                    )
                    order.append((a.arg, path))
            else:
                new_args.append(copy.deepcopy(a))
                order.append((a.arg, ()))
        new.args = leaf_arguments(args, new_args)
        ast.fix_missing_locations(new)
        return compile_tree(self.source, new), order


def _ident(key: Any) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in str(key))
    return text.replace("-", "m") or "_"


def structure_reads(f: Any) -> StructureReads | None:
    """The constant reads of ``f``'s parameters, or None when it makes none that a
    structure could answer (no subscript, attribute or unpacking of a parameter)."""
    target = unwrap(f)
    try:
        src = get_source(target)
    except Exception:
        return None  # whatever is wrong is said by the transformation itself
    tree = src.tree
    args = tree.args
    if args.vararg or args.kwarg:
        return None
    params = tuple(a.arg for a in args.posonlyargs + args.args)
    if not params:
        return None
    unpackings = _unpackings(tree, set(params))
    skipped = {id(n) for u in unpackings for n in ast.walk(tree.body[u.index])}
    chains, other = _chains(tree, set(params), skipped)
    for u in unpackings:  # an unpacked parameter's reads include the targets
        if u.param not in other:
            listed = list(chains.get(u.param, ()))
            listed.extend(path for path, _ in u.targets if path not in listed)
            chains[u.param] = tuple(listed)
    if not chains:
        return None
    kept = tuple(u for u in unpackings if u.param in chains)
    return StructureReads(src, params, chains, kept)


def _chains(
    tree: ast.FunctionDef | ast.AsyncFunctionDef, params: set[str], skipped: set[int]
) -> tuple[dict[str, tuple[Path, ...]], set[str]]:
    """Each parameter's constant reads, and the parameters used in any other way."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    order = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in skipped),
        key=lambda n: (n.lineno, n.col_offset),
    )
    found: dict[str, list[Path]] = {}
    other: set[str] = set()
    for node in order:
        if node.id not in params:
            continue
        if not isinstance(node.ctx, ast.Load):
            other.add(node.id)  # rebound: the name means something else after
            continue
        top: ast.expr = node
        while True:
            up = parents.get(top)
            if isinstance(up, (ast.Attribute, ast.Subscript)) and up.value is top:
                if chain(up) is None:
                    break
                top = up
                continue
            break
        read = chain(top)
        up = parents.get(top)
        called = isinstance(up, ast.Call) and up.func is top
        stored = not isinstance(getattr(top, "ctx", ast.Load()), ast.Load)
        if read is None or not read[1] or called or stored:
            other.add(node.id)
            continue
        if read[1] not in found.setdefault(node.id, []):
            found[node.id].append(read[1])
    return {p: tuple(c) for p, c in found.items() if p not in other}, other


def _unpackings(tree: ast.FunctionDef | ast.AsyncFunctionDef, params: set[str]) -> list[Unpacking]:
    """First-level ``W, b = p`` (or ``= p["layer"]``), each target a name the statements
    before it do not use, so that it can be a parameter of its own."""
    out: list[Unpacking] = []
    seen: set[str] = set()
    for index, stmt in enumerate(tree.body):
        target = (
            stmt.targets[0] if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 else None
        )
        read = chain(stmt.value) if isinstance(stmt, ast.Assign) else None
        if isinstance(target, (ast.Tuple, ast.List)) and read is not None and read[0] in params:
            found = _targets(target, read[1])
            if found is not None and not ({n for _, n in found[0]} & (seen | params)):
                out.append(Unpacking(index, read[0], read[1], tuple(found[0]), tuple(found[1])))
        seen |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
    return out


def _targets(
    node: ast.expr, path: Path
) -> tuple[list[tuple[Path, str]], list[tuple[Path, int]]] | None:
    if isinstance(node, ast.Name):
        return [(path, node.id)], []
    if not isinstance(node, (ast.Tuple, ast.List)):
        return None  # a starred target, an attribute or a subscript: left to the lowering
    names: list[tuple[Path, str]] = []
    lengths: list[tuple[Path, int]] = [(path, len(node.elts))]
    for i, elt in enumerate(node.elts):
        inner = _targets(elt, (*path, ("item", i)))
        if inner is None:
            return None
        names.extend(inner[0])
        lengths.extend(inner[1])
    return names, lengths


class _Replace(ast.NodeTransformer):
    """Each read at a cut path becomes a read of the parameter standing for it, in place."""

    def __init__(self, names: dict[tuple[str, Path], str]):
        self.names = names

    def _visit_read(self, node: ast.expr) -> ast.AST:
        read = chain(node)
        if read is not None and read in self.names and isinstance(node.ctx, ast.Load):  # type: ignore[attr-defined]
            return ast.copy_location(ast.Name(self.names[read], ast.Load()), node)
        self.generic_visit(node)
        return node

    visit_Attribute = _visit_read
    visit_Subscript = _visit_read


def whole_use(tree: ast.FunctionDef | ast.AsyncFunctionDef, param: str) -> ast.expr | None:
    """The first use of ``param`` that is not a constant read (a computed key ``p[k]``, the
    structure passed whole or iterated): where a refusal of a structure points."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    uses = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == param),
        key=lambda n: (n.lineno, n.col_offset),
    )
    for node in uses:
        up = parents.get(node)
        if isinstance(up, (ast.Attribute, ast.Subscript)) and up.value is node:
            if chain(up) is not None:
                continue
            return up  # params[k]: the whole subscript
        if (
            isinstance(up, ast.Assign)
            and up.value is node
            and isinstance(up.targets[0], (ast.Tuple, ast.List))
        ):
            continue  # W, b = params
        return node
    return None
