"""symdiff.emit: standalone modules that run with NumPy alone and agree with symdiff."""

import hashlib
import importlib.util
import math
import re
import shutil
import subprocess
import sys
import types

import numpy as np
import numpy as xp  # a second name for NumPy, as some users write it
import pytest

import symdiff
from symdiff.api.export import StandaloneError, literal, repo_relative
from symdiff.backend.fmt import format_source
from symdiff.errors import WrtError

ALPHA = 0.1
OFFSETS = np.array([[0.5, -1.0, 2.0]])
SCALE32 = np.float32(0.5)
HUGE = np.zeros(5000)
cfg = types.ModuleType("cfg")
cfg.SCALE = 2.0


def _act(z):
    return np.where(z > 0, z, ALPHA * z)


def layer_loss(W, x, b, y):
    z = W @ x + b
    return np.sum((_act(z) - y) ** 2) + np.sum(OFFSETS * z)


def scalar_fn(u, v):
    return math.sin(u) * v + max(u, v) * SCALE32


def rnn_loss(W, h0, xs):
    h = h0
    for t in range(xs.shape[0]):
        h = xp.tanh(W @ h + xs[t])
    if np.sum(h) > 0:
        out = np.sum(h**2)
    else:
        out = -np.sum(h)
    return out


def unbroadcast(v):  # the user's own function with a runtime helper's name
    return v * 2.0


def uses_own_unbroadcast(b, x):
    return np.sum(unbroadcast(b + x))


def uses_huge(x):
    return np.sum(x * HUGE[:3])


def uses_cfg(x):
    return x * cfg.SCALE


WRT = {"layer_loss": ("W", "b"), "scalar_fn": ("u", "v"), "rnn_loss": ("W", "h0")}


def _inputs():
    rng = np.random.default_rng(0)
    return {
        "layer_loss": (rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3),
                       rng.normal(size=3)),
        "scalar_fn": (0.7, -1.3),
        "rnn_loss": (0.5 * rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=(4, 3))),
    }  # fmt: skip


FUNCS = (layer_loss, scalar_fn, rnn_loss)

# Runs in a fresh interpreter (-I: no PYTHONPATH, no current directory on sys.path) that
# refuses to import symdiff or anything symdiff needs besides NumPy.
DRIVER = r"""
import importlib.abc, importlib.util, json, sys
import numpy as np

BLOCKED = ("symdiff", "black", "sympy")

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, Block())
try:
    import symdiff  # noqa: F401
except ImportError:
    pass
else:
    sys.exit("symdiff was importable")

module_path, inputs_path, plan, out_path = sys.argv[1:5]
spec = importlib.util.spec_from_file_location("standalone", module_path)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
data = np.load(inputs_path)
results = {}
for name, nargs in json.loads(plan).items():
    args = [data[f"{name}_{i}"] for i in range(nargs)]
    args = [a.item() if a.ndim == 0 else a for a in args]  # Python numbers stay Python numbers
    grads = getattr(mod, name + "_grad")(*args)
    value, grads2 = getattr(mod, name + "_value_and_grad")(*args)
    results[f"{name}_value"] = np.asarray(value)
    for i, (g, g2) in enumerate(zip(grads, grads2)):
        results[f"{name}_grad_{i}"] = np.asarray(g)
        results[f"{name}_vg_{i}"] = np.asarray(g2)
np.savez(out_path, **results)
print("ran", ",".join(sorted(json.loads(plan))), "imported:",
      sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
"""


def run_isolated(module_path, inputs, tmp_path):
    """Call every function's _grad and _value_and_grad in a clean interpreter."""
    arrays = {f"{n}_{i}": np.asarray(a) for n, args in inputs.items() for i, a in enumerate(args)}
    plan = "{" + ", ".join(f'"{n}": {len(a)}' for n, a in inputs.items()) + "}"
    return run_driver(DRIVER, module_path, arrays, plan, tmp_path)


def run_driver(driver, module_path, arrays, plan, tmp_path):
    """Run ``driver`` on the module in an interpreter that cannot import symdiff."""
    np.savez(tmp_path / "inputs.npz", **arrays)
    (tmp_path / "driver.py").write_text(driver)
    done = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "driver.py"), str(module_path),
         str(tmp_path / "inputs.npz"), plan, str(tmp_path / "out.npz")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stdout
    return dict(np.load(tmp_path / "out.npz"))


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def emitted():
    return symdiff.emit(*FUNCS, wrt=WRT)


