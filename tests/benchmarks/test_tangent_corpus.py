"""benchmarks/tangent_corpus.py's verdicts, on functions written here in the corpus's
style (the corpus itself is fetched at run time, never kept in this project): what is out
of scope, which inputs its naming conventions give, and passed / refused / failed."""

import ast
import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent.parent
spec = importlib.util.spec_from_file_location(
    "tangent_corpus", ROOT / "benchmarks" / "tangent_corpus.py"
)
assert spec is not None and spec.loader is not None
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)


def tree(text):
    return ast.parse(text).body[0]


def test_runtime_and_tensorflow_functions_are_out_of_scope():
    stack = "def f(a):\n  s = tangent.Stack()\n  tangent.push(s, a, 'k')\n  return a\n"
    assert corpus.out_of_scope(tree(stack)) == "Tangent's runtime"
    assert corpus.out_of_scope(tree("def f(t):\n  return tf.exp(t)\n")) == "TensorFlow"
    assert corpus.out_of_scope(tree("def f(a):\n  return np.exp(a)\n")) is None


def test_inputs_follow_the_naming_conventions():
    rng = np.random.default_rng(0)
    cases = corpus.inputs(["a", "n"], rng)
    assert cases and all(isinstance(args[1], int) and wrt == (0,) for args, wrt in cases)
    assert corpus.inputs(["weird"], rng) == []
    (args, wrt), *_ = corpus.inputs(["a"], rng, vectors=True)
    assert np.shape(args[0]) == (3,)


def cube(a):
    return a**3


def raises(a):
    raise ValueError("not in f's domain")


def nested_def(a):
    def inner(b):
        return b * b

    return inner(a)


def test_verdicts():
    rng = np.random.default_rng(0)
    assert corpus.verdict(cube, corpus.inputs(["a"], rng))[0] == "passed"
    status, reason = corpus.verdict(raises, [([0.5], (0,))])
    assert status == "out of scope"  # f raises by itself: no verdict on symdiff
    status, reason = corpus.verdict(nested_def, [([0.5], (0,))])
    assert status == "refused" and "nested function definitions" in reason
