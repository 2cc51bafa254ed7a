r"""What a wrong gradient's numbers say about the mistake (docs/derivations.md §6).

A gradient check tells you *that* a backward pass is wrong and where its worst entry
is. The numbers often tell more. A gradient that is 0.2 times the true one everywhere,
with a batch of 5, lost a factor :math:`1/B`; one that is exactly :math:`-1` times it has
a sign flipped; one that is wrong exactly where the input is negative mishandles that
side of a kink; one that is non-zero exactly where the true one is zero has its mask
the wrong way round. The functions here look for such patterns and say what they see,
in one sentence each. They read the numbers only: they never guess at the code.

A pattern seen on one input may be an accident of that input: on a 1×1 array every
ratio is "a constant", and where every x is negative every error is "where x < 0". So a
pattern is a :class:`Clue`: a sentence *and* a test that can be run on the evidence of
any other input (a :class:`View`: the value under test, the truth, the arrays that
share its indices, the batch size). A clue is said only when its test holds on every
view where it is defined and says something on at least one (:func:`verified`): a
constant factor needs an input with two distinct entries, a place ("where x < 0") an
input with entries on both sides.

A value of the wrong shape gets the clues of :mod:`minivae.shapeclues` instead.

Used by :func:`minivae.gradcheck.check_pair` and :func:`~minivae.gradcheck.check_scalar`
(the ``clues`` of a failed report, judged on their one input) and by the exercise
checker (:mod:`minivae.exercises`), which judges them on every case of an exercise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

from .backend import module_for, to_numpy
from .shapeclues import SAME, shape_clue, shape_tests, transpose_test

np = module_for("numpy")

def _host(a):
    return np.asarray(to_numpy(a), dtype=np.float64)


# ---------------------------------------------------------------------- the evidence
@dataclass(frozen=True)
class View:
    """The evidence of one input: the value under test, the truth, and what lies beside them.

    Attributes
    ----------
    analytic, numeric : arrays
        The value under test and the reference (its shape may differ from the reference's).
    inputs : dict
        Name -> array sharing the reference's indices (``x`` for ``dx``): where a
        place clue ("wrong exactly where x < 0") may look. Never an array that merely
        has the same shape.
    batch : int, array or None
        B; an array of one B per entry when the entries are the scalars of several inputs.
    tol, floor, abs_floor : float
        The relative-error test of :func:`minivae.gradcheck.relative_error`.
    entrywise : bool
        Whether each entry is measured against its own size (the scalars of several
        inputs, of very different sizes) rather than against the largest entry.
    width : int, array or None
        D, the width of the value's last axis (of the input's, for a number), so that a
        factor 1/D can be named; by default the value's own last axis.
    label : str
        Which input this is, for messages.
    """

    analytic: object
    numeric: object
    inputs: dict = field(default_factory=dict)
    batch: object = None
    tol: float = 1e-6
    floor: float = 1e-3
    abs_floor: float = 1e-10
    entrywise: bool = False
    width: object = None
    label: str = ""

    def __post_init__(self):
        object.__setattr__(self, "analytic", _host(self.analytic))
        object.__setattr__(self, "numeric", _host(self.numeric))
        object.__setattr__(self, "inputs", {k: _host(v) for k, v in self.inputs.items()})
        if self.width is None and self.numeric.ndim:
            object.__setattr__(self, "width", self.numeric.shape[-1])

    @cached_property
    def fits(self):
        """Whether the value has the reference's shape and is finite."""
        a = self.analytic
        return a.shape == self.numeric.shape and bool(np.isfinite(a).all())

    @cached_property
    def scale(self):
        """The size entries are measured against: the largest one (or each entry's own)."""
        a, n = self.analytic, self.numeric
        if self.entrywise:
            return np.maximum(np.abs(a), np.abs(n))
        return max(float(np.abs(a).max(initial=0.0)), float(np.abs(n).max(initial=0.0)))

    @cached_property
    def wrong(self):
        """The entries whose relative error exceeds ``tol`` (the value must fit)."""
        a, n = self.analytic, self.numeric
        denom = np.maximum(np.maximum(np.abs(a), np.abs(n)), np.maximum(self.floor * self.scale, self.abs_floor))
        return np.abs(a - n) / denom > self.tol