def test_standalone_module_runs_without_symdiff_and_agrees(emitted, tmp_path):
    path = tmp_path / "standalone_grad.py"
    path.write_text(emitted)
    inputs = _inputs()
    out = run_isolated(path, inputs, tmp_path)
    for f in FUNCS:
        name = f.__name__
        value, grads = symdiff.value_and_grad(f, wrt=WRT[name])(*inputs[name])
        assert out[f"{name}_value"] == pytest.approx(value, rel=1e-12)
        for i, g in enumerate(grads):
            np.testing.assert_allclose(out[f"{name}_grad_{i}"], g, rtol=1e-12, atol=0)
            np.testing.assert_allclose(out[f"{name}_vg_{i}"], g, rtol=1e-12, atol=0)


def test_module_contents(emitted):
    # the user's code, each generated pair, and __all__ naming all of them
    for name in ("layer_loss", "scalar_fn", "rnn_loss", "_act"):
        assert f"\ndef {name}(" in emitted
    for f in FUNCS:
        assert f"\ndef {f.__name__}_grad(" in emitted
        assert f"\ndef {f.__name__}_value_and_grad(" in emitted
    exported = re.search(r"__all__ = \[(.*?)\]", emitted, re.S).group(1)
    assert '"rnn_loss_value_and_grad"' in exported and '"_act"' not in exported
    # imports: only what is used, under the user's names
    assert "import numpy as np" in emitted and "import numpy as xp" in emitted
    assert "\nimport math\n" in emitted
    assert "import black" not in emitted and "symdiff." not in emitted.split('"""', 2)[2]
    # constants written exactly
    assert "ALPHA = 0.1\n" in emitted
    assert "OFFSETS = np.array([[0.5, -1.0, 2.0]], dtype=np.float64)" in emitted
    assert "SCALE32 = np.float32(0.5)" in emitted
    # runtime helpers copied, the standalone ensure_scalar raising ValueError
    assert "def unbroadcast(g, x):" in emitted
    assert "def ensure_scalar(value, name, error=ValueError):" in emitted


def test_header_is_reproducible_and_has_no_machine_path(emitted, tmp_path):
    import os

    assert symdiff.emit(*FUNCS, wrt=WRT) == emitted
    header = emitted.split('"""')[1]
    assert "Source: tests/api/test_export.py" in header
    assert "layer_loss: with respect to W, b" in header
    assert "rnn_loss: with respect to W, h0" in header
    assert f"symdiff {symdiff.__version__}" in header
    assert "simplify=False" in header
    digest = re.search(r"sha256: ([0-9a-f]{64})", header).group(1)
    assert len(digest) == 64
    assert os.path.dirname(os.path.abspath(__file__)) not in emitted
    assert os.getcwd() not in emitted
    assert not re.search(r"\d{4}-\d{2}-\d{2}", header)  # no date


def test_sha_follows_the_source_text():
    a = symdiff.from_source("def f(x):\n    return x * x\n")
    b = symdiff.from_source("def f(x):\n    return x * x  # same maths\n")
    sha = [re.search(r"sha256: (\w+)", symdiff.emit(f)).group(1) for f in (a, b)]
    assert sha[0] != sha[1]
    assert sha[0] == hashlib.sha256(b"def f(x):\n    return x * x\n").hexdigest()


