"""reparameterize_backward: dmu = dz, dlogvar = ½ dz σ ε."""
import numpy as np

from . import right, wrong

E = "reparameterize_backward"


@right(E)
def plain(dz, cache):
    return dz.copy(), 0.5 * dz * cache.std * cache.eps


@right(E)
def times_one(dz, cache):
    return dz * 1.0, dz * cache.eps * cache.std / 2


@right(E)
def new_array(dz, cache):
    return np.array(dz), 0.5 * dz * (cache.std * cache.eps)


@right(E)
def unary_plus(dz, cache):
    return +dz, np.multiply(dz, 0.5 * cache.std * cache.eps)


@right(E)
def through_the_log(dz, cache):
    return dz + 0, dz * np.exp(np.log(cache.std)) * cache.eps * 0.5


@wrong(E, "dmu is dz itself", "itself")
def dz_itself(dz, cache):
    return dz, 0.5 * dz * cache.std * cache.eps


@wrong(E, "dlogvar divides by σ")
def over_sigma(dz, cache):
    return dz.copy(), 0.5 * dz * cache.eps / cache.std


@wrong(E, "exp(σ) taken for σ, as if the cache held logvar")
def exp_of_std(dz, cache):
    return dz.copy(), 0.5 * dz * np.exp(cache.std) * cache.eps


@wrong(E, "dlogvar added into dmu")
def dlogvar_into_dmu(dz, cache):
    dlogvar = 0.5 * dz * cache.std * cache.eps
    return dz + dlogvar, dlogvar


@wrong(E, "dlogvar = dz σ ε / B (a 1/B from the loss, and no ½)", "2/B")
def over_B(dz, cache):
    return dz.copy(), dz * cache.std * cache.eps / len(dz)


@wrong(E, "dlogvar with its sign flipped", "opposite sign")
def sign_flipped(dz, cache):
    return dz.copy(), -0.5 * dz * cache.std * cache.eps