@dataclass(frozen=True)
class Clue:
    """One sentence about a wrong value, with the test that makes it true.

    ``test(view)`` is ``True`` when the sentence holds on that view and says something
    there, ``False`` when it is false there, ``None`` when it is not defined there or
    holds only trivially (a "constant" ratio of a single entry). ``kind`` groups clues
    that compete: of those that hold, only the most specific (lowest ``rank``, then the
    first suggested) of a kind is said.
    """

    kind: str
    text: str
    test: Callable = field(repr=False, compare=False)
    rank: int = 0

    def holds(self, view):
        """The test on ``view``; an error while testing counts as false."""
        try:
            return self.test(view)
        except (ValueError, TypeError, IndexError, ZeroDivisionError):
            return False


def verified(candidates, views):
    """The candidates whose test is never false on ``views`` and true on one, one per kind."""
    kept, kinds = [], set()
    for clue in sorted(candidates, key=lambda c: c.rank):
        if clue.kind in kinds:
            continue
        said = False
        for view in views:
            result = clue.holds(view)
            if result is False:
                break
            said = said or result is True
        else:
            if said:
                kept.append(clue)
                kinds.add(clue.kind)
    return kept


# ---------------------------------------------------------------------- factors
def _factors(batch, width=None):
    """Simple factors a formula gains or loses, simplest first: ``[(name, f(B, D)), ...]``.

    B is the batch size, D the width of the value's last axis (the features); a factor
    that reads one is offered only when it is known and above 1.
    """
    has_b = batch is not None and bool(np.all(np.asarray(batch) > 1))
    has_d = width is not None and bool(np.all(np.asarray(width) > 1))
    out = [("1/B", lambda B, D: 1.0 / B), ("B", lambda B, D: 1.0 * B)] if has_b else []
    out += [("2", lambda B, D: 2.0), ("1/2", lambda B, D: 0.5)]
    if has_b:
        out += [("2/B", lambda B, D: 2.0 / B), ("B/2", lambda B, D: B / 2.0), ("1/(2B)", lambda B, D: 0.5 / B),
                ("2B", lambda B, D: 2.0 * B), ("1/B²", lambda B, D: 1.0 / B**2), ("B²", lambda B, D: 1.0 * B * B)]
    if has_d:
        out += [("1/D", lambda B, D: 1.0 / D), ("D", lambda B, D: 1.0 * D)]
    if has_b and has_d:
        out += [("B/D", lambda B, D: B / D), ("D/B", lambda B, D: D / B), ("1/(BD)", lambda B, D: 1.0 / (B * D))]
    return out + [("4", lambda B, D: 4.0), ("1/4", lambda B, D: 0.25)]


def _named(r, batch, width=None):
    """Every ``(name, f)`` whose value here is ``r`` (signed): B and D may coincide on one input."""
    found = []
    for name, f in _factors(batch, width):
        value = float(np.asarray(f(batch, width)).ravel()[0])
        if abs(abs(r) - value) <= SAME * value:
            found.append((name, f) if r > 0 else (f"-{name}", lambda B, D, f=f: -f(B, D)))
    return found


def name_factor(r, batch=None, width=None):
    """A name for the number ``r`` from the batch size B, the width D and small constants, or ``None``.

    >>> name_factor(0.2, batch=5), name_factor(-2.0), name_factor(0.37), name_factor(0.25, width=4)
    ('1/B', '-2', None, '1/D')
    """
    found = _named(r, batch, width)
    return found[0][0] if found else None


def _ratio_holds(view, f, mask):
    """Whether ``analytic = f · numeric`` on ``mask`` (see :class:`Clue` for the three answers)."""
    a, n = view.analytic, view.numeric
    if not mask.any():
        return None
    f = np.broadcast_to(np.asarray(f, dtype=np.float64), a.shape)
    scale = view.scale
    if (np.abs(a - f * n) > SAME * np.maximum(scale, 1e-300))[mask].any():
        return False
    sig = mask & (np.abs(n) > 1e-3 * scale)
    if not sig.any():
        return None
    if (np.abs(a[sig] / n[sig] - f[sig]) > SAME * np.maximum(np.abs(f[sig]), SAME)).any():
        return False
    return True if np.unique(n[sig]).size >= 2 else None  # one distinct entry: any ratio is "constant"


def _constant_ratio(view, mask):
    """The constant ``r`` with ``a = r n`` on ``mask`` of this view, or ``None``."""
    a, n = view.analytic, view.numeric
    sig = mask & (np.abs(n) > 1e-3 * view.scale)
    if not sig.any():
        return None
    r0 = float(np.median(a[sig] / n[sig]))
    return r0 if _ratio_holds(view, r0, mask) is not False else None