def test_black_stable_and_lint_clean(emitted, tmp_path):
    assert format_source(emitted) == emitted
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    path = tmp_path / "standalone_grad.py"
    path.write_text(emitted)
    done = subprocess.run(
        [ruff, "check", "--isolated", "--no-cache", "--select", "E,F,W,I", "--ignore", "E501",
         str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


def test_path_writes_the_same_text(tmp_path):
    target = tmp_path / "sub" / "lin_grad.py"
    text = symdiff.emit(scalar_fn, wrt=("u", "v"), path=target)
    assert target.read_text() == text


def test_one_wrt_for_all_and_dict_defaults():
    text = symdiff.emit(layer_loss, scalar_fn, wrt=0)
    assert "layer_loss: with respect to W\n" in text and "scalar_fn: with respect to u\n" in text
    text = symdiff.emit(layer_loss, scalar_fn, wrt={"scalar_fn": "v"})
    assert "layer_loss: with respect to W\n" in text and "scalar_fn: with respect to v\n" in text
    with pytest.raises(WrtError, match="nope"):
        symdiff.emit(layer_loss, wrt={"nope": 0})


def test_runtime_helper_renamed_when_the_user_has_the_name(tmp_path):
    text = symdiff.emit(uses_own_unbroadcast, wrt=("b", "x"))
    assert "def unbroadcast(v):" in text  # the user's
    assert "def unbroadcast_1(g, x):" in text  # symdiff's, renamed
    path = tmp_path / "own_grad.py"
    path.write_text(text)
    mod = load(path, "own_grad")
    b, x = np.ones((1, 3)), np.arange(6.0).reshape(2, 3)
    db, dx = mod.uses_own_unbroadcast_grad(b, x)
    np.testing.assert_array_equal(db, np.full((1, 3), 4.0))
    np.testing.assert_array_equal(dx, np.full((2, 3), 2.0))


def test_same_name_in_two_functions_is_refused():
    f1 = symdiff.from_source("def f(x):\n    return x * 2.0\n")
    f2 = symdiff.from_source("def f(x):\n    return x * 3.0\n")
    with pytest.raises(StandaloneError, match="two different functions are called f"):
        symdiff.emit(f1, f2)


def test_unwritable_values_are_refused_with_a_hint():
    with pytest.raises(StandaloneError, match="5000 elements") as info:
        symdiff.emit(uses_huge)
    assert "argument" in info.value.hint
    with pytest.raises(StandaloneError, match="module cfg"):
        symdiff.emit(uses_cfg)


@pytest.mark.parametrize(
    "value",
    [
        0.1, -0.0, 3, True, None, "s", (1.0, 2), [1, 2.5], {"a": 1.0}, math.inf, -math.inf,
        np.float32(0.1), np.int64(-7), np.bool_(True), np.array(2.5),
        np.array([0.1, 1e-300, np.inf, -np.inf], dtype=np.float64),
        np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        np.array([[1, 2], [3, 4]], dtype=np.int32), np.array([True, False]),
        np.zeros((0, 3)), np.linspace(0, 1, 300).reshape(3, 100),
    ],
)  # fmt: skip
def test_literals_read_back_exactly(value):
    text = literal(value, "np", "v")
    back = eval(text, {"np": np})
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and back.shape == value.shape
        np.testing.assert_array_equal(back, value)
    else:
        assert type(back) is type(value) and back == value


def test_nan_literal_and_refusals():
    assert math.isnan(eval(literal(math.nan, "np", "v"), {"np": np}))
    with pytest.raises(StandaloneError, match="object"):
        literal(np.array([1, "a"], dtype=object), "np", "v")
    with pytest.raises(StandaloneError, match="set"):
        literal({1, 2}, "np", "v")
    with pytest.raises(StandaloneError, match="complex"):
        literal(np.array([1j]), "np", "v")


def test_repo_relative_paths(tmp_path):
    assert repo_relative(__file__) == "tests/api/test_export.py"
    (tmp_path / "proj" / "pkg").mkdir(parents=True)
    (tmp_path / "proj" / "pyproject.toml").write_text("")
    assert repo_relative(str(tmp_path / "proj" / "pkg" / "m.py")) == "pkg/m.py"
    assert repo_relative("<symdiff-source-12:f>") == "<string>"


def test_standalone_non_scalar_result_raises_plain_value_error(tmp_path):
    vec = symdiff.from_source("def vec(x):\n    return x * 2.0\n")
    path = tmp_path / "vec_grad.py"
    symdiff.emit(vec, path=path)
    mod = load(path, "vec_grad")
    assert mod.vec_grad(1.5) == 2.0
    with pytest.raises(ValueError, match="vec must return a scalar") as info:
        mod.vec_grad(np.ones(3))
    assert type(info.value) is ValueError


def scaled(x, s=ALPHA) -> float:
    return np.sum(x * s)


def test_default_values_read_at_module_level_are_defined(tmp_path):
    path = tmp_path / "scaled_grad.py"
    text = symdiff.emit(scaled, path=path)
    assert "ALPHA = 0.1\n" in text and "def scaled(x, s=ALPHA) -> float:" in text
    mod = load(path, "scaled_grad")
    np.testing.assert_array_equal(mod.scaled_grad(np.ones(2)), [0.1, 0.1])


def test_every_runtime_helper_copies_with_everything_it_reads():
    import builtins
    import inspect

    from symdiff.api.copied import CONSTANTS as _RUNTIME_CONSTANTS
    from symdiff.api.copied import HELPERS as _RUNTIME
    from symdiff.api.copied import needed as _runtime_needed
    from symdiff.api.user_code import global_names as _global_names

    for name in _RUNTIME:
        funcs, consts = _runtime_needed([name])
        assert name in funcs
        text = "import numpy as np\n" + "".join(
            f"{c} = {literal(_RUNTIME_CONSTANTS[c], 'np', c)}\n" for c in consts
        )
        text += "".join(inspect.getsource(_RUNTIME[f]) for f in funcs)
        ns: dict = {}
        exec(compile(text, f"<copy of {name}>", "exec"), ns)
        missing = [n for n in _global_names(text) if n not in ns and not hasattr(builtins, n)]
        assert missing == [], f"{name} reads {missing}, which emit does not copy"


# ----------------------------------------------------------------------------- derivatives
# jvp / vjp / jacobian / hessian / hvp objects and grad(grad(f)) emitted as modules


def logistic(w, X, y, lam=0.1):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)) + lam * np.sum(w * w)


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def pair(x, y, *, k=2.0):
    total = x * 0.0
    for i in range(3):
        total = total + np.sin(x * y) * k**i
    return np.concatenate([total, x * y])


