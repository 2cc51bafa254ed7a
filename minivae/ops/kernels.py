r"""One-launch CUDA versions of the pointwise chains, used when the arrays live on CuPy.

On a GPU a small model's training step is made of launches, not of arithmetic: with
NumPy-style code every ``+``, ``*`` and ``exp`` is its own kernel, and each reads and
writes the whole array again. The chains below are the longest ones in a VAE step; each
becomes a single ``cupy.ElementwiseKernel`` that reads its inputs once and writes every
output once.

They are *not* a second source of the maths. Each kernel body is the formula of the
NumPy function named beside it, written per element in the same order of operations,
and ``tests/test_kernels.py`` checks every kernel against that NumPy function on the
same inputs (float32 and float64). On NumPy nothing here is used.

The kernels are built on first use and cached by name; CuPy compiles each one once per
dtype (and keeps the binary in its on-disk cache).
"""
from __future__ import annotations

_SPECS = {
    # bce_with_logits (losses.py, §4.2): the per-element loss softplus(l) - t l, and
    # dL/dl = (sigma(l) - t) / B, both from the one e = exp(-|l|) in (0, 1].
    "bce_with_logits": (
        "T l, T t, float64 inv_B",
        "T loss, T dl",
        """
        T e = exp(-fabs(l));
        loss = fmax(l, (T)0) + log1p(e) - t * l;
        dl = ((l >= 0 ? (T)1 : e) / ((T)1 + e) - t) * (T)inv_B;
        """,
    ),
    # kl_standard_normal (gaussian.py, §5.1): the per-element KL and its two gradients,
    # with e^logvar - 1 from expm1 so that expm1(logvar) - logvar is never negative.
    "kl_standard_normal": (
        "T mu, T logvar, float64 inv_B",
        "T kl, T dmu, T dlogvar",
        """
        T var_m1 = expm1(logvar);
        kl = (T)0.5 * (mu * mu + (var_m1 - logvar));
        dmu = mu * (T)inv_B;
        dlogvar = var_m1 * (T)(0.5 * inv_B);
        """,
    ),
    # reparameterize (gaussian.py, §5.2): sigma = exp(logvar / 2), z = mu + sigma eps.
    "reparameterize": (
        "T mu, T logvar, T eps",
        "T z, T std",
        """
        std = exp((T)0.5 * logvar);
        z = mu + std * eps;
        """,
    ),
    # reparameterize_backward (gaussian.py, §5.2): dmu = dz, dlogvar = dz sigma eps / 2.
    "reparameterize_backward": (
        "T dz, T std, T eps",
        "T dmu, T dlogvar",
        """
        dmu = dz;
        dlogvar = dz * ((T)0.5 * std) * eps;
        """,
    ),
    # relu_backward (activations.py, §3.1): dx = dout * 1[x > 0].
    "relu_backward": (
        "T dout, T x",
        "T dx",
        "dx = dout * (T)(x > (T)0);",
    ),
    # Adam._update (optim.py, §8), with the bias corrections folded into lr_t and eps_t:
    # the two moments and the parameter, read and written once. Every operation on the
    # arrays is in T, the parameters' dtype (float32 for float32 parameters), in the order
    # of the NumPy path (_adam_chunks): beta and 1 - beta are rounded to T from float64,
    # as NumPy rounds the Python floats it is given, and lr_t, eps_t are cast to T by CuPy.
    "adam": (
        "T g, float64 beta1, float64 beta2, T lr_t, T eps_t",
        "T p, T m, T v",
        """
        const T b1 = (T)beta1, c1 = (T)(1.0 - beta1);
        const T b2 = (T)beta2, c2 = (T)(1.0 - beta2);
        m = m * b1 + g * c1;
        v = v * b2 + (g * g) * c2;
        p -= (m / (sqrt(v) + eps_t)) * lr_t;
        """,
    ),
}

#: the names of the kernels, each the name of the NumPy function it equals
NAMES = tuple(_SPECS)

_BUILT = {}


def usable(*arrays):
    """True when the arrays are CuPy arrays of one floating dtype: then a kernel applies.

    Anything else (NumPy arrays, or a float32 array beside a float64 one) takes the
    plain NumPy-style code, which handles every case.
    """
    from ..backend import is_cupy_array

    first = arrays[0]
    return (is_cupy_array(first) and first.dtype.kind == "f"
            and all(is_cupy_array(a) and a.dtype == first.dtype for a in arrays[1:]))


def kernel(cupy, name):
    """The ``cupy.ElementwiseKernel`` for ``name`` (one of :data:`NAMES`), built once.

    ``cupy`` is the CuPy module, as :func:`minivae.backend.array_module` returns it
    for CuPy arrays (this module never imports CuPy itself).
    """
    k = _BUILT.get(name)
    if k is None:
        in_params, out_params, body = _SPECS[name]
        k = _BUILT[name] = cupy.ElementwiseKernel(in_params, out_params, body, f"minivae_{name}")
    return k


def source(name):
    """``(in_params, out_params, body)`` of a kernel: what a reader (or a compiler check) sees."""
    return _SPECS[name]
