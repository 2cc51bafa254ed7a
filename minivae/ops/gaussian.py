"""The Gaussian latent of a VAE: the KL term and the reparameterization trick.

Derivations in docs/derivations.md §5. The encoder predicts ``mu`` and
``logvar = log(sigma^2)`` for each latent dimension; ``sigma = exp(logvar / 2)``.
"""
from __future__ import annotations

from typing import NamedTuple

from ..backend import array_module
from .._checks import check_array, check_nonempty, check_same_shape
from . import kernels


def kl_standard_normal(mu, logvar):
    r"""KL divergence from :math:`N(\mu, \sigma^2)` to :math:`N(0, 1)`, with its gradients (§5.1).

    .. math::
        \mathrm{KL} = \frac{1}{B}\sum_b\sum_j \tfrac12\big(\mu_{bj}^2 + e^{\mathrm{logvar}_{bj}}
                      - 1 - \mathrm{logvar}_{bj}\big)

    .. math::
        \frac{\partial \mathrm{KL}}{\partial \mu} = \frac{\mu}{B}, \qquad
        \frac{\partial \mathrm{KL}}{\partial\, \mathrm{logvar}} = \frac{e^{\mathrm{logvar}} - 1}{2B}

    It is never negative, and zero exactly at :math:`\mu = 0,\ \mathrm{logvar} = 0`, also
    in float32: the code forms :math:`e^{\mathrm{logvar}} - 1` with ``expm1``, so that
    ``expm1(logvar) - logvar`` is never below 0 (the literal ``exp(logvar) - 1 - logvar``
    comes out as low as about :math:`-9 \times 10^{-8}` for tiny ``logvar``; §5.1).

    Parameters
    ----------
    mu : array, shape (B, J)
    logvar : array, shape (B, J)

    Returns
    -------
    kl : 0-d array
    dmu : array, shape (B, J)
    dlogvar : array, shape (B, J)
    """
    check_array(mu, "mu", ndim=2)
    check_array(logvar, "logvar", ndim=2)
    check_same_shape(mu, "mu", logvar, "logvar")
    check_nonempty(mu, "mu")
    xp = array_module(mu)
    B = mu.shape[0]
    if kernels.usable(mu, logvar):  # on a GPU: the lines below as one launch
        kl, dmu, dlogvar = kernels.kernel(xp, "kl_standard_normal")(mu, logvar, 1.0 / B)
        return kl.sum() / B, dmu, dlogvar
    var_m1 = xp.expm1(logvar)  # e^logvar - 1 without forming e^logvar: accurate even for tiny logvar
    kl = 0.5 * (mu * mu + (var_m1 - logvar)).sum() / B
    dmu = mu * (1.0 / B)
    dlogvar = var_m1 * (0.5 / B)
    return kl, dmu, dlogvar


class ReparamCache(NamedTuple):
    """What :func:`reparameterize_backward` needs: sigma and the noise."""

    std: object  # exp(logvar / 2), (B, J)
    eps: object  # (B, J)


def reparameterize(mu, logvar, eps):
    r"""The reparameterization trick: :math:`z = \mu + \sigma \odot \varepsilon` (§5.2).

    .. math:: \sigma = \exp(\tfrac12 \mathrm{logvar}), \qquad z = \mu + \sigma \odot \varepsilon

    The randomness lives in :math:`\varepsilon \sim N(0, I)`, drawn by the caller, so
    ``z`` is a deterministic, differentiable function of ``mu`` and ``logvar``.

    Parameters
    ----------
    mu, logvar, eps : arrays, shape (B, J)

    Returns
    -------
    z : array, shape (B, J)
    cache : ReparamCache
    """
    check_array(mu, "mu", ndim=2)
    check_array(logvar, "logvar", ndim=2)
    check_array(eps, "eps", ndim=2)
    check_same_shape(mu, "mu", logvar, "logvar")
    check_same_shape(mu, "mu", eps, "eps")
    if kernels.usable(mu, logvar, eps):  # on a GPU: the two lines below as one launch
        z, std = kernels.kernel(array_module(mu), "reparameterize")(mu, logvar, eps)
        return z, ReparamCache(std, eps)
    std = array_module(mu).exp(0.5 * logvar)
    z = mu + std * eps
    return z, ReparamCache(std, eps)


def reparameterize_backward(dz, cache):
    r"""Gradients of :math:`z = \mu + e^{\mathrm{logvar}/2}\varepsilon` (§5.2).

    .. math::
        \frac{\partial z}{\partial \mu} = 1, \qquad
        \frac{\partial z}{\partial\, \mathrm{logvar}} = \tfrac12 e^{\mathrm{logvar}/2}\varepsilon
        = \tfrac12 \sigma \varepsilon

    Parameters
    ----------
    dz : array, shape (B, J)
    cache : ReparamCache

    Returns
    -------
    dmu : array, shape (B, J)
        Equal to ``dz`` (a copy, so that callers may accumulate into it).
    dlogvar : array, shape (B, J)
    """
    check_array(dz, "dz")
    if not isinstance(cache, ReparamCache):
        raise TypeError(f"cache must be the ReparamCache that reparameterize returned with z; "
                        f"got {type(cache).__name__}")
    check_same_shape(cache.eps, "eps", dz, "dz")
    if kernels.usable(dz, cache.std, cache.eps):  # on a GPU: the two lines below as one launch
        return kernels.kernel(array_module(dz), "reparameterize_backward")(dz, cache.std, cache.eps)
    dmu = dz.copy()
    dlogvar = dz * (0.5 * cache.std) * cache.eps
    return dmu, dlogvar
