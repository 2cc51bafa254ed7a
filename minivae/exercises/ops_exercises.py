"""The exercises on the ops: the dense layer, three activations, two losses, the Gaussian latent.

Each solution is the library's own function, called (never a copy), so a fix to the
library is a fix to the answer key.
"""
from __future__ import annotations

import numpy as np

from .. import ops
from .cases import WIDTHS, activation_cases, describe, generator, pair_numeric, scalar_numeric, shapes, values
from .spec import Case, Exercise

# ---------------------------------------------------------------------- meanings


def _exact_relu(case, outs):
    """dx is exactly 0 where x < 0 and exactly dout where x > 0."""
    x, dout, dx = case.arrays["x"], case.arrays["dout"], np.asarray(outs["dx"])
    if not (dx[x < 0] == 0).all():
        return "dx must be exactly 0 where x < 0: a ReLU that is off passes no gradient at all"
    if not (dx[x > 0] == dout[x > 0]).all():
        return "dx must be exactly dout where x > 0: there the ReLU is the identity"
    return None


def _sigmoid_bound(case, outs):
    """dx is finite and |dx| ≤ |dout|/4."""
    dx, dout = np.asarray(outs["dx"]), case.arrays["dout"]
    if not np.isfinite(dx).all():
        return "dx must be finite even where the sigmoid saturates (σ(x) = 0 or 1 exactly)"
    if (np.abs(dx) > np.abs(dout) / 4 * (1 + 1e-12)).any():
        return "|dx| must be at most |dout| / 4: the sigmoid's slope σ(1 − σ) never exceeds 1/4"
    return None


def _tanh_bound(case, outs):
    """|dx| ≤ |dout|."""
    if (np.abs(np.asarray(outs["dx"])) > np.abs(case.arrays["dout"]) * (1 + 1e-12)).any():
        return "|dx| must be at most |dout|: tanh's slope 1 − tanh² never exceeds 1"
    return None


def _mse_meaning(case, outs):
    """the loss is never negative, and it and dpred are 0 where pred = target."""
    pred, target = case.args
    loss = float(outs["loss"])
    if loss < 0:
        return f"the loss is {loss:.4g}, below 0: a sum of squares never is"
    if np.array_equal(pred, target) and (loss != 0 or np.any(np.asarray(outs["dpred"]) != 0)):
        return "when pred equals target, the loss and its gradient must both be exactly 0"
    return None


def _bce_meaning(case, outs):
    """the loss and dlogits are finite for any logit, and the loss is never negative for 0/1 targets."""
    loss, d = float(outs["loss"]), np.asarray(outs["dlogits"])
    if not (np.isfinite(loss) and np.isfinite(d).all()):
        return (f"the loss or its gradient is not finite for logits up to {np.abs(case.args[0]).max():g}: "
                "compute softplus(l) − t·l stably, never log(σ(l))")
    t = case.args[1]
    if np.isin(t, (0.0, 1.0)).all() and loss < 0:
        return f"the loss is {loss:.4g} for 0/1 targets: a cross-entropy of binary data is never negative"
    return None


def _kl_meaning(case, outs):
    """the KL is never negative, and 0 at mu = 0, logvar = 0."""
    mu, logvar = case.args
    kl = float(outs["kl"])
    if kl < 0:
        return f"the KL is {kl:.4g}: a KL divergence is never negative"
    if not (mu.any() or logvar.any()) and kl != 0:
        return f"the KL is {kl:.4g} at mu = 0, logvar = 0, where q is N(0, 1) itself and the KL is 0"
    return None


def _reparam_meaning(case, outs):
    """dmu is dz itself, and dlogvar is ½·dz·(z − mu)."""
    dz, logvar, eps = case.arrays["dz"], case.arrays["logvar"], case.arrays["eps"]
    if not np.array_equal(np.asarray(outs["dmu"]), dz):
        return "dmu must equal dz exactly: z = mu + sigma·eps moves one for one with mu"
    step = np.exp(0.5 * logvar) * eps  # z - mu: how far the sample landed from the mean
    if not np.allclose(np.asarray(outs["dlogvar"]), 0.5 * dz * step, rtol=1e-9, atol=0):
        return ("dlogvar must be ½·dz·(z − mu): logvar moves z only through its distance from the mean, "
                "sigma·eps, and d(sigma)/d(logvar) = sigma/2 since sigma = exp(logvar/2)")
    return None


