"""Read a wrong answer's numbers on every case of an exercise, and say only what holds on all of them.

The checker reports the first wrong value on the first input where it is wrong. What
the numbers show beyond that (a constant factor, a flipped sign, errors only where
x < 0, a wrong shape) comes from :mod:`minivae.gradclues`, but a pattern seen on one
input can be an accident of it: on a 1×1 input every ratio looks constant. So each clue
is tested on the learner's answer for *every* case, against the library's answer there,
and said only when it holds on all of them and says something on one
(:func:`minivae.gradclues.verified`).

A place clue ("where x < 0") may look only at an array that shares the value's
indices: one that has the value's shape on every case (``x`` for ``dx``; never ``h``
for ``dW`` because the two happen to match on one case). The scalars of an exercise
(a loss, a KL) are also read together, one entry per case, so that "half the true loss"
rests on many inputs, not on one number.

When no clue holds, :func:`what_is_known` says what is: on how many inputs the value is
wrong, by how much, which values are right everywhere, and what the meaning checks found
(:func:`shape_facts` for a value of the wrong shape).
"""
from __future__ import annotations

import numpy as np

from ..gradclues import View, candidates, verified
from .cases import TOL

#: how many wrong inputs suggest clues (each clue is then tested on all of them)
SUGGESTING = 4


def _aligned(cases, refs):
    """The names of the case arrays that have the value's shape on every case."""
    shown = [(c, r) for c, r in zip(cases, refs) if r is not None]
    if not shown:
        return []
    return [k for k in shown[0][0].arrays
            if all(k in c.arrays and np.shape(c.arrays[k]) == np.shape(r) for c, r in shown)]


def views_of(cases, mines, refs):
    """One :class:`~minivae.gradclues.View` per case where the value has an answer.

    Parameters
    ----------
    cases : list of Case
    mines, refs : lists
        The learner's value and the library's on each case (``None`` where there is none).
    """
    keys = _aligned(cases, refs)
    views = []
    for case, mine, ref in zip(cases, mines, refs):
        if ref is None or mine is None or isinstance(mine, dict) or \
                isinstance(mine, (tuple, list)) and any(hasattr(v, "shape") for v in mine):
            continue  # arrays in a tuple are not an array with an extra axis: the structure says so
        try:
            a = np.asarray(mine)
            if a.dtype.kind not in "fiub":  # complex, text, objects: the structure says what is wrong
                continue
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            continue
        width = None if np.ndim(ref) or not case.arrays else np.shape(next(iter(case.arrays.values())))[-1]
        views.append(View(a, ref, {k: case.arrays[k] for k in keys}, case.batch, TOL, 1e-3, case.abs_floor,
                          width=width, label=case.label))
    return views


def pooled(views):
    """``views``, and for a scalar value one more view whose entries are its values on every case."""
    if len(views) < 2 or not all(v.numeric.ndim == 0 and v.analytic.ndim == 0 for v in views):
        return list(views)
    batch = None if any(v.batch is None for v in views) else np.array([v.batch for v in views], float)
    width = None if any(v.width is None for v in views) else np.array([v.width for v in views], float)
    return list(views) + [View(np.array([v.analytic for v in views]), np.array([v.numeric for v in views]), {},
                               batch, TOL, 1e-3, max(v.abs_floor for v in views), entrywise=True, width=width)]


def _is_wrong(view):
    return not view.fits or bool(view.wrong.any())


def _telling(view):
    """How well a view tells axes apart (B > 1, no axis of size 1, no two axes alike): higher is better."""
    b = view.batch if np.ndim(view.batch) == 0 and view.batch is not None else 0
    return (b > 1) + (1 not in view.numeric.shape) + (len(set(view.numeric.shape)) == view.numeric.ndim)


def read_numbers(name, views, first=None):
    """The clues about the value ``name`` that hold on every view (a list of :class:`~minivae.gradclues.Clue`).

    The clues are suggested by the wrong views, ``first`` (the view the problem was found
    on) first, then those that tell axes apart best (a sentence may quote the sizes of
    the view that suggested it), and kept only when they hold on every view.
    """
    suggested, seen, texts = [], 0, set()
    rest = sorted((v for v in views if v is not first), key=_telling, reverse=True)
    for view in ([first] if first is not None else []) + rest:
        if _is_wrong(view) and seen < SUGGESTING:
            seen += 1
            fresh = [c for c in candidates(f"your {name}", view, "the true one") if c.text not in texts]
            texts.update(c.text for c in fresh)
            suggested += fresh
    return verified(suggested, pooled(views))


