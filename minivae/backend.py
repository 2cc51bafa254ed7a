"""The one place that knows about NumPy and CuPy.

Compute code never imports ``numpy`` or ``cupy``. It asks this module for the array
module of the arrays it was handed::

    xp = array_module(x)          # numpy or cupy, whichever x lives on
    out = xp.maximum(x, 0)

The *global* backend only decides where **new** things are made (model parameters,
data sets, random numbers). Pick it with ``set_backend("numpy" | "cupy")`` or the
environment variable ``MINIVAE_BACKEND``; NumPy is the default.

Randomness never comes from NumPy's global state: each model owns a :class:`Random`,
seeded by its ``seed=``, which draws on the model's device.
"""
from __future__ import annotations

import os

import numpy

BACKENDS = ("numpy", "cupy")
DEFAULT_DTYPE = "float32"
FLOAT_DTYPES = ("float32", "float64")

_state = {"name": None}  # resolved lazily, so MINIVAE_BACKEND is read at first use


class BackendUnavailableError(RuntimeError):
    """Raised when the CuPy backend is asked for but cannot run on this machine."""


_CUPY_HELP = (
    "Install CuPy for your CUDA version, for example `pip install 'minivae[gpu]'` "
    "(CUDA 12) or `pip install cupy-cuda11x`, then check `python -c \"import cupy; "
    "print(cupy.cuda.runtime.getDeviceCount())\"`."
)


#: the one-line kernel that the availability check compiles and runs: y = x + 1
PROBE_KERNEL = ("T x", "T y", "y = x + (T)1")

#: the CuPy modules that passed :func:`_load_cupy`'s checks in this process (by ``id``)
_CHECKED = {}


def _one_line(err):
    """``"TypeName: first line of the message"``, at most 200 characters."""
    first = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {first}"[:200]


def _load_cupy():
    """Import CuPy and check that it can compute here; explain, in one line, what is missing.

    A device count alone is not enough: a machine may have a GPU but not NVRTC (CUDA's
    run-time compiler, which builds every ``ElementwiseKernel``) or not cuBLAS (every
    matrix product). So the check also compiles and runs one tiny kernel and one
    2 x 2 matrix product, once per process.
    """
    try:
        import cupy
    except ImportError as err:
        raise BackendUnavailableError(
            f"the 'cupy' backend needs the CuPy package, which is not installed ({err}). "
            + _CUPY_HELP
        ) from None
    if id(cupy) in _CHECKED:
        return cupy
    try:
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDARuntimeError when the driver or device is missing
        raise BackendUnavailableError(
            f"the 'cupy' backend needs a CUDA device, and none could be reached ({_one_line(err)}). "
            "Run on a machine with an NVIDIA GPU and driver, or use set_backend('numpy')."
        ) from None
    if n_devices < 1:
        raise BackendUnavailableError(
            "the 'cupy' backend needs a CUDA device, and CuPy found none. "
            "Run on a machine with an NVIDIA GPU, or use set_backend('numpy')."
        )
    try:
        probe = cupy.ElementwiseKernel(*PROBE_KERNEL, "minivae_probe")
        ok = bool((probe(cupy.arange(4, dtype="float32")) == cupy.arange(1, 5, dtype="float32")).all())
    except Exception as err:  # CompileException, or a missing libnvrtc
        raise BackendUnavailableError(
            f"the 'cupy' backend needs NVRTC (CUDA's run-time compiler) to build its kernels, and "
            f"compiling a one-line kernel failed ({_one_line(err)}). Install the CUDA toolkit's NVRTC "
            "library (pip install nvidia-cuda-nvrtc-cu12, or CUDA 12 itself), or use set_backend('numpy')."
        ) from None
    if not ok:
        raise BackendUnavailableError("the 'cupy' backend's test kernel ran but computed a wrong value "
                                      "(y = x + 1): this GPU cannot be trusted; use set_backend('numpy').")
    try:
        a = cupy.asarray([[1.0, 2.0], [3.0, 4.0]], dtype="float32")
        ok = bool(((a @ a) == cupy.asarray([[7.0, 10.0], [15.0, 22.0]], dtype="float32")).all())
    except Exception as err:  # a missing libcublas
        raise BackendUnavailableError(
            f"the 'cupy' backend needs cuBLAS for its matrix products, and a 2 x 2 product failed "
            f"({_one_line(err)}). Install it (pip install nvidia-cublas-cu12, or CUDA 12 itself), "
            "or use set_backend('numpy')."
        ) from None
    if not ok:
        raise BackendUnavailableError("the 'cupy' backend's test matrix product ran but computed a wrong "
                                      "value: this GPU cannot be trusted; use set_backend('numpy').")
    _CHECKED[id(cupy)] = cupy
    return cupy


def cupy_available():
    """Return ``(True, "")`` if the CuPy backend can run here, else ``(False, reason)``."""
    try:
        _load_cupy()
    except BackendUnavailableError as err:
        return False, str(err)
    return True, ""


