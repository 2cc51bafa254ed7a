"""Layer objects are thin shells around the functional pairs.

``forward`` equals the functional op; ``backward`` returns the op's ``dx`` and stores the
parameter gradients in ``grads`` (same keys as ``params``), replacing earlier ones;
``Sequential`` flattens names as ``"0.W"``, ``"0.b"``, ... over the layers' live arrays.
"""
import numpy as np
import pytest

from minivae import ops, to_numpy
from minivae.gradcheck import check_scalar
from minivae.layers import Dense, Identity, LeakyReLU, ReLU, Sequential, Sigmoid, Softplus, Tanh


def _np(a):
    return to_numpy(a)


def _dense(backend, n_in=3, n_out=4, seed=0, dtype="float64", **kw):
    return Dense(n_in, n_out, seed=seed, dtype=dtype, **kw).to(backend)


# ---------------------------------------------------------------------------
# Dense
# ---------------------------------------------------------------------------

def test_dense_forward_and_backward_equal_the_functional_pair(backend, put):
    layer = _dense(backend)
    rng = np.random.default_rng(0)
    x, dy = put(rng.normal(size=(5, 3))), put(rng.normal(size=(5, 4)))
    out = layer.forward(x)
    ref_out, cache = ops.dense_forward(x, layer.params["W"], layer.params["b"])
    np.testing.assert_array_equal(_np(out), _np(ref_out))

    dx = layer.backward(dy)
    ref_dx, ref_dW, ref_db = ops.dense_backward(dy, cache)
    np.testing.assert_array_equal(_np(dx), _np(ref_dx))
    assert set(layer.grads) == set(layer.params) == {"W", "b"}
    np.testing.assert_array_equal(_np(layer.grads["W"]), _np(ref_dW))
    np.testing.assert_array_equal(_np(layer.grads["b"]), _np(ref_db))
    for k in layer.params:
        assert layer.grads[k].shape == layer.params[k].shape
        assert layer.grads[k].dtype == layer.params[k].dtype


def test_dense_backward_never_updates_parameters(backend, put):
    layer = _dense(backend)
    before = {k: _np(v).copy() for k, v in layer.params.items()}
    layer.forward(put(np.ones((2, 3))))
    layer.backward(put(np.ones((2, 4))))
    for k, v in layer.params.items():
        np.testing.assert_array_equal(_np(v), before[k])


def test_dense_grads_are_replaced_not_accumulated(backend, put):
    layer = _dense(backend)
    rng = np.random.default_rng(1)
    x, dy1, dy2 = put(rng.normal(size=(5, 3))), put(rng.normal(size=(5, 4))), put(rng.normal(size=(5, 4)))
    layer.forward(x)
    layer.backward(dy1)
    first = {k: _np(v).copy() for k, v in layer.grads.items()}
    layer.backward(dy1)  # same dy again: the same gradients, not twice them
    for k in first:
        np.testing.assert_array_equal(_np(layer.grads[k]), first[k])
    layer.backward(dy2)  # a new dy: exactly its gradients
    _, dW2, db2 = ops.dense_backward(dy2, ops.dense_forward(x, layer.params["W"], layer.params["b"])[1])
    np.testing.assert_array_equal(_np(layer.grads["W"]), _np(dW2))
    np.testing.assert_array_equal(_np(layer.grads["b"]), _np(db2))
    # and a new forward then backward uses the new input
    x2 = put(rng.normal(size=(2, 3)))
    layer.forward(x2)
    layer.backward(put(np.ones((2, 4))))
    np.testing.assert_allclose(_np(layer.grads["W"]), _np(x2).T @ np.ones((2, 4)), rtol=1e-14)


def test_dense_shapes_and_defaults():
    layer = Dense(3, 4)
    assert layer.params["W"].shape == (3, 4) and layer.params["b"].shape == (4,)
    assert layer.params["W"].dtype == np.float32
    assert layer.grads == {}
    assert layer.forward(np.ones((2, 3), np.float32)).shape == (2, 4)
    assert "Dense(3, 4" in repr(layer)


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------

ACTIVATIONS = [
    (ReLU, ops.relu_forward, ops.relu_backward),
    (lambda: LeakyReLU(0.2), lambda x: ops.leaky_relu_forward(x, 0.2), ops.leaky_relu_backward),
    (LeakyReLU, lambda x: ops.leaky_relu_forward(x, 0.01), ops.leaky_relu_backward),
    (Sigmoid, ops.sigmoid_forward, ops.sigmoid_backward),
    (Tanh, ops.tanh_forward, ops.tanh_backward),
    (Softplus, ops.softplus_forward, ops.softplus_backward),
    (Identity, ops.identity_forward, ops.identity_backward),
]
ACT_IDS = ["ReLU", "LeakyReLU(0.2)", "LeakyReLU()", "Sigmoid", "Tanh", "Softplus", "Identity"]


@pytest.mark.parametrize("make, fwd, bwd", ACTIVATIONS, ids=ACT_IDS)
def test_activation_layers_equal_their_ops(put, make, fwd, bwd):
    rng = np.random.default_rng(2)
    x, dy = put(rng.normal(size=(4, 5)) * 3), put(rng.normal(size=(4, 5)))
    layer = make()
    out = layer.forward(x)
    ref_out, cache = fwd(x)
    np.testing.assert_array_equal(_np(out), _np(ref_out))
    np.testing.assert_array_equal(_np(layer.backward(dy)), _np(bwd(dy, cache)))
    assert layer.params == {} and layer.grads == {}


