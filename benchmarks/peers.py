"""Optional peers: autograd, JAX and PyTorch, each imported only when asked for.

Every peer differentiates the very source text symdiff reads: ``rebind`` re-executes a case's
function with ``np`` and ``math`` bound to the peer's NumPy-like namespace, so no peer gets a
differently written (faster or slower) version of the math. A missing peer is reported by
``load`` as a reason string and its column is left empty.

Conventions, so the numbers mean the same thing for every peer:
- all arithmetic is float64 (JAX is switched to 64-bit mode);
- inputs are converted to the peer's array type once, before timing: conversion cost is
  excluded, and so is converting the gradients back to NumPy;
- JAX times ``jit(grad(f))`` after a compiling warm-up call, and waits for the result with
  ``block_until_ready``; PyTorch times the forward pass plus ``torch.autograd.grad``.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any, Callable

import numpy as np

Run = Callable[[], Any]


def rebind(fn: Callable[..., Any], np_like: Any, math_like: Any) -> Callable[..., Any]:
    """``fn`` compiled again from its own source, with ``np`` and ``math`` replaced.

    It sees its module's other globals (constants) as they are, and the functions of its
    module that it calls (helpers, and theirs) are compiled again the same way, so a helper
    does not quietly compute with NumPy in the middle of a peer's traced function.
    """
    namespace: dict[str, Any] = {**fn.__globals__, "np": np_like, "math": math_like}
    todo, done = [fn], set()
    while todo:
        f = todo.pop()
        done.add(f.__name__)
        src = textwrap.dedent(inspect.getsource(f))
        exec(compile(src, f"<{f.__name__} rebound>", "exec"), namespace)
        for name in f.__code__.co_names:
            helper = fn.__globals__.get(name)
            if inspect.isfunction(helper) and helper.__module__ == fn.__module__:
                if name not in done:
                    todo.append(helper)
    return namespace[fn.__name__]


class Peer:
    """One comparison tool: ``build`` returns a zero-argument gradient call and a converter."""

    name = ""
    module = ""

    def load(self) -> str | None:
        """None when usable, else why not (shown in the report instead of a number)."""
        try:
            self._import()
        except ImportError as exc:
            return f"{self.module} not installed ({exc.__class__.__name__})"
        return None

    def version(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.module)
        except PackageNotFoundError:
            return getattr(self._import(), "__version__", "?")

    def _import(self) -> Any:
        raise NotImplementedError

    def build(self, fn: Callable, positions: tuple[int, ...], args: tuple) -> Run:
        raise NotImplementedError

    def to_numpy(self, grads: Any) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(g, dtype=np.float64) for g in grads)


class Autograd(Peer):
    name = "autograd"
    module = "autograd"

    def _import(self) -> Any:
        import autograd

        return autograd

    def build(self, fn, positions, args):
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(rebind(fn, anp, anp), positions)
        return lambda: g(*args)


class Jax(Peer):
    name = "JAX"
    module = "jax"

    def _import(self) -> Any:
        import jax

        jax.config.update("jax_enable_x64", True)
        return jax

    def build(self, fn, positions, args):
        jax = self._import()
        import jax.numpy as jnp

        g = jax.jit(jax.grad(rebind(fn, jnp, jnp), argnums=positions))
        jargs = tuple(jax.device_put(np.asarray(a, dtype=np.float64)) for a in args)
        return lambda: jax.block_until_ready(g(*jargs))


class Torch(Peer):
    name = "PyTorch"
    module = "torch"

    def _import(self) -> Any:
        import torch

        return torch

    def build(self, fn, positions, args):
        torch = self._import()
        shim = _TorchNumpy(torch)
        f = rebind(fn, shim, shim)
        targs = [torch.tensor(np.asarray(a, dtype=np.float64)) for a in args]
        for p in positions:
            targs[p].requires_grad_(True)
        wrt = [targs[p] for p in positions]

        def run():
            return torch.autograd.grad(f(*targs), wrt)

        return run

    def to_numpy(self, grads):
        return tuple(g.detach().numpy() for g in grads)


class _TorchNumpy:
    """Just enough of NumPy's spelling over torch for the benchmark's functions."""

    def __init__(self, torch: Any):
        self._t = torch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._t, name)  # exp, log, log1p, tanh, abs, sin, cos: same names

    def _reduce(self, op: Callable, x: Any, axis: Any, keepdims: bool) -> Any:
        return op(x) if axis is None else op(x, dim=axis, keepdim=keepdims)

    def sum(self, x, axis=None, keepdims=False):
        return self._reduce(self._t.sum, x, axis, keepdims)

    def mean(self, x, axis=None, keepdims=False):
        return self._reduce(self._t.mean, x, axis, keepdims)

    def max(self, x, axis=None, keepdims=False):
        return self._reduce(self._t.amax, x, axis, keepdims)

    def maximum(self, a, b):
        if not self._t.is_tensor(a):
            return self._t.clamp(b, min=a)
        if not self._t.is_tensor(b):
            return self._t.clamp(a, min=b)
        return self._t.maximum(a, b)


PEERS: tuple[Peer, ...] = (Autograd(), Jax(), Torch())

# NumPy's spelling over torch, for other benchmarks that rebind a case to torch
TorchNumpy = _TorchNumpy
