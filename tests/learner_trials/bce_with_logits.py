"""bce_with_logits: loss = (1/B) Σ softplus(l) − t l, dlogits = (σ(l) − t)/B."""
import numpy as np

from minivae.ops import sigmoid

from . import right, wrong

E = "bce_with_logits"


@right(E)
def with_logaddexp(logits, target):
    B = logits.shape[0]
    return np.sum(np.logaddexp(0, logits) - target * logits) / B, (sigmoid(logits) - target) / B


@right(E)
def rewritten_by_hand(logits, target):
    l, t = logits, target
    loss = (np.maximum(l, 0) - l * t + np.log1p(np.exp(-np.abs(l)))).sum() / len(l)
    p = np.where(l >= 0, 1 / (1 + np.exp(-np.abs(l))), np.exp(-np.abs(l)) / (1 + np.exp(-np.abs(l))))
    return loss, (p - t) / len(l)


@right(E)
def sigmoid_from_tanh(logits, target):
    B = len(logits)
    return (np.logaddexp(0, logits) - target * logits).sum() / B, (0.5 * (1 + np.tanh(logits / 2)) - target) / B


@right(E)
def from_log_sigmoids(logits, target):
    def log_sigmoid(a):
        return -np.logaddexp(0, -a)
    t = target
    loss = -(t * log_sigmoid(logits) + (1 - t) * log_sigmoid(-logits)).sum() / len(t)
    return loss, (sigmoid(logits) - t) / len(t)


@right(E)
def softplus_in_two_branches(logits, target):
    l = logits
    softplus = np.where(l > 0, l + np.log1p(np.exp(-l)), np.log1p(np.exp(l)))
    return (softplus - target * l).sum() / len(l), (sigmoid(l) - target) / len(l)


@wrong(E, "averaged over every entry, B·D", "1/D")
def mean_over_entries(logits, target):
    return np.mean(np.logaddexp(0, logits) - target * logits), (sigmoid(logits) - target) / logits.size


@wrong(E, "σ(−l) for σ(l) in the gradient")
def sigmoid_of_minus(logits, target):
    B = len(logits)
    return np.sum(np.logaddexp(0, logits) - target * logits) / B, (1 / (1 + np.exp(logits)) - target) / B


@wrong(E, "the loss not divided by B", "= B")
def loss_summed(logits, target):
    return np.sum(np.logaddexp(0, logits) - target * logits), (sigmoid(logits) - target) / len(logits)


@wrong(E, "the probabilities clipped to [1e-7, 1 − 1e-7] before the log")
def clipped(logits, target):
    p = np.clip(sigmoid(logits), 1e-7, 1 - 1e-7)
    loss = -(target * np.log(p) + (1 - target) * np.log(1 - p)).sum() / len(p)
    return loss, (sigmoid(logits) - target) / len(p)


@wrong(E, "the gradient divided by D instead of B", "B/D")
def gradient_over_D(logits, target):
    B, D = logits.shape
    return np.sum(np.logaddexp(0, logits) - target * logits) / B, (sigmoid(logits) - target) / D