def test_activation_backward_uses_the_last_forward(put):
    layer = ReLU()
    layer.forward(put(np.array([[1.0, -1.0]])))
    layer.forward(put(np.array([[-1.0, 1.0]])))
    assert _np(layer.backward(put(np.array([[5.0, 7.0]])))).tolist() == [[0.0, 7.0]]


# ---------------------------------------------------------------------------
# Sequential
# ---------------------------------------------------------------------------

def _mlp(backend, dtype="float64"):
    return Sequential(
        Dense(3, 5, seed=1, dtype=dtype), ReLU(), Dense(5, 4, seed=2, dtype=dtype, init="xavier"), Tanh(),
        Dense(4, 2, seed=3, dtype=dtype),
    ).to(backend)


def test_sequential_param_names_and_live_arrays(backend, put):
    net = _mlp(backend)
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    for name, arr in net.params.items():
        i, k = name.split(".")
        assert arr is net[int(i)].params[k]
    x = put(np.random.default_rng(3).normal(size=(6, 3)))
    before = _np(net.forward(x)).copy()
    net.params["4.b"][...] += 1.0  # edit in place through the flattened dict
    np.testing.assert_allclose(_np(net.forward(x)), before + 1.0, rtol=1e-14)
    assert float(_np(net[4].params["b"]).min()) == 1.0  # the layer saw it
    net.params["0.W"][...] = 0.0
    net.params["0.b"][...] = 0.0
    expected = np.tanh(np.zeros((6, 5)) @ _np(net[2].params["W"]) + _np(net[2].params["b"])) @ _np(
        net[4].params["W"]) + _np(net[4].params["b"])
    np.testing.assert_allclose(_np(net.forward(x)), expected, rtol=1e-13, atol=1e-14)


def test_sequential_forward_backward_equal_the_chain_of_layers(backend, put):
    net = _mlp(backend)
    rng = np.random.default_rng(4)
    x, dy = put(rng.normal(size=(6, 3))), put(rng.normal(size=(6, 2)))
    out = net.forward(x)
    h = x
    caches = []
    fwd = [ops.dense_forward, ops.relu_forward, ops.dense_forward, ops.tanh_forward, ops.dense_forward]
    for i, f in enumerate(fwd):
        p = net[i].params
        h, c = f(h, p["W"], p["b"]) if p else f(h)
        caches.append(c)
    np.testing.assert_array_equal(_np(out), _np(h))

    dx = net.backward(dy)
    d = dy
    ref_grads = {}
    bwd = [ops.dense_backward, ops.relu_backward, ops.dense_backward, ops.tanh_backward, ops.dense_backward]
    for i in reversed(range(5)):
        r = bwd[i](d, caches[i])
        if isinstance(r, tuple):
            d, ref_grads[f"{i}.W"], ref_grads[f"{i}.b"] = r
        else:
            d = r
    np.testing.assert_array_equal(_np(dx), _np(d))
    assert set(net.grads) == set(net.params)
    for k in ref_grads:
        np.testing.assert_array_equal(_np(net.grads[k]), _np(ref_grads[k]))


def test_sequential_grads_are_replaced_not_accumulated(backend, put):
    net = _mlp(backend)
    rng = np.random.default_rng(5)
    x, dy = put(rng.normal(size=(6, 3))), put(rng.normal(size=(6, 2)))
    net.forward(x)
    net.backward(dy)
    first = {k: _np(v).copy() for k, v in net.grads.items()}
    net.backward(dy)
    for k in first:
        np.testing.assert_array_equal(_np(net.grads[k]), first[k])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_check_of_a_whole_sequential(seed):
    """Dense-Tanh-Dense in float64: check_scalar on L = sum(dout * net(x)) against the
    stored grads and the returned dx (check_scalar perturbs the live ``params`` in place,
    so this also shows that they are live)."""
    net = Sequential(Dense(4, 6, seed=seed, dtype="float64", init="xavier"), Tanh(),
                     Dense(6, 3, seed=seed + 10, dtype="float64"))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(5, 4))
    net.params["0.b"][...] = rng.normal(size=6)  # non-zero biases, so their gradients are tested too
    net.params["2.b"][...] = rng.normal(size=3)
    dout = rng.normal(size=(5, 3))  # random, never all ones

    net.forward(x)
    dx = net.backward(dout)
    grads = dict(net.grads, x=dx)
    params = dict(net.params, x=x)
    assert set(grads) == {"0.W", "0.b", "2.W", "2.b", "x"}

    report = check_scalar(lambda: float((dout * net.forward(x)).sum()), params, grads)
    report.assert_ok()

    # and the check has teeth: a gradient missing one layer's contribution fails
    wrong = dict(grads, **{"0.W": grads["0.W"] * 1.01})
    assert not check_scalar(lambda: float((dout * net.forward(x)).sum()), params, wrong).passed


def test_sequential_basics():
    net = Sequential(Dense(2, 3, seed=0), ReLU())
    assert len(net) == 2 and isinstance(net[1], ReLU)
    assert "Sequential(Dense(2, 3" in repr(net)
    assert Sequential().forward(np.ones((1, 2))).shape == (1, 2)
    with pytest.raises(AttributeError):
        net.params = {"0.W": np.zeros((2, 3))}
