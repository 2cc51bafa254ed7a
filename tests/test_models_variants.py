"""The regularised autoencoders: denoising, sparse, contractive (docs/derivations.md §7.2–7.4).

Three kinds of test, as for every model:

- gradient checks (float64, hypothesis over small sizes and knob values, smooth
  activations): of the whole loss, and of each penalty **alone**, with the reconstruction
  switched off (a right reconstruction gradient could hide a wrong penalty gradient),
  plus checks that deliberately wrong penalty gradients are caught;
- semantic tests on the digits: the denoising model cleans corrupted digits better than
  a plain one, the sparse model's units fire at the target rate, the contractive model's
  encoder is flatter; the corruptions have the statistics they claim;
- bad inputs, and save/load round trips.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import minivae
from minivae import Adam, Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from minivae.backend import Random, to_numpy
from minivae.gradcheck import check_scalar
from minivae.models.contractive import encoder_jacobian, jacobian_norm
from minivae.models.sparse import kl_sparsity, l1_sparsity
from minivae.ops import bce_with_logits, sigmoid

TOL = 1e-6
small = st.integers(1, 6)
smooth = st.sampled_from(["tanh", "softplus", "sigmoid"])
CORRUPTIONS = ("gaussian", "masking", "salt_and_pepper")


@pytest.fixture(autouse=True)
def _numpy_backend():
    """These tests build models on NumPy (the gradient checks perturb NumPy arrays in place)."""
    old = minivae.get_backend()
    minivae.set_backend("numpy")
    yield
    minivae.set_backend(old)


@st.composite
def setups(draw):
    """Constructor arguments (float64, smooth activations) and a batch ``x`` in [0, 1]."""
    D, J, B = draw(small), draw(small), draw(small)
    hidden = tuple(draw(st.lists(small, max_size=2)))
    kw = dict(activation=draw(smooth), loss=draw(st.sampled_from(["bce", "mse"])),
              seed=draw(st.integers(0, 2**16)), dtype="float64")
    x = draw(arrays(np.float64, (B, D), elements=st.floats(0.0, 1.0)))
    return (D, hidden, J), kw, x


def check_loss_gradient(model, x, corruption_seed=None):
    """check_scalar on ``model.loss``; the corruption (if any) pinned by a fresh generator per call."""
    def pin():
        return None if corruption_seed is None else np.random.default_rng(corruption_seed)

    _, grads = model.loss_and_grads(x, rng=pin())
    assert set(grads) == set(model.params)
    return check_scalar(lambda: model.loss(x, rng=pin()), model.params, grads, tol=TOL)


def no_reconstruction(model):
    """Switch the reconstruction term off: the loss is then the penalty alone."""
    model._reconstruction = lambda out, x, check: (np.zeros(()), np.zeros_like(out))
    return model


# ---------------------------------------------------------------------------------- gradients
@given(setup=setups(), corruption=st.sampled_from(CORRUPTIONS), noise=st.floats(0.0, 1.0),
       corruption_seed=st.integers(0, 2**16))
def test_denoising_gradient(setup, corruption, noise, corruption_seed):
    sizes, kw, x = setup
    model = DenoisingAutoencoder(*sizes, corruption=corruption, noise=noise, **kw)
    check_loss_gradient(model, x, corruption_seed).assert_ok()


@given(setup=setups(), rho=st.floats(0.01, 0.99), beta=st.floats(0.0, 5.0), penalty=st.sampled_from(["kl", "l1"]))
def test_sparse_gradient(setup, rho, beta, penalty):
    sizes, kw, x = setup
    model = SparseAutoencoder(*sizes, sparsity=rho, sparsity_weight=beta, penalty=penalty, **kw)
    check_loss_gradient(model, x).assert_ok()


@given(setup=setups(), lam=st.floats(0.0, 5.0))
def test_contractive_gradient(setup, lam):
    sizes, kw, x = setup
    model = ContractiveAutoencoder(*sizes, contraction=lam, **kw)
    check_loss_gradient(model, x).assert_ok()


@given(setup=setups(), rho=st.floats(0.01, 0.99), beta=st.floats(0.1, 5.0), penalty=st.sampled_from(["kl", "l1"]))
def test_sparse_penalty_alone_gradient(setup, rho, beta, penalty):
    """With the reconstruction off, the whole gradient is the penalty's, through the encoder."""
    sizes, kw, x = setup
    model = no_reconstruction(SparseAutoencoder(*sizes, sparsity=rho, sparsity_weight=beta, penalty=penalty, **kw))
    terms, grads = model.loss_terms_and_grads(x)
    assert float(terms["loss"]) == float(terms["penalty"])
    check_loss_gradient(model, x).assert_ok()
    assert all(not np.any(g) for k, g in grads.items() if k.startswith("decoder"))  # the decoder plays no part


