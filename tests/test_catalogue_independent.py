"""Each catalogued mistake still makes its mistake (issue 23: a catalogue entry that drifted went unnoticed).

Every entry of the catalogue is written here a second time, independently, from its
sentence alone (plain NumPy, never calling the entry or the library's answer to the
exercise). The entry must give the same answers as this version on every case, and the
checker must name the entry when it meets this version.
"""
import numpy as np
import pytest

from minivae.exercises import BY_NAME, CATALOGUE, EXERCISES
from minivae.exercises.checker import _same, cases_of, check_exercise

from .clue_checks import answer

MISTAKES = {m.key: m for e in EXERCISES for m in CATALOGUE.get(e.name, ())}
WRITTEN = {}


def written(fn):
    WRITTEN[fn.__name__] = fn
    return fn


def _sig(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


# ---------------------------------------------------------------------- dense_backward
@written
def db_averaged(dout, cache):
    return dout @ cache.W.T, cache.x.T @ dout, dout.mean(axis=0)


@written
def dW_divided_by_B(dout, cache):
    return dout @ cache.W.T, cache.x.T @ dout / len(dout), dout.sum(axis=0)


@written
def dW_transposed(dout, cache):
    return dout @ cache.W.T, dout.T @ cache.x, dout.sum(axis=0)


@written
def db_not_summed(dout, cache):
    return dout @ cache.W.T, cache.x.T @ dout, dout.copy()


@written
def db_summed_over_features(dout, cache):
    return dout @ cache.W.T, cache.x.T @ dout, dout.sum(axis=1)


# ---------------------------------------------------------------------- activations
@written
def relu_without_dout(dout, cache):
    return np.where(cache.x > 0, 1.0, 0.0)


@written
def relu_mask_inverted(dout, cache):
    return np.where(cache.x < 0, dout, 0.0)


@written
def relu_times_output(dout, cache):
    return dout * np.where(cache.x > 0, cache.x, 0.0)


@written
def sigmoid_slope_of_output(dout, cache):
    s = _sig(cache.out)
    return dout * s * (1 - s)


@written
def sigmoid_missing_one_minus(dout, cache):
    return dout * cache.out


@written
def sigmoid_without_dout(dout, cache):
    return cache.out - cache.out**2


@written
def tanh_not_squared(dout, cache):
    return dout - dout * cache.out


@written
def tanh_slope_of_output(dout, cache):
    return dout / np.cosh(cache.out) ** 2


@written
def tanh_sign_flipped(dout, cache):
    return -dout * (1 - cache.out**2)


# ---------------------------------------------------------------------- losses
def _mse(pred, target):
    d = pred - target
    return (d**2).sum() / len(d), 2 * d / len(d)


@written
def mse_without_two(pred, target):
    return _mse(pred, target)[0], (pred - target) / len(pred)


@written
def mse_mean_over_everything(pred, target):
    d = pred - target
    return (d**2).mean(), 2 * d / d.size


@written
def mse_gradient_without_B(pred, target):
    return _mse(pred, target)[0], 2 * (pred - target)


@written
def mse_sign_flipped(pred, target):
    return _mse(pred, target)[0], 2 * (target - pred) / len(pred)


def _bce_loss(l, t):
    return (np.logaddexp(0, l) - t * l).sum() / len(l)


@written
def bce_from_log_sigmoid(logits, target):
    with np.errstate(all="ignore"):
        p = 1 / (1 + np.exp(-logits))
        loss = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum() / len(p)
    return loss, (_sig(logits) - target) / len(logits)


@written
def bce_gradient_without_B(logits, target):
    return _bce_loss(logits, target), _sig(logits) - target


@written
def bce_through_the_sigmoid_again(logits, target):
    s = _sig(logits)
    return _bce_loss(logits, target), (s - target) * s * (1 - s) / len(s)


@written
def bce_sign_flipped(logits, target):
    return _bce_loss(logits, target), (target - _sig(logits)) / len(logits)


# ---------------------------------------------------------------------- the Gaussian latent
def _kl(mu, lv):
    return 0.5 * (mu**2 + np.exp(lv) - 1 - lv).sum() / len(mu)


@written
def kl_missing_half(mu, logvar):
    return _kl(mu, logvar), mu / len(mu), (np.exp(logvar) - 1) / len(mu)


@written
def kl_summed_over_batch(mu, logvar):
    return _kl(mu, logvar) * len(mu), mu.copy(), 0.5 * (np.exp(logvar) - 1)


@written
def kl_std_for_variance(mu, logvar):
    std, B = np.exp(logvar / 2), len(mu)
    return 0.5 * (mu**2 + std - 1 - logvar).sum() / B, mu / B, 0.5 * (std - 1) / B


@written
def kl_dlogvar_sign_flipped(mu, logvar):
    return _kl(mu, logvar), mu / len(mu), 0.5 * (1 - np.exp(logvar)) / len(mu)


@written
def reparam_variance_for_std(dz, cache):
    return dz.copy(), 0.5 * dz * cache.std**2 * cache.eps


@written
def reparam_missing_half(dz, cache):
    return dz.copy(), dz * cache.std * cache.eps


@written
def reparam_without_eps(dz, cache):
    return dz.copy(), 0.5 * dz * cache.std


@written
def reparam_dmu_times_std(dz, cache):
    return dz * cache.std, 0.5 * dz * cache.std * cache.eps


# ---------------------------------------------------------------------- adam_step
def _adam(p, g, s, lr, b1, b2, eps, *, correct=True, count=True, inside=False):
    t = s["t"] + 1
    s["m"][...] = b1 * s["m"] + (1 - b1) * g
    s["v"][...] = b2 * s["v"] + (1 - b2) * g * g
    m, v = (s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)) if correct else (s["m"], s["v"])
    p -= lr * m / (np.sqrt(v + eps) if inside else np.sqrt(v) + eps)
    s["t"] = t if count else s["t"]