def _check_name(name):
    if not isinstance(name, str):
        raise TypeError(f"backend name must be a string, one of {BACKENDS}; got {type(name).__name__}")
    key = name.strip().lower()
    if key not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; valid backends are {', '.join(BACKENDS)}")
    return key


def set_backend(name):
    """Choose where new models, data and random numbers are made.

    Parameters
    ----------
    name : {"numpy", "cupy"}

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    BackendUnavailableError
        For "cupy" when CuPy is not installed, no CUDA device answers, or a tiny kernel
        (NVRTC) or matrix product (cuBLAS) fails; the message names which, in one line.
    """
    key = _check_name(name)
    if key == "cupy":
        _load_cupy()
    _state["name"] = key


def get_backend():
    """Return the name of the current backend, ``"numpy"`` or ``"cupy"``."""
    if _state["name"] is None:
        set_backend(os.environ.get("MINIVAE_BACKEND", "numpy") or "numpy")
    return _state["name"]


def module_for(name):
    """Return the array module (``numpy`` or ``cupy``) for a backend name."""
    return _load_cupy() if _check_name(name) == "cupy" else numpy


def xp():
    """Return the array module of the current backend."""
    return module_for(get_backend())


def is_cupy_array(a):
    return type(a).__module__.split(".")[0] == "cupy"


def array_module(*arrays):
    """Return the array module of the given arrays (the ``cupy.get_array_module`` idiom).

    ``cupy`` if any argument is a CuPy array, else ``numpy``. Compute code calls this on
    its inputs, so every op runs on whichever device its arrays live on.
    """
    for a in arrays:
        if is_cupy_array(a):
            import cupy

            return cupy
    return numpy


def backend_of(a):
    """Return ``"cupy"`` or ``"numpy"``: where array ``a`` lives."""
    return "cupy" if is_cupy_array(a) else "numpy"


def resolve_dtype(dtype=None):
    """Turn a dtype given as a name or a NumPy dtype into a NumPy dtype.

    ``None`` gives the default, float32. Only float32 and float64 are accepted: the
    gradient checks run in float64, everything else in float32.
    """
    if dtype is None:
        dtype = DEFAULT_DTYPE
    try:
        dt = numpy.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a name such as 'float32' or a NumPy dtype; got {dtype!r}") from None
    if dt.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be one of {FLOAT_DTYPES}; got {dt.name!r}")
    return dt


def to_numpy(a):
    """Return ``a`` as a NumPy array (copied from the GPU when it is a CuPy array)."""
    if is_cupy_array(a):
        return a.get()
    return numpy.asarray(a)


def asarray(a, dtype=None, backend=None):
    """Put ``a`` on ``backend`` (default: the current one) with ``dtype`` (default: kept).

    Moves between devices when needed. ``dtype=None`` keeps a floating dtype and turns
    anything else into the default float32.
    """
    mod = module_for(backend or get_backend())
    if dtype is None:
        kind = getattr(getattr(a, "dtype", None), "kind", None)
        dtype = a.dtype if kind == "f" else resolve_dtype(None)
    if mod is numpy:
        return numpy.asarray(to_numpy(a), dtype=dtype)
    return mod.asarray(a, dtype=dtype)


class Random:
    """A seeded source of random numbers that lives on one backend.

    Each model owns one, so results never depend on NumPy's global state, and on CuPy
    the numbers are drawn on the device.

    Parameters
    ----------
    seed : int or None
        ``None`` draws fresh entropy from the operating system.
    backend : {"numpy", "cupy"}, optional
        Default: the current backend.
    """

    def __init__(self, seed=None, backend=None):
        self.backend = _check_name(backend or get_backend())
        self.seed = seed
        self.xp = module_for(self.backend)
        self._gen = self.xp.random.default_rng(seed)

    def normal(self, shape, dtype=None):
        """Standard normal draws of ``shape`` in ``dtype`` (default float32)."""
        dt = resolve_dtype(dtype)
        return self._gen.standard_normal(shape, dtype=dt)

    def uniform(self, shape, dtype=None):
        """Uniform draws on [0, 1) of ``shape`` in ``dtype`` (default float32)."""
        dt = resolve_dtype(dtype)
        return self._gen.random(shape, dtype=dt)

    def permutation(self, n):
        """A random permutation of ``0 .. n-1`` (an integer array on this backend)."""
        if self.xp is numpy:
            return self._gen.permutation(n)
        return self.xp.argsort(self._gen.random(n))

    def integers(self, low, high, shape):
        """Integers drawn uniformly from ``[low, high)``."""
        return self._gen.integers(low, high, size=shape)

    def spawn_seed(self):
        """Draw an integer seed for a child generator (for example a layer's initialiser)."""
        return int(to_numpy(self._gen.integers(0, 2**31 - 1, size=())))
