"""What the formulas MEAN: properties a gradient check cannot see.

A gradient check proves that a backward matches its forward; it cannot tell whether the
forward is the right formula. These tests pin the meaning: the std of ``z`` is
``exp(logvar / 2)``, the KL is a KL divergence, the BCE is a cross-entropy, the losses
use the library's one reduction (sum over features, mean over the batch), and nothing
overflows at extreme inputs.

Statistical tests use fixed seeds and a tolerance of 5 standard errors of the estimate
(the SE is computed from the same samples, or from the known distribution). For each,
the test also checks that the plausible wrong formula lies far outside that tolerance,
so the test has the power to catch it.
"""
import math
import warnings

import numpy as np
import pytest

from minivae import ops, to_numpy
from minivae.backend import Random
from minivae.gradcheck import check_pair, check_scalar
from minivae.init import init_weight

N_SIGMA = 5.0  # tolerance of every statistical test, in standard errors


def _f(a):
    """A 0-d array (NumPy or CuPy) as a Python float."""
    return float(to_numpy(a))


class _strict_floats:
    """Turn every RuntimeWarning into an error and make NumPy raise on overflow, invalid
    operations and division by zero. Underflow is left alone on purpose: ``exp(-1e4)``
    rounding to 0 is exactly what the stable formulas rely on."""

    def __enter__(self):
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("error")
        self._e = np.errstate(over="raise", invalid="raise", divide="raise")
        self._e.__enter__()

    def __exit__(self, *exc):
        self._e.__exit__(*exc)
        return self._w.__exit__(*exc)


# ---------------------------------------------------------------------------
# reparameterize
# ---------------------------------------------------------------------------

MU = np.array([2.0, -1.0, 0.0, 0.5, -3.0])
LOGVAR = np.array([-1.5, 1.5, 0.0, -3.0, 3.0])  # logvar = 0 is where exp(logvar) and exp(logvar/2) agree


def test_reparameterize_sample_std_is_exp_half_logvar_and_mean_is_mu(put):
    n = 200_000
    eps = np.random.default_rng(0).standard_normal((n, MU.size))
    z, _ = ops.reparameterize(put(np.tile(MU, (n, 1))), put(np.tile(LOGVAR, (n, 1))), put(eps))
    z = to_numpy(z)
    sigma = np.exp(LOGVAR / 2)
    # SE of a sample mean of N(mu, sigma^2) draws: sigma / sqrt(n);
    # SE of a sample std: sigma / sqrt(2 (n - 1)).
    se_mean = sigma / np.sqrt(n)
    se_std = sigma / np.sqrt(2 * (n - 1))
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - MU), N_SIGMA * se_mean)
    np.testing.assert_array_less(np.abs(z.std(axis=0, ddof=1) - sigma), N_SIGMA * se_std)
    # the trap: sigma = exp(logvar). Wherever logvar != 0 it is over 20 times the tolerance away.
    trap = np.exp(LOGVAR)
    away = LOGVAR != 0
    assert np.all(np.abs(trap - sigma)[away] > 20 * N_SIGMA * se_std[away])