@written
def adam_without_bias_correction(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _adam(p, g, s, lr, beta1, beta2, eps, correct=False)


@written
def adam_step_count_stuck(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _adam(p, g, s, lr, beta1, beta2, eps, count=False)


@written
def adam_eps_inside_sqrt(p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    _adam(p, g, s, lr, beta1, beta2, eps, inside=True)


# ---------------------------------------------------------------------- kl_sparsity
def _sparsity(h, rho, beta):
    r = h.mean(axis=0)
    P = beta * (rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))).sum()
    return P, np.tile(beta * (-rho / r + (1 - rho) / (1 - r)) / len(h), (len(h), 1))


@written
def sparsity_without_B(h, rho, beta):
    P, dh = _sparsity(h, rho, beta)
    return P, dh * len(h)


@written
def sparsity_per_example(h, rho, beta):
    kl = rho * np.log(rho / h) + (1 - rho) * np.log((1 - rho) / (1 - h))
    return beta * kl.sum(), beta * ((1 - rho) / (1 - h) - rho / h)


@written
def sparsity_averaged_again(h, rho, beta):
    P, dh = _sparsity(h, rho, beta)
    return P / len(h), dh / len(h)


# ---------------------------------------------------------------------- contractive_penalty
def _contractive(h, W, lam):
    B, s, w = len(h), h * (1 - h), (W * W).sum(axis=0)
    return lam / B * (s * s * w).sum(), 2 * lam / B * s * (1 - 2 * h) * w, 2 * lam / B * W * (s * s).sum(axis=0)


@written
def contractive_without_direct_dW(h, W, lam):
    P, dh, _ = _contractive(h, W, lam)
    return P, dh, np.zeros_like(W)


@written
def contractive_dW_without_two(h, W, lam):
    P, dh, dW = _contractive(h, W, lam)
    return P, dh, dW / 2


@written
def contractive_without_one_minus_2h(h, W, lam):
    P, _, dW = _contractive(h, W, lam)
    return P, 2 * lam / len(h) * h * (1 - h) * (W * W).sum(axis=0), dW


@written
def contractive_s_not_squared(h, W, lam):
    B, s, w = len(h), h * (1 - h), (W * W).sum(axis=0)
    return lam / B * (s * w).sum(), lam / B * (1 - 2 * h) * w, 2 * lam / B * W * s.sum(axis=0)


# ---------------------------------------------------------------------- vae_backward
def _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, kl=1.0, beta=None, mu_only=False, logvar_z=1.0):
    dz = model.decoder.backward(dout)[:, :model.latent_dim]
    w = (model.beta if beta is None else beta) * kl
    dmu = dz + w * dmu_kl
    dlogvar = logvar_z * 0.5 * dz * z_cache.std * z_cache.eps + w * dlogvar_kl
    dh = model.blocks["mu"].backward(dmu)
    dh_lv = model.blocks["logvar"].backward(dlogvar)
    model.encoder.backward(dh if mu_only else dh + dh_lv, need_input_grad=False)
    return model._collect_grads()


