"""The VAE: its whole gradient, what its numbers mean, and its refusals (docs/derivations.md §9).

Three kinds of test, as for every model:

- gradient checks of the whole negative ELBO in float64 with the noise pinned by ``eps=``
  (both likelihoods, several ``beta``), smooth activations so no kink is straddled;
- semantic tests: the loss is the negative ELBO with every constant (against SciPy's
  densities), the KL equals a Monte-Carlo average, the decoder sees z with standard
  deviation exp(logvar/2), the importance-weighted bound sits above the ELBO, rises
  with K, and agrees with log p(x) integrated on a grid; training beats no training;
- bad inputs, each refused with an error that names the argument.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import minivae
from minivae import VAE, Adam
from minivae.datasets import load_digits, train_test_split
from minivae.gradcheck import check_scalar

TOL = 1e-6
small = st.integers(1, 4)


def tiny_vae(D, hidden, J, **kw):
    kw.setdefault("dtype", "float64")
    return VAE(D, hidden, J, **kw)


# ---------------------------------------------------------------------- gradient checks
@given(
    data=st.data(),
    B=small, D=small, J=small,
    hidden=st.lists(small, max_size=2).map(tuple),
    likelihood=st.sampled_from(["bernoulli", "gaussian"]),
    beta=st.sampled_from([1.0, 0.25, 3.0]),
    activation=st.sampled_from(["tanh", "softplus", "sigmoid"]),
    seed=st.integers(0, 2**16),
)
def test_gradient_of_the_whole_negative_elbo(data, B, D, J, hidden, likelihood, beta, activation, seed):
    sigma = data.draw(st.sampled_from([1.0, 0.3]))
    m = tiny_vae(D, hidden, J, likelihood=likelihood, beta=beta, sigma=sigma, activation=activation, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(B, D))
    if likelihood == "bernoulli" and data.draw(st.booleans()):
        x = np.round(x)  # binary data too
    eps = rng.normal(size=(B, J))
    # move the posterior away from the prior, so the KL's gradients are not ~0
    for p in m.params.values():
        p += 0.3 * rng.normal(size=p.shape)
    loss, grads = m.loss_and_grads(x, eps=eps)
    assert set(grads) == set(m.params)
    assert loss == pytest.approx(m.loss(x, eps=eps), rel=1e-12)
    check_scalar(lambda: m.loss(x, eps=eps), m.params, grads, tol=TOL).assert_ok()


def test_gradient_with_relu_away_from_kinks():
    """The default activation: checked where no pre-activation is within a step of 0."""
    rng = np.random.default_rng(3)
    m = tiny_vae(6, (5, 4), 3, beta=0.5, seed=3)
    x, eps = rng.uniform(size=(5, 6)), rng.normal(size=(5, 3))
    loss, grads = m.loss_and_grads(x, eps=eps)
    pre = [layer._cache.x @ layer.params["W"] + layer.params["b"]
           for block in (m.encoder, m.decoder) for layer in block.layers if "W" in layer.params]
    assert min(float(np.abs(a).min()) for a in pre[:-1]) > 1e-3  # this seed keeps away from the kinks
    check_scalar(lambda: m.loss(x, eps=eps), m.params, grads, tol=TOL).assert_ok()


def test_gradient_is_that_of_the_mean_over_the_batch():
    """Twice the batch (the same rows twice) gives the same loss and the same gradient."""
    rng = np.random.default_rng(0)
    m = tiny_vae(4, (3,), 2, activation="tanh")
    x, eps = rng.uniform(size=(3, 4)), rng.normal(size=(3, 2))
    l1, g1 = m.loss_and_grads(x, eps=eps)
    l2, g2 = m.loss_and_grads(np.vstack([x, x]), eps=np.vstack([eps, eps]))
    assert l1 == pytest.approx(l2, rel=1e-12)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------- what the loss means
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_is_recon_plus_beta_kl_with_every_constant(likelihood):
    rng = np.random.default_rng(1)
    m = tiny_vae(5, (4,), 2, likelihood=likelihood, beta=0.3, sigma=0.4, activation="tanh")
    x = np.round(rng.uniform(size=(6, 5)))
    eps = rng.normal(size=(6, 2))
    terms, _ = m.loss_terms_and_grads(x, eps=eps, grads=False)
    mu, logvar = m.encode(x)
    z = mu + np.exp(0.5 * logvar) * eps
    out = m.decoder.forward(z)
    if likelihood == "bernoulli":
        log_px = stats.bernoulli.logpmf(x, 1.0 / (1.0 + np.exp(-out))).sum(axis=1)
    else:
        log_px = stats.norm.logpdf(x, loc=out, scale=0.4).sum(axis=1)
    kl = (0.5 * (mu**2 + np.exp(logvar) - 1 - logvar)).sum(axis=1)
    assert float(terms["recon"]) == pytest.approx(-log_px.mean(), rel=1e-10)
    assert float(terms["kl"]) == pytest.approx(kl.mean(), rel=1e-10)
    assert float(terms["loss"]) == pytest.approx(-log_px.mean() + 0.3 * kl.mean(), rel=1e-10)


def test_kl_term_equals_a_monte_carlo_estimate():
    """KL(q || p) = E_q[log q(z|x) - log p(z)], averaged over many z drawn from q."""
    rng = np.random.default_rng(2)
    m = tiny_vae(5, (6,), 3, activation="tanh", seed=2)
    m.blocks["logvar"].layers[0].params["b"][:] = [-1.5, 0.8, -0.2]  # variances well away from 1
    m.blocks["mu"].layers[0].params["b"][:] = [0.7, -1.0, 0.3]
    x = rng.uniform(size=(4, 5))
    terms, _ = m.loss_terms_and_grads(x, grads=False)
    mu, logvar = m.encode(x)
    N = 200_000
    z = mu + np.exp(0.5 * logvar) * rng.normal(size=(N, *mu.shape))
    log_q = stats.norm.logpdf(z, loc=mu, scale=np.exp(0.5 * logvar)).sum(-1)
    log_p = stats.norm.logpdf(z).sum(-1)
    ratio = (log_q - log_p).mean(axis=1)  # per draw, averaged over the batch
    se = ratio.std() / math.sqrt(N)
    assert abs(ratio.mean() - float(terms["kl"])) < 4 * se + 1e-12
    assert float(terms["kl"]) > 0.5


def test_the_decoder_sees_z_with_std_exp_half_logvar():
    """The classic bug samples with exp(logvar); with logvar near -3 it would give 0.05, not 0.22."""
    m = VAE(3, (), 2, seed=5, dtype="float64")
    m.blocks["logvar"].layers[0].params["W"][:] = 0.0
    m.blocks["logvar"].layers[0].params["b"][:] = [-3.0, 1.0]
    x = np.tile([[0.2, 0.9, 0.4]], (50_000, 1))
    m.loss(x)  # draws eps from the model's own generator
    z = m.decoder.layers[0]._cache.x  # what the decoder's first layer read
    mu, logvar = m.encode(x[:1])
    np.testing.assert_allclose(z.mean(0), mu[0], atol=0.02)
    np.testing.assert_allclose(z.std(0), np.exp(logvar[0] / 2), rtol=0.02)


def test_eps_pins_the_noise_and_none_draws_fresh_noise():
    rng = np.random.default_rng(0)
    m = tiny_vae(4, (3,), 2)
    x, eps = rng.uniform(size=(5, 4)), rng.normal(size=(5, 2))
    assert m.loss(x, eps=eps) == m.loss(x, eps=eps)
    assert m.loss(x) != m.loss(x)
    mu, _ = m.encode(x)
    terms, _ = m.loss_terms_and_grads(x, eps=np.zeros((5, 2)), grads=False)
    # eps = 0 decodes mu itself: recon is then the reconstruction of reconstruct()
    p = m.reconstruct(x)
    assert float(terms["recon"]) == pytest.approx(-(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1).mean())


# ---------------------------------------------------------------------- the importance-weighted bound
def grid_log_px(m, x, lo=-12.0, hi=12.0, n=24_001):
    """log p(x) = log ∫ p(x|z) N(z; 0, 1) dz on a fine grid (1-D latent), with SciPy's densities."""
    z = np.linspace(lo, hi, n).reshape(-1, 1)
    out = m.decoder.forward(z)
    if m.likelihood == "bernoulli":
        log_px_z = stats.bernoulli.logpmf(x[:, None, :], 1.0 / (1.0 + np.exp(-out))).sum(-1)
    else:
        log_px_z = stats.norm.logpdf(x[:, None, :], loc=out, scale=m.sigma).sum(-1)
    f = log_px_z + stats.norm.logpdf(z[:, 0])
    mx = f.max(axis=1, keepdims=True)
    return mx[:, 0] + np.log(np.trapezoid(np.exp(f - mx), z[:, 0], axis=1))


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_log_likelihood_matches_numerical_integration(likelihood):
    """A tiny model with a 1-D latent: the estimate with large K equals log p(x) within 1e-3 nats."""
    rng = np.random.default_rng(0)
    m = VAE(3, (8,), 1, likelihood=likelihood, sigma=0.5, activation="tanh", dtype="float64", seed=0)
    X = (rng.uniform(size=(200, 3)) < [0.2, 0.5, 0.8]).astype(float)
    X[:100, 0] = X[:100, 1]
    m.fit(X, epochs=30, batch_size=32, optimizer=Adam(1e-2), verbose=False)
    x = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]])
    exact = grid_log_px(m, x)
    estimate = m.log_likelihood(x, n_samples=200_000)
    np.testing.assert_allclose(estimate, exact, atol=1e-3)
    # for Bernoulli, p(x) sums to 1 over the 8 binary vectors
    if likelihood == "bernoulli":
        allx = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
        assert np.exp(grid_log_px(m, allx)).sum() == pytest.approx(1.0, abs=1e-9)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(dtype="float64")
    return train_test_split(X, y, test_size=0.25, seed=0)


