"""The convolutional layers and the ConvVAE: gradient checks, meaning, bad input (§10)."""
import numpy as np
import pytest

import minivae
from minivae import Conv2d, ConvTranspose2d, ConvVAE, Reshape, ops
from minivae.gradcheck import check_scalar

TOL = 1e-6


@pytest.mark.parametrize("likelihood, activation", [("bernoulli", "tanh"), ("gaussian", "softplus")])
def test_gradient_of_the_whole_loss(likelihood, activation):
    rng = np.random.default_rng(0)
    m = ConvVAE(64, (2, 3), 2, likelihood=likelihood, activation=activation, sigma=0.5, beta=0.7,
                dtype="float64", seed=1)
    for p in m.params.values():
        p += 0.2 * rng.normal(size=p.shape)
    x, eps = rng.uniform(size=(3, 64)), rng.normal(size=(3, 2))
    loss, grads = m.loss_and_grads(x, eps=eps)
    assert set(grads) == set(m.params)
    check_scalar(lambda: m.loss(x, eps=eps), m.params, grads, tol=TOL).assert_ok()


def test_layers_store_the_gradients_of_their_pairs():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 6, 6))
    for layer, fwd, bwd in ((Conv2d(3, 4, 4, stride=2, padding=1, seed=0, dtype="float64"),
                             ops.conv2d_forward, ops.conv2d_backward),
                            (ConvTranspose2d(3, 4, 4, stride=2, padding=1, seed=0, dtype="float64"),
                             ops.conv_transpose2d_forward, ops.conv_transpose2d_backward)):
        out = layer.forward(x)
        ref, cache = fwd(x, layer.params["W"], layer.params["b"], 2, 1)
        np.testing.assert_array_equal(out, ref)
        dy = rng.normal(size=out.shape)
        dx = layer.backward(dy)
        rdx, rdW, rdb = bwd(dy, cache)
        np.testing.assert_array_equal(dx, rdx)
        np.testing.assert_array_equal(layer.grads["W"], rdW)
        np.testing.assert_array_equal(layer.grads["b"], rdb)
    r = Reshape((3, 6, 6))
    flat = x.reshape(2, -1)
    np.testing.assert_array_equal(r.forward(flat), x)
    np.testing.assert_array_equal(r.backward(x), flat)


def test_a_convolution_moves_with_its_input():
    """Shift the image by the stride and the feature map shifts by one: the same kernel everywhere.

    A dense layer has no such property; this is what a ConvVAE's encoder adds.
    """
    rng = np.random.default_rng(2)
    m = ConvVAE(784, (4, 8), 4, seed=0)
    conv = m.encoder.layers[1]
    img = np.zeros((1, 1, 28, 28), dtype=np.float32)
    img[0, 0, 6:16, 6:18] = rng.uniform(size=(10, 12))
    shifted = np.roll(img, (2, 4), axis=(2, 3))
    a, b = conv.forward(img), conv.forward(shifted)
    np.testing.assert_allclose(b[:, :, 3:12, 4:13], a[:, :, 2:11, 2:11], rtol=1e-6, atol=1e-6)
    assert np.abs(a[:, :, 2:11, 2:11]).max() > 0.1


def test_fits_digits_and_saves_through_the_checkpoint_format(tmp_path):
    """Training lowers the held-out -ELBO; save and minivae.load give the same model."""
    from minivae.datasets import load_digits

    X, _ = load_digits()
    X_train, X_test = X[:1200], X[1200:]
    m = ConvVAE(64, (8, 16), 8, seed=0)
    before = -float(m.elbo(X_test).mean())
    m.fit(X_train, epochs=3, verbose=False)
    after = -float(m.elbo(X_test).mean())
    assert after < before - 5.0, (before, after)
    path = m.save(tmp_path / "conv")
    back = minivae.load(path)
    assert type(back) is ConvVAE and back.hidden_dims == (8, 16)
    for k, v in m.params.items():
        np.testing.assert_array_equal(back.params[k], v)
    Z = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    np.testing.assert_array_equal(back.decode(Z), m.decode(Z))
    assert m.sample(3).shape == (3, 64) and m.log_likelihood(X_test[:4], n_samples=5).shape == (4,)


@pytest.mark.parametrize("kwargs, kind, words", [
    (dict(input_dim=60), ValueError, "input_dim must be a square number"),
    (dict(input_dim=64, hidden_dims=(2, 2, 2, 2)), ValueError, "hidden_dims must give between 1 and 3"),
    (dict(input_dim=784, hidden_dims=()), ValueError, "hidden_dims must give between 1 and 2"),
    (dict(input_dim=64, likelihood="poisson"), ValueError, "likelihood"),
])
def test_bad_construction(kwargs, kind, words):
    with pytest.raises(kind, match=words):
        ConvVAE(**kwargs)


def test_bad_data_and_layer_input():
    m = ConvVAE(64, (2,), 2)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 64\)"):
        m.encode(np.zeros((3, 63)))
    with pytest.raises(ValueError, match="x must hold 12 numbers per example"):
        Reshape((3, 4)).forward(np.zeros((2, 11)))
    with pytest.raises(ValueError, match="x must have 3 channels"):
        Conv2d(3, 2, 3).forward(np.zeros((1, 2, 5, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="in_channels must be"):
        Conv2d(0, 2, 3)
