"""tanh_backward: dx = dout · (1 − t²), t the cached output."""
import numpy as np

from . import right, wrong

E = "tanh_backward"


@right(E)
def one_minus_square(dout, cache):
    return dout * (1 - cache.out**2)


@right(E)
def factored(dout, cache):
    t = cache.out
    return dout * (1 - t) * (1 + t)


@right(E)
def subtracted(dout, cache):
    t = cache.out
    return dout - dout * t * t


@right(E)
def with_square(dout, cache):
    return dout * (1.0 - np.square(cache.out))


@right(E)
def with_subtract(dout, cache):
    return np.subtract(1.0, cache.out * cache.out) * dout


@wrong(E, "t(1 − t), the sigmoid's slope")
def sigmoid_slope(dout, cache):
    t = cache.out
    return dout * t * (1 - t)


@wrong(E, "1 + t²")
def one_plus_square(dout, cache):
    return dout * (1 + cache.out**2)


@wrong(E, "half the slope", "0.5")
def halved(dout, cache):
    return dout * (1 - cache.out**2) / 2


@wrong(E, "(1 − t)²")
def square_of_difference(dout, cache):
    return dout * (1 - cache.out) ** 2


@wrong(E, "1/(1 + t²), arctan's slope")
def arctan_slope(dout, cache):
    return dout / (1 + cache.out**2)


@wrong(E, "2t, the derivative of t²")
def two_t(dout, cache):
    return 2 * dout * cache.out
