"""The house check: is the package still a set of stages that import each other one way?

Usage: python .ci/house.py [PACKAGE_DIR] [--top N]

Every module of the package (``symdiff/`` next to this folder unless told otherwise) is
parsed with ``ast``; nothing is imported or run. From the parse it builds the import graph
of the package's own modules and reports

- import circles: strongly connected components of that graph. Every import counts, also
  one inside a function or under ``if TYPE_CHECKING:``: a function-level import only
  postpones a circle to the first call, it does not remove the dependency. ``from . import x``
  is an edge to the submodule ``x`` when there is one, else to the package itself;
- private cross-module imports: ``from m import _name`` and ``m._name`` read through a name
  bound to module ``m``, where ``m`` is another module of the package. A private name is a
  module's own business; a second module reading it couples the two invisibly;
- the largest modules and classes (by lines), to show where a split is due.

Exit status: 0 when there is no circle and no private cross-import, 1 otherwise, 2 when
the package cannot be read. Only the circles and private imports fail the check.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. symdiff.ad.rules
    path: Path
    is_package: bool  # an __init__.py: relative imports start from the module itself
    tree: ast.Module


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


@dataclass(frozen=True)
class PrivateUse:
    module: str
    line: int
    owner: str  # the module the private name belongs to
    name: str


def is_private(name: str) -> bool:
    """``_x`` and ``__x`` are private; dunders (``__version__``) and ``_`` are not."""
    return name.startswith("_") and not name.endswith("__") and name != "_"


def load(package: Path) -> dict[str, Module]:
    """Every ``.py`` file under ``package``, parsed, by dotted module name."""
    modules: dict[str, Module] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        name = ".".join(parts)
        modules[name] = Module(name, path, is_package, tree)
    return modules


def absolute(module: Module, level: int, target: str | None) -> str:
    """The dotted name a (possibly relative) ``from`` import refers to."""
    if level == 0:
        return target or ""
    base = module.name.split(".")
    if not module.is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


class ModuleReader(ast.NodeVisitor):
    """The package-internal imports of one module and its reads of other modules' private
    names. Names bound to modules are tracked per file, not per scope: a local variable
    that shadows a module alias is rare enough in this code base to accept the imprecision."""

    def __init__(self, module: Module, known: set[str]):
        self.module = module
        self.known = known
        self.edges: list[Edge] = []
        self.private: list[PrivateUse] = []
        self.aliases: dict[str, str] = {}  # local name -> package module it denotes

    def read(self) -> None:
        # imports first, wherever they are, so that an alias bound in a function below the
        # attribute read that uses it (or at the end of the file) still resolves
        for node in ast.walk(self.module.tree):
            if isinstance(node, ast.Import):
                self.plain_import(node)
            elif isinstance(node, ast.ImportFrom):
                self.from_import(node)
        for node in ast.walk(self.module.tree):
            if isinstance(node, ast.Attribute):
                self.attribute(node)

    def edge(self, target: str, line: int) -> None:
        if target != self.module.name:
            self.edges.append(Edge(self.module.name, target, line))

    def plain_import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name not in self.known:
                continue
            self.edge(alias.name, node.lineno)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:  # import a.b.c binds a; a.b.c is then read as an attribute chain
                self.aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def from_import(self, node: ast.ImportFrom) -> None:
        source = absolute(self.module, node.level, node.module)
        for alias in node.names:
            sub = f"{source}.{alias.name}"
            if sub in self.known:  # from . import rules: the submodule itself
                self.edge(sub, node.lineno)
                self.aliases[alias.asname or alias.name] = sub
                if is_private(alias.name) and not self.inside(source):
                    self.private.append(
                        PrivateUse(self.module.name, node.lineno, source, alias.name)
                    )
            elif source in self.known:
                self.edge(source, node.lineno)
                if is_private(alias.name) and source != self.module.name:
                    self.private.append(
                        PrivateUse(self.module.name, node.lineno, source, alias.name)
                    )

    def inside(self, package: str) -> bool:
        """Whether this module belongs to ``package`` (its private submodules are its own)."""
        return self.module.name == package or self.module.name.startswith(package + ".")

    def attribute(self, node: ast.Attribute) -> None:
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in self.aliases:
            return
        chain.reverse()
        owner = self.aliases[base.id]
        for i, attr in enumerate(chain):
            if f"{owner}.{attr}" in self.known:
                owner = f"{owner}.{attr}"
                continue
            # only the outermost node of a chain reports, so a.b._c.d is one finding
            if is_private(attr) and owner != self.module.name and i == len(chain) - 1:
                self.private.append(PrivateUse(self.module.name, node.lineno, owner, attr))
            return


def circles(nodes: list[str], edges: list[Edge]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for e in edges:
        if e.target not in succ[e.source]:
            succ[e.source].append(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(succ[node]):
                work.append((node, i + 1))
                nxt = succ[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:  # finished node: pass its low link to the parent
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def cycle_in(component: list[str], edges: list[Edge]) -> list[Edge]:
    """One concrete circle through the component's first module, as the imports that make it."""
    members = set(component)
    first: dict[tuple[str, str], Edge] = {}
    for e in sorted(edges, key=lambda e: e.line):
        if e.source in members and e.target in members:
            first.setdefault((e.source, e.target), e)
    start = component[0]
    came: dict[str, Edge] = {}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to the start
        nxt: list[str] = []
        for node in frontier:
            for (a, b), e in sorted(first.items()):
                if a != node or b in came:
                    continue
                came[b] = e
                if b == start:
                    path = [e]
                    while path[0].source != start:
                        path.insert(0, came[path[0].source])
                    return path
                nxt.append(b)
        frontier = nxt
    return []