def _factors_of(view, r):
    """``[(name or None, f), ...]``: ``r`` named from B and D in every way that fits, then the plain constant."""
    return _named(r, view.batch, view.width) + [(None, lambda B, D, r=r: r)]


def _at(factor, view):
    """The factor ``(name, f)`` on this view: ``f(B, D)``, or ``None`` where it needs a B or D the view lacks."""
    name, f = factor
    name = name or ""
    if ("B" in name and view.batch is None) or ("D" in name and view.width is None):
        return None
    return f(view.batch, view.width)


def describe_ratio(name, r, batch=None, *, truth="the true gradient", where="everywhere", width=None, expr=""):
    """One sentence for ``name = r * truth``; ``expr`` names ``r`` (found from B and D when left out)."""
    where = f" {where}" if where else ""
    if abs(r) <= SAME:
        return f"{name} is zero{where}, while {truth} is not: a term or a branch is missing"
    if abs(r + 1.0) <= SAME:
        return f"{name} has the right size but the opposite sign{where}: a sign is flipped"
    if expr == "":
        expr = name_factor(r, batch, width)
    if expr is None:
        return (f"{name} is a constant {r:.4g} times {truth}{where}: the formula's shape is right, "
                "a constant factor is wrong")
    units = [f"B = {batch}, the batch size" if "B" in expr and np.ndim(batch) == 0 else "",
             f"D = {width}, the width of its last axis" if "D" in expr and np.ndim(width) == 0 else ""]
    unit = f" ({'; '.join(u for u in units if u)})" if any(units) else ""
    value = f"{r:.4g}" if f"{r:.4g}" == expr or np.ndim(batch) else f"{r:.4g} = {expr}"
    return f"{name} is {value} times {truth}{where}{unit}"


def _say(name, r, view, factor, truth, where):
    return describe_ratio(name, r, view.batch, truth=truth, where=where, width=view.width, expr=factor[0])


# ---------------------------------------------------------------------- the tests, one per pattern
def _fits(test):
    def run(view):
        return test(view) if view.fits else False
    return run


def _ratio_test(factor):
    @_fits
    def test(view):
        f = _at(factor, view)
        return None if f is None else _ratio_holds(view, f, np.ones(view.analytic.shape, bool))
    return test


def _ratio_on(factor, view, mask):
    """Whether the factor holds on ``mask`` (``None`` where the view lacks the B it needs)."""
    if factor is None:
        return None
    f = _at(factor, view)
    return None if f is None else _ratio_holds(view, f, mask)


@_fits
def _mask_test(view):
    scale = view.scale  # a mask makes exact zeros: anything else, however small, is "on"
    on, true_on = np.abs(view.analytic) > 1e-9 * scale, np.abs(view.numeric) > 1e-9 * scale
    if not (on.any() and true_on.any()):
        return None
    # disjoint AND covering: off where the truth is on, on where it is off (a threshold elsewhere fails this)
    return bool(not (on & true_on).any() and (on | true_on).all())


def _place_test(iname, sign, factor=None):
    @_fits
    def test(view):
        x = view.inputs.get(iname)
        if x is None or x.shape != view.analytic.shape:
            return None
        mask = x < 0 if sign < 0 else x > 0
        if not (view.wrong == mask).all():
            return False
        if _ratio_on(factor, view, mask) is False:
            return False
        telling = (np.abs(view.numeric) > 1e-3 * view.scale)[~mask]  # right where the truth is not 0
        return True if mask.any() and telling.any() else None
    return test


def _lines_test(axis, factor=None):
    """Errors fill whole lines (columns for ``axis=0``, rows for 1), some lines are right, and
    (given a factor) the wrong ones are that factor times the truth."""
    @_fits
    def test(view):
        a = view.analytic
        if a.ndim != 2 or min(a.shape) < 2:
            return None
        wrong = view.wrong
        hit = wrong.any(axis=axis)
        if not (wrong == np.expand_dims(hit, axis)).all() or hit.all():
            return False
        if _ratio_on(factor, view, wrong) is False:
            return False
        # a line is evidence of being right only where the truth is not 0 there (0 = 0 says nothing)
        telling = (np.abs(view.numeric) > 1e-3 * view.scale).any(axis=axis)
        return True if hit.any() and (telling & ~hit).any() else None
    return test


