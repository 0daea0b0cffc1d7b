"""The IR's own tools on hand-built functions: ``check`` (definitions before uses, one
assignment per variable), ``run`` (the reference interpreter, one statement kind at a time)
and ``pformat`` (the printer bug reports and golden files rely on, asserted exactly).
"""

import math

import numpy as np
import pytest

from symdiff.errors import InternalError
from symdiff.ir import primitives as P
from symdiff.ir.check import check
from symdiff.ir.interpret import run
from symdiff.ir.nodes import (
    Assign,
    Carry,
    Const,
    Function,
    If,
    Loop,
    Phi,
    Pop,
    Push,
    Var,
)
from symdiff.ir.printer import pformat

from ..golden_ir import assert_golden

V = Var  # short names keep the hand-built IR readable
C = Const


def fn(params, body, result, name="f"):
    return Function(name, tuple(V(p) for p in params), tuple(body), result)


def let(target, prim, *args, **params):
    return Assign(V(target), prim, args, tuple(sorted(params.items())))


def every_statement():
    """One function with every statement kind, each nested kind reading the one before."""
    x, n = V("x"), V("n")
    return fn(
        ["x", "n"],
        [
            let("tape", P.new_tape),
            let("a", P.mul, x, C(2.0)),
            let("c", P.lt, V("a"), C(1.0)),
            If(
                V("c"),
                (let("b", P.add, V("a"), C(1.0)),),
                (let("b2", P.neg, V("a")),),
                (Phi(V("bp"), V("b"), V("b2")),),
            ),
            Loop(
                "range",
                (C(0), n),
                V("i"),
                (Carry(V("s"), C(0.0), V("s1"), V("s_out")),),
                (
                    Push(V("tape"), (V("s"),)),
                    let("t", P.mul, V("s"), x),
                    let("s1", P.add, V("t"), V("i")),
                ),
            ),
            Loop(
                "while",
                (),
                None,
                (Carry(V("k"), C(0), V("k1"), V("k_out")),),
                (let("k1", P.add, V("k"), C(1)), let("e", P.ge, V("k1"), C(2))),
                cond_block=(let("w", P.lt, V("k"), C(3)),),
                cond=V("w"),
                exit=V("e"),
            ),
            Loop(
                "reversed",
                (C(0), n),
                V("j"),
                (Carry(V("r"), V("bp"), V("r1"), V("r_out")),),
                (
                    Pop(V("tape"), (V("p"),)),
                    let("r2", P.mul, V("r"), C(2.0)),
                    let("pj", P.mul, V("p"), V("j")),
                    let("r1", P.add, V("r2"), V("pj")),
                ),
            ),
            let("m", P.mul, V("k_out"), C(math.pi, "math.pi")),
            let("total", P.add, V("r_out"), V("m")),
            let("out", P.np_sum, V("total"), axis=None),
        ],
        V("out"),
        name="every",
    )


def every_reference(x, n):
    """``every_statement`` written as Python."""
    tape = []
    a = x * 2.0
    bp = a + 1.0 if a < 1.0 else -a
    s = 0.0
    for i in range(n):
        tape.append((s,))
        s = s * x + i
    k = 0
    while k < 3:
        k = k + 1
        if k >= 2:
            break
    r = bp
    for j in reversed(range(n)):
        (p,) = tape.pop()
        r = r * 2.0 + p * j
    return r + k * math.pi


# ----------------------------------------------------------------------------- check


def test_check_accepts_every_statement_kind():
    check(every_statement())


@pytest.mark.parametrize(
    "body, result",
    [
        ([let("y", P.mul, V("z"), C(2.0))], V("y")),  # z is never defined
        ([let("y", P.neg, V("y"))], V("y")),  # read by its own definition
        ([let("y", P.neg, V("x"))], V("w")),  # the result
        ([Push(V("tape"), (V("x"),))], V("x")),  # a tape not made yet
        ([Pop(V("tape"), (V("y"),))], V("y")),
        (
            [  # a phi reads the other branch's variable
                let("c", P.lt, V("x"), C(0.0)),
                If(
                    V("c"),
                    (let("a", P.neg, V("x")),),
                    (let("b", P.pos, V("x")),),
                    (Phi(V("y"), V("b"), V("a")),),
                ),
            ],
            V("y"),
        ),
        (
            [  # a branch's variable read after the If, not through a phi
                let("c", P.lt, V("x"), C(0.0)),
                If(V("c"), (let("a", P.neg, V("x")),), (), ()),
            ],
            V("a"),
        ),
        (
            [  # a body variable read after the loop, not through a carry's out
                Loop("range", (C(0), C(3)), V("i"), (), (let("t", P.mul, V("x"), V("i")),)),
            ],
            V("t"),
        ),
        (
            [  # a while condition reading what the body computes
                Loop(
                    "while",
                    (),
                    None,
                    (Carry(V("k"), C(0), V("k1"), V("k_out")),),
                    (let("k1", P.add, V("k"), C(1)), let("w", P.lt, V("k1"), C(3))),
                    cond=V("w"),
                ),
            ],
            V("k_out"),
        ),
        (
            [  # a carry's next value that the body does not define
                Loop(
                    "range", (C(0), C(3)), V("i"), (Carry(V("s"), V("x"), V("s9"), V("s_out")),), ()
                ),
            ],
            V("s_out"),
        ),
    ],
)
def test_check_rejects_use_before_definition(body, result):
    with pytest.raises(InternalError, match="used before it is defined") as e:
        check(fn(["x"], body, result))
    assert "def f(x):" in e.value.ir  # the report carries the IR


