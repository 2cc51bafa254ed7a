"""The exercises above the ops: one Adam step, the two autoencoder penalties, the VAE's backward.

Three of these are methods in the library, not functions; their solutions are the thin
adapters of ``solutions.py``, which call the library's code.
"""
from __future__ import annotations

import numpy as np

from ..backend import get_backend
from ..gradcheck import _resolution_floor, numerical_gradient
from ..models import CVAE, VAE
from ..models.sparse import kl_sparsity
from .cases import H, SHAPES, TOL, WIDTHS, describe, generator, scalar_numeric, shapes, values
from .solutions import adam_step, contractive_penalty, vae_backward
from .calling import WrongUse, answer
from .spec import Case, Exercise, copy_args


# ---------------------------------------------------------------------- adam
ADAM_STEPS = 4


def _adam_cases():
    rng = generator("adam_step")
    settings = [(1e-3, 0.9, 0.999, 1e-8), (0.1, 0.5, 0.9, 1e-8), (0.01, 0.9, 0.999, 1e-3)]
    cases = []
    for i, shape in enumerate(SHAPES[1:]):
        lr, b1, b2, eps = settings[i % len(settings)]
        p = values(rng, shape, 1.0, 10.0)
        # gradients of very different sizes: bias correction and eps both show
        gs = values(rng, (ADAM_STEPS, *shape), 1.0) * 10.0 ** rng.integers(-6, 3, (1, *shape))
        fresh = i % 3 != 2
        s = {"m": np.zeros(shape), "v": np.zeros(shape), "t": 0} if fresh else \
            {"m": values(rng, shape, 0.1), "v": rng.uniform(0, 0.1, shape), "t": 7}
        cases.append(Case(f"p {shape}, lr = {lr:g}, betas = ({b1:g}, {b2:g}), eps = {eps:g}, "
                          f"{'a fresh state' if fresh else 'resumed at t = 7'}",
                          (p, gs, s), ("p", "g", "s"), None, {"p": p}, None, 1e-12,
                          {"lr": lr, "beta1": b1, "beta2": b2, "eps": eps}))
    return cases


def _run_adam(fn, case):
    """``ADAM_STEPS`` steps from the case's state: the path of p, and the final m, v and t.

    ``fn`` gets the arrays themselves, as an optimizer does, and after each step the
    checker looks at them: g must be as it was, ``p`` and ``s`` changed in place, not
    rebound to new objects the caller never sees, and nothing returned.
    """
    p, gs, s = copy_args(case.args)
    path = []
    for k, g in enumerate(gs):
        before = {"p": p.copy(), "s": copy_args(s)}
        seen = answer(fn, (p, g, s), case.kwargs, ("p", "g", "s"))
        step = f"on step {k + 1} of {ADAM_STEPS}"
        if seen.out is not None:
            raise WrongUse(f"returned a value {step}; adam_step must update p, s['m'] and s['v'] in place and "
                           "return nothing")
        if not np.array_equal(g, case.args[1][k], equal_nan=True):
            raise WrongUse(f"changed its argument g {step}: an optimizer reads the gradient and leaves it as it "
                           "was (g * g makes a new array; g *= g overwrites g)")
        for name, how in (("p", "p -= ..."), ("s", "s['m'] *= ..., s['t'] += 1")):
            if name in seen.rebound and _same({"p": p, "s": s}[name], before[name]):
                raise WrongUse(f"rebound {name} {step} ({name} = ...) instead of updating it in place ({how}): "
                               f"the new object never reaches the caller, whose {name} stays as it was")
        path.append(p.copy())
    return {"p": np.stack(path), "m": s["m"], "v": s["v"], "t": np.asarray(float(s["t"]))}


def _same(now, before):
    """Whether an argument holds what it held before the step (an array, or the state dict)."""
    if isinstance(now, dict):
        return now.keys() == before.keys() and all(_same(now[k], before[k]) for k in now)
    try:
        return np.array_equal(now, before, equal_nan=True)
    except TypeError:  # not numbers: something the learner put there
        return False


def _adam_moments(case):
    """The m and v that their own rules give after ``ADAM_STEPS`` steps from the case's state."""
    _, gs, s = case.args
    b1, b2 = case.kwargs["beta1"], case.kwargs["beta2"]
    m, v = s["m"], s["v"]
    for g in gs:
        m, v = b1 * m + (1.0 - b1) * g, b2 * v + (1.0 - b2) * g * g
    return m, v


