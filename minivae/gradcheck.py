"""Check a hand-written backward pass against central differences (docs/derivations.md §6).

Two entry points, for the two shapes of code you will want to check:

``check_pair(forward, backward, *inputs)``
    for a functional pair ``out, cache = forward(*inputs)``,
    ``grads = backward(dout, cache)``. A random upstream gradient ``dout`` (never all
    ones, which would hide errors that cancel) turns the output into the scalar
    :math:`L = \\sum dout \\odot out`, whose numerical gradient is compared with what
    ``backward`` returned.

``check_scalar(f, params, grads)``
    for a scalar loss ``f()`` that reads the arrays in ``params`` (perturbed in place),
    such as a model's ``loss`` with its noise pinned, against the ``grads`` it claims.

Both return a :class:`GradcheckReport` that names the worst entry and, when the check
fails, reads the numbers for clues (:mod:`minivae.gradclues`): a gradient that is a
constant factor such as 1/B times the true one, a flipped sign, errors exactly where the
input it is the gradient of is negative, a wrong shape. A clue is said only when this one
input supports it (a constant ratio needs two distinct entries, a place entries of both
signs). Run checks in float64: float32 round-off swamps the differences.

Example
-------
>>> import numpy as np
>>> from minivae.ops import tanh_forward, tanh_backward
>>> x = np.random.default_rng(0).normal(size=(4, 3))
>>> check_pair(tanh_forward, tanh_backward, x).passed
True
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from .backend import Random, array_module, to_numpy
from .gradclues import clues as read_clues
from .shapeclues import shape_clue


@dataclass
class GradcheckReport:
    """The outcome of a gradient check.

    Attributes
    ----------
    max_rel_error : float
        The largest relative error over every checked entry.
    worst : str
        Which entry it was: argument name and index.
    analytic, numeric : float
        The two values at the worst entry.
    tol : float
        The tolerance ``passed`` was judged with.
    per_input : dict
        Name -> largest relative error for that argument.
    clues : list of str
        For a failed check, what the numbers of each wrong gradient suggest (a constant
        factor, a flipped sign, where the errors are); empty when they show no pattern.
    """

    max_rel_error: float
    worst: str
    analytic: float
    numeric: float
    tol: float
    per_input: dict
    clues: list = field(default_factory=list)

    @property
    def passed(self):
        return self.max_rel_error <= self.tol

    def __str__(self):
        verdict = "ok" if self.passed else "FAILED"
        parts = ", ".join(f"{k}: {v:.2e}" for k, v in self.per_input.items())
        lines = "".join(f"\n  clue: {c}" for c in self.clues)
        return (
            f"gradcheck {verdict}: max relative error {self.max_rel_error:.3e} (tol {self.tol:.0e}) "
            f"at {self.worst}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g} [{parts}]{lines}"
        )

    def assert_ok(self):
        """Raise ``AssertionError`` with the report unless the check passed."""
        if not self.passed:
            raise AssertionError(str(self))
        return self


def relative_error(analytic, numeric, floor=1e-3, abs_floor=1e-10):
    r"""Entrywise relative error with a floor.

    .. math::
        \mathrm{rel}_i = \frac{|g_i - \tilde g_i|}{\max(|g_i|,\ |\tilde g_i|,\ \mathrm{floor}\cdot \mathrm{scale},\ \mathrm{abs\_floor})},
        \qquad \mathrm{scale} = \max_k \max(|g_k|, |\tilde g_k|)

    The floor is a fraction of the array's largest gradient, so an entry whose true
    gradient is zero is judged against the array's scale instead of dividing round-off
    by round-off.
    """
    xp = array_module(analytic)
    a = xp.asarray(analytic, dtype="float64")
    n = xp.asarray(numeric, dtype="float64")
    # max() of an empty array is an error, and CuPy's max has no initial=: size decides
    scale = max((float(xp.abs(v).max()) if v.size else 0.0) for v in (a, n))
    denom = xp.maximum(xp.maximum(xp.abs(a), xp.abs(n)), max(floor * scale, abs_floor))
    return xp.abs(a - n) / denom


def _flat_view(x):
    """A 1-D view of ``x`` whose writes reach ``x`` (so perturbations are seen by the function)."""
    if not x.flags.c_contiguous:
        raise ValueError("arrays to perturb must be C-contiguous (pass numpy.ascontiguousarray(x))")
    return x.reshape(-1)


def _step(x, i, h):
    """Step size for entry ``i`` of ``x``: relative to its magnitude, so large values work."""
    return h * max(1.0, abs(float(x.flat[i])))


EPS64 = 2.220446049250313e-16


def _stencil(evaluate, x, h):
    r"""Fourth-order central differences of ``evaluate()`` over every entry of ``x``.

    .. math::
        \frac{\partial f}{\partial x_i} \approx
        \frac{-f(x_i + 2\delta) + 8 f(x_i + \delta) - 8 f(x_i - \delta) + f(x_i - 2\delta)}{12 \delta}

    with error :math:`O(\delta^4)`, so the step :math:`\delta` = ``h * max(1, |x_i|)`` can be
    larger than with the two-point rule, which keeps round-off (about
    :math:`\epsilon_{\mathrm{mach}} |f| / \delta`) small.
    ``evaluate`` may return an array; the caller reduces it. ``x`` is changed in place
    and restored.
    """
    flat = _flat_view(x)
    grads = []
    for i in range(flat.size):
        old = float(flat[i])
        step = _step(x, i, h)
        values = []
        for k in (2, 1, -1, -2):
            flat[i] = old + k * step
            values.append(evaluate())
        flat[i] = old
        f2, f1, fm1, fm2 = values
        grads.append(((f1 - fm1) * 8.0 - (f2 - fm2)) / (12.0 * step))
    return grads


def numerical_gradient_pair(forward, inputs, k, dout, h=1e-4):
    """Numerical gradient of ``sum(dout * forward(*inputs)[0])`` w.r.t. ``inputs[k]``.

    The differences are taken output by output, before the weighted sum, so outputs that
    a perturbation does not touch cancel exactly instead of adding round-off.
    """
    xp = array_module(inputs[k])
    diffs = _stencil(lambda: forward(*inputs)[0], inputs[k], h)
    return xp.asarray([float((dout * d).sum()) for d in diffs], dtype=inputs[k].dtype).reshape(inputs[k].shape)


def numerical_gradient(f, x, h=1e-4):
    """Numerical gradient of the scalar ``f()`` w.r.t. the array ``x`` (see :func:`_stencil`)."""
    xp = array_module(x)
    diffs = _stencil(lambda: float(f()), x, h)
    return xp.asarray(diffs, dtype=x.dtype).reshape(x.shape)


def _resolution_floor(size, h, tol):
    r"""The smallest gradient central differences can resolve on values of ``size``, over ``tol``.

    A difference of two values of size :math:`|f|` cannot resolve a slope finer than
    about :math:`\epsilon_{\mathrm{mach}} |f| / \delta`. Gradient entries below that resolution (divided by
    ``tol``) are judged against it instead of against their own tiny size; every entry
    above it gets the full relative test.
    """
    return max(1e-10, 16 * EPS64 * max(1.0, size) / h / tol)


def _report(pairs, tol, floor, abs_floor=1e-10, *, batch=None, inputs=None):
    """Build a report from ``[(name, analytic, numeric), ...]``, with clues for each wrong one.

    ``batch`` and ``inputs`` (gradient name -> {name: array sharing that gradient's
    indices}) help the clues name a factor (``1/B``) and a place (``where x < 0``); see
    :func:`minivae.gradclues.clues`.
    """
    worst = (-1.0, "", 0.0, 0.0)
    per_input, found = {}, []
    for name, a, n in pairs:
        if getattr(a, "shape", None) is None or tuple(a.shape) != tuple(n.shape):
            got = getattr(a, "shape", "no shape, a " + type(a).__name__)
            raise ValueError(f"the gradient for {shape_clue(name, got, n.shape, batch)}")
        r = to_numpy(relative_error(a, n, floor, abs_floor))
        per_input[name] = float(r.max(initial=0.0))
        if r.size and per_input[name] > worst[0]:
            idx = tuple(int(i) for i in divmod_index(int(r.argmax()), r.shape))
            worst = (per_input[name], f"{name}{list(idx)}", float(to_numpy(a)[idx]), float(to_numpy(n)[idx]))
        if per_input[name] > tol:
            found += read_clues(f"the gradient for {name}", a, n, tol=tol, floor=floor, abs_floor=abs_floor,
                                batch=batch, inputs=(inputs or {}).get(name), truth="the true one")
    return GradcheckReport(max(worst[0], 0.0), worst[1], worst[2], worst[3], tol, per_input, found)


def divmod_index(flat_index, shape):
    """Turn a flat index into a tuple index for ``shape`` (like ``numpy.unravel_index``)."""
    idx = []
    for size in reversed(shape):
        flat_index, r = divmod(flat_index, size)
        idx.append(r)
    return tuple(reversed(idx))


def check_pair(forward, backward, *inputs, wrt=None, names=None, seed=0, h=1e-4, tol=1e-6, floor=1e-3):
    """Check a functional forward/backward pair.

    Parameters
    ----------
    forward : callable
        ``out, cache = forward(*inputs)``.
    backward : callable
        ``grads = backward(dout, cache)``: one array, or a tuple with one gradient per
        input in ``wrt``.
    *inputs : arrays
        Float64 arrays; those checked are perturbed in place and restored.
    wrt : sequence of int, optional
        Which inputs to check (default: all).
    names : sequence of str, optional
        Names of the inputs, for the report. Default: the names of ``forward``'s
        parameters (``x``, ``W``, ``b`` for ``dense_forward``), else ``input0``, ...
    seed : int
        Seed of the random upstream gradient.
    h : float
        Relative step of the central differences (see :func:`_stencil`).
    tol, floor : float
        Pass when every relative error (see :func:`relative_error`) is at most ``tol``.

    Returns
    -------
    GradcheckReport
        Its ``clues`` read the batch size B as the first axis of the first input.
    """
    wrt = list(range(len(inputs))) if wrt is None else list(wrt)
    names = list(names) if names is not None else parameter_names(forward, len(inputs))
    names += [f"input{k}" for k in range(len(names), len(inputs))]
    for k in wrt:
        if getattr(inputs[k], "dtype", None) is None or inputs[k].dtype.itemsize < 8:
            raise TypeError(f"{names[k]} must be a float64 array for a gradient check")
    out, cache = forward(*inputs)
    dout = Random(seed, backend="cupy" if array_module(out).__name__ == "cupy" else "numpy").normal(
        out.shape, dtype=out.dtype
    )
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    if len(grads) < len(wrt):
        raise ValueError(f"backward returned {len(grads)} gradients; expected one for each of {len(wrt)} inputs")
    pairs = []
    for g, k in zip(grads, wrt):
        pairs.append((names[k], g, numerical_gradient_pair(forward, inputs, k, dout, h)))
    size = float(array_module(out).abs(dout * out).sum())
    batch = inputs[0].shape[0] if getattr(inputs[0], "ndim", 0) else None
    # a place clue may look at the input a gradient belongs to, and at dout where it has the input's indices
    same = len(inputs) == 1 and tuple(out.shape) == tuple(inputs[0].shape)
    named = {names[k]: {names[k]: inputs[k], **({"dout": dout} if same else {})} for k in wrt}
    return _report(pairs, tol, floor, abs_floor=_resolution_floor(size, h, tol), batch=batch, inputs=named)


def parameter_names(fn, n):
    """The names of the first ``n`` positional parameters of ``fn``; ``input<k>`` where unknown."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        params = []
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    known = [p.name for p in params if p.kind in kinds]
    return [known[k] if k < len(known) else f"input{k}" for k in range(n)]


