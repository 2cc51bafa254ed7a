r"""What a wrong gradient's numbers say about the mistake (docs/derivations.md §6).

A gradient check tells you *that* a backward pass is wrong and where its worst entry
is. The numbers often tell more. A gradient that is 0.2 times the true one everywhere,
with a batch of 5, lost a factor :math:`1/B`; one that is exactly :math:`-1` times it has
a sign flipped; one that is wrong only where the input is negative mishandles that
side of a kink; one that is non-zero exactly where the true one is zero has its mask
the wrong way round. The functions here look for such patterns and say what they see,
in one sentence each. They read the numbers only: they never guess at the code.

Used by :func:`minivae.gradcheck.check_pair` and :func:`~minivae.gradcheck.check_scalar`
(the ``clues`` of a failed report) and by the exercise checker (:mod:`minivae.exercises`).
"""
from __future__ import annotations

from .backend import module_for, to_numpy

np = module_for("numpy")

#: two ratios closer than this (relatively) count as the same constant
SAME = 1e-5


def _host(a):
    return np.asarray(to_numpy(a), dtype=np.float64)


def _factors(batch):
    """Simple factors a formula gains or loses, simplest first: ``[(name, value), ...]``."""
    B = batch if batch is not None and batch > 1 else None
    out = [("1/B", 1.0 / B), ("B", float(B))] if B else []
    out += [("2", 2.0), ("1/2", 0.5)]
    if B:
        out += [("2/B", 2.0 / B), ("B/2", B / 2.0), ("1/(2B)", 0.5 / B), ("2B", 2.0 * B),
                ("1/B²", 1.0 / B**2), ("B²", float(B * B))]
    return out + [("4", 4.0), ("1/4", 0.25)]


def name_factor(r, batch=None):
    """A name for the number ``r`` from the batch size and small constants, or ``None``.

    >>> name_factor(0.2, batch=5), name_factor(-2.0), name_factor(0.37)
    ('1/B', '-2', None)
    """
    for name, value in _factors(batch):
        if abs(abs(r) - value) <= SAME * value:
            return name if r > 0 else f"-{name}"
    return None


def _constant_ratio(a, n, mask, scale):
    """The constant ``r`` with ``a = r n`` on ``mask``, or ``None`` if there is none."""
    sig = mask & (np.abs(n) > 1e-3 * scale)
    if not sig.any():
        return None
    r = a[sig] / n[sig]
    r0 = float(np.median(r))
    if np.abs(r - r0).max() > SAME * max(abs(r0), 1e-300):
        return None
    if np.abs(a[mask] - r0 * n[mask]).max() > SAME * scale:  # the small entries must agree too
        return None
    return r0


def describe_ratio(name, r, batch=None, *, truth="the true gradient", where="everywhere"):
    """One sentence for ``name = r * truth``."""
    where = f" {where}" if where else ""
    if abs(r) <= SAME:
        return f"{name} is zero{where}, while {truth} is not: a term or a branch is missing"
    if abs(r + 1.0) <= SAME:
        return f"{name} has the right size but the opposite sign{where}: a sign is flipped"
    expr = name_factor(r, batch)
    if expr is None:
        return (f"{name} is a constant {r:.4g} times {truth}{where}: the formula's shape is right, "
                "a constant factor is wrong")
    unit = f" (B = {batch}, the batch size)" if "B" in expr else ""
    value = f"{r:.4g}" if f"{r:.4g}" == expr else f"{r:.4g} = {expr}"
    return f"{name} is {value} times {truth}{where}{unit}"


def shape_clue(name, got, expected):
    """One sentence about a returned array of shape ``got`` where ``expected`` belongs."""
    got, expected = tuple(got), tuple(expected)
    head = f"{name} has shape {got}; expected {expected}"
    if len(got) == 2 and got == expected[::-1]:
        return f"{head}, the shape of its transpose: a transpose is missing or extra"
    if len(got) == len(expected) + 1 and got[1:] == expected:
        return f"{head}: it kept the batch axis, so a sum over the examples is missing"
    if len(got) == len(expected) + 1 and got[:-1] == expected:
        return f"{head}: it kept a last axis of size {got[-1]} that should have been summed"
    if len(got) + 1 == len(expected) and got in (expected[1:], expected[:-1]):
        return f"{head}: an axis was summed (or averaged) away that should stay"
    return head