def test_reparameterize_is_mu_plus_sigma_eps_elementwise(put):
    rng = np.random.default_rng(1)
    mu, logvar, eps = rng.normal(size=(3, 4)), rng.uniform(-4, 4, (3, 4)), rng.normal(size=(3, 4))
    z, cache = ops.reparameterize(put(mu), put(logvar), put(eps))
    np.testing.assert_allclose(to_numpy(z), mu + np.sqrt(np.exp(logvar)) * eps, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(to_numpy(cache.std), np.sqrt(np.exp(logvar)), rtol=1e-13)


def test_reparameterize_keeps_float32(put):
    a = np.ones((2, 3), np.float32)
    z, _ = ops.reparameterize(put(a), put(a), put(a))
    assert z.dtype == np.float32


def test_reparameterize_backward_dmu_is_a_copy():
    # documented: dmu is a copy of dz, so a caller may accumulate into it
    a = np.ones((2, 3))
    _, cache = ops.reparameterize(a, a, a)
    dz = np.arange(6.0).reshape(2, 3)
    dmu, _ = ops.reparameterize_backward(dz, cache)
    np.testing.assert_array_equal(dmu, dz)
    assert not np.shares_memory(dmu, dz)


# ---------------------------------------------------------------------------
# kl_standard_normal
# ---------------------------------------------------------------------------

def test_kl_is_nonnegative_on_random_inputs(put):
    rng = np.random.default_rng(2)
    for _ in range(20):
        B, J = rng.integers(1, 9, size=2)
        mu = rng.normal(0, 3, (B, J))
        logvar = rng.uniform(-10, 10, (B, J))
        assert _f(ops.kl_standard_normal(put(mu), put(logvar))[0]) >= 0.0
        # each example and each dimension alone, too
        for b in range(B):
            for j in range(J):
                sl = (slice(b, b + 1), slice(j, j + 1))
                assert _f(ops.kl_standard_normal(put(mu[sl]), put(logvar[sl]))[0]) >= 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kl_is_exactly_zero_at_the_prior(put, dtype):
    zeros = np.zeros((3, 4), dtype)
    kl, dmu, dlogvar = ops.kl_standard_normal(put(zeros), put(zeros))
    assert _f(kl) == 0.0
    assert not to_numpy(dmu).any() and not to_numpy(dlogvar).any()
    assert kl.dtype == dmu.dtype == dlogvar.dtype == dtype


def _gauss_logpdf(z, mean, std):
    return -0.5 * np.log(2 * np.pi) - np.log(std) - 0.5 * ((z - mean) / std) ** 2


def test_kl_equals_monte_carlo_estimate(put):
    mu = np.array([[0.5, -1.0, 1.5], [0.0, 2.0, -0.3]])
    logvar = np.array([[-1.5, 1.5, 0.0], [0.7, -0.4, 1.0]])
    B, J = mu.shape
    n = 200_000
    std = np.sqrt(np.exp(logvar))  # independent of the library's exp(logvar / 2)
    z = mu + std * np.random.default_rng(3).standard_normal((n, B, J))
    log_ratio = _gauss_logpdf(z, mu, std) - _gauss_logpdf(z, 0.0, 1.0)
    per_draw = log_ratio.sum(axis=2).mean(axis=1)  # sum over latent dims, mean over the batch
    estimate = per_draw.mean()
    se = per_draw.std(ddof=1) / np.sqrt(n)

    kl = _f(ops.kl_standard_normal(put(mu), put(logvar))[0])
    assert abs(kl - estimate) < N_SIGMA * se, (kl, estimate, se)

    # The plausible wrong formulas are all far outside the tolerance.
    def wrong_kl(expr):
        return float(expr.sum() / B)

    wrongs = {
        "no 1/2": wrong_kl(mu**2 + np.exp(logvar) - 1 - logvar),
        "sigma = exp(logvar)": wrong_kl(0.5 * (mu**2 + np.exp(2 * logvar) - 1 - 2 * logvar)),
        "no -1": wrong_kl(0.5 * (mu**2 + np.exp(logvar) - logvar)),
        "+logvar": wrong_kl(0.5 * (mu**2 + np.exp(logvar) - 1 + logvar)),
        "sum over batch": float(0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum()),
        "mean over everything": float(0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).mean()),
    }
    for name, value in wrongs.items():
        assert abs(value - estimate) > N_SIGMA * se, name


@pytest.mark.parametrize("m, lv", [(0.7, -1.5), (-2.0, 1.5), (0.0, 3.0), (1.0, 0.0)])
def test_kl_1d_closed_form_and_quadrature(put, m, lv):
    s = math.sqrt(math.exp(lv))
    # KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1 - m2)^2) / (2 s2^2) - 1/2
    closed = math.log(1.0 / s) + (s * s + m * m) / 2.0 - 0.5
    # and by numerical integration of q log(q / p)
    z = np.linspace(m - 14 * s, m + 14 * s, 40_001)
    log_q, log_p = _gauss_logpdf(z, m, s), _gauss_logpdf(z, 0.0, 1.0)
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # trapz before NumPy 2.0
    quad = trapezoid(np.exp(log_q) * (log_q - log_p), z)
    kl = _f(ops.kl_standard_normal(put(np.array([[m]])), put(np.array([[lv]])))[0])
    assert kl == pytest.approx(closed, rel=1e-12, abs=1e-15)
    assert kl == pytest.approx(quad, rel=1e-6, abs=1e-9)