def check_scalar(f, params, grads, *, h=1e-4, tol=1e-6, floor=1e-3, keys=None, batch=None):
    """Check the gradients of a scalar function of several arrays.

    Parameters
    ----------
    f : callable
        ``f()`` returns the scalar; it must read the arrays in ``params`` (so editing one
        in place changes it) and be deterministic (pin every source of noise).
    params : dict
        Name -> float64 array, perturbed in place and restored.
    grads : dict
        Name -> the analytic gradient to check.
    keys : sequence of str, optional
        Which entries to check (default: all of ``grads``).
    batch : int, optional
        The batch size, so that the clues of a failed check can name a factor ``1/B``.

    Returns
    -------
    GradcheckReport

    Notes
    -----
    Entries below the resolution of central differences on a scalar of size
    :math:`|f|` are judged against that resolution (see :func:`_resolution_floor`).
    """
    keys = list(grads) if keys is None else list(keys)
    missing = [k for k in keys if k not in params]
    if missing:
        raise ValueError(f"grads has keys that params lacks: {missing}")
    for k in keys:
        if getattr(params[k], "dtype", None) is None or params[k].dtype.itemsize < 8:
            raise TypeError(f"{k} must be a float64 array for a gradient check")
    pairs = [(k, grads[k], numerical_gradient(f, params[k], h)) for k in keys]
    return _report(pairs, tol, floor, abs_floor=_resolution_floor(abs(float(f())), h, tol), batch=batch,
                   inputs={k: {k: params[k]} for k in keys})
