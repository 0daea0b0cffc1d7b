"""Random programs in symdiff's supported subset, and the checks every one of them must pass.

A program is Python source text (module-level constants, up to two helper functions, then
the function to differentiate), its inputs and its ``wrt``. The generator is written against a ``Chooser``,
so the same code is driven by Hypothesis in the test suite (which then shrinks a failing
program to a small one) and by a seeded ``random.Random`` in ``benchmarks/fuzz.py``
(program ``k`` of a campaign is reproducible from its seed alone).

Programs are valid by construction, not by filtering:

- every expression carries a conservative interval of the values it can take, computed
  from the inputs' intervals; an operation with a restricted domain (``log``, ``sqrt``,
  ``arcsin``, a divisor, ``exp`` of something large) gets its operand through an *adapter*
  (``e * e + 0.5``, ``0.9 * np.tanh(e)``...) whenever the interval is not inside the domain,
  and anything that could grow past ``MAG`` is squashed with ``tanh``;
- inputs are drawn from continuous distributions, so comparisons against thresholds drawn
  from a continuous distribution are never ties, and finite differences straddle a branch
  or a kink only by rare accident; ``check_program`` detects that case with one-sided
  differences at two step sizes and reports it as ``kink``, not as a disagreement;
- loops update their state with templates whose growth is bounded (``acc + t`` a fixed
  number of times, ``np.tanh(...)``, ``0.5 * acc + t``, ``acc * np.cos(t)``).

``check_program`` runs every property of issue 6 on one program and says ``ok``,
``refused`` (a ``SymdiffError`` when the gradient is built), ``invalid`` (the function
itself fails or leaves the numeric range: a generator problem, never symdiff's), ``kink``
(finite differences are not meaningful there) or ``bug`` (with the kind and the evidence).
"""

from __future__ import annotations

import math
import random
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

MAG = 200.0  # expressions whose interval exceeds this are squashed with tanh
COLLIDING = (
    "d_x", "t1", "t2", "tape", "tape_1", "unbroadcast", "steps", "d_v1", "g", "b1",
    "matmul_grad_a", "index_grad", "ensure_scalar", "x_1", "d_t1", "value", "result",
)  # fmt: skip


# ----------------------------------------------------------------------------- choosers
class Chooser:
    """Where the generator's decisions come from. ``rng`` gives continuous numbers."""

    rng: np.random.Generator

    def int(self, lo: int, hi: int) -> int:  # inclusive
        raise NotImplementedError

    def chance(self, p: float) -> bool:
        """True with probability ``p``; False for the smallest draw, which Hypothesis shrinks
        towards, so that a shrunk program leaves every optional feature out."""
        return self.int(0, 999) >= 1000 - int(p * 1000)

    def pick(self, items: Sequence[Any]) -> Any:
        return items[self.int(0, len(items) - 1)]

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))


class RandomChooser(Chooser):
    """Seeded: the campaign's program ``k`` is ``generate(RandomChooser(k))``."""

    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.rng = np.random.default_rng(seed)

    def int(self, lo: int, hi: int) -> int:
        return self.r.randint(lo, hi)


class HypothesisChooser(Chooser):
    """Structural choices from Hypothesis (which shrinks them towards the simplest option,
    listed first everywhere); numbers from a generator seeded by Hypothesis too, so that
    inputs stay generic (Hypothesis likes 0.0 and equal values: kinks and ties)."""

    def __init__(self, draw: Callable[..., Any]):
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st
        self.rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def int(self, lo: int, hi: int) -> int:
        # a wide draw folded into the range: Hypothesis favours small integers, which would
        # make most programs minimal; the fold keeps the choices uniform, and shrinking a
        # draw to 0 still gives the simplest option, lo
        return lo + self.draw(self.st.integers(0, 2**16 - 1)) % (hi - lo + 1)


# ----------------------------------------------------------------------------- intervals
Iv = tuple[float, float]


def hull(*ivs: Iv) -> Iv:
    return (min(i[0] for i in ivs), max(i[1] for i in ivs))


def mag(iv: Iv) -> float:
    return max(abs(iv[0]), abs(iv[1]))


def iv_mul(a: Iv, b: Iv) -> Iv:
    ps = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
    return (min(ps), max(ps))


def iv_scale(a: Iv, k: float) -> Iv:
    return iv_mul(a, (k, k))


def mono(f: Callable[[float], float], a: Iv) -> Iv:
    lo, hi = f(a[0]), f(a[1])
    return (min(lo, hi), max(lo, hi))


def fmt(c: float) -> str:
    """A float literal with three significant digits, parenthesized when negative."""
    text = repr(float(f"{c:.3g}"))
    return f"({text})" if text.startswith("-") else text


# ----------------------------------------------------------------------------- values
@dataclass(frozen=True)
class E:
    """An expression: its text, exact shape and a conservative interval of its values."""

    text: str
    shape: tuple[int, ...]
    iv: Iv
    fresh: bool = True  # a new array (not a view or another name): safe to update in place

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.shape else 1


@dataclass(frozen=True)
class Helper:
    name: str
    params: tuple[tuple[str, tuple[int, ...], Iv], ...]
    default: float | None  # the last (scalar) parameter's default, if it has one
    returns: tuple[tuple[tuple[int, ...], Iv], ...]  # one entry, or several for a tuple


@dataclass(frozen=True)
class Program:
    source: str
    name: str
    args: tuple
    wrt: tuple[str, ...]
    features: frozenset[str] = frozenset()
    seed: int | None = None

    def function(self) -> Callable[..., Any]:
        import symdiff

        return symdiff.from_source(self.source, name=self.name, namespace=namespace())

    def arg_text(self) -> str:
        return ", ".join(_show_arg(a) for a in self.args)

    def __str__(self) -> str:
        return f"# seed {self.seed}, wrt={self.wrt!r}, args:\n# {self.arg_text()}\n{self.source}"


def _show_arg(a: Any) -> str:
    if isinstance(a, np.ndarray):
        return f"np.array({a.tolist()!r}, dtype=np.{a.dtype})"
    if isinstance(a, np.generic):
        return f"np.{type(a).__name__}({float(a)!r})"
    return repr(a)


def namespace() -> dict[str, Any]:
    """The module globals programs see: NumPy and math under several names (so that a
    program may call its own variables ``np`` or ``math``)."""
    return {"np": np, "onp": np, "numpy": np, "math": math, "pymath": math}


