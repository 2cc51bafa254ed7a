"""The catalogue of classic mistakes, part 2: Adam, the two penalties, the VAE's backward pass.

As in part 1, each entry is the library's computation with one thing done wrong.
"""
from __future__ import annotations

import math

from .. import ops
from ..backend import array_module
from ..models.sparse import kl_sparsity
from .solutions import contractive_penalty
from .spec import mistake

ADAM = "§8 (Optimizers: SGD, momentum, Nesterov, Adam)"
SPARSE = "§7.3 (Sparse: the KL penalty on the mean activation)"
CONTRACTIVE = "§7.4 (Contractive: the Frobenius norm of the Jacobian)"
VAE_GRAD = "§9.3 (The gradient of the whole negative ELBO through the network)"
BRANCHES = "§0 (Notation and conventions: the two-branch rule) and §9.3"


# ---------------------------------------------------------------------- adam_step
def _adam(p, g, s, lr, beta1, beta2, eps, *, correct=True, count=True, eps_inside=False):
    """Adam's rule with the classic mistakes as switches (the right rule when all are default)."""
    xp = array_module(p)
    t = s["t"] + 1
    if count:
        s["t"] = t
    s["m"] *= beta1
    s["m"] += (1.0 - beta1) * g
    s["v"] *= beta2
    s["v"] += (1.0 - beta2) * g * g
    m_hat = s["m"] / (1.0 - beta1**t) if correct else s["m"]
    v_hat = s["v"] / (1.0 - beta2**t) if correct else s["v"]
    p -= lr * m_hat / (xp.sqrt(v_hat + eps) if eps_inside else xp.sqrt(v_hat) + eps)


@mistake("adam_step", ADAM,
         "no bias correction: m and v start at 0, so for the first steps they are far smaller than the "
         "moments they estimate; divide them by (1 − β₁ᵗ) and (1 − β₂ᵗ).")
def adam_without_bias_correction(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _adam(p, g, s, lr, beta1, beta2, eps, correct=False)


@mistake("adam_step", ADAM,
         "the step count never advances: s['t'] is not increased, so every step is bias-corrected as if it "
         "were the first (t = 1), and late steps are scaled wrongly.")
def adam_step_count_stuck(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _adam(p, g, s, lr, beta1, beta2, eps, count=False)


@mistake("adam_step", ADAM,
         "ε is added inside the square root, √(v̂ + ε), instead of to it, √v̂ + ε: for small gradients "
         "(v̂ near ε) the step is far too small.")
def adam_eps_inside_sqrt(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _adam(p, g, s, lr, beta1, beta2, eps, eps_inside=True)


# ---------------------------------------------------------------------- kl_sparsity
@mistake("kl_sparsity", SPARSE,
         "dh lacks the 1/B: each example moves the mean activation ρ̂_j by only 1/B of its own change, so "
         "dP/dh_bj = (1/B) dP/dρ̂_j.")
def sparsity_without_B(h, rho, beta):
    P, dh = kl_sparsity(h, rho, beta)
    return P, dh * h.shape[0]


@mistake("kl_sparsity", SPARSE,
         "the penalty is applied to each example's activation h_bj instead of the unit's mean over the "
         "batch ρ̂_j: sparsity is a firing RATE, a property of the batch.")
def sparsity_per_example(h, rho, beta):
    xp = array_module(h)
    kl = rho * (math.log(rho) - xp.log(h)) + (1.0 - rho) * (math.log(1.0 - rho) - xp.log(1.0 - h))
    return beta * kl.sum(), beta * (-rho / h + (1.0 - rho) / (1.0 - h))


@mistake("kl_sparsity", SPARSE,
         "the penalty is averaged over the batch once more (P / B): it is already a property of the whole "
         "batch, computed from the means ρ̂_j, and is added to the loss once.")
def sparsity_averaged_again(h, rho, beta):
    P, dh = kl_sparsity(h, rho, beta)
    return P / h.shape[0], dh / h.shape[0]


# ---------------------------------------------------------------------- contractive_penalty
@mistake("contractive_penalty", BRANCHES,
         "dW is 0: W reaches P along two branches, through the code h (that part flows back through the "
         "sigmoid like any code gradient) and directly through w_i = Σ_j W_ji². The direct one is dW.")
def contractive_without_direct_dW(h, W, lam):
    P, dh, dW = contractive_penalty(h, W, lam)
    return P, dh, dW * 0.0


@mistake("contractive_penalty", CONTRACTIVE,
         "dW lacks the 2 of d(W²)/dW = 2W.")
def contractive_dW_without_two(h, W, lam):
    P, dh, dW = contractive_penalty(h, W, lam)
    return P, dh, dW / 2.0


@mistake("contractive_penalty", CONTRACTIVE,
         "dh treats s = h(1 − h) as if its derivative were 1: d(s²)/dh = 2s(1 − 2h), the (1 − 2h) is missing.")
def contractive_without_one_minus_2h(h, W, lam):
    P, _, dW = contractive_penalty(h, W, lam)
    s, w = h * (1.0 - h), (W * W).sum(axis=0)
    return P, s * w * (2.0 * lam / h.shape[0]), dW


@mistake("contractive_penalty", CONTRACTIVE,
         "the penalty uses s = h(1 − h) where s² belongs: ‖J‖²_F squares each entry of the Jacobian "
         "s_i W_ji.")
def contractive_s_not_squared(h, W, lam):
    B = h.shape[0]
    s, w = h * (1.0 - h), (W * W).sum(axis=0)
    return (s * w).sum() * (lam / B), (1.0 - 2.0 * h) * w * (lam / B), W * s.sum(axis=0) * (2.0 * lam / B)


# ---------------------------------------------------------------------- vae_backward
def _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, *, kl=True, beta=True, logvar_head=True, logvar_through_z=True):
    """The VAE's backward pass with the classic mistakes as switches (the right one when all are default)."""
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    dmu, dlogvar = ops.reparameterize_backward(dz, z_cache)
    if not logvar_through_z:
        dlogvar *= 0.0
    w = model.beta if beta else 1.0
    if kl:
        dmu += w * dmu_kl
        dlogvar += w * dlogvar_kl
    dh = model.blocks["mu"].backward(dmu)
    dh_lv = model.blocks["logvar"].backward(dlogvar)
    if logvar_head:
        dh = dh + dh_lv
    model.encoder.backward(dh, need_input_grad=False)
    return model._collect_grads()


@mistake("vae_backward", BRANCHES,
         "the KL's gradients are never added: μ and logvar each feed two branches, the sample z and the KL, "
         "and an array that feeds two branches gets the sum of both gradients.")
def vae_without_kl_branch(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, kl=False)


@mistake("vae_backward", VAE_GRAD,
         "the KL's gradients are added without β: the loss is recon + β·kl, so they enter as β·dmu_kl and "
         "β·dlogvar_kl.")
def vae_without_beta(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, beta=False)


@mistake("vae_backward", BRANCHES,
         "dh comes from the μ head alone: h feeds both heads, μ and logvar, so the encoder receives the sum of "
         "the two heads' input gradients.")
def vae_mu_head_only(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, logvar_head=False)


@mistake("vae_backward", BRANCHES,
         "dlogvar has only the KL's part: logvar also reaches the loss through z = μ + e^(logvar/2) ε, and "
         "that branch's gradient, dz · ½σε from reparameterize_backward, is missing.")
def vae_logvar_without_z(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, logvar_through_z=False)
