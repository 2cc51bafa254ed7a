"""relu_backward: dx = dout where x > 0, else 0."""
import numpy as np

from . import right, wrong

E = "relu_backward"


@right(E)
def with_where(dout, cache):
    return np.where(cache.x > 0, dout, 0.0)


@right(E)
def times_a_float_mask(dout, cache):
    return dout * (cache.x > 0).astype(float)


@right(E)
def with_heaviside(dout, cache):
    return dout * np.heaviside(cache.x, 0.0)


@right(E)
def copy_then_zero(dout, cache):
    dx = dout.copy()
    dx[cache.x <= 0] = 0
    return dx


@right(E)
def from_the_sign(dout, cache):
    return dout * (np.sign(cache.x) + 1) / 2


@wrong(E, "the ReLU applied to dout instead of a mask from x")
def relu_of_dout(dout, cache):
    return np.maximum(dout, 0)


@wrong(E, "the threshold at x > 1")
def threshold_at_one(dout, cache):
    return dout * (cache.x > 1)


@wrong(E, "a slope of 0.1 where x < 0 (a leaky ReLU)", "where x < 0")
def leaky(dout, cache):
    return dout * np.where(cache.x > 0, 1.0, 0.1)


@wrong(E, "the result in float32", "float32")
def in_float32(dout, cache):
    return (dout * (cache.x > 0)).astype(np.float32)


@wrong(E, "return dx, (a 1-tuple)", "1-tuple")
def one_tuple(dout, cache):
    dx = dout * (cache.x > 0)
    return dx,


@wrong(E, "dout times x")
def times_x(dout, cache):
    return dout * cache.x


@wrong(E, "the mask taken from dout")
def mask_from_dout(dout, cache):
    return np.where(dout > 0, dout, 0.0)


@wrong(E, "the mask the wrong way round with the threshold at x < -1")
def threshold_below_minus_one(dout, cache):
    return dout * (cache.x < -1)
