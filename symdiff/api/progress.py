"""A one-line progress display for derivatives that take many passes.

A full Jacobian or Hessian is one generated pass per direction, and a finite-difference check
two calls of the user's function per coordinate: at a thousand directions that is seconds
to minutes of silence. ``Progress`` counts the passes and, once the work has lasted longer
than a short delay (quick calls never print), keeps one line on stderr up to date: what is
computed, how many passes are done, and an estimate of the time left. It prints only to a
terminal, so logs, pipes and test runs stay clean, and ``SYMDIFF_PROGRESS=0`` turns it off
there too. The standard library is enough for one line, so symdiff needs no dependency.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any, Callable, TypeVar

T = TypeVar("T")

DELAY = 1.0  # seconds of work before the line appears
EVERY = 0.1  # seconds between redraws


class Progress:
    """Counts ``total`` passes of ``what``; use as a context manager around them."""

    def __init__(
        self,
        what: str,
        total: int,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.what = what
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.done = 0
        self.start = clock()
        self.drawn = 0.0  # when the line was last drawn (0: never)
        self.enabled = total > 1 and _wanted(self.stream)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Clear the line, if one was drawn: the terminal is left as it was."""
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.drawn = 0.0

    def counted(self, fn: Callable[..., T]) -> Callable[..., T]:
        """``fn``, advancing the count after every call."""

        def call(*args: Any) -> T:
            out = fn(*args)
            self.advance()
            return out

        return call

    def advance(self, passes: int = 1) -> None:
        """``passes`` more done (a batch of directions counts each of them)."""
        self.done += passes
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < DELAY or (self.drawn and now - self.drawn < EVERY):
            return
        self.drawn = now
        self.stream.write("\r" + self.line(now - self.start))
        self.stream.flush()

    def line(self, elapsed: float) -> str:
        """``Hessian: 340/1000 passes, 4.1 s, about 8 s left``."""
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        return (
            f"{self.what}: {self.done}/{self.total} passes, {elapsed:.1f} s, "
            f"about {left:.0f} s left"
        )


def _wanted(stream: IO[str]) -> bool:
    """On a terminal unless ``SYMDIFF_PROGRESS=0``; ``SYMDIFF_PROGRESS=1`` shows it anywhere."""
    setting = os.environ.get("SYMDIFF_PROGRESS", "")
    if setting == "0":
        return False
    if setting == "1":
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())