@given(setup=setups(), lam=st.floats(0.1, 5.0))
def test_contractive_penalty_alone_gradient(setup, lam):
    sizes, kw, x = setup
    model = no_reconstruction(ContractiveAutoencoder(*sizes, contraction=lam, **kw))
    terms, grads = model.loss_terms_and_grads(x)
    assert float(terms["loss"]) == float(terms["penalty"])
    check_loss_gradient(model, x).assert_ok()
    assert all(not np.any(g) for k, g in grads.items() if k.startswith("decoder"))


@given(data=st.data(), rho=st.floats(0.01, 0.99), beta=st.floats(0.1, 5.0))
def test_sparsity_penalties_as_functions_of_the_code(data, rho, beta):
    """kl_sparsity and l1_sparsity: value and dP/dh, with h a free (B, J) array in (0, 1)."""
    B, J = data.draw(small), data.draw(small)
    a = data.draw(arrays(np.float64, (B, J), elements=st.floats(-4.0, 4.0)))
    h = np.ascontiguousarray(sigmoid(a))
    for fn in (lambda v: kl_sparsity(v, rho, beta), lambda v: l1_sparsity(v, beta)):
        _, dh = fn(h)
        check_scalar(lambda: fn(h)[0], {"h": h}, {"h": dh}, tol=TOL).assert_ok()


@given(data=st.data(), lam=st.floats(0.1, 5.0))
def test_contractive_penalty_hook_direct_and_code_gradients(data, lam):
    """``_penalty`` with the code held fixed: its dcode and its *direct* dW, each checked alone."""
    D, J, B = data.draw(small), data.draw(small), data.draw(small)
    model = ContractiveAutoencoder(D, (), J, contraction=lam, dtype="float64", seed=data.draw(st.integers(0, 99)))
    code = np.ascontiguousarray(sigmoid(data.draw(arrays(np.float64, (B, J), elements=st.floats(-4.0, 4.0)))))
    _, dcode, direct = model._penalty(None, code, True)
    assert list(direct) == ["encoder.0.W"]
    params = {"code": code, "encoder.0.W": model.params["encoder.0.W"]}
    grads = {"code": dcode, "encoder.0.W": direct["encoder.0.W"]}
    check_scalar(lambda: model._penalty(None, code, False)[0], params, grads, tol=TOL).assert_ok()


# ------------------------------------------------------------------- wrong gradients are caught
def _sparse_without_coupling(model):
    """The classic slip: treat each h_bj as its own mean (forget that rho_hat averages the batch)."""
    right = model._penalty

    def wrong(x_in, code, grads):
        value, _, _ = right(x_in, code, False)
        rho, beta, B = model.sparsity, model.sparsity_weight, code.shape[0]
        return value, beta / B * (-rho / code + (1 - rho) / (1 - code)), {}

    model._penalty = wrong
    return model


def _sparse_without_batch_mean(model):
    """dP/dh without the 1/B of the batch mean."""
    right = model._penalty

    def wrong(x_in, code, grads):
        value, dcode, direct = right(x_in, code, True)
        return value, dcode * code.shape[0], direct

    model._penalty = wrong
    return model


def _contractive_without_direct_term(model):
    """Forget that the penalty depends on W directly (through sum_j W_ji^2), not only through h."""
    right = model._penalty

    def wrong(x_in, code, grads):
        value, dcode, _ = right(x_in, code, True)
        return value, dcode, {}

    model._penalty = wrong
    return model


def _contractive_without_code_term(model):
    """Forget that s = h(1 - h) depends on h: keep only the direct term."""
    right = model._penalty

    def wrong(x_in, code, grads):
        value, dcode, direct = right(x_in, code, True)
        return value, dcode * 0.0, direct

    model._penalty = wrong
    return model


