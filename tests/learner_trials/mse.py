"""mse: loss = (1/B) Σ (pred − target)², dpred = 2 (pred − target) / B."""
import numpy as np

from . import right, wrong

E = "mse"


@right(E)
def plain(pred, target):
    d = pred - target
    B = pred.shape[0]
    return np.sum(d**2) / B, 2 * d / B


@right(E)
def mean_of_row_sums(pred, target):
    d = pred - target
    return np.mean(np.sum(d * d, axis=1)), 2.0 / len(pred) * d


@right(E)
def with_einsum(pred, target):
    d = pred - target
    return np.einsum("ij,ij->", d, d) / len(d), d * (2.0 / len(d))


@right(E)
def with_a_norm(pred, target):
    d = pred - target
    return np.linalg.norm(d) ** 2 / len(d), 2 * d / len(d)


@right(E)
def chained(pred, target):
    return ((pred - target) ** 2).sum(axis=1).mean(), (pred - target) * (2.0 / pred.shape[0])


@wrong(E, "dpred divided by every entry (B·D), the loss by B", "1/D")
def gradient_over_all_entries(pred, target):
    d = pred - target
    return np.sum(d**2) / len(d), 2 * d / d.size


@wrong(E, "the square root of the sum")
def root(pred, target):
    d = pred - target
    return np.sqrt(np.sum(d**2)) / len(d), 2 * d / len(d)


@wrong(E, "absolute errors (L1) instead of squares")
def absolute(pred, target):
    d = pred - target
    return np.abs(d).sum() / len(d), np.sign(d) / len(d)


@wrong(E, "loss and gradient both halved (the ½ of some textbooks)", "0.5")
def halved(pred, target):
    d = pred - target
    return np.sum(d**2) / (2 * len(d)), d / len(d)


@wrong(E, "the square of the sum")
def square_of_sum(pred, target):
    d = pred - target
    return d.sum() ** 2 / len(d), 2 * d.sum() * np.ones_like(d) / len(d)


@wrong(E, "the loss summed over the batch too", "= B")
def loss_not_averaged(pred, target):
    d = pred - target
    return np.sum(d**2), 2 * d / len(d)
