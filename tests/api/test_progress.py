"""The progress line: drawn on a terminal once work lasts, never elsewhere, cleared at the end."""

import io

import numpy as np

import symdiff
from symdiff.api import batched
from symdiff.api import progress as progress_module
from symdiff.api.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


class Clock:
    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def test_long_work_on_a_terminal_shows_a_line_then_clears_it(monkeypatch):
    monkeypatch.delenv("SYMDIFF_PROGRESS", raising=False)
    out = Terminal()
    with Progress("Hessian", 40, stream=out, clock=Clock(0.5)) as p:
        for _ in range(40):
            p.advance()
    text = out.getvalue()
    assert "Hessian: " in text and "/40 passes" in text and "left" in text
    assert text.endswith("\r\x1b[2K")


def test_quick_work_and_other_streams_stay_silent(monkeypatch):
    monkeypatch.delenv("SYMDIFF_PROGRESS", raising=False)
    quick, pipe = Terminal(), io.StringIO()
    with Progress("Hessian", 40, stream=quick, clock=Clock(0.001)) as p:
        for _ in range(40):
            p.advance()
    with Progress("Hessian", 40, stream=pipe, clock=Clock(0.5)) as p:
        for _ in range(40):
            p.advance()
    assert quick.getvalue() == "" and pipe.getvalue() == ""
    monkeypatch.setenv("SYMDIFF_PROGRESS", "0")
    off = Terminal()
    with Progress("Hessian", 40, stream=off, clock=Clock(0.5)) as p:
        p.advance()
    assert off.getvalue() == ""


def loss(w):
    return np.sum(np.log1p(np.exp(w * np.arange(1.0, 6.0))))


def test_a_hessian_counts_every_direction_as_its_chunk_finishes(monkeypatch):
    seen = []
    real = Progress.advance

    def advance(self, passes=1):
        seen.append((self.what, self.total, passes))
        real(self, passes)

    monkeypatch.setattr(progress_module.Progress, "advance", advance)
    w = np.linspace(-0.3, 0.4, 5)
    H = symdiff.hessian(loss)(w)
    assert seen == [("Hessian", 5, 5)]  # one batched pass pushes all five directions
    s = 1.0 / (1.0 + np.exp(-w * np.arange(1.0, 6.0)))
    np.testing.assert_allclose(H, np.diag(s * (1 - s) * np.arange(1.0, 6.0) ** 2), rtol=1e-12)
    seen.clear()
    monkeypatch.setattr(batched, "BUDGET", 10)  # two directions of five elements per chunk
    np.testing.assert_allclose(symdiff.hessian(loss)(w), H, rtol=1e-12)
    assert seen == [("Hessian", 5, 2), ("Hessian", 5, 2), ("Hessian", 5, 1)]
    seen.clear()
    symdiff.jacobian(lambda_free, mode="rev")(w)
    assert seen == [("Jacobian (reverse mode)", 5, 1)] * 5


def lambda_free(w):
    return np.tanh(w) * 2.0
