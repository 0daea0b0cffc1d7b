"""``check_grad``: a gradient, symdiff's or a hand-written one, against finite differences.

The comparison itself (steps, tolerances, sampling, the report) is ``api.differences``; this
module adds only the default, symdiff's own gradient of ``f``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .differences import ArgReport, CheckReport, compare, tolerances
from .gradient import grad
from .wrt import param_names, resolve_wrt

__all__ = ["ArgReport", "CheckReport", "check_grad", "tolerances"]


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    wrt: int | str | Sequence[int | str] = 0,
    grad_fn: Callable[..., Any] | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
    raise_on_failure: bool = True,
    **kwargs: Any,
) -> CheckReport:
    """Compare a gradient with central finite differences of ``f`` at ``args``.

    ``grad_fn`` is the gradient to check, called like ``f`` and returning one gradient per
    ``wrt`` argument (a tuple when ``wrt`` is a tuple); by default symdiff's own. Raises
    ``GradientCheckError`` past the tolerance unless ``raise_on_failure=False``.
    """
    if grad_fn is None:
        names = param_names(f)
        positions, single = resolve_wrt(names, wrt, f)
        grad_fn = grad(f, wrt=wrt if single else tuple(names[p] for p in positions))
    return compare(
        f,
        args,
        kwargs,
        grad_fn=grad_fn,
        wrt=wrt,
        rtol=rtol,
        atol=atol,
        seed=seed,
        raise_on_failure=raise_on_failure,
    )
