"""Hypothesis strategies shared by the gradient checks."""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

dims = st.integers(min_value=1, max_value=8)


def values(max_magnitude=1e3):
    """Floats of ordinary size, sometimes of large magnitude."""
    return st.one_of(
        st.floats(-3.0, 3.0, allow_nan=False),
        st.floats(-max_magnitude, max_magnitude, allow_nan=False),
    )


def matrices(shape, max_magnitude=1e3, away_from_zero=None):
    """float64 arrays of ``shape``; ``away_from_zero`` keeps every entry's |value| above it."""
    elements = values(max_magnitude)
    if away_from_zero is not None:
        elements = elements.filter(lambda v: abs(v) > away_from_zero)
    return arrays(np.float64, shape, elements=elements)


@st.composite
def batch(draw, max_magnitude=1e3, away_from_zero=None):
    """A (B, D) float64 array with B, D in 1..8."""
    shape = (draw(dims), draw(dims))
    return draw(matrices(shape, max_magnitude, away_from_zero))
