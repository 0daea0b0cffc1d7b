"""SymdiffError in IPython: the message and the user's frames, without symdiff's internals.

Registered with a fake shell that records what ``set_custom_exc`` receives and calls the
handler as IPython does (bound to the shell), and with a real IPython shell when IPython
is installed."""

import subprocess
import sys
import traceback
import types

import numpy as np
import pytest

import symdiff
from symdiff.api import tracebacks
from symdiff.errors import SymdiffError


def refused(x):
    return np.sum(np.i0(x))


class FakeShell:
    """The part of IPython's InteractiveShell the registration uses."""

    def __init__(self):
        self.custom_exceptions = ()
        self.CustomTB = None
        self.shown = []

    def set_custom_exc(self, exc_tuple, handler):
        self.custom_exceptions = exc_tuple
        self.CustomTB = types.MethodType(handler, self) if handler is not None else None

    def _showtraceback(self, etype, value, stb):
        self.shown.append((etype, value, stb))


def raised():
    try:
        symdiff.grad(refused)
    except SymdiffError:
        return sys.exc_info()
    raise AssertionError("np.i0 has no rule: grad should refuse it")


def test_the_handler_shows_the_message_and_only_the_users_frames():
    shell = FakeShell()
    assert symdiff.concise_errors(shell=shell) is True
    assert shell.custom_exceptions == (SymdiffError,)
    etype, value, tb = raised()
    lines = shell.CustomTB(etype, value, tb)
    assert shell.shown == [(etype, value, lines)]
    assert lines[0] == "Traceback (symdiff's own frames are hidden; %tb shows them):"
    assert "test_tracebacks.py" in lines[1] and "symdiff.grad(refused)" in lines[1]
    assert not any(tracebacks.PACKAGE_DIR in line for line in lines)
    last = lines[-1]
    assert last.startswith("UnsupportedFunctionError: ") and last.endswith(value.hint)
    assert "test_tracebacks.py:" in last and "np.i0" in last and "^" in last
    # %tb and %debug read the exception where IPython's own display leaves it
    assert sys.last_value is value and sys.last_traceback is tb


def test_cells_are_named_as_the_shell_names_them():
    shell = FakeShell()
    here = __file__
    shell.compile = types.SimpleNamespace(
        format_code_name=lambda name: ("Cell", "In[3]") if name == here else None
    )
    symdiff.concise_errors(shell=shell)
    lines = shell.CustomTB(*raised())
    assert lines[1].startswith("  Cell In[3], line ") and lines[1].endswith(
        ", in raised\n    symdiff.grad(refused)"
    )
    # refused is defined in this "cell" too: the message is placed there
    line = refused.__code__.co_firstlineno + 1
    assert lines[-1].startswith(f"UnsupportedFunctionError: Cell In[3]:{line}:")


def test_the_shells_own_frame_is_skipped_as_ipython_skips_it():
    shell = FakeShell()
    shell.InteractiveTB = types.SimpleNamespace(tb_offset=1)  # IPython's frame running a cell
    symdiff.concise_errors(shell=shell)
    etype, value, tb = raised()
    assert shell.CustomTB(etype, value, tb)[0] == f"{etype.__name__}: {value}"  # raised() only
    assert shell.CustomTB(etype, value, tb, tb_offset=0)[1].endswith("symdiff.grad(refused)")


def test_the_full_traceback_is_longer():
    full = "".join(traceback.format_exception(*raised()))
    assert tracebacks.PACKAGE_DIR in full  # what the short display leaves out


def test_off_again_and_someone_elses_handler_is_left_alone():
    shell = FakeShell()
    symdiff.concise_errors(shell=shell)
    assert symdiff.concise_errors(False, shell=shell) is False
    assert shell.custom_exceptions == ()
    other = FakeShell()
    other.set_custom_exc((KeyError,), lambda self, *a, **k: None)
    assert symdiff.concise_errors(shell=other) is False
    assert other.custom_exceptions == (KeyError,)


def test_without_a_shell_symdiff_changes_nothing():
    # a fresh interpreter: importing symdiff neither imports IPython nor touches excepthook
    code = (
        "import sys; hook = sys.excepthook; import symdiff; "
        "assert sys.excepthook is hook; assert 'IPython' not in sys.modules; "
        "assert symdiff.concise_errors() is False"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_no_running_shell_means_no_registration(monkeypatch):
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: None  # IPython imported as a library, no shell running
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert symdiff.concise_errors() is False


def test_a_running_shell_is_found_through_ipython(monkeypatch):
    shell = FakeShell()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert symdiff.concise_errors() is True and shell.custom_exceptions == (SymdiffError,)


def test_in_a_real_ipython_shell(capsys):
    interactive = pytest.importorskip("IPython.core.interactiveshell",
                                      reason="IPython is not installed")  # fmt: skip
    shell = interactive.InteractiveShell.instance()
    try:
        assert symdiff.concise_errors(shell=shell) is True
        shell.user_ns.update(symdiff=symdiff, refused=refused)
        shell.run_cell("symdiff.grad(refused)")
        out = capsys.readouterr().out
        assert "UnsupportedFunctionError" in out and "hint:" in out
        assert tracebacks.PACKAGE_DIR not in out
    finally:
        symdiff.concise_errors(False, shell=shell)
