"""Abstract evaluation of products and ``np.linalg``.

Products are where shapes most often go wrong in user code, so these rules check that the
contracted lengths agree whenever both are known (``W @ x`` with ``W`` 2 x 3 and ``x`` of 4
elements is reported at the user's line with both shapes) and never assume more than NumPy
does: matmul does not stretch a length-1 contracted axis, so 1 against many is an error too.
"""

from __future__ import annotations

import numpy as np

from ..ir import primitives as P
from ..ir.nodes import Primitive
from .call import Call, Rule, dim_product, dim_sum, float_type, is_int, numeric, result_type
from .elementwise import ufunc_value
from .reductions import reduced_shape, sum_dtype
from .values import (
    UNKNOWN,
    AbstractValue,
    Dim,
    Extent,
    array,
    broadcast_shapes,
    tuple_of,
)

Shape = tuple[Dim, ...]


def contract(call: Call, m: Dim, n: Dim) -> Dim:
    """Two lengths a product sums over: they must be equal."""
    if m == n or Extent.ANY in (m, n):
        return m if n is Extent.ANY else n
    if m is Extent.MANY and n is Extent.MANY:
        return m
    if isinstance(m, int) and isinstance(n, int) or 1 in (m, n):
        raise call.fail(f"shapes {call.shapes()} do not align")
    return m if isinstance(m, int) else n


def _operands(call: Call) -> tuple[Shape, Shape] | None:
    a, b = call.args[0], call.args[1]
    if not (a.is_numeric and b.is_numeric) or a.shape is None or b.shape is None:
        return None
    return a.shape, b.shape


def matmul_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    a, b = shapes
    if not a or not b:
        raise call.fail(f"matmul of a scalar: shapes {call.shapes()}")
    contract(call, a[-1], b[-2] if len(b) > 1 else b[0])
    batch = broadcast_shapes((a[:-2], b[:-2]), call.expr, call.loc)
    assert batch is not None
    core = (a[-2:-1] if len(a) > 1 else ()) + (b[-1:] if len(b) > 1 else ())
    return numeric(result_type(*call.args), batch + core, scalar=True)


def dot_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    a, b = shapes
    if not a or not b:
        return ufunc_value(np.multiply, call, call.args)
    contract(call, a[-1], b[-2] if len(b) > 1 else b[0])
    shape = a[:-1] + (b[:-2] + b[-1:] if len(b) > 1 else ())
    return numeric(result_type(*call.args), shape, scalar=True)


def inner_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    a, b = shapes
    if not a or not b:
        return ufunc_value(np.multiply, call, call.args)
    contract(call, a[-1], b[-1])
    return numeric(result_type(*call.args), a[:-1] + b[:-1], scalar=True)


def vdot_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    contract(call, dim_product(shapes[0]), dim_product(shapes[1]))
    return numeric(result_type(*call.args), (), scalar=True)


def outer_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    return array(result_type(*call.args), (dim_product(shapes[0]), dim_product(shapes[1])))


def kron_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    a, b = shapes
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    return array(result_type(*call.args), tuple(dim_product((x, y)) for x, y in zip(a, b)))


def tensordot_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    axes = call.param("axes", 2)
    if shapes is None:
        return UNKNOWN
    a, b = shapes
    if is_int(axes):
        if axes > min(len(a), len(b)):
            raise call.fail(f"cannot contract {axes} axes of shapes {call.shapes()}")
        ia, ib = list(range(len(a) - axes, len(a))), list(range(axes))
    elif isinstance(axes, (tuple, list)) and len(axes) == 2:
        ia, ib = ([x] if is_int(x) else list(x) for x in axes)
        if len(ia) != len(ib):
            raise call.fail(f"axes {axes!r} pair different numbers of axes")
        if not all(-len(a) <= i < len(a) for i in ia) or not all(-len(b) <= j < len(b) for j in ib):
            raise call.fail(f"axes {axes!r} are out of bounds for shapes {call.shapes()}")
        ia, ib = [i % len(a) for i in ia], [i % len(b) for i in ib]
    else:
        return UNKNOWN
    for i, j in zip(ia, ib):
        contract(call, a[i], b[j])
    shape = tuple(d for i, d in enumerate(a) if i not in ia)
    shape += tuple(d for j, d in enumerate(b) if j not in ib)
    return array(result_type(*call.args), shape)


