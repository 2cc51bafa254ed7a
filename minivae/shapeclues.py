"""What the shape of a returned array says about the mistake (the shape half of :mod:`minivae.gradclues`).

An array of shape (B, out) where (out,) belongs kept the batch axis: a sum over the
examples is missing. But with B = 1 the batch axis cannot be told from an axis of size
1 that a ``keepdims=True`` adds, and where B equals the width a sum over the wrong axis
gives the right shape. So each pattern comes with a test that reads the shapes and B of
any input (a :class:`~minivae.gradclues.View`) and answers ``None`` where that input
cannot tell; :mod:`minivae.gradclues` makes each a :class:`~minivae.gradclues.Clue`.
"""
from __future__ import annotations

from .backend import module_for

np = module_for("numpy")

#: two numbers closer than this (relatively) count as equal: two ratios as the same constant
SAME = 1e-5


def transpose_test(view):
    """Whether the value is the transpose of the truth (``None`` for a symmetric truth)."""
    a, n = view.analytic, view.numeric
    if n.ndim != 2 or a.shape != n.shape[::-1] or not np.isfinite(a).all():
        return False
    if n.shape[0] == n.shape[1] and np.allclose(n, n.T, rtol=SAME, atol=SAME * view.scale):
        return None  # a symmetric truth is its own transpose
    return bool(np.allclose(a, n.T, rtol=SAME, atol=SAME * view.scale))


def _shape_patterns(got, expected):
    """``[(kind, sentence, test(got, expected, B), same)]`` for a value of shape ``got`` where ``expected``
    belongs; ``same(view)`` answers for a view where the value has the right shape after all."""
    g, e = tuple(got), tuple(expected)

    def ambiguous_if_b1(ok):
        return lambda g, e, B: (None if ok(g, e, 1) else False) if B is None or np.any(np.asarray(B) == 1) \
            else ok(g, e, B)

    def wrong_shape(view):
        return False  # the sentence says the shape is wrong

    def unless_b1(view):  # a sum over a batch of one changes nothing
        return None if np.all(np.asarray(view.batch) == 1) else False

    def one_per_example(view):  # B entries where one per column belongs: the same shape when B is that width
        return None if view.analytic.shape == (view.batch,) else False

    return [
        ("transpose", "the shape of its transpose: a transpose is missing or extra",
         lambda g, e, B: len(e) == 2 and e[0] != e[1] and g == e[::-1], transpose_test),
        ("extra-axis", "it kept the batch axis (one row per example), so a sum over the examples is missing",
         ambiguous_if_b1(lambda g, e, B: g == (B, *e)), wrong_shape),
        ("extra-axis", "an extra first axis of size 1, also where B > 1, so not the batch axis: a sum with "
                       "keepdims=True, or an [np.newaxis], adds one",
         ambiguous_if_b1(lambda g, e, B: g == (1, *e)), wrong_shape),
        ("extra-axis", f"one axis too many, at the end (of size {g[-1] if g else 0} here)",
         lambda g, e, B: len(g) == len(e) + 1 and g[:-1] == e, wrong_shape),
        ("lost-axis", "it lacks the batch axis: a gradient has one row per example, like the array it is the "
                      "gradient of (a sum or a mean over the examples must be spread back over the rows)",
         ambiguous_if_b1(lambda g, e, B: len(e) > 1 and e == (B, *g)), wrong_shape),
        ("lost-axis", "its batch axis has size 1 where B belongs: it was summed (or averaged) over the examples "
                      "with keepdims=True, or only one example was kept",
         ambiguous_if_b1(lambda g, e, B: len(e) > 1 and e[0] == B and g == (1, *e[1:])), unless_b1),
        ("lost-axis", "its first axis has size 1: a sum or a mean over that axis with keepdims=True, or an index "
                      "that kept one row",
         lambda g, e, B: len(e) >= 1 and e[0] > 1 and g == (1, *e[1:]),
         lambda view: None if view.numeric.shape[:1] == (1,) else False),
        ("lost-axis", "an axis was summed (or averaged) away that should stay",
         lambda g, e, B: len(g) + 1 == len(e) and g in (e[1:], e[:-1]), wrong_shape),
        ("wrong-axis", "one entry per example (B of them) where one per column belongs: the sum ran over the "
                       "wrong axis (the examples are axis 0)",
         ambiguous_if_b1(lambda g, e, B: len(g) == len(e) == 1 and g == (B,) != e), one_per_example),
        ("squeezed", "an axis of size 1 is missing (np.squeeze, or an index like [:, 0], drops one)",
         lambda g, e, B: 1 in e and g == tuple(d for d in e if d != 1), wrong_shape),
    ]


def shape_tests(name, got, expected, batch=None):
    """``[(kind, sentence, test(view), rank), ...]`` for a value of shape ``got`` where ``expected``
    belongs: the patterns that hold on this input, most specific (lowest rank) first."""
    g, e = tuple(got), tuple(expected)
    found = []
    for rank, (kind, text, ok, same) in enumerate(_shape_patterns(g, e)):
        if ok(g, e, batch) is True:
            def test(view, ok=ok, same=same):
                a, n = view.analytic.shape, view.numeric.shape
                return same(view) if a == n else ok(a, n, view.batch)
            at = f" (B = {batch})" if batch is not None and np.ndim(batch) == 0 else ""
            found.append((kind, f"{name} has shape {g} where {e} belongs{at}: {text}", test, rank))
    return found


def shape_clue(name, got, expected, batch=None):
    """One sentence about a returned array of shape ``got`` where ``expected`` belongs.

    Only what holds for this shape and this B is said: with B = 1 the batch axis cannot
    be told from an axis of size 1, and then neither is named.
    """
    if not isinstance(got, (tuple, list)):  # no shape at all: say what it is
        return f"{name} has {got}; expected shape {tuple(expected)}"
    got, expected = tuple(got), tuple(expected)
    view_b = None if batch is None else int(batch)
    for _, text, _, _ in shape_tests(name, got, expected, view_b):
        return text
    return f"{name} has shape {got}; expected {expected}"
