"""The inputs an exercise is checked on: many random ones, and the edge cases.

Like the test suite's hypothesis checks, every exercise is judged on inputs of many
shapes (a batch of one among them) and magnitudes, drawn from a generator seeded by the
exercise's name, so a check gives the same verdict every time it runs. Edge cases
(extreme logits, a huge or tiny logvar, a saturated sigmoid) are added by hand. Inputs
are kept away from kinks (ReLU at 0), where central differences average two slopes.

The numerical gradients come from :mod:`minivae.gradcheck`, on the *library's* forward
pass: they are what a backward must return, whoever wrote it.
"""
from __future__ import annotations

import zlib

import numpy as np

from ..gradcheck import _resolution_floor, numerical_gradient, numerical_gradient_pair
from .spec import Case

#: (B, D) of the random cases: a batch of one, square and oblong shapes (the first batch of
#: several, B = 5, makes a lost 1/B read as 0.2, a factor no other constant explains)
SHAPES = ((1, 1), (5, 3), (1, 5), (3, 7), (4, 4), (2, 6), (6, 5), (8, 2),
          (7, 1), (3, 3), (1, 8), (5, 5), (2, 2), (8, 7), (4, 1), (6, 3))
#: (B, D) of fresh inputs (``variant=1``): other shapes, on which a test re-checks what a
#: diagnosis claimed about the cases above
FRESH_SHAPES = ((3, 2), (9, 4), (2, 5), (6, 6), (1, 3), (4, 9), (7, 3), (5, 2))
#: a third width for the exercises with three sizes (the dense layer's out, the contractive penalty's m)
WIDTHS = {0: (4, 1, 3, 2, 4, 6, 3, 5, 2, 3, 1, 5, 7, 2, 6, 4), 1: (5, 2, 7, 3, 1, 6, 4, 9)}
#: central differences: the step and the tolerance the test suite uses
H, TOL = 1e-4, 1e-6


def generator(name, variant=0):
    """A NumPy generator seeded by ``name`` (and ``variant``, if not 0): the same inputs on every run."""
    return np.random.default_rng(zlib.crc32((name if not variant else f"{name}#{variant}").encode()))


def shapes(variant=0):
    """The (B, D) of the random cases: the checker's (``variant=0``), or fresh ones (``variant=1``)."""
    return SHAPES if not variant else FRESH_SHAPES


def values(rng, shape, scale=1.0, big=None, share=0.25):
    """Normal values of std ``scale``; about ``share`` of them uniform in ``[-big, big]``."""
    x = rng.normal(0.0, scale, shape)
    if big is not None:
        far = rng.random(shape) < share
        x[far] = rng.uniform(-big, big, int(far.sum()))
    return x


def away_from_zero(x, gap=1e-2):
    """``x`` with every entry pushed ``gap`` further from 0 (no entry near a kink at 0)."""
    return np.where(x < 0, x - gap, x + gap)


def describe(**arrays):
    """``"x (3, 4), W (4, 2), B = 3"``: how a message names a case."""
    first = next(iter(arrays.values()))
    parts = [f"{k} {tuple(v.shape)}" for k, v in arrays.items()]
    return ", ".join(parts) + f", B = {first.shape[0]}"


def pair_numeric(forward, inputs, dout, wrt):
    """``(numeric, abs_floor)`` for a backward: ``numeric()`` maps each output name in ``wrt``
    (output name -> input index) to the central-difference gradient of
    ``sum(dout * forward(*inputs)[0])`` with respect to that input."""
    inputs = [a.copy() for a in inputs]  # perturbed in place by the stencil

    def numeric():
        return {name: numerical_gradient_pair(forward, inputs, k, dout, H) for name, k in wrt.items()}

    size = float(np.abs(dout * forward(*inputs)[0]).sum())
    return numeric, _resolution_floor(size, H, TOL)


def scalar_numeric(loss, inputs, wrt):
    """``(numeric, abs_floor)`` for a loss: ``loss(*inputs)`` is a number; ``wrt`` maps each
    gradient's name to the index of the input it is taken with respect to."""
    inputs = [a.copy() for a in inputs]

    def numeric():
        return {name: numerical_gradient(lambda: loss(*inputs), inputs[k], H) for name, k in wrt.items()}

    return numeric, _resolution_floor(abs(float(loss(*inputs))), H, TOL)


def activation_cases(name, forward, *, big, gap=None, edges=(), variant=0):
    """Cases ``(dout, cache)`` for the backward of an elementwise activation.

    ``big`` is the largest |x| drawn; ``gap`` keeps x that far from 0 (a kink);
    ``edges`` are extra x, checked against the library only; ``variant`` picks fresh
    shapes and draws (see :func:`shapes`).
    """
    rng = generator(name, variant)
    cases = []
    for shape in shapes(variant):
        x = values(rng, shape, 2.0, big)
        if gap is not None:
            x = away_from_zero(x, gap)
        cases.append(_activation_case(forward, x, rng, numeric=True))
    return cases + [_activation_case(forward, np.asarray(x, float), rng, numeric=False) for x in edges]


def _activation_case(forward, x, rng, numeric):
    out, cache = forward(x)
    dout = rng.normal(size=out.shape)
    num, floor = pair_numeric(forward, [x], dout, {"dx": 0}) if numeric else (None, 1e-12)
    return Case(describe(x=x), (dout, cache), ("dout", "cache"), x.shape[0], {"x": x, "dout": dout}, num, floor)