@pytest.fixture(scope="module")
def trained(digits):
    X_train, X_test, _, _ = digits
    m = VAE(64, (64,), 8, seed=0)
    m.fit(X_train, epochs=30, batch_size=64, optimizer=Adam(3e-3), verbose=False)
    return m


def test_log_likelihood_is_above_the_elbo_and_rises_with_k(digits, trained):
    _, X_test, _, _ = digits
    x = X_test[:300]
    elbo = trained.elbo(x, n_samples=20).mean()
    ll = {K: trained.log_likelihood(x, n_samples=K).mean() for K in (1, 10, 100)}
    assert ll[1] == pytest.approx(elbo, abs=0.3)       # K = 1 is the ELBO (one-sample noise)
    assert elbo + 0.1 < ll[10] < ll[100]
    assert np.all(np.isfinite(trained.log_likelihood(x[:5], n_samples=3)))


def test_k_equal_one_is_the_elbo_in_expectation():
    rng = np.random.default_rng(4)
    m = tiny_vae(6, (5,), 2, activation="tanh", seed=4)
    x = np.round(rng.uniform(size=(3, 6)))
    draws = np.stack([m.log_likelihood(x, n_samples=1) for _ in range(4000)])
    elbo = m.elbo(x, n_samples=100_000)
    se = draws.std(axis=0) / math.sqrt(draws.shape[0])
    assert np.all(np.abs(draws.mean(0) - elbo) < 4 * se + 1e-3)
    # and -elbo is the loss with beta = 1, averaged over the noise
    loss = np.mean([m.loss(x) for _ in range(4000)])
    assert loss == pytest.approx(-elbo.mean(), abs=5 * draws.std() / math.sqrt(4000 * 3) + 0.02)


