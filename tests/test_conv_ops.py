"""The convolution and the transposed convolution: gradient checks, meaning, bad input (§10).

The plain loop versions in minivae/ops/conv.py are the source of truth; the fast
version (im2col and one matrix product) must equal them.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minivae import ops
from minivae.gradcheck import check_pair
from minivae.ops import conv

from .strategies import matrices

TOL = 1e-6


@st.composite
def geometry(draw):
    """``(x_shape, W_shape, stride, padding)`` of a small convolution whose sizes tile."""
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    P = draw(st.integers(0, k - 1))
    Ho, Wo = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    H, W = (Ho - 1) * s + k - 2 * P, (Wo - 1) * s + k - 2 * P
    if H < 1 or W < 1:  # too much padding for so small an output: pad less
        P, H, W = 0, (Ho - 1) * s + k, (Wo - 1) * s + k
    N, C_in, C_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (N, C_in, H, W), (C_out, C_in, k, k), s, P


@st.composite
def conv_problem(draw):
    x_shape, W_shape, s, P = draw(geometry())
    x = draw(matrices(x_shape, 10.0))
    W = draw(matrices(W_shape, 10.0))
    b = draw(matrices((W_shape[0],), 10.0))
    return x, W, b, s, P


@given(problem=conv_problem())
def test_conv2d_gradients(put, problem):
    x, W, b, s, P = problem
    check_pair(lambda x_, W_, b_: ops.conv2d_forward(x_, W_, b_, s, P), ops.conv2d_backward,
               put(x), put(W), put(b), names=["x", "W", "b"], tol=TOL).assert_ok()


@given(problem=conv_problem())
def test_conv_transpose2d_gradients(put, problem):
    x, W, _, s, P = problem  # W (C_out, C_in, k, k) of the convolution is (C_in', C_out', k, k) here
    y = np.random.default_rng(0).normal(size=ops.conv2d_forward(x, W, np.zeros(W.shape[0]), s, P)[0].shape)
    c = np.linspace(-1.0, 1.0, W.shape[1])
    check_pair(lambda y_, W_, c_: ops.conv_transpose2d_forward(y_, W_, c_, s, P), ops.conv_transpose2d_backward,
               put(y), put(W), put(c), names=["x", "W", "b"], tol=TOL).assert_ok()


# ---------------------------------------------------------------------------- the fast version equals the loops
@settings(max_examples=10)
@given(problem=conv_problem())
def test_fast_equals_loops(problem):
    x, W, b, s, P = problem
    out, cache = ops.conv2d_forward(x, W, b, s, P)
    scale = 1.0 + np.abs(x).max() * np.abs(W).sum() + np.abs(b).max()
    np.testing.assert_allclose(out, conv.conv2d_forward_loops(x, W, b, s, P), rtol=0, atol=1e-12 * scale)
    dout = np.random.default_rng(1).normal(size=out.shape)
    for name, fast, slow in zip(("dx", "dW", "db"), ops.conv2d_backward(dout, cache),
                                conv.conv2d_backward_loops(dout, x, W, s, P)):
        assert fast.shape == slow.shape, name
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-10 * (1 + np.abs(slow).max()), err_msg=name)
    c = np.linspace(-1.0, 1.0, W.shape[1])
    y, t_cache = ops.conv_transpose2d_forward(dout, W, c, s, P)
    np.testing.assert_allclose(y, conv.conv_transpose2d_forward_loops(dout, W, c, s, P), rtol=1e-10, atol=1e-10)
    # its backward, by the loops read the other way (§10.5): dx = conv(dy), dW = the convolution's dW, roles swapped
    dy = np.random.default_rng(2).normal(size=y.shape)
    dx, dW, db = ops.conv_transpose2d_backward(dy, t_cache)
    np.testing.assert_allclose(dx, conv.conv2d_forward_loops(dy, W, np.zeros(W.shape[0]), s, P), rtol=1e-10,
                               atol=1e-10 * (1 + np.abs(dx).max()))
    np.testing.assert_allclose(dW, conv.conv2d_backward_loops(dout, dy, W, s, P)[1], rtol=1e-10,
                               atol=1e-10 * (1 + np.abs(dW).max()))
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------- what the formulas mean
def test_one_by_one_kernel_is_a_dense_layer_over_channels():
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=(3, 4, 5, 6)), rng.normal(size=(2, 4, 1, 1)), rng.normal(size=2)
    out, _ = ops.conv2d_forward(x, W, b)
    pixels = x.transpose(0, 2, 3, 1).reshape(-1, 4)             # every pixel is an example
    dense, _ = ops.dense_forward(pixels, W[:, :, 0, 0].T, b)
    np.testing.assert_allclose(out, dense.reshape(3, 5, 6, 2).transpose(0, 3, 1, 2), atol=1e-12)


def test_a_delta_image_returns_the_kernel():
    """The transposed convolution paints the kernel at a delta; the convolution (a correlation) flips it."""
    rng = np.random.default_rng(3)
    W = rng.normal(size=(1, 2, 3, 3))                           # one input channel, two output channels
    delta = np.zeros((1, 1, 5, 5))
    delta[0, 0, 2, 2] = 1.0
    painted, _ = ops.conv_transpose2d_forward(delta, W, np.zeros(2), 1, 1)
    np.testing.assert_array_equal(painted[0, :, 1:4, 1:4], W[0])
    correlated, _ = ops.conv2d_forward(delta, W.transpose(1, 0, 2, 3), np.zeros(2), 1, 1)
    np.testing.assert_array_equal(correlated[0, :, 1:4, 1:4], W[0, :, ::-1, ::-1])
    assert np.count_nonzero(painted) == np.count_nonzero(correlated) == W.size


@given(geom=geometry(), seed=st.integers(0, 2 ** 16))
def test_transposed_convolution_is_the_adjoint(geom, seed):
    """<conv(x), y> = <x, convT(y)> with the same W, stride and padding, and convT(y) has x's shape."""
    x_shape, W_shape, s, P = geom
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=x_shape), rng.normal(size=W_shape)
    cx, _ = ops.conv2d_forward(x, W, np.zeros(W_shape[0]), s, P)
    y = rng.normal(size=cx.shape)
    ty, _ = ops.conv_transpose2d_forward(y, W, np.zeros(W_shape[1]), s, P)
    assert ty.shape == x.shape
    lhs, rhs = float((cx * y).sum()), float((x * ty).sum())
    assert abs(lhs - rhs) <= 1e-10 * (1 + np.abs(cx * y).sum())