def _percent(part, whole):
    p = 100.0 * part / whole
    return f"{p:.0f} %" if p >= 1 or p == 0 else "under 1 %"


def _of(views, total):
    """``"of 17 inputs"``, or ``"of the 3 inputs with a value to compare (of 17)"`` where the others have none
    (the function raised there, or the value does not exist there: a layer one model lacks)."""
    n = len(views)
    return f"of {n} inputs" if total is None or total == n else \
        f"of the {n} inputs with a value to compare (of {total})"


def shape_facts(name, views, total=None):
    """For a value of the wrong shape: on how many inputs, and the shapes on the one that tells most."""
    off = [v for v in views if v.analytic.shape != v.numeric.shape]
    if not off:
        return None
    v = max(off, key=_telling)
    return (f"No simple pattern holds on every input. What is known: your {name} has the wrong shape on "
            f"{len(off)} {_of(views, total)}; on one with B = {v.batch}, it has shape {v.analytic.shape} where "
            f"{v.numeric.shape} belongs.")


def _two(lo, hi):
    """``lo`` and ``hi`` with as many digits (3 to 7) as it takes to tell them apart."""
    for digits in range(3, 8):
        a, b = f"{lo:.{digits}g}", f"{hi:.{digits}g}"
        if a != b:
            break
    return a, b


def what_is_known(name, views, right, meanings, total=None):
    """Sentences for when no clue holds: how often and how far the value is wrong, what is right.

    Parameters
    ----------
    name : str
    views : list of View
        The value's views, one per case, from :func:`views_of`.
    right : list of str
        The other values that are right on every case.
    meanings : list of str or None
        What the meaning checks test, when the answer passed every one of them on every case.
    total : int, optional
        How many inputs there were (more than ``views`` where the function raised on some).
    """
    cases = views
    fitting = [v for v in cases if v.fits]
    wrong = [v for v in fitting if v.wrong.any()]
    parts = [f"your {name} is wrong on {len(wrong) + len(cases) - len(fitting)} {_of(cases, total)}"]
    if len(fitting) < len(cases):
        parts[0] += f" ({len(cases) - len(fitting)} of them with the wrong shape or a NaN or infinite entry)"
    if wrong:
        entries = sum(int(v.wrong.sum()) for v in wrong)
        checked = sum(v.numeric.size for v in wrong)
        if checked > len(wrong):
            parts[0] += f", in {_percent(entries, checked)} of their entries"
        sig = [v.wrong & (np.abs(v.numeric) > 1e-3 * v.scale) for v in wrong]
        if len(wrong) <= 2 and len(fitting) == len(cases) > len(wrong) and all(v.label for v in wrong):
            parts.append("those are " + " and ".join(f"[{v.label}]" for v in wrong))
        ratios = np.concatenate([v.analytic[m] / v.numeric[m] for v, m in zip(wrong, sig)])
        if ratios.size:
            flipped = int((ratios < 0).sum())
            sign = f"; {_percent(flipped, ratios.size)} of them have the opposite sign" if flipped else ""
            lo, hi = _two(ratios.min() + 0.0, ratios.max() + 0.0)
            size = (("0" if lo == "0" else f"{lo} times the true one") if lo == hi
                    else f"between {lo} and {hi} times the true one")
            parts.append(f"where the true one is not near 0 and yours is wrong, yours is {size}{sign}")
        off = sum(int((v.wrong & ~m).sum()) for v, m in zip(wrong, sig))
        if off:
            parts.append(f"{off} wrong entr{'y lies' if off == 1 else 'ies lie'} where the true one is 0 (or near it)")
    text = "No simple pattern holds on every input. What is known: " + "; ".join(parts) + "."
    if right:
        text += f" Right on every input: {', '.join(right)}."
    if meanings:
        text += f" It passes the meaning checks ({'; '.join(meanings)})."
    return text