# ----------------------------------------------------------------------------- the generator
class Gen:
    """Builds one program. ``self.env`` maps the names in scope to their expressions."""

    def __init__(self, c: Chooser):
        self.c = c
        self.n = c.int(1, 4)
        self.m = c.int(1, 3)
        self.npn = "np" if c.chance(0.8) else c.pick(("onp", "numpy"))
        self.mathn = "math" if c.chance(0.8) else "pymath"
        self.features: set[str] = set()
        self.lines: list[str] = []
        self.depth = 0  # indentation level
        self.env: dict[str, E] = {}
        # the module's names for NumPy and math are taken; "np" and "math" are free to be
        # a variable's name when the program calls the modules something else
        self.taken: set[str] = {self.npn, self.mathn, "onp", "numpy", "pymath"}
        self.counter = 0
        self.helpers: list[Helper] = []
        self.consts: dict[str, E] = {}
        self.in_helper = False
        self.ints: list[str] = []  # int parameters (loop counts)
        self.inputs: set[str] = set()  # the parameters of the function being written
        self.owners: set[str] = set()  # names no other name shares memory with

    # -------------------------------------------------------------- small utilities
    def np(self, name: str) -> str:
        return f"{self.npn}.{name}"

    def mt(self, name: str) -> str:
        return f"{self.mathn}.{name}"

    def fresh_name(self, prefix: str = "v") -> str:
        if self.c.chance(0.12):
            free = [n for n in COLLIDING if n not in self.taken]
            if self.npn != "np" and "np" not in self.taken:
                free.append("np")
            if self.mathn != "math" and "math" not in self.taken:
                free.append("math")
            if free:
                name = self.c.pick(free)
                self.taken.add(name)
                self.features.add("colliding-name")
                return name
        while True:
            self.counter += 1
            name = f"{prefix}{self.counter}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def num(self, lo: float = -2.0, hi: float = 2.0) -> float:
        return float(f"{self.c.uniform(lo, hi):.3g}")

    def shapes(self) -> list[tuple[int, ...]]:
        n, m = self.n, self.m
        return [(), (n,), (m,), (m, n)]

    # -------------------------------------------------------------- adapters
    def squash(self, e: E, bound: float = MAG) -> E:
        """``e`` itself if its values stay within ``bound``, else ``bound * tanh(e / s)``."""
        if mag(e.iv) <= bound:
            return e
        self.features.add("squash")
        if bound >= 1.0:
            return E(f"({fmt(bound)} * {self.np('tanh')}({e.text} / {fmt(mag(e.iv))}))",
                     e.shape, (-bound, bound))  # fmt: skip
        return E(f"({fmt(bound)} * {self.np('tanh')}({e.text}))", e.shape, (-bound, bound))

    def positive(self, e: E, lo: float = 0.25, hi: float = 50.0) -> E:
        """An expression with values in ``[lo, hi]`` made from ``e``."""
        if e.iv[0] >= lo and e.iv[1] <= hi:
            return e
        k = self.c.int(0, 2)
        if k == 0 and mag(e.iv) <= math.sqrt(hi - lo):
            return E(f"({e.text} * {e.text} + {fmt(lo)})", e.shape, (lo, mag(e.iv) ** 2 + lo))
        if k == 1:
            t = f"{self.np('tanh')}({e.text})"
            return E(
                f"({self.np('exp')}({t}) + {fmt(lo)})", e.shape, (math.exp(-1) + lo, math.e + lo)
            )
        s = self.squash(e, 20.0)
        top = math.log1p(math.exp(s.iv[1])) + lo
        return E(f"({self.np('logaddexp')}({s.text}, 0.0) + {fmt(lo)})", e.shape, (lo, top))

    def within(self, e: E, bound: float) -> E:
        """Values in ``[-bound, bound]`` (domain of arcsin, arctanh; argument of exp)."""
        if mag(e.iv) <= bound:
            return e
        if self.c.chance(0.5):
            return E(f"({fmt(bound)} * {self.np('tanh')}({e.text}))", e.shape, (-bound, bound))
        return E(f"({fmt(bound)} * {self.np('sin')}({e.text}))", e.shape, (-bound, bound))

    # -------------------------------------------------------------- expressions
    def sub_shapes(self, shape: tuple[int, ...]) -> list[tuple[int, ...]]:
        """Shapes that broadcast to ``shape`` (for the second operand of an operation)."""
        if len(shape) == 0:
            return [()]
        if len(shape) == 1:
            return [shape, ()] + ([(1,)] if shape[0] != 1 else [])
        a, b = shape
        return [shape, (), (b,), (1, b), (a, 1)]

    def expr(self, shape: tuple[int, ...], depth: int) -> E:
        """A random expression of exactly ``shape``."""
        if depth <= 0 or not self.c.chance(0.75):
            return self.leaf(shape)
        producers = [
            self.p_unary, self.p_binary, self.p_binary, self.p_select, self.p_reduce,
            self.p_product, self.p_index, self.p_layout, self.p_call, self.p_misc,
        ]  # fmt: skip
        if shape == ():
            producers += [self.p_math, self.p_math, self.p_scalar_misc, self.p_linalg]
        for _ in range(6):
            out = self.c.pick(producers)(shape, depth - 1)
            if out is not None:
                return self.squash(out)
        return self.leaf(shape)

    def leaf(self, shape: tuple[int, ...]) -> E:
        same = [n for n, e in self.env.items() if e.shape == shape]
        if same and self.c.int(0, 4) < 4:
            name = self.c.pick(sorted(same))
            return E(name, shape, self.env[name].iv, fresh=False)
        if shape == ():
            if self.consts and self.c.chance(0.1):
                name = self.c.pick(sorted(self.consts))
                if self.consts[name].shape == ():
                    self.features.add("module-constant")
                    return E(name, (), self.consts[name].iv, fresh=False)
            arrays = sorted(n for n, e in self.env.items() if e.shape and n.isidentifier())
            if arrays and self.c.chance(0.7):  # an element of an array in scope
                name = self.c.pick(arrays)
                e = self.env[name]
                idx = ", ".join(str(self.c.int(0, d - 1)) for d in e.shape)
                return E(f"{name}[{idx}]", (), e.iv, fresh=False)
            c = self.num()
            return E(fmt(c), (), (c, c))
        arrays = [n for n, e in self.env.items() if e.shape != ()]
        for name in sorted(arrays):
            e = self.env[name]
            if len(shape) == 1 and len(e.shape) == 1 and e.shape[0] > shape[0]:
                a = self.c.int(0, e.shape[0] - shape[0])
                return E(f"{name}[{a}:{a + shape[0]}]", shape, e.iv, fresh=False)
        consts = [k for k, v in self.consts.items() if v.shape == shape]
        if consts:
            self.features.add("module-constant")
            name = self.c.pick(sorted(consts))
            return E(name, shape, self.consts[name].iv, fresh=False)
        s = self.leaf(())
        if self.c.chance(0.5):
            self.features.add("np.full")
            return E(f"{self.np('full')}({shape!r}, {s.text})", shape, s.iv)
        return E(f"({s.text} * {self.np('ones')}({shape!r}))", shape, hull(s.iv, (0.0, 0.0)))

    # unary NumPy functions: (name, domain, interval of the result from that of the operand)
    UNARY = (
        ("sin", "any", lambda a: (-1.0, 1.0)),
        ("cos", "any", lambda a: (-1.0, 1.0)),
        ("tanh", "any", lambda a: mono(math.tanh, a)),
        ("exp", "small", lambda a: mono(math.exp, a)),
        ("exp2", "small", lambda a: mono(lambda v: 2.0**v, a)),
        ("expm1", "small", lambda a: mono(math.expm1, a)),
        ("log", "pos", lambda a: mono(math.log, a)),
        ("log2", "pos", lambda a: mono(math.log2, a)),
        ("log10", "pos", lambda a: mono(math.log10, a)),
        ("log1p", "pos", lambda a: mono(math.log1p, a)),
        ("sqrt", "pos", lambda a: mono(math.sqrt, a)),
        ("cbrt", "pos", lambda a: mono(lambda v: v ** (1 / 3), a)),
        ("square", "any", lambda a: (0.0, mag(a) ** 2)),
        ("reciprocal", "pos", lambda a: mono(lambda v: 1 / v, a)),
        ("tan", "tan", lambda a: mono(math.tan, a)),
        ("arcsin", "unit", lambda a: mono(math.asin, a)),
        ("arccos", "unit", lambda a: mono(math.acos, a)),
        ("arctan", "any", lambda a: mono(math.atan, a)),
        ("sinh", "small", lambda a: mono(math.sinh, a)),
        ("cosh", "small", lambda a: (1.0, math.cosh(mag(a)))),
        ("arcsinh", "any", lambda a: mono(math.asinh, a)),
        ("arccosh", "ge1", lambda a: mono(math.acosh, a)),
        ("arctanh", "unit", lambda a: mono(math.atanh, a)),
        ("sinc", "any", lambda a: (-0.23, 1.0)),
        ("abs", "pos", lambda a: a),
        ("fabs", "pos", lambda a: a),
        ("deg2rad", "any", lambda a: iv_scale(a, math.pi / 180)),
        ("radians", "any", lambda a: iv_scale(a, math.pi / 180)),
        ("rad2deg", "any", lambda a: iv_scale(a, 180 / math.pi)),
        ("degrees", "any", lambda a: iv_scale(a, 180 / math.pi)),
        ("negative", "any", lambda a: (-a[1], -a[0])),
        ("positive", "any", lambda a: a),
        ("nan_to_num", "any", lambda a: a),
        ("real_if_close", "any", lambda a: a),
        ("real", "any", lambda a: a),
        ("conj", "any", lambda a: a),
        ("copy", "any", lambda a: a),
        ("floor", "any", lambda a: (math.floor(a[0]), math.floor(a[1]))),
        ("sign", "any", lambda a: (-1.0, 1.0)),
        ("round", "any", lambda a: (a[0] - 1, a[1] + 1)),
    )

    def domain(self, e: E, kind: str) -> E:
        if kind == "pos":
            return self.positive(e)
        if kind == "unit":
            return self.within(e, 0.9)
        if kind == "small":
            return self.within(e, 3.0)
        if kind == "tan":
            return self.within(e, 1.2)
        if kind == "ge1":
            p = self.positive(e, 0.25, 20.0)
            return E(f"({p.text} + 1.0)", e.shape, (p.iv[0] + 1.0, p.iv[1] + 1.0))
        return e

    def p_unary(self, shape: tuple[int, ...], depth: int) -> E | None:
        name, kind, out = self.c.pick(self.UNARY)
        x = self.domain(self.expr(shape, depth), kind)
        self.features.add(f"np.{name}")
        if name == "copy" and shape != () and self.c.chance(0.5):
            return E(f"{x.text}.copy()", shape, x.iv)
        if name == "real" and shape != () and self.c.chance(0.5):
            return E(f"{x.text}.real", shape, x.iv, fresh=False)
        if name == "negative" and self.c.chance(0.3):
            return E(f"(-{x.text})", shape, out(x.iv))
        if name == "positive" and self.c.chance(0.5):
            return E(f"(+{x.text})", shape, out(x.iv))
        if name == "abs" and self.c.chance(0.3):
            return E(f"abs({x.text})", shape, out(x.iv))
        # for real arrays these return their argument itself: not a new array
        fresh = name not in ("real", "real_if_close", "conj")
        return E(f"{self.np(name)}({x.text})", shape, out(x.iv), fresh=fresh)

    def operands(self, shape: tuple[int, ...], depth: int) -> tuple[E, E]:
        other = self.c.pick(self.sub_shapes(shape))
        a, b = self.expr(shape, depth), self.expr(other, depth)
        return (b, a) if self.c.chance(0.5) else (a, b)

    def p_binary(self, shape: tuple[int, ...], depth: int) -> E | None:
        k = self.c.int(0, 16)
        np_ = self.np
        if k <= 3:  # + - * and their NumPy spellings
            a, b = self.operands(shape, depth)
            op = self.c.pick(("+", "-", "*"))
            iv = {"+": (a.iv[0] + b.iv[0], a.iv[1] + b.iv[1]),
                  "-": (a.iv[0] - b.iv[1], a.iv[1] - b.iv[0]), "*": iv_mul(a.iv, b.iv)}[op]  # fmt: skip
            if self.c.chance(0.2):
                fn = {"+": "add", "-": "subtract", "*": "multiply"}[op]
                self.features.add(f"np.{fn}")
                return E(f"{np_(fn)}({a.text}, {b.text})", shape, iv)
            return E(f"({a.text} {op} {b.text})", shape, iv)
        if k <= 5:  # division
            a, b = self.operands(shape, depth)
            b = self.positive(b)
            if self.c.chance(0.3):
                b = E(f"(-{b.text})", b.shape, (-b.iv[1], -b.iv[0]))
            iv = iv_mul(a.iv, mono(lambda v: 1 / v, b.iv))
            if self.c.chance(0.2):
                self.features.add("np.divide")
                return E(f"{np_('divide')}({a.text}, {b.text})", shape, iv)
            return E(f"({a.text} / {b.text})", shape, iv)
        if k <= 7:  # powers: a positive base, a constant or a bounded exponent
            base = self.positive(self.expr(shape, depth), 0.25, 5.0)
            b = self.expr(self.c.pick(self.sub_shapes(shape)), depth)
            if self.c.chance(0.5):
                p = self.c.pick((2, 3, 0.5, 1.5, -1.0, -0.5, 2.5))
                corners = [base.iv[0] ** p, base.iv[1] ** p]
                text = f"({base.text} ** {fmt(p) if isinstance(p, float) else p})"
                if self.c.chance(0.3):
                    text = f"{np_(self.c.pick(('power', 'float_power')))}({base.text}, {float(p)})"
                return E(text, shape, (min(corners), max(corners)))
            ex = self.within(b, 2.0)
            corners = [u**v for u in base.iv for v in ex.iv]
            fn = self.c.pick(("**", "power", "float_power", "pow"))
            self.features.add(f"power:{fn}")
            if fn == "**":
                return E(f"({base.text} ** {ex.text})", shape, (min(corners), max(corners)))
            if fn == "pow":
                return E(f"pow({base.text}, {ex.text})", shape, (min(corners), max(corners)))
            return E(f"{np_(fn)}({base.text}, {ex.text})", shape, (min(corners), max(corners)))
        if k <= 9:  # maximum, minimum (kinks: continuous inputs never tie)
            a, b = self.operands(shape, depth)
            fn = self.c.pick(("maximum", "minimum", "fmax", "fmin"))
            self.features.add(f"np.{fn}")
            big = fn in ("maximum", "fmax")
            iv = (max(a.iv[0], b.iv[0]), max(a.iv[1], b.iv[1])) if big else (
                min(a.iv[0], b.iv[0]), min(a.iv[1], b.iv[1]))  # fmt: skip
            return E(f"{np_(fn)}({a.text}, {b.text})", shape, iv)
        if k == 10:
            a, b = self.operands(shape, depth)
            a = self.positive(a)
            top = math.hypot(mag(a.iv), mag(b.iv))
            if self.c.chance(0.5):
                self.features.add("np.hypot")
                return E(f"{np_('hypot')}({a.text}, {b.text})", shape, (0.0, top))
            self.features.add("np.arctan2")
            return E(f"{np_('arctan2')}({b.text}, {a.text})", shape, (-math.pi, math.pi))
        if k == 11:
            a, b = self.operands(shape, depth)
            fn = self.c.pick(("logaddexp", "logaddexp2"))
            self.features.add(f"np.{fn}")
            lo, hi = max(a.iv[0], b.iv[0]), max(a.iv[1], b.iv[1]) + 1.0
            return E(f"{np_(fn)}({a.text}, {b.text})", shape, (lo, hi))
        if k == 12:  # remainders: the divisor a positive constant or expression
            a = self.expr(shape, depth)
            d = self.c.pick((0.7, 1.3, 2.0))
            fn = self.c.pick(("%", "remainder", "fmod"))
            self.features.add(f"mod:{fn}")
            if fn == "%":
                return E(f"({a.text} % {d})", shape, (0.0, d))
            if fn == "fmod" and self.c.chance(0.5):
                b = self.positive(self.expr(self.c.pick(self.sub_shapes(shape)), depth))
                return E(f"{np_('fmod')}({a.text}, {b.text})", shape, (-b.iv[1], b.iv[1]))
            return E(f"{np_(fn)}({a.text}, {d})", shape, (-d, d))
        if k == 13 and shape == ():  # builtins on scalars
            a, b = self.expr((), depth), self.expr((), depth)
            fn = self.c.pick(("max", "min"))
            self.features.add(f"builtin:{fn}")
            iv = (max(a.iv[0], b.iv[0]), max(a.iv[1], b.iv[1])) if fn == "max" else (
                min(a.iv[0], b.iv[0]), min(a.iv[1], b.iv[1]))  # fmt: skip
            return E(f"{fn}({a.text}, {b.text})", (), iv)
        if k == 14:
            a, b = self.operands(shape, depth)
            self.features.add("mixed-arithmetic")
            return E(
                f"({a.text} - {b.text} * 0.5)", shape, (a.iv[0] - mag(b.iv), a.iv[1] + mag(b.iv))
            )
        return None

    def condition(self, shape: tuple[int, ...], depth: int) -> str:
        """``e > t`` with a threshold inside e's interval (never a tie: both continuous)."""
        e = self.expr(shape, depth)
        lo, hi = e.iv
        span = min(hi, 50.0) - max(lo, -50.0)
        t = self.num(max(lo, -50.0) + 0.25 * span, max(lo, -50.0) + 0.75 * span) if span > 0 else lo
        op = self.c.pick((">", "<", ">=", "<="))
        return f"({e.text} {op} {fmt(t)})"

    def p_select(self, shape: tuple[int, ...], depth: int) -> E | None:
        k = self.c.int(0, 2)
        if k == 0:
            cond = self.condition(self.c.pick(self.sub_shapes(shape)), depth)
            a = self.expr(shape, depth)
            b = self.expr(self.c.pick(self.sub_shapes(shape)), depth)
            if self.c.chance(0.3):  # the unselected side may be out of its domain
                b = E(f"{self.np('log')}({self.expr(self.c.pick(self.sub_shapes(shape)), 0).text} + 10.0)",
                      b.shape, (-5.0, 5.0))  # fmt: skip
            self.features.add("np.where")
            return E(f"{self.np('where')}({cond}, {a.text}, {b.text})", shape, hull(a.iv, b.iv))
        if k == 1:
            x = self.expr(shape, depth)
            lo, hi = x.iv
            a = self.num(lo, (lo + hi) / 2) if hi > lo else lo - 1
            b = self.num((lo + hi) / 2, hi) if hi > lo else hi + 1
            if a >= b:
                a, b = b - 0.5, a + 0.5
            self.features.add("np.clip")
            if shape != () and self.c.chance(0.3):
                return E(f"{x.text}.clip({fmt(a)}, {fmt(b)})", shape, (a, b))
            return E(f"{self.np('clip')}({x.text}, {fmt(a)}, {fmt(b)})", shape, (a, b))
        cond = self.condition((), depth)
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        self.features.add("ifexp")
        return E(f"({a.text} if {cond} else {b.text})", shape, hull(a.iv, b.iv), fresh=False)

    def any_shape(self, min_size: int = 1) -> tuple[int, ...]:
        options = [s for s in self.shapes()[1:] if int(np.prod(s)) >= min_size]
        return self.c.pick(options) if options else (max(min_size, 2),)

    REDUCTIONS = ("sum", "mean", "max", "min", "prod", "var", "std", "ptp", "median", "norm",
                  "average")  # fmt: skip

    def reduction(self, fn: str, x: E, axis: int | None, keepdims: bool) -> E:
        """``fn`` of ``x`` over ``axis`` (its result's shape and interval)."""
        shape = x.shape
        if axis is None:
            out: tuple[int, ...] = tuple(1 for _ in shape) if keepdims else ()
            count = x.size
        else:
            out = tuple(1 if i == axis else d for i, d in enumerate(shape)) if keepdims else (
                tuple(d for i, d in enumerate(shape) if i != axis))  # fmt: skip
            count = shape[axis]
        iv = x.iv
        if fn == "sum":
            iv = iv_scale(x.iv, count) if count else (0.0, 0.0)
        elif fn == "prod":
            iv = (-(mag(x.iv) ** count), mag(x.iv) ** count)
        elif fn == "var":
            iv = (0.0, (x.iv[1] - x.iv[0]) ** 2)
        elif fn in ("std", "ptp"):
            iv = (0.0, x.iv[1] - x.iv[0])
        elif fn == "norm":
            iv = (0.0, mag(x.iv) * math.sqrt(max(count, 1)))
        ax = "" if axis is None else f", axis={axis}"
        kd = ", keepdims=True" if keepdims else ""
        if fn == "norm":
            return E(f"{self.np('linalg.norm')}({x.text}{ax}{kd})", out, iv)
        if fn == "average" and self.c.chance(0.5):
            wshape = x.shape if axis is None else (x.shape[axis],)
            w = self.positive(self.leaf(wshape), 0.25, 5.0)
            self.features.add("np.average:weighted")
            return E(f"{self.np('average')}({x.text}{ax}, weights={w.text}{kd})", out, iv)
        if (
            fn in ("sum", "mean", "max", "min", "prod", "var", "std")
            and shape
            and self.c.chance(0.3)
        ):
            self.features.add(f"method:{fn}")
            axt = "" if axis is None else f"axis={axis}"
            sep = ", " if axt and kd else ""
            return E(f"{x.text}.{fn}({axt}{sep}{kd[2:]})", out, iv)
        return E(f"{self.np(fn)}({x.text}{ax}{kd})", out, iv)

    def generic(self, shape: tuple[int, ...]) -> E | None:
        """An expression whose elements all differ (for std and norm, which have no
        derivative at zero spread): an input of that shape, or a smooth function of one."""
        ins = [n for n, e in self.env.items() if e.shape == shape and n in self.inputs]
        if not ins or self.in_helper:  # a helper's parameters may hold anything
            return None
        base = self.c.pick(sorted(ins))
        if self.c.chance(0.5):
            return E(f"{self.np('sin')}({base})", shape, (-1.0, 1.0))
        return E(base, shape, self.env[base].iv, fresh=False)

    def p_reduce(self, shape: tuple[int, ...], depth: int) -> E | None:
        fn = self.c.pick(self.REDUCTIONS)
        if shape == ():
            srcs = [self.any_shape(2 if fn in ("std", "var", "ptp") else 1)]
            axes: list[int | None] = [None]
            keep = False
        elif len(shape) == 1:
            k = shape[0]
            js = sorted(
                {max(j, 2) if fn in ("std", "var", "ptp") else j for j in (self.n, self.m, 2)}
            )
            srcs = [(j, k) for j in js] + [(k, j) for j in js]
            axes = [0] * len(js) + [1] * len(js)
            keep = False
        elif 1 in shape and fn != "average":
            axis = shape.index(1)
            srcs, axes = [], []
            for j in (2, self.n, self.m):
                full = list(shape)
                full[axis] = j
                srcs.append(tuple(full))
                axes.append(axis)
            keep = True
        else:
            return None
        choice = self.c.int(0, len(srcs) - 1)
        src, axis = srcs[choice], axes[choice]
        if fn in ("std", "norm"):
            options = [
                (s, a)
                for s, a in zip(srcs, axes)
                if (int(np.prod(s)) if a is None else s[a]) >= 2 and self.generic(s) is not None
            ]
            if not options:
                fn = "var"
            else:
                src, axis = self.c.pick(options)
        self.features.add(f"reduce:{fn}")
        x = self.generic(src) if fn in ("std", "norm") else self.expr(src, depth)
        if fn == "prod":
            x = self.within(x, 1.5)
        if len(shape) == 1 and shape[0] == 1 and self.c.chance(0.3):  # keepdims, then (1,)
            r = self.reduction(fn, x, None, True)
            return E(f"{self.np('ravel')}({r.text})", (1,), r.iv)
        return self.reduction(fn, x, axis, keep)

    def p_product(self, shape: tuple[int, ...], depth: int) -> E | None:
        """Matrix products and their spellings."""
        np_ = self.np
        j = self.c.pick((self.n, self.m, 2))
        if shape == ():
            a, b = self.expr((j,), depth), self.expr((j,), depth)
            iv = iv_scale(iv_mul(a.iv, b.iv), j)
            form = self.c.pick(("@", "dot", "inner", "vdot", "einsum", "tensordot", "method"))
            self.features.add(f"product:{form}")
            if form == "@":
                return E(f"({a.text} @ {b.text})", (), iv)
            if form == "einsum":
                return E(f"{np_('einsum')}('i,i->', {a.text}, {b.text})", (), iv)
            if form == "tensordot":
                return E(f"{np_('tensordot')}({a.text}, {b.text}, axes=1)", (), iv)
            if form == "method":
                return E(f"{a.text}.dot({b.text})", (), iv)
            return E(f"{np_(form)}({a.text}, {b.text})", (), iv)
        if len(shape) == 1:
            k = shape[0]
            if self.c.chance(0.5):
                A, v = self.expr((k, j), depth), self.expr((j,), depth)
                iv = iv_scale(iv_mul(A.iv, v.iv), j)
                form = self.c.pick(("@", "dot", "matmul", "einsum", "tensordot"))
                self.features.add(f"matvec:{form}")
                if form == "@":
                    return E(f"({A.text} @ {v.text})", shape, iv)
                if form == "einsum":
                    return E(f"{np_('einsum')}('ij,j->i', {A.text}, {v.text})", shape, iv)
                if form == "tensordot":
                    return E(f"{np_('tensordot')}({A.text}, {v.text}, axes=1)", shape, iv)
                return E(f"{np_(form)}({A.text}, {v.text})", shape, iv)
            v = self.expr((j,), depth)
            if self.c.chance(0.5):
                A = self.expr((j, k), depth)
                self.features.add("vecmat")
                return E(f"({v.text} @ {A.text})", shape, iv_scale(iv_mul(A.iv, v.iv), j))
            At = self.expr((k, j), depth)
            self.features.add("vecmat:T")
            return E(f"({v.text} @ {At.text}.T)", shape, iv_scale(iv_mul(At.iv, v.iv), j))
        a, b = shape
        form = self.c.pick(("@", "outer", "einsum", "matmul", "kron"))
        self.features.add(f"matmat:{form}")
        if form == "outer":
            u, v = self.expr((a,), depth), self.expr((b,), depth)
            return E(f"{np_('outer')}({u.text}, {v.text})", shape, iv_mul(u.iv, v.iv))
        if form == "kron" and a == 1:
            u, v = self.expr((1, 1), depth), self.expr((1, b), depth)
            return E(f"{np_('kron')}({u.text}, {v.text})", shape, iv_mul(u.iv, v.iv))
        A, B = self.expr((a, j), depth), self.expr((j, b), depth)
        iv = iv_scale(iv_mul(A.iv, B.iv), j)
        if form == "einsum":
            return E(f"{np_('einsum')}('ij,jk->ik', {A.text}, {B.text})", shape, iv)
        if form == "matmul":
            return E(f"{np_('matmul')}({A.text}, {B.text})", shape, iv)
        return E(f"({A.text} @ {B.text})", shape, iv)

    def p_index(self, shape: tuple[int, ...], depth: int) -> E | None:
        """Indexing and slicing (views: not fresh)."""
        k = self.c.int(0, 5)
        if shape == ():
            if k <= 2:
                L = self.c.int(1, 4)
                v = self.expr((L,), depth)
                i = self.c.int(-L, L - 1)
                self.features.add("index:scalar")
                return E(f"{v.text}[{i}]", (), v.iv, fresh=False)
            a, b = self.c.int(1, 3), self.c.int(1, 3)
            M = self.expr((a, b), depth)
            i, j = self.c.int(0, a - 1), self.c.int(-b, b - 1)
            self.features.add("index:matrix")
            if self.c.chance(0.3):
                return E(f"{M.text}[{i}][{j}]", (), M.iv, fresh=False)
            return E(f"{M.text}[{i}, {j}]", (), M.iv, fresh=False)
        if len(shape) == 1:
            n = shape[0]
            if k == 0:
                L = n + self.c.int(0, 2)
                v = self.expr((L,), depth)
                a = self.c.int(0, L - n)
                self.features.add("slice")
                return E(f"{v.text}[{a}:{a + n}]", shape, v.iv, fresh=False)
            if k == 1:
                v = self.expr(shape, depth)
                self.features.add("slice:reversed")
                return E(f"{v.text}[::-1]", shape, v.iv, fresh=False)
            if k == 2:
                L = self.c.int(1, 4)
                v = self.expr((L,), depth)
                idx = [self.c.int(0, L - 1) for _ in range(n)]
                self.features.add("index:fancy")
                if self.c.chance(0.5):
                    self.features.add("np.take")
                    return E(f"{self.np('take')}({v.text}, {idx!r})", shape, v.iv)
                return E(f"{v.text}[{idx!r}]", shape, v.iv)
            if k == 3:
                r = self.c.int(1, 3)
                M = self.expr((r, n), depth)
                i = self.c.int(0, r - 1)
                self.features.add("index:row")
                return E(
                    f"{M.text}[{i}]" if self.c.chance(0.5) else f"{M.text}[{i}, :]",
                    shape,
                    M.iv,
                    fresh=False,
                )
            if k == 4:
                cc = self.c.int(1, 3)
                M = self.expr((n, cc), depth)
                j = self.c.int(0, cc - 1)
                self.features.add("index:column")
                if self.c.chance(0.3):
                    return E(f"{M.text}[..., {j}]", shape, M.iv, fresh=False)
                return E(f"{M.text}[:, {j}]", shape, M.iv, fresh=False)
            M = self.expr((n, n), depth)
            self.features.add("np.diagonal")
            if self.c.chance(0.5):  # of a matrix, np.diag is a read-only view as diagonal is
                return E(f"{self.np('diag')}({M.text})", shape, M.iv, fresh=False)
            return E(f"{self.np('diagonal')}({M.text})", shape, M.iv, fresh=False)
        a, b = shape
        if k <= 1:
            M = self.expr((a + 1, b + self.c.int(0, 1)), depth)
            self.features.add("slice:2d")
            return E(f"{M.text}[1:, :{b}]", shape, M.iv, fresh=False)
        if a == 1 and k <= 3:
            v = self.expr((b,), depth)
            self.features.add("newaxis")
            form = self.c.pick(("[None, :]", "[None]", "expand", "atleast"))
            if form == "expand":
                return E(f"{self.np('expand_dims')}({v.text}, 0)", shape, v.iv, fresh=False)
            if form == "atleast":
                return E(f"{self.np('atleast_2d')}({v.text})", shape, v.iv, fresh=False)
            return E(f"{v.text}{form}", shape, v.iv, fresh=False)
        if b == 1 and k <= 3:
            v = self.expr((a,), depth)
            self.features.add("newaxis")
            if self.c.chance(0.5):
                return E(f"{self.np('expand_dims')}({v.text}, 1)", shape, v.iv, fresh=False)
            return E(f"{v.text}[:, None]", shape, v.iv, fresh=False)
        M = self.expr((a, b), depth)
        self.features.add("np.triu")
        return E(
            f"{self.np(self.c.pick(('triu', 'tril')))}({M.text})", shape, hull(M.iv, (0.0, 0.0))
        )

    def p_layout(self, shape: tuple[int, ...], depth: int) -> E | None:
        """Reshapes, transposes, joins, flips: linear maps of the elements."""
        if shape == ():
            return None
        for _ in range(6):  # some forms need particular sizes: try another one
            out = self.layout(shape, depth, self.c.int(0, 11))
            if out is not None:
                return out
        return None

    def layout(self, shape: tuple[int, ...], depth: int, k: int) -> E | None:
        np_ = self.np
        if len(shape) == 1:
            n = shape[0]
            if k == 0:
                a = self.c.int(1, 2)
                if n % a:
                    a = 1
                M = self.expr((a, n // a), depth)
                self.features.add("ravel")
                form = self.c.pick(("ravel", "reshape", "flatten", "np.reshape"))
                if form == "ravel":
                    return E(f"{np_('ravel')}({M.text})", shape, M.iv, fresh=False)
                if form == "flatten":
                    return E(f"{M.text}.flatten()", shape, M.iv)
                if form == "np.reshape":
                    return E(f"{np_('reshape')}({M.text}, ({n},))", shape, M.iv, fresh=False)
                return E(f"{M.text}.reshape(-1)", shape, M.iv, fresh=False)
            if k == 1 and n >= 2:
                a = self.c.int(1, n - 1)
                u, v = self.expr((a,), depth), self.expr((n - a,), depth)
                fn = self.c.pick(("concatenate", "hstack", "append"))
                self.features.add(f"np.{fn}")
                if fn == "append":
                    return E(f"{np_('append')}({u.text}, {v.text})", shape, hull(u.iv, v.iv))
                return E(f"{np_(fn)}([{u.text}, {v.text}])", shape, hull(u.iv, v.iv))
            if k == 1:
                a, b = self.expr((), depth), self.expr((), depth)
                self.features.add("np.linspace")
                return E(f"{np_('linspace')}({a.text}, {b.text}, {n})", shape, hull(a.iv, b.iv))
            if k == 2 and n <= 4:
                items = [self.expr((), depth) for _ in range(n)]
                self.features.add("np.array")
                return E(
                    f"{np_('array')}([{', '.join(i.text for i in items)}])",
                    shape,
                    hull(*(i.iv for i in items)),
                )
            if k == 3:
                v = self.expr((n + 1,), depth)
                self.features.add("np.diff")
                return E(f"{np_('diff')}({v.text})", shape, (v.iv[0] - v.iv[1], v.iv[1] - v.iv[0]))
            if k == 4:
                v = self.generic(shape) or self.expr(shape, depth)
                fn = self.c.pick(("sort", "flip", "roll", "cumsum", "cumprod", "partition"))
                self.features.add(f"np.{fn}")
                if fn == "partition":
                    return E(f"{np_('partition')}({v.text}, {self.c.int(0, n - 1)})", shape, v.iv)
                if fn == "roll":
                    return E(f"{np_('roll')}({v.text}, {self.c.int(-2, 2)})", shape, v.iv)
                if fn == "cumsum":
                    return E(f"{np_('cumsum')}({v.text})", shape, iv_scale(v.iv, n) if n else v.iv)
                if fn == "cumprod":
                    v = self.within(v, 1.5)
                    return E(f"{np_('cumprod')}({v.text})", shape, (-(1.5**n), 1.5**n))
                return E(f"{np_(fn)}({v.text})", shape, v.iv, fresh=fn != "flip")
            if k == 5 and n % 2 == 0:
                v = self.expr((n // 2,), depth)
                fn = self.c.pick(("repeat", "tile"))
                self.features.add(f"np.{fn}")
                return E(f"{np_(fn)}({v.text}, 2)", shape, v.iv)
            if k == 6 and n >= 3:
                v = self.expr((n - 2,), depth)
                self.features.add("np.pad")
                return E(f"{np_('pad')}({v.text}, 1)", shape, hull(v.iv, (0.0, 0.0)))
            if k == 7 and n >= 2:
                a = self.c.int(1, n)
                u, v = self.expr((a,), depth), self.expr((n - a + 1,), depth)
                self.features.add("np.convolve")
                return E(
                    f"{np_('convolve')}({u.text}, {v.text})",
                    shape,
                    iv_scale(iv_mul(u.iv, v.iv), min(a, n - a + 1)),
                )
            if k == 8 and n == 3:
                u, v = self.expr((3,), depth), self.expr((3,), depth)
                self.features.add("np.cross")
                return E(
                    f"{np_('cross')}({u.text}, {v.text})", shape, iv_scale(iv_mul(u.iv, v.iv), 2)
                )
            if k == 9:
                v = self.expr((1, n), depth)
                self.features.add("np.squeeze")
                return E(
                    f"{np_('squeeze')}({v.text}, axis=0)" if self.c.chance(0.5) else f"{v.text}[0]",
                    shape,
                    v.iv,
                    fresh=False,
                )
            if k == 10:
                u = self.expr((2 * n,), depth)
                fn = self.c.pick(("split", "array_split", "hsplit"))
                self.features.add(f"np.{fn}")
                return E(f"{np_(fn)}({u.text}, 2)[{self.c.int(0, 1)}]", shape, u.iv, fresh=False)
            v = self.expr(shape, depth)
            self.features.add("np.atleast_1d")
            return E(f"{np_('atleast_1d')}({v.text})", shape, v.iv, fresh=False)
        a, b = shape
        if k <= 2:
            M = self.expr((b, a), depth)
            form = self.c.pick((".T", "transpose", "swapaxes", "moveaxis", "rollaxis", "method"))
            self.features.add(f"transpose:{form}")
            text = {
                ".T": f"{M.text}.T",
                "transpose": f"{np_('transpose')}({M.text})",
                "swapaxes": f"{np_('swapaxes')}({M.text}, 0, 1)",
                "moveaxis": f"{np_('moveaxis')}({M.text}, 0, 1)",
                "rollaxis": f"{np_('rollaxis')}({M.text}, 1)",
                "method": f"{M.text}.transpose()",
            }[form]
            return E(text, shape, M.iv, fresh=False)
        if k == 3:
            v = self.expr((a * b,), depth)
            self.features.add("reshape")
            if self.c.chance(0.5):
                return E(f"{v.text}.reshape({a}, {b})", shape, v.iv, fresh=False)
            return E(f"{np_('reshape')}({v.text}, ({a}, {b}))", shape, v.iv, fresh=False)
        if k == 4 and a <= 3:
            rows = [self.expr((b,), depth) for _ in range(a)]
            fn = self.c.pick(("stack", "vstack", "array"))
            self.features.add(f"rows:{fn}")
            return E(
                f"{np_(fn)}([{', '.join(r.text for r in rows)}])",
                shape,
                hull(*(r.iv for r in rows)),
            )
        if k == 5 and b <= 3:
            cols = [self.expr((a,), depth) for _ in range(b)]
            self.features.add("np.column_stack")
            return E(
                f"{np_('column_stack')}([{', '.join(c.text for c in cols)}])",
                shape,
                hull(*(c.iv for c in cols)),
            )
        if k == 6:
            M = self.expr(shape, depth)
            fn = self.c.pick(("fliplr", "flipud", "flip", "rot90"))
            self.features.add(f"np.{fn}")
            if fn == "rot90":
                return E(f"{np_('rot90')}({M.text}, 2)", shape, M.iv, fresh=False)
            return E(f"{np_(fn)}({M.text})", shape, M.iv, fresh=False)
        if k == 7 and a >= 2:
            top = self.c.int(1, a - 1)
            U, V = self.expr((top, b), depth), self.expr((a - top, b), depth)
            self.features.add("concatenate:axis0")
            return E(f"{np_('concatenate')}([{U.text}, {V.text}], axis=0)", shape, hull(U.iv, V.iv))
        if k == 8 and b >= 2:
            left = self.c.int(1, b - 1)
            U, V = self.expr((a, left), depth), self.expr((a, b - left), depth)
            self.features.add("np.hstack:2d")
            return E(f"{np_('hstack')}([{U.text}, {V.text}])", shape, hull(U.iv, V.iv))
        if k == 9:
            v = self.expr((b,), depth)
            self.features.add("np.broadcast_to")
            return E(f"{np_('broadcast_to')}({v.text}, ({a}, {b}))", shape, v.iv, fresh=False)
        if k == 10 and a >= 3 and b >= 3:
            M = self.expr((a - 2, b - 2), depth)
            self.features.add("np.pad:2d")
            return E(f"{np_('pad')}({M.text}, 1)", shape, hull(M.iv, (0.0, 0.0)))
        if k == 11 and b % 2 == 0:
            M = self.expr((a, b // 2), depth)
            fn = self.c.pick(("tile", "repeat", "hsplit"))
            self.features.add(f"np.{fn}:2d")
            if fn == "tile":
                return E(f"{np_('tile')}({M.text}, (1, 2))", shape, M.iv)
            if fn == "repeat":
                return E(f"{np_('repeat')}({M.text}, 2, axis=1)", shape, M.iv)
            W = self.expr((a, 2 * b), depth)
            return E(f"{np_('hsplit')}({W.text}, 2)[1]", shape, W.iv, fresh=False)
        if k == 11 and a % 2 == 0:
            W = self.expr((2 * a, b), depth)
            self.features.add("np.vsplit")
            return E(f"{np_('vsplit')}({W.text}, 2)[0]", shape, W.iv, fresh=False)
        return None

    def spd(self, k: int, depth: int, distinct: bool = False) -> E:
        """A symmetric positive definite matrix, eigenvalues in [1, 1 + 0.9k]: well conditioned.
        ``distinct``: eigenvalues near 1, 2, ..., k (at most 0.02k away), never repeated, as
        the derivatives of eigenvectors and singular values need."""
        self.features.add("spd")
        if distinct:
            B = self.within(self.expr((k, k), max(depth - 1, 0)), 1.0)
            diag = f"{self.np('diag')}({self.np('arange')}(1.0, {k + 1}.0))"
            return E(f"({diag} + 0.02 * ({B.text} @ {B.text}.T))", (k, k), (-k - 0.1, k + 0.1))
        B = self.within(self.expr((k, k), max(depth - 1, 0)), 3.0)
        top = 1.0 + 0.1 * k * 9.0
        return E(f"({self.np('eye')}({k}) + 0.1 * ({B.text} @ {B.text}.T))", (k, k), (-top, top))

    def p_linalg(self, shape: tuple[int, ...], depth: int) -> E | None:
        k = self.c.int(1, 3)
        form = self.c.pick(("det", "slogdet", "inv", "solve", "eigvalsh", "eigh", "cholesky",
                            "trace", "norm", "pinv", "svd"))  # fmt: skip
        A = self.spd(k, depth, distinct=form in ("eigvalsh", "eigh", "svd"))
        top = 1.0 + 0.9 * k
        self.features.add(f"linalg:{form}")
        la = self.np("linalg")
        if form == "det":
            return E(f"{la}.det({A.text})", (), (1.0, top**k))
        if form == "slogdet":
            return E(f"{la}.slogdet({A.text})[1]", (), (0.0, k * math.log(top)))
        if form == "inv":
            return E(f"{self.np('sum')}({la}.inv({A.text}))", (), (-k * k * 1.0, k * k * 1.0))
        if form == "solve":
            b = self.expr((k,), max(depth - 1, 0))
            return E(f"{self.np('sum')}({la}.solve({A.text}, {b.text}))", (), iv_scale(b.iv, k * k))
        if form == "eigvalsh":
            return E(f"{self.np('sum')}({la}.eigvalsh({A.text}) ** 2)", (), (0.0, k * top**2))
        if form == "eigh":
            w = f"{la}.eigh({A.text})"
            return E(
                f"({self.np('sum')}({w}[0]) + {self.np('sum')}({w}[1] ** 2))",
                (),
                (0.0, k * top + k),
            )
        if form == "cholesky":
            return E(f"{self.np('sum')}({la}.cholesky({A.text}))", (), (-k * k * top, k * k * top))
        if form == "trace":
            return E(f"{self.np('trace')}({A.text})", (), (-k * top, k * top))
        if form == "pinv":
            return E(f"{self.np('sum')}({la}.pinv({A.text}))", (), (-k * k * 1.0, k * k * 1.0))
        if form == "svd":  # singular values only: the vectors have arbitrary signs
            M = self.generic(self.c.pick(self.shapes()[1:]))
            if M is None or len(M.shape) != 2:
                return E(
                    f"{self.np('sum')}({la}.svd({A.text}, compute_uv=False))", (), (0.0, k * top)
                )
            top = mag(M.iv) * M.size
            if self.c.chance(0.5):
                return E(f"{self.np('sum')}({la}.svd({M.text})[1])", (), (0.0, top))
            return E(
                f"{self.np('sum')}({la}.svd({M.text}, compute_uv=False) ** 2)", (), (0.0, top**2)
            )
        return E(f"{la}.norm({A.text})", (), (0.0, k * top))

    MATH1 = (
        ("exp", "small", lambda a: mono(math.exp, a)), ("log", "pos", lambda a: mono(math.log, a)),
        ("log1p", "pos", lambda a: mono(math.log1p, a)), ("expm1", "small", lambda a: mono(math.expm1, a)),
        ("sqrt", "pos", lambda a: mono(math.sqrt, a)), ("sin", "any", lambda a: (-1.0, 1.0)),
        ("cos", "any", lambda a: (-1.0, 1.0)), ("tan", "tan", lambda a: mono(math.tan, a)),
        ("tanh", "any", lambda a: mono(math.tanh, a)), ("sinh", "small", lambda a: mono(math.sinh, a)),
        ("cosh", "small", lambda a: (1.0, math.cosh(mag(a)))), ("atan", "any", lambda a: mono(math.atan, a)),
        ("asin", "unit", lambda a: mono(math.asin, a)), ("acos", "unit", lambda a: mono(math.acos, a)),
        ("log2", "pos", lambda a: mono(math.log2, a)), ("log10", "pos", lambda a: mono(math.log10, a)),
        ("erf", "any", lambda a: mono(math.erf, a)), ("erfc", "any", lambda a: mono(math.erfc, a)),
        ("fabs", "pos", lambda a: a), ("exp2", "small", lambda a: mono(lambda v: 2.0**v, a)),
        ("cbrt", "pos", lambda a: mono(lambda v: v ** (1 / 3), a)),
        ("asinh", "any", lambda a: mono(math.asinh, a)), ("acosh", "ge1", lambda a: mono(math.acosh, a)),
        ("atanh", "unit", lambda a: mono(math.atanh, a)),
        ("degrees", "any", lambda a: iv_scale(a, 180 / math.pi)),
        ("radians", "any", lambda a: iv_scale(a, math.pi / 180)),
        ("floor", "any", lambda a: (math.floor(a[0]), math.floor(a[1]))),
    )  # fmt: skip

    def p_math(self, shape: tuple[int, ...], depth: int) -> E | None:
        if self.c.chance(0.7):
            name, kind, out = self.c.pick(self.MATH1)
            x = self.domain(self.expr((), depth), kind)
            self.features.add(f"math.{name}")
            if name == "floor":  # an int: keep arrays built from it float
                return E(f"float({self.mt(name)}({x.text}))", (), out(x.iv))
            return E(f"{self.mt(name)}({x.text})", (), out(x.iv))
        form = self.c.pick(("pow", "hypot", "atan2", "fmod", "log2arg"))
        self.features.add(f"math.{form}")
        a, b = self.expr((), depth), self.expr((), depth)
        if form == "pow":
            base, ex = self.positive(a, 0.25, 5.0), self.within(b, 2.0)
            corners = [u**v for u in base.iv for v in ex.iv]
            return E(f"{self.mt('pow')}({base.text}, {ex.text})", (), (min(corners), max(corners)))
        if form == "hypot":
            a = self.positive(a)
            return E(
                f"{self.mt('hypot')}({a.text}, {b.text})",
                (),
                (0.0, math.hypot(mag(a.iv), mag(b.iv))),
            )
        if form == "atan2":
            a = self.positive(a)
            return E(f"{self.mt('atan2')}({b.text}, {a.text})", (), (-math.pi, math.pi))
        if form == "fmod":
            return E(
                f"{self.mt('fmod')}({a.text}, {self.c.pick((0.7, 1.3, 2.0))})", (), (-2.0, 2.0)
            )
        x = self.positive(a)
        base = self.positive(b, 1.5, 4.0)
        lo, hi = math.log(x.iv[0]), math.log(x.iv[1])
        return E(
            f"{self.mt('log')}({x.text}, {base.text})",
            (),
            (
                min(lo / math.log(1.5), lo / math.log(4.0)),
                max(hi / math.log(1.5), hi / math.log(4.0)),
            ),
        )

    def p_scalar_misc(self, shape: tuple[int, ...], depth: int) -> E | None:
        k = self.c.int(0, 6)
        if k == 0:
            x = self.expr((), depth)
            fn = self.c.pick(("float", "np.float64", "abs"))
            self.features.add(f"scalar:{fn}")
            if fn == "abs":
                x = self.positive(x)
                return E(f"abs({x.text})", (), x.iv)
            text = f"float({x.text})" if fn == "float" else f"{self.np('float64')}({x.text})"
            return E(text, (), x.iv)
        if k == 1:
            base, ex = self.positive(self.expr((), depth), 0.25, 5.0), self.within(
                self.expr((), depth), 2.0
            )
            corners = [u**v for u in base.iv for v in ex.iv]
            self.features.add("builtin:pow")
            return E(f"pow({base.text}, {ex.text})", (), (min(corners), max(corners)))
        if k == 2:
            x = self.expr(self.any_shape(), depth)
            exotic = self.c.pick(
                ("atleast_3d", "dstack", "dsplit", "len", "sum-list", "shape", "tuple")
            )
            self.features.add(f"exotic:{exotic}")
            if exotic == "tuple":
                y = self.expr(x.shape, depth)
                return E(
                    f"{self.np('sum')}(({x.text}, {y.text}))",
                    (),
                    iv_scale(hull(x.iv, y.iv), 2 * x.size),
                )
            if exotic == "atleast_3d":
                return E(
                    f"{self.np('sum')}({self.np('atleast_3d')}({x.text}))",
                    (),
                    iv_scale(x.iv, x.size),
                )
            if exotic == "dstack":
                y = self.expr(x.shape, depth)
                return E(
                    f"{self.np('sum')}({self.np('dstack')}([{x.text}, {y.text}]))",
                    (),
                    iv_scale(hull(x.iv, y.iv), 2 * x.size),
                )
            if exotic == "dsplit":
                return E(
                    f"{self.np('sum')}({self.np('dsplit')}({self.np('atleast_3d')}({x.text}), 1)[0])",
                    (),
                    iv_scale(x.iv, x.size),
                )
            if exotic == "len":
                return E(
                    f"({self.np('sum')}({x.text}) * len({x.text}))",
                    (),
                    iv_scale(x.iv, x.size * x.shape[0]),
                )
            if exotic == "shape":
                return E(
                    f"({self.np('sum')}({x.text}) / {x.text}.shape[0])", (), iv_scale(x.iv, x.size)
                )
            items = [self.expr((), depth) for _ in range(self.c.int(1, 3))]
            return E(
                f"sum([{', '.join(i.text for i in items)}])",
                (),
                iv_scale(hull(*(i.iv for i in items)), len(items)),
            )
        if k == 3:
            a, b = self.c.int(1, 3), self.c.int(1, 3)
            A, B = self.expr((a, b), depth), self.expr((a, b), depth)
            self.features.add("tensordot:2")
            return E(
                f"{self.np('tensordot')}({A.text}, {B.text})",
                (),
                iv_scale(iv_mul(A.iv, B.iv), a * b),
            )
        if k == 4:
            A, B = self.expr((self.m, self.n), depth), self.expr((self.m, self.n), depth)
            self.features.add("np.vdot:2d")
            return E(
                f"{self.np('vdot')}({A.text}, {B.text})",
                (),
                iv_scale(iv_mul(A.iv, B.iv), self.m * self.n),
            )
        if k == 5:
            j = self.c.int(1, 3)
            M = self.expr((j, j), depth)
            self.features.add("np.trace")
            return E(
                f"{self.np('trace')}({M.text})" if self.c.chance(0.5) else f"{M.text}.trace()",
                (),
                iv_scale(M.iv, j),
            )
        u, v = self.expr((2,), depth), self.expr((2,), depth)
        self.features.add("np.kron")
        return E(
            f"{self.np('sum')}({self.np('kron')}({u.text}, {v.text}))",
            (),
            iv_scale(iv_mul(u.iv, v.iv), 4),
        )

    def p_misc(self, shape: tuple[int, ...], depth: int) -> E | None:
        """Copies and conversions, and the fill value of np.full / np.full_like."""
        k = self.c.int(0, 3)
        x = self.expr(shape, depth)
        if k == 0:
            fn = self.c.pick(("asarray", "array", "copy"))
            self.features.add(f"np.{fn}")
            return E(f"{self.np(fn)}({x.text})", shape, x.iv, fresh=fn != "asarray")
        if k == 1 and shape != ():
            s = self.expr((), depth)
            if self.c.chance(0.5):
                self.features.add("np.full_like")
                return E(
                    f"({self.np('full_like')}({x.text}, {s.text}) + {x.text})",
                    shape,
                    (s.iv[0] + x.iv[0], s.iv[1] + x.iv[1]),
                )
            self.features.add("np.full")
            return E(f"{self.np('full')}({shape!r}, {s.text})", shape, s.iv)
        if k == 2 and shape != ():
            self.features.add("astype")
            return E(f"{x.text}.astype(float)", shape, x.iv)
        return None

    def p_call(self, shape: tuple[int, ...], depth: int) -> E | None:
        """A call to one of the program's helpers that returns ``shape``."""
        fits = [h for h in self.helpers if any(r[0] == shape for r in h.returns)]
        if not fits:
            return None
        h = self.c.pick(fits)
        args = []
        for i, (pname, pshape, piv) in enumerate(h.params):
            if h.default is not None and i == len(h.params) - 1 and self.c.chance(0.4):
                break  # leave the default
            e = self.expr(pshape, depth)
            if e.iv[0] < piv[0] or e.iv[1] > piv[1]:
                e = self.fit(e, piv)
            keyword = i == len(h.params) - 1 and i > 0 and self.c.chance(0.3)
            args.append(f"{pname}={e.text}" if keyword else e.text)
        call = f"{h.name}({', '.join(args)})"
        self.features.add("helper-call")
        if len(h.returns) == 1:  # may be a view, even a read-only one (np.diag of a matrix)
            return E(call, shape, h.returns[0][1], fresh=False)
        i = next(i for i, r in enumerate(h.returns) if r[0] == shape)
        self.features.add("helper-tuple-item")
        return E(f"{call}[{i}]", shape, h.returns[i][1], fresh=False)

    def fit(self, e: E, iv: Iv) -> E:
        """``e`` mapped into the interval ``iv`` of a helper's parameter."""
        lo, hi = iv
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        return E(
            f"({fmt(mid)} + {fmt(half * 0.95)} * {self.np('tanh')}({e.text}))",
            e.shape,
            (mid - half * 0.95, mid + half * 0.95),
        )

    # -------------------------------------------------------------- statements
    def bind(self, name: str, e: E) -> None:
        self.env[name] = e

    def s_assign(self, depth: int) -> None:
        shape = self.c.pick(self.shapes())
        e = self.expr(shape, depth)
        name = self.fresh_name()
        self.emit(f"{name} = {e.text}")
        self.bind(name, E(name, shape, e.iv, fresh=e.fresh))
        if not e.fresh:
            self.share(e.text)

    def share(self, text: str) -> None:
        """The names ``text`` reads may now share memory with a new name: never update them
        in place (symdiff refuses that, as Python would change both)."""
        for n in list(self.owners):
            if re.search(rf"\b{re.escape(n)}\b", text):
                self.owners.discard(n)

    def locals_(self, fresh_only: bool = False) -> list[str]:
        return sorted(
            n for n, e in self.env.items() if n not in self.inputs and (e.fresh or not fresh_only)
        )

    def s_augassign(self, depth: int) -> None:
        names = [n for n in self.locals_(fresh_only=True) if self.unshared(n)]
        if not names:
            return self.s_assign(depth)
        name = self.c.pick(names)
        v = self.env[name]
        e = self.expr(self.c.pick(self.sub_shapes(v.shape)), depth)
        op = self.c.pick(("+=", "-=", "*=", "/="))
        if op == "/=":
            e = self.positive(e)
            iv = iv_mul(v.iv, mono(lambda t: 1 / t, e.iv))
        elif op == "*=":
            e = self.within(e, 2.0)
            iv = iv_mul(v.iv, e.iv)
        elif op == "+=":
            iv = (v.iv[0] + e.iv[0], v.iv[1] + e.iv[1])
        else:
            iv = (v.iv[0] - e.iv[1], v.iv[1] - e.iv[0])
        self.features.add(f"augassign{op}")
        self.emit(f"{name} {op} {e.text}")
        if mag(iv) > MAG:
            self.emit(f"{name} = {self.np('tanh')}({name})")
            iv = (-1.0, 1.0)
        self.bind(name, E(name, v.shape, iv, fresh=True))

    def unshared(self, name: str) -> bool:
        """No other name may share ``name``'s memory (symdiff refuses in-place updates then)."""
        return name in self.owners

    def s_if(self, depth: int) -> None:
        """if/elif/else on data; every branch assigns the same new names."""
        cond = self.condition((), depth)
        if self.c.chance(0.2):
            cond = f"{cond} {self.c.pick(('and', 'or'))} {self.condition((), 0)}"
            self.features.add("boolop")
        shape = self.c.pick(self.shapes())
        name = self.fresh_name()
        branches = [cond] + ([self.condition((), depth)] if self.c.chance(0.3) else [])
        ivs = []
        before = dict(self.env)
        updated = None
        existing = [n for n in self.locals_() if self.env[n].shape == shape]
        if existing and self.c.chance(0.4):
            updated = self.c.pick(existing)
        for i, b in enumerate(branches):
            self.emit(f"{'if' if i == 0 else 'elif'} {b}:")
            ivs.append(self.branch_body(name, shape, depth, updated))
        has_else = self.c.chance(0.8) or updated is None
        if has_else:
            self.emit("else:")
            ivs.append(self.branch_body(name, shape, depth, updated))
        self.env = before
        self.features.add("if" if len(branches) == 1 else "elif")
        if has_else:
            self.bind(name, E(name, shape, hull(*ivs), fresh=False))
            self.owners.discard(name)
        if updated is not None:
            self.bind(updated, E(updated, shape, hull(self.env[updated].iv, *ivs), fresh=False))

    def branch_body(self, name: str, shape: tuple[int, ...], depth: int, updated: str | None) -> Iv:
        self.depth += 1
        saved = dict(self.env)
        if self.c.chance(0.3):
            self.s_assign(max(depth - 1, 0))
        e = self.expr(shape, depth)
        self.emit(f"{name} = {e.text}")
        self.share(e.text)
        if updated is not None:
            u = self.expr(shape, max(depth - 1, 0))
            self.emit(f"{updated} = {u.text}")
            self.share(u.text)
            e = E(e.text, shape, hull(e.iv, u.iv))
        self.env = saved
        self.depth -= 1
        return e.iv

    def loop_update(self, acc: str, shape: tuple[int, ...], depth: int, count: int) -> None:
        """One bounded update of ``acc`` (see the module docstring); leaves its interval."""
        init = self.env[acc]
        form = self.c.pick(("add", "tanh", "decay", "cos", "aug"))
        if form == "aug" and not self.unshared(acc):
            form = "add"
        hidden = self.env.pop(acc)
        t = self.expr(self.c.pick(self.sub_shapes(shape)), depth)
        self.env[acc] = hidden
        self.features.add(f"loop:{form}")
        if form in ("add", "aug"):
            t = self.squash(t, 20.0)
            if form == "aug":
                self.emit(f"{acc} += {t.text}")
            else:
                self.emit(f"{acc} = {acc} + {t.text}")
            iv = (init.iv[0] + count * min(t.iv[0], 0.0), init.iv[1] + count * max(t.iv[1], 0.0))
            fresh = True
        elif form == "tanh":
            self.env[acc] = E(acc, shape, hull(init.iv, (-1.0, 1.0)))
            u = self.squash(self.expr(self.c.pick(self.sub_shapes(shape)), depth), 20.0)
            w = self.num(0.2, 1.5)
            self.emit(f"{acc} = {self.np('tanh')}({fmt(w)} * {acc} + {u.text})")
            iv = hull(init.iv, (-1.0, 1.0))
            fresh = True
        elif form == "decay":
            t = self.squash(t, 20.0)
            self.emit(f"{acc} = 0.5 * {acc} + {t.text}")
            bound = max(mag(init.iv), 2 * mag(t.iv))
            iv = (-bound, bound)
            fresh = True
        else:
            self.emit(f"{acc} = {acc} * {self.np('cos')}({t.text})")
            iv = (-mag(init.iv), mag(init.iv))
            fresh = True
        self.env[acc] = E(acc, shape, iv, fresh=fresh)

    def loop_state(self, depth: int) -> tuple[str, tuple[int, ...]]:
        """A new accumulator, initialised before the loop."""
        shape = self.c.pick(self.shapes())
        name = self.fresh_name("acc")
        e = self.expr(shape, max(depth - 1, 0))
        e = E(f"({e.text}) * 1.0" if e.text[0] != "(" else f"{e.text} * 1.0", shape, e.iv)
        self.emit(f"{name} = {e.text}")
        self.bind(name, E(name, shape, e.iv, fresh=True))
        self.owners.add(name)
        return name, shape

    def loop_body(
        self, acc: str, shape: tuple[int, ...], depth: int, count: int, index: str | None
    ) -> None:
        """The body: maybe a temporary, the update, maybe a break. Final interval: the hull."""
        outer = dict(self.env)
        init = self.env[acc].iv
        self.depth += 1
        if self.c.chance(0.3):
            self.s_assign(max(depth - 1, 0))
        self.loop_update(acc, shape, depth, count)
        after = self.env[acc]
        if self.c.chance(0.25):
            if index is not None and self.c.chance(0.5):
                self.emit(f"if {index} == {self.c.int(0, 3)}:")
            else:
                self.emit(f"if {self.condition((), 0)}:")
            self.depth += 1
            self.emit("break")
            self.depth -= 1
            self.features.add("break")
        elif self.c.chance(0.1) and index is not None:
            self.emit(f"if {index} == {self.c.int(0, 3)}:")
            self.depth += 1
            self.emit("continue")
            self.depth -= 1
            self.features.add("continue")
        self.depth -= 1
        self.env = outer
        self.env[acc] = E(acc, shape, hull(init, after.iv), fresh=after.fresh)

    def s_for_range(self, depth: int) -> None:
        acc, shape = self.loop_state(depth)
        index = self.fresh_name("i") if self.c.chance(0.3) else self.c.pick(
            [n for n in ("i", "j", "k") if n not in self.taken] or [self.fresh_name("i")])  # fmt: skip
        self.taken.add(index)
        vectors = [n for n in self.inputs if self.env[n].shape and len(self.env[n].shape) == 1]
        k = self.c.int(0, 3)
        if k == 0 and self.ints:
            bound, count = self.c.pick(self.ints), 3
            header = f"range({bound})"
        elif k == 1 and vectors:
            v = self.c.pick(sorted(vectors))
            count = self.env[v].shape[0]
            header = self.c.pick((f"range(len({v}))", f"range({v}.shape[0])"))
            self.bind(f"{v}[{index}]", E(f"{v}[{index}]", (), self.env[v].iv, fresh=False))
        elif k == 2:
            a = self.c.int(0, 2)
            count = self.c.int(0, 3)
            header = f"range({a}, {a + 2 * count}, 2)"
        else:
            count = self.c.int(0, 3)
            header = f"range({count})"
        self.features.add("for-range" if count else "for-range-empty")
        self.emit(f"for {index} in {header}:")
        self.bind(
            f"({index} * 0.5)", E(f"({index} * 0.5)", (), (0.0, 0.5 * (2 * count + 3)), fresh=False)
        )
        self.loop_body(acc, shape, depth, count, index)
        self.env.pop(f"({index} * 0.5)", None)
        for key in [k for k in self.env if k.endswith(f"[{index}]")]:
            self.env.pop(key)

    def s_for_rows(self, depth: int) -> None:
        mats = [n for n in self.env if len(self.env[n].shape) == 2 and n.isidentifier()]
        if not mats:
            return self.s_for_range(depth)
        M = self.c.pick(sorted(mats))
        rows, cols = self.env[M].shape
        acc, shape = self.loop_state(depth)
        row = self.fresh_name("row")
        form = self.c.int(0, 2)
        scoped = [row]  # names that do not exist after the loop (it may run zero times)
        if form == 0:
            self.emit(f"for {row} in {M}:")
        elif form == 1:
            idx = self.fresh_name("r")
            self.emit(f"for {idx}, {row} in enumerate({M}):")
            self.bind(f"({idx} * 1.0)", E(f"({idx} * 1.0)", (), (0.0, float(rows)), fresh=False))
            scoped.append(f"({idx} * 1.0)")
        else:
            other = [
                n for n in self.env if self.env[n].shape and n.isidentifier() and n not in (M, acc)
            ]
            o = self.c.pick(sorted(other)) if other else M
            item = self.fresh_name("u")
            self.emit(f"for {row}, {item} in zip({M}, {o}):")
            oshape = self.env[o].shape[1:]
            self.bind(item, E(item, oshape, self.env[o].iv, fresh=False))
            scoped.append(item)
        self.features.add(f"for-rows:{form}")
        self.bind(row, E(row, (cols,), self.env[M].iv, fresh=False))
        self.loop_body(acc, shape, depth, rows, None)
        for key in scoped:
            self.env.pop(key, None)

    def s_while(self, depth: int) -> None:
        acc, shape = self.loop_state(depth)
        counter = self.fresh_name("k")
        count = self.c.int(0, 3)
        self.emit(f"{counter} = 0")
        if self.c.chance(0.4):
            # stop early on the data too: the trip count then differs between calls (a helper
            # called in a loop), and the backward pass must replay each count
            lo, hi = self.env[acc].iv
            lo, hi = max(lo, -50.0), min(hi, 50.0)
            t = self.num(lo + 0.25 * (hi - lo), lo + 0.75 * (hi - lo)) if hi > lo else lo
            item = acc + ("[" + ", ".join("0" * len(shape)) + "]" if shape else "")
            self.emit(f"while {counter} < {count} and {item} {self.c.pick(('<', '>'))} {fmt(t)}:")
            self.features.add("while:data")
        else:
            self.emit(f"while {counter} < {count}:")
        self.features.add("while")
        self.loop_body(acc, shape, depth, count, None)
        self.depth += 1
        self.emit(f"{counter} += 1" if self.c.chance(0.5) else f"{counter} = {counter} + 1")
        self.depth -= 1

    def s_buffer(self, depth: int) -> None:
        """Indexed assignment into a zeros buffer, in a loop or at constant indices."""
        vectors = [n for n in self.inputs if len(self.env[n].shape) == 1]
        name = self.fresh_name("buf")
        if vectors and self.c.chance(0.6):
            v = self.c.pick(sorted(vectors))
            L = self.env[v].shape[0]
            self.emit(
                f"{name} = {self.np('zeros')}({L})"
                if self.c.chance(0.5)
                else f"{name} = {self.np('zeros_like')}({v})"
            )
            i = self.fresh_name("i")
            self.emit(f"for {i} in range(len({v})):")
            self.depth += 1
            saved = dict(self.env)
            self.bind(f"{v}[{i}]", E(f"{v}[{i}]", (), self.env[v].iv, fresh=False))
            e = self.expr((), depth)
            op = self.c.pick(("=", "+="))
            self.emit(f"{name}[{i}] {op} {e.text}")
            self.env = saved
            self.depth -= 1
            self.features.add(f"buffer-loop{op}")
            self.bind(name, E(name, (L,), hull(e.iv, (0.0, 0.0)), fresh=False))
            return
        a, b = self.m, self.n
        self.emit(f"{name} = {self.np('zeros')}(({a}, {b}))")
        ivs = [(0.0, 0.0)]
        for _ in range(self.c.int(1, 2)):
            if self.c.chance(0.5):
                e = self.expr((b,), depth)
                self.emit(f"{name}[{self.c.int(0, a - 1)}] = {e.text}")
            elif self.c.chance(0.5):
                e = self.expr((a,), depth)
                self.emit(f"{name}[:, {self.c.int(0, b - 1)}] = {e.text}")
            else:
                e = self.expr((), depth)
                self.emit(f"{name}[{self.c.int(0, a - 1)}, {self.c.int(0, b - 1)}] = {e.text}")
            ivs.append(e.iv)
        self.features.add("buffer-const-index")
        self.bind(name, E(name, (a, b), hull(*ivs), fresh=False))

    def s_list(self, depth: int) -> None:
        """A list built by append in a loop, consumed by np.stack / np.array / sum; or the
        same written as a comprehension."""
        if self.c.chance(0.3):
            self.s_comprehension(depth)
            return
        shape = self.c.pick(self.shapes()[:3])
        name = self.fresh_name("hs")
        h = self.fresh_name("h")
        count = self.c.int(1, 3)
        start = self.expr(shape, max(depth - 1, 0))
        self.emit(f"{h} = {start.text}")
        self.emit(f"{name} = []")
        i = self.fresh_name("i")
        self.emit(f"for {i} in range({count}):")
        self.depth += 1
        saved = dict(self.env)
        self.env[h] = E(h, shape, hull(start.iv, (-1.0, 1.0)))
        u = self.squash(self.expr(shape, depth), 20.0)
        self.emit(f"{h} = {self.np('tanh')}({h} * 0.7 + {u.text})")
        self.emit(f"{name}.append({h})")
        self.depth -= 1
        self.env = saved
        iv = hull(start.iv, (-1.0, 1.0))
        self.bind(h, E(h, shape, iv, fresh=False))
        out = self.fresh_name()
        form = self.c.pick(("stack", "array", "sum"))
        self.features.add(f"list:{form}")
        if form == "sum":
            self.emit(f"{out} = sum({name})")
            self.bind(out, E(out, shape, iv_scale(iv, count), fresh=False))
        else:
            self.emit(f"{out} = {self.np(form)}({name})")
            self.bind(out, E(out, (count, *shape), iv, fresh=True))

    def s_comprehension(self, depth: int) -> None:
        """A list comprehension over a range with an index filter, consumed by np.stack /
        np.array / sum, or a generator expression summed."""
        shape = self.c.pick(self.shapes()[:3])
        count = self.c.int(1, 4)
        skip = self.c.int(0, count - 1) if count > 1 and self.c.chance(0.5) else -1
        kept = count - (skip >= 0)
        k = self.fresh_name("k")
        u = self.squash(self.expr(shape, max(depth - 1, 0)), 20.0)
        item = f"{self.np('tanh')}({u.text} * (0.5 * {k} - 0.3))"
        where = f" if {k} != {skip}" if skip >= 0 else ""
        form = self.c.pick(("stack", "array", "sum", "generator"))
        self.features.add(f"comprehension:{form}")
        out = self.fresh_name()
        if form in ("sum", "generator"):
            inner = f"[{item} for {k} in range({count}){where}]"
            if form == "generator":
                inner = inner[1:-1]
            self.emit(f"{out} = sum({inner})")
            self.bind(out, E(out, shape, iv_scale((-1.0, 1.0), kept), fresh=False))
        else:
            self.emit(f"{out} = {self.np(form)}([{item} for {k} in range({count}){where}])")
            self.bind(out, E(out, (kept, *shape), (-1.0, 1.0), fresh=True))

    def s_tuple(self, depth: int) -> None:
        """Tuple assignment: a swap, or the items of a helper returning a tuple."""
        pairs = [h for h in self.helpers if len(h.returns) > 1]
        if pairs and self.c.chance(0.6):
            h = self.c.pick(pairs)
            args = [self.fit(self.expr(s, depth), iv).text for _, s, iv in h.params]
            names = [self.fresh_name() for _ in h.returns]
            self.emit(f"{', '.join(names)} = {h.name}({', '.join(args)})")
            for nm, (shape, iv) in zip(names, h.returns):
                self.bind(nm, E(nm, shape, iv, fresh=False))
            self.features.add("tuple-unpack")
            return
        shape = self.c.pick(self.shapes())
        a, b = self.expr(shape, depth), self.expr(shape, depth)
        n1, n2 = self.fresh_name(), self.fresh_name()
        self.emit(f"{n1}, {n2} = {a.text}, {b.text}")
        self.share(a.text + " " + b.text)
        self.emit(f"{n1}, {n2} = {n2}, {n1}")
        self.bind(n1, E(n1, shape, b.iv, fresh=False))
        self.bind(n2, E(n2, shape, a.iv, fresh=False))
        self.features.add("tuple-swap")

    def statements(self, count: int, depth: int, top: bool) -> None:
        kinds = [self.s_assign, self.s_assign, self.s_augassign, self.s_if, self.s_for_range,
                 self.s_for_rows, self.s_while, self.s_buffer, self.s_list, self.s_tuple]  # fmt: skip
        for _ in range(count):
            kind = self.c.pick(kinds)
            before = set(self.env)
            kind(depth)
            for name in set(self.env) - before:
                if name.isidentifier() and self.env[name].fresh:
                    self.owners.add(name)
            if top and self.c.chance(0.08):
                self.early_return(depth)

    def early_return(self, depth: int) -> None:
        self.emit(f"if {self.condition((), depth)}:")
        self.depth += 1
        self.emit(f"return {self.result_expr(depth).text}")
        self.depth -= 1
        self.features.add("early-return")

    def result_expr(self, depth: int) -> E:
        """A scalar reading a few of the latest names (so that most of the body matters)."""
        names = [n for n in self.env if n.isidentifier()]
        recent = names[-3:]
        terms = []
        for n in recent:
            e = self.env[n]
            if e.shape == ():
                terms.append(E(n, (), e.iv))
            else:
                fn = self.c.pick(("sum", "mean"))
                terms.append(
                    E(f"{self.np(fn)}({n})", (), iv_scale(e.iv, e.size) if fn == "sum" else e.iv)
                )
        if not terms or self.c.chance(0.3):
            terms.append(self.expr((), depth))
        text = " + ".join(t.text for t in terms)
        iv = (sum(t.iv[0] for t in terms), sum(t.iv[1] for t in terms))
        out = E(f"({text})", (), iv)
        if self.c.chance(0.3):
            out = E(f"{self.np('tanh')}({out.text})", (), (-1.0, 1.0))
        return out

    # -------------------------------------------------------------- helpers and inputs
    def helper(self, index: int) -> tuple[list[str], Helper]:
        name = f"h{index}" if self.c.chance(0.8) else f"helper_{index}"
        self.taken.add(name)
        nparams = self.c.int(1, 3)
        params = []
        for p in range(nparams):
            pname = f"a{p}" if self.c.chance(0.7) else self.c.pick(("x", "y", "z", "w"))
            if pname in (q[0] for q in params):
                pname = f"a{p}"
            shape = self.c.pick(self.shapes())
            iv = (-3.0, 3.0) if self.c.chance(0.7) else (0.5, 3.0)
            params.append((pname, shape, iv))
        default = None
        if params[-1][1] == () and nparams > 1 and self.c.chance(0.4):
            default = self.num(params[-1][2][0], params[-1][2][1])
        outer_env, outer_lines, outer_depth = self.env, self.lines, self.depth
        outer_owners, outer_inputs = self.owners, self.inputs
        self.env = {p: E(p, s, iv, fresh=False) for p, s, iv in params}
        self.inputs = {p for p, _, _ in params}
        self.owners = set()
        self.in_helper = True
        self.lines, self.depth = [], 1
        self.statements(self.c.int(0, 2), 2, top=False)
        shapes = [self.c.pick(self.shapes())]
        if self.c.chance(0.2):
            shapes.append(self.c.pick(self.shapes()))
        rets = [self.expr(s, 2) for s in shapes]
        self.emit(f"return {', '.join(r.text for r in rets)}")
        body = self.lines
        self.env, self.lines, self.depth = outer_env, outer_lines, outer_depth
        self.owners, self.inputs = outer_owners, outer_inputs
        self.in_helper = False
        sig = ", ".join(
            f"{p}={fmt(default)}" if default is not None and i == nparams - 1 else p
            for i, (p, _, _) in enumerate(params)
        )
        text = [f"def {name}({sig}):"] + body
        return text, Helper(name, tuple(params), default, tuple((r.shape, r.iv) for r in rets))

    def value(self, shape: tuple[int, ...], iv: Iv, dtype: Any) -> Any:
        x = self.c.rng.uniform(iv[0], iv[1], size=shape)
        if shape == ():
            kind = self.c.int(0, 9)
            if kind <= 6:
                return float(x)
            if kind <= 8:
                return np.float64(x) if dtype == np.float64 else np.float32(x)
            return np.array(x, dtype=dtype)
        return np.asarray(x, dtype=dtype)


def generate(c: Chooser, seed: int | None = None) -> Program:
    """One random program (see the module docstring)."""
    g = Gen(c)
    out: list[str] = []
    # module-level constants (read when the gradient is built)
    for k in range(c.int(0, 1)):
        shape = c.pick(g.shapes())
        name = f"C{k}"
        if shape == ():
            val = g.num(-2.0, 2.0)
            out.append(f"{name} = {val!r}")
        else:
            vals = np.round(c.rng.uniform(-2, 2, size=shape), 3)
            out.append(f"{name} = {g.np('array')}({vals.tolist()!r})")
        g.consts[name] = E(name, shape, (-2.0, 2.0), fresh=False)
        g.taken.add(name)
    for i in range(c.int(0, 2)):
        text, h = g.helper(i + 1)
        out += ["", ""] + text
        g.helpers.append(h)
    # the function's parameters
    dtype = np.float32 if c.chance(0.08) else np.float64
    params: list[tuple[str, tuple[int, ...], Iv]] = []
    pool = ["x", "y", "w", "b", "A", "B", "z", "u"]
    for p in range(c.int(1, 4)):
        name = (
            pool[p]
            if c.chance(0.85)
            else c.pick(
                [n for n in COLLIDING if n not in g.taken][:6] + (["np"] if g.npn != "np" else [])
            )
        )
        if name in g.taken:
            name = f"p{p}"
        g.taken.add(name)
        shape = c.pick(g.shapes())
        iv = (-1.5, 1.5) if c.chance(0.7) else (0.5, 2.0)
        params.append((name, shape, iv))
        g.env[name] = E(name, shape, iv, fresh=False)
        g.inputs.add(name)
    extra = []
    if c.chance(0.3):
        g.ints.append("n")
        g.taken.add("n")
        extra.append("n")
    flag = c.chance(0.1)
    body_start = len(g.lines)
    g.depth = 1
    if flag:
        g.taken.add("flag")
        g.emit("if flag:")
        g.depth += 1
        g.emit(f"{params[0][0]} = {params[0][0]} * 1.5")
        g.depth -= 1
        g.features.add("bool-flag")
    g.statements(c.int(1, 5), c.int(1, 3), top=True)
    g.emit(f"return {g.result_expr(2).text}")
    body = g.lines[body_start:]
    name = c.pick(("f", "loss", "objective", "fn"))
    sig = ", ".join([p for p, _, _ in params] + extra + (["flag"] if flag else []))
    out += ["", "", f"def {name}({sig}):"] + body
    source = "\n".join(out).lstrip("\n") + "\n"
    args: list[Any] = [g.value(s, iv, dtype) for _, s, iv in params]
    if extra:
        args.append(c.int(0, 3))
    if flag:
        args.append(c.chance(0.5))
    k = c.int(1, len(params))
    order = [p for p, _, _ in params]
    wrt = tuple(order[:k]) if c.chance(0.6) else (c.pick(order),)
    features = frozenset(g.features | ({"float32"} if dtype == np.float32 else set()))
    return Program(source, name, tuple(args), wrt, features, seed)


def program_strategy():
    """Hypothesis strategy of ``Program`` (shrinks towards fewer, simpler statements)."""
    from hypothesis import strategies as st

    @st.composite
    def programs(draw):
        return generate(HypothesisChooser(draw))

    return programs()


# ----------------------------------------------------------------------------- the checks
@dataclass
class Outcome:
    status: str  # ok, refused, invalid, kink, bug
    kind: str = ""  # for bug: gradient, value, format, determinism, simplify, internal, crash
    detail: str = ""
    program: Program | None = None
    checked: list[str] = field(default_factory=list)
    prims: frozenset[str] = frozenset()  # the primitives of the function's IR

    def report(self) -> str:
        return f"{self.status} {self.kind}: {self.detail}\n--- program ---\n{self.program}"


def _run(f: Callable[..., Any], args: tuple) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(all="raise"):
            return f(*args)


def _wrt_value(result: Any, single: bool) -> tuple:
    return (result,) if single else tuple(result)


def check_program(
    prog: Program,
    simplify: bool = False,
    determinism: bool = True,
    formatting: bool = True,
    higher: bool = False,
    specialised: Sequence[str] = (),
) -> Outcome:
    """Every property of issue 6 on one program (see the module docstring); with ``higher``,
    also forward mode and Hessian-vector products (``_check_higher``); with ``specialised``
    (modes of ``tests.specialised``), the program specialised to the arguments' types
    against the generic one in those modes (``_check_specialised``)."""
    outcome = _check(prog, simplify, determinism, formatting)
    if higher and outcome.status == "ok" and "float32" not in prog.features:
        outcome = _check_higher(prog, outcome)
    if specialised and outcome.status == "ok":
        outcome = _check_specialised(prog, outcome, specialised)
    outcome.program = prog
    return outcome


def _check_specialised(prog: Program, out: Outcome, modes: Sequence[str]) -> Outcome:
    """Specialised and generic programs agree (``tests.specialised.compare``); the generic
    one was just checked against finite differences, so this is agreement with those."""
    from .specialised import compare

    f = prog.function()
    wrt = prog.wrt if len(prog.wrt) > 1 else prog.wrt[0]
    try:
        found = compare(f, _api_args(f, prog, wrt), wrt, modes, seed=prog.seed or 0)
    except Exception as exc:  # InternalError included: a bug either way
        return Outcome("bug", "specialised", f"{type(exc).__name__}: {exc}", prog)
    if not found.ok:
        return Outcome("bug", "specialised", "\n".join(found.problems), prog)
    out.checked += [f"specialised-{m}" for m in found.compared]
    out.checked += ["specialised-rewritten"] if found.rewritten else []
    return out


def _check_higher(prog: Program, out: Outcome) -> Outcome:
    """``jvp`` against the gradient already checked (J·v is ∇f·v for a scalar f, to rounding)
    and ``hvp`` against central differences of that gradient along v. A construct forward
    mode does not support is counted (``jvp-refused``), not failed; so is a Hessian-vector
    product that central differences cannot pin down (a kink or branch within the step)."""
    import symdiff
    from symdiff.errors import SymdiffError

    f = prog.function()
    name = prog.wrt[0]
    pos = _position(f, name)
    x = prog.args[pos]
    rng = np.random.default_rng(prog.seed)
    v = rng.normal(size=np.shape(x))
    v = v if np.ndim(x) else float(v)

    def at(shift: float) -> list:
        call = list(prog.args)
        call[pos] = (np.asarray(x, dtype=float) + shift * np.asarray(v)).reshape(np.shape(x))
        if not np.ndim(x):
            call[pos] = float(call[pos])
        return call

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        g = symdiff.grad(f, wrt=name)
        gx = np.asarray(g(*prog.args), dtype=float)
        for kind, build in (("jvp", symdiff.jvp), ("hvp", symdiff.hvp)):
            try:
                d = build(f, wrt=name)
                got = d(*prog.args, v)
            except SymdiffError as exc:
                if "differentiated again" in str(exc):  # symdiff misread its own output
                    return Outcome("bug", kind, f"{type(exc).__name__}: {exc}", prog)
                out.checked.append(f"{kind}-refused")
                continue
            except Exception as exc:  # InternalError included: a bug either way
                return Outcome("bug", kind, f"{type(exc).__name__}: {exc}", prog)
            if kind == "jvp":
                expected = float(np.sum(gx * np.asarray(v)))
                tangent = float(got[1])
                scale = max(1.0, float(np.sum(np.abs(gx * np.asarray(v)))))
                if not abs(tangent - expected) <= 1e-8 * scale:
                    return Outcome(
                        "bug", "jvp", f"J·v {tangent!r}, ∇f·v {expected!r}\n{d.source}", prog
                    )
            else:
                hv = np.asarray(got, dtype=float)
                estimates = []
                for h in (1e-4, 1e-5):
                    up = np.asarray(g(*at(h)), dtype=float)
                    down = np.asarray(g(*at(-h)), dtype=float)
                    estimates.append((up - down) / (2 * h))
                scale = max(1.0, float(np.max(np.abs(estimates[0]), initial=0.0)))
                if not np.allclose(estimates[0], estimates[1], rtol=1e-4, atol=1e-4 * scale):
                    out.checked.append("hvp-kink")  # differences do not settle: not testable
                    continue
                if hv.shape != estimates[0].shape or not np.allclose(
                    hv, estimates[0], rtol=1e-4, atol=1e-4 * scale
                ):
                    return Outcome(
                        "bug", "hvp", f"H·v {hv!r}, differences {estimates[0]!r}\n{d.source}", prog
                    )
            out.checked.append(kind)
    return out


def _check(prog: Program, simplify: bool, determinism: bool, formatting: bool) -> Outcome:
    import symdiff
    from symdiff import pipeline
    from symdiff.api import cache
    from symdiff.backend.fmt import format_source
    from symdiff.errors import InternalError, SymdiffError

    out = Outcome("ok", program=prog)
    try:
        f = prog.function()
    except Exception as exc:  # the generator wrote invalid Python: its bug, not symdiff's
        return Outcome("invalid", "syntax", f"{type(exc).__name__}: {exc}", prog)
    try:
        expected = _run(f, prog.args)
        expected64 = _run(f, tuple(_as64(a) for a in prog.args))
    except Exception as exc:
        return Outcome("invalid", "evaluation", f"{type(exc).__name__}: {exc}", prog)
    if not np.isfinite(expected64) or abs(expected64) > 1e8 or np.ndim(expected) != 0:
        return Outcome("invalid", "range", f"value {expected!r}", prog)
    wrt = prog.wrt if len(prog.wrt) > 1 else prog.wrt[0]
    single = isinstance(wrt, str)
    try:
        t = cache.cached_transform(f, wrt, False)  # value_and_grad below reuses it
    except SymdiffError as exc:
        return Outcome("refused", type(exc).__name__, exc.message, prog)
    except InternalError as exc:
        return Outcome("bug", "internal", str(exc), prog)
    except Exception as exc:
        return Outcome("bug", "internal", f"unwrapped {type(exc).__name__}: {exc}", prog)
    from symdiff.ir.nodes import iter_assigns

    out.prims = frozenset(s.prim.name for s in iter_assigns(t.function.body))
    if determinism:
        t2 = pipeline.transform(f, wrt)
        if (t2.grad_source, t2.value_and_grad_source) != (t.grad_source, t.value_and_grad_source):
            return Outcome("bug", "determinism", _diff(t.grad_source, t2.grad_source), prog)
        out.checked.append("determinism")
    if formatting:
        for text in (t.grad_source, t.value_and_grad_source):
            again = format_source(text)
            if again != text:
                return Outcome("bug", "format", _diff(text, again), prog)
        out.checked.append("format")
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value, grads = symdiff.value_and_grad(f, wrt=wrt)(*prog.args)
    except Exception as exc:
        return Outcome(
            "bug", "crash", f"{type(exc).__name__}: {exc}\n{t.value_and_grad_source}", prog
        )
    float32 = "float32" in prog.features
    rtol = 1e-5 if float32 else 1e-9
    if not np.allclose(value, expected, rtol=rtol, atol=rtol * max(1.0, abs(float(expected)))):
        return Outcome(
            "bug",
            "value",
            f"generated value {value!r}, function value {expected!r}\n{t.value_and_grad_source}",
            prog,
        )
    out.checked.append("value")
    grads = _wrt_value(grads, single)
    for g, name in zip(grads, prog.wrt):
        x = prog.args[_position(f, name)]
        if np.shape(g) != np.shape(x):
            return Outcome(
                "bug",
                "gradient",
                f"gradient of {name} has shape {np.shape(g)}, argument {np.shape(x)}",
                prog,
            )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        report = symdiff.check_grad(
            f, *prog.args, wrt=wrt, grad_fn=lambda *a, **k: grads[0] if single else grads,
            raise_on_failure=False,
        )  # fmt: skip
    if not report.ok:
        where = _kink(f, prog, grads)
        if where:
            return Outcome("kink", "", where, prog)
        return Outcome("bug", "gradient", f"{report}\n{t.grad_source}", prog)
    out.checked.append("gradient")
    if simplify:
        try:
            ts = pipeline.transform(f, wrt, simplify=True)
        except (ImportError, NotImplementedError):
            return out
        except SymdiffError as exc:
            return Outcome("bug", "simplify", f"refused with simplify=True only: {exc}", prog)
        except InternalError as exc:
            return Outcome("bug", "simplify", str(exc), prog)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                sgrads = _wrt_value(ts.grad(*_api_args(f, prog, wrt)), single)
        except Exception as exc:
            return Outcome(
                "bug", "simplify", f"{type(exc).__name__}: {exc}\n{ts.grad_source}", prog
            )
        for a, b in zip(grads, sgrads):
            scale = max(1.0, float(np.max(np.abs(a))) if np.size(a) else 1.0)
            tol = 1e-3 if float32 else 1e-8
            if np.shape(a) != np.shape(b) or not np.allclose(
                a, b, rtol=tol, atol=tol * scale, equal_nan=True
            ):
                return Outcome(
                    "bug", "simplify", f"simplified gradient {b!r} vs {a!r}\n{ts.grad_source}", prog
                )
        out.checked.append("simplify")
    return out


def _api_args(f: Any, prog: Program, wrt: Any) -> tuple:
    from symdiff.api.calls import prepare
    from symdiff.api.wrt import param_names, resolve_wrt

    names = param_names(f)
    positions, _ = resolve_wrt(names, wrt, f)
    args, _ = prepare(prog.args, {}, names, positions)
    return args


def _as64(a: Any) -> Any:
    if isinstance(a, np.ndarray) and a.dtype == np.float32:
        return a.astype(np.float64)
    if isinstance(a, np.float32):
        return np.float64(a)
    return a


def _position(f: Any, name: str) -> int:
    from symdiff.api.wrt import param_names

    return param_names(f).index(name)


def _kink(f: Any, prog: Program, grads: tuple) -> str:
    """Why finite differences disagree, when it is not symdiff's fault: a kink or a branch
    within the step (or, for float32's large step, curvature). Per coordinate, with the step ``h`` ``check_grad`` used: either central
    differences with a smaller step (h/10, h/100) agree with the gradient (the step straddled
    a kink near x), or the one-sided differences disagree and keep disagreeing when the step
    shrinks tenfold (a kink at x; for a smooth function the gap shrinks with the step).
    Empty when neither explains it: then the gradient is wrong."""
    from symdiff.api.check import tolerances

    float32 = "float32" in prog.features
    step, rtol, atol = tolerances(np.float32 if float32 else np.float64)
    args = [_as64(a) for a in prog.args]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        f0 = float(f(*args))
        atol *= max(1.0, abs(f0))

        def at(pos: int, x: np.ndarray) -> float:
            call = list(args)
            if isinstance(args[pos], np.ndarray):
                call[pos] = x
            elif isinstance(args[pos], np.generic):
                call[pos] = np.float64(x.reshape(()))
            else:
                call[pos] = float(x.reshape(()))
            return float(f(*call))

        found = ""
        for g, name in zip(grads, prog.wrt):
            pos = _position(f, name)
            x = np.array(args[pos], dtype=np.float64)
            g = np.asarray(g, dtype=np.float64)
            for i in range(min(x.size, 64)):
                agree, gaps = [], []
                for shrink in (1.0, 10.0, 100.0):
                    h = step * max(1.0, abs(x.flat[i])) / shrink
                    up, down = x.copy(), x.copy()
                    up.flat[i] += h
                    down.flat[i] -= h
                    fp, fm = at(pos, up), at(pos, down)
                    fd = (fp - fm) / (2 * h)
                    gi = g.flat[i]
                    agree.append(abs(fd - gi) <= atol + rtol * max(abs(fd), abs(gi)))
                    gaps.append(abs((fp - f0) / h - (f0 - fm) / h))
                if agree[0]:
                    continue  # this coordinate passed the check
                near = agree[1] or agree[2]  # the step straddled a kink near x
                at_kink = gaps[0] > 1e-4 * (1 + abs(f0)) and gaps[1] > 0.5 * gaps[0]
                if not (near or at_kink):
                    return ""  # a smooth disagreement: the gradient is wrong
                why = "a smaller step agrees" if near else "one-sided differences differ"
                found = found or (
                    f"{name}[{i}]: {why} (a kink within the step, or curvature the step is too "
                    f"large for; one-sided gaps {gaps[0]:.3g}, {gaps[1]:.3g})"
                )
    return found


def _diff(a: str, b: str) -> str:
    import difflib

    return "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=1))