def einsum_rule(call: Call) -> AbstractValue:
    """``np.einsum`` with a constant subscript string (explicit or implicit output)."""
    spec = call.const(0)
    ops = call.args[1:]
    if not isinstance(spec, str) or not all(o.is_numeric and o.shape is not None for o in ops):
        return UNKNOWN
    spec = spec.replace(" ", "")
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ops):
        raise call.fail(f"{len(terms)} operands in {spec!r} but {len(ops)} given")
    sizes: dict[str, Dim] = {}
    ellipsis: list[Shape] = []
    for term, op in zip(terms, ops):
        assert op.shape is not None
        letters = term.replace("...", "")
        lead = len(op.shape) - len(letters)
        if lead < 0 or (lead and "..." not in term):
            raise call.fail(f"{term!r} does not match an operand of shape {op.shape}")
        start = term.index("...") if "..." in term else len(term)
        ellipsis.append(op.shape[start : start + lead])
        dims = op.shape[:start] + op.shape[start + lead :]
        for ch, d in zip(letters, dims):
            if ch not in sizes or sizes[ch] == 1:
                sizes[ch] = d
            elif d != 1:
                sizes[ch] = contract(call, sizes[ch], d)
    ell = broadcast_shapes(ellipsis, call.expr, call.loc)
    assert ell is not None
    if _ and not set(output.replace("...", "")) <= set(sizes):
        raise call.fail(f"output letters of {spec!r} that no operand has")
    if not _:
        counts = {ch: inputs.count(ch) for ch in sizes}
        output = ("..." if any(ellipsis) else "") + "".join(
            sorted(ch for ch, n in counts.items() if n == 1)
        )
    return numeric(result_type(*ops), _fix_ellipsis(output, sizes, ell), scalar=True)


def _fix_ellipsis(output: str, sizes: dict[str, Dim], ell: Shape) -> Shape:
    head, dots, tail = output.partition("...")
    return tuple(sizes[c] for c in head) + (ell if dots else ()) + tuple(sizes[c] for c in tail)


def trace_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    if x.rank is not None and x.rank < 2:
        raise call.fail(f"trace needs at least 2 axes, not shape {call.shapes()}")
    shape = reduced_shape(call, x, (call.param("axis1", 0), call.param("axis2", 1)), False)
    return numeric(sum_dtype(x), shape, scalar=True)


def _diagonal_length(n: Dim, m: Dim, k: int) -> Dim:
    if isinstance(n, int) and isinstance(m, int):
        return max(0, min(n + min(k, 0), m - max(k, 0)))
    return Extent.ANY


def diagonal_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    k, a1, a2 = call.param("offset", 0), call.param("axis1", 0), call.param("axis2", 1)
    rest = reduced_shape(call, x, (a1, a2), False)
    assert rest is not None
    n, m = x.shape[a1], x.shape[a2]
    return array(result_type(x), rest + (_diagonal_length(n, m, k),))


def diag_rule(call: Call) -> AbstractValue:
    x, k = call.args[0], call.param("k", 0)
    if not x.is_numeric or x.shape is None or not is_int(k):
        return UNKNOWN
    if len(x.shape) == 1:
        n = dim_sum(x.shape[0], abs(k)) if k else x.shape[0]
        return array(result_type(x), (n, n))
    if len(x.shape) == 2:
        return array(result_type(x), (_diagonal_length(*x.shape, k),))
    raise call.fail(f"np.diag takes a 1-d or 2-d array, not shape {call.shapes()}")


def triangle_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric or x.shape is None:
        return UNKNOWN
    shape = x.shape if len(x.shape) >= 2 else (x.shape * 2 if x.shape else None)
    return UNKNOWN if shape is None else array(result_type(x), shape)


def convolve_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None:
        return UNKNOWN
    (n,), (m,) = ((dim_product(s),) for s in shapes)
    mode = call.param("mode", "full")
    if isinstance(n, int) and isinstance(m, int):
        if 0 in (n, m):
            raise call.fail("np.convolve of an empty array")
        length: Dim = {"full": n + m - 1, "same": max(n, m), "valid": max(n, m) - min(n, m) + 1}[
            mode
        ]
    else:
        length = Extent.ANY
    return array(result_type(*call.args), (length,))


def _square(call: Call, x: AbstractValue) -> Shape | None:
    if not x.is_numeric or x.shape is None:
        return None
    if len(x.shape) < 2:
        raise call.fail(f"expected a (stack of) square matrices, not shape {call.shapes()}")
    n, m = x.shape[-2:]
    if isinstance(n, int) and isinstance(m, int) and n != m or 1 in (n, m) and n != m:
        raise call.fail(f"the last two axes of shape {call.shapes()} are not square")
    return x.shape


def det_rule(call: Call) -> AbstractValue:
    s = _square(call, call.args[0])
    return UNKNOWN if s is None else numeric(float_type(call.args[0]), s[:-2], scalar=True)