@given(geom=geometry(), seed=st.integers(0, 2 ** 16))
def test_dx_is_a_full_convolution_with_the_flipped_kernel(geom, seed):
    """§10.2: put s-1 zeros between dout's entries, pad by k-1-P, correlate with W flipped and transposed."""
    x_shape, W_shape, s, P = geom
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=x_shape), rng.normal(size=W_shape)
    out, cache = ops.conv2d_forward(x, W, np.zeros(W_shape[0]), s, P)
    dout = rng.normal(size=out.shape)
    dx, _, _ = ops.conv2d_backward(dout, cache)
    N, C_out, Ho, Wo = dout.shape
    k = W_shape[2]
    dilated = np.zeros((N, C_out, (Ho - 1) * s + 1, (Wo - 1) * s + 1))
    dilated[:, :, ::s, ::s] = dout
    flipped = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).copy()   # (C_in, C_out, k, k)
    full = conv.conv2d_forward_loops(dilated, flipped, np.zeros(W_shape[1]), 1, k - 1)
    np.testing.assert_allclose(dx, full[:, :, P:P + x_shape[2], P:P + x_shape[3]], atol=1e-10)


def test_stride_and_padding_shape_the_output_as_pytorch_does():
    assert conv.conv_output_size(28, 4, 2, 1) == 14 and conv.conv_output_size(14, 4, 2, 1) == 7
    assert conv.conv_transpose_output_size(7, 4, 2, 1) == 14
    out, _ = ops.conv2d_forward(np.zeros((1, 1, 28, 28)), np.zeros((3, 1, 4, 4)), np.zeros(3), 2, 1)
    assert out.shape == (1, 3, 14, 14)


