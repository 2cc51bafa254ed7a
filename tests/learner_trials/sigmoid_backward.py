"""sigmoid_backward: dx = dout · s(1 − s), s the cached output."""
import numpy as np

from . import right, wrong

E = "sigmoid_backward"


@right(E)
def expanded(dout, cache):
    s = cache.out
    return dout * s - dout * s**2


@right(E)
def with_multiply(dout, cache):
    return np.multiply(dout, np.multiply(cache.out, 1.0 - cache.out))


@right(E)
def through_logs(dout, cache):
    s = cache.out
    return dout * np.exp(np.log(s) + np.log1p(-s))


@right(E)
def s_minus_s_squared(dout, cache):
    s = cache.out
    return dout * (s - s * s)


@right(E)
def divided_by_the_reciprocal(dout, cache):
    s = cache.out
    return dout / (1.0 / s) * (1.0 - s)


@wrong(E, "s(1 + s) for s(1 − s)")
def one_plus(dout, cache):
    s = cache.out
    return dout * s * (1 + s)


@wrong(E, "twice the slope", "2 times")
def doubled(dout, cache):
    s = cache.out
    return 2 * dout * s * (1 - s)


@wrong(E, "the s of s(1 − s) missing")
def only_one_minus(dout, cache):
    return dout * (1 - cache.out)


@wrong(E, "s²(1 − s)")
def s_squared(dout, cache):
    s = cache.out
    return dout * s * s * (1 - s)


@wrong(E, "the largest slope 1/4 everywhere")
def quarter(dout, cache):
    return dout * 0.25


@wrong(E, "divided by B", "1/B")
def over_B(dout, cache):
    s = cache.out
    return dout * s * (1 - s) / len(s)
