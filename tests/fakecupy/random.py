"""``cupy.random`` for the stand-in: ``default_rng`` and ``Generator``, with CuPy's signatures.

The numbers come from NumPy's generator, not from cuRAND: the same seed gives other
numbers here than on a GPU (and than NumPy's own ``default_rng``, which a real CuPy
does not use either). Only the methods CuPy's ``Generator`` has exist (it has no
``permutation``, for example).
"""
from __future__ import annotations

import numpy

from ._core import API, check_call, wrap


class Generator:
    __module__ = "cupy.random"

    def __init__(self, seed):
        # a different stream than numpy.random.default_rng(seed): a test that passes only
        # because both backends drew the same numbers would be a lie about the GPU
        self._gen = numpy.random.default_rng(None if seed is None else [int(seed), 0x6375])

    def __getattr__(self, name):
        params = API["random.Generator"].get(name)
        if not isinstance(params, list) or name.startswith("_"):
            raise AttributeError(f"'cupy.random.Generator' has no attribute {name!r} (not in CuPy 14's API)")

        def method(*args, **kwargs):
            check_call(f"cupy.random.Generator.{name}", params, args, kwargs)
            bound = {p[0]: v for p, v in zip(params, args)}
            bound.update(kwargs)
            dtype = bound.pop("dtype", None) if name == "uniform" else None
            result = getattr(self._gen, name)(**bound)
            return wrap(result if dtype is None else result.astype(dtype))

        return method


def default_rng(seed=None):
    check_call("cupy.random.default_rng", API["random"]["default_rng"], (seed,), {})
    return Generator(seed)
