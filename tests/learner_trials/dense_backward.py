"""dense_backward: dx = dout Wᵀ, dW = xᵀ dout, db = Σ_b dout."""
import numpy as np

from . import right, wrong

E = "dense_backward"


@right(E)
def with_einsum(dout, cache):
    x, W = cache
    return np.einsum("bo,io->bi", dout, W), np.einsum("bi,bo->io", x, dout), np.einsum("bo->o", dout)


@right(E)
def one_example_at_a_time(dout, cache):
    x, W = cache
    dW, db = np.zeros_like(W), np.zeros(W.shape[1])
    for xb, db_row in zip(x, dout):
        dW += np.outer(xb, db_row)
        db += db_row
    return dout @ W.T, dW, db


@right(E)
def transposes_the_other_way(dout, cache):
    x, W = cache
    return (W @ dout.T).T, (dout.T @ x).T, np.ones(len(dout)) @ dout


@right(E)
def with_dot_and_reduce(dout, cache):
    return np.dot(dout, cache.W.T), np.dot(cache.x.T, dout), np.add.reduce(dout, axis=0)


@right(E)
def with_tensordot(dout, cache):
    x, W = cache
    return np.tensordot(dout, W, axes=(1, 1)), np.tensordot(x, dout, axes=(0, 0)), dout.sum(0, keepdims=True)[0]


@wrong(E, "dx = dout @ W, no transpose", "matrix product")
def dx_without_transpose(dout, cache):
    x, W = cache
    return dout @ W, x.T @ dout, dout.sum(axis=0)


@wrong(E, "db summed with keepdims=True: shape (1, out)", "keepdims")
def db_keepdims(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum(axis=0, keepdims=True)


@wrong(E, "dx divided by B", "1/B")
def dx_divided_by_B(dout, cache):
    x, W = cache
    return dout @ W.T / len(x), x.T @ dout, dout.sum(axis=0)


@wrong(E, "dW has W added (a weight decay that does not belong here)")
def dW_with_decay(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout + W, dout.sum(axis=0)


@wrong(E, "dx masked by x > 0, as if a ReLU followed", "where x < 0")
def dx_masked_like_relu(dout, cache):
    x, W = cache
    return (dout @ W.T) * (x > 0), x.T @ dout, dout.sum(axis=0)


@wrong(E, "db summed over every axis: a number", "summed")
def db_summed_over_everything(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout.sum()


@wrong(E, "db is the first row of dout only")
def db_first_row(dout, cache):
    x, W = cache
    return dout @ W.T, x.T @ dout, dout[0].copy()