@pytest.mark.parametrize(
    "body",
    [
        [let("y", P.neg, V("x")), let("y", P.pos, V("x"))],
        [let("x", P.neg, V("x"))],  # a parameter
        [let("tape", P.new_tape), Pop(V("tape"), (V("x"),))],
        [  # both branches assign the same variable (a phi must join them)
            let("c", P.lt, V("x"), C(0.0)),
            If(V("c"), (let("y", P.neg, V("x")),), (let("y", P.pos, V("x")),), ()),
        ],
        [  # a phi target already defined
            let("y", P.neg, V("x")),
            let("c", P.lt, V("x"), C(0.0)),
            If(V("c"), (), (), (Phi(V("y"), V("x"), V("x")),)),
        ],
        [  # the loop index is also a carry
            Loop("range", (C(0), C(3)), V("i"), (Carry(V("i"), C(0), V("i"), V("i_out")),), ()),
        ],
        [  # the carry's out is a name defined before
            let("y", P.neg, V("x")),
            Loop("range", (C(0), C(3)), V("i"), (Carry(V("s"), V("x"), V("s"), V("y")),), ()),
        ],
    ],
)
def test_check_rejects_double_assignment(body):
    with pytest.raises(InternalError, match="assigned twice"):
        check(fn(["x"], body, V("x")))


def test_check_rejects_a_repeated_parameter():
    with pytest.raises(InternalError, match="duplicate parameter"):
        check(Function("f", (V("x"), V("x")), (), V("x")))


# ----------------------------------------------------------------------------- run


def test_run_assign_applies_the_primitive_with_its_params():
    f = fn(["x"], [let("y", P.np_sum, V("x"), axis=0, keepdims=True)], V("y"))
    assert run(f, np.array([[1.0, 2.0], [3.0, 4.0]])).tolist() == [[4.0, 6.0]]
    f = fn(["x"], [let("y", P.mul, V("x"), C(math.pi, "math.pi"))], V("y"))
    assert run(f, 2.0) == 2.0 * math.pi


@pytest.mark.parametrize("x, expected", [(-2.0, 2.0), (3.0, 9.0)])
def test_run_if_takes_one_branch_and_its_phi(x, expected):
    f = fn(
        ["x"],
        [
            let("c", P.lt, V("x"), C(0.0)),
            If(
                V("c"),
                (let("a", P.neg, V("x")),),
                (let("b", P.mul, V("x"), V("x")),),
                (Phi(V("y"), V("a"), V("b")),),
            ),
        ],
        V("y"),
    )
    assert run(f, x) == expected


def order_loop(kind, exit_at=None):
    """A loop recording its indices in order: ``out = out * 10 + i``."""
    body = [let("t", P.mul, V("acc"), C(10)), let("acc1", P.add, V("t"), V("i"))]
    exit = None
    if exit_at is not None:
        body.append(let("e", P.eq, V("i"), C(exit_at)))
        exit = V("e")
    carry = Carry(V("acc"), C(0), V("acc1"), V("out"))
    loop = Loop(kind, (C(1), V("n")), V("i"), (carry,), tuple(body), exit=exit)
    return fn(["n"], [loop], V("out"))


def test_run_range_loop_counts_up_and_carries_state():
    assert run(order_loop("range"), 4) == 123
    assert run(order_loop("range"), 1) == 0  # no iteration: the carry's initial value


def test_run_reversed_loop_counts_down():
    assert run(order_loop("reversed"), 4) == 321


def test_run_exit_stops_after_the_iteration_it_is_true_in():
    assert run(order_loop("range", exit_at=2), 9) == 12
    assert run(order_loop("reversed", exit_at=2), 5) == 432


def test_run_while_loop_evaluates_its_condition_block_before_each_iteration():
    f = fn(
        ["x"],
        [
            Loop(
                "while",
                (),
                None,
                (Carry(V("v"), V("x"), V("v1"), V("out")),),
                (let("v1", P.mul, V("v"), C(2.0)),),
                cond_block=(let("w", P.lt, V("v"), C(100.0)),),
                cond=V("w"),
            )
        ],
        V("out"),
    )
    assert run(f, 3.0) == 192.0
    assert run(f, 500.0) == 500.0  # false at once: no iteration


def test_run_push_and_pop_use_the_tape_last_in_first_out():
    f = fn(
        ["x", "y"],
        [
            let("tape", P.new_tape),
            Push(V("tape"), (V("x"), V("y"))),
            Push(V("tape"), (V("y"), C(7.0))),
            Pop(V("tape"), (V("a"), V("b"))),
            Pop(V("tape"), (V("c"), V("d"))),
            let("ab", P.sub, V("a"), V("b")),
            let("cd", P.sub, V("c"), V("d")),
            let("out", P.mul, V("ab"), V("cd")),
        ],
        V("out"),
    )
    check(f)
    assert run(f, 1.0, 2.0) == (2.0 - 7.0) * (1.0 - 2.0)


@pytest.mark.parametrize("x, n", [(0.3, 0), (0.3, 4), (2.0, 3), (-1.5, 5)])
def test_run_every_statement_matches_its_python_reference(x, n):
    assert run(every_statement(), x, n) == pytest.approx(every_reference(x, n), rel=1e-15)


# ----------------------------------------------------------------------------- pformat


def test_pformat_of_a_small_function_exactly():
    f = fn(
        ["x"],
        [let("y", P.np_sum, V("x"), axis=0), let("z", P.mul, V("y"), C(math.pi, "math.pi"))],
        V("z"),
    )
    assert pformat(f) == (
        "def f(x):\n" "    y = np.sum(x, axis=0)\n" "    z = mul(y, math.pi)\n" "    return z"
    )


def test_pformat_of_every_statement_matches_golden_text():
    assert_golden("nodes", "every_statement", pformat(every_statement()))


def test_pformat_is_deterministic():
    f = every_statement()
    assert pformat(f) == pformat(f) == pformat(every_statement())