def wiggle(x):
    if x > 0.0:
        return math.tanh(x) * x
    return x**3


def _derivative_inputs():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4))
    return {
        "w": rng.normal(size=4), "X": X, "y": (X @ [1.0, -1.0, 0.5, 0.0] > 0) * 1.0,
        "v": rng.normal(size=4), "z": rng.normal(size=5), "dz": rng.normal(size=5),
        "ct": rng.normal(size=5), "x3": rng.normal(size=3), "y3": rng.normal(size=3),
        "s": 0.7, "neg": -0.4,
    }  # fmt: skip


# (key, generated function, inputs by name, the in-process object's result)
def _derivative_calls():
    d = _derivative_inputs()
    H, J = symdiff.hessian(logistic, wrt="w"), symdiff.jacobian(softmax)
    value, pullback = symdiff.vjp(softmax)(d["z"])
    calls = [
        ("hessian", "logistic_hessian", ["w", "X", "y"], H(d["w"], d["X"], d["y"])),
        ("hvp", "logistic_hvp", ["w", "X", "y", "v=v"],  # after a default: keyword-only
         symdiff.hvp(logistic, wrt="w")(d["w"], d["X"], d["y"], d["v"])),
        ("grad", "logistic_grad", ["w", "X", "y"], symdiff.grad(logistic)(d["w"], d["X"], d["y"])),
        ("jacobian", "softmax_jacobian", ["z"], J(d["z"])),
        ("tangent", "softmax_tangent", ["z", "dz"], symdiff.jvp(softmax)(d["z"], d["dz"])[1]),
        ("jvp", "softmax_jvp", ["z", "dz"], symdiff.jvp(softmax)(d["z"], d["dz"])),
        ("vjp", "softmax_vjp", ["z", "ct"], pullback(d["ct"])),
        ("pair_jacobian", "pair_jacobian", ["x3", "y3"],
         symdiff.jacobian(pair, wrt=("x", "y"))(d["x3"], d["y3"])),
        ("second", "wiggle_grad_grad", ["s"], symdiff.grad(symdiff.grad(wiggle))(d["s"])),
        ("second_neg", "wiggle_grad_grad", ["neg"], symdiff.grad(symdiff.grad(wiggle))(d["neg"])),
    ]  # fmt: skip
    return d, calls


