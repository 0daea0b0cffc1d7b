"""Branches, loops, mutation and calls: every branch and loop shape against finite differences."""

import math

import numpy as np
import pytest

import symdiff
from symdiff import UnsupportedSyntaxError, grad

from ..helpers import agrees

RNG = np.random.default_rng(7)


# ---------------------------------------------------------------- branches
def piecewise(x):
    if x > 1.0:
        y = x * x
    elif x > 0.0:
        y = 2.0 * x - 1.0 + x
    else:
        y = math.exp(x)
    return y * 3.0


@pytest.mark.parametrize("x", [2.0, 0.5, -0.7])
def test_if_elif_else_each_branch(x):
    agrees(piecewise, x)


def data_dependent(x):
    if np.sum(x) > 0:
        s = np.sum(x**2)
    else:
        s = np.sum(np.sin(x))
    return s


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_condition_on_array_data(sign):
    agrees(data_dependent, sign * np.abs(RNG.standard_normal(4)))


def early_return(x, k):
    if k == 0:
        return x * 2.0
    y = x * x
    if k == 1:
        return y + x
    return y * y


@pytest.mark.parametrize("k", [0, 1, 2])
def test_early_and_multiple_returns(k):
    agrees(early_return, 0.7, k)


def conditional_expression(x, t):
    y = x * x if t > 0 else -x
    return y + (x if x > 0.5 else 0.5 * x)


@pytest.mark.parametrize("t,x", [(1.0, 0.7), (1.0, 0.2), (-1.0, 0.7), (-1.0, 0.2)])
def test_conditional_expression(t, x):
    agrees(conditional_expression, x, t)


def branch_only_one_side_assigns(x):
    y = x
    if x > 0:
        y = y * 3.0
    return y * x


@pytest.mark.parametrize("x", [0.4, -0.4])
def test_branch_that_leaves_value_unchanged(x):
    agrees(branch_only_one_side_assigns, x)


def boolean_conditions(x, y):
    if x > 0 and y > 0:
        return x * y
    if x < 0 or y < 0:
        return x - y
    return x + y


@pytest.mark.parametrize("x,y", [(1.0, 2.0), (-1.0, 2.0), (1.0, -2.0), (-1.0, -2.0)])
def test_and_or_conditions(x, y):
    agrees(boolean_conditions, x, y, wrt=(0, 1))


# ---------------------------------------------------------------- for loops
def power_loop(x, n):
    y = x
    for i in range(n):
        y = y * math.cos(y)
    return y


@pytest.mark.parametrize("n", [0, 1, 5])
def test_range_loop_zero_one_many(n):
    agrees(power_loop, 0.8, n)


def range_with_bounds(x, a, b):
    s = 0.0
    for i in range(a, b, 2):
        s = s + x**i
    return s


@pytest.mark.parametrize("a,b", [(1, 6), (3, 3), (2, 3)])
def test_range_start_stop_step(a, b):
    agrees(range_with_bounds, 1.3, a, b)


def rows(X, w):
    total = 0.0
    for row in X:
        total = total + np.tanh(row @ w)
    return total


@pytest.mark.parametrize("n", [0, 1, 4])
def test_loop_over_array_rows(n):
    agrees(rows, RNG.standard_normal((n, 3)), RNG.standard_normal(3), wrt=(0, 1))


def enumerated(X, w):
    total = 0.0
    for i, row in enumerate(X):
        total = total + (i + 1.0) * np.sum(row * w)
    return total


def zipped(A, B):
    total = 0.0
    for a, b in zip(A, B):
        total = total + np.sum(a * np.exp(b))
    return total


def test_enumerate_and_zip():
    agrees(enumerated, RNG.standard_normal((3, 2)), RNG.standard_normal(2), wrt=(0, 1))
    agrees(zipped, RNG.standard_normal((3, 2)), RNG.standard_normal((4, 2)), wrt=(0, 1))


def nested(W, n, m):
    acc = 0.0
    for i in range(n):
        for j in range(m):
            acc = acc + W[i, j] * (i - j) + np.sin(acc)
    return acc


@pytest.mark.parametrize("n,m", [(3, 2), (0, 2), (2, 0)])
def test_nested_loops(n, m):
    agrees(nested, RNG.standard_normal((3, 3)), n, m)


def several_carries(x, n):
    a = x
    b = 1.0
    for i in range(n):
        a, b = b * 0.5 + a, a * b  # tuple packing and swaps
    return a + b


def test_several_carried_values_and_tuple_swaps():
    agrees(several_carries, 0.3, 4)


def augmented(x, n):
    y = x * 1.0
    z = np.ones_like(x)
    for i in range(n):
        y += x * 0.5
        y *= 1.1
        y -= 0.1 * y
        y /= 1.05
        z = z * y
    return np.sum(z)


