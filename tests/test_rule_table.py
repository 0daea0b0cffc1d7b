"""The catalogue and the rule tables as data: enums instead of strings, typed flags instead of
sets of names, names decoded in one place."""

import pytest

from symdiff import naming
from symdiff.ir import primitives as P
from symdiff.ir.nodes import Const, Effect, Form, Loop, LoopKind, Primitive, Var


def _catalogue() -> list[Primitive]:
    return [v for v in vars(P).values() if isinstance(v, Primitive)]


def test_every_primitive_has_enum_fields():
    for prim in _catalogue():
        assert isinstance(prim.form, Form), prim.name
        assert isinstance(prim.effect, Effect), prim.name


def test_a_misspelt_form_is_refused_when_the_primitive_is_made():
    with pytest.raises(ValueError):
        Primitive("bad", "infx", "+", lambda a, b: a + b, nargs=2)


def test_loop_kinds_are_members_and_strings_are_checked():
    i = Var("i")
    loop = Loop("range", (Const(0), Const(3)), i, (), ())
    assert loop.kind is LoopKind.RANGE
    with pytest.raises(ValueError):
        Loop("backwards", (Const(0), Const(3)), i, (), ())


def test_effects_match_what_numpy_does():
    import numpy as np

    x = np.arange(6.0).reshape(2, 3)
    for prim in (P.np_reshape, P.np_transpose, P.T_attr, P.getitem, P.np_ravel):
        assert prim.effect is Effect.VIEW, prim.name
    assert np.shares_memory(np.transpose(x), x) and np.shares_memory(np.ravel(x), x)
    for prim in (P.np_zeros_like, P.np_copy, P.np_concatenate, P.np_stack, P.np_stack_list):
        assert prim.effect is Effect.FRESH, prim.name
    assert not np.shares_memory(np.copy(x), x)
    assert {p for p in _catalogue() if p.effect is Effect.UPDATE} == {
        P.setitem,
        P.list_append,
        P.index_add,
    }
    assert P.np_exp.effect is Effect.NONE


def test_families_come_from_the_name():
    assert P.m_exp.family == "math" and P.np_exp.family == "np" and P.la_det.family == "np"
    assert P.add.family is None and P.unbroadcast.family is None
    assert naming.family("mathx.exp") is None


def test_internal_names_are_decoded_by_naming():
    assert naming.internal_tag("%t12") == "t"
    assert naming.internal_tag("%tape%b7") == "tape"
    assert naming.is_internal_of("%b3", "b")
    assert not naming.is_internal_of("%tape%b3", "t")
    assert not naming.is_internal_of("b3", "b") and naming.internal_tag("t1") is None


# ----------------------------------------------------------------------------- the catalogue


def test_every_primitive_is_catalogued_under_its_own_name():
    prims = _catalogue()
    assert len({p.name for p in prims}) == len(set(prims))
    for prim in prims:
        assert P.ALL[prim.name] is prim


def test_the_catalogue_refuses_a_name_claimed_twice():
    from symdiff.errors import InternalError
    from symdiff.ir.catalogue import Catalogue

    cat = Catalogue()
    cat.add(Primitive("twice", Form.CALL, "twice", abs))
    with pytest.raises(InternalError, match="twice"):
        cat.add(Primitive("twice", Form.CALL, "other", abs))


def test_the_catalogue_refuses_an_object_standing_for_two_primitives():
    from symdiff.errors import InternalError
    from symdiff.ir.catalogue import Catalogue

    cat = Catalogue()
    cat.add(Primitive("a", Form.CALL, "a", abs), abs)
    with pytest.raises(InternalError):
        cat.add(Primitive("b", Form.CALL, "b", abs), abs)
    cat.add(P.np_exp)
    cat.freeze()
    with pytest.raises(InternalError, match="complete"):
        cat.add(P.np_log)


@pytest.mark.parametrize("table", ["ALL", "BY_OBJECT", "METHODS", "ATTRIBUTES"])
def test_the_catalogue_is_read_only(table):
    mapping = getattr(P, table)
    with pytest.raises(TypeError):
        mapping["np.exp"] = P.np_log
    with pytest.raises(TypeError):
        del mapping[next(iter(mapping))]
    assert isinstance(P.HELPERS, tuple)


def test_resolving_an_unhashable_object_finds_nothing():
    import numpy as np

    assert P.resolve(np.zeros(3)) is None and P.resolve([np.exp]) is None
    assert P.resolve(np.exp) is P.np_exp
