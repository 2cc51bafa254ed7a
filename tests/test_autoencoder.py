"""The plain autoencoder (docs/derivations.md §7.1): its gradient, what it learns, its checks.

Three kinds of test, as for every model:

* the gradient of the whole loss against central differences, for every activation and
  both losses (float64, hypothesis over the sizes);
* semantic tests a gradient check cannot see: a linear autoencoder reaches the error of
  PCA (Baldi & Hornik, 1989), its code is PCA only up to an invertible mixing, training
  lowers the loss, ``reconstruct`` gives probabilities for BCE, inference runs in batches;
* bad inputs, each a clear ``ValueError``/``TypeError`` naming the argument.
"""
import functools
import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from minivae import Adam, Autoencoder
from minivae.gradcheck import check_scalar
from minivae.layers import ACTIVATIONS, Dense, LeakyReLU, ReLU
from minivae.models.autoencoder import LOSSES
from minivae.models.base import params_to_numpy

TOL = 1e-6

# ---------------------------------------------------------------------------
# 1. the gradient of the whole loss
# ---------------------------------------------------------------------------

# ReLU and leaky ReLU have a kink at 0 (§3.1). The check moves one parameter at a time
# by at most 2·h·max(1, |θ|) = 2e-4·max(1, |θ|) (gradcheck's 4-point stencil), which shifts
# a pre-activation by that step times O(1) gains in these tiny networks. An example
# whose pre-activations all stay KINK_MARGIN = 5e-3 (25 steps) away from 0 cannot have a
# difference straddle a kink; the rarer examples that come closer are skipped with
# hypothesis' ``assume`` rather than let a correct backward fail.
KINK_MARGIN = 5e-3
KINKED = (ReLU, LeakyReLU)

# 12 activation/loss pairs: a third of the profile's examples each keeps the file fast
# (the "thorough" profile still gets many).
GRAD_EXAMPLES = settings.default.max_examples


def kink_distance(model, x):
    """The smallest |input| of any ReLU or leaky ReLU in the model, on batch ``x``."""
    dist = np.inf
    h = x
    for block in (model.encoder, model.decoder):
        for layer in block.layers:
            if isinstance(layer, KINKED) and h.size:
                dist = min(dist, float(np.abs(h).min()))
            h = layer.forward(h)
    return dist


@st.composite
def architectures(draw):
    """(input_dim, hidden_dims, latent_dim, batch) with every size in 1..6.

    Zero, one or two hidden layers: ``hidden_dims=()`` is one Dense layer each way.
    """
    size = st.integers(1, 6)
    n_hidden = draw(st.integers(0, 2))
    hidden = tuple(draw(size) for _ in range(n_hidden))
    return draw(size), hidden, draw(size), draw(size)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", tuple(ACTIVATIONS))
@settings(max_examples=GRAD_EXAMPLES)
@given(arch=architectures(), seed=st.integers(0, 2**16))
def test_gradient_of_the_whole_loss(activation, loss, arch, seed):
    input_dim, hidden, latent, B = arch
    model = Autoencoder(input_dim, hidden, latent, activation=activation, loss=loss, seed=seed,
                        dtype="float64")
    rng = np.random.default_rng(seed)
    # BCE targets are pixel intensities in [0, 1]; squared error takes any real target
    x = rng.random((B, input_dim)) if loss == "bce" else rng.normal(size=(B, input_dim))
    # biases start at 0; random ones make db (and everything downstream) generic
    for name, p in model.params.items():
        if name.endswith(".b"):
            p[...] = rng.normal(scale=0.5, size=p.shape)
    if activation in ("relu", "leaky_relu"):
        assume(kink_distance(model, x) > KINK_MARGIN)

    value, grads = model.loss_and_grads(x)
    assert set(grads) == set(model.params)
    assert value == pytest.approx(model.loss(x), rel=1e-12)
    report = check_scalar(lambda: model.loss(x), model.params, grads, tol=TOL)
    report.assert_ok()


def test_gradient_with_a_nonlinear_code():
    """``code_activation`` adds an activation after the bottleneck; its gradient flows too."""
    model = Autoencoder(5, (4,), 3, activation="tanh", code_activation="sigmoid", loss="bce",
                        seed=3, dtype="float64")
    x = np.random.default_rng(3).random((4, 5))
    _, grads = model.loss_and_grads(x)
    check_scalar(lambda: model.loss(x), model.params, grads, tol=TOL).assert_ok()


# ---------------------------------------------------------------------------
# 2. what the model means
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    from minivae.datasets import load_digits

    X, _ = load_digits(dtype="float64")
    return X


