r"""Convolutional layers: thin objects around the pairs in :mod:`minivae.ops.conv` (§10).

They follow :mod:`minivae.layers`: ``params``, ``forward``, ``backward(dy) -> dx`` that
**stores** the parameter gradients in ``grads``, never an update. A :class:`Reshape`
turns the rows a model reads, shape ``(B, D)``, into images ``(B, R, S, S')`` and back.
"""
from __future__ import annotations

from . import ops
from ._checks import MAX_SEED, MAX_SIZE, check_choice, check_positive_int
from .backend import Random, resolve_dtype
from .layers import Layer

CONV_INITS = ("he", "xavier")


def init_kernel(rng, shape, fan_in, fan_out, init, dtype):
    r"""Draw a kernel of ``shape`` with the variance of §2 for these fan-in and fan-out.

    He: :math:`N(0, 2/\mathrm{fan\_in})`; Xavier: :math:`U(-r, r)`,
    :math:`r = \sqrt{6/(\mathrm{fan\_in} + \mathrm{fan\_out})}`. A convolution's output entry
    sums :math:`R f f'` products, so its fan-in is :math:`R f f'`.
    """
    if init == "he":
        return (rng.normal(shape, dtype=dtype) * (2.0 / fan_in) ** 0.5).astype(dtype, copy=False)
    a = (6.0 / (fan_in + fan_out)) ** 0.5
    return ((2.0 * rng.uniform(shape, dtype=dtype) - 1.0) * a).astype(dtype, copy=False)


class _ConvBase(Layer):
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, *, stride=1, padding=0, init="he", seed=None,
                 dtype=None, rng=None):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels", maximum=MAX_SIZE)
        self.out_channels = check_positive_int(out_channels, "out_channels", maximum=MAX_SIZE)
        self.kernel_size = check_positive_int(kernel_size, "kernel_size", maximum=MAX_SIZE)
        self.stride = check_positive_int(stride, "stride", maximum=MAX_SIZE)
        self.padding = check_positive_int(padding, "padding", minimum=0, maximum=MAX_SIZE)
        self.init = check_choice(init, "init", CONV_INITS)
        if seed is not None and rng is None:
            seed = check_positive_int(seed, "seed", minimum=0, maximum=MAX_SEED)
        dt = resolve_dtype(dtype)
        rng = rng if rng is not None else Random(seed)
        k2 = self.kernel_size ** 2
        if self._transposed:  # each output entry sums about in_channels * (k/s)^2 products
            shape = (self.in_channels, self.out_channels, self.kernel_size, self.kernel_size)
            fan_in = max(1.0, self.in_channels * k2 / self.stride ** 2)
            fan_out = self.out_channels * k2 / self.stride ** 2
        else:
            shape = (self.out_channels, self.in_channels, self.kernel_size, self.kernel_size)
            fan_in, fan_out = self.in_channels * k2, self.out_channels * k2
        W = init_kernel(rng, shape, fan_in, fan_out, self.init, dt)
        self.params = {"W": W, "b": rng.xp.zeros(self.out_channels, dtype=dt)}
        self.grad_out = None  # (dW, db) arrays to write gradients into, set by a training loop

    def _store(self, dW, db):
        if self.grad_out is not None:
            self.grad_out[0][...] = dW
            self.grad_out[1][...] = db
            dW, db = self.grad_out
        self.grads = {"W": dW, "b": db}

    def __repr__(self):
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding})")


class Conv2d(_ConvBase):
    r"""2-D convolution, ``(B, in_channels, S, S') -> (B, out_channels, T, T')`` (§10.1–10.3).

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
    stride : int >= 1
    padding : int >= 0
    init : {"he", "xavier"}
        Weight initialiser (§2) with fan-in ``in_channels * kernel_size**2``; biases start at zero.
    seed, dtype, rng
        As for :class:`~minivae.layers.Dense`.

    Attributes
    ----------
    params : dict
        ``{"W": (out_channels, in_channels, k, k), "b": (out_channels,)}``, PyTorch's layout.
    """

    def forward(self, x):
        out, self._cache = ops.conv2d_forward(x, self.params["W"], self.params["b"], self.stride, self.padding)
        return out

    def backward(self, dy):
        dx, dW, db = ops.conv2d_backward(dy, self._need_cache())
        self._store(dW, db)
        return dx


class ConvTranspose2d(_ConvBase):
    r"""Transposed convolution, ``(B, in_channels, T, T') -> (B, out_channels, S, S')`` (§10.5).

    :math:`S = (T - 1)\,s + k - 2\,\mathrm{pad}`: with ``kernel_size=4, stride=2,
    padding=1`` it doubles the size. Parameters as for :class:`Conv2d`; the He fan-in is
    ``in_channels * (kernel_size / stride)**2``, the number of products an output entry
    sums on average.

    Attributes
    ----------
    params : dict
        ``{"W": (in_channels, out_channels, k, k), "b": (out_channels,)}``, PyTorch's layout.
    """

    _transposed = True

    def forward(self, x):
        out, self._cache = ops.conv_transpose2d_forward(x, self.params["W"], self.params["b"], self.stride,
                                                        self.padding)
        return out

    def backward(self, dy):
        dx, dW, db = ops.conv_transpose2d_backward(dy, self._need_cache())
        self._store(dW, db)
        return dx


class Reshape(Layer):
    """Give each example the shape ``shape``: ``(B, ...) -> (B, *shape)``; backward undoes it.

    ``Reshape((1, 28, 28))`` turns rows of 784 pixels into one-channel images;
    ``Reshape((784,))`` flattens them back. No parameters; the gradient is only reshaped.
    """

    def __init__(self, shape):
        super().__init__()
        try:
            self.shape = tuple(check_positive_int(s, f"shape[{i}]", maximum=MAX_SIZE) for i, s in enumerate(shape))
        except TypeError:
            raise TypeError(f"shape must be a tuple of positive integers; got {shape!r}") from None

    def forward(self, x):
        size, per_example = 1, 1
        for s in self.shape:
            size *= s
        for s in x.shape[1:]:
            per_example *= s
        if x.ndim < 1 or per_example != size:
            raise ValueError(f"x must hold {size} numbers per example to take the shape {self.shape}; "
                             f"got shape {tuple(x.shape)}")
        self._cache = tuple(x.shape)
        return x.reshape((x.shape[0],) + self.shape)

    def backward(self, dy):
        return dy.reshape(self._need_cache())

    def __repr__(self):
        return f"Reshape({self.shape})"
