"""Every fast path equals the plain code it speeds up (the plain code is the source of truth)."""
import numpy as np
import pytest

from minivae.optim import _CHUNK, Adam


# parameters are O(1); an update is O(lr) = 1e-2, so atol at a few float32 roundings of
# O(1) numbers still catches any wrong formula by four orders of magnitude
@pytest.mark.parametrize("dtype, rtol, atol", [(np.float64, 1e-12, 1e-14), (np.float32, 2e-6, 1e-6)])
@pytest.mark.parametrize("size", [1, 7, _CHUNK + 5, 3 * _CHUNK])
def test_adam_fast_update_equals_the_reference(dtype, rtol, atol, size):
    rng = np.random.default_rng(size)
    p_fast = rng.normal(size=size).astype(dtype)
    p_ref = p_fast.copy()
    fast, ref = Adam(lr=1e-2), Adam(lr=1e-2)
    ref._update = ref._update_reference
    for _ in range(5):  # several steps: the bias correction changes with t
        g = rng.normal(scale=rng.uniform(1e-4, 1e2), size=size).astype(dtype)
        fast.step({"w": p_fast}, {"w": g})
        ref.step({"w": p_ref}, {"w": g})
    np.testing.assert_allclose(p_fast, p_ref, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fast.state["w"]["v"], ref.state["w"]["v"], rtol=rtol, atol=0)
    assert p_fast.dtype == dtype and fast.state["w"]["m"].dtype == dtype


def test_the_tolerance_above_would_catch_a_missing_bias_correction():
    """Adam without bias correction moves a first step by about 3.16 lr, not lr: far outside atol."""
    rng = np.random.default_rng(0)
    p = rng.normal(size=10).astype(np.float32)
    g = rng.normal(size=10).astype(np.float32)
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    m, v = (1 - b1) * g, (1 - b2) * g * g
    p_uncorrected = p - lr * m / (np.sqrt(v) + eps)
    p_fast = p.copy()
    Adam(lr=lr).step({"w": p_fast}, {"w": g})
    np.testing.assert_allclose(p_fast, p - lr * np.sign(g), rtol=0, atol=1e-6)
    assert np.abs(p_uncorrected - p_fast).min() > 1000 * 1e-6


def test_adam_falls_back_to_the_reference_for_non_contiguous_arrays():
    base = np.arange(20.0).reshape(4, 5)
    p = base[:, ::2]  # a strided view: updated in place through the reference rule
    g = np.ones_like(p)
    before = p.copy()
    Adam(lr=0.1).step({"w": p}, {"w": g})
    np.testing.assert_allclose(base[:, ::2], before - 0.1, rtol=1e-6)


def _plain_training_loop(model, X, batch_size, opt, epochs=1):
    """fit() written the plain way: per-parameter names, fresh gradient arrays."""
    for _ in range(epochs):
        perm = model.rng.permutation(X.shape[0])
        for s in range(0, X.shape[0], batch_size):
            _, grads = model.loss_and_grads(X[perm[s:s + batch_size]])
            opt.step(model.params, grads)


@pytest.mark.parametrize("make", [
    lambda: __import__("minivae").VAE(20, (12,), 3, seed=3),
    lambda: __import__("minivae").ContractiveAutoencoder(20, (12,), 4, contraction=0.5, seed=3),
    lambda: __import__("minivae").SparseAutoencoder(20, (12,), 4, seed=3),
])
def test_fit_with_flat_buffers_equals_the_plain_loop(make):
    from minivae import Adam
    from minivae.backend import to_numpy

    X = np.random.default_rng(0).uniform(size=(50, 20)).astype(np.float32)
    fast, plain = make(), make()
    fast.fit(X, epochs=2, batch_size=16, optimizer=Adam(1e-2), verbose=False)
    _plain_training_loop(plain, X, 16, Adam(1e-2), epochs=2)
    for k, v in plain.params.items():
        np.testing.assert_allclose(to_numpy(fast.params[k]), to_numpy(v), rtol=1e-5, atol=1e-6, err_msg=k)
    assert any(not np.allclose(to_numpy(v), to_numpy(make().params[k])) for k, v in plain.params.items())


def test_params_are_views_of_one_buffer_and_stay_live():
    from minivae import VAE

    model = VAE(10, (6,), 2)
    flat = model._packed()[0]
    assert flat.size == model.n_params()
    w = model.params["decoder.0.W"]
    w[0, 0] = 123.0  # editing the named array edits the buffer, and so the model
    assert 123.0 in flat


def test_dense_backward_without_dx_and_into_buffers_equals_the_plain_call():
    from minivae import ops

    rng = np.random.default_rng(0)
    x, W, b, dout = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 3))
    _, cache = ops.dense_forward(x, W, b)
    dx, dW, db = ops.dense_backward(dout, cache)
    bufW, bufb = np.empty_like(W), np.empty_like(b)
    none, dW2, db2 = ops.dense_backward(dout, cache, need_dx=False, out=(bufW, bufb))
    assert none is None and dW2 is bufW and db2 is bufb
    np.testing.assert_array_equal(dW2, dW)
    np.testing.assert_array_equal(db2, db)