def sizes(modules: dict[str, Module], root: Path) -> tuple[list, list]:
    """(lines, file) of every module and (lines, file:Class) of every class."""
    mods, classes = [], []
    for m in modules.values():
        shown = m.path.relative_to(root).as_posix()
        mods.append((len(m.path.read_text(encoding="utf-8").splitlines()), shown))
        for node in ast.walk(m.tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                classes.append((node.end_lineno - node.lineno + 1, f"{shown}:{node.name}"))
    return sorted(mods, reverse=True), sorted(classes, reverse=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Path(__file__).resolve().parent.parent / "symdiff"
    parser.add_argument("package", nargs="?", type=Path, default=default)
    parser.add_argument("--top", type=int, default=8, help="largest modules/classes to list")
    args = parser.parse_args(argv)
    package = args.package.resolve()
    if not (package / "__init__.py").is_file():
        print(f"house: {package.name} is not a package (no __init__.py)", file=sys.stderr)
        return 2
    try:
        modules = load(package)
    except SyntaxError as exc:
        print(f"house: cannot parse {exc.filename}:{exc.lineno}: {exc.msg}", file=sys.stderr)
        return 2
    edges: list[Edge] = []
    private: list[PrivateUse] = []
    for m in modules.values():
        reader = ModuleReader(m, set(modules))
        reader.read()
        edges += reader.edges
        private += reader.private
    found = circles(sorted(modules), edges)
    root = package.parent

    print(f"house check of {package.name}: {len(modules)} modules, {len(edges)} imports")
    print(f"import circles: {len(found)}")
    for component in found:
        print(f"  {len(component)} modules: {', '.join(component)}")
        for e in cycle_in(component, edges):
            print(f"    {e.source} imports {e.target} (line {e.line})")
    print(f"private cross-module imports: {len(private)}")
    for p in sorted(private, key=lambda p: (p.module, p.line, p.name)):
        print(f"  {p.module}:{p.line} reads {p.name} of {p.owner}")
    mods, classes = sizes(modules, root)
    print("largest modules:")
    for lines, where in mods[: args.top]:
        print(f"  {lines:6d}  {where}")
    print("largest classes:")
    for lines, where in classes[: args.top]:
        print(f"  {lines:6d}  {where}")
    return 1 if found or private else 0


if __name__ == "__main__":
    sys.exit(main())
