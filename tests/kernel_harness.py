"""Run the bodies of CuPy ``ElementwiseKernel`` s on the CPU, through the machine's C++ compiler.

A kernel body is C++. This harness pastes each body, as it is, into a C++ loop over the
elements (the loop CuPy generates for an ``ElementwiseKernel``), compiles it for float
and double, and calls it through ctypes. ``tests/test_kernels.py`` uses it to check each
kernel against its NumPy function, and the CuPy stand-in (``tests/fakecupy``) runs every
kernel it is asked to launch through it.

Arguments follow CuPy's rules (``cupy/_core/_kernel.pyx``, ``_decide_params_type_core``):
the type placeholder ``T`` is fixed by the *arrays* given for ``T`` parameters, two arrays
that disagree on it are a ``TypeError``, and a scalar (Python or NumPy) given for any
parameter is cast to that parameter's type. Every input is read through a pointer and a
stride, 1 for an array and 0 for a scalar, so one compiled function takes both.

What it cannot see: NVRTC (CUDA's compiler) may reject what g++ accepts, and CUDA's math
library and its fused multiply-adds differ from the C++ ones by an ulp or so.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

CXX = shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
#: the C++ type of each dtype name a parameter may declare
CTYPE = {"float32": "float", "float64": "double", "int32": "int", "int64": "long long"}
FLOATS = {"float32": np.float32, "float64": np.float64}


def params(spec):
    """``"T l, float64 inv_B"`` -> ``[("T", "l"), ("float64", "inv_B")]`` (``raw`` is refused)."""
    out = []
    for p in spec.split(","):
        words = p.split()
        if len(words) != 2 or words[0] == "raw":
            raise NotImplementedError(f"the C++ harness reads only 'TYPE name' parameters; got {p.strip()!r}")
        if words[0] != "T" and words[0] not in CTYPE:
            raise NotImplementedError(f"the C++ harness knows the types T and {sorted(CTYPE)}; got {words[0]!r}")
        out.append(tuple(words))
    return out


def cpp_source(specs):
    """One C++ function per kernel and float type, each kernel's body verbatim.

    Inputs are read element by element, ``x_[i * x_s]``; outputs are references to their
    element (as in CuPy, so a body may read an output it updates, as Adam's does).
    """
    parts = ["#include <cmath>", "using namespace std;"]
    for name, (ins, outs, body) in specs.items():
        for tname, ctype in (("float32", "float"), ("float64", "double")):
            args, lines = ["long n"], []
            for typ, var in params(ins):
                c = ctype if typ == "T" else CTYPE[typ]
                args += [f"const {c}* {var}_", f"long {var}_s"]
                lines.append(f"const {c} {var} = {var}_[i * {var}_s];")
            for typ, var in params(outs):
                c = ctype if typ == "T" else CTYPE[typ]
                args.append(f"{c}* {var}_")
                lines.append(f"{c}& {var} = {var}_[i];")
            parts += [f"#define T {ctype}",
                      f'extern "C" void {name}_{tname}({", ".join(args)}) {{',
                      "  for (long i = 0; i < n; ++i) {",
                      *(f"    {line}" for line in lines),
                      body + ";",  # CuPy writes ${operation}; in its loop
                      "  }", "}", "#undef T"]
    return "\n".join(parts)


def compile_library(specs, directory=None):
    """Compile ``specs`` into a shared library (cached by its source's hash) and load it.

    Raises ``RuntimeError`` with the compiler's message when a body does not compile.
    """
    if CXX is None:
        raise RuntimeError("no C++ compiler (g++, c++ or clang++) on PATH to run kernel bodies on the CPU")
    src = cpp_source(specs)
    key = hashlib.sha256(src.encode()).hexdigest()[:16]
    directory = Path(directory or tempfile.gettempdir()) / "minivae-kernels"
    directory.mkdir(exist_ok=True)
    lib = directory / f"k{key}.so"
    if not lib.exists():
        cpp = directory / f"k{key}.cpp"
        cpp.write_text(src)
        part = directory / f"k{key}.{os.getpid()}.part.so"
        done = subprocess.run([CXX, "-O2", "-std=c++17", "-shared", "-fPIC", str(cpp), "-o", str(part)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"a kernel body does not compile:\n{done.stderr}")
        part.replace(lib)  # whole or not at all, for a second process compiling the same
    return ctypes.CDLL(str(lib))


def resolve_types(ins, outs, args):
    """The dtype of ``T`` from the arrays given, by CuPy's rules; ``TypeError`` on a mismatch."""
    t = None
    given = list(zip(params(ins) + params(outs), args))
    for (typ, var), a in given:
        if not isinstance(a, np.ndarray):
            continue
        declared = a.dtype if typ == "T" else np.dtype(typ)
        if typ != "T" and a.dtype != declared:
            raise TypeError(f"Type is mismatched. {var} {a.dtype} {typ}")
        if typ == "T":
            if t is not None and a.dtype != t:
                raise TypeError(f"Type is mismatched. {var} {a.dtype} {t} T")
            t = a.dtype
    if t is None:
        raise TypeError("the type placeholder T is not fixed by any array argument")
    if t.name not in FLOATS:
        raise TypeError(f"the C++ harness compiles T as float32 or float64; got {t.name}")
    return t


class Compiled:
    """The kernels of ``specs`` compiled for the CPU, callable like ElementwiseKernels.

    ``compiled(name, *inputs)`` returns new outputs; ``compiled(name, *inputs, *outputs)``
    writes into the given outputs (C-contiguous NumPy arrays of the broadcast shape).
    """

    def __init__(self, specs, directory=None):
        self.specs = dict(specs)
        self.lib = compile_library(self.specs, directory)

    def __call__(self, name, *args):
        ins, outs = (params(s) for s in self.specs[name][:2])
        if len(args) not in (len(ins), len(ins) + len(outs)):
            raise TypeError(f"Wrong number of arguments for {name!r}: {len(ins)} or {len(ins) + len(outs)} "
                            f"(with outputs), given {len(args)}")
        t = resolve_types(*self.specs[name][:2], args)
        shape = np.broadcast_shapes(*(a.shape for a in args if isinstance(a, np.ndarray)))
        size = int(np.prod(shape))
        call = [ctypes.c_long(size)]
        keep = []  # the buffers must outlive the call
        for (typ, _), a in zip(ins, args):
            dtype = t if typ == "T" else np.dtype(typ)
            if isinstance(a, np.ndarray):
                buf = np.ascontiguousarray(np.broadcast_to(a, shape), dtype=dtype)
                stride = 1
            else:  # a scalar: cast to the parameter's type, read with stride 0
                buf, stride = np.asarray([a], dtype=dtype), 0
            keep.append(buf)
            call += [buf.ctypes.data_as(ctypes.c_void_p), ctypes.c_long(stride)]
        outputs = list(args[len(ins):]) or [np.empty(shape, dtype=t if typ == "T" else np.dtype(typ))
                                            for typ, _ in outs]
        for o in outputs:
            if not isinstance(o, np.ndarray) or o.shape != shape or not o.flags.c_contiguous:
                raise TypeError("the C++ harness writes only into C-contiguous arrays of the broadcast shape")
        call += [o.ctypes.data_as(ctypes.c_void_p) for o in outputs]
        getattr(self.lib, f"{name}_{t.name}")(*call)
        return outputs if len(outputs) > 1 else outputs[0]
