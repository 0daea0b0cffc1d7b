"""Common subexpressions of the user's function (optimize.cse)."""

import numpy as np

from symdiff import check_grad, pipeline
from symdiff.frontend.lower import lower
from symdiff.frontend.source import get_source
from symdiff.ir.nodes import iter_assigns
from symdiff.optimize import cse


def duplicated_softmax(z, y):
    return np.sum(y * np.exp(z - np.max(z)) / np.sum(np.exp(z - np.max(z))))


def different_constants(x):
    return np.sum(x / 2 + x / 2.0)  # 2 and 2.0 are different constants: kept apart


def draws(x):
    return np.sum(x * np.random.normal(size=3) + x * np.random.normal(size=3))


def in_a_loop(x):
    total = 0.0
    for i in range(3):
        total = total + np.sum(np.exp(x)) * np.sum(np.exp(x))
    return total


def lowered(f):
    return lower(get_source(f), reserved=set())[0]


def test_a_repeated_expression_is_computed_once():
    fn, merged = cse.common_subexpressions(lowered(duplicated_softmax))
    assert merged == 3  # max, the difference, the exponential
    assert sum(1 for s in iter_assigns(fn.body) if s.prim.name == "np.exp") == 1
    args = (np.array([0.3, -1.0, 2.0]), np.array([1.0, 2.0, 0.5]))
    t = pipeline.transform(duplicated_softmax, 0, args=args)
    code = [line for line in t.grad_source.splitlines() if not line.strip().startswith("#")]
    assert sum(line.count("np.exp(") for line in code) == 1
    check_grad(duplicated_softmax, *args, grad_fn=t.grad)


def test_constants_of_different_types_and_random_draws_are_not_merged():
    assert cse.common_subexpressions(lowered(different_constants))[1] == 0
    assert cse.common_subexpressions(lowered(draws))[1] == 0


def test_repeats_inside_a_loop_body_are_merged_there():
    fn, merged = cse.common_subexpressions(lowered(in_a_loop))
    assert merged == 2
    x = np.array([0.1, 0.2])
    check_grad(in_a_loop, x, grad_fn=pipeline.transform(in_a_loop, 0, args=(x,)).grad)
