# %% [markdown]
# # Anomaly detection: a model that has never seen a 7
#
# An autoencoder gets good at redrawing the kind of images it was trained on, and only
# those. That gives a detector for free: show it something new, and it draws it badly.
# No labels of "anomalies" are needed to build it, only examples of what is normal.
#
# The experiment. We pretend that the digit **7** never appears in normal operation:
# we train on images of 0–6, 8 and 9 only. Then we score images the models have not
# seen, normal held-out digits and every 7 in the data set, with two numbers:
#
# - the **autoencoder's reconstruction error**, the BCE between an image and its
#   reconstruction (nats; higher means "I could not redraw this");
# - the **VAE's negative ELBO** (and its sharper cousin, the importance-weighted
#   estimate of −log p(x)): how improbable the image is under the generative model.
#   It adds to the reconstruction a KL term: how unusual the image's code is.
#
# A good score ranks the 7s above the normal digits. The ROC curve shows every
# threshold at once, and its area (AUC) is the chance that a random 7 scores higher
# than a random normal digit: 0.5 is guessing, 1 is perfect.
#
# Run it: `python demos/anomaly_detection.py` (about ten seconds on a laptop), or with
# `--quick` (a few seconds). The figures go to `out/anomaly_detection/`. In a notebook, call
# `main(["--quick"])` after running the cells.

# %%
import os
import sys
import time

import numpy as np
from matplotlib.figure import Figure

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import figure_path, fit, headline, out_dir, parse_args  # noqa: E402

from minivae import VAE, Adam, Autoencoder, plots, to_numpy  # noqa: E402
from minivae.datasets import load_digits, train_test_split  # noqa: E402

ANOMALY = 7  # the digit the models never see during training


# %% [markdown]
# ## 1. Normal data for training, a mix for testing
#
# The training set holds no 7 at all. The test pool holds the held-out normal digits
# (label 0) and all the 7s (label 1): none of them was used in training.

# %%
def make_data(anomaly=ANOMALY, seed=0):
    """Training images without ``anomaly``; a test pool of unseen normal digits and every ``anomaly``."""
    X, y = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=seed)
    X_normal = X_train[y_train != anomaly]
    X_pool = np.concatenate([X_test[y_test != anomaly], X[y == anomaly]])
    digit_pool = np.concatenate([y_test[y_test != anomaly], y[y == anomaly]])
    is_anomaly = (digit_pool == anomaly).astype(np.int64)
    return X_normal, X_pool, digit_pool, is_anomaly


# %% [markdown]
# ## 2. Two models of "normal"
#
# Both see the same normal images. The autoencoder squeezes them through 8 numbers;
# the VAE learns a distribution over 8-dimensional codes and a decoder from codes to
# pixel probabilities.

# %%
def train_models(X_normal, epochs, seed=0, without=7):
    ae = Autoencoder(64, hidden_dims=(32,), latent_dim=8, seed=seed)
    fit(ae, X_normal, what=f"AE without {without}s", epochs=epochs, batch_size=64, optimizer=Adam(3e-3))
    vae = VAE(64, hidden_dims=(64,), latent_dim=8, seed=seed)
    fit(vae, X_normal, what=f"VAE without {without}s", epochs=epochs, batch_size=64, optimizer=Adam(3e-3))
    return ae, vae


def anomaly_scores(ae, vae, X, n_samples):
    """Three scores per image, higher = more anomalous (all in nats)."""
    return {
        "AE reconstruction error": to_numpy(ae.reconstruction_error(X)),
        "VAE −ELBO": -to_numpy(vae.elbo(X, n_samples=10)),
        f"VAE −log p(x) (K={n_samples})": -to_numpy(vae.log_likelihood(X, n_samples=n_samples)),
    }


# %% [markdown]
# ## 3. ROC curves and their areas
#
# Look at `roc.png`: each curve climbs steeply at first when the highest scores are
# nearly all 7s. `scores.png` shows why: the reconstruction errors of the 7s (orange)
# sit to the right of those of the normal digits, with some overlap; the overlap is
# where the detector makes its mistakes.

# %%
def roc_figures(scores, is_anomaly, folder):
    plots.roc_plot({name: (s, is_anomaly) for name, s in scores.items()},
                   path=figure_path(folder, "roc.png"),
                   title=f"Is it a {ANOMALY}? (trained without any)")
    s = scores["AE reconstruction error"]
    plots.histogram({"normal digits": s[is_anomaly == 0], f"{ANOMALY}s (anomalies)": s[is_anomaly == 1]},
                    bins=40, density=True, xlabel="AE reconstruction error (nats per image)",
                    path=figure_path(folder, "scores.png"), title="Anomaly scores")
    return {name: plots.roc_curve(s, is_anomaly)[2] for name, s in scores.items()}


# %% [markdown]
# ## 4. A threshold you can set without a single anomaly
#
# In practice we do not have labelled anomalies to draw a ROC curve. We can still
# pick a threshold from normal data alone: the 95th percentile of the training
# images' scores, so that about 5% of normal images raise a false alarm. How many
# 7s does that catch?

# %%
def threshold_from_normal(ae, X_normal, scores, is_anomaly, quantile=0.95):
    t = float(np.quantile(to_numpy(ae.reconstruction_error(X_normal)), quantile))
    flagged = scores["AE reconstruction error"] > t
    return t, float(flagged[is_anomaly == 1].mean()), float(flagged[is_anomaly == 0].mean())


# %% [markdown]
# ## 5. What the models find strangest, and most ordinary
#
# `most_least.png`: the top row shows the images with the highest VAE score, the
# bottom row those with the lowest, each titled with its true digit. Most of the top
# row should be 7s, but look for the normal digits among them: they are often badly
# written, and a human would call them odd too. The bottom row holds the images that
# are easiest to predict, mostly thin 1s with little ink: keep them in mind for part 6.
#
# `reconstructions.png`: the autoencoder redraws normal digits well, and redraws each
# 7 as something it knows: mostly a 9, whose top loop is closest to a 7's bar.

