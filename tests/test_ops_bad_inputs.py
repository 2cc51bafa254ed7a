"""Bad inputs get a clear error that names the argument (and the expected shape or range).

``ValueError`` for a wrong shape or range, ``TypeError`` for something that is not a
floating-point array, ``RuntimeError`` for a layer's backward before its forward.
"""
import numpy as np
import pytest

from minivae import ops
from minivae.layers import Dense, LeakyReLU, ReLU, Sequential, Sigmoid, Softplus, Tanh

F = np.float64


def z(*shape):
    return np.zeros(shape, F)


# ---------------------------------------------------------------------------
# shapes -> ValueError naming the argument
# ---------------------------------------------------------------------------

def test_dense_forward_shapes(put):
    x, W, b = put(z(4, 3)), put(z(3, 5)), put(z(5))
    with pytest.raises(ValueError, match=r"^x must have W\.shape\[0\] = 3 features"):
        ops.dense_forward(put(z(4, 2)), W, b)
    with pytest.raises(ValueError, match=r"^b must have shape \(5,\)"):
        ops.dense_forward(x, W, put(z(4)))
    with pytest.raises(ValueError, match=r"^x must be 2-D; got shape \(3,\)"):
        ops.dense_forward(put(z(3)), W, b)
    with pytest.raises(ValueError, match=r"^W must be 2-D"):
        ops.dense_forward(x, put(z(3)), b)
    with pytest.raises(ValueError, match=r"^b must be 1-D"):
        ops.dense_forward(x, W, put(z(1, 5)))


def test_dense_backward_dout_shape(put):
    _, cache = ops.dense_forward(put(z(4, 3)), put(z(3, 5)), put(z(5)))
    with pytest.raises(ValueError, match=r"^dout must have the shape of the layer's output, \(4, 5\)"):
        ops.dense_backward(put(z(4, 3)), cache)


ACTIVATION_PAIRS = [
    (ops.relu_forward, ops.relu_backward),
    (lambda x: ops.leaky_relu_forward(x, 0.1), ops.leaky_relu_backward),
    (ops.sigmoid_forward, ops.sigmoid_backward),
    (ops.tanh_forward, ops.tanh_backward),
    (ops.softplus_forward, ops.softplus_backward),
    (ops.identity_forward, ops.identity_backward),
]
ACT_IDS = ["relu", "leaky_relu", "sigmoid", "tanh", "softplus", "identity"]


@pytest.mark.parametrize("fwd, bwd", ACTIVATION_PAIRS, ids=ACT_IDS)
def test_activation_backward_dout_shape(put, fwd, bwd):
    _, cache = fwd(put(z(2, 3)))
    with pytest.raises(ValueError, match=r"^dout must have .*shape.*\(2, 3\)"):
        bwd(put(z(3, 2)), cache)


def test_reparameterize_shapes(put):
    a = put(z(2, 3))
    with pytest.raises(ValueError, match=r"^logvar must have the shape of mu, \(2, 3\)"):
        ops.reparameterize(a, put(z(2, 4)), a)
    with pytest.raises(ValueError, match=r"^eps must have the shape of mu, \(2, 3\)"):
        ops.reparameterize(a, a, put(z(1, 3)))
    with pytest.raises(ValueError, match=r"^mu must be 2-D"):
        ops.reparameterize(put(z(3)), a, a)
    _, cache = ops.reparameterize(a, a, a)
    with pytest.raises(ValueError, match=r"^dz must have the shape of eps, \(2, 3\)"):
        ops.reparameterize_backward(put(z(2, 2)), cache)


def test_kl_shapes(put):
    with pytest.raises(ValueError, match=r"^logvar must have the shape of mu, \(2, 3\)"):
        ops.kl_standard_normal(put(z(2, 3)), put(z(3, 2)))
    with pytest.raises(ValueError, match=r"^mu must be 2-D"):
        ops.kl_standard_normal(put(z(6)), put(z(6)))
    with pytest.raises(ValueError, match=r"^logvar must be 2-D"):
        ops.kl_standard_normal(put(z(2, 3)), put(z(6)))


@pytest.mark.parametrize("loss, first", [(ops.mse, "pred"), (ops.bce_with_logits, "logits")])
def test_loss_shapes(put, loss, first):
    with pytest.raises(ValueError, match=rf"^target must have the shape of {first}, \(2, 3\)"):
        loss(put(z(2, 3)), put(z(2, 4)))
    with pytest.raises(ValueError, match=rf"^{first} must be 2-D"):
        loss(put(z(6)), put(z(6)))
    with pytest.raises(ValueError, match=r"^target must be 2-D"):
        loss(put(z(2, 3)), put(z(6)))


