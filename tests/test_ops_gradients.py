"""Gradient checks of every primitive: float64, central differences, random upstream gradient.

Run on NumPy, and on CuPy where it can run (the ``backend`` fixture).
"""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minivae import ops
from minivae.gradcheck import check_pair, check_scalar

from .strategies import batch, dims, matrices

TOL = 1e-6


def run_pair(put, fwd, bwd, *arrays, **kw):
    report = check_pair(fwd, bwd, *[put(a) for a in arrays], tol=TOL, **kw)
    report.assert_ok()


@given(data=st.data())
def test_dense(put, data):
    B, n_in, n_out = data.draw(dims), data.draw(dims), data.draw(dims)
    x = data.draw(matrices((B, n_in), 1e3))
    W = data.draw(matrices((n_in, n_out), 10.0))
    b = data.draw(matrices((n_out,), 1e3))
    run_pair(put, ops.dense_forward, ops.dense_backward, x, W, b, names=["x", "W", "b"])


# away from the kink: steps reach 2e-4 * max(1, |x|), so |x| > 1e-3 never crosses 0
@given(x=batch(away_from_zero=1e-3))
def test_relu(put, x):
    run_pair(put, ops.relu_forward, ops.relu_backward, x)


@given(x=batch(away_from_zero=1e-3), slope=st.floats(0.0, 0.5))
def test_leaky_relu(put, x, slope):
    run_pair(put, lambda v: ops.leaky_relu_forward(v, slope), ops.leaky_relu_backward, x)


@given(x=batch(max_magnitude=50.0))
def test_sigmoid(put, x):
    run_pair(put, ops.sigmoid_forward, ops.sigmoid_backward, x)


@given(x=batch(max_magnitude=50.0))
def test_tanh(put, x):
    run_pair(put, ops.tanh_forward, ops.tanh_backward, x)


@given(x=batch())
def test_softplus(put, x):
    run_pair(put, ops.softplus_forward, ops.softplus_backward, x)


@given(data=st.data())
def test_reparameterize(put, data):
    shape = (data.draw(dims), data.draw(dims))
    mu = data.draw(matrices(shape, 1e3))
    logvar = data.draw(matrices(shape, 10.0))
    eps = data.draw(matrices(shape, 4.0))
    run_pair(put, ops.reparameterize, ops.reparameterize_backward, mu, logvar, eps, wrt=[0, 1], names=["mu", "logvar"])


def _scalar_check(loss_fn, arrays, grads):
    check_scalar(lambda: loss_fn(*arrays.values()), arrays, grads, tol=TOL).assert_ok()


@given(data=st.data())
def test_mse(put, data):
    shape = (data.draw(dims), data.draw(dims))
    pred, target = put(data.draw(matrices(shape, 10.0))), put(data.draw(matrices(shape, 10.0)))
    _, dpred = ops.mse(pred, target)
    _scalar_check(lambda p, t: ops.mse(p, t)[0], {"pred": pred, "target": target}, {"pred": dpred})


@given(data=st.data())
def test_bce_with_logits(put, data):
    shape = (data.draw(dims), data.draw(dims))
    logits = put(data.draw(matrices(shape, 30.0)))
    target = put(data.draw(st.sampled_from([0.0, 1.0, 0.3]))
                 * np.ones(shape) if data.draw(st.booleans())
                 else np.random.default_rng(data.draw(st.integers(0, 99))).uniform(size=shape))
    _, dlogits = ops.bce_with_logits(logits, target)
    _scalar_check(lambda l, t: ops.bce_with_logits(l, t)[0], {"logits": logits, "target": target},
                  {"logits": dlogits})


@given(data=st.data())
def test_kl_standard_normal(put, data):
    shape = (data.draw(dims), data.draw(dims))
    mu, logvar = put(data.draw(matrices(shape, 10.0))), put(data.draw(matrices(shape, 5.0)))
    _, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    _scalar_check(lambda m, lv: ops.kl_standard_normal(m, lv)[0], {"mu": mu, "logvar": logvar},
                  {"mu": dmu, "logvar": dlogvar})


def test_gradcheck_catches_a_wrong_backward():
    """The checker itself can fail: a backward with a factor of 2 wrong is caught."""
    x = np.random.default_rng(0).normal(size=(4, 3))
    report = check_pair(ops.tanh_forward, lambda d, c: 2 * ops.tanh_backward(d, c), x, tol=TOL)
    assert not report.passed
    assert "x[" in str(report)  # named after tanh_forward's parameter
    assert "2 times the true one" in str(report)


def test_gradcheck_catches_a_transposed_dense_gradient():
    """A mistake that an all-ones upstream gradient could hide is caught with a random one."""
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)

    def wrong_backward(dout, cache):
        dx, dW, db = ops.dense_backward(dout, cache)
        return dx, dW.T, db

    assert not check_pair(ops.dense_forward, wrong_backward, x, W, b, tol=TOL).passed
