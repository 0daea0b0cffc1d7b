"""The transformation cache: shared safely between threads, never keeping a function alive,
and never serving the gradient of a function that has changed since (redefined, a helper
redefined, a global or closure value rebound)."""

import gc
import weakref
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from symdiff import from_source, grad, gradient_source, pipeline, value_and_grad
from symdiff.api import cache


def quadratic(x):
    return np.sum(x * x)


def test_the_same_function_is_transformed_once():
    a = cache.cached_transform(quadratic, 0, False)
    b = cache.cached_transform(quadratic, 0, False)
    assert a is b
    assert pipeline.transform(quadratic, 0) is not a  # transform bypasses the cache
    assert cache.cached_transform(quadratic, "x", False) is not a  # another key


def _scaled(k):
    return from_source(f"def f(x):\n    return np.sum(np.sin(x) * {k}.0)\n")


def test_threads_transform_and_call_the_same_and_different_functions():
    fns = [_scaled(k) for k in range(6)]
    x = np.linspace(-1.0, 1.0, 7)

    def work(i):
        k = i % 6
        g = grad(fns[k])(x) if i % 2 else value_and_grad(fns[k])(x)[1]
        same = cache.cached_transform(fns[0], 0, False).grad(x)
        return k, g, same

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(96)))
    for k, g, same in results:
        np.testing.assert_allclose(g, k * np.cos(x), rtol=1e-15)
        np.testing.assert_allclose(same, 0 * x, atol=0)
    # every function ended with one entry per key, all of them consistent
    for k, f in enumerate(fns):
        np.testing.assert_allclose(cache.cached_transform(f, 0, False).grad(x), k * np.cos(x))


def test_threads_racing_on_one_cold_function_agree_on_its_source():
    f = _scaled(3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        sources = set(pool.map(lambda _: gradient_source(f), range(16)))
    assert len(sources) == 1


def _made_inside():
    def local(x):
        return np.sum(x**3)

    return local


@pytest.mark.parametrize("make", [_made_inside, lambda: _scaled(2)], ids=["def", "from_source"])
def test_the_cache_keeps_no_function_alive(make):
    f = make()
    ref = weakref.ref(f)
    g = grad(f)
    g(np.ones(3))
    v = value_and_grad(f)
    v(np.ones(3))
    del f, g, v
    gc.collect()
    assert ref() is None


def test_a_redefined_function_gets_a_fresh_transformation():
    ns = {"np": np}
    first = from_source("def f(x):\n    return np.sum(x * 2.0)\n", namespace=ns)
    g1 = grad(first)
    second = from_source("def f(x):\n    return np.sum(x * 5.0)\n", namespace=ns)
    assert grad(second)(np.ones(2))[0] == 5.0
    assert g1(np.ones(2))[0] == 2.0  # the old gradient keeps differentiating the old function


def test_code_swapped_under_the_same_function_object():
    f = from_source("def f(x):\n    return x * 2.0\n")
    assert grad(f)(1.0) == 2.0
    f.__code__ = from_source("def f(x):\n    return x * 7.0\n").__code__
    assert grad(f)(1.0) == 7.0


HELPERS = """
def helper(v):
    return v * 2.0

def f(x):
    return helper(x) * x
"""


def test_a_helper_redefined_in_the_module_is_noticed_by_old_and_new_gradients():
    f = from_source(HELPERS, name="f")
    g = grad(f)
    assert g(3.0) == 12.0
    module = f.__globals__  # from_source gives the function a module namespace of its own
    module["helper"] = from_source("def helper(v):\n    return v * 10.0\n")
    assert g(3.0) == 60.0
    assert grad(f)(3.0) == 60.0


def test_a_global_rebound_after_the_gradient_was_built_is_noticed():
    f = from_source("def f(x):\n    return SCALE * x * x\n", namespace={"SCALE": 2.0})
    g = grad(f)
    assert g(1.0) == 4.0
    f.__globals__["SCALE"] = 3.0
    assert g(1.0) == 6.0  # never the gradient of the function as it was
    assert grad(f)(1.0) == 6.0
    assert value_and_grad(f)(1.0) == (3.0, 6.0)


def test_an_attribute_of_a_module_rebound_is_noticed():
    import types

    cfg = types.SimpleNamespace(alpha=0.5)
    f = from_source("def f(x):\n    return cfg.alpha * x * x\n", namespace={"cfg": cfg})
    assert grad(f)(1.0) == 1.0
    cfg.alpha = 4.0
    assert grad(f)(1.0) == 8.0


def _closure():
    scale = 2.0

    def f(x):
        return scale * x * x

    def rebind(v):
        nonlocal scale
        scale = v

    return f, rebind


def test_a_closure_cell_rebound_is_noticed():
    f, rebind = _closure()
    g = grad(f)
    assert g(1.0) == 4.0
    rebind(5.0)
    assert g(1.0) == 10.0


def test_an_array_changed_in_place_is_read_live():
    w = np.array([1.0, 2.0])
    f = from_source("def f(x):\n    return np.sum(W * x)\n", namespace={"np": np, "W": w})
    g = grad(f)
    np.testing.assert_array_equal(g(np.ones(2)), [1.0, 2.0])
    w[0] = 10.0
    np.testing.assert_array_equal(g(np.ones(2)), [10.0, 2.0])


def test_repeated_float_calls_take_the_short_path_and_still_notice_changes():
    """After one call with a Python float, grad() runs the generated code directly: the
    check that globals still mean the same objects stays, and so do the reruns."""
    import math

    f = from_source(
        "def f(x):\n    return SCALE * math.sin(x)\n", namespace={"SCALE": 2.0, "math": math}
    )
    g = grad(f)
    assert [g(0.0) for _ in range(3)] == [2.0, 2.0, 2.0]
    assert g._latest.ready and g._latest.typed  # the short path: no coercion, no finish
    f.__globals__["SCALE"] = 3.0
    assert [g(0.0) for _ in range(2)] == [3.0, 3.0]
    h = grad(from_source("def h(x):\n    return math.sqrt(x)\n", namespace={"math": math}))
    assert h(1.0) == 0.5 and h(4.0) == 0.25
    assert h(0.0) == math.inf  # Python floats raise: rerun with NumPy floats
    assert type(h(np.float64(4.0))) is np.float64  # not a Python float: the general path
