"""A strict stand-in for CuPy, on NumPy, for the tests (never imported by the library).

``tests/conftest.py`` puts this module in ``sys.modules["cupy"]`` for the ``fakecupy``
case of the ``backend`` fixture, so the library's CuPy path (``import cupy`` in
``minivae/backend.py``) runs in every CI run, without a GPU. What it enforces:

- only the names of CuPy 14's public API exist (``cupy_api.json``, generated from
  CuPy's sources by ``make_api.py``), and each is called with CuPy's signature: a name
  or keyword CuPy lacks is an ``AttributeError`` / ``TypeError``;
- the device array's rules (``_core.py``): no implicit conversion to NumPy, no NumPy
  array among a ufunc's or a kernel's inputs, and every host read counted
  (:data:`HOST_READS`) or refused (:func:`forbid_host_reads`);
- ``ElementwiseKernel`` bodies run through the C++ harness (``tests/kernel_harness.py``),
  with CuPy's typing rules for ``T`` and for scalars.

What it cannot be: CUDA. It does not compile with NVRTC, draws other random numbers than
cuRAND, runs nothing asynchronously, and uses NumPy's arithmetic (no fused multiply-add,
no cuBLAS), so it says nothing of speed or of last-ulp agreement.
"""
from __future__ import annotations

import sys
import types

import numpy

from . import _kernels, random  # noqa: F401 (cupy.random)
from ._core import (API, HOST_READS, HostReadForbidden, apply_ufunc, check_call, forbid_host_reads,  # noqa: F401
                    ndarray, wrap)
from ._kernels import LAUNCHES, ElementwiseKernel, precompile  # noqa: F401

__version__ = "14.2.0 (stand-in)"

#: functions that take host data and copy it to the device (the only ones that accept NumPy arrays)
_FROM_HOST = {"asarray", "array", "asanyarray", "ascontiguousarray"}


def _unwrap(x, allow_host):
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, numpy.ndarray):
        if allow_host:
            return numpy.array(x)  # a copy: the device array does not share the host's memory
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, allow_host) for v in x)
    return x


def _function(name, params):
    np_fn = getattr(numpy, name)
    allow_host = name in _FROM_HOST

    def fn(*args, **kwargs):
        check_call(f"cupy.{name}", params, args, kwargs)
        result = np_fn(*_unwrap(args, allow_host), **{k: _unwrap(v, allow_host) for k, v in kwargs.items()})
        if args and isinstance(args[0], ndarray) and result is args[0]._a:
            return args[0]  # asarray of a device array that needs no conversion: the same array
        return wrap(result)

    fn.__name__ = fn.__qualname__ = name
    return fn


def _ufunc(name):
    np_u = getattr(numpy, name)

    def u(*inputs, **kwargs):
        return apply_ufunc(np_u, inputs, kwargs)

    u.__name__ = name
    return u


def get_array_module(*args):
    return sys.modules[__name__] if any(isinstance(a, ndarray) for a in args) else numpy


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order)
    return numpy.asarray(a, order=order)


def get_default_memory_pool():
    return types.SimpleNamespace(free_bytes=lambda: 0, used_bytes=lambda: 0, total_bytes=lambda: 0)


cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1,
                                  memGetInfo=lambda: (8 << 30, 16 << 30)),
    is_available=lambda: True,
)

_BUILT = {}


def __getattr__(name):
    """Any other public CuPy name that NumPy also has; a name CuPy lacks is an AttributeError."""
    entry = API["cupy"].get(name)
    if entry is None or name.startswith("_"):
        raise AttributeError(f"module 'cupy' has no attribute {name!r} (not in CuPy 14's API)")
    fn = _BUILT.get(name)
    if fn is None:
        kind = entry["kind"]
        if kind == "numpy" and hasattr(numpy, name):
            fn = getattr(numpy, name)
        elif kind in ("ufunc", "gufunc") and isinstance(getattr(numpy, name, None), numpy.ufunc):
            fn = _ufunc(name)
        elif kind == "function" and callable(getattr(numpy, name, None)):
            fn = _function(name, entry["params"])
        else:
            raise AttributeError(f"cupy.{name} exists in CuPy ({kind}) but not in the stand-in: add it to "
                                 "tests/fakecupy if the library needs it")
        _BUILT[name] = fn
    return fn


__name__ = "cupy"  # noqa: A001 (what `xp.__name__` says on CuPy, and what the library looks at)
