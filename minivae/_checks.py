"""Argument checks shared by the ops and models.

Every message names the argument and says what was expected, so a learner who passes
the wrong thing sees what to fix without reading a traceback.
"""
from __future__ import annotations

import math

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


def check_finite(a, name, *, source=None):
    """Raise ``ValueError`` if ``a`` holds NaN or infinity.

    ``source`` is what ``a`` was converted from (say float64 data turned into a float32
    model's dtype): when ``source`` itself is finite, the infinities came from values
    too large for ``a``'s dtype, and the message says so instead of "NaN or infinite".
    """
    xp = array_module(a)
    if _all_finite(a):
        return
    if source is not None and source.dtype.kind == "f" and _all_finite(source):
        big = float(array_module(source).abs(source).max())
        limit = float(xp.finfo(a.dtype).max)
        raise ValueError(f"{name} holds values too large for {a.dtype} (max {limit:.2g}): the largest is "
                         f"{big:.3g}; scale the data down or use dtype='float64'")
    raise ValueError(f"{name} must be finite; it holds NaN or infinite values")


def _all_finite(a):
    """Whether no entry of ``a`` is NaN or infinite.

    The minimum and the maximum say it without a temporary array the size of ``a``
    (both are NaN when any entry is, and an infinity is one of them).
    """
    if a.size == 0 or a.dtype.kind != "f":
        return True
    return math.isfinite(float(a.min())) and math.isfinite(float(a.max()))


def check_nonempty(a, name):
    """Raise ``ValueError`` if the batch ``a`` has no rows (a mean over zero examples is undefined)."""
    if a.shape[0] == 0:
        raise ValueError(f"{name} has 0 rows; a batch needs at least one example "
                         "(the loss is a mean over the examples)")


def check_unit_interval(a, name):
    """Raise ``ValueError`` unless every entry of ``a`` lies in [0, 1]."""
    if not a.size:
        return
    lo, hi = float(a.min()), float(a.max())
    if not (lo >= 0.0 and hi <= 1.0):  # written so that NaN fails too
        if lo >= 0.0 and hi > 1.0:  # intensities on another scale: say which one was found
            hint = f" If these are intensities on a 0..{hi:g} scale, divide by {hi:g} first."
        elif lo == lo and hi == hi:
            hint = " Rescale them first, for example (X - X.min()) / (X.max() - X.min())."
        else:
            hint = ""
        raise ValueError(
            f"{name} must lie in [0, 1] (probabilities or pixel intensities scaled to [0, 1]); "
            f"got values in [{lo:g}, {hi:g}].{hint}"
        )


#: the largest layer width, class count or latent size a model accepts: with every side
#: at most 2**31 - 1, the element count of any weight matrix fits NumPy's 64-bit index,
#: so an impossible size ends in a MemoryError that says how much was asked for
MAX_SIZE = 2**31 - 1

#: seeds are 64-bit: what both NumPy's and CuPy's generators accept
MAX_SEED = 2**64 - 1


def show_int(value):
    """``value`` for a message: the number itself, or its length when it is very long."""
    if abs(value) < 10**30:
        return str(value)
    # str() of an int over 4,300 digits raises; count the digits from its bit length
    return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"


def check_positive_int(value, name, *, minimum=1, maximum=None):
    """Raise unless ``value`` is an integer in [``minimum``, ``maximum``]; return it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {_short_repr(value)}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {show_int(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}; got {show_int(value)}")
    return value


def check_choice(value, name, choices):
    """Raise unless ``value`` is one of the strings ``choices``; return it."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {tuple(choices)}; got {type(value).__name__} "
                        f"{_short_repr(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}; got {value!r}")
    return value


def _short_repr(value):
    if isinstance(value, int):
        return show_int(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