@pytest.fixture(scope="module")
def linear_ae(digits):
    """A linear autoencoder with 5 codes, trained with squared error on the 8×8 digits."""
    model = Autoencoder(64, (), 5, activation="linear", loss="mse", seed=0)
    opt = Adam(lr=3e-2)
    # a short learning-rate schedule: large steps to get there, small ones to settle
    for lr, epochs in ((3e-2, 100), (1e-2, 100), (1e-3, 100)):
        opt.lr = lr
        model.fit(digits, epochs=epochs, batch_size=256, optimizer=opt, verbose=False)
    return model


@functools.lru_cache(maxsize=None)
def _svd_of_centred_digits():
    from minivae.datasets import load_digits

    X, _ = load_digits(dtype="float64")
    Xc = X - X.mean(axis=0)
    return np.linalg.svd(Xc, full_matrices=False)


def pca(X, k):
    """PCA by SVD of the centred data: per-example squared error of the best rank-k fit, axes."""
    assert X.shape == (1797, 64)  # the digits: their SVD is computed once
    _, s, Vt = _svd_of_centred_digits()
    # sum over features, mean over examples: the library's one reduction
    return (s[k:] ** 2).sum() / X.shape[0], Vt[:k]


def test_linear_autoencoder_reaches_the_pca_error(digits, linear_ae):
    """Baldi & Hornik (1989): the global minimum of a linear AE is PCA's error.

    The AE has biases, so it can centre the data itself: its best is the error of PCA on
    centred data, the smallest error of any rank-k affine reconstruction. It must get
    within a few percent of that, and can never go below it.
    """
    pca_error, _ = pca(digits, 5)
    R = linear_ae.reconstruct(digits).astype(np.float64)
    ae_error = ((R - digits) ** 2).sum(axis=1).mean()
    ratio = ae_error / pca_error
    assert ratio < 1.02, f"AE error {ae_error:.5f} vs PCA {pca_error:.5f} (ratio {ratio:.5f})"
    # cannot beat PCA; the slack covers float32 round-off only
    assert ratio > 1 - 1e-4, f"AE error {ae_error:.5f} is below PCA's {pca_error:.5f}: impossible"


def test_linear_autoencoder_spans_the_pca_subspace_but_not_its_axes(digits, linear_ae):
    """The decoder's rows span the top principal subspace; they need not be the axes."""
    _, axes = pca(digits, 5)                                    # (5, 64), orthonormal rows
    W = linear_ae.decoder[0].params["W"].astype(np.float64)    # (5, 64)
    Q, _ = np.linalg.qr(W.T)
    cosines = np.linalg.svd(Q.T @ axes.T, compute_uv=False)    # cosines of principal angles
    assert cosines.min() > 0.99
    # ... but W is any basis of that subspace: its rows are neither unit nor orthogonal
    gram = W @ W.T
    assert not np.allclose(gram, np.eye(5), atol=0.1)


def test_mixing_the_code_leaves_a_linear_reconstruction_unchanged():
    """Why a linear AE recovers PCA's subspace but not its axes.

    For any invertible A, the encoder x ↦ (xW₁ + b₁)A and decoder z ↦ zA⁻¹W₂ + b₂ give
    the same reconstruction, so the loss cannot prefer one basis of the code space.
    """
    model = Autoencoder(6, (), 3, activation="linear", loss="mse", seed=1, dtype="float64")
    x = np.random.default_rng(0).normal(size=(10, 6))
    before, loss_before = model.reconstruct(x), model.loss(x)
    A = np.random.default_rng(1).normal(size=(3, 3)) + 3 * np.eye(3)
    enc, dec = model.encoder[0].params, model.decoder[0].params
    enc["W"][...] = enc["W"] @ A
    enc["b"][...] = enc["b"] @ A
    dec["W"][...] = np.linalg.solve(A, dec["W"])
    np.testing.assert_allclose(model.reconstruct(x), before, rtol=1e-10, atol=1e-12)
    assert model.loss(x) == pytest.approx(loss_before, rel=1e-10)


def test_training_lowers_the_loss(digits):
    model = Autoencoder(64, (32,), 8, activation="relu", loss="bce", seed=0)
    before = model.loss(digits)
    history = model.fit(digits, epochs=5, batch_size=64, verbose=False)
    after = model.loss(digits)
    assert after < 0.9 * before
    assert history["loss"][-1] < history["loss"][0]