@written
def vae_without_kl_branch(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, kl=0.0)


@written
def vae_without_beta(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, beta=1.0)


@written
def vae_mu_head_only(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, mu_only=True)


@written
def vae_logvar_without_z(model, dout, z_cache, dmu_kl, dlogvar_kl):
    return _vae(model, dout, z_cache, dmu_kl, dlogvar_kl, logvar_z=0.0)


# ---------------------------------------------------------------------- conv2d_backward (plain loops, §10)
def _conv_backward(dout, cache, *, kernel_flip=False, dW_stride=None):
    """The backward of out[b,o,i,j] = c[o] + sum_{r,k,l} W[o,r,k,l] xpad[b,r,s*i+k,s*j+l], by scattering.

    Returns ``(dxpad, dW)``. ``kernel_flip`` reads W[o,r,f-1-k,f'-1-l] where W[o,r,k,l] belongs;
    ``dW_stride`` pairs dout[b,o,i,j] with the window at (t*i, t*j) instead of (s*i, s*j).
    """
    x, W, s, p = cache.x, cache.W, cache.stride, cache.padding
    B, R, H, Wd = x.shape
    O, _, f, f2 = W.shape
    xpad = np.zeros((B, R, H + 2 * p, Wd + 2 * p))
    xpad[:, :, p:p + H, p:p + Wd] = x
    dxpad, dW = np.zeros_like(xpad), np.zeros(W.shape)
    t = s if dW_stride is None else dW_stride
    for b in range(B):
        for o in range(O):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    g = dout[b, o, i, j]
                    for k in range(f):
                        for l in range(f2):
                            w = W[o, :, f - 1 - k, f2 - 1 - l] if kernel_flip else W[o, :, k, l]
                            dxpad[b, :, s * i + k, s * j + l] += w * g
                            dW[o, :, k, l] += g * xpad[b, :, t * i + k, t * j + l]
    return dxpad, dW


def _crop(dxpad, cache, top):
    H, Wd = cache.x.shape[2:]
    return dxpad[:, :, top:top + H, top:top + Wd]


@written
def kernel_not_flipped(dout, cache):
    dxpad, _ = _conv_backward(dout, cache, kernel_flip=True)
    _, dW = _conv_backward(dout, cache)
    return _crop(dxpad, cache, cache.padding), dW, dout.sum(axis=(0, 2, 3))


@written
def stride_ignored_in_dW(dout, cache):
    dxpad, _ = _conv_backward(dout, cache)
    _, dW = _conv_backward(dout, cache, dW_stride=1)
    return _crop(dxpad, cache, cache.padding), dW, dout.sum(axis=(0, 2, 3))


@written
def padding_cropped_on_wrong_side(dout, cache):
    dxpad, dW = _conv_backward(dout, cache)
    return _crop(dxpad, cache, 2 * cache.padding), dW, dout.sum(axis=(0, 2, 3))


@written
def db_not_summed_over_positions(dout, cache):
    dxpad, dW = _conv_backward(dout, cache)
    return _crop(dxpad, cache, cache.padding), dW, dout.sum(axis=0)


@written
def db_averaged_over_positions(dout, cache):
    dxpad, dW = _conv_backward(dout, cache)
    return _crop(dxpad, cache, cache.padding), dW, dout.sum(axis=0).mean(axis=(1, 2))


def test_every_catalogue_entry_is_written_again_here():
    missing = sorted(set(MISTAKES) - set(WRITTEN))
    assert not missing, f"write each new catalogue entry again here, from its sentence alone: {missing}"
    assert set(WRITTEN) <= set(MISTAKES)


@pytest.mark.parametrize("key", sorted(WRITTEN))
def test_the_entry_makes_the_mistake_its_sentence_describes(key):
    m, mine = MISTAKES[key], WRITTEN[key]
    exercise = BY_NAME[m.exercise]
    for case in cases_of(exercise):
        theirs, ours = answer(exercise, m.fn, case), answer(exercise, mine, case)
        assert _same(theirs, ours), f"{key} differs from its sentence on {case.label}"
    result = check_exercise(exercise, mine)
    assert result.status == "failed" and m.what in result.diagnosis
