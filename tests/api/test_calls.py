"""The per-call key of a derivative object's program cache: equal exactly when the abstract
signatures are (kind, dtype, rank, unit axes), cheap for scalars and arrays."""

import numpy as np

from symdiff.abstract.values import signature
from symdiff.api.calls import call_key, described


def test_call_keys_tell_signatures_apart_without_building_abstract_values():
    key = call_key
    a3, a5 = np.ones(3), np.ones(5)
    assert key((a3, 1.0)) == key((a5, 2.0))
    assert key((a3,)) != key((np.ones(3, dtype=np.float32),))
    assert key((a3,)) != key((np.ones((1, 3)),)) != key((np.ones((3, 1)),))
    assert key((1.0,)) != key((1,)) != key((True,)) != key((np.float64(1.0),))
    assert key(((a3, 1.0),)) == key(((a5, 2.0),)) != key(((a5, 2),))


def test_equal_keys_mean_equal_signatures():
    cases = [(1.0,), (2,), (np.ones(3),), (np.ones((2, 1)),), (np.float32(1.0),), ([1.0, 2.0],)]
    for a in cases:
        for b in cases:
            assert (call_key(a) == call_key(b)) == (signature(a) == signature(b)), (a, b)


def test_what_the_analysis_cannot_describe():
    assert not described(signature(("text",))[0])
    assert not described(signature((np.ones(2, dtype=complex),))[0])
    assert not described(signature(((1.0, object()),))[0])
    assert described(signature(((1.0, np.ones(2)),))[0])