# ---------------------------------------------------------------------- cases


def _dense_cases(variant=0):
    rng = generator("dense_backward", variant)
    cases = []
    for (B, n_in), n_out in zip(shapes(variant), WIDTHS[variant]):
        x, W, b = values(rng, (B, n_in), 2.0, 50.0), values(rng, (n_in, n_out)), values(rng, (n_out,))
        out, cache = ops.dense_forward(x, W, b)
        dout = rng.normal(size=out.shape)
        num, floor = pair_numeric(ops.dense_forward, [x, W, b], dout, {"dx": 0, "dW": 1, "db": 2})
        cases.append(Case(describe(x=x, W=W), (dout, cache), ("dout", "cache"), B, {"x": x, "dout": dout},
                          num, floor))
    return cases


def _loss_cases(name, loss, make, variant=0):
    """Cases ``(a, target)`` for a loss returning ``(value, d a)``; ``make(rng, shape)`` draws them."""
    rng = generator(name, variant)
    cases = []
    for shape in shapes(variant):
        a, t = make(rng, shape)
        cases.append(_loss_case(loss, a, t, numeric=True))
    return cases


def _loss_case(loss, a, t, numeric):
    grad = "dpred" if loss is ops.mse else "dlogits"
    first = "pred" if loss is ops.mse else "logits"
    num, floor = scalar_numeric(lambda p, q: loss(p, q)[0], [a, t], {grad: 0}) if numeric else (None, 1e-12)
    return Case(describe(**{first: a}), (a, t), (first, "target"), a.shape[0], {first: a}, num, floor)


def _mse_cases(variant=0):
    cases = _loss_cases("mse", ops.mse, lambda rng, s: (values(rng, s, 2.0, 10.0), values(rng, s, 2.0, 10.0)),
                        variant)
    same = generator("mse same").normal(size=(3, 4))
    return cases + [_loss_case(ops.mse, same, same.copy(), numeric=False)]


def _bce_cases(variant=0):
    def draw(rng, shape):
        t = rng.uniform(0, 1, shape)
        t[rng.random(shape) < 0.3] = 1.0
        return values(rng, shape, 3.0, 40.0), t

    cases = _loss_cases("bce_with_logits", ops.bce_with_logits, draw, variant)
    extreme = np.array([[1e4, -1e4, 800.0, -800.0], [40.0, -40.0, 0.0, 1e-9]])
    for t in (np.array([[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]]), np.full((2, 4), 0.3)):
        cases.append(_loss_case(ops.bce_with_logits, extreme, t, numeric=False))
    return cases


def _kl_cases(variant=0):
    rng = generator("kl_standard_normal", variant)
    cases = []
    for shape in shapes(variant):
        mu, logvar = values(rng, shape, 2.0, 1e3), values(rng, shape, 2.0, 10.0)
        cases.append(_kl_case(mu, logvar, numeric=True))
    zeros = np.zeros((2, 3))
    return cases + [_kl_case(zeros, zeros.copy(), numeric=False),
                    _kl_case(np.ones((2, 3)), np.array([[30.0, -30.0, 20.0], [-20.0, 1e-8, -1e-8]]), numeric=False)]


def _kl_case(mu, logvar, numeric):
    loss = lambda m, lv: ops.kl_standard_normal(m, lv)[0]  # noqa: E731
    num, floor = scalar_numeric(loss, [mu, logvar], {"dmu": 0, "dlogvar": 1}) if numeric else (None, 1e-12)
    return Case(describe(mu=mu, logvar=logvar), (mu, logvar), ("mu", "logvar"), mu.shape[0],
                {"mu": mu, "logvar": logvar}, num, floor)