def test_augmented_assignment():
    agrees(augmented, RNG.standard_normal(3), 3)


def matmul_augmented(A, x):
    y = x
    for i in range(3):
        y = A @ y
    y @= A.T
    return np.sum(y)


def test_matmul_augmented_assignment():
    agrees(matmul_augmented, 0.5 * RNG.standard_normal((3, 3)), RNG.standard_normal(3), wrt=(0, 1))


# ---------------------------------------------------------------- while, break, continue
def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


@pytest.mark.parametrize("a", [2.0, 9.0, 0.3])
def test_while_with_data_dependent_condition(a):
    report = agrees(newton_sqrt, a)
    assert grad(newton_sqrt)(a) == pytest.approx(0.5 / math.sqrt(a), rel=1e-6)
    assert report.ok


def with_break(x, stop):
    y = x
    for i in range(5):
        if i == stop:
            break
        y = y * 1.5 + math.sin(y)
    return y


@pytest.mark.parametrize("stop", [0, 2, 4, 9])
def test_break_at_first_middle_last_and_never(stop):
    agrees(with_break, 0.4, stop)


def with_continue(x):
    s = 0.0
    for i in range(6):
        if i % 2 == 0:
            continue
        s = s + x**i
    return s


def test_continue():
    agrees(with_continue, 0.9)


def while_break(x):
    k = 0
    while k < 100:
        x = x * 0.9 + 0.05 * math.sin(x)
        k += 1
        if x < 0.5:
            break
    return x


@pytest.mark.parametrize("x", [0.4, 0.6, 3.0])
def test_while_with_break(x):
    agrees(while_break, x)


# ---------------------------------------------------------------- mutation
def fill(x, w):
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * w
    return np.sum(y**2)


def test_indexed_assignment_builds_array_from_zeros():
    agrees(fill, RNG.standard_normal(4), 1.7, wrt=(0, 1))


def overwrite(x):
    y = x * 2.0
    y[1] = 0.0  # the overwritten entry gets no gradient from y
    y[0] = y[0] * x[2]
    return np.sum(y * x)


def test_overwritten_values_get_zero_gradient():
    agrees(overwrite, RNG.standard_normal(3))


def column_writes(X, h0):
    T = X.shape[1]
    H = np.zeros((h0.shape[0], T))
    h = h0
    for t in range(T):
        h = np.tanh(h + X[:, t])
        H[:, t] = h
    return np.sum(H**2)


def test_column_assignment_in_loop():
    agrees(column_writes, RNG.standard_normal((3, 4)), RNG.standard_normal(3), wrt=(0, 1))


def list_in_loop(x, w, n):
    hs = []
    h = x
    for t in range(n):
        h = np.tanh(w * h)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2) + np.sum(sum(hs)) + np.sum(np.array(hs))


@pytest.mark.parametrize("n", [1, 4])
def test_lists_built_in_a_loop(n):
    agrees(list_in_loop, RNG.standard_normal(2), 1.3, n, wrt=(0, 1))


def literal_list(x):
    parts = [x, 2.0 * x]
    parts.append(x * x)
    return np.sum(np.stack(parts)) + sum(parts)


def test_literal_list_with_append():
    agrees(literal_list, 0.7)


# ---------------------------------------------------------------- calls
def clipped_step(v, limit):
    if v > limit:
        return limit
    return v


def helper_with_loop(x, n):
    for i in range(n):
        x = x + 0.1 * x * x
    return x


def caller(x, n):
    y = helper_with_loop(x, n)
    return clipped_step(y, 2.0) + clipped_step(x, 0.0)


@pytest.mark.parametrize("x,n", [(0.5, 3), (1.8, 4), (-0.5, 2)])
def test_user_functions_with_branches_and_loops(x, n):
    agrees(caller, x, n)


# ---------------------------------------------------------------- the RNN of the examples
def rnn_loss(Wx, Wh, b, xs, h0):
    h = h0
    for x_t in xs:
        h = np.tanh(Wx @ x_t + Wh @ h + b)
    return np.sum(h**2)


def test_rnn_unrolled():
    Wx = 0.4 * RNG.standard_normal((5, 3))
    Wh = 0.4 * RNG.standard_normal((5, 5))
    args = (Wx, Wh, RNG.standard_normal(5), RNG.standard_normal((6, 3)), np.zeros(5))
    agrees(rnn_loss, *args, wrt=(0, 1, 2))


# ---------------------------------------------------------------- structure of the output
def test_generated_code_keeps_the_loop_structure():
    src = grad(power_loop).source
    assert "for i in range(n):" in src
    # the index is not needed backwards: the backward loop walks the tape
    assert "tape.append(" in src and "in reversed(tape):" in src


