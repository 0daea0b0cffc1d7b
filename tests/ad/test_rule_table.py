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


# ----------------------------------------------------------------------------- partials

import numpy as np  # noqa: E402

from symdiff.ad import rules, tangents  # noqa: E402
from symdiff.ad.partials import PARTIALS  # noqa: E402

RNG = np.random.default_rng(12)


class _Numeric:
    """A stand-in for the expression builder that computes with NumPy at once, so that a
    row of partials can be checked against finite differences directly."""

    zero = None

    def is_zero(self, d):
        return d is None

    def eq(self, a, b):
        return np.equal(a, b).astype(float)

    def __getattr__(self, name):
        return getattr(np, name)


class _Held(np.ndarray):
    """An input array with an ``atom`` (the identity the builder compares)."""


def _held(values, token):
    out = np.asarray(values, dtype=float).view(_Held)
    out.atom = token
    return out


def _inputs(prim, n):
    lo, hi = (1.3, 1.7) if prim in (P.m_acosh, P.np_arccosh) else (0.3, 0.7)
    xs = [RNG.uniform(lo, hi, 5)] + [RNG.uniform(1.2, 1.8, 5) for _ in range(n - 1)]
    if prim is P.np_clip:
        xs = [RNG.uniform(0.3, 0.7, 8), np.full(8, 0.45), np.full(8, 0.55)]
    return xs


def _evaluate(prim, xs):
    if prim.family == "math":
        return np.array([prim.impl(*map(float, vals)) for vals in zip(*xs)])
    return np.asarray(prim.impl(*xs), dtype=float)


def _arities(prim):
    return (1, 2) if prim is P.m_log else (1 if prim.nargs == -1 else prim.nargs,)


ROWS = [(p, n) for p in PARTIALS for n in _arities(p)]


@pytest.mark.parametrize("prim,n", ROWS, ids=[f"{p.name}/{n}" for p, n in ROWS])
def test_each_partial_agrees_with_central_differences(prim, n):
    F, h = _Numeric(), 1e-6
    xs = _inputs(prim, n)
    y = _evaluate(prim, xs)
    row = PARTIALS[prim]
    held = [_held(x, i) for i, x in enumerate(xs)]
    for i in range(n):
        plus = [x + h if j == i else x for j, x in enumerate(xs)]
        minus = [x - h if j == i else x for j, x in enumerate(xs)]
        fd = (_evaluate(prim, plus) - _evaluate(prim, minus)) / (2 * h)
        exact = np.broadcast_to(row.of[i](F, 1.0, y, *held), y.shape)
        np.testing.assert_allclose(exact, fd, rtol=1e-6, atol=1e-8, err_msg=f"∂/∂a{i}")
    dxs = [RNG.normal(size=x.shape) for x in xs]
    plus = [x + h * d for x, d in zip(xs, dxs)]
    minus = [x - h * d for x, d in zip(xs, dxs)]
    fd = (_evaluate(prim, plus) - _evaluate(prim, minus)) / (2 * h)
    for tangent in (row.tangent, row.summed):  # the fused form (if any) and the sum
        got = np.broadcast_to(tangent(F, y, tuple(held), tuple(dxs)), y.shape)
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("prim", [p for p in PARTIALS if PARTIALS[p].fused], ids=str)
def test_a_fused_tangent_of_a_square_is_the_sum_of_its_partials(prim):
    """``a * a`` (one input twice): the fused form's special case against the plain sum."""
    F = _Numeric()
    a = _held(RNG.uniform(0.3, 0.7, 4), "same")
    da = RNG.normal(size=4)
    y = _evaluate(prim, [a, a])
    row = PARTIALS[prim]
    np.testing.assert_allclose(
        row.tangent(F, y, (a, a), (da, da)), row.summed(F, y, (a, a), (da, da)), rtol=1e-12
    )


def test_both_tables_derive_every_row_of_partials():
    for prim in PARTIALS:
        assert prim in rules.RULES and prim in tangents.TANGENTS, prim.name


@pytest.mark.parametrize("table", [rules.RULES, tangents.TANGENTS], ids=["RULES", "TANGENTS"])
def test_the_rule_tables_cannot_be_mutated(table):
    with pytest.raises(TypeError):
        table[P.np_exp] = table[P.np_log]
    with pytest.raises(TypeError):
        del table[P.np_exp]
    with pytest.raises(AttributeError):
        table.update({})
    with pytest.raises(TypeError):
        PARTIALS[P.np_exp] = PARTIALS[P.np_log]


def test_tangents_import_nothing_private():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(tangents))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module != "rules", "tangents reads rules' rows"
            assert not any(a.name.startswith("_") for a in node.names), node.module


# ----------------------------------------------------------------------------- user rules

