"""The exercise on convolutions: ``conv2d_backward`` (docs/derivations.md §10).

Its solution is the library's own :func:`minivae.ops.conv2d_backward`, called. The cases
mix strides 1 and 2, paddings 0 to 2, kernels 1 to 4 and batches of one, so that each
classic mistake of ``mistakes_conv.py`` shows on some case and no two of them agree
everywhere.
"""
from __future__ import annotations

from .. import ops
from .cases import generator, pair_numeric
from .spec import Case, Exercise

SECTION = "§10 (Convolutions)"

#: (B, R, S, O, kernel, stride, padding) of each case; every one tiles (§10.1)
GEOMETRIES = ((2, 1, 6, 2, 3, 1, 1), (1, 2, 7, 3, 3, 2, 0), (2, 2, 8, 2, 4, 2, 1), (1, 3, 5, 2, 3, 2, 1),
              (3, 1, 4, 1, 2, 2, 0), (1, 2, 6, 3, 4, 2, 2), (2, 2, 5, 2, 1, 1, 0), (1, 1, 9, 2, 3, 2, 1))


def _cases():
    rng = generator("conv2d_backward")
    cases = []
    for B, R, S, O, k, s, pad in GEOMETRIES:
        x, W, b = rng.normal(size=(B, R, S, S)), rng.normal(size=(O, R, k, k)), rng.normal(size=O)

        def forward(x_, W_, b_, s=s, pad=pad):
            return ops.conv2d_forward(x_, W_, b_, s, pad)

        out, cache = forward(x, W, b)
        dout = rng.normal(size=out.shape)
        num, floor = pair_numeric(forward, [x, W, b], dout, {"dx": 0, "dW": 1, "db": 2})
        label = f"x {x.shape}, W {W.shape}, stride {s}, padding {pad}, B = {B}"
        cases.append(Case(label, (dout, cache), ("dout", "cache"), B, {"x": x, "dout": dout}, num, floor))
    return cases


EXERCISE = Exercise(
    "conv2d_backward", "dout, cache", SECTION, ("dx", "dW", "db"), ops.conv2d_backward,
    "minivae/ops/conv.py, conv2d_backward",
    "The gradients of the 2-D convolution (a cross-correlation, as PyTorch's conv2d).",
    """The forward half comes from the library:

    out, cache = conv2d_forward(x, W, b, stride, padding)
    # out[b, o, i, j] = b[o] + sum over r, k, l of W[o, r, k, l] * xpad[b, r, s*i + k, s*j + l]
    # xpad: x with `padding` zeros on every side; s: the stride

Parameters
----------
dout : array, shape (B, O, T, T')
    The upstream gradient dL/dout.
cache : ConvCache, a named tuple with the fields
    x : array, shape (B, R, S, S'), the input (not padded);
    W : array, shape (O, R, f, f'), the kernels;
    stride : int; padding : int;
    cols : the library's im2col copy of x's windows (a speed-up you may ignore).

Returns
-------
dx : array, shape (B, R, S, S')
dW : array, shape (O, R, f, f')
db : array, shape (O,)

Start with loops over (b, o, i, j): each output entry sends dout[b, o, i, j] back to the
window it read. Every array it returns must be new, and the cache must not be written.""",
    _cases, gradients=("dx", "dW", "db"))