@pytest.mark.parametrize("k, s, P", [(3, 1, 1), (4, 2, 1), (3, 2, 0), (1, 1, 0)])
def test_agrees_with_pytorch(k, s, P):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(k * 10 + s)
    H = 2 * s + k - 2 * P
    x, W, b = rng.normal(size=(2, 3, H, H)), rng.normal(size=(4, 3, k, k)), rng.normal(size=4)
    out, _ = ops.conv2d_forward(x, W, b, s, P)
    ref = F.conv2d(torch.tensor(x), torch.tensor(W), torch.tensor(b), stride=s, padding=P).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)
    c = rng.normal(size=3)
    back, _ = ops.conv_transpose2d_forward(out, W, c, s, P)
    ref = F.conv_transpose2d(torch.tensor(out), torch.tensor(W), torch.tensor(c), stride=s, padding=P).numpy()
    np.testing.assert_allclose(back, ref, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------- bad input
Z = np.zeros


@pytest.mark.parametrize("args, kind, words", [
    ((Z((2, 3, 5)), Z((4, 3, 3, 3)), Z(4), 1, 0), ValueError, "x must be 4-D"),
    ((Z((2, 3, 5, 5)), Z((4, 3, 3)), Z(4), 1, 0), ValueError, "W must be 4-D"),
    ((Z((2, 2, 5, 5)), Z((4, 3, 3, 3)), Z(4), 1, 0), ValueError, "x must have 3 channels"),
    ((Z((2, 3, 5, 5)), Z((4, 3, 3, 3)), Z(3), 1, 0), ValueError, "b must have shape (4,)"),
    ((Z((2, 3, 6, 6)), Z((4, 3, 3, 3)), Z(4), 2, 0), ValueError, "does not tile"),
    ((Z((2, 3, 2, 2)), Z((4, 3, 3, 3)), Z(4), 1, 0), ValueError, "smaller than the kernel"),
    ((Z((2, 3, 5, 5)), Z((4, 3, 3, 3)), Z(4), 0, 0), ValueError, "stride must be an integer >= 1"),
    ((Z((2, 3, 5, 5)), Z((4, 3, 3, 3)), Z(4), 1, -1), ValueError, "padding must be an integer >= 0"),
    ((Z((2, 3, 5, 5)), Z((4, 3, 3, 3)), Z(4), 1.5, 0), TypeError, "stride must be an integer"),
    ((Z((2, 3, 5, 5), dtype=int), Z((4, 3, 3, 3)), Z(4), 1, 0), TypeError, "x must hold floating"),
])
def test_conv2d_bad_input(args, kind, words):
    with pytest.raises(kind, match=words.replace("(", r"\(").replace(")", r"\)")):
        ops.conv2d_forward(*args)


def test_transposed_and_backward_bad_input():
    with pytest.raises(ValueError, match="x must have 4 channels"):
        ops.conv_transpose2d_forward(Z((1, 3, 3, 3)), Z((4, 2, 3, 3)), Z(2), 1, 0)
    with pytest.raises(ValueError, match="crops the whole output"):
        ops.conv_transpose2d_forward(Z((1, 4, 1, 1)), Z((4, 2, 1, 1)), Z(2), 1, 1)
    _, cache = ops.conv2d_forward(Z((1, 1, 4, 4)), Z((2, 1, 3, 3)), Z(2))
    with pytest.raises(ValueError, match=r"dout must have the shape of the convolution's output, \(1, 2, 2, 2\)"):
        ops.conv2d_backward(Z((1, 2, 3, 3)), cache)
    _, cache = ops.conv_transpose2d_forward(Z((1, 2, 2, 2)), Z((2, 1, 3, 3)), Z(1))
    with pytest.raises(ValueError, match="dout must have the shape of the transposed"):
        ops.conv_transpose2d_backward(Z((1, 1, 2, 2)), cache)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_forward_and_backward_never_write_into_their_inputs(transposed):
    """Neither pass changes x, W, b, dout or the cache it was given (a caller may still hold them)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 6, 6) if transposed else (2, 3, 7, 7))  # (7 + 2 - 3) tiles by the stride 2
    W = rng.normal(size=(3, 4, 3, 3) if transposed else (4, 3, 3, 3))
    b = rng.normal(size=4)
    forward, backward = ((conv.conv_transpose2d_forward, conv.conv_transpose2d_backward) if transposed
                         else (conv.conv2d_forward, conv.conv2d_backward))
    kept = [a.copy() for a in (x, W, b)]
    out, cache = forward(x, W, b, 2, 1)
    dout = rng.normal(size=out.shape)
    cache_kept = [np.copy(f) if isinstance(f, np.ndarray) else f for f in cache]
    dout_kept = dout.copy()
    backward(dout, cache)
    assert all(np.array_equal(a, k) for a, k in zip((x, W, b), kept)) and np.array_equal(dout, dout_kept)
    for f, k in zip(cache, cache_kept):
        assert np.array_equal(f, k) if isinstance(f, np.ndarray) else f == k
