"""The house check (.ci/house.py): on the package itself, and on small packages written
for the purpose, each with exactly one thing wrong (or nothing)."""

import functools
import importlib.util
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HOUSE = ROOT / ".ci" / "house.py"


def house(*args):
    out = subprocess.run(
        [sys.executable, str(HOUSE), *map(str, args)], capture_output=True, text=True
    )
    return out.returncode, out.stdout + out.stderr


def package(tmp_path, files, name="pkg"):
    """A package ``name`` under ``tmp_path`` with the given files (``__init__.py`` added)."""
    root = tmp_path / name
    for rel, text in {"__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_the_package_passes_the_house_check():
    code, out = house()
    assert code == 0, out


def test_the_report_on_the_package_lists_its_modules_and_sizes():
    code, out = house(ROOT / "symdiff", "--top", "3")
    assert code in (0, 1), out
    assert out.startswith("house check of symdiff: ")
    modules = out.split("largest modules:\n")[1].split("largest classes:")[0].splitlines()
    classes = out.split("largest classes:\n")[1].splitlines()
    assert len(modules) == len(classes) == 3
    sizes = [int(line.split()[0]) for line in modules]
    assert sizes == sorted(sizes, reverse=True)
    for line in modules:  # each size is the file's line count
        lines, where = line.split()
        assert int(lines) == len((ROOT / where).read_text().splitlines())


def test_a_clean_package_passes(tmp_path):
    root = package(
        tmp_path,
        {
            "a.py": """
                from os import _exit  # another library's private name is not ours to judge
                from . import __doc__ as doc

                _table = {}

                def _helper():
                    return _table

                class Thing:
                    def _own(self):
                        return self._x
            """,
            "b.py": """
                from . import a
                from .a import Thing

                def use():
                    return a.Thing(), Thing(), a.__name__
            """,
            "sub/__init__.py": "",
            "sub/c.py": """
                from .. import b
                from ..a import Thing
                from . import _impl  # a private module of its own package
            """,
            "sub/_impl.py": "VALUE = 1\n",
        },
    )
    code, out = house(root)
    assert code == 0, out
    assert "import circles: 0" in out and "private cross-module imports: 0" in out
    assert "house check of pkg: 6 modules" in out
    assert "\n       3  pkg/a.py:Thing\n" in out


def test_a_circle_through_a_function_level_import_is_found(tmp_path):
    root = package(
        tmp_path,
        {
            "a.py": "from .b import g\n\ndef f():\n    return g()\n",
            "b.py": "def g():\n    from .a import f\n    return f\n",
            "c.py": "from .a import f\n",  # depends on the circle, is not part of it
        },
    )
    code, out = house(root)
    assert code == 1, out
    assert "import circles: 1" in out
    assert "2 modules: pkg.a, pkg.b" in out
    assert "pkg.a imports pkg.b (line 1)" in out and "pkg.b imports pkg.a (line 2)" in out


def test_a_circle_of_submodule_imports_from_the_package_is_found(tmp_path):
    root = package(
        tmp_path,
        {
            "x/__init__.py": "",
            "x/one.py": "from .. import y\n",
            "y.py": "import pkg.z as zed\n",
            "z.py": "from .x import one\n",
        },
    )
    code, out = house(root)
    assert code == 1, out
    assert "3 modules: pkg.x.one, pkg.y, pkg.z" in out


def test_a_package_init_and_its_module_importing_each_other_is_a_circle(tmp_path):
    root = package(
        tmp_path,
        {"__init__.py": "VERSION = 1\nfrom .a import f\n", "a.py": "from . import VERSION\n"},
    )
    code, out = house(root)
    assert code == 1, out
    assert "2 modules: pkg, pkg.a" in out


@pytest.mark.parametrize(
    "text, line",
    [
        ("from .a import _hidden\n", 1),
        ("from pkg.a import public, _hidden\n", 1),
        ("from . import a\n\ndef f():\n    return a._hidden\n", 4),
        ("import pkg.a as m\n\nm._hidden = 2\n", 3),
        ("import pkg.a\n\nx = pkg.a._hidden.attr\n", 3),
        ("def f():\n    from . import a as mod\n    return mod._hidden()\n", 3),
        ("from .sub import _impl\n", 1),  # another package's private module
    ],
)
def test_a_private_cross_module_import_is_found(tmp_path, text, line):
    root = package(
        tmp_path,
        {
            "a.py": "public = 1\n_hidden = 2\n",
            "sub/__init__.py": "",
            "sub/_impl.py": "",
            "b.py": text,
        },
    )
    code, out = house(root)
    assert code == 1, out
    assert "private cross-module imports: 1" in out
    assert f"  pkg.b:{line} reads _" in out
    assert "import circles: 0" in out


def test_not_a_package_or_not_python_is_a_usage_error(tmp_path):
    (tmp_path / "loose").mkdir()
    assert house(tmp_path / "loose")[0] == 2
    root = package(tmp_path, {"a.py": "def broken(:\n"})
    code, out = house(root)
    assert code == 2 and "cannot parse" in out


@functools.lru_cache(maxsize=1)
def load_house():
    """The script as a module (it is not in a package), for its functions."""
    spec = importlib.util.spec_from_file_location("house_check", HOUSE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", range(40))
def test_circles_are_the_mutually_reachable_groups(seed):
    """Tarjan's components against the definition: a and b share a circle when each reaches
    the other."""
    h = load_house()
    rng = random.Random(seed)
    nodes = [f"m{i}" for i in range(rng.randint(2, 14))]
    p = rng.uniform(0.05, 0.25)
    edges = [h.Edge(a, b, 1) for a in nodes for b in nodes if a != b and rng.random() < p]
    reach = {n: {e.target for e in edges if e.source == n} for n in nodes}
    changed = True
    while changed:
        changed = False
        for n in nodes:
            more = set().union(*(reach[m] for m in reach[n])) - reach[n]
            if more:
                reach[n] |= more
                changed = True
    groups = {frozenset([n] + [m for m in nodes if m in reach[n] and n in reach[m]]) for n in nodes}
    expected = sorted(sorted(g) for g in groups if len(g) > 1)
    found = h.circles(nodes, edges)
    assert found == expected
    for component in found:  # and the circle printed for each is a real one inside it
        path = h.cycle_in(component, edges)
        assert path[0].source == path[-1].target == component[0]
        assert all(a.target == b.source for a, b in zip(path, path[1:]))
        assert {e.source for e in path} <= set(component)