# %%
def example_figures(ae, X_pool, digit_pool, is_anomaly, score, folder, k=10):
    """Draw the ``k`` most and least anomalous images and some reconstructions; count 7s in the top 10."""
    order = np.argsort(-score)
    picks = np.concatenate([order[:k], order[::-1][:k]])
    titles = [f"{digit_pool[i]}: {score[i]:.0f}" for i in picks]
    plots.image_grid(X_pool[picks], ncols=k, titles=titles, path=figure_path(folder, "most_least.png"),
                     title="Highest VAE −ELBO (top) and lowest (bottom): digit: score")
    normal = X_pool[is_anomaly == 0][:k]
    odd = X_pool[is_anomaly == 1][:k]
    plots.reconstructions(rows=[("normal", normal), ("AE", to_numpy(ae.reconstruct(normal))),
                                (f"{ANOMALY}s", odd), ("AE", to_numpy(ae.reconstruct(odd)))],
                          n=k, path=figure_path(folder, "reconstructions.png"),
                          title=f"The autoencoder never saw a {ANOMALY}")
    return int(is_anomaly[order[:10]].sum())


# %% [markdown]
# ## 6. Does it work for every digit? (full run only)
#
# One digit is one anecdote. We repeat the experiment with each digit in turn as the
# anomaly. `auc_by_digit.png` holds the surprise: the **1** is nearly invisible
# (AUC near or even below 0.5). A 1 is a single stroke with little ink, so every
# model reconstructs it well even though it never saw one. A reconstruction score
# flags what is *hard to draw*, which is not always the same as *new*. Notice also
# that neither score wins for every digit: the VAE's extra KL term helps for some
# and hurts for others.

# %%
def auc_by_digit(epochs, folder, done=None):
    """``done``: {digit: (AE AUC, VAE AUC)} already measured (the 7s above), not trained again."""
    rows = []
    for digit in range(10):
        if done and digit in done:
            ae_auc, vae_auc = done[digit]  # the same data, seed and epochs: the same two models
        else:
            X_normal, X_pool, _, is_anomaly = make_data(anomaly=digit)
            ae, vae = train_models(X_normal, epochs, without=digit)
            ae_auc = plots.roc_curve(to_numpy(ae.reconstruction_error(X_pool)), is_anomaly)[2]
            vae_auc = plots.roc_curve(-to_numpy(vae.elbo(X_pool, n_samples=10)), is_anomaly)[2]
        rows.append((digit, ae_auc, vae_auc))
        print(f"    anomaly = {digit}:  AE {ae_auc:.3f}   VAE {vae_auc:.3f}", flush=True)
    rows = np.array(rows)
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(rows[:, 0] - 0.2, rows[:, 1], width=0.4, label="AE reconstruction error")
    ax.bar(rows[:, 0] + 0.2, rows[:, 2], width=0.4, label="VAE −ELBO")
    ax.axhline(0.5, color="0.4", linestyle=":", label="chance")
    ax.set_xticks(range(10))
    ax.set_xlabel("the digit left out of training (the anomaly)")
    ax.set_ylabel("ROC AUC")
    ax.set_ylim(0, 1.22)
    ax.set_yticks(np.arange(0, 1.01, 0.2))
    ax.legend(loc="upper center", ncol=3, fontsize=8, frameon=False)
    ax.set_title("Leave one digit out: how well is it detected?")
    fig.savefig(figure_path(folder, "auc_by_digit.png"), dpi=100)
    return rows


# %%
def main(argv=None):
    args = parse_args("Anomaly detection with an autoencoder and a VAE trained without one digit.", argv)
    folder = out_dir(args, "anomaly_detection")
    start = time.perf_counter()
    epochs, n_samples = (4, 10) if args.quick else (40, 100)

    X_normal, X_pool, digit_pool, is_anomaly = make_data()
    print(f"training on {len(X_normal)} images of every digit but {ANOMALY}; "
          f"testing on {int((is_anomaly == 0).sum())} unseen normal digits and {int(is_anomaly.sum())} {ANOMALY}s")
    ae, vae = train_models(X_normal, epochs, without=ANOMALY)
    scores = anomaly_scores(ae, vae, X_pool, n_samples)

    aucs = roc_figures(scores, is_anomaly, folder)
    print("ROC AUC (0.5 = guessing, 1 = perfect):")
    for name, auc in aucs.items():
        headline(f"AUC, {name}", auc)

    t, caught, false_alarms = threshold_from_normal(ae, X_normal, scores, is_anomaly)
    print(f"threshold = 95th percentile of the training errors ({t:.1f} nats):")
    headline(f"{ANOMALY}s flagged", 100 * caught, "%")
    headline("normal test digits flagged (false alarms)", 100 * false_alarms, "%")

    n_top = example_figures(ae, X_pool, digit_pool, is_anomaly, scores["VAE −ELBO"], folder,
                            k=5 if args.quick else 10)
    headline(f"{ANOMALY}s among the 10 highest VAE scores", n_top)

    if args.quick:
        print("(--quick: the leave-one-digit-out sweep is skipped)")
    else:
        print("leave one digit out, ROC AUC for each digit as the anomaly:")
        rows = auc_by_digit(epochs, folder, done={ANOMALY: (aucs["AE reconstruction error"], aucs["VAE −ELBO"])})
        worst = rows[np.argmin(rows[:, 1])]
        headline(f"hardest digit to detect: {int(worst[0])}, AE AUC", float(worst[1]))
    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return aucs


if __name__ == "__main__":
    main()
