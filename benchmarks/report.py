"""The tables ``bench.py`` prints, and the section of ``docs/benchmarks.md`` it can rewrite.

Every timing is a list of per-round samples; a table cell shows the ratio of two
implementations' medians with the ratio of their minima in parentheses, so that a reader
sees both the typical cost and the best the machine allowed. Only ratios to the hand-written
gradient are compared with a target; which statistic decides ``ok``/``MISS`` is the
caller's choice (``--stat``).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # only for annotations: the tests load this module on its own
    import cases

FIRST_CALL_TARGET = 0.150  # seconds, for symdiff.grad(f) in a fresh interpreter
DOCS_BEGIN = "<!-- bench.py --docs: begin -->"
DOCS_END = "<!-- bench.py --docs: end -->"

# implementation key -> column heading (ratio to the hand-written gradient)
SYMDIFF_COLUMNS = {
    "symdiff": "grad()",
    "generic": "`_grad` generic",
    "typed": "`_grad` typed",
    "simplified": "simplify=True",
    "typed_simplified": "`_grad` typed, simplify=True",
}


@dataclass
class Result:
    case: cases.Case
    samples: dict[str, list[float]] = field(default_factory=dict)  # impl -> s/call per round
    notes: dict[str, str] = field(default_factory=dict)  # implementation -> why no number
    failed: dict[str, str] = field(default_factory=dict)  # implementation -> FAIL or ERROR
    first: dict[str, Any] = field(default_factory=dict)
    grad_program: str = ""  # "typed" or "generic": what the callable grad() returns ran
    typed_source: str = ""  # the specialised gradient, for --show-source

    def time(self, impl: str, stat: Callable[[list[float]], float]) -> float | None:
        s = self.samples.get(impl)
        return stat(s) if s else None

    def ratio(self, num: str, den: str, stat: Callable[[list[float]], float]) -> float | None:
        a, b = self.time(num, stat), self.time(den, stat)
        return None if a is None or b is None else a / b


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def ratio_cell(r: Result, impl: str) -> str:
    """``median (min)`` of ``impl`` over the hand-written gradient, or why there is none."""
    med = r.ratio(impl, "hand", statistics.median)
    low = r.ratio(impl, "hand", min)
    if med is None or low is None:
        return r.notes.get(impl, "—")
    return f"{med:.2f} ({low:.2f})"


def verdict_impl(r: Result) -> str:
    """The implementation the target is about: the specialised gradient, through ``grad()``
    when ``grad()`` specialises at the call, else the specialised function alone."""
    return "symdiff" if r.grad_program == "typed" else "typed"


def meets(value: float, target: float) -> bool:
    """Judged as printed, to two decimals: a difference below that is noise, and a cell
    reading "1.15 MISS (≤1.15)" would only confuse."""
    return round(value, 2) <= target


def verdict(r: Result, stat: Callable[[list[float]], float]) -> str:
    impl = verdict_impl(r)
    value = r.ratio(impl, "hand", stat)
    label = SYMDIFF_COLUMNS[impl]
    if value is None:
        return f"{label}: {r.notes.get(impl, '—')} (≤{r.case.target})"
    mark = "ok" if meets(value, r.case.target) else "MISS"
    return f"{label}: {value:.2f} {mark} (≤{r.case.target})"


def timing_table(results: list[Result], peer_names: list[str], stat_name: str) -> list[list[str]]:
    stat = min if stat_name == "min" else statistics.median
    head = ["case", "size", "forward", "hand-written"]
    head += [f"{label}/hand" for label in SYMDIFF_COLUMNS.values()]
    head += [f"{p}/hand" for p in peer_names]
    head += [f"target ({stat_name})"]
    rows = [head]
    for r in results:
        median = statistics.median
        row = [r.case.name, r.case.shape, fmt_time(r.time("forward", median))]
        row.append(fmt_time(r.time("hand", median)))
        row += [ratio_cell(r, impl) for impl in SYMDIFF_COLUMNS]
        row += [ratio_cell(r, p) for p in peer_names]
        row.append(verdict(r, stat))
        rows.append(row)
    return rows


def first_call_table(results: list[Result]) -> list[list[str]]:
    head = ["case", "import symdiff", "first grad() (target)", "import + first grad()"]
    rows = [head + ["transform only (warm)"]]
    for r in results:
        f = r.first
        if not f:
            continue
        if "error" in f or "unsupported" in f:
            note = f.get("error") or f["unsupported"]
            note = "not supported yet" if note == "SymdiffError" else note
            rows.append([r.case.name, fmt_time(f.get("import")), note, "—", "—"])
            continue
        first = f["first_grad"]
        mark = "ok" if first <= FIRST_CALL_TARGET else "MISS"
        rows.append(
            [
                r.case.name,
                fmt_time(f["import"]),
                f"{first * 1e3:.0f} ms {mark} (<{FIRST_CALL_TARGET * 1e3:.0f} ms)",
                fmt_time(f["import"] + first),
                fmt_time(f["transform"]),
            ]
        )
    return rows


def render(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def misses(results: list[Result], stat_name: str) -> list[str]:
    """The cases whose specialised gradient misses its target, by the chosen statistic."""
    stat = min if stat_name == "min" else statistics.median
    out = []
    for r in results:
        value = r.ratio(verdict_impl(r), "hand", stat)
        if value is not None and not meets(value, r.case.target):
            out.append(f"{r.case.name} {value:.2f}")
    return out


def replace_section(text: str, body: str) -> str:
    """``text`` with what stands between the two ``--docs`` markers replaced by ``body``.

    The markers stay, so the next run finds them again; a document without them is refused
    rather than appended to, since where the table belongs is the document's decision.
    """
    pattern = re.compile(re.escape(DOCS_BEGIN) + r".*?" + re.escape(DOCS_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {DOCS_BEGIN} ... {DOCS_END} section to replace")
    return pattern.sub(lambda _: f"{DOCS_BEGIN}\n{body.strip()}\n{DOCS_END}", text, count=1)


def write_docs(path: Path, body: str) -> None:
    path.write_text(replace_section(path.read_text(encoding="utf-8"), body), encoding="utf-8")
