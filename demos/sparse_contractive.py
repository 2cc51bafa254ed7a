# %% [markdown]
# # Sparse and contractive autoencoders: two ways to shape the code
#
# A plain autoencoder is only asked to redraw its input. Whatever code does that
# job is accepted, even a messy one. Two classic variants add a second wish to the
# loss, a **penalty** on the code itself:
#
# - the **sparse** autoencoder wants each code unit to be *off most of the time*.
#   Every unit is a sigmoid, so its output lies in (0, 1) and its average over the
#   data is a firing rate. A KL penalty pulls each rate towards a small target ρ
#   (here 0.05): a unit should fire for a few kinds of stroke and stay quiet for the
#   rest;
# - the **contractive** autoencoder wants the code to *stay still when the input
#   wiggles*. It penalises ‖J‖²_F, the sum of the squared derivatives of every code
#   unit with respect to every pixel. Directions the reconstruction needs will still
#   move the code; every other direction gets flattened.
#
# We train three models with the same shape and the same starting weights: a plain
# autoencoder with a sigmoid code, a sparse one and a contractive one. Then we
# measure on held-out digits what each penalty was meant to change:
#
# 1. the histogram of code activations, and each unit's mean against ρ;
# 2. the Jacobian norm of the encoder, and how far the code moves when we add a
#    little Gaussian noise to the image;
# 3. what each penalty costs in reconstruction quality.
#
# Run it: `python demos/sparse_contractive.py` (a few seconds: all 1,797 of
# scikit-learn's 8×8 digits, 100 epochs), or with `--quick` (800 digits, a few
# epochs: what the tests run). The figures go to `out/sparse_contractive/`. In a notebook, run the cells,
# then `main(["--quick"])` or `main([])`.

# %%
import os
import sys
import time

import numpy as np
from matplotlib.figure import Figure

# the folder of this file, so that `_common` is found from any working directory
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)
from _common import figure_path, fit, headline, out_dir, parse_args  # noqa: E402

from minivae import Adam, Autoencoder, ContractiveAutoencoder, SparseAutoencoder, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402
from minivae.datasets import load_digits, train_test_split  # noqa: E402
from minivae.models.contractive import jacobian_norm  # noqa: E402

RHO = 0.05  # the sparse model's target firing rate
NOISE = 0.02  # standard deviation of the small input perturbation δ (pixels are in [0, 1])


# %% [markdown]
# ## 1. The data
#
# Rows of pixels in [0, 1]. A fifth of the images is kept aside, and every number
# below is measured on those held-out digits.

# %%
def load_data(quick):
    X, y = load_digits()  # 1,797 images of 8×8 pixels
    if quick:
        X, y = X[:800], y[:800]
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2, seed=0)
    return X_train, X_test


# %% [markdown]
# ## 2. Three models, one shape
#
# A single layer of sigmoid units between the pixels and the reconstruction:
# x → **h = σ(xW + b)** → x̂. This is the textbook shape for both variants (Ng's
# lecture notes on sparse autoencoders, and Rifai et al. 2011 for the contractive
# one). With no hidden layer in the encoder, the contractive penalty covers the
# Jacobian of the **whole** encoder, which is the quantity we measure later.
#
# The three models differ only in the penalty added to the reconstruction loss
# (BCE, in nats per image):
#
# | model        | loss                                              |
# | ---          | ---                                               |
# | plain        | BCE                                               |
# | sparse       | BCE + β Σ_j KL(ρ ‖ ρ̂_j), with ρ̂_j the batch mean of unit j |
# | contractive  | BCE + λ ‖∂h/∂x‖²_F, per image                      |

# %%
def make_models(input_dim, code_units, contraction, seed=0):
    shape = dict(hidden_dims=(), latent_dim=code_units, seed=seed)
    return {
        "plain": Autoencoder(input_dim, code_activation="sigmoid", **shape),
        "sparse": SparseAutoencoder(input_dim, sparsity=RHO, sparsity_weight=3.0, **shape),
        "contractive": ContractiveAutoencoder(input_dim, contraction=contraction, **shape),
    }


def train(models, X_train, epochs, lr=3e-3):
    for name, model in models.items():
        fit(model, X_train, what=f"{name} autoencoder", epochs=epochs, batch_size=64, optimizer=Adam(lr))


# %% [markdown]
# ## 3. How often does a code unit fire?
#
# `activations.png` pools the activations of every code unit on every held-out
# digit. The plain model's sigmoid units use the whole range between 0 and 1: a
# typical unit is partly on for most images. The sparse model's histogram is a tall
# spike near 0 with a thin tail: most units are silent on most images, and each one
# switches on for the few images it stands for. The vertical axis is logarithmic, so
# the tail stays visible next to the spike.
#
# The printout compares each unit's mean activation over the held-out digits with
# the target ρ. The KL penalty is flat near its minimum, so the rates end up close
# to ρ rather than exactly on it.

# %%
def activation_study(models, X_test, folder):
    codes = {name: to_numpy(models[name].encode(X_test)).astype(np.float64) for name in ("plain", "sparse")}
    plots.histogram({f"{name} autoencoder": H for name, H in codes.items()}, bins=40, density=True, log=True,
                    xlabel="activation of a code unit (sigmoid output)",
                    path=figure_path(folder, "activations.png"),
                    title="Code activations on held-out digits")
    print(f"mean activation per code unit (target ρ = {RHO} for the sparse model):")
    stats = {}
    for name, H in codes.items():
        rates = H.mean(axis=0)  # ρ̂_j over the held-out digits, one per unit
        quiet = float((H < 0.1).mean())
        stats[name] = (float(rates.mean()), quiet)
        print(f"  {name:<7} mean {rates.mean():.3f}   units from {rates.min():.3f} to {rates.max():.3f}   "
              f"activations below 0.1: {100 * quiet:.0f}%")
        headline(f"{name}, mean code activation", float(rates.mean()))
    return stats


