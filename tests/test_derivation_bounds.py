"""Bounds and limits stated in docs/derivations.md, measured with the library itself.

The companion of tests/test_derivation_claims.py: float32 rounding (§5.1), the bias of
the sparse penalty on a batch (§7.3), how large an Adam step can be and how far off it is
without bias correction (§8), what sigma_x = 1 does on each data set (§9.2) and the
accuracy of the stable log-mean-exp (§9.5). Each test names the section it checks.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from minivae import Adam
from minivae.models.sparse import kl_sparsity
from minivae.models.vae import logmeanexp

ROOT = Path(__file__).resolve().parent.parent
BETA1, BETA2 = 0.9, 0.999  # Adam's defaults


def sparse_excess_bound(rho, rate, B):
    """§7.3: the largest second-order excess of the batch penalty for a unit at ``rate``."""
    return 0.5 * (rho * (1 - rate) / rate + (1 - rho) * rate / (1 - rate)) / B


# ---------------------------------------------------------------------------- §5.1
def _ulps_off(fn, x):
    """How many float32 units in the last place ``fn(x)`` lies from the true value, for float32 ``x``."""
    true = fn(x.astype(np.float64))
    ulp = np.spacing(np.abs(true).astype(np.float32)).astype(np.float64)
    return np.abs(fn(x).astype(np.float64) - true) / ulp


def test_float32_exp_is_a_few_ulps_off_at_most_and_expm1_of_a_tiny_logvar_under_one():
    """§5.1: float32 exp and expm1 within a few units in the last place (this machine: 2.3);
    expm1 within one for |logvar| < 1e-3, which is what keeps the KL of a tiny logvar accurate."""
    rng = np.random.default_rng(0)
    wide = rng.uniform(-80, 80, 200_000).astype(np.float32)
    assert _ulps_off(np.exp, wide).max() <= 4 and _ulps_off(np.expm1, wide).max() <= 4
    tiny = rng.uniform(-1e-3, 1e-3, 200_000).astype(np.float32)
    assert _ulps_off(np.expm1, tiny).max() <= 1


# ---------------------------------------------------------------------------- §7.3
def _exact_excess(rho, rate, B):
    """E[KL(rho || rho_hat)] - KL(rho || rate) for an all-or-nothing unit, rho_hat ~ Binomial(B, rate)/B,
    the library's penalty evaluated at every possible batch rate (the rates 0 and 1, whose
    chance is below 1e-11 here, left out)."""
    k = np.arange(1, B)
    log_pmf = np.array([math.lgamma(B + 1) - math.lgamma(i + 1) - math.lgamma(B - i + 1) for i in k])
    pmf = np.exp(log_pmf + k * math.log(rate) + (B - k) * math.log(1 - rate))
    assert 1 - pmf.sum() < 1e-11
    h = (k / B)[None, :]  # one row: each column a unit whose batch rate is k / B
    per_rate = np.array([float(kl_sparsity(h[:, [i]], rho, 1.0)[0]) for i in range(k.size)])
    at_rate = float(kl_sparsity(np.array([[rate]]), rho, 1.0)[0])
    return float((pmf * per_rate).sum()) - at_rate


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.2])
def test_the_sparse_excess_of_an_all_or_nothing_unit_reaches_the_general_bound(rate):
    """§7.3: 1/(2B) [rho (1 - r)/r + (1 - rho) r/(1 - r)], 1/(2B) only at r = rho; 2.48/B at r = 0.01."""
    rho, B = 0.05, 4096
    bound = sparse_excess_bound(rho, rate, B)
    assert _exact_excess(rho, rate, B) == pytest.approx(bound, rel=0.03)
    if rate == rho:
        assert bound * B == pytest.approx(0.5)
    if rate == 0.01:
        assert bound * B == pytest.approx(2.48, abs=0.005)  # five times the 1/(2B) of a unit at the target
    if rate == 0.2:
        assert bound * B == pytest.approx(0.22, abs=0.005)


# ---------------------------------------------------------------------------- §8
def _last_step(gradients):
    """How far the library's Adam (lr 1, tiny eps) moves a scalar on the last of ``gradients``."""
    opt, params = Adam(lr=1.0, eps=1e-30), {"w": np.zeros(1)}
    for g in gradients:
        before = float(params["w"][0])
        opt.step(params, {"w": np.array([g])})
    return before - float(params["w"][0])


def _step_bound(t):
    """§8's Cauchy-Schwarz bound on |m_hat / sqrt(v_hat)| at step t."""
    r = BETA1**2 / BETA2
    return ((1 - BETA1) / (1 - BETA1**t) * math.sqrt((1 - BETA2**t) / (1 - BETA2))
            * math.sqrt((1 - r**t) / (1 - r)))


def test_an_adam_step_is_at_most_7_27_lr_and_gets_there_with_gradients_growing_by_beta2_over_beta1():
    """§8: the bound, 7.27 lr in the limit, is reached; Kingma and Ba's 3.16 lr is not a bound."""
    limit = (1 - BETA1) / math.sqrt((1 - BETA2) * (1 - BETA1**2 / BETA2))
    assert limit == pytest.approx(7.27, abs=0.005)
    assert all(_step_bound(t) < limit for t in range(1, 20_000, 7))
    T = 3000
    growing = [(BETA1 / BETA2) ** (T - s) for s in range(1, T + 1)]  # the last one is 1
    assert _last_step(growing) == pytest.approx(_step_bound(T), rel=1e-6)
    assert _last_step(growing) == pytest.approx(7.09, abs=0.005)
    assert _last_step(growing) > 2 * (1 - BETA1) / math.sqrt(1 - BETA2)  # more than twice 3.16
    rng = np.random.default_rng(0)
    for _ in range(10):  # any other gradients stay below the bound
        g = rng.normal(size=int(rng.integers(1, 200))) * np.exp(rng.normal(size=1) * 3)
        assert abs(_last_step(g)) <= _step_bound(g.size) * (1 + 1e-9)