def _derivative_objects():
    return (
        symdiff.hessian(logistic, wrt="w"),
        symdiff.jacobian(softmax),
        symdiff.vjp(softmax),  # shares softmax_vjp with the Jacobian: written once
        symdiff.jacobian(pair, wrt=("x", "y")),
        symdiff.grad(symdiff.grad(wiggle)),
    )


# the same start (block symdiff, load the module and the inputs), then named calls
CALLS_DRIVER = (
    DRIVER.split("for name, nargs in")[0] + r"""for key, name, inputs in json.loads(plan):
    def arg(n):
        return data[n].item() if data[n].ndim == 0 else data[n]

    args = [arg(n) for n in inputs if "=" not in n]
    kwargs = {k: arg(n) for k, _, n in (i.partition("=") for i in inputs if "=" in i)}
    out = getattr(mod, name)(*args, **kwargs)
    for i, part in enumerate(out if isinstance(out, tuple) else (out,)):
        results[f"{key}_{i}"] = np.asarray(part)
np.savez(out_path, **results)
print("imported:", sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
"""
)


@pytest.fixture(scope="module")
def derived_module():
    return symdiff.emit(*_derivative_objects())


def test_derivative_objects_run_standalone_and_agree(derived_module, tmp_path):
    import json

    d, calls = _derivative_calls()
    path = tmp_path / "derived.py"
    path.write_text(derived_module)
    plan = json.dumps([[k, name, inputs] for k, name, inputs, _ in calls])
    arrays = {k: np.asarray(v) for k, v in d.items()}
    out = run_driver(CALLS_DRIVER, path, arrays, plan, tmp_path)
    for key, _, _, expected in calls:
        parts = expected if isinstance(expected, tuple) else (expected,)
        for i, e in enumerate(parts):
            np.testing.assert_allclose(out[f"{key}_{i}"], e, rtol=1e-12, atol=1e-15, err_msg=key)
    # and against closed forms, so that agreement is not two copies of one mistake
    p = softmax(d["z"])
    np.testing.assert_allclose(out["jacobian_0"], np.diag(p) - np.outer(p, p), atol=1e-15)
    q = 1.0 / (1.0 + np.exp(-(d["X"] @ d["w"])))
    closed = d["X"].T @ (d["X"] * (q * (1 - q))[:, None]) / len(q) + 0.2 * np.eye(4)
    np.testing.assert_allclose(out["hessian_0"], closed, rtol=1e-12)
    np.testing.assert_allclose(out["hvp_0"], closed @ d["v"], rtol=1e-12)
    s = d["s"]
    assert out["second_0"] == pytest.approx(
        2 * (1 - math.tanh(s) ** 2) - 2 * s * math.tanh(s) * (1 - math.tanh(s) ** 2), rel=1e-12
    )
    assert out["second_neg_0"] == pytest.approx(6 * d["neg"], rel=1e-12)


def test_derivative_module_contents(derived_module):
    text = derived_module
    header = text.split('"""')[1]
    assert header.startswith("Derivatives generated by symdiff")
    assert "    logistic: Hessian with respect to w\n        logistic_grad, " in header
    assert "softmax: vector-Jacobian product with respect to z\n        softmax_vjp, " in header
    assert "wiggle: gradient of the gradient with respect to x\n        wiggle_grad, " in header
    exported = re.search(r"__all__ = \[(.*?)\]", text, re.S).group(1)
    for name in ("logistic", "logistic_hessian", "logistic_hvp", "logistic_grad_and_hvp",
                 "softmax_jacobian", "softmax_tangent", "softmax_jvp", "softmax_vjp",
                 "softmax_value_and_vjp", "pair_jacobian", "wiggle_grad_grad"):  # fmt: skip
        assert f'"{name}"' in exported, name
    assert text.count("\ndef softmax_vjp(") == 1 and text.count("\ndef softmax(") == 1
    assert "def jacobian_columns(tangent, inputs, shape):" in text
    # keyword-only arguments are passed on by name
    assert "pair(x, y, k=k)" in text and "pair_tangent(x, y, k=k, x_dot=x_dot, y_dot=y_dot)" in text
    assert format_source(text) == text
    assert symdiff.emit(*_derivative_objects()) == text


