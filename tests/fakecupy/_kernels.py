"""``cupy.ElementwiseKernel`` for the stand-in: the body runs through the C++ harness.

CuPy compiles a kernel with NVRTC for the GPU; here the same body is compiled with the
machine's C++ compiler by ``tests/kernel_harness.py`` (once per body, cached on disk by
the source's hash) and called on the arrays' data. Arguments follow CuPy's rules
(``cupy/_core/_kernel.pyx``): the number of arguments, ``T`` fixed by the arrays, scalars
cast to their parameter's type, outputs that must be device arrays, and no NumPy array
among the inputs.
"""
from __future__ import annotations

import collections

import numpy

from tests.kernel_harness import Compiled

from ._core import API, check_call, kernel_arg, ndarray

_LIBRARIES = {}  # (in_params, out_params, body) -> (Compiled, its name there)

#: kernel launches so far, by the kernel's name
LAUNCHES = collections.Counter()


def precompile(specs):
    """Compile many kernels (``{name: (in_params, out_params, body)}``) with one compiler call."""
    todo = {f"k{i}": spec for i, spec in enumerate(s for s in specs.values() if tuple(s) not in _LIBRARIES)}
    if todo:
        lib = Compiled(todo)
        for name, spec in todo.items():
            _LIBRARIES[tuple(spec)] = (lib, name)


class ElementwiseKernel:
    """CuPy's user-defined elementwise kernel, with its signature (``cupy_api.json``)."""

    __module__ = "cupy"

    def __init__(self, *args, **kwargs):
        check_call("cupy.ElementwiseKernel", API["ElementwiseKernel.__init__"], args, kwargs)
        names = [p[0] for p in API["ElementwiseKernel.__init__"]]
        bound = dict(zip(names, args), **kwargs)
        if bound.get("preamble") or bound.get("no_return") or bound.get("return_tuple"):
            raise NotImplementedError("the stand-in runs kernels without preamble, no_return or return_tuple")
        self.in_params, self.out_params = bound["in_params"], bound["out_params"]
        self.operation, self.name = bound["operation"], bound.get("name", "kernel")
        self.nin = len(self.in_params.split(","))
        self.nout = len(self.out_params.split(","))

    def __call__(self, *args, **kwargs):
        unknown = set(kwargs) - set(API["ElementwiseKernel.__call__"])
        if unknown:
            raise TypeError(f"Wrong arguments {unknown}")
        if len(args) not in (self.nin, self.nin + self.nout):
            raise TypeError(f"Wrong number of arguments for {self.name!r}. It must be either {self.nin} or "
                            f"{self.nin + self.nout} (with outputs), but given {len(args)}.")
        ins = [kernel_arg(a) for a in args[:self.nin]]
        outs = args[self.nin:]
        for o in outs:
            if not isinstance(o, ndarray):
                raise TypeError("Output arguments must be cupy.ndarray")
        spec = (self.in_params, self.out_params, self.operation)
        if spec not in _LIBRARIES:
            precompile({self.name: spec})
        lib, name = _LIBRARIES[spec]
        LAUNCHES[self.name] += 1
        if not outs:
            results = lib(name, *ins)
            results = results if isinstance(results, list) else [results]
            wrapped = [ndarray._of(r) for r in results]
            return wrapped[0] if len(wrapped) == 1 else tuple(wrapped)
        # the harness writes into contiguous arrays: compute into copies, then write back
        tmp = [numpy.ascontiguousarray(o._a) for o in outs]
        lib(name, *ins, *tmp)
        for o, t in zip(outs, tmp):
            if t is not o._a:
                o._a[...] = t
        return outs[0] if len(outs) == 1 else tuple(outs)