# ---------------------------------------------------------------------- reading one view
def candidates(name, view, truth="the true gradient"):
    """The clues this view suggests and does not contradict, most specific first (each still to be
    :func:`verified` on every view)."""
    return [c for c in _suggested(name, view, truth) if c.holds(view) is not False]


def _suggested(name, view, truth):
    a, n = view.analytic, view.numeric
    if a.shape != n.shape:
        return [Clue(*t) for t in shape_tests(name, a.shape, n.shape, view.batch)]
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a) & np.isfinite(n)).sum())
        where = f" ({bad} of its {a.size} entries where it has shape {a.shape})" if a.size > 1 else ""
        text = (f"{name} holds NaN or infinite entries where {truth} is finite{where}: look for an exp of a large "
                "number, a division by zero, or a log of 0")
        return [Clue("finite", text, lambda v: True if (~np.isfinite(v.analytic) & np.isfinite(v.numeric)).any()
                     else None)] if bad else []
    if not a.size or not view.wrong.any():
        return []
    found = []
    r = _constant_ratio(view, np.ones(a.shape, bool))
    if r is not None:
        where = "everywhere" if a.ndim else "on every input"  # a number is judged over several inputs
        found += [Clue("ratio", _say(name, r, view, f, truth, where), _ratio_test(f), rank=f[0] is None)
                  for f in _factors_of(view, r)]
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1:
        found.append(Clue("transpose", f"{name} is the transpose of {truth}: a transpose is missing or extra",
                          transpose_test))
    found.append(Clue("mask", f"{name} is non-zero exactly where {truth} is zero, and zero where it is not: "
                              "a mask (a comparison) is the wrong way round", _mask_test))
    wrong = view.wrong
    for iname, x in view.inputs.items():
        if x.shape != a.shape:
            continue
        for sign, op, other in ((-1, "< 0", "> 0"), (1, "> 0", "< 0")):
            mask = x < 0 if sign < 0 else x > 0
            if not (wrong == mask).all():
                continue
            place = f"{name} is wrong exactly where {iname} {op} (and right where {iname} {other})"
            r = _constant_ratio(view, mask)
            if r is not None:
                found += [Clue("place", f"{place}; there, " + _say("it", r, view, f, truth, ""),
                               _place_test(iname, sign, f), rank=f[0] is None) for f in _factors_of(view, r)]
            found.append(Clue("place", place, _place_test(iname, sign), rank=2))
    if a.ndim == 2:
        for axis, what in ((0, "column"), (1, "row")):
            hit = wrong.any(axis=axis)
            if hit.all():
                continue
            idx = [int(i) for i in np.flatnonzero(hit)]
            shown = ", ".join(map(str, idx[:6])) + (", ..." if len(idx) > 6 else "")
            s = "s" if len(idx) > 1 else ""
            lines = f"{name} is wrong in whole {what}s only, and right in the others (where it has shape {a.shape}: " \
                    f"{what}{s} {shown})"
            r = _constant_ratio(view, wrong)
            if r is not None:
                found += [Clue("lines", f"{lines}; there, " + _say("it", r, view, f, truth, ""),
                               _lines_test(axis, f), rank=f[0] is None) for f in _factors_of(view, r)]
            found.append(Clue("lines", lines, _lines_test(axis), rank=2))
    return found


# ---------------------------------------------------------------------- one input
def clues(name, analytic, numeric, *, tol=1e-6, floor=1e-3, abs_floor=1e-10, batch=None, inputs=None,
          truth="the true gradient"):
    """Sentences about what is wrong with the array ``analytic``, judged against ``numeric`` on this input alone.

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
        Name -> array sharing the indices of ``analytic`` (the input this is the gradient
        of, say): where a place clue may look (``"wrong exactly where x < 0"``).
    truth : str
        How the sentences call the reference.

    Returns
    -------
    list of str
        Empty when the numbers show no pattern that this input can support (a 1×1 input
        supports no constant factor), or when nothing is wrong.
    """
    view = View(analytic, numeric, dict(inputs or {}), batch, tol, floor, abs_floor)
    if view.analytic.shape != view.numeric.shape:
        return [shape_clue(name, view.analytic.shape, view.numeric.shape, batch)]
    return [c.text for c in verified(candidates(name, view, truth), [view])]