def test_log_likelihood_is_stable_for_tiny_weights():
    """Log-weights near -1e4 would underflow exp(); subtracting the max keeps them finite."""
    m = tiny_vae(4, (), 2, likelihood="gaussian", sigma=0.01, seed=1)
    x = np.full((2, 4), 3.0)
    ll = m.log_likelihood(x, n_samples=50)
    assert np.all(np.isfinite(ll)) and np.all(ll < -1e3)


# ---------------------------------------------------------------------- training does something
def test_training_beats_an_untrained_model_on_digits(digits, trained):
    X_train, X_test, _, _ = digits
    untrained = VAE(64, (64,), 8, seed=0)
    h = trained.history  # fit records every term
    assert {"loss", "recon", "kl"} <= set(h) and len(h["kl"]) == 30
    assert h["loss"][-1] == pytest.approx(h["recon"][-1] + h["kl"][-1], rel=1e-6)

    def recon_error(m):
        p = np.clip(minivae.to_numpy(m.reconstruct(X_test)), 1e-7, 1 - 1e-7)
        return -(X_test * np.log(p) + (1 - X_test) * np.log1p(-p)).sum(1).mean()

    assert recon_error(trained) < 0.6 * recon_error(untrained)
    elbo_trained, elbo_untrained = trained.elbo(X_test).mean(), untrained.elbo(X_test).mean()
    assert elbo_trained > elbo_untrained + 15  # nats per example, held-out
    assert trained.evaluate_terms(X_test)["loss"] == pytest.approx(-elbo_trained, abs=0.5)


