"""The abstract-evaluation table against NumPy itself.

For every case the table is asked twice: with the arguments' exact abstract values (sizes
known, constants known), where its answer must equal the abstract value of what NumPy
returns, and with the erased signature and no constants, where its answer must still be a
sound description (``covers``) of the actual result. Primitives whose results depend on the
values (``nonzero``, ``sum`` of a list that may be empty) are held to soundness only.
"""

import random
import warnings
from collections import Counter

import numpy as np
import pytest

from symdiff.abstract import table
from symdiff.abstract.call import NOT_CONST
from symdiff.abstract.values import (
    BOOL,
    FLOAT,
    INT,
    NONE,
    UNKNOWN,
    AbstractValue,
    Extent,
    Kind,
    ShapeError,
    array,
    covers,
    list_of,
    np_scalar,
    of,
    signature,
    tuple_of,
)
from symdiff.ir import primitives as P

from .cases import all_cases

CASES = all_cases()

# results that depend on the values, not only on kinds, dtypes and lengths
VALUE_DEPENDENT = {
    P.np_nonzero: "the number of nonzero entries",
    P.np_flatnonzero: "the number of nonzero entries",
    P.b_max: "which argument is larger",
    P.b_min: "which argument is smaller",
    P.sum_list: "a list built at run time may be empty: 0 or a sum",
    P.pow: "the sign of an integer exponent / of a float base",
    P.b_pow: "the sign of an integer exponent / of a float base",
    P.np_stack_list: "the length of a list built at run time is not tracked",
    P.np_array_list: "the length of a list built at run time is not tracked",
}


def actual(case):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return True, case.prim.impl(*case.args, **case.params)
        except Exception:  # NumPy refuses this call: nothing to compare
            return False, None


def vague(v: AbstractValue) -> AbstractValue:
    """``v`` with every axis length unknown (not even whether it is 1)."""
    shape = None if v.shape is None else tuple(Extent.ANY for _ in v.shape)
    items = None if v.items is None else tuple(map(vague, v.items))
    item = None if v.item is None else vague(v.item)
    return AbstractValue(v.kind, v.dtype, shape, items, item, v.pytype)


def ask(case, exact: bool, blur=signature):
    consts = case.const_positions() if exact else ()
    args = tuple(of(v) for v in case.args) if exact else blur(case.args)
    values = tuple(v if i in consts else NOT_CONST for i, v in enumerate(case.args))
    return table.apply(case.prim, args, values, dict(case.params))


def test_every_primitive_of_the_catalogue_has_an_entry():
    assert table.missing() == []
    assert len(table.TABLE) == len(table.catalogue())


def test_every_described_primitive_is_exercised_by_a_case():
    exercised = {c.prim for c in CASES}
    untested = [
        p.name for p in table.catalogue() if p not in exercised and p not in table.UNDESCRIBED
    ]
    assert untested == []


def test_undescribed_primitives_answer_unknown():
    for prim in table.UNDESCRIBED:
        assert table.apply(prim, ()) is UNKNOWN


@pytest.mark.parametrize("prim", sorted({c.prim for c in CASES}, key=lambda p: p.name), ids=str)
def test_table_matches_numpy(prim):
    ran = Counter()
    for case in (c for c in CASES if c.prim is prim):
        ok, result = actual(case)
        if not ok:
            continue
        ran["ran"] += 1
        truth = of(result)
        got = ask(case, exact=True)
        if prim in VALUE_DEPENDENT or case.loose:
            assert covers(got, truth), (case, str(got), str(truth))
        else:
            assert got == truth, (case, str(got), str(truth))
        loose = ask(case, exact=False)
        assert covers(loose, truth), (case, str(loose), str(truth))
        vaguer = ask(case, exact=False, blur=lambda args: tuple(vague(of(a)) for a in args))
        assert covers(vaguer, truth), (case, str(vaguer), str(truth))
    assert ran["ran"] > 0, f"no case of {prim.name} ran"


ODD = [
    FLOAT, INT, BOOL, NONE, UNKNOWN, np_scalar("f8"), np_scalar("i8"), array("f8", None),
    array(None, (3,)), array("f8", ()), array("f8", (Extent.ANY,)),
    array("f4", (1, Extent.MANY)), array("b1", (2, 3)), array("i8", (2,)), tuple_of(None),
    tuple_of((INT, INT)), list_of(None), list_of(FLOAT), list_of(array("f8", (3,))),
    AbstractValue(Kind.OTHER, pytype="str"),
]  # fmt: skip


def test_rules_never_crash_on_arguments_of_other_kinds():
    """A rule given what it does not expect answers a value or a located error, never a
    crash (the analysis runs on every program, written correctly or not)."""
    rng = random.Random(0)
    for case in CASES[::3]:
        for _ in range(4):
            args = tuple(rng.choice(ODD) if rng.random() < 0.8 else of(a) for a in case.args)
            consts = tuple(
                a if i in case.const_positions() and rng.random() < 0.7 else NOT_CONST
                for i, a in enumerate(case.args)
            )
            try:
                result = table.apply(case.prim, args, consts, dict(case.params))
            except ShapeError:
                continue
            assert isinstance(result, AbstractValue), case


# calls NumPy accepts on an empty axis that the table refuses, as it refuses the same call
# on any two different lengths (a user's code that runs only for empty arrays)
EMPTY_LENIENT = {P.np_einsum: "a repeated letter ('ii->i') of lengths 0 and 3"}


def _emptied(case):
    """``case`` with the first axis longer than 1 of its first array argument made 0 long
    (None: no such axis). Signatures erase a length 0 to ``Extent.MANY`` like any length
    that is not 1, so every rule must be right for empty arrays too. Helpers are left out:
    their arguments' shapes follow each other (an adjoint is shaped like its value), so
    emptying one alone makes a call no generated gradient makes."""
    if case.prim in P.HELPERS:
        return None
    for i, arg in enumerate(case.args):
        if isinstance(arg, np.ndarray) and arg.ndim and i not in case.const_positions():
            for k, n in enumerate(arg.shape):
                if n > 1:
                    shape = arg.shape[:k] + (0,) + arg.shape[k + 1 :]
                    args = case.args[:i] + (np.zeros(shape, arg.dtype),) + case.args[i + 1 :]
                    return type(case)(case.prim, args, case.params, case.consts, case.loose)
    return None


def test_table_matches_numpy_on_zero_length_axes():
    ran: set = set()
    for case in filter(None, map(_emptied, CASES)):
        ok, result = actual(case)
        if not ok:  # NumPy refuses it (a reduction of nothing, a length that must match)
            continue
        ran.add(case.prim)
        truth = of(result)
        try:
            got = ask(case, exact=True)
        except ShapeError:
            assert case.prim in EMPTY_LENIENT, case
            continue
        if case.prim in VALUE_DEPENDENT or case.loose:
            assert covers(got, truth), (case, str(got), str(truth))
        else:
            assert got == truth, (case, str(got), str(truth))
        loose = ask(case, exact=False)
        assert covers(loose, truth), (case, str(loose), str(truth))
    assert len(ran) > 100, len(ran)