# ---------------------------------------------------------------------------
# bce target outside [0, 1]
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [255.0, -0.5, 1.0 + 1e-6])
def test_bce_target_outside_unit_interval(put, bad):
    target = np.full((2, 3), 0.5)
    target[1, 2] = bad
    with pytest.raises(ValueError, match=r"target.*\[0, 1\]"):
        ops.bce_with_logits(put(z(2, 3)), put(target))


def test_bce_raw_pixels_message_says_what_to_do(put):
    pixels = np.arange(6, dtype=F).reshape(2, 3) * 51.0  # 0 .. 255
    with pytest.raises(ValueError, match=r"target.*\[0, 1\]") as err:
        ops.bce_with_logits(put(z(2, 3)), put(pixels))
    assert "255" in str(err.value)


def test_bce_accepts_the_ends_of_the_interval_and_can_skip_the_check(put):
    target = np.array([[0.0, 1.0, 0.5]])
    ops.bce_with_logits(put(z(1, 3)), put(target))
    ops.bce_with_logits(put(z(1, 3)), put(target * 255), check_target=False)


# ---------------------------------------------------------------------------
# non-arrays and integer arrays -> TypeError naming the argument
# ---------------------------------------------------------------------------

NOT_FLOAT_ARRAYS = {
    "list": lambda shape: np.zeros(shape).tolist(),
    "int array": lambda shape: np.zeros(shape, dtype=np.int64),
    "bool array": lambda shape: np.zeros(shape, dtype=bool),
    "scalar": lambda shape: 1.0,
}


def _calls(good):
    """(op name, argument name, call(bad) -> result) for every array argument of every op."""
    x2 = good(2, 3)
    yield "dense_forward", "x", lambda bad: ops.dense_forward(bad, good(3, 4), good(4))
    yield "dense_forward", "W", lambda bad: ops.dense_forward(x2, bad, good(4))
    yield "dense_forward", "b", lambda bad: ops.dense_forward(x2, good(3, 4), bad)
    for name, (fwd, _) in zip(ACT_IDS, ACTIVATION_PAIRS):
        yield name + "_forward", "x", fwd
    yield "reparameterize", "mu", lambda bad: ops.reparameterize(bad, x2, x2)
    yield "reparameterize", "logvar", lambda bad: ops.reparameterize(x2, bad, x2)
    yield "reparameterize", "eps", lambda bad: ops.reparameterize(x2, x2, bad)
    yield "kl_standard_normal", "mu", lambda bad: ops.kl_standard_normal(bad, x2)
    yield "kl_standard_normal", "logvar", lambda bad: ops.kl_standard_normal(x2, bad)
    yield "mse", "pred", lambda bad: ops.mse(bad, x2)
    yield "mse", "target", lambda bad: ops.mse(x2, bad)
    yield "bce_with_logits", "logits", lambda bad: ops.bce_with_logits(bad, x2)
    yield "bce_with_logits", "target", lambda bad: ops.bce_with_logits(x2, bad)


CALLS = list(_calls(z))


@pytest.mark.parametrize("kind", sorted(NOT_FLOAT_ARRAYS))
@pytest.mark.parametrize("op, arg, call", CALLS, ids=[f"{op}-{arg}" for op, arg, _ in CALLS])
def test_op_rejects_non_float_arrays(kind, op, arg, call):
    bad = NOT_FLOAT_ARRAYS[kind]((2, 3) if arg in ("x", "mu", "logvar", "eps", "pred", "target", "logits")
                                 else {"W": (3, 4), "b": (4,)}[arg])
    with pytest.raises(TypeError, match=rf"^{arg} must"):
        call(bad)


def test_int_array_message_names_dtype():
    with pytest.raises(TypeError, match=r"^x must hold floating-point numbers; got dtype int"):
        ops.relu_forward(np.zeros((2, 3), dtype=np.int32))


def _backward_calls():
    x = z(2, 3)
    yield "dense_backward", (lambda d: ops.dense_backward(d, ops.dense_forward(x, z(3, 4), z(4))[1])), (2, 4)
    for name, (fwd, bwd) in zip(ACT_IDS, ACTIVATION_PAIRS):
        yield name + "_backward", (lambda d, fwd=fwd, bwd=bwd: bwd(d, fwd(x)[1])), (2, 3)
    yield "reparameterize_backward", (lambda d: ops.reparameterize_backward(d, ops.reparameterize(x, x, x)[1])), (2, 3)


