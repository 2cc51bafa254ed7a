"""Argument checks shared by the ops and models.

Every message names the argument and says what was expected, so a learner who passes
the wrong thing sees what to fix without reading a traceback.
"""
from __future__ import annotations

from .backend import array_module


def check_array(a, name, *, ndim=None):
    """Raise ``TypeError`` unless ``a`` is a floating-point array (of ``ndim`` dimensions)."""
    dtype = getattr(a, "dtype", None)
    if dtype is None or not hasattr(a, "shape"):
        raise TypeError(f"{name} must be a NumPy or CuPy array; got {type(a).__name__}")
    if dtype.kind != "f":
        raise TypeError(f"{name} must hold floating-point numbers; got dtype {dtype}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got shape {tuple(a.shape)}")
    return a


def check_same_shape(a, name_a, b, name_b):
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"{name_b} must have the shape of {name_a}, {tuple(a.shape)}; got {tuple(b.shape)}"
        )


def check_finite(a, name):
    """Raise ``ValueError`` if ``a`` holds NaN or infinity."""
    xp = array_module(a)
    if not bool(xp.isfinite(a).all()):
        raise ValueError(f"{name} must be finite; it holds NaN or infinite values")


def check_unit_interval(a, name):
    """Raise ``ValueError`` unless every entry of ``a`` lies in [0, 1]."""
    if not a.size:
        return
    lo, hi = float(a.min()), float(a.max())
    if not (lo >= 0.0 and hi <= 1.0):  # written so that NaN fails too
        raise ValueError(
            f"{name} must lie in [0, 1] (probabilities or pixel intensities scaled to [0, 1]); "
            f"got values in [{lo:g}, {hi:g}]. Divide raw 0..255 pixels by 255 first."
        )


def check_positive_int(value, name, *, minimum=1):
    """Raise unless ``value`` is an integer >= ``minimum``; return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}")
    return value


def check_number(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """Raise unless ``value`` is a real number in the given range; return it as ``float``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise TypeError(f"{name} must be a number; got {type(value).__name__}")
    v = float(value)
    lo_bad = low is not None and (v <= low if low_open else v < low)
    hi_bad = high is not None and (v >= high if high_open else v > high)
    if lo_bad or hi_bad or v != v:
        lb = "(" if low_open else "["
        hb = ")" if high_open else "]"
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must lie in {lb}{lo}, {hi}{hb}; got {value}")
    return v
