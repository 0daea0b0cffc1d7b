"""One rule for blame: what the user's own code raises is theirs (a located UserCodeError,
exit 2 from the command line); only a fault of symdiff's is an InternalError (exit 3)."""

import dataclasses
import linecache
import re
import textwrap

import numpy as np
import pytest

import symdiff
from symdiff.api.cli import main
from symdiff.errors import InternalError, SymdiffError, UserCodeError

from . import trust_subjects as S

MODULE = """
import numpy as np


def g(W, x):
    y = W @ x  # @matmul
    return np.sum(y ** 2)


def example_g():
    return (np.ones((3, 4)), np.ones(5))


def h(x):
    return np.sum(x * x)


def example_h():
    return (np.ones(3)[7],)  # @example


def k(x):
    return np.sum(x * x)


def k_hand_grad(x):
    return 2.0 * x.T @ np.ones(5)  # @hand


def example_k():
    return (np.ones(3),)
"""


def line_of(text, tag):
    (n,) = [i for i, t in enumerate(text.splitlines(), 1) if t.rstrip().endswith(f"# @{tag}")]
    return n


@pytest.fixture()
def mod(tmp_path):
    path = tmp_path / "blamed.py"
    path.write_text(textwrap.dedent(MODULE))
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_shape_error_in_check_is_the_users_at_their_line(capsys, mod):
    code, out, err = run(capsys, "check", f"{mod}:g")
    assert code == 2
    first = err.splitlines()[0]
    line = line_of(MODULE, "matmul")
    assert first.startswith(f"error: blamed.py:{line}:9: g raised ValueError: matmul: ")
    assert err.splitlines()[1].strip() == "y = W @ x  # @matmul"
    assert "Traceback" not in err and "bug in symdiff" not in err


def test_demo_reports_the_users_error_not_a_bug(capsys, mod):
    code, out, _ = run(capsys, "demo", mod.parent)
    assert code == 1  # the example failed, and the demo goes on with the others
    assert "bug in symdiff" not in out
    line = line_of(MODULE, "matmul")
    assert f"    error: blamed.py:{line}:9: g raised ValueError: matmul: " in out


def test_an_example_that_raises_is_located_in_the_example(capsys, mod):
    code, _, err = run(capsys, "check", f"{mod}:h")
    assert code == 2
    line = line_of(MODULE, "example")
    assert err.splitlines()[0] == (
        f"error: blamed.py:{line}:13: example_h() raised IndexError: index 7 is out of "
        "bounds for axis 0 with size 3"
    )


def test_a_hand_written_gradient_that_raises_is_located_in_it(capsys, mod):
    code, _, err = run(capsys, "check", f"{mod}:k")
    assert code == 2
    line = line_of(MODULE, "hand")
    assert err.splitlines()[0].startswith(
        f"error: blamed.py:{line}:12: k_hand_grad() raised ValueError: matmul: "
    )


def test_a_module_that_raises_on_import_is_located(capsys, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\n\nSCALE = np.ones(3) @ np.ones(4)\n")
    code, _, err = run(capsys, "check", path)
    assert code == 2
    assert err.splitlines()[0].startswith(
        f"error: broken.py:3:9: importing {path} raised ValueError: matmul: "
    )


def test_the_users_error_keeps_its_class_and_original():
    with pytest.raises(ValueError) as info:  # an `except ValueError` keeps working
        symdiff.grad(S.matmul_shapes)(np.ones((3, 4)), np.ones(5))
    exc = info.value
    assert isinstance(exc, UserCodeError) and isinstance(exc, SymdiffError)
    assert type(exc.original) is ValueError and exc.__cause__ is exc.original
    assert exc.loc.func == "matmul_shapes" and exc.loc.text.strip().startswith("y = W @ x")


def test_a_gradient_that_fails_where_the_function_runs_is_still_internal():
    """The generated code raising where the function itself runs is symdiff's fault: the
    InternalError names the generated line and the source line its comment quotes."""
    g = symdiff.grad(S.total)
    t = g.transformed
    name = "<symdiff broken_grad 0000000000>"
    text = "def broken(*args):\n    # line 77: return np.sum(x * x)\n    raise TypeError('boom')\n"
    linecache.cache[name] = (len(text), None, text.splitlines(True), name)
    space: dict = {}
    exec(compile(text, name, "exec"), space)
    g(np.ones(2))  # the program specialised to this signature, which the call below runs
    broken = dataclasses.replace(t, grad=space["broken"], value_and_grad=space["broken"])
    g._t = broken  # the generic one too
    for entry in g._programs.values():
        entry.t, entry.fast = broken, None
    with pytest.raises(InternalError) as info:
        g(np.ones(2))
    message = info.value.message
    assert message.startswith("the generated gradient raised TypeError: boom at its line 3 ")
    assert "(raise TypeError('boom')), from " in message
    assert re.search(r"from \S*trust_subjects.py line 77: return np.sum\(x \* x\)", message)
    assert message.endswith("but total itself runs on the same inputs")
    assert not isinstance(info.value, SymdiffError)


def test_internal_errors_exit_3_and_user_errors_exit_2_as_documented():
    text = open("docs/cli.md", encoding="utf-8").read()
    assert "| 2 | an error in the input" in text and "raised by your own code" in text
    assert "| 3 | a bug in symdiff" in text


def test_the_fast_path_still_explains(monkeypatch):
    """A Python-float call takes the fast path after the first; an error there is blamed
    by the general path all the same."""
    g = symdiff.grad(S.math_domain)
    assert g(4.0) == pytest.approx(1 / 4.0 + 0.5 / 2.0)
    assert g(4.0) == pytest.approx(0.5)
    with pytest.raises(UserCodeError, match="math_domain raised ValueError: math domain error"):
        symdiff.value_and_grad(S.math_domain)(-1.0)