BACKWARD_CALLS = list(_backward_calls())


@pytest.mark.parametrize("kind", ["list", "int array"])
@pytest.mark.parametrize("op, call, shape", BACKWARD_CALLS, ids=[c[0] for c in BACKWARD_CALLS])
def test_backward_rejects_non_float_dout(kind, op, call, shape):
    bad = NOT_FLOAT_ARRAYS[kind](shape)
    arg = "dz" if op == "reparameterize_backward" else "dout"
    with pytest.raises(TypeError, match=rf"^{arg} must"):
        call(bad)


# ---------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------

LAYERS = [lambda: Dense(3, 4, seed=0, dtype="float64"), ReLU, lambda: LeakyReLU(0.1), Sigmoid, Tanh, Softplus,
          lambda: Sequential(Dense(3, 4, seed=0, dtype="float64"), Tanh())]
LAYER_IDS = ["Dense", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Sequential"]


@pytest.mark.parametrize("make", LAYERS, ids=LAYER_IDS)
def test_layer_backward_before_forward(make):
    with pytest.raises(RuntimeError, match="backward called before forward"):
        make().backward(z(2, 4))


@pytest.mark.parametrize("make", LAYERS, ids=LAYER_IDS)
def test_layer_forward_rejects_non_arrays_and_ints(make):
    with pytest.raises(TypeError, match=r"^x must"):
        make().forward(z(2, 3).tolist())
    with pytest.raises(TypeError, match=r"^x must hold floating-point"):
        make().forward(np.zeros((2, 3), dtype=np.int64))


def test_dense_layer_shape_errors():
    d = Dense(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"^x must have W\.shape\[0\] = 3"):
        d.forward(np.zeros((2, 5), np.float32))
    d.forward(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"^dout must have the shape of the layer's output, \(2, 4\)"):
        d.backward(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("n", [0, -1])
@pytest.mark.parametrize("which", ["in_features", "out_features"])
def test_dense_nonpositive_sizes(n, which):
    args = {"in_features": 3, "out_features": 4, which: n}
    with pytest.raises(ValueError, match=rf"^{which} must be an integer >= 1; got {n}"):
        Dense(args["in_features"], args["out_features"])


@pytest.mark.parametrize("bad", [2.5, "3", None, True])
def test_dense_non_integer_sizes(bad):
    with pytest.raises(TypeError, match=r"^in_features must be an integer"):
        Dense(bad, 4)
    with pytest.raises(TypeError, match=r"^out_features must be an integer"):
        Dense(4, bad)


@pytest.mark.parametrize("bad", ["kaiming", "He"])
def test_dense_bad_init_name(bad):
    with pytest.raises(ValueError, match=r"^init must be one of .*'he'.*'xavier'"):
        Dense(3, 4, init=bad)


@pytest.mark.parametrize("bad", [None, ["he"]])
def test_dense_init_that_is_not_a_string(bad):
    with pytest.raises(TypeError, match=r"^init must be a string, one of .*'he'.*'xavier'"):
        Dense(3, 4, init=bad)


def test_dense_bad_dtype():
    with pytest.raises(ValueError, match=r"dtype must be one of .*float32.*float64"):
        Dense(3, 4, dtype="int32")


def test_leaky_relu_bad_slope():
    with pytest.raises(ValueError, match=r"^negative_slope must lie in \[0.0, inf\]"):
        LeakyReLU(-0.1)
    with pytest.raises(TypeError, match=r"^negative_slope must be a number"):
        LeakyReLU("0.1")


@pytest.mark.parametrize("bad", ["relu", ops.relu_forward, None, 3, [ReLU()]])
def test_sequential_rejects_non_layers(bad):
    with pytest.raises(TypeError, match=r"^layers\[1\] must be a minivae layer"):
        Sequential(ReLU(), bad)


def test_nan_target_is_refused_by_bce():
    target = np.array([[0.5, np.nan]])
    with pytest.raises(ValueError, match=r"^target must lie in \[0, 1\]"):
        ops.bce_with_logits(np.zeros((1, 2)), target)


def test_check_scalar_refuses_float32_params():
    from minivae.gradcheck import check_scalar

    p = np.zeros(3, dtype=np.float32)
    with pytest.raises(TypeError, match="^w must be a float64 array"):
        check_scalar(lambda: float(p.sum()), {"w": p}, {"w": np.ones(3)})


def test_leaky_relu_slope_must_be_a_number():
    with pytest.raises(TypeError, match="^negative_slope must be a number"):
        ops.leaky_relu_forward(np.zeros((1, 2)), "a")