@pytest.mark.parametrize("make", [
    lambda m: m.VAE(12, (8,), 3),
    lambda m: m.VAE(12, (8,), 3, likelihood="gaussian"),
    lambda m: m.CVAE(12, 4, (8,), 3),
    lambda m: m.Autoencoder(12, (8,), 3, loss="mse"),
    lambda m: m.DenoisingAutoencoder(12, (8,), 3),
    lambda m: m.SparseAutoencoder(12, (8,), 3),
    lambda m: m.ContractiveAutoencoder(12, (8,), 3),
])
def test_float32_end_to_end(make):
    """No float64 creeps into a float32 model: caches, gradients, loss terms, optimizer state."""
    import minivae

    model = make(minivae)
    X = np.random.default_rng(0).uniform(size=(10, 12))  # float64 data: converted on the way in
    y = np.arange(10) % 4 if isinstance(model, minivae.CVAE) else None
    terms, grads = model.loss_terms_and_grads(X, y)
    assert {np.asarray(v).dtype for v in terms.values()} == {np.dtype(np.float32)}
    assert {g.dtype for g in grads.values()} == {np.dtype(np.float32)}
    for block in model.blocks.values():
        for layer in block.layers:
            for field in layer._cache or ():
                if hasattr(field, "dtype"):
                    assert field.dtype == np.float32, (type(layer).__name__, field.dtype)
    opt = minivae.Adam()
    model.fit(X, y, epochs=1, batch_size=4, optimizer=opt, verbose=False)
    assert all(s[k].dtype == np.float32 for s in opt.state.values() for k in ("m", "v"))
    assert {p.dtype for p in model.params.values()} == {np.dtype(np.float32)}


def test_cupy_training_step_equals_numpy(gpu):
    """Same weights, same noise, float32: a CuPy loss, gradient and Adam step match NumPy's (also on the stand-in)."""
    from minivae import VAE, Adam
    from minivae.backend import to_numpy

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(64, 30)).astype(np.float32)
    eps = rng.normal(size=(64, 4)).astype(np.float32)
    cpu = VAE(30, (16,), 4, seed=1)
    gpu = VAE(30, (16,), 4, seed=1).to("cupy")
    loss_c, g_c = cpu.loss_and_grads(X, eps=eps)
    loss_g, g_g = gpu.loss_and_grads(X, eps=eps)
    assert loss_g == pytest.approx(loss_c, rel=1e-5)
    for k in g_c:
        np.testing.assert_allclose(to_numpy(g_g[k]), g_c[k], rtol=1e-5, atol=1e-6, err_msg=k)
    Adam(1e-2).step(cpu.params, g_c)
    Adam(1e-2).step(gpu.params, g_g)
    for k, v in cpu.params.items():
        np.testing.assert_allclose(to_numpy(gpu.params[k]), v, rtol=1e-5, atol=1e-6, err_msg=k)


def test_a_replaced_parameter_array_is_repacked_and_trained():
    """Replacing a layer's array by a new one must not leave fit training the old buffer."""
    from minivae import Adam, Autoencoder

    model = Autoencoder(6, (4,), 2, seed=0)
    layer = model.encoder.layers[0]
    fresh = np.random.default_rng(1).normal(size=layer.params["W"].shape).astype(np.float32)
    before = fresh.copy()
    layer.params["W"] = fresh
    model.fit(np.random.default_rng(0).uniform(size=(20, 6)), epochs=1, batch_size=5,
              optimizer=Adam(1e-2), verbose=False)
    W = model.params["encoder.0.W"]
    assert W is not fresh and W.base is model._packed()[0]  # now a view of the one buffer
    assert np.abs(W - before).max() > 1e-3  # and training moved it
    assert np.array_equal(fresh, before)  # the replaced array itself was only copied from


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_branch_free_sigmoid_numerator_equals_the_where_form(dtype):
    """max(e, [x >= 0]) is where(x >= 0, 1, e) for e = exp(-|x|): bit for bit, signed zeros and NaN too."""
    from minivae import ops

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=500) * 20, [0.0, -0.0, 1e-30, -1e-30, 1e4, -1e4, np.nan]]).astype(dtype)
    e = np.exp(-np.abs(x))
    plain = np.where(x >= 0, 1.0, e).astype(dtype) / (1.0 + e)
    np.testing.assert_array_equal(ops.sigmoid(x), plain)
    np.testing.assert_array_equal(ops.softplus_forward(x)[1].s, plain)
    t = rng.uniform(size=x.size).astype(dtype)
    _, dlogits = ops.bce_with_logits(x[None, :-1], t[None, :-1])  # (NaN is refused as a logit)
    np.testing.assert_array_equal(dlogits[0], (plain[:-1] - t[:-1]) * dtype(1.0))