def _reparam_cases(variant=0):
    rng = generator("reparameterize_backward", variant)
    cases = []
    for shape in shapes(variant) + ((2, 3),):
        mu, logvar, eps = values(rng, shape, 2.0, 1e3), values(rng, shape, 2.0, 10.0), rng.normal(size=shape)
        if len(cases) == len(shapes(variant)):  # the last: a huge and a tiny sigma
            logvar = np.array([[20.0, -20.0, 0.0], [-30.0, 30.0, 1.0]])
        z, cache = ops.reparameterize(mu, logvar, eps)
        dz = rng.normal(size=shape)
        num, floor = pair_numeric(ops.reparameterize, [mu, logvar, eps], dz, {"dmu": 0, "dlogvar": 1})
        cases.append(Case(describe(mu=mu, logvar=logvar), (dz, cache), ("dz", "cache"), shape[0],
                          {"logvar": logvar, "eps": eps, "dz": dz}, num, floor))
    return cases


# ---------------------------------------------------------------------- the exercises

_BACKWARD_OF = "The forward half comes from the library:\n\n    {forward}"
_NEW_ARRAYS = ("Every array it returns must be new: never return ``dout`` itself, and never\n"
               "write into an argument (the caller still needs them).")


def _activation(name, section, fn, forward, field, what, derivative, cases, meaning):
    return Exercise(
        name, "dout, cache", section, ("dx",), fn, f"minivae/ops/activations.py, {name}",
        f"The backward pass of {what}: dx = dout · f'(x).",
        f"""{_BACKWARD_OF.format(forward=f"out, cache = {forward.__name__}(x)")}

Parameters
----------
dout : array, shape (B, D)
    The upstream gradient dL/dout.
cache : {type(forward_cache(forward)).__name__}, a named tuple with one field
    {field}

Returns
-------
dx : array, the shape of dout
    {derivative}

{_NEW_ARRAYS}""", cases, gradients=("dx",), meanings=(meaning,))


def forward_cache(forward):
    """The cache ``forward`` returns for a small input (to name its type in a docstring)."""
    return forward(np.zeros((1, 1)))[1]