def test_generated_code_keeps_the_branch_structure():
    src = grad(piecewise).source
    assert src.count("if ") >= 4  # a forward and a backward if for each source if


def test_while_loop_counts_its_steps():
    src = grad(newton_sqrt).source
    assert "while " in src and "for _ in range(steps):" in src


# ---------------------------------------------------------------- refusals
def returns_in_loop(x):
    for i in range(3):
        if x > i:
            return x
    return 0.0


def recursive(x, n):
    if n == 0:
        return x
    return recursive(x * 2.0, n - 1)


def uses_try(x):
    try:
        y = x * 2.0
    except ValueError:
        y = x
    return y


def generator(x):
    yield x


def comprehension(x):
    return sum({i: x * i for i in range(3)}.values())


def global_write(x):
    global COUNTER
    COUNTER = x
    return x


def with_block(x):
    with open("f") as fh:
        fh.read()
    return x


class Box:
    pass


def attribute_write(x, box):
    box.value = x
    return x


def not_all_paths(x):
    if x > 0:
        return x


@pytest.mark.parametrize(
    "f,words",
    [
        (returns_in_loop, "return inside a loop"),
        (recursive, "recursive call to `recursive`"),
        (uses_try, "try/except is not supported"),
        (generator, "yield (generators) is not supported"),
        (comprehension, "dict comprehensions are not supported"),
        (global_write, "global statements are not supported"),
        (with_block, "with blocks are not supported"),
        (attribute_write, "assignment to attributes is not supported"),
        (not_all_paths, "not every path"),
    ],
)
def test_unsupported_constructs_are_refused_with_location(f, words):
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(f)
    message = str(info.value)
    assert words in message
    assert "test_control_flow.py:" in message
    assert "^" in message and "hint:" in message


def aliased_loop_state(x, n):
    y = x
    for i in range(n):
        y += x * 0.5  # in Python this updates x itself: y is x
    return np.sum(y)


def test_in_place_update_of_loop_state_that_aliases_an_argument_is_refused():
    g = grad(aliased_loop_state)  # refused at the call that passes an array (a float rebinds)
    assert g(1.0, 2) == pytest.approx(2.0)
    with pytest.raises(UnsupportedSyntaxError, match="in-place update through an alias"):
        g(np.ones(3), 2)


def view_then_update(x):
    y = x * 2.0
    v = y[0:2]
    y += 1.0
    return np.sum(v * y)


def test_in_place_update_of_an_array_a_view_shares_is_refused():
    g = grad(view_then_update)  # x's kind is unknown until the call (AliasUpdateError)
    with pytest.raises(UnsupportedSyntaxError, match="`v` also names"):
        g(np.ones(3))


def test_in_place_update_through_alias_is_refused():
    src = symdiff.from_source(
        "import numpy as np\n"
        "def alias(x):\n"
        "    y = x * 1.0\n"
        "    z = y\n"
        "    z += 1.0\n"
        "    return np.sum(y * z)\n"
    )
    g = grad(src)  # x's kind is unknown until the call (AliasUpdateError)
    with pytest.raises(UnsupportedSyntaxError, match="in-place update through an alias"):
        g(np.ones(3))


# ---------------------------------------------------------------- loops whose trip count varies
# A while (or a for with break) inside another loop runs a different number of times in each
# outer iteration. The backward pass must replay each count: it read the last one for all of
# them, which crashed (the tape ran dry) or, with counts (1, 3, 1), paired values with the
# wrong steps without a word. Found by the higher-order fuzz campaign (seed 20307).


def inner_while(x, counts):
    s = 0.0
    for i in range(3):
        k = 0
        y = x
        while k < counts[i]:
            y = np.sin(y) * 1.1
            k += 1
        s = s + y * (i + 1.0)
    return s


def _run_to(y, n):
    k = 0
    while k < n:
        y = np.sin(y) * 1.1
        k += 1
    return y


def inner_helper_and_break(x, counts):
    s = 0.0
    for i in range(3):
        s = s + _run_to(x, counts[i]) * (i + 1.0)
        y = x
        for j in range(5):
            if j >= counts[i]:
                break
            y = np.cos(y) + 0.5 * y
        if counts[i] > 1:
            t = x
            while t < 3.0 + i:
                t = t * 1.5 + 0.1
            s = s + t
        s = s + y
    return s


@pytest.mark.parametrize("counts", [(1, 3, 1), (0, 2, 1), (2, 0, 0), (3, 3, 3), (0, 0, 0)])
@pytest.mark.parametrize("f", [inner_while, inner_helper_and_break])
def test_inner_loop_counts_that_vary_between_outer_iterations(f, counts):
    assert agrees(f, 0.7, np.array(counts)).ok