def test_bce_reconstruct_returns_probabilities():
    model = Autoencoder(7, (5,), 2, loss="bce", seed=0, dtype="float64")
    R = model.reconstruct(np.random.default_rng(0).random((20, 7)))
    assert R.shape == (20, 7)
    assert ((R >= 0) & (R <= 1)).all()
    # far-out codes give logits of any size: still finite probabilities
    D = model.decode(np.full((2, 2), 1e4) * np.array([[1.0], [-1.0]]))
    assert np.isfinite(D).all() and ((D >= 0) & (D <= 1)).all()
    # decode applies the sigmoid to the decoder's logits
    z = model.encode(np.random.default_rng(1).random((3, 7)))
    logits = model.decoder.forward(z)
    np.testing.assert_allclose(model.decode(z), 1 / (1 + np.exp(-logits)), rtol=1e-12)


def test_mse_output_is_linear_and_empty_hidden_dims_is_one_layer_each_way():
    model = Autoencoder(4, (), 2, activation="relu", loss="mse", seed=0, dtype="float64")
    assert sorted(model.params) == ["decoder.0.W", "decoder.0.b", "encoder.0.W", "encoder.0.b"]
    assert [type(layer) for layer in model.encoder.layers] == [Dense]
    assert [type(layer) for layer in model.decoder.layers] == [Dense]
    p = model.params
    x = np.random.default_rng(0).normal(size=(5, 4)) * 10
    expected = (x @ p["encoder.0.W"] + p["encoder.0.b"]) @ p["decoder.0.W"] + p["decoder.0.b"]
    np.testing.assert_allclose(model.reconstruct(x), expected, rtol=1e-12)
    assert model.encode(x).shape == (5, 2)


def test_two_hidden_layers_mirror_in_the_decoder():
    model = Autoencoder(10, (8, 6), 3, activation="tanh", loss="mse", seed=0)
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes["encoder.0.W"] == (10, 8) and shapes["encoder.4.W"] == (6, 3)
    assert shapes["decoder.0.W"] == (3, 6) and shapes["decoder.4.W"] == (8, 10)
    assert model.n_params() == sum(v.size for v in model.params.values())


def test_same_seed_same_initial_weights():
    a, b = (Autoencoder(6, (4,), 2, seed=5) for _ in range(2))
    pa, pb = params_to_numpy(a), params_to_numpy(b)
    assert all(np.array_equal(pa[k], pb[k]) for k in pa)
    pc = params_to_numpy(Autoencoder(6, (4,), 2, seed=6))
    assert not np.array_equal(pa["encoder.0.W"], pc["encoder.0.W"])


# ---------------------------------------------------------------------------
# inference in batches: 70,000 × 784 must not need 70,000-row intermediates
# ---------------------------------------------------------------------------

def spy_rows(layer):
    """Record the number of rows of every batch that reaches ``layer.forward``."""
    rows = []
    forward = layer.forward

    def spy(x):
        rows.append(x.shape[0])
        return forward(x)

    layer.forward = spy
    return rows


@pytest.mark.parametrize("method", ["encode", "reconstruct", "decode"])
def test_inference_runs_in_batches(method):
    model = Autoencoder(12, (8,), 3, loss="bce", seed=0, dtype="float64")
    n = 2_500
    rng = np.random.default_rng(0)
    X = rng.random((n, 3 if method == "decode" else 12))
    whole = getattr(model, method)(X, batch_size=n)           # one batch: the reference
    block = model.decoder if method == "decode" else model.encoder
    rows = spy_rows(block.layers[0])
    out = getattr(model, method)(X, batch_size=1_000)
    assert rows == [1_000, 1_000, 500]
    np.testing.assert_allclose(out, whole, rtol=1e-12, atol=1e-15)


def test_inference_on_empty_input_gives_empty_output():
    model = Autoencoder(6, (4,), 2, seed=0)
    assert model.encode(np.zeros((0, 6), np.float32)).shape == (0, 2)
    assert model.reconstruct(np.zeros((0, 6), np.float32)).shape == (0, 6)
    assert model.decode(np.zeros((0, 2), np.float32)).shape == (0, 6)