# %% [markdown]
# ## 4. How fast does the code move with the input?
#
# Two measurements of the same idea, on held-out digits:
#
# - **‖J‖²_F**, the squared Frobenius norm of the encoder's Jacobian: the sum over
#   code units k and pixels d of (∂h_k/∂x_d)². It is computed exactly, by the chain
#   rule (`jacobian_norm` works for any model of the family);
# - a **direct experiment**: add small Gaussian noise δ to each image (standard
#   deviation 0.02 per pixel) and measure ‖h(x + δ) − h(x)‖ / ‖δ‖, the distance the
#   code moved per unit of distance the image moved.
#
# The two agree: for small δ, h(x + δ) − h(x) ≈ Jδ, and for random δ in D pixels the
# ratio is about ‖J‖_F / √D. This is the link the contractive penalty relies on:
# shrink ‖J‖_F and noise in the image moves the code less.
#
# `jacobian.png` shows both measurements as bars. Look at the sparse model too: its
# units sit on the flat part of the sigmoid most of the time, so it is also fairly
# contractive, as a side effect.

# %%
def sensitivity(model, X, noise=NOISE, seed=0):
    """Mean of ‖h(x + δ) − h(x)‖ / ‖δ‖ over the rows of X, with δ ~ N(0, noise² I)."""
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)
    delta = rng.normal(0.0, noise, size=X.shape)
    H = to_numpy(model.encode(X.astype(np.float32))).astype(np.float64)
    H_moved = to_numpy(model.encode((X + delta).astype(np.float32))).astype(np.float64)
    return float((np.linalg.norm(H_moved - H, axis=1) / np.linalg.norm(delta, axis=1)).mean())


def jacobian_study(models, X_test, folder):
    D = X_test.shape[1]
    rows = {}
    print(f"{'model':<13}{'‖J‖²_F':>10}{'code moved / input moved':>27}{'‖J‖_F / √D':>13}")
    for name, model in models.items():
        J2 = jacobian_norm(model, X_test)
        ratio = sensitivity(model, X_test)
        rows[name] = (J2, ratio)
        print(f"{name:<13}{J2:>10.3f}{ratio:>27.4f}{np.sqrt(J2 / D):>13.4f}")
    for name, (J2, ratio) in rows.items():
        headline(f"{name}, encoder ‖J‖²_F", J2)
        headline(f"{name}, code moved per unit of input moved", ratio)
    fig = Figure(figsize=(7.0, 3.0), layout="constrained")
    names = list(rows)
    colors = [f"C{k}" for k in range(len(names))]
    for k, (label, column) in enumerate([("encoder ‖J‖²_F (mean per image)", 0),
                                         (f"‖h(x+δ) − h(x)‖ / ‖δ‖, δ ~ N(0, {NOISE}²)", 1)]):
        ax = fig.add_subplot(1, 2, k + 1)
        values = [rows[n][column] for n in names]
        ax.bar(names, values, color=colors)
        for i, v in enumerate(values):
            ax.annotate(f"{v:.3g}", (i, v), ha="center", va="bottom", fontsize=8)
        ax.set_title(label, fontsize=9)
        ax.set_ylim(0, 1.15 * max(values))
    fig.suptitle("How much the code moves when the input moves (held-out digits)")
    fig.savefig(figure_path(folder, "jacobian.png"), dpi=100)
    return rows


# %% [markdown]
# ## 5. The price of each penalty
#
# A penalty is a second wish, and the reconstruction pays for it. The table gives the
# held-out reconstruction error (BCE, nats per image) of each model, and
# `reconstructions.png` puts the three reconstructions under the same digits. The
# differences are small to the eye: the penalties change *how* the code stores a
# digit much more than *how well*. Compare the two penalties here: they end with
# similar Jacobian norms, but the sparse model, which also had to silence most of
# its units, usually pays more nats for it than the contractive one.

# %%
def reconstruction_study(models, X_test, folder):
    errors = {name: float(to_numpy(m.reconstruction_error(X_test)).mean()) for name, m in models.items()}
    for name, e in errors.items():
        headline(f"{name}, held-out reconstruction error", e, "nats per image")
    rows = [("original", X_test[:10])] + [(name, to_numpy(m.reconstruct(X_test[:10]))) for name, m in models.items()]
    plots.reconstructions(rows=rows, path=figure_path(folder, "reconstructions.png"),
                          title="Plain, sparse and contractive reconstructions (held-out digits)")
    return errors


# %% [markdown]
# ## Run everything

# %%
def main(argv=None):
    args = parse_args("Sparse and contractive autoencoders: activation histograms and Jacobian norms.", argv)
    folder = out_dir(args, "sparse_contractive")
    start = time.perf_counter()
    code_units, contraction = 32, 0.3  # λ = 0.3: ‖J‖²_F is a few units, the BCE about 20 nats per image
    epochs = 15 if args.quick else 100

    X_train, X_test = load_data(args.quick)
    print(f"{len(X_train)} training images, {len(X_test)} held out, {X_train.shape[1]} pixels each; "
          f"{code_units} sigmoid code units")
    models = make_models(X_train.shape[1], code_units, contraction)
    train(models, X_train, epochs)

    activation = activation_study(models, X_test, folder)
    jacobian = jacobian_study(models, X_test, folder)
    errors = reconstruction_study(models, X_test, folder)

    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return {"activation": activation, "jacobian": jacobian, "reconstruction": errors}


if __name__ == "__main__":
    main()