def _adam_meaning(case, outs):
    """The step count, then m and v against their own rules, then the first step's size (fresh cases)."""
    t0 = case.args[2]["t"]
    if float(outs["t"]) != t0 + ADAM_STEPS:
        return f"s['t'] is {float(outs['t']):g} after {ADAM_STEPS} steps from t = {t0}: each step must add 1"
    rules = {"m": "m ← β₁·m + (1 − β₁)·g", "v": "v ← β₂·v + (1 − β₂)·g², with g² the square of the gradient"}
    for name, truth in zip(rules, _adam_moments(case)):
        mine = np.asarray(outs[name], np.float64)
        wrong = ~np.isclose(mine, truth, rtol=TOL, atol=0.0)
        if wrong.any():
            i = tuple(int(j) for j in np.argwhere(wrong)[0])
            return (f"s['{name}'] does not follow its rule {rules[name]}: after {ADAM_STEPS} steps s['{name}']"
                    f"{list(i)} is {mine[i]:.6g}, and the rule gives {truth[i]:.6g}")
    g, p0, kw = case.args[1][0], case.args[0], case.kwargs
    if t0 == 0:
        moved = np.abs(np.asarray(outs["p"])[0] - p0)
        big = np.abs(g) > 1e6 * kw["eps"]
        if big.any() and np.abs(moved[big] - kw["lr"]).max() > 1e-3 * kw["lr"]:
            i = tuple(int(j) for j in np.argwhere(big)[np.argmax(np.abs(moved[big] - kw["lr"]))])
            return (f"on the first step from m = v = 0, every coordinate with |g| ≫ eps moves by "
                    f"lr = {kw['lr']:g}, whatever the size of its gradient (m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps)); "
                    f"p{list(i)} moved by {moved[i]:.6g}")
    return None


# ---------------------------------------------------------------------- the two penalties
def _sparsity_cases(variant=0):
    rng = generator("kl_sparsity", variant)
    cases = []
    for i, shape in enumerate(shapes(variant)):
        rho, beta = (0.05, 3.0) if i % 2 else (0.3, 0.5)
        h = 1.0 / (1.0 + np.exp(-values(rng, shape, 2.0)))
        cases.append(_sparsity_case(h, rho, beta))
    return cases + [_sparsity_case(np.full((4, 3), 0.2), 0.2, 1.0)]


def _sparsity_case(h, rho, beta):
    num, floor = scalar_numeric(lambda a: kl_sparsity(a, rho, beta)[0], [h], {"dh": 0})
    return Case(describe(h=h) + f", rho = {rho:g}, beta = {beta:g}", (h, rho, beta), ("h", "rho", "beta"),
                h.shape[0], {"h": h}, num, floor)


def _sparsity_meaning(case, outs):
    """P is never negative and is 0 where every mean activation is rho; dh is the same in every row."""
    P, dh = float(outs["P"]), np.asarray(outs["dh"])
    h, rho = case.args[0], case.args[1]
    if P < -1e-12:
        return f"P is {P:.4g}: a KL divergence is never negative"
    if np.allclose(h.mean(axis=0), rho, rtol=1e-12) and abs(P) > 1e-12:
        return f"P is {P:.4g} when every unit's mean activation equals rho, where the penalty is 0"
    if (dh != dh[:1]).any():
        return "dh must be the same for every example (row): each one moves the mean activation by 1/B"
    return None


def _contractive_cases(variant=0):
    rng = generator("contractive_penalty", variant)
    cases = []
    for i, (B, J) in enumerate(shapes(variant)):
        m = (3, 5, 2, 4)[i % 4] if not variant else WIDTHS[variant][i]
        h = 1.0 / (1.0 + np.exp(-values(rng, (B, J), 2.0)))
        W = values(rng, (m, J))
        cases.append(_contractive_case(h, W, (0.1, 1.0, 2.5)[i % 3]))
    return cases + [_contractive_case(np.full((2, 3), 0.4), np.zeros((4, 3)), 1.0)]


def _contractive_case(h, W, lam):
    num, floor = scalar_numeric(lambda a, w: contractive_penalty(a, w, lam)[0], [h, W], {"dh": 0, "dW": 1})
    return Case(describe(h=h, W=W) + f", lam = {lam:g}", (h, W, lam), ("h", "W", "lam"), h.shape[0], {"h": h},
                num, floor)


def _contractive_meaning(case, outs):
    """P is never negative, and 0 for W = 0."""
    P = float(outs["P"])
    if P < 0:
        return f"P is {P:.4g}: a sum of squares is never negative"
    if not case.args[1].any() and P != 0:
        return f"P is {P:.4g} for W = 0, where the code does not depend on its input at all and P is 0"
    return None


