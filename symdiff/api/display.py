"""How symdiff's objects show themselves in a notebook: highlighted code, summaries, tables.

IPython asks an object for ``_repr_html_`` / ``_repr_markdown_`` / ``_repr_pretty_`` before
falling back to ``repr``; the public objects forward those to the functions here, so the
presentation lives in one module and the objects only say what they are (a ``Summary``).

Highlighting uses Pygments when it is importable (``pip install symdiff[notebook]``): it is
a well-kept library and knows Python's grammar better than a hand-written colouring would.
Without it the code is shown as escaped, monospaced text, which is still readable. Every
HTML fragment uses inline styles only: a notebook's CSS is not ours to extend, and inline
styles survive being saved, exported and viewed elsewhere.
"""

from __future__ import annotations

import html
import inspect
import re
from dataclasses import dataclass
from typing import Any, Sequence

_PRE = (
    '<pre style="margin: 0; padding: 0.5em; line-height: 1.3; overflow-x: auto; '
    'background: #f8f8f8">{}</pre>'
)


class SourceText(str):
    """Generated Python source: a ``str`` in every respect (it compares equal to, prints as
    and concatenates like the plain text), which a notebook shows as highlighted code
    instead of a quoted one-line string."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return highlight_html(self)

    def _repr_markdown_(self) -> str:
        return fenced(self)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """IPython's plain-text display: the code as it reads, not its ``repr``."""
        p.text(str(self))


def highlight_html(code: str) -> str:
    """``code`` as an HTML block of highlighted Python (escaped ``<pre>`` without Pygments)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return _PRE.format(html.escape(str(code)))
    formatter = HtmlFormatter(noclasses=True, nobackground=True, nowrap=True)
    return _PRE.format(highlight(str(code), PythonLexer(), formatter))


def fenced(code: str, language: str = "python") -> str:
    """A Markdown code block holding ``code``, fenced with more backticks than it contains."""
    runs = [len(m) for m in re.findall(r"`+", str(code))]
    fence = "`" * max(3, max(runs, default=0) + 1)
    return f"{fence}{language}\n{str(code).rstrip()}\n{fence}\n"


# ----------------------------------------------------------------------------- derivative objects


@dataclass(frozen=True)
class Summary:
    """What a derivative object is, in the words its displays and docstring use."""

    name: str  # the object's name: loss_grad
    what: str  # gradient, Jacobian, Hessian-vector product, ...
    function: str  # the function and its parameters: loss(W, x, b, y)
    wrt: tuple[str, ...]
    modes: str  # reverse mode, forward over reverse mode, ...
    built: bool  # transformed at least once (it waits when a name is defined later)
    origin: str = ""  # file:line (name) of the function's def, or ""
    usage: str = ""  # how to call it, a sentence with {f} for the function's name

    def wrt_text(self) -> str:
        return ", ".join(self.wrt)


def summary_repr(s: Summary) -> str:
    """A one-line ``repr``: what, of which function, with respect to what, how, and whether
    the generated code exists yet."""
    state = "built" if s.built else "not built yet"
    return f"<symdiff {s.name}: {s.what} of {s.function} wrt {s.wrt_text()}, {s.modes}, {state}>"


def _heading(s: Summary) -> str:
    where = f" &middot; from {html.escape(s.origin)}" if s.origin else ""
    wrt = ", ".join(f"<code>{html.escape(w)}</code>" for w in s.wrt)
    return (
        f'<p style="margin: 0 0 0.3em 0"><b>{html.escape(s.name)}</b>: '
        f"{html.escape(s.what)} of <code>{html.escape(s.function)}</code> with respect to "
        f"{wrt} &middot; {html.escape(s.modes)}{where}</p>"
    )


def summary_html(s: Summary, source: str | None, problem: str = "") -> str:
    """The heading, then the generated code (or why there is none yet)."""
    body = highlight_html(source) if source is not None else ""
    if problem:
        body = '<p style="margin: 0">not built yet:</p>' + _PRE.format(
            f'<span style="color: #a00">{html.escape(problem)}</span>'
        )
    return f"<div>{_heading(s)}{body}</div>"


def summary_markdown(s: Summary, source: str | None, problem: str = "") -> str:
    wrt = ", ".join(f"`{w}`" for w in s.wrt)
    where = f" · from {s.origin}" if s.origin else ""
    head = f"**{s.name}**: {s.what} of `{s.function}` with respect to {wrt} · {s.modes}{where}\n\n"
    if problem:
        return head + "not built yet:\n\n" + fenced(problem, "text")
    return head + (fenced(source) if source is not None else "")


def docstring(s: Summary, original: str | None) -> str:
    """The ``__doc__`` of a derivative object: what it computes and from which line, then
    the function's own docstring (``help(grad(f))`` should not pretend to be ``f``)."""
    where = f" from {s.origin}" if s.origin else ""
    fname = s.function.split("(")[0]
    first = (
        f"The {s.what} of {s.function} with respect to {s.wrt_text()} ({s.modes}), "
        f"generated by symdiff{where}."
    )
    second = (s.usage.format(f=fname) + " " if s.usage else "") + "`.source` shows the code."
    text = _wrap(first) + "\n\n" + _wrap(second)
    if original and original.strip():
        own = inspect.cleandoc(original)
        text += f"\n\n{fname}'s own docstring:\n\n" + "\n".join(
            ("    " + line).rstrip() for line in own.splitlines()
        )
    return text


def _wrap(text: str, width: int = 88) -> str:
    """Greedy line breaking at spaces (``textwrap.fill`` costs more than the rest of
    building a gradient object from the cache, and every ``grad(f)`` writes a docstring)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line])


# ----------------------------------------------------------------------------- check reports


def table_html(caption: str, header: Sequence[str], rows: Sequence[Sequence[str]],
               verdicts: Sequence[bool]) -> str:  # fmt: skip
    """An HTML table whose last column is a verdict, coloured by it."""
    cell = 'style="padding: 0.15em 0.8em; text-align: {}; font-family: monospace"'
    sides = ["left"] + ["right"] * (len(header) - 2) + ["left"]  # names, numbers, verdict
    head = "".join(f"<th {cell.format(a)}>{html.escape(h)}</th>" for h, a in zip(header, sides))
    body = []
    for row, ok in zip(rows, verdicts):
        cells = [f"<td {cell.format('left')}>{html.escape(row[0])}</td>"]
        cells += [f"<td {cell.format('right')}>{html.escape(c)}</td>" for c in row[1:-1]]
        colour = "#070" if ok else "#c00"
        cells.append(
            f'<td {cell.format("left")}><b style="color: {colour}">{html.escape(row[-1])}</b></td>'
        )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table style="border-collapse: collapse"><caption style="text-align: left">'
        f"{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )
