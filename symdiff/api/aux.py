"""``grad(f, has_aux=True)`` and ``value_and_grad(f, has_aux=True)``, as JAX has them.

``f`` returns ``(loss, aux)``. The gradient is that of the loss (``frontend.aux``: ``f``
with its returns cut to their first item), computed by a ``GradientFunction`` like any
other; ``aux`` is what ``f`` returns on the same arguments, so it can be any value
(a dict of metrics, a string), at the cost of running ``f`` once more per call.
"""

from __future__ import annotations

from typing import Any, Callable

from ..frontend.aux import without_aux


class AuxGradient:
    """``grad(f, has_aux=True)``: calls return ``(gradients, aux)``, or for
    ``value_and_grad`` ``((loss, aux), gradients)``."""

    def __init__(self, f: Callable[..., Any], inner: Any, with_value: bool):
        self._f = f
        self.inner = inner  # the GradientFunction of the loss alone
        self._with_value = with_value
        self.__wrapped__ = f
        self.__name__ = inner.__name__
        self.__qualname__ = self.__name__
        self.__doc__ = (
            f"{'Value and gradient' if with_value else 'Gradient'} of "
            f"{getattr(f, '__name__', 'f')}'s first result; its second is returned "
            "alongside, not differentiated (has_aux=True)."
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.inner(*args, **kwargs)
        result = self._f(*args, **kwargs)
        if not (isinstance(result, tuple) and len(result) == 2):  # a return the source hides
            raise TypeError(f"{self.__name__}: f returned {type(result).__name__}, not a pair")
        if self._with_value:
            return (out[0], result[1]), out[1]
        return out, result[1]

    @property
    def source(self) -> str:
        """The generated code of the latest call (the loss's gradient)."""
        return str(self.inner.source)

    @property
    def generic_source(self) -> str:
        return str(self.inner.generic_source)

    def __repr__(self) -> str:
        return f"<{self.__name__} (has_aux) of {self.inner!r}>"


def with_aux(
    f: Callable[..., Any], make: Callable[[Callable[..., Any]], Any], with_value: bool
) -> Any:
    """The ``has_aux`` object for ``f``: ``make`` builds the gradient of the loss."""
    return AuxGradient(f, make(without_aux(f)), with_value)
