"""clang-format over the generated C (when asked, and when there is one): long lines broken,
the rest as written, and the code still compiles to the same gradient."""

import re
import shutil

import numpy as np
import pytest

import symdiff
from symdiff import CBackendError

from .compiling import STRICT, needs_cc

has_clang_format = pytest.mark.skipif(
    shutil.which("clang-format") is None, reason="no clang-format on this machine"
)


def wide(W1, b1, W2, X, Y):
    H = np.tanh(X @ W1 + b1)
    return np.mean((H @ W2 - Y) ** 2)


ARGS = (np.ones((4, 3)), np.ones(3), np.ones((3, 2)), np.ones((5, 4)), np.zeros((5, 2)))


@has_clang_format
def test_long_lines_are_broken_and_the_rest_kept():
    plain = symdiff.emit_c(wide, *ARGS, wrt=(0, 1, 2))
    formatted = symdiff.emit_c(wide, *ARGS, wrt=(0, 1, 2), clang_format=True)
    assert max(map(len, plain.source.splitlines())) > 100
    assert max(map(len, formatted.source.splitlines())) <= 100
    # a short statement reads as the backend wrote it
    short = [line for line in plain.source.splitlines() if line.strip().endswith(";")]
    kept = [line for line in short if len(line) < 60]
    assert kept and all(line in formatted.source for line in kept[:20])


@needs_cc
@has_clang_format
def test_formatting_changes_only_whitespace_and_compiles_cleanly():
    plain = symdiff.emit_c(wide, *ARGS, wrt=(0, 1, 2))
    formatted = symdiff.emit_c(wide, *ARGS, wrt=(0, 1, 2), clang_format=True)
    assert re.sub(r"\s+", "", formatted.source) == re.sub(r"\s+", "", plain.source)
    assert symdiff.api.c.build(formatted.source, STRICT).exists()  # -Wall -Wextra -Werror


def test_no_clang_format_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(CBackendError, match="no clang-format"):
        symdiff.emit_c(wide, *ARGS, wrt=0, clang_format=True)