def test_derivative_modes_choose_their_programs():
    fwd = symdiff.emit(symdiff.jacobian(softmax, mode="fwd"))
    rev = symdiff.emit(symdiff.jacobian(softmax, mode="rev"))
    assert "def softmax_tangent(" in fwd and "def softmax_vjp(" not in fwd
    assert "jacobian_rows" not in fwd and "Forward mode: one call of softmax_tangent" in fwd
    assert "def softmax_vjp(" in rev and "def softmax_tangent(" not in rev
    assert "jacobian_columns" not in rev
    both = symdiff.emit(logistic, symdiff.hvp(logistic))  # one gradient for both
    assert both.count("\ndef logistic_grad(") == 1 and "def logistic_hvp(" in both


def test_derivative_objects_bring_their_own_wrt():
    with pytest.raises(WrtError, match="its own wrt"):
        symdiff.emit(symdiff.hessian(logistic), wrt={"logistic_hessian": 1})
    text = symdiff.emit(symdiff.hessian(logistic, wrt="w"), wrt=1)  # wrt is for plain functions
    assert "logistic: Hessian with respect to w" in text


def test_cli_emit_kinds(tmp_path, capsys):
    from symdiff.api.cli import main

    assert main(["emit", "examples/newton_step.py:loss", "--wrt", "w", "--kind", "hessian"]) == 0
    out = capsys.readouterr().out
    assert "def loss_hessian(w, X, y):" in out and "def loss_value_and_grad(" in out
    assert main(["emit", "examples/softmax_jacobian.py:softmax", "--kind", "jvp,vjp"]) == 0
    out = capsys.readouterr().out
    assert "def softmax_jvp(" in out and "def softmax_vjp(" in out
    assert "def softmax_jacobian" not in out
    assert main(["emit", "examples/newton_step.py:loss", "--kind", "laplacian"]) == 2
    assert "no derivative called 'laplacian'" in capsys.readouterr().err


def test_cli_show_kinds(capsys):
    from symdiff.api.cli import main

    assert main(["show", "examples/newton_step.py:loss", "--wrt", "w", "--kind", "hvp"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("def loss_grad_and_hvp(w, X, y, v):")
    assert main(["show", "examples/softmax_jacobian.py:softmax", "--kind", "jacobian"]) == 0
    out = capsys.readouterr().out
    assert "# forward mode" in out and "def softmax_vjp(" in out


def test_emit_with_args_writes_specialised_functions_that_run_standalone():
    rng = np.random.default_rng(3)
    W, x, b, y = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=3), np.ones(3)
    text = symdiff.emit(layer_loss, wrt=("W", "b"), args=(W, x, b, y))
    header = text.split('"""')[1]
    assert (
        "layer_loss: with respect to W, b\n        specialised for W: ndarray[float64, (n, n)]"
        in header
    )
    assert "n in a shape: any length other than 1" in " ".join(header.split())
    assert "unbroadcast" not in text and "matmul_grad_a" not in text
    namespace: dict = {}
    exec(compile(text, "<module>", "exec"), namespace)
    for got, want in zip(
        namespace["layer_loss_grad"](W, x, b, y),
        symdiff.grad(layer_loss, wrt=("W", "b"))(W, x, b, y),
    ):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    assert "Specialised" not in symdiff.emit(layer_loss, wrt=("W", "b"))


def test_emit_args_by_function_name_and_for_derivative_objects():
    text = symdiff.emit(
        layer_loss, scalar_fn, symdiff.hessian(scalar_fn), args={"scalar_fn": (0.3, 1.2)}
    )
    header = text.split('"""')[1]
    assert header.count("specialised for u: float, v: float") == 2  # the gradient, the Hessian
    assert "layer_loss: gradient with respect to W\n        layer_loss_grad" in header
    namespace: dict = {}
    exec(compile(text, "<module>", "exec"), namespace)
    np.testing.assert_allclose(
        namespace["scalar_fn_hessian"](0.3, 1.2), symdiff.hessian(scalar_fn)(0.3, 1.2), rtol=1e-12
    )
    with pytest.raises(WrtError, match="args names 'nothing'"):
        symdiff.emit(layer_loss, args={"nothing": (1.0,)})
    with pytest.raises(WrtError, match="args is a tuple of arguments or a dict"):
        symdiff.emit(layer_loss, args=3.0)
