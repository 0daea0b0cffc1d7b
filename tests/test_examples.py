"""The bundled examples run, agree with their hand-written gradients, and generated/ is current."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symdiff
from symdiff.api.cache import cached_transform
from symdiff.api.check import check_grad
from symdiff.api.cli import REFRESH, example_files, main, regenerate, resolve
from symdiff.backend.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GENERATED = ROOT / "generated"

# what each example must print: a phrase that only a correct run produces
EXPECTED = {
    "gradient_flow": ["symdiff: df/dx, df/dy, df/dz = (5.0, 8.0, 0.0)",
                      "by hand: df/dx, df/dy, df/dz = (5.0, 8.0, 0.0)"],
    "activations": ["splits the tie: (ALPHA + 1) / 2 = 0.55",
                    "d/dz leaky_relu_max      0.100   0.100   0.550   1.000   1.000",
                    "d/dz leaky_relu_where    0.100   0.100   0.100   1.000   1.000"],
    "softmax_cross_entropy": ["plain  loss and gradient: nan [nan nan nan]",
                              "stable loss and gradient: -0.0 [0. 0. 0.]"],
    "dense_layer": ["def loss_grad(W, x, b, y):", "max difference from the textbook formulas"],
    "outer_product": ["equal to np.outer(delta, x), element for element: True",
                      "Delta @ X.T: True True"],
    "logistic_regression": ["equals the closed form X.T @ (p - y) / n: True True"],
    "mlp": ["loss went from"],
}  # fmt: skip


def example_names():
    return sorted(p.stem for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_the_newcomer_examples_are_there():
    assert set(example_names()) >= set(EXPECTED)


@pytest.mark.parametrize("name", example_names())
def test_example_runs_as_a_script(name):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True,
        env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    for phrase in EXPECTED.get(name, []):
        assert phrase in done.stdout
    if name == "mlp":
        first, last = map(float, re.search(r"loss went from (\S+) to (\S+)", done.stdout).groups())
        assert last < first / 10
        losses = [float(v) for v in re.findall(r"loss (\d\.\d+)", done.stdout)]
        assert losses == sorted(losses, reverse=True) and len(losses) >= 5


def _targets():
    return [t for f in example_files(str(EXAMPLES)) for t in resolve(f)]


def test_every_example_file_declares_targets_and_hand_gradients():
    targets = _targets()
    assert {Path(t.path).stem for t in targets} == set(example_names())
    missing = [t.label for t in targets if t.path.endswith(tuple(f"{n}.py" for n in EXPECTED))
               and t.hand_grad() is None]  # fmt: skip
    assert missing == []


@pytest.mark.parametrize("target", _targets(), ids=lambda t: t.label)
def test_gradient_matches_hand_and_finite_differences(target):
    args = target.example()
    assert check_grad(target.func, *args, wrt=target.wrt, raise_on_failure=False).ok
    hand = target.hand_grad()
    if hand is None:
        return
    mine = symdiff.grad(target.func, wrt=target.wrt)(*args)
    theirs = hand(*args)
    single = isinstance(target.wrt, (int, str))
    mine, theirs = ((mine,), (theirs,)) if single else (mine, theirs)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        assert np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_generated_folder_is_current():
    fresh = regenerate(str(EXAMPLES))
    committed = {p.name: p.read_text(encoding="utf-8") for p in GENERATED.glob("*_grad.py")}
    stale = sorted(set(committed) - set(fresh))
    differ = sorted(n for n in fresh if committed.get(n) != fresh[n])
    assert not stale and not differ, (
        f"generated/ is out of date (differs: {differ}, stale: {stale}); "
        f"refresh with `{REFRESH}` from the repository root"
    )


def test_generated_modules_are_black_stable_lint_clean_and_path_free():
    files = sorted(GENERATED.glob("*_grad.py"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert format_source(text) == text, path.name
        assert f"Source: examples/{path.name[: -len('_grad.py')]}.py" in text
        assert str(ROOT) not in text and "/tmp" not in text
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    done = subprocess.run(
        [ruff, "check", "--isolated", "--no-cache", "--select", "E,F,W,I", "--ignore", "E501",
         *map(str, files)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


RUNNER = r"""
import importlib.util, pickle, sys
sys.modules["symdiff"] = None  # importing it now fails: the modules must not need it
module_dir, cases_path, out_path = sys.argv[1:4]
with open(cases_path, "rb") as fh:
    cases = pickle.load(fh)
out = {}
for file, name, args in cases:
    spec = importlib.util.spec_from_file_location(file[:-3], f"{module_dir}/{file}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out[f"{file}:{name}"] = getattr(mod, name)(*args)
with open(out_path, "wb") as fh:
    pickle.dump(out, fh)
"""


def _emitted_extras():
    newton = resolve(str(EXAMPLES / "newton_step.py"))[0]
    soft = resolve(str(EXAMPLES / "softmax_jacobian.py"))[0]
    z = soft.example()[0]
    return [
        ("newton_step_grad.py", "loss_hessian", newton.module.loss_hand_hessian, newton.example()),
        ("softmax_jacobian_grad.py", "softmax_jacobian", soft.module.softmax_hand_jacobian, (z,)),
    ]  # fmt: skip


def test_generated_modules_run_without_symdiff(tmp_path):
    import pickle

    cases, expected = [], {}
    for t in _targets():
        args = t.example()
        file = Path(t.path).stem + "_grad.py"
        cases.append((file, t.name + "_grad", args))
        expected[f"{file}:{t.name}_grad"] = cached_transform(t.func, t.wrt, False).grad(*args)
    # what EMIT adds, against the closed forms the examples write by hand
    for file, name, hand, args in _emitted_extras():
        cases.append((file, name, args))
        expected[f"{file}:{name}"] = hand(*args)
    (tmp_path / "cases.pkl").write_bytes(pickle.dumps(cases))
    (tmp_path / "run.py").write_text(RUNNER)
    done = subprocess.run(
        [sys.executable, "-I", "-B", str(tmp_path / "run.py"), str(GENERATED),
         str(tmp_path / "cases.pkl"), str(tmp_path / "out.pkl")],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = pickle.loads((tmp_path / "out.pkl").read_bytes())
    assert sorted(got) == sorted(expected)
    for key, value in expected.items():
        pairs = zip(value, got[key]) if isinstance(value, tuple) else [(value, got[key])]
        for a, b in pairs:
            np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15, err_msg=key)


def test_demo_runs_every_example(capsys):
    code = main(["demo", str(EXAMPLES)])
    out = capsys.readouterr().out
    assert code == 0
    summary = out[out.index("summary\n") :]
    for t in _targets():
        assert re.search(rf"^{re.escape(t.label)}\s+ok\s", summary, re.M), t.label
    assert out.rstrip().endswith(f"all {len(_targets())} gradients agree with finite differences")