def test_a_zero_gradient_then_one_steps_by_about_3_16_lr():
    """§8: 2.94 lr after 2,000 zero gradients, 3.16 lr after 20,000: Kingma and Ba's sparse case."""
    limit = (1 - BETA1) / math.sqrt(1 - BETA2)
    assert limit == pytest.approx(3.16, abs=0.005)
    for zeros in (2000, 20_000):  # the step the library takes after 2,000 of them, and its limit
        t = zeros + 1
        assert limit * math.sqrt(1 - BETA2**t) / (1 - BETA1**t) == pytest.approx(2.94 if zeros == 2000 else limit, abs=0.005)
    assert _last_step([0.0] * 2000 + [1.0]) == pytest.approx(limit * math.sqrt(1 - BETA2**2001) / (1 - BETA1**2001))


def test_without_bias_correction_the_first_hundred_steps_are_3_16_to_6_57_times_too_large():
    """§8: m / sqrt(v) over m_hat / sqrt(v_hat), read from the library's own Adam state."""
    opt, params = Adam(lr=1e-3), {"w": np.zeros(3)}
    g = np.array([0.5, -2.0, 7.0])
    factors = []
    for t in range(1, 400):
        before = params["w"].copy()
        opt.step(params, {"w": g})
        s = opt.state["w"]
        uncorrected = opt.lr * to_host(s["m"]) / (np.sqrt(to_host(s["v"])) + opt.eps)
        ratio = uncorrected / (before - params["w"])
        assert np.allclose(ratio, ratio[0], rtol=1e-4)  # the same factor for every entry
        factors.append(float(ratio[0]))
    first_hundred = factors[:100]
    assert min(first_hundred) == pytest.approx(3.16, abs=0.005) and factors[0] == min(first_hundred)
    assert max(first_hundred) == pytest.approx(6.57, abs=0.005) and factors.index(max(factors)) + 1 == 12
    assert factors[99] == pytest.approx(3.2, abs=0.05)
    below_two = next(t for t, f in enumerate(factors, start=1) if f <= 2.0)
    assert 280 <= below_two <= 300, below_two  # "falls to 2 only near t = 290"


def to_host(a):
    return np.asarray(a, dtype=np.float64)


# ---------------------------------------------------------------------------- §9.2
def _sigma_x_script():
    spec = importlib.util.spec_from_file_location("sigma_x", ROOT / "benchmarks" / "sigma_x.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sigma_x():
    pytest.importorskip("sklearn")
    pytest.importorskip("mlxtend")
    return _sigma_x_script()


def test_sigma_x_1_on_the_8x8_digits_leaves_no_direction_worth_a_code(sigma_x):
    """§9.2: average digit's squared error 4.7, largest variance 0.70 < 1; a VAE there lets q collapse."""
    from minivae.datasets import load_digits

    X, _ = load_digits()
    err, lam = sigma_x.average_image_error(X), sigma_x.direction_variances(X)
    assert err.mean() == pytest.approx(4.7, abs=0.05) and lam.sum() == pytest.approx(err.mean())
    assert lam[0] == pytest.approx(0.70, abs=0.005) and (lam > 1).sum() == 0
    kl, active = sigma_x.train_and_measure(X, (64,), 8, epochs=70)  # 300 epochs give 0.002 nats
    assert kl < 0.1 and active == 0, (kl, active)


def test_sigma_x_1_on_the_mnist_subset_keeps_an_informative_code(sigma_x):
    """§9.2: average image's squared error 53 (median 50), 12 directions above 1; the code stays in use."""
    from minivae.datasets import load_mnist_subset

    X, _ = load_mnist_subset()
    err, lam = sigma_x.average_image_error(X), sigma_x.direction_variances(X)
    assert err.mean() == pytest.approx(52.8, abs=0.05) and np.median(err) == pytest.approx(49.7, abs=0.05)
    assert lam[0] == pytest.approx(5.19, abs=0.01) and (lam > 1).sum() == 12
    kl, active = sigma_x.train_and_measure(X, (64,), 8, epochs=3)  # 784-400-8, 10 epochs: 6.1 nats
    assert kl > 2.0 and active == 8, (kl, active)


# ---------------------------------------------------------------------------- §9.5
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logmeanexp_is_accurate_to_rounding_even_when_every_weight_underflows(dtype):
    """§9.5: after subtracting the largest log-weight, the log of a sum in [1, K] loses nothing."""
    rng = np.random.default_rng(0)
    log_w = (rng.normal(size=(100, 7)) * 20 - 900).astype(dtype)  # exp underflows to 0 for every one
    got = logmeanexp(log_w, axis=0).astype(np.float64)
    exact = np.array([float(np.logaddexp.reduce(col.astype(np.float64))) - math.log(100) for col in log_w.T])
    assert np.isfinite(got).all()
    assert np.abs(got - exact).max() <= 8 * np.finfo(dtype).eps * np.abs(exact).max()
