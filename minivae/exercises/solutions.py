"""The solutions of the three exercises whose library code is a method, not a function.

Adam's rule is a method of :class:`~minivae.optim.Adam`, the contractive penalty a
method of :class:`~minivae.models.ContractiveAutoencoder`, and the VAE's backward pass
the method ``VAE._backward``. Each exercise makes the unit a function; these adapters
give it that function's signature and *call* the library's code (never a copy), so the
answer key is always the library's own.
"""
from __future__ import annotations

from types import SimpleNamespace

from ..models import VAE, ContractiveAutoencoder
from ..optim import Adam


def adam_step(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """The library's Adam update of one parameter, as ``fit`` runs it (``Adam._update``)."""
    Adam(lr, (beta1, beta2), eps)._update("p", p, g, s)


def contractive_penalty(h, W, lam):
    """The library's contractive penalty (``ContractiveAutoencoder._penalty``) for a code ``h`` and weights ``W``.

    The method reads two things from its model, the code layer's weights and the weight
    of the penalty; this hands it exactly those.
    """
    model = SimpleNamespace(_code_dense=(0, SimpleNamespace(params={"W": W})), contraction=lam)
    P, dh, direct = ContractiveAutoencoder._penalty(model, None, h, True)
    return P, dh, direct["encoder.0.W"]


def vae_backward(model, dout, z_cache, dmu_kl, dlogvar_kl):
    """The library's VAE backward pass (``VAE._backward``)."""
    return VAE._backward(model, dout, z_cache, dmu_kl, dlogvar_kl)