def test_kl_reduction_is_mean_over_examples_of_per_example_sums(put):
    rng = np.random.default_rng(4)
    mu, logvar = rng.normal(size=(5, 3)), rng.uniform(-3, 3, (5, 3))
    kl, dmu, dlogvar = ops.kl_standard_normal(put(mu), put(logvar))
    per_example = [_f(ops.kl_standard_normal(put(mu[b:b + 1]), put(logvar[b:b + 1]))[0]) for b in range(5)]
    assert _f(kl) == pytest.approx(np.mean(per_example), rel=1e-13)
    # and an example's KL is the sum (not the mean) of its dimensions' KLs
    per_dim = [_f(ops.kl_standard_normal(put(mu[:1, j:j + 1]), put(logvar[:1, j:j + 1]))[0]) for j in range(3)]
    assert per_example[0] == pytest.approx(sum(per_dim), rel=1e-13)

    # duplicating the batch leaves the value alone; each gradient entry halves (1/B)
    kl2, dmu2, dlogvar2 = ops.kl_standard_normal(put(np.vstack([mu, mu])), put(np.vstack([logvar, logvar])))
    assert _f(kl2) == pytest.approx(_f(kl), rel=1e-13)
    np.testing.assert_allclose(to_numpy(dmu2), np.vstack([to_numpy(dmu)] * 2) / 2, rtol=1e-13)
    np.testing.assert_allclose(to_numpy(dlogvar2), np.vstack([to_numpy(dlogvar)] * 2) / 2, rtol=1e-13)
    # and the gradients are exactly the per-example derivatives over B
    np.testing.assert_allclose(to_numpy(dmu), mu / 5, rtol=1e-13)
    np.testing.assert_allclose(to_numpy(dlogvar), (np.exp(logvar) - 1) / 2 / 5, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------
# bce_with_logits
# ---------------------------------------------------------------------------

def _naive_bce(logits, target):
    p = 1.0 / (1.0 + np.exp(-logits))
    per_entry = -(target * np.log(p) + (1 - target) * np.log(1 - p))
    return per_entry.sum(axis=1).mean()


def test_bce_equals_naive_cross_entropy_for_moderate_logits(put):
    rng = np.random.default_rng(5)
    logits = rng.uniform(-8, 8, (6, 7))
    for target in (rng.uniform(size=(6, 7)), (rng.uniform(size=(6, 7)) > 0.5).astype(float)):
        loss, dlogits = ops.bce_with_logits(put(logits), put(target))
        assert _f(loss) == pytest.approx(_naive_bce(logits, target), rel=1e-11)
        np.testing.assert_allclose(to_numpy(dlogits), (1 / (1 + np.exp(-logits)) - target) / 6, rtol=1e-11,
                                   atol=1e-16)
    # a mean over every entry (instead of sum over features) would be 7 times smaller
    assert _naive_bce(logits, target) / 7 != pytest.approx(_f(loss), rel=1e-2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "logit, t, value, grad_times_B",
    [(1e4, 1.0, 0.0, 0.0), (1e4, 0.0, 1e4, 1.0), (-1e4, 0.0, 0.0, 0.0), (-1e4, 1.0, 1e4, -1.0)],
)
def test_bce_is_exact_and_quiet_at_huge_logits(put, dtype, logit, t, value, grad_times_B):
    B = 4  # B identical rows: the loss is the per-entry value, the gradient (sigma - t) / B
    logits, target = np.full((B, 1), logit, dtype), np.full((B, 1), t, dtype)
    with _strict_floats():
        loss, dlogits = ops.bce_with_logits(put(logits), put(target))
    assert _f(loss) == value
    np.testing.assert_array_equal(to_numpy(dlogits), np.full((B, 1), grad_times_B / B, dtype))
    assert loss.dtype == dlogits.dtype == dtype


def test_bce_mixed_huge_logits_batch():
    logits = np.array([[1e4], [1e4], [-1e4], [-1e4]])
    target = np.array([[1.0], [0.0], [0.0], [1.0]])
    with _strict_floats():
        loss, dlogits = ops.bce_with_logits(logits, target)
    assert float(loss) == 2e4 / 4
    np.testing.assert_array_equal(dlogits, np.array([[0.0], [0.25], [0.0], [-0.25]]))
    # the naive formula cannot do this: log(sigmoid(-1e4)) = log(0)
    with np.errstate(all="ignore"):
        assert not np.isfinite(_naive_bce(logits, target))


@pytest.mark.parametrize("t", [0.05, 0.3, 0.5, 0.8, 0.97])
def test_bce_is_minimised_at_logit_of_target(t):
    best = math.log(t / (1 - t))
    target = np.array([[t]])
    grid = best + np.linspace(-1.0, 1.0, 201)  # steps of 0.01; curvature t(1-t) resolves them
    losses = [float(ops.bce_with_logits(np.array([[g]]), target)[0]) for g in grid]
    assert int(np.argmin(losses)) == 100
    _, d = ops.bce_with_logits(np.array([[best]]), target)
    assert abs(float(d[0, 0])) < 1e-15
    # and the gradient points uphill on either side
    assert float(ops.bce_with_logits(np.array([[best - 0.5]]), target)[1][0, 0]) < 0
    assert float(ops.bce_with_logits(np.array([[best + 0.5]]), target)[1][0, 0]) > 0


# ---------------------------------------------------------------------------
# mse
# ---------------------------------------------------------------------------

def test_mse_is_sum_over_features_mean_over_batch(put):
    rng = np.random.default_rng(6)
    pred, target = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    ref = 0.0
    for b in range(4):
        ref += sum((pred[b, d] - target[b, d]) ** 2 for d in range(5))
    ref /= 4
    loss, dpred = ops.mse(put(pred), put(target))
    assert _f(loss) == pytest.approx(ref, rel=1e-13)
    # duplicate the batch: same value (a sum over the batch would double)
    loss2, _ = ops.mse(put(np.vstack([pred, pred])), put(np.vstack([target, target])))
    assert _f(loss2) == pytest.approx(ref, rel=1e-13)
    # a mean over every entry would be 5 times smaller
    assert np.mean((pred - target) ** 2) != pytest.approx(_f(loss), rel=1e-2)


def test_mse_gradient_direction_and_scale(put):
    rng = np.random.default_rng(7)
    pred, target = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    loss, dpred = ops.mse(put(pred), put(target))
    dpred = to_numpy(dpred)
    np.testing.assert_allclose(dpred, 2.0 / 4 * (pred - target), rtol=1e-14)
    # a small step downhill lowers the loss
    assert _f(ops.mse(put(pred - 1e-2 * dpred), put(target))[0]) < _f(loss)
    # the loss is quadratic: one Newton step, pred - (B/2) dpred, lands on the target
    np.testing.assert_allclose(pred - 4 / 2 * dpred, target, atol=1e-14)
    assert _f(ops.mse(put(target), put(target))[0]) == 0.0


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------

HUGE = np.array([-1e4, -1e3, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1e3, 1e4])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_do_not_overflow_and_saturate_exactly(put, dtype):
    x = put(HUGE.astype(dtype).reshape(1, -1))
    with _strict_floats():
        s, sc = ops.sigmoid_forward(x)
        sp, spc = ops.softplus_forward(x)
        t, tc = ops.tanh_forward(x)
        dout = put(np.ones(HUGE.shape, dtype).reshape(1, -1))
        ds, dsp, dt = ops.sigmoid_backward(dout, sc), ops.softplus_backward(dout, spc), ops.tanh_backward(dout, tc)
    s, sp, t = to_numpy(s)[0], to_numpy(sp)[0], to_numpy(t)[0]
    assert s[-1] == 1.0 and s[0] == 0.0
    assert sp[-1] == 1e4 and sp[0] == 0.0
    assert t[-1] == 1.0 and t[0] == -1.0
    for a in (s, sp, t, ds, dsp, dt):
        assert np.all(np.isfinite(to_numpy(a)))
        assert a.dtype == dtype
    assert to_numpy(ds)[0, 0] == 0.0 and to_numpy(dsp)[0, -1] == 1.0


def test_sigmoid_values_and_symmetry(put):
    x = np.linspace(-30, 30, 121)
    s = to_numpy(ops.sigmoid_forward(put(x))[0])
    np.testing.assert_allclose(s, 1 / (1 + np.exp(-x)), rtol=1e-14, atol=1e-300)
    s_neg = to_numpy(ops.sigmoid_forward(put(-x))[0])
    np.testing.assert_allclose(s_neg, 1 - s, rtol=0, atol=5e-16)  # a few round-offs of values <= 1
    assert to_numpy(ops.sigmoid_forward(put(np.zeros(1)))[0])[0] == 0.5
    assert to_numpy(ops.sigmoid(put(np.array([0.0, 1e4, -1e4])))).tolist() == [0.5, 1.0, 0.0]


def test_softplus_matches_log1p_exp_for_moderate_x(put):
    x = np.linspace(-30, 30, 121)
    sp = to_numpy(ops.softplus_forward(put(x))[0])
    np.testing.assert_allclose(sp, np.log1p(np.exp(x)), rtol=1e-14)
    # and its cached derivative is sigma(x)
    _, cache = ops.softplus_forward(put(x))
    np.testing.assert_allclose(to_numpy(cache.s), 1 / (1 + np.exp(-x)), rtol=1e-14, atol=1e-300)


def test_tanh_values(put):
    x = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(to_numpy(ops.tanh_forward(put(x))[0]), np.tanh(x), rtol=4e-15)


def test_relu_and_leaky_relu_values(put):
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    assert to_numpy(ops.relu_forward(put(x))[0]).tolist() == [[0.0, 0.0, 0.0, 0.5, 2.0]]
    assert to_numpy(ops.leaky_relu_forward(put(x), 0.25)[0]).tolist() == [[-0.5, -0.125, 0.0, 0.5, 2.0]]
    assert to_numpy(ops.leaky_relu_forward(put(x))[0]).tolist() == [[-0.02, -0.005, 0.0, 0.5, 2.0]]
    dout = put(np.full_like(x, 3.0))
    _, c = ops.relu_forward(put(x))
    assert to_numpy(ops.relu_backward(dout, c)).tolist() == [[0.0, 0.0, 0.0, 3.0, 3.0]]  # 0 at the kink
    _, c = ops.leaky_relu_forward(put(x), 0.25)
    assert to_numpy(ops.leaky_relu_backward(dout, c)).tolist() == [[0.75, 0.75, 0.75, 3.0, 3.0]]
    _, c = ops.sigmoid_forward(put(np.zeros((1, 1))))
    assert to_numpy(ops.sigmoid_backward(put(np.ones((1, 1))), c))[0, 0] == 0.25


# ---------------------------------------------------------------------------
# dense
# ---------------------------------------------------------------------------

def test_dense_forward_and_backward_match_loop_references(put):
    rng = np.random.default_rng(8)
    B, n_in, n_out = 4, 3, 5
    x, W, b = rng.normal(size=(B, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    out, cache = ops.dense_forward(put(x), put(W), put(b))
    ref = np.zeros((B, n_out))
    for i in range(B):
        for k in range(n_out):
            ref[i, k] = sum(x[i, j] * W[j, k] for j in range(n_in)) + b[k]
    np.testing.assert_allclose(to_numpy(out), ref, rtol=1e-13, atol=1e-14)

    dout = rng.normal(size=(B, n_out))  # random, not ones: every entry matters
    dx, dW, db = ops.dense_backward(put(dout), cache)
    dW_ref = sum(np.outer(x[i], dout[i]) for i in range(B))  # sum over the batch of outer products
    db_ref = sum(dout[i] for i in range(B))
    dx_ref = np.array([[sum(dout[i, k] * W[j, k] for k in range(n_out)) for j in range(n_in)] for i in range(B)])
    np.testing.assert_allclose(to_numpy(dW), dW_ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(to_numpy(db), db_ref, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(to_numpy(dx), dx_ref, rtol=1e-13, atol=1e-14)
    # the random upstream gradient is a real check: the transposed-shape trap x.T @ dout
    # with a square layer, or the all-ones dout, would not agree with the references
    assert not np.allclose(to_numpy(dW), sum(np.outer(x[i], np.ones(n_out)) for i in range(B)))


def test_dense_keeps_float32(put):
    x, W, b = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), np.ones(4, np.float32)
    out, cache = ops.dense_forward(put(x), put(W), put(b))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in ops.dense_backward(put(np.ones((2, 4), np.float32)), cache))


# ---------------------------------------------------------------------------
# no op writes into its inputs, its dout, or its cache
# ---------------------------------------------------------------------------

def _rand(rng, *shape):
    return rng.normal(size=shape)


PAIRS = {
    "dense": (ops.dense_forward, ops.dense_backward, lambda r: (_rand(r, 3, 4), _rand(r, 4, 2), _rand(r, 2))),
    "relu": (ops.relu_forward, ops.relu_backward, lambda r: (_rand(r, 3, 4),)),
    "leaky_relu": (lambda x: ops.leaky_relu_forward(x, 0.1), ops.leaky_relu_backward, lambda r: (_rand(r, 3, 4),)),
    "sigmoid": (ops.sigmoid_forward, ops.sigmoid_backward, lambda r: (_rand(r, 3, 4),)),
    "tanh": (ops.tanh_forward, ops.tanh_backward, lambda r: (_rand(r, 3, 4),)),
    "softplus": (ops.softplus_forward, ops.softplus_backward, lambda r: (_rand(r, 3, 4),)),
    "identity": (ops.identity_forward, ops.identity_backward, lambda r: (_rand(r, 3, 4),)),
    "reparameterize": (ops.reparameterize, ops.reparameterize_backward,
                       lambda r: (_rand(r, 3, 4), _rand(r, 3, 4), _rand(r, 3, 4))),
}


def _snapshot(arrays):
    return [to_numpy(a).copy() if hasattr(a, "shape") else a for a in arrays]


def _assert_unchanged(before, arrays, what):
    for k, (old, new) in enumerate(zip(before, arrays)):
        if hasattr(new, "shape"):
            np.testing.assert_array_equal(to_numpy(new), old, err_msg=f"{what}[{k}] was written to")
        else:
            assert new == old, f"{what}[{k}] changed"


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_backward_never_writes_into_inputs_dout_or_cache(put, name):
    forward, backward, make = PAIRS[name]
    rng = np.random.default_rng(9)
    inputs = [put(a) for a in make(rng)]
    inputs_before = _snapshot(inputs)
    out, cache = forward(*inputs)
    _assert_unchanged(inputs_before, inputs, "forward input")
    cache_before = _snapshot(cache)
    dout = put(rng.normal(size=tuple(out.shape)))
    dout_before = _snapshot([dout])
    backward(dout, cache)
    backward(dout, cache)  # twice: a backward that accumulated into its cache would show here
    _assert_unchanged(inputs_before, inputs, "input")
    _assert_unchanged(cache_before, cache, "cache")
    _assert_unchanged(dout_before, [dout], "dout")


@pytest.mark.parametrize("name", ["mse", "bce_with_logits", "kl_standard_normal"])
def test_losses_never_write_into_their_inputs(put, name):
    rng = np.random.default_rng(10)
    a, b = put(rng.normal(size=(3, 4))), put(rng.uniform(size=(3, 4)))
    before = _snapshot([a, b])
    getattr(ops, name)(a, b)
    _assert_unchanged(before, [a, b], name)


# ---------------------------------------------------------------------------
# init
# ---------------------------------------------------------------------------

N_IN, N_OUT = 2000, 500


def _var_check(W, var, fourth_moment_ratio):
    """Sample variance within 5 SE of ``var``. For n iid zero-mean draws the SE of the mean
    of w^2 is sqrt((E w^4 - var^2) / n) = var sqrt((k - 1) / n), k = E w^4 / var^2
    (3 for a normal, 9/5 for a uniform)."""
    w = to_numpy(W).astype(np.float64).ravel()
    n = w.size
    se = var * np.sqrt((fourth_moment_ratio - 1) / n)
    assert abs(np.mean(w * w) - var) < N_SIGMA * se, (np.mean(w * w), var, se)
    assert abs(w.mean()) < N_SIGMA * np.sqrt(var / n)
    return se


def test_he_init_variance_is_2_over_fan_in(backend):
    W = init_weight(Random(0, backend=backend), N_IN, N_OUT, "he")
    assert W.shape == (N_IN, N_OUT) and W.dtype == np.float32
    var = 2.0 / N_IN
    se = _var_check(W, var, 3.0)
    # the traps (1/in, or std = 2/in) are far away: 0.7% tolerance vs 50% and more
    assert abs(1.0 / N_IN - var) > 20 * N_SIGMA * se


@pytest.mark.parametrize("init", ["xavier", "glorot"])
def test_xavier_init_bounds_and_variance(backend, init):
    W = init_weight(Random(0, backend=backend), N_IN, N_OUT, init)
    w = to_numpy(W).astype(np.float64)
    a = math.sqrt(6.0 / (N_IN + N_OUT))
    assert np.abs(w).max() <= a
    assert np.abs(w).max() > 0.999 * a  # the bound is used, not a narrower one
    assert w.min() < -0.999 * a  # symmetric
    _var_check(W, 2.0 / (N_IN + N_OUT), 9.0 / 5.0)


def test_glorot_is_another_name_for_xavier():
    a = init_weight(Random(3), 20, 10, "xavier")
    b = init_weight(Random(3), 20, 10, "glorot")
    np.testing.assert_array_equal(a, b)


def test_dense_init_seed_dtype_and_zero_bias():
    from minivae.layers import Dense

    d = Dense(2000, 500, init="he", seed=0)
    assert d.params["W"].dtype == np.float32 and d.params["b"].dtype == np.float32
    assert not to_numpy(d.params["b"]).any() and d.params["b"].shape == (500,)
    _var_check(d.params["W"], 2.0 / 2000, 3.0)
    dx = Dense(2000, 500, init="xavier", seed=0)
    assert not to_numpy(dx.params["b"]).any()
    assert np.abs(to_numpy(dx.params["W"])).max() <= math.sqrt(6.0 / 2500)

    same = Dense(30, 20, seed=7), Dense(30, 20, seed=7)
    np.testing.assert_array_equal(to_numpy(same[0].params["W"]), to_numpy(same[1].params["W"]))
    other = Dense(30, 20, seed=8)
    assert not np.array_equal(to_numpy(same[0].params["W"]), to_numpy(other.params["W"]))
    d64 = Dense(30, 20, seed=7, dtype="float64")
    assert d64.params["W"].dtype == np.float64 and d64.params["b"].dtype == np.float64
    d64b = Dense(30, 20, seed=7, dtype=np.float64)
    np.testing.assert_array_equal(to_numpy(d64.params["W"]), to_numpy(d64b.params["W"]))


# ---------------------------------------------------------------------------
# the gradient checker itself
# ---------------------------------------------------------------------------

def test_check_scalar_flags_kl_gradient_missing_1_over_B():
    rng = np.random.default_rng(11)
    B = 4  # with B = 1 a missing 1/B would be invisible
    mu, logvar = rng.normal(size=(B, 3)), rng.uniform(-2, 2, (B, 3))
    params = {"mu": mu, "logvar": logvar}

    def f():
        return ops.kl_standard_normal(mu, logvar)[0]

    _, dmu, dlogvar = ops.kl_standard_normal(mu, logvar)
    assert check_scalar(f, params, {"mu": dmu, "logvar": dlogvar}).passed
    report = check_scalar(f, params, {"mu": dmu * B, "logvar": dlogvar})  # the trap: no 1/B
    assert not report.passed
    assert report.worst.startswith("mu[")
    assert report.per_input["logvar"] <= report.tol < report.per_input["mu"]


def test_check_pair_flags_dlogvar_with_exp_logvar():
    rng = np.random.default_rng(12)
    mu, logvar, eps = rng.normal(size=(3, 4)), rng.uniform(-2, 2, (3, 4)), rng.normal(size=(3, 4))

    def wrong_backward(dz, cache):  # the trap: exp(logvar) where exp(logvar / 2) belongs
        return dz.copy(), dz * 0.5 * cache.std**2 * cache.eps

    names = ["mu", "logvar", "eps"]
    right = check_pair(ops.reparameterize, ops.reparameterize_backward, mu, logvar, eps, wrt=[0, 1], names=names)
    assert right.passed, str(right)
    wrong = check_pair(ops.reparameterize, wrong_backward, mu, logvar, eps, wrt=[0, 1], names=names)
    assert not wrong.passed
    assert wrong.worst.startswith("logvar[") and "logvar[" in str(wrong) and "FAILED" in str(wrong)
    with pytest.raises(AssertionError, match="logvar"):
        wrong.assert_ok()


def test_gradcheck_report_names_the_worst_entry():
    rng = np.random.default_rng(13)
    x, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)

    def one_wrong_entry(dout, cache):
        dx, dW, db = ops.dense_backward(dout, cache)
        dW = dW.copy()
        dW[1, 2] += 0.1 * (1.0 + abs(dW[1, 2]))
        return dx, dW, db

    report = check_pair(ops.dense_forward, one_wrong_entry, x, W, b, names=["x", "W", "b"])
    assert not report.passed
    assert report.worst == "W[1, 2]"
    assert "W[1, 2]" in str(report)
    assert report.per_input["x"] <= report.tol and report.per_input["b"] <= report.tol
    assert report.analytic != pytest.approx(report.numeric, rel=1e-3)


def test_check_pair_rejects_float32_inputs():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match="float64"):
        check_pair(ops.tanh_forward, ops.tanh_backward, x)
    with pytest.raises(TypeError, match="x"):
        check_pair(ops.tanh_forward, ops.tanh_backward, x, names=["x"])
