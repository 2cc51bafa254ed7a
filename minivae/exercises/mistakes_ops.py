"""The catalogue of classic mistakes, part 1: the ops (the dense layer, activations, losses, Gaussian).

Each entry is the library's function with one thing done wrong, the sentence that says
what, and the section of docs/derivations.md to reread. When a learner's function gives
the same numbers as an entry on every case, the checker names that entry.
"""
from __future__ import annotations

from .. import ops
from ..backend import array_module
from .spec import mistake

REDUCTION = "§0 (Notation and conventions: the one reduction)"
DENSE, RELU, SIGMOID, TANH = "§1 (The dense layer)", "§3.1 (ReLU)", "§3.3 (Sigmoid)", "§3.4 (Tanh)"
MSE, BCE = "§4.1 (Mean squared error)", "§4.2 (Binary cross-entropy with logits)"
KL, REPARAM = "§5.1 (KL divergence between N(μ, σ²) and N(0, 1))", "§5.2 (The reparameterization trick)"


# ---------------------------------------------------------------------- dense_backward
@mistake("dense_backward", REDUCTION,
         "db is dout averaged over the batch (dout.mean(axis=0)): the bias is copied onto every row, so its "
         "gradient is the SUM over the rows. The 1/B belongs to the loss, which already put it inside dout.")
def db_averaged(dout, cache):
    dx, dW, _ = ops.dense_backward(dout, cache)
    return dx, dW, dout.mean(axis=0)


@mistake("dense_backward", REDUCTION,
         "dW is divided by B: dout already carries the loss's 1/B, and dividing again makes the gradient "
         "B times too small (the mirror image of forgetting it).")
def dW_divided_by_B(dout, cache):
    dx, dW, db = ops.dense_backward(dout, cache)
    return dx, dW / dout.shape[0], db


@mistake("dense_backward", DENSE,
         "dW is doutᵀ x, the transpose of the right answer: dW must have W's shape (in, out), which only "
         "xᵀ dout has. Let the shapes tell you where the transpose goes.")
def dW_transposed(dout, cache):
    dx, _, db = ops.dense_backward(dout, cache)
    return dx, dout.T @ cache.x, db


@mistake("dense_backward", DENSE,
         "db is dout itself, not summed over the batch: b has shape (out,), one entry per output unit, and "
         "each was added to every row of the batch, so its gradient sums dout over the rows.")
def db_not_summed(dout, cache):
    dx, dW, _ = ops.dense_backward(dout, cache)
    return dx, dW, dout.copy()


@mistake("dense_backward", DENSE,
         "db sums dout over axis 1 (the output units) instead of axis 0 (the examples of the batch).")
def db_summed_over_features(dout, cache):
    dx, dW, _ = ops.dense_backward(dout, cache)
    return dx, dW, dout.sum(axis=1)


# ---------------------------------------------------------------------- activations
@mistake("relu_backward", RELU,
         "dx is the ReLU's slope 1[x > 0] alone: the chain rule multiplies the local slope by dout, the "
         "gradient arriving from above.")
def relu_without_dout(dout, cache):
    return (cache.x > 0) * 1.0


@mistake("relu_backward", RELU,
         "the mask is the wrong way round: the gradient passes where x < 0 and is blocked where x > 0.")
def relu_mask_inverted(dout, cache):
    return dout * (cache.x < 0)


@mistake("relu_backward", RELU,
         "dx is dout times max(x, 0), the ReLU's output, instead of its slope 1[x > 0].")
def relu_times_output(dout, cache):
    return dout * array_module(dout).maximum(cache.x, 0)


@mistake("sigmoid_backward", SIGMOID,
         "σ' is taken at the wrong place: the cache holds the OUTPUT s = σ(x), and σ(s)(1 − σ(s)) treats it "
         "as the input x. The slope at x is s(1 − s), straight from the cache.")
def sigmoid_slope_of_output(dout, cache):
    s = ops.sigmoid(cache.out)
    return dout * s * (1.0 - s)


@mistake("sigmoid_backward", SIGMOID,
         "dx is dout · σ: the slope of σ is σ(1 − σ), the (1 − σ) is missing.")
def sigmoid_missing_one_minus(dout, cache):
    return dout * cache.out


@mistake("sigmoid_backward", SIGMOID,
         "dx is the slope σ(1 − σ) alone: the chain rule multiplies it by dout.")
def sigmoid_without_dout(dout, cache):
    return cache.out * (1.0 - cache.out)


@mistake("tanh_backward", TANH,
         "the slope is 1 − tanh instead of 1 − tanh²: the square is missing.")
def tanh_not_squared(dout, cache):
    return dout * (1.0 - cache.out)


@mistake("tanh_backward", TANH,
         "tanh' is taken at the wrong place: the cache holds t = tanh(x), and 1 − tanh(t)² treats it as x. "
         "The slope at x is 1 − t², straight from the cache.")
def tanh_slope_of_output(dout, cache):
    t = array_module(dout).tanh(cache.out)
    return dout * (1.0 - t * t)


@mistake("tanh_backward", TANH, "the slope is tanh² − 1: its sign is flipped (tanh rises everywhere, so 1 − tanh² > 0).")
def tanh_sign_flipped(dout, cache):
    return dout * (cache.out * cache.out - 1.0)


# ---------------------------------------------------------------------- losses
@mistake("mse", MSE, "dpred is (pred − target)/B: the derivative of a square brings down a 2.")
def mse_without_two(pred, target):
    loss, dpred = ops.mse(pred, target)
    return loss, dpred / 2.0


