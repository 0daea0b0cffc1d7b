"""Every name symdiff invents, and the generator that keeps them from colliding.

The formats are constants so that the naming scheme is stated once: the adjoint of ``z``
(reverse mode, ∂L/∂z) is ``d_z``, its tangent (forward mode, ż: the derivative of ``z``
along the direction) is ``z_dot``, and the two compose as they read: ``d_z_dot`` is the
tangent of the adjoint ``d_z`` (a Hessian-vector product). Temporaries are ``t1, t2, ...``, a user name assigned again is
``y_1, y_2, ...`` (single assignment), and the functions are ``<name>_grad`` and
``<name>_value_and_grad``. A generator is seeded with every name already in use, so a new
name can never shadow a user's variable, a module or a helper.
"""

from __future__ import annotations

ADJOINT = "d_{}"
TANGENT = "{}_dot"
TEMP = "t{}"
VERSION = "{}_{}"
GRAD_FN = "{}_grad"
VALUE_AND_GRAD_FN = "{}_value_and_grad"
INTERNAL_PREFIX = "%"  # internal IR names: never valid Python, so never a user's name
MODULES = {"np": "numpy", "math": "math"}


class NameGen:
    """Hands out names not yet taken, deterministically (no counters shared between runs)."""

    def __init__(self, taken: set[str] | frozenset[str] = frozenset()):
        self.taken = set(taken)
        self._next_temp = 1

    def take(self, name: str) -> str:
        self.taken.add(name)
        return name

    def fresh(self, base: str) -> str:
        """``base`` if free, else ``base_1``, ``base_2``, ...."""
        if base not in self.taken:
            return self.take(base)
        i = 1
        while VERSION.format(base, i) in self.taken:
            i += 1
        return self.take(VERSION.format(base, i))

    def temp(self) -> str:
        while TEMP.format(self._next_temp) in self.taken:
            self._next_temp += 1
        return self.take(TEMP.format(self._next_temp))

    def adjoint(self, primal: str) -> str:
        return self.fresh(ADJOINT.format(primal))

    def tangent(self, primal: str) -> str:
        return self.fresh(TANGENT.format(primal))

    def derivative(self, primal: str, tangent: bool) -> str:
        """The name of ``primal``'s derivative: its tangent in forward mode, else its adjoint."""
        return self.tangent(primal) if tangent else self.adjoint(primal)


class Counter:
    """Internal IR names (``%t3``): unique within one transformation, never user-visible."""

    def __init__(self, tag: str):
        self.tag = tag
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{INTERNAL_PREFIX}{self.tag}{self.n}"


def is_internal(name: str) -> bool:
    return name.startswith(INTERNAL_PREFIX)


def internal_tag(name: str) -> str | None:
    """The tag of an internal name: its letters after the prefix (``"t"`` for ``%t3``,
    ``"tape"`` for ``%tape%b2``), or None for a user's name. Code that asks what made a name asks this.
    """
    if not is_internal(name):
        return None
    rest = name[len(INTERNAL_PREFIX) :]
    end = 0
    while end < len(rest) and rest[end].isalpha():
        end += 1
    return rest[:end]


def is_internal_of(name: str, tag: str) -> bool:
    """Whether ``name`` was made by ``Counter(tag)`` (``%b4`` for ``"b"``)."""
    return internal_tag(name) == tag


def family(name: str) -> str | None:
    """The module a dotted primitive name belongs to: ``"math"`` for ``math.exp``, ``"np"``
    for ``np.exp`` and ``np.linalg.det``, None for operators and helpers."""
    head, dot, _ = name.partition(".")
    return head if dot and head in MODULES else None