def _where(name, wrong, inputs):
    """Where the wrong entries are, if that is a recognisable place."""
    for iname, arr in inputs.items():
        if tuple(arr.shape) != wrong.shape:
            continue
        for op, other, mask in (("< 0", "> 0", arr < 0), ("> 0", "< 0", arr > 0)):
            if (wrong == mask).all():
                return f"{name} is wrong exactly where {iname} {op} (and right where {iname} {other})"
    if wrong.ndim == 2:
        for axis, what in ((0, "column"), (1, "row")):
            hit = wrong.any(axis=axis)
            if not hit.all():
                idx = [int(i) for i in np.flatnonzero(hit)]
                shown = ", ".join(map(str, idx[:6])) + (", ..." if len(idx) > 6 else "")
                s = "s" if len(idx) > 1 else ""
                extra = " (whole examples of the batch)" if what == "row" and (wrong == hit[:, None]).all() else ""
                return f"{name} is wrong only in {what}{s} {shown} of {wrong.shape[1 - axis]}{extra}"
    return None


def clues(name, analytic, numeric, *, tol=1e-6, floor=1e-3, abs_floor=1e-10, batch=None, inputs=None,
          truth="the true gradient"):
    """Sentences about what is wrong with the array ``analytic``, judged against ``numeric``.

    Parameters
    ----------
    name : str
        What the array is called in the sentences (``"dW"``, ``"b"``).
    analytic, numeric : arrays of one shape
        The gradient under test and the reference (central differences, or the library's).
    tol, floor, abs_floor : float
        The relative-error test of :func:`minivae.gradcheck.relative_error`: an entry is
        wrong when its error exceeds ``tol``.
    batch : int, optional
        The batch size B, so that a factor of 0.2 with B = 5 is named ``1/B``.
    inputs : dict, optional
        Name -> array: arrays of the same shape (the inputs, ``dout``) whose signs may
        mark where the mistake lives (``"wrong exactly where x < 0"``).
    truth : str
        How the sentences call the reference.

    Returns
    -------
    list of str
        Empty when the numbers show no pattern (or nothing is wrong).
    """
    a, n = _host(analytic), _host(numeric)
    if a.shape != n.shape:
        return [shape_clue(name, a.shape, n.shape)]
    if not a.size:
        return []
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).sum())
        return [f"{name} holds {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'} where {truth} is finite: "
                "something overflows (an exp of a large number?) or divides by zero"]
    scale = max(float(np.abs(a).max()), float(np.abs(n).max()))
    denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), max(floor * scale, abs_floor))
    wrong = np.abs(a - n) / denom > tol
    if not wrong.any():
        return []
    found = []
    r = _constant_ratio(a, n, np.ones(a.shape, bool), scale)
    if r is not None:
        return [describe_ratio(name, r, batch, truth=truth, where="everywhere" if a.size > 1 else "")]
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and np.allclose(a, n.T, rtol=SAME, atol=SAME * scale):
        return [f"{name} is the transpose of {truth}: a transpose is missing or extra"]
    on, true_on = np.abs(a) > floor * scale, np.abs(n) > floor * scale
    if on.any() and true_on.any() and not (on & true_on).any() and (on | true_on).all():
        found.append(f"{name} is non-zero exactly where {truth} is zero, and zero where it is not: "
                     "a mask (a comparison) is the wrong way round")
    place = _where(name, wrong, inputs or {})
    if place is not None:
        r = _constant_ratio(a, n, wrong, scale)
        if r is not None:
            place += "; there, " + describe_ratio("it", r, batch, truth=truth, where="")
        found.append(place)
    return found