# ---------------------------------------------------------------------- the VAE
def _numpy_model(cls, *args, **kw):
    model = cls(*args, dtype="float64", **kw)
    return model if get_backend() == "numpy" else model.to("numpy")


def _vae_cases(variant=0):
    """Six models, VAE and CVAE; ``variant=1`` gives each another batch size, seed and input."""
    rng = generator("vae_backward", variant)
    configs = [
        (VAE, (5, (4,), 2), {"activation": "tanh"}, 3, False),
        (VAE, (4, (3,), 3), {"beta": 0.5, "likelihood": "gaussian", "sigma": 0.7, "activation": "softplus"}, 1,
         False),
        (VAE, (6, (5, 4), 2), {"beta": 2.0, "activation": "tanh"}, 4, False),
        (CVAE, (5, 3, (4,), 2), {"beta": 1.5, "activation": "sigmoid"}, 3, True),
        (VAE, (3, (), 2), {"beta": 0.25, "activation": "tanh"}, 5, False),
        (CVAE, (4, 2, (3,), 1), {"likelihood": "gaussian", "sigma": 0.4, "activation": "softplus"}, 1, True),
    ]
    cases = []
    for i, (cls, args, kw, B, labels) in enumerate(configs):
        i, B = i + 10 * variant, B + 2 * variant
        shift = {k: 0.3 * rng.normal(size=v.shape) for k, v in _numpy_model(cls, *args, seed=i, **kw).params.items()}
        x, eps = rng.uniform(size=(B, args[0])), rng.normal(size=(B, args[-1]))
        y = rng.integers(0, args[1], B) if labels else None

        def build(cls=cls, args=args, kw=kw, i=i, shift=shift):
            model = _numpy_model(cls, *args, seed=i, **kw)
            for k, p in model.params.items():  # move the posterior away from the prior
                p += shift[k]
            return model

        what = f"{cls.__name__}{args}, {', '.join(f'{k}={v!r}' for k, v in kw.items())}, B = {B}"
        floor = _resolution_floor(abs(build().loss(x, y, eps=eps)), H, TOL)
        cases.append(Case(what, (build, x, y, eps), ("model", "x", "y", "eps"), B, {},
                          _vae_numeric(build, x, y, eps), floor))
    return cases


def _vae_numeric(build, x, y, eps):
    def numeric():
        model = build()
        f = lambda: model.loss(x, y, eps=eps)  # noqa: E731
        return {f"grads[{k!r}]": numerical_gradient(f, p, H) for k, p in model.params.items()}

    return numeric


def _run_vae(fn, case):
    """Build the case's model, run its forward pass, and let ``fn`` do the backward."""
    build, x, y, eps = case.args
    model = build()

    def by_fn(*pieces):  # set on this model only, and taken off before fn sees the model
        del model._backward
        return fn(model, *pieces)

    model._backward = by_fn
    _, grads = model.loss_and_grads(x, y, eps=eps)
    if not isinstance(grads, dict):
        raise TypeError(f"vae_backward returned {type(grads).__name__}; it must return the gradients, "
                        "a dict keyed like model.params (model._collect_grads())")
    return {"grads": grads}