@mistake("mse", REDUCTION,
         "the loss is averaged over the features as well as the examples ((pred − target)**2).mean()): "
         "minivae sums the features of an example and averages only over the batch.")
def mse_mean_over_everything(pred, target):
    loss, dpred = ops.mse(pred, target)
    D = pred.shape[1]
    return loss / D, dpred / D


@mistake("mse", REDUCTION,
         "the loss is averaged over the batch but its gradient is not: dpred = 2(pred − target) is B times "
         "the gradient of the loss you return, so the learning rate is in effect B times larger.")
def mse_gradient_without_B(pred, target):
    loss, dpred = ops.mse(pred, target)
    return loss, dpred * pred.shape[0]


@mistake("mse", MSE, "dpred is 2(target − pred)/B: the sign is flipped, and gradient descent would climb the loss.")
def mse_sign_flipped(pred, target):
    loss, dpred = ops.mse(pred, target)
    return loss, -dpred


@mistake("bce_with_logits", BCE,
         "the loss is computed as −[t log σ(l) + (1 − t) log(1 − σ(l))]: right in exact arithmetic, but σ(l) "
         "rounds to 0 or 1 for a large |l| and log(0) = −inf. Rewrite it as softplus(l) − t·l, with "
         "softplus(l) = max(l, 0) + log(1 + e^−|l|).")
def bce_from_log_sigmoid(logits, target):
    xp = array_module(logits)
    p = 1.0 / (1.0 + xp.exp(-logits))
    loss = -(target * xp.log(p) + (1.0 - target) * xp.log(1.0 - p)).sum() / logits.shape[0]
    return loss, ops.bce_with_logits(logits, target)[1]


@mistake("bce_with_logits", REDUCTION,
         "dlogits is σ(l) − t without the 1/B: the loss is averaged over the batch, so its gradient is too.")
def bce_gradient_without_B(logits, target):
    loss, dlogits = ops.bce_with_logits(logits, target)
    return loss, dlogits * logits.shape[0]


@mistake("bce_with_logits", BCE,
         "dlogits is multiplied by σ'(l) = σ(1 − σ) once more: the cross-entropy's derivative in p, "
         "(p − t)/(p(1 − p)), cancels the sigmoid's slope exactly, which is why the gradient in the logits "
         "is simply (σ(l) − t)/B.")
def bce_through_the_sigmoid_again(logits, target):
    loss, dlogits = ops.bce_with_logits(logits, target)
    s = ops.sigmoid(logits)
    return loss, dlogits * s * (1.0 - s)


@mistake("bce_with_logits", BCE, "dlogits is (t − σ(l))/B: the sign is flipped.")
def bce_sign_flipped(logits, target):
    loss, dlogits = ops.bce_with_logits(logits, target)
    return loss, -dlogits


# ---------------------------------------------------------------------- the Gaussian latent
@mistake("kl_standard_normal", KL,
         "dlogvar is (e^logvar − 1)/B: the ½ of the KL's ½(μ² + e^logvar − 1 − logvar) is missing.")
def kl_missing_half(mu, logvar):
    kl, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    return kl, dmu, 2.0 * dlogvar


@mistake("kl_standard_normal", REDUCTION,
         "the KL and its gradients are summed over the batch: minivae averages every loss term over the "
         "examples, so the KL stays on the scale of the reconstruction (nats per example).")
def kl_summed_over_batch(mu, logvar):
    B = mu.shape[0]
    kl, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    return kl * B, dmu * B, dlogvar * B


@mistake("kl_standard_normal", KL,
         "σ = e^(logvar/2) is used where the variance σ² = e^logvar belongs, in the KL and its gradient.")
def kl_std_for_variance(mu, logvar):
    xp, B = array_module(mu), mu.shape[0]
    std = xp.exp(0.5 * logvar)
    return 0.5 * (mu * mu + std - 1.0 - logvar).sum() / B, mu / B, (std - 1.0) * (0.5 / B)


@mistake("kl_standard_normal", KL, "dlogvar is (1 − e^logvar)/(2B): its sign is flipped.")
def kl_dlogvar_sign_flipped(mu, logvar):
    kl, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    return kl, dmu, -dlogvar


@mistake("reparameterize_backward", REPARAM,
         "dlogvar uses σ² = e^logvar where σ = e^(logvar/2) belongs: z = μ + e^(logvar/2) ε, so "
         "dz/dlogvar = ½ e^(logvar/2) ε = ½ σ ε, with the σ the cache holds.")
def reparam_variance_for_std(dz, cache):
    return dz.copy(), dz * 0.5 * cache.std * cache.std * cache.eps


@mistake("reparameterize_backward", REPARAM,
         "dlogvar is dz · σ ε: the ½ from the exponent's logvar/2 is missing (d/dlogvar e^(logvar/2) = ½ e^(logvar/2)).")
def reparam_missing_half(dz, cache):
    return dz.copy(), dz * cache.std * cache.eps


@mistake("reparameterize_backward", REPARAM,
         "dlogvar is ½ dz σ: the noise ε is missing, though z depends on logvar only through σ ε.")
def reparam_without_eps(dz, cache):
    return dz.copy(), dz * 0.5 * cache.std


@mistake("reparameterize_backward", REPARAM, "dmu is dz · σ: but z = μ + σ ε, so dz/dμ = 1 and dmu = dz.")
def reparam_dmu_times_std(dz, cache):
    return dz * cache.std, dz * 0.5 * cache.std * cache.eps