def test_sample_decode_interpolate_shapes(trained, digits):
    _, X_test, _, _ = digits
    s = trained.sample(7)
    assert s.shape == (7, 64) and float(s.min()) >= 0 and float(s.max()) <= 1
    mu, logvar = trained.encode(X_test[:10], batch_size=3)
    assert mu.shape == logvar.shape == (10, 8)
    np.testing.assert_allclose(trained.decode(mu), trained.reconstruct(X_test[:10]), rtol=1e-5)
    path = trained.interpolate(X_test[0], X_test[1], steps=5)
    assert path.shape == (5, 64)
    np.testing.assert_allclose(path[0], trained.reconstruct(X_test[:1])[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(path[-1], trained.reconstruct(X_test[1:2])[0], rtol=1e-4, atol=1e-6)
    g = VAE(5, (4,), 2, likelihood="gaussian")
    assert g.decode(np.zeros((2, 2))).shape == (2, 5)


# ---------------------------------------------------------------------- save and load
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_save_load_round_trip(tmp_path, likelihood):
    rng = np.random.default_rng(0)
    m = VAE(6, (5, 4), 3, likelihood=likelihood, beta=0.5, sigma=0.2, activation="tanh", seed=7)
    for p in m.params.values():
        p += 0.1 * rng.normal(size=p.shape).astype(p.dtype)
    path = m.save(tmp_path / "vae")
    back = minivae.load(path)
    assert type(back) is VAE and back.config() == m.config()
    x, eps = rng.uniform(size=(4, 6)), rng.normal(size=(4, 3))
    assert back.loss(x, eps=eps) == m.loss(x, eps=eps)
    np.testing.assert_array_equal(back.reconstruct(x), m.reconstruct(x))


# ---------------------------------------------------------------------- bad inputs
def test_bad_inputs_name_the_argument():
    m = VAE(4, (3,), 2)
    x = np.full((3, 4), 0.5)
    with pytest.raises(ValueError, match=r"eps must have shape \(B, latent_dim\) = \(3, 2\)"):
        m.loss(x, eps=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="eps"):
        m.loss(x, eps=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="eps must be finite"):
        m.loss(x, eps=np.full((3, 2), np.nan))
    with pytest.raises(TypeError, match="eps"):
        m.loss(x, eps=[[0.0, 0.0]] * 3)
    bad = x.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="x must be finite"):
        m.loss(bad)
    with pytest.raises(ValueError, match="X must be finite"):
        m.fit(bad, epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        m.loss(x * 3)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        m.log_likelihood(x - 1, n_samples=2)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 4\)"):
        m.loss(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="takes no labels"):
        m.loss(x, np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match="rng"):
        m.loss(x, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_samples"):
        m.log_likelihood(x, n_samples=0)
    with pytest.raises(ValueError, match="steps"):
        m.interpolate(x[0], x[1], steps=1)
    with pytest.raises(ValueError, match="x_b must be one example"):
        m.interpolate(x[0], x, steps=3)
    with pytest.raises(ValueError, match=r"Z must have shape \(n, 2\)"):
        m.decode(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n must be"):
        m.sample(0)
    # the Gaussian likelihood takes any real data
    assert math.isfinite(VAE(4, (3,), 2, likelihood="gaussian").loss(x * 3 - 1))


@pytest.mark.parametrize("kwargs, match", [
    ({"likelihood": "poisson"}, "likelihood must be one of"),
    ({"beta": -1.0}, "beta must lie in"),
    ({"sigma": 0.0}, "sigma must lie in"),
    ({"activation": "swish"}, "activation must be one of"),
    ({"dtype": "int32"}, "dtype must be one of"),
])
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VAE(4, (3,), 2, **kwargs)


# ---------------------------------------------------------------------- backends
def test_same_numbers_on_every_backend(backend):
    """The model built on ``backend`` gives NumPy's loss and gradients (float64)."""
    rng = np.random.default_rng(0)
    x, eps = rng.uniform(size=(4, 5)), rng.normal(size=(4, 2))
    ref = tiny_vae(5, (3,), 2, activation="tanh", seed=1)
    old = minivae.get_backend()
    minivae.set_backend(backend)
    try:
        m = tiny_vae(5, (3,), 2, activation="tanh", seed=1)
        for k, v in ref.params.items():
            m.params[k][...] = m.xp.asarray(v)
        loss, grads = m.loss_and_grads(m.xp.asarray(x), eps=m.xp.asarray(eps))
        ll = m.log_likelihood(m.xp.asarray(x), n_samples=4)
        assert ll.shape == (4,) and minivae.backend.backend_of(ll) == backend
    finally:
        minivae.set_backend(old)
    loss_ref, grads_ref = ref.loss_and_grads(x, eps=eps)
    assert loss == pytest.approx(loss_ref, rel=1e-12)
    for k in grads_ref:
        np.testing.assert_allclose(minivae.to_numpy(grads[k]), grads_ref[k], rtol=1e-10, atol=1e-14)