# ---------------------------------------------------------------------- the exercises
def _exercises():
    adam = Exercise(
        "adam_step", "p, g, s, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8",
        "§8 (Optimizers: SGD, momentum, Nesterov, Adam)",
        ("p", "m", "v", "t"), adam_step, "minivae/optim.py, Adam._update_reference (Adam._update is the same "
        "rule, faster)",
        "One Adam step for one parameter array: update p, s['m'], s['v'] in place and advance s['t'].",
        """Parameters
----------
p : array, any shape
    The parameter. Update it in place (``p -= ...``): an optimizer changes the arrays the
    model holds, it does not make new ones.
g : array, the shape of p
    Its gradient on this step.
s : dict
    What Adam remembers about p between steps: ``s["m"]`` and ``s["v"]`` (arrays of
    p's shape, the two running moments, zeros before the first step; update them in
    place too) and ``s["t"]`` (an int, the number of steps taken before this one:
    0 on the first call).
lr, beta1, beta2, eps : float
    η, β₁, β₂ and ε of §8.

Returns
-------
None
    Everything happens in place.

This is the rule of the library's ``Adam._update_reference`` as a function: the
exercise's unit is one parameter's step, the library's method also has ``self`` (which
holds lr, the betas and eps) and the parameter's name.""",
        _adam_cases, meanings=(_adam_meaning,), call=_run_adam)
    sparsity = Exercise(
        "kl_sparsity", "h, rho, beta", "§7.3 (Sparse: the KL penalty on the mean activation)", ("P", "dh"),
        kl_sparsity, "minivae/models/sparse.py, kl_sparsity",
        "The sparse autoencoder's penalty β Σ_j KL(ρ ‖ ρ̂_j) on a batch of sigmoid codes, and its gradient.",
        """Parameters
----------
h : array, shape (B, J), values in (0, 1)
    The code: sigmoid outputs, one row per example.
rho : float in (0, 1)
    The target mean activation ρ.
beta : float >= 0
    The penalty's weight β.

Returns
-------
P : float (or a 0-d array)
    β Σ_j KL(ρ ‖ ρ̂_j), with ρ̂_j = (1/B) Σ_b h_bj the mean activation of unit j: a
    property of the whole batch, added to the loss once (no further mean over b).
dh : array, shape (B, J)
    dP/dh.

(The library also clips ρ̂ a hair away from 0 and 1, which only matters when every
example saturates a unit; the checker never goes there.)""",
        _sparsity_cases, gradients=("dh",), meanings=(_sparsity_meaning,))
    contractive = Exercise(
        "contractive_penalty", "h, W, lam", "§7.4 (Contractive: the Frobenius norm of the Jacobian)",
        ("P", "dh", "dW"), contractive_penalty,
        "minivae/models/contractive.py, ContractiveAutoencoder._penalty",
        "The contractive penalty λ‖∂h/∂u‖²_F of a sigmoid code layer h = σ(u W + b), and its two gradients.",
        """Parameters
----------
h : array, shape (B, J), values in (0, 1)
    The code, the sigmoid layer's output.
W : array, shape (m, J)
    The weights of the code layer (stored (in, out), so column i feeds unit i).
lam : float >= 0
    λ.

Returns
-------
P : float (or a 0-d array)
    (λ/B) Σ_b Σ_i s_bi² w_i, with s = h(1 − h) and w_i = Σ_j W_ji²: per example,
    averaged over the batch.
dh : array, shape (B, J)
    dP/dh, with W held fixed.
dW : array, shape (m, J)
    dP/dW with h held fixed: the direct dependence through w_i.

In the library this is the method ``ContractiveAutoencoder._penalty`` (it finds W in the
model and adds dW to that layer's gradient); the exercise makes it a function of h, W and
λ.""",
        _contractive_cases, gradients=("dh", "dW"), meanings=(_contractive_meaning,))
    vae = Exercise(
        "vae_backward", "model, dout, z_cache, dmu_kl, dlogvar_kl",
        "§9.3 (The gradient of the whole negative ELBO through the network)", ("grads",), vae_backward,
        "minivae/models/vae.py, VAE._backward",
        "The whole VAE backward pass, from the loss's gradient to every parameter, given the pieces.",
        """``model.loss_and_grads(x, eps=eps)`` runs the forward pass and then calls this function
(yours, in ``exercises train``) to run the backward pass.

Parameters
----------
model : VAE (or CVAE)
    Its blocks have run their forward pass and hold their caches:
    ``model.decoder``, ``model.encoder`` and the two heads ``model.blocks["mu"]``,
    ``model.blocks["logvar"]``. Each block's ``backward(dy)`` returns the gradient for its
    input and stores its parameters' gradients (``model.encoder.backward(dh,
    need_input_grad=False)`` skips the data's gradient, which nobody needs).
    ``model.beta`` weighs the KL; ``model.latent_dim`` is J.
dout : array, shape (B, D)
    dL/d(decoder output), from the reconstruction loss (it carries the 1/B).
z_cache : ReparamCache
    The cache of ``ops.reparameterize(mu, logvar, eps)`` (fields std and eps, (B, J)).
dmu_kl, dlogvar_kl : arrays, shape (B, J)
    The KL's own gradients, from ``ops.kl_standard_normal(mu, logvar)`` (not yet
    weighted by beta).

Returns
-------
grads : dict
    ``model._collect_grads()`` once every block's backward has run: the gradient of each
    parameter, keyed like ``model.params``.

Call ``ops.reparameterize_backward`` from the library (``exercises train`` swaps yours in
there once it passes). A CVAE's decoder also reads the labels: the gradient it returns
has J + n_classes columns, and only the first J belong to z.""",
        _vae_cases, gradients=("grads",), call=_run_vae)
    return [adam, sparsity, contractive, vae]


EXERCISES = _exercises()