def _exercises():
    dense = Exercise(
        "dense_backward", "dout, cache", "§1 (The dense layer)", ("dx", "dW", "db"), ops.dense_backward,
        "minivae/ops/dense.py, dense_backward",
        "The gradients of the dense layer out = x @ W + b.",
        f"""{_BACKWARD_OF.format(forward="out, cache = dense_forward(x, W, b)")}

Parameters
----------
dout : array, shape (B, out)
    The upstream gradient dL/dout (it already carries the loss's 1/B).
cache : DenseCache, a named tuple with the fields
    x : array, shape (B, in), the layer's input;
    W : array, shape (in, out), its weights.

Returns
-------
dx : array, shape (B, in)
dW : array, shape (in, out)
db : array, shape (out,)

The library's version also takes ``need_dx=`` and ``out=``, two speed-ups a training loop
uses (skip dx for the first layer, write into buffers); this exercise leaves them out.""",
        _dense_cases, gradients=("dx", "dW", "db"))
    relu = _activation(
        "relu_backward", "§3.1 (ReLU)", ops.relu_backward, ops.relu_forward,
        "x : array, shape (B, D), the activation's input.", "ReLU, f(x) = max(x, 0)",
        "dout where x > 0, and 0 where x < 0 (at the kink x = 0, take 0).",
        lambda variant=0: activation_cases("relu_backward", ops.relu_forward, big=50.0, gap=1e-2, variant=variant),
        _exact_relu)
    sigmoid = _activation(
        "sigmoid_backward", "§3.3 (Sigmoid)", ops.sigmoid_backward, ops.sigmoid_forward,
        "out : array, shape (B, D), the activation's OUTPUT σ(x) (not x).", "the sigmoid σ(x) = 1/(1 + e^-x)",
        "dout times the sigmoid's slope at x, written with the cached output.",
        lambda variant=0: activation_cases("sigmoid_backward", ops.sigmoid_forward, big=30.0,
                                 edges=([[800.0, -800.0, 0.0], [40.0, -40.0, 1e-3]],), variant=variant),
        _sigmoid_bound)
    tanh = _activation(
        "tanh_backward", "§3.4 (Tanh)", ops.tanh_backward, ops.tanh_forward,
        "out : array, shape (B, D), the activation's OUTPUT tanh(x) (not x).", "tanh",
        "dout times tanh's slope at x, written with the cached output.",
        lambda variant=0: activation_cases("tanh_backward", ops.tanh_forward, big=20.0,
                                 edges=([[800.0, -800.0, 0.0], [20.0, -20.0, 1e-3]],), variant=variant),
        _tanh_bound)
    mse = Exercise(
        "mse", "pred, target", "§4.1 (Mean squared error)", ("loss", "dpred"), ops.mse,
        "minivae/ops/losses.py, mse",
        "The squared error, summed over the features and averaged over the batch, and its gradient.",
        """Parameters
----------
pred : array, shape (B, D)
target : array, shape (B, D)

Returns
-------
loss : float (or a 0-d array)
    (1/B) Σ_b Σ_d (pred_bd − target_bd)²: the library's one reduction (§0, "The one
    reduction"): sum over the features of an example, mean over the examples.
dpred : array, shape (B, D)
    dloss/dpred, for exactly that loss.""",
        _mse_cases, gradients=("dpred",), meanings=(_mse_meaning,))
    bce = Exercise(
        "bce_with_logits", "logits, target", "§4.2 (Binary cross-entropy with logits)", ("loss", "dlogits"),
        ops.bce_with_logits, "minivae/ops/losses.py, bce_with_logits",
        "The binary cross-entropy computed from logits, and its gradient; stable for any finite logit.",
        """Parameters
----------
logits : array, shape (B, D)
    Any finite numbers: a logit of ±10000 must give a finite loss and gradient.
target : array, shape (B, D), values in [0, 1]

Returns
-------
loss : float (or a 0-d array)
    (1/B) Σ_b Σ_d −[t log σ(l) + (1 − t) log(1 − σ(l))], summed over the features and
    averaged over the batch. Rewrite it first: computed as written, log(σ(l)) is log(0)
    for a large negative logit.
dlogits : array, shape (B, D)
    dloss/dlogits.

The library's version also takes ``check_target=`` (skip the [0, 1] check of the
targets, done once per fit); this exercise leaves it out. ``ops.sigmoid`` (stable) is
yours to use.""",
        _bce_cases, gradients=("dlogits",), meanings=(_bce_meaning,))
    kl = Exercise(
        "kl_standard_normal", "mu, logvar", "§5.1 (KL divergence between N(μ, σ²) and N(0, 1))",
        ("kl", "dmu", "dlogvar"), ops.kl_standard_normal, "minivae/ops/gaussian.py, kl_standard_normal",
        "The KL divergence from N(mu, exp(logvar)) to N(0, 1), averaged over the batch, and both gradients.",
        """Parameters
----------
mu : array, shape (B, J)
    The means of q(z | x), one row per example.
logvar : array, shape (B, J)
    log σ² of q(z | x): σ² = exp(logvar), σ = exp(logvar / 2).

Returns
-------
kl : float (or a 0-d array)
    Summed over the J latent dimensions, averaged over the B examples.
dmu : array, shape (B, J)
dlogvar : array, shape (B, J)""",
        _kl_cases, gradients=("dmu", "dlogvar"), meanings=(_kl_meaning,))
    reparam = Exercise(
        "reparameterize_backward", "dz, cache", "§5.2 (The reparameterization trick)", ("dmu", "dlogvar"),
        ops.reparameterize_backward, "minivae/ops/gaussian.py, reparameterize_backward",
        "The gradients of z = mu + exp(logvar / 2) · eps with respect to mu and logvar.",
        f"""{_BACKWARD_OF.format(forward="z, cache = reparameterize(mu, logvar, eps)")}

Parameters
----------
dz : array, shape (B, J)
    The upstream gradient dL/dz.
cache : ReparamCache, a named tuple with the fields
    std : array, shape (B, J), σ = exp(logvar / 2), as the forward computed it;
    eps : array, shape (B, J), the standard normal noise ε.

Returns
-------
dmu : array, shape (B, J)
    A new array (the VAE adds the KL's gradient into it).
dlogvar : array, shape (B, J)""",
        _reparam_cases, gradients=("dmu", "dlogvar"), meanings=(_reparam_meaning,))
    return [dense, relu, sigmoid, tanh, mse, bce, kl, reparam]


EXERCISES = _exercises()
