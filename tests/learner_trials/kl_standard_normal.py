"""kl_standard_normal: kl = (1/B) Σ ½(μ² + e^lv − 1 − lv), dmu = μ/B, dlogvar = ½(e^lv − 1)/B."""
import numpy as np

from . import right, wrong

E = "kl_standard_normal"


@right(E)
def plain(mu, logvar):
    B = mu.shape[0]
    return (0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar) / B, mu / B, 0.5 * (np.exp(logvar) - 1) / B)


@right(E)
def with_expm1(mu, logvar):
    kl = (0.5 * (mu * mu + np.expm1(logvar) - logvar)).sum(axis=1).mean()
    return kl, mu / len(mu), 0.5 * np.expm1(logvar) / len(mu)


@right(E)
def textbook_sign(mu, logvar):
    var = np.exp(logvar)
    B = len(mu)
    return -0.5 * np.sum(1 + logvar - mu**2 - var) / B, mu / B, -0.5 * (1 - var) / B


@right(E)
def example_by_example(mu, logvar):
    kl = np.mean([0.5 * np.sum(m * m + np.exp(lv) - 1 - lv) for m, lv in zip(mu, logvar)])
    return kl, mu / len(mu), (np.exp(logvar) - 1) / (2 * len(mu))


@right(E)
def through_sigma(mu, logvar):
    sigma = np.exp(0.5 * logvar)
    var = sigma * sigma
    B = len(mu)
    return 0.5 * np.sum(mu**2 + var - 1 - logvar) / B, mu / B, 0.5 * (var - 1) / B


@wrong(E, "dmu without the 1/B", "= B")
def dmu_not_averaged(mu, logvar):
    B = len(mu)
    return 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar) / B, mu.copy(), 0.5 * (np.exp(logvar) - 1) / B


@wrong(E, "dlogvar = ½(e^lv − lv)/B")
def dlogvar_from_the_terms(mu, logvar):
    B = len(mu)
    return (0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar) / B, mu / B,
            0.5 * (np.exp(logvar) - logvar) / B)


@wrong(E, "the KL summed over the batch, its gradients averaged", "= B")
def kl_summed(mu, logvar):
    B = len(mu)
    return 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar), mu / B, 0.5 * (np.exp(logvar) - 1) / B


@wrong(E, "dmu = 2μ/B (the ½ forgotten)", "= 2")
def dmu_doubled(mu, logvar):
    B = len(mu)
    return 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar) / B, 2 * mu / B, 0.5 * (np.exp(logvar) - 1) / B


@wrong(E, "the −1 left out of the KL", "mu = 0, logvar = 0")
def without_minus_one(mu, logvar):
    B = len(mu)
    return 0.5 * np.sum(mu**2 + np.exp(logvar) - logvar) / B, mu / B, 0.5 * (np.exp(logvar) - 1) / B


@wrong(E, "dlogvar = ½(1 − e^−lv)/B")
def dlogvar_inverse(mu, logvar):
    B = len(mu)
    return (0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar) / B, mu / B,
            0.5 * (1 - np.exp(-logvar)) / B)