def test_encode_peak_memory_is_one_batch_not_the_whole_input():
    """The peak of ``encode`` grows with ``batch_size``, not with the number of rows.

    10,000 rows of 784 pixels through a 256-wide hidden layer: unbatched, the hidden
    activations alone would be 10,000 × 256 × 4 B ≈ 10 MB, twice (Dense, then ReLU). In
    batches of 1,000 they are 1 MB each.
    """
    model = Autoencoder(784, (256,), 2, seed=0)
    X = np.random.default_rng(0).random((10_000, 784), dtype=np.float32)
    tracemalloc.start()
    try:
        Z = model.encode(X, batch_size=1_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert Z.shape == (10_000, 2)
    assert peak < 4 * 2**20, f"encode peaked at {peak / 2**20:.1f} MiB"


# ---------------------------------------------------------------------------
# 3. bad inputs
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, match", [
    ({"latent_dim": 0}, ValueError, r"latent_dim must be an integer >= 1"),
    ({"latent_dim": 1.5}, TypeError, r"latent_dim must be an integer"),
    ({"input_dim": 0}, ValueError, r"input_dim must be an integer >= 1"),
    ({"hidden_dims": (4, 0)}, ValueError, r"hidden_dims\[1\]"),
    ({"hidden_dims": "abc"}, TypeError, r"hidden_dims must be a sequence of integers .*; got str 'abc'"),
    ({"hidden_dims": (4, "8")}, TypeError, r"hidden_dims\[1\] must be an integer"),
    ({"activation": "gelu"}, ValueError, r"activation must be one of .*'relu'.*; got 'gelu'"),
    ({"code_activation": "gelu"}, ValueError, r"code_activation must be one of"),
    ({"loss": "l1"}, ValueError, r"loss must be one of \('bce', 'mse'\); got 'l1'"),
    ({"dtype": "float16"}, ValueError, r"dtype must be one of"),
    ({"seed": -1}, ValueError, r"seed must be an integer >= 0"),
])
def test_bad_constructor_arguments(kwargs, error, match):
    args = {"input_dim": 6, "hidden_dims": (4,), "latent_dim": 2, **kwargs}
    with pytest.raises(error, match=match):
        Autoencoder(args.pop("input_dim"), args.pop("hidden_dims"), args.pop("latent_dim"), **args)


def _bad_data():
    ok = np.random.default_rng(0).random((4, 6))
    nan = ok.copy()
    nan[1, 2] = np.nan
    return [
        ("wrong feature count", ok[:, :5], "bce", ValueError, r"must have shape \(n, 6\); got \(4, 5\)"),
        ("1-D", ok[0], "bce", ValueError, r"must have shape \(n, 6\)"),
        ("NaN", nan, "mse", ValueError, r"must be finite"),
        ("inf", np.full((2, 6), np.inf), "mse", ValueError, r"must be finite"),
        ("raw 0..255 pixels", np.full((3, 6), 255.0), "bce", ValueError,
         r"must lie in \[0, 1\].*got values in \[255, 255\].*on a 0\.\.255 scale, divide by 255"),
        ("negative targets", -ok, "bce", ValueError, r"must lie in \[0, 1\]"),
        ("empty", np.zeros((0, 6)), "bce", ValueError, r"is empty"),
        ("not an array", [[0.5] * 6], "bce", TypeError, r"must be an array of shape \(n, 6\); got list"),
        ("strings", np.array([["a"] * 6]), "bce", TypeError, r"must hold numbers"),
    ]


@pytest.mark.parametrize("what, X, loss, error, match", _bad_data(), ids=[c[0] for c in _bad_data()])
def test_bad_data_names_the_argument(what, X, loss, error, match):
    model = Autoencoder(6, (4,), 2, loss=loss, seed=0)
    with pytest.raises(error, match=r"^X " + match):
        model.fit(X, epochs=1, verbose=False)
    with pytest.raises(error, match=r"^x " + match):
        model.loss(X)
    with pytest.raises(error, match=r"^x " + match):
        model.loss_and_grads(X)


def test_mse_accepts_targets_outside_the_unit_interval():
    model = Autoencoder(6, (4,), 2, loss="mse", seed=0)
    model.loss(np.full((3, 6), 255.0))


def test_no_labels_and_no_noise():
    model = Autoencoder(6, (4,), 2, seed=0)
    x = np.random.default_rng(0).random((3, 6))
    with pytest.raises(TypeError, match=r"takes no labels"):
        model.loss(x, np.zeros(3, dtype=int))
    with pytest.raises(TypeError, match=r"eps must be None"):
        model.loss(x, eps=np.zeros((3, 2)))


def test_bad_codes_and_batch_size():
    model = Autoencoder(6, (4,), 2, seed=0)
    with pytest.raises(ValueError, match=r"Z must have shape \(n, 2\); got \(3, 3\)"):
        model.decode(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 6\)"):
        model.encode(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1"):
        model.reconstruct(np.zeros((3, 6)), batch_size=0)