def slogdet_rule(call: Call) -> AbstractValue:
    part = det_rule(call)
    return UNKNOWN if part is UNKNOWN else tuple_of((part, part))


def same_square(call: Call) -> AbstractValue:
    s = _square(call, call.args[0])
    return UNKNOWN if s is None else array(float_type(call.args[0]), s)


def eigh_rule(call: Call) -> AbstractValue:
    s = _square(call, call.args[0])
    if s is None:
        return UNKNOWN
    dt = float_type(call.args[0])
    return tuple_of((array(dt, s[:-1]), array(dt, s)))


def eigvalsh_rule(call: Call) -> AbstractValue:
    s = _square(call, call.args[0])
    return UNKNOWN if s is None else array(float_type(call.args[0]), s[:-1])


def solve_rule(call: Call) -> AbstractValue:
    a = _square(call, call.args[0])
    b = call.args[1]
    if a is None or not b.is_numeric or b.shape is None or not b.shape:
        return UNKNOWN
    dt = float_type(*call.args)
    if len(b.shape) == 1:
        contract(call, a[-1], b.shape[0])
        return array(dt, a[:-2] + b.shape)
    contract(call, a[-1], b.shape[-2])
    batch = broadcast_shapes((a[:-2], b.shape[:-2]), call.expr, call.loc)
    assert batch is not None
    return array(dt, batch + b.shape[-2:])


def pinv_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric or x.shape is None or len(x.shape) < 2:
        return UNKNOWN
    return array(float_type(x), x.shape[:-2] + x.shape[-1:] + x.shape[-2:-1])


def _smaller(n: Dim, m: Dim) -> Dim:
    """``min(n, m)``: not 1 when neither may be 1 (a length that is not 1 may still be 0)."""
    if isinstance(n, int) and isinstance(m, int):
        return min(n, m)
    if Extent.ANY in (n, m) or 1 in (n, m):
        return Extent.ANY
    return Extent.MANY


def svd_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric or x.shape is None or len(x.shape) < 2:
        return UNKNOWN
    *batch, m, n = x.shape
    k = _smaller(m, n)
    dt, lead = float_type(x), tuple(batch)
    s = array(dt, lead + (k,))
    if not call.param("compute_uv", True):
        return s
    full = call.param("full_matrices", True)
    u = array(dt, lead + (m, m if full else k))
    vh = array(dt, lead + (n if full else k, n))
    return tuple_of((u, s, vh))


def norm_rule(call: Call) -> AbstractValue:
    x = call.args[0]
    if not x.is_numeric:
        return UNKNOWN
    axis, keepdims = call.param("axis"), bool(call.param("keepdims", False))
    if axis is None and call.param("ord") is not None and x.rank not in (1, 2):
        return UNKNOWN  # NumPy refuses: an order needs a vector or a matrix
    shape = reduced_shape(call, x, axis, keepdims)
    return numeric(float_type(x), shape, scalar=True)


def cross_rule(call: Call) -> AbstractValue:
    shapes = _operands(call)
    if shapes is None or call.param("axis") is not None:
        return UNKNOWN
    a, b = shapes
    if not a or not b or not (a[-1] == b[-1] == 3):
        return UNKNOWN  # 2-vectors give a scalar-like result; unknown lengths may be 2 or 3
    lead = broadcast_shapes((a[:-1], b[:-1]), call.expr, call.loc)
    assert lead is not None
    return array(result_type(*call.args), lead + (3,))


RULES: dict[Primitive, Rule] = {
    P.matmul: matmul_rule, P.np_matmul: matmul_rule, P.np_dot: dot_rule,
    P.np_inner: inner_rule, P.np_vdot: vdot_rule, P.np_outer: outer_rule,
    P.np_kron: kron_rule, P.np_tensordot: tensordot_rule, P.np_einsum: einsum_rule,
    P.np_trace: trace_rule, P.np_diagonal: diagonal_rule, P.np_diag: diag_rule,
    P.np_triu: triangle_rule, P.np_tril: triangle_rule, P.np_convolve: convolve_rule,
    P.np_cross: cross_rule, P.la_det: det_rule, P.la_slogdet: slogdet_rule,
    P.la_inv: same_square, P.la_cholesky: same_square, P.la_eigh: eigh_rule,
    P.la_eigvalsh: eigvalsh_rule, P.la_solve: solve_rule, P.la_pinv: pinv_rule,
    P.la_svd: svd_rule, P.la_norm: norm_rule,
}  # fmt: skip