@pytest.mark.parametrize("build, spoil", [
    (lambda: SparseAutoencoder(5, (4,), 3, sparsity=0.1, activation="tanh", dtype="float64"), _sparse_without_coupling),
    (lambda: SparseAutoencoder(5, (4,), 3, sparsity=0.1, activation="tanh", dtype="float64"), _sparse_without_batch_mean),
    (lambda: ContractiveAutoencoder(5, (4,), 3, contraction=1.0, activation="tanh", dtype="float64"),
     _contractive_without_direct_term),
    (lambda: ContractiveAutoencoder(5, (4,), 3, contraction=1.0, activation="tanh", dtype="float64"),
     _contractive_without_code_term),
], ids=["sparse-no-coupling", "sparse-no-1/B", "contractive-no-direct-dW", "contractive-no-dcode"])
def test_a_wrong_penalty_gradient_fails_the_check(build, spoil):
    x = np.random.default_rng(0).uniform(size=(6, 5))
    assert check_loss_gradient(no_reconstruction(build()), x).passed  # the right one passes...
    for model in (no_reconstruction(spoil(build())), spoil(build())):  # ...the spoiled one fails, alone or not
        report = check_loss_gradient(model, x)
        assert report.max_rel_error > 1e-2, report


# --------------------------------------------------------------------------- denoising semantics
def test_denoising_loss_reconstructs_the_clean_input_from_the_corrupted_one():
    model = DenoisingAutoencoder(6, (5,), 3, corruption="masking", noise=0.5, dtype="float64")
    x = np.random.default_rng(1).uniform(size=(8, 6))
    x_tilde = model.corrupt(x, rng=np.random.default_rng(7))
    assert not np.array_equal(x_tilde, x)
    expected, _ = bce_with_logits(model.decoder.forward(model.encoder.forward(x_tilde)), x)  # target: CLEAN x
    assert model.loss(x, rng=np.random.default_rng(7)) == pytest.approx(float(expected), rel=1e-12)
    wrong, _ = bce_with_logits(model.decoder.forward(model.encoder.forward(x_tilde)), x_tilde)
    assert float(wrong) != pytest.approx(float(expected))


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_rng_pins_the_corruption_and_the_model_generator_varies_it(corruption):
    model = DenoisingAutoencoder(6, (), 3, corruption=corruption, noise=0.4, dtype="float64")
    x = np.random.default_rng(1).uniform(size=(8, 6))
    assert model.loss(x, rng=np.random.default_rng(3)) == model.loss(x, rng=np.random.default_rng(3))
    assert model.loss(x, rng=Random(3)) == model.loss(x, rng=Random(3))
    assert model.loss(x) != model.loss(x)  # no rng: fresh noise from model.rng at each call
    value, _ = model.loss_and_grads(x, rng=np.random.default_rng(3))
    assert value == model.loss(x, rng=np.random.default_rng(3))
    with pytest.raises(TypeError, match="rng"):
        model.loss(x, rng=3)


def test_corruption_statistics():
    x = np.random.default_rng(0).uniform(0.05, 0.95, size=(400, 50))  # no entry is already 0 or 1
    n = x.size

    def corrupt(kind, noise):
        m = DenoisingAutoencoder(50, (), 2, corruption=kind, noise=noise, dtype="float64")
        return to_numpy(m.corrupt(x, rng=np.random.default_rng(1)))

    for kind in CORRUPTIONS:
        np.testing.assert_array_equal(corrupt(kind, 0.0), x)  # noise 0: no corruption
    xt = corrupt("gaussian", 0.3)
    assert abs((xt - x).mean()) < 0.01 and (xt - x).std() == pytest.approx(0.3, rel=0.02)
    nu, sd = 0.3, np.sqrt(0.3 * 0.7 / n)  # each entry hit independently with probability nu
    xt = corrupt("masking", nu)
    hit = xt != x
    assert np.all(xt[hit] == 0.0) and abs(hit.mean() - nu) < 4 * sd
    xt = corrupt("salt_and_pepper", nu)
    hit = xt != x
    assert np.all(np.isin(xt[hit], (0.0, 1.0))) and abs(hit.mean() - nu) < 4 * sd
    assert abs((xt[hit] == 1.0).mean() - 0.5) < 4 * np.sqrt(0.25 / hit.sum())  # salt or pepper, 1/2 each
    np.testing.assert_array_equal(corrupt("masking", 1.0), 0.0)


# ------------------------------------------------------------------------------ sparse semantics
def test_kl_sparsity_value_reduction_and_clipping():
    rng = np.random.default_rng(0)
    h = sigmoid(rng.normal(size=(7, 4)))
    rho, beta = 0.1, 2.0
    rho_hat = h.mean(axis=0)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    P, dh = kl_sparsity(h, rho, beta)
    assert float(P) == pytest.approx(beta * kl.sum(), rel=1e-12)  # once per batch: no mean over b
    np.testing.assert_allclose(dh, np.tile(beta / 7 * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)), (7, 1)))
    assert float(kl_sparsity(np.full((5, 3), rho), rho, beta)[0]) == pytest.approx(0.0, abs=1e-15)
    # a unit that every example saturates (float32 sigmoid of a > 17 is exactly 1): finite, pushed down
    P, dh = kl_sparsity(np.ones((4, 3), dtype=np.float32), rho, beta)
    assert np.isfinite(float(P)) and np.all(np.isfinite(dh)) and np.all(dh > 0)
    assert P.dtype == np.float32 and dh.dtype == np.float32


