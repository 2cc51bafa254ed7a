"""What a Gaussian likelihood with sigma_x = 1 does on the two data sets (derivations §9.2).

A code that carries nothing decodes every z to the average image and pays half the
average image's squared error, E||x - mean(x)||^2 / 2, in nats; with a linear decoder a
latent direction is worth its KL only along a principal direction whose variance exceeds
sigma_x^2 (Tipping and Bishop, 1999). This script prints both numbers for the 8x8 digits
(D = 64) and the MNIST subset (D = 784), then trains a VAE at sigma_x = 1 on each and
prints its KL and how many latent dimensions are active (Var over the data of mu_j above
0.01, Burda et al., 2016).

    python benchmarks/sigma_x.py              # digits: 64-64-8, 300 epochs; MNIST: 784-400-8, 10 epochs
    python benchmarks/sigma_x.py --quick      # fewer epochs and a smaller MNIST network

Measured on the 2-core AMD EPYC VM named in the README (busy with other jobs, which
changes the time, not the numbers): digits 4.7, largest variance 0.70, KL 0.002 nats
after 300 epochs, 0 of 8 active; MNIST 52.8 (median 49.7), 12 directions above 1
(largest 5.2), KL 6.1 nats after 10 epochs, 8 of 8 active (5.8 after 30 epochs).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from minivae import VAE, Adam, to_numpy  # noqa: E402
from minivae.datasets import load_digits, load_mnist_subset  # noqa: E402

ACTIVE = 0.01  # Var_x(mu_j) above this: dimension j is used


def average_image_error(X):
    """Each image's squared distance to the average image, ``||x - mean(x)||^2``, shape (N,)."""
    X = np.asarray(X, dtype=np.float64)
    return ((X - X.mean(axis=0)) ** 2).sum(axis=1)


def direction_variances(X):
    """The variances of the data along its principal directions, largest first (they sum to
    the mean of :func:`average_image_error`)."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    return np.linalg.eigvalsh(Xc.T @ Xc / X.shape[0])[::-1]


def train_and_measure(X, hidden_dims, latent_dim, epochs, *, sigma=1.0, seed=0):
    """Train a Gaussian-likelihood VAE; return ``(kl, active)``: its mean KL in nats per
    example on ``X`` and the number of latent dimensions whose mu varies over ``X``."""
    model = VAE(X.shape[1], hidden_dims, latent_dim, likelihood="gaussian", sigma=sigma, seed=seed)
    model.fit(X, epochs=epochs, batch_size=128, optimizer=Adam(1e-3), verbose=False)
    mu, logvar = (to_numpy(a).astype(np.float64) for a in model.encode(X))
    kl = 0.5 * (mu ** 2 + np.expm1(logvar) - logvar).sum(axis=1).mean()
    return float(kl), int((mu.var(axis=0) > ACTIVE).sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="digits 100 epochs; MNIST 784-64-8 for 3 epochs (a few seconds)")
    args = parser.parse_args(argv)
    runs = [("8x8 digits", load_digits, (64,), 100 if args.quick else 300),
            ("MNIST subset", load_mnist_subset, (64,) if args.quick else (400,), 3 if args.quick else 10)]
    print("| data | D | average image's squared error: mean (median) | largest variance | "
          "directions above 1 | VAE | KL (nats) | active of 8 |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
    for name, load, hidden, epochs in runs:
        X, _ = load()
        err, lam = average_image_error(X), direction_variances(X)
        kl, active = train_and_measure(X, hidden, 8, epochs)
        print(f"| {name} | {X.shape[1]} | {err.mean():.1f} ({np.median(err):.1f}) | {lam[0]:.2f} | "
              f"{int((lam > 1).sum())} | {X.shape[1]}-{hidden[0]}-8, {epochs} epochs | {kl:.3g} | {active} |")


if __name__ == "__main__":
    main()