import symdiff  # noqa: E402
from symdiff.api.custom import CustomRuleError  # noqa: E402
from symdiff.ir.ruleset import USER_RULES, Declaration, RuleSet  # noqa: E402


def softplus(x):
    return np.logaddexp(0.0, x)


def loss(x):
    return np.sum(softplus(x) * x)


def test_a_declaration_lives_in_the_rule_set_and_nowhere_else():
    tables = (dict(P.ALL), dict(P.BY_OBJECT), dict(rules.RULES), dict(tangents.TANGENTS))
    with symdiff.defrule(softplus, lambda F, g, y, x: g / (1.0 + F.exp(-x))) as declared:
        prim = declared.primitive
        assert P.resolve(softplus) is prim and P.named("softplus") is prim
        assert USER_RULES.declaration(softplus) is declared
        assert rules.rule_for(prim) is declared.adjoint is not None
        assert prim not in rules.RULES and tangents.tangent_for(prim) is None
        assert (dict(P.ALL), dict(P.BY_OBJECT), dict(rules.RULES)) == tables[:3]
        x = np.array([-1.5, 0.2, 2.0])
        h, fd = 1e-6, np.zeros(3)
        for i in range(3):
            e = np.zeros(3)
            e[i] = h
            fd[i] = (loss(x + e) - loss(x - e)) / (2 * h)
        np.testing.assert_allclose(symdiff.grad(loss)(x), fd, rtol=1e-7)
    assert P.resolve(softplus) is None and P.named("softplus") is None
    assert rules.rule_for(prim) is None and USER_RULES.declaration(softplus) is None
    assert tables == (dict(P.ALL), dict(P.BY_OBJECT), dict(rules.RULES), dict(tangents.TANGENTS))


def test_a_rule_set_of_its_own_is_consulted_only_when_asked():
    prim = Primitive("twice", Form.CALL, "twice", lambda x: 2 * x)
    adjoint = lambda F, g, y, x: (2.0 * g,)  # noqa: E731
    mine = RuleSet()
    decl = Declaration(prim.impl, prim, adjoint)
    mine.declare(decl)
    assert rules.rule_for(prim, mine) is adjoint and rules.rule_for(prim) is None
    assert mine.primitive_for(prim.impl) is prim and USER_RULES.primitive_for(prim.impl) is None
    assert mine.declarations() == (decl,)
    assert mine.remove(decl) and not mine.remove(decl)
    assert rules.rule_for(prim, mine) is None


def test_an_unhashable_callable_cannot_be_declared():
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, x):
            return x

    with pytest.raises(CustomRuleError, match="hashable"):
        symdiff.defrule(Unhashable(), lambda F, g, y, x: g, name="unhashable")


# ----------------------------------------------------------------------------- forward mode


def smoothmax(a, b):
    return np.logaddexp(a, b)


def two_inputs(x, b):
    return np.sum(smoothmax(x * x, b) * x)


def _central(f, x, v, h=1e-6):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


def _smoothmax_rule(F, g, y, a, b):
    return g * F.exp(a - y), g * F.exp(b - y)


def test_a_declared_elementwise_function_gets_its_tangent_from_its_adjoint_rule():
    x, b = np.array([-1.2, 0.3, 1.7]), np.array([0.4])  # b broadcasts against x
    v = np.array([0.5, -1.0, 0.8])
    with symdiff.defrule(smoothmax, _smoothmax_rule, elementwise=True):
        value, tangent = symdiff.jvp(two_inputs, wrt=0)(x, b, v)
        np.testing.assert_allclose(value, two_inputs(x, b), rtol=1e-14)
        np.testing.assert_allclose(tangent, _central(lambda z: two_inputs(z, b), x, v), rtol=1e-7)
        _, tb = symdiff.jvp(two_inputs, wrt=1)(x, b, np.array([1.0]))
        np.testing.assert_allclose(tb, _central(lambda z: two_inputs(x, z), b, 1.0), rtol=1e-7)
        gradient = symdiff.grad(two_inputs, wrt=0)
        hv = symdiff.hvp(two_inputs, wrt=0)(x, b, v)
        np.testing.assert_allclose(hv, _central(lambda z: gradient(z, b), x, v), rtol=1e-6)


def test_a_declared_function_that_is_not_elementwise_has_no_tangent():
    from symdiff import NonDifferentiableError

    with symdiff.defrule(smoothmax, _smoothmax_rule):
        assert symdiff.grad(two_inputs)(np.array([0.1, 0.2]), np.array([0.3, 0.4])) is not None
        with pytest.raises(NonDifferentiableError, match="forward-mode"):
            symdiff.jvp(two_inputs, wrt=0)(np.array([0.1]), np.array([0.3]), np.array([1.0]))