def test_mean_activation():
    X = np.random.default_rng(0).uniform(size=(30, 6))
    model = SparseAutoencoder(6, (4,), 3)
    rates = model.mean_activation(X, batch_size=7)
    assert rates.shape == (3,)
    np.testing.assert_allclose(rates, model.encode(X).mean(axis=0), rtol=1e-6)


# ------------------------------------------------------------------------- contractive semantics
@given(data=st.data(), activation=smooth)
def test_encoder_jacobian_matches_finite_differences(data, activation):
    D, J, B = data.draw(small), data.draw(small), data.draw(small)
    hidden = tuple(data.draw(st.lists(small, max_size=2)))
    model = ContractiveAutoencoder(D, hidden, J, activation=activation, dtype="float64",
                                   seed=data.draw(st.integers(0, 99)))
    x = data.draw(arrays(np.float64, (B, D), elements=st.floats(0.0, 1.0)))
    step = 1e-5
    numeric = np.empty((B, J, D))
    for d in range(D):
        e = np.zeros(D)
        e[d] = step
        numeric[:, :, d] = (model.encode(x + e) - model.encode(x - e)) / (2 * step)
    exact = encoder_jacobian(model, x)
    np.testing.assert_allclose(exact, numeric, rtol=1e-6, atol=1e-9)
    assert jacobian_norm(model, x, batch_size=2) == pytest.approx(float((exact ** 2).sum()) / B, rel=1e-12)


def test_contractive_penalty_is_the_jacobian_norm_without_hidden_layers():
    """With hidden_dims=() the closed form is lambda times the whole encoder's ||J||_F^2, batch mean."""
    x = np.random.default_rng(0).uniform(size=(9, 7))
    model = ContractiveAutoencoder(7, (), 4, contraction=0.7, dtype="float64", seed=3)
    terms, _ = model.loss_terms_and_grads(x, grads=False)
    assert float(terms["penalty"]) == pytest.approx(0.7 * model.jacobian_norm(x), rel=1e-12)


# --------------------------------------------------------------------------- training on digits
@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn")
    from minivae.datasets import load_digits, train_test_split

    X, y = load_digits()
    X_train, X_test, _, _ = train_test_split(X, y, test_size=0.25, seed=0)
    return X_train, X_test


def train(model, X, epochs):
    history = model.fit(X, epochs=epochs, batch_size=64, optimizer=Adam(3e-3), verbose=False)
    assert history["loss"][-1] < 0.8 * history["loss"][0], history["loss"]  # training lowers the loss
    return model


def squared_error(model, X_in, X_clean):
    return float(((to_numpy(model.reconstruct(X_in)) - X_clean) ** 2).sum(axis=1).mean())


@pytest.mark.parametrize("corruption, noise", [("gaussian", 0.3), ("masking", 0.3), ("salt_and_pepper", 0.2)])
def test_denoising_cleans_corrupted_digits_better_than_a_plain_autoencoder(digits, corruption, noise):
    """Measured (seed 0, 40 epochs): squared error to the clean test digits, DAE / plain ≈ 0.60-0.68."""
    X_train, X_test = digits
    kw = dict(hidden_dims=(32,), latent_dim=16, seed=0)
    plain = train(Autoencoder(64, **kw), X_train, 40)
    dae = train(DenoisingAutoencoder(64, corruption=corruption, noise=noise, **kw), X_train, 40)
    X_noisy = dae.corrupt(X_test, rng=np.random.default_rng(1))  # held-out digits, corrupted once for both
    err_plain, err_dae = squared_error(plain, X_noisy, X_test), squared_error(dae, X_noisy, X_test)
    assert err_dae < 0.85 * err_plain, (err_dae, err_plain)


def test_sparse_units_fire_at_the_target_rate(digits):
    """Measured: mean rate 0.057 (target 0.05) against 0.54 for a plain sigmoid code."""
    X_train, X_test = digits
    kw = dict(hidden_dims=(32,), latent_dim=32, seed=0)
    plain = train(Autoencoder(64, code_activation="sigmoid", **kw), X_train, 30)
    sparse = train(SparseAutoencoder(64, sparsity=0.05, **kw), X_train, 30)
    rates = to_numpy(sparse.mean_activation(X_test))
    assert abs(rates.mean() - 0.05) < 0.02 and np.abs(rates - 0.05).max() < 0.05, rates
    assert to_numpy(plain.encode(X_test)).mean() > 0.3
    l1 = train(SparseAutoencoder(64, penalty="l1", sparsity_weight=1.0, **kw), X_train, 30)
    assert to_numpy(l1.mean_activation(X_test)).mean() < 0.2


@pytest.mark.parametrize("hidden_dims, lam, ratio", [((), 0.3, 0.5), ((32,), 1.0, 0.6)])
def test_contractive_encoder_is_flatter_than_a_plain_one(digits, hidden_dims, lam, ratio):
    """Measured: mean ||J||_F^2 on test digits 1.6 vs 5.1 (no hidden layer), 4.0 vs 10.2 (one)."""
    X_train, X_test = digits
    kw = dict(hidden_dims=hidden_dims, latent_dim=16, seed=0)
    plain = train(Autoencoder(64, code_activation="sigmoid", **kw), X_train, 30)
    cae = train(ContractiveAutoencoder(64, contraction=lam, **kw), X_train, 30)
    assert cae.jacobian_norm(X_test) < ratio * jacobian_norm(plain, X_test)


# ----------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("cls, kwargs, name", [
    (DenoisingAutoencoder, dict(corruption="gaussian", noise=-0.1), "noise"),
    (DenoisingAutoencoder, dict(corruption="gaussian", noise=float("inf")), "noise"),
    (DenoisingAutoencoder, dict(corruption="masking", noise=1.5), "noise"),
    (DenoisingAutoencoder, dict(corruption="salt_and_pepper", noise=-0.2), "noise"),
    (DenoisingAutoencoder, dict(corruption="dropout"), "corruption"),
    (SparseAutoencoder, dict(sparsity=0.0), "sparsity"),
    (SparseAutoencoder, dict(sparsity=1.0), "sparsity"),
    (SparseAutoencoder, dict(sparsity=1.5), "sparsity"),
    (SparseAutoencoder, dict(sparsity_weight=-1.0), "sparsity_weight"),
    (SparseAutoencoder, dict(penalty="l2"), "penalty"),
    (ContractiveAutoencoder, dict(contraction=-0.1), "contraction"),
])
def test_bad_knobs_raise_value_error_naming_them(cls, kwargs, name):
    with pytest.raises(ValueError, match=name) as info:
        cls(6, (), 2, **kwargs)
    if name == "corruption":
        assert all(c in str(info.value) for c in CORRUPTIONS)


def test_bad_arrays():
    dae = DenoisingAutoencoder(6, (), 2)
    with pytest.raises(ValueError, match=r"\(n, 6\)"):
        dae.corrupt(np.zeros((3, 5)))
    with pytest.raises(TypeError, match="eps"):
        dae.loss(np.zeros((3, 6)), eps=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        SparseAutoencoder(6, (), 2).loss(np.full((3, 6), 2.0))


# ------------------------------------------------------------------------------------ save/load
@pytest.mark.parametrize("build", [
    lambda: DenoisingAutoencoder(6, (5,), 3, corruption="salt_and_pepper", noise=0.15, activation="tanh", seed=4),
    lambda: SparseAutoencoder(6, (5,), 3, sparsity=0.1, sparsity_weight=0.5, penalty="l1", loss="mse",
                              dtype="float64"),
    lambda: ContractiveAutoencoder(6, (5, 4), 3, contraction=0.25, activation="softplus", seed=2),
], ids=["denoising", "sparse", "contractive"])
def test_save_load_round_trip(tmp_path, build):
    model = build()
    X = np.random.default_rng(0).uniform(size=(20, 6))
    model.fit(X, epochs=2, batch_size=8, verbose=False)  # parameters that differ from a fresh model's
    loaded = minivae.load(model.save(tmp_path / "m.npz"))
    assert type(loaded) is type(model)
    assert loaded.config() == model.config()
    assert set(loaded.params) == set(model.params)
    for k, v in model.params.items():
        np.testing.assert_array_equal(to_numpy(loaded.params[k]), to_numpy(v))
        assert loaded.params[k].dtype == v.dtype
    np.testing.assert_array_equal(to_numpy(loaded.reconstruct(X)), to_numpy(model.reconstruct(X)))
