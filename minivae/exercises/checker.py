"""Check a learner's function against its exercise, and say what is wrong and why.

A check runs the function on every case of the exercise and judges each answer in
three steps: its **structure** (how many values, their shapes and dtypes), its
**meaning** (what the formula says that a gradient check cannot see: the KL is never
negative, ...), and its **numbers**, against central differences of the library's
forward pass and against the library's own answer. The first thing wrong is the
*problem*. Then comes the *diagnosis*: a classic mistake from the catalogue whose
numbers the learner's function reproduces on every case, or, when none does, what the
numbers themselves show (:mod:`minivae.gradclues`): a constant factor such as 1/B, a
flipped sign, errors only where x < 0, a wrong shape. Such a clue is said only when it
holds on every case, tested against the library's answer there
(:mod:`minivae.exercises.reading`); when none does, the diagnosis says what is known:
on how many inputs and how far the value is wrong, which values are right, and what the
meaning checks found.
"""
from __future__ import annotations

import os
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import relative_error
from .calling import Raised, Stopped, WrongUse
from .cases import TOL
from .reading import read_numbers, shape_facts, views_of, what_is_known
from .spec import CATALOGUE, DERIVATIONS, InputChanged, WrongCount

PASSED, FAILED, NOT_STARTED = "passed", "failed", "not started"
_CASES = {}


@dataclass
class Result:
    """The verdict on one exercise.

    ``problem`` says what is wrong on which input (``None`` unless failed);
    ``diagnosis`` names the mistake, or what the numbers show, and what to reread;
    ``output`` is what the learner's code printed while it was checked (``exercises
    check`` shows it in its text report, never in ``--json``).
    """

    exercise: str
    status: str
    max_rel_error: float | None = None
    problem: str | None = None
    diagnosis: str | None = None
    cases: int = 0
    #: ``(value name, clue)`` for each clue (:class:`minivae.gradclues.Clue`) the diagnosis states,
    #: each true on every case
    clues: tuple = field(default=(), repr=False, compare=False)
    output: str = ""

    def as_json(self):
        """The object ``exercises check --json`` prints for this exercise."""
        text = " ".join(t for t in (self.problem, self.diagnosis) if t) or None
        return {"exercise": self.exercise, "status": self.status, "max_rel_error": self.max_rel_error,
                "diagnosis": text}


def cases_of(exercise):
    """The exercise's cases, made once per process."""
    if exercise.name not in _CASES:
        _CASES[exercise.name] = exercise.make_cases()
    return _CASES[exercise.name]


def _call(exercise, fn, case):
    """``fn``'s answer on ``case``, or the exception it raised.

    ``fn`` is the learner's function itself, or a
    :class:`~minivae.exercises.isolation.RemoteFunction` that calls it in a child process
    (and raises :class:`~minivae.exercises.calling.Stopped` if that process ends or hangs).
    NumPy's floating-point warnings are silenced (in the child too): the checker reads the
    numbers itself.
    """
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return exercise.run(fn, case)
        except Exception as e:  # a learner's code may raise anything: it is reported, not re-raised
            return e


def _flat(outs):
    """``{name: value}`` with dict values spread out as ``name['key']``."""
    flat = {}
    for name, v in outs.items():
        if name.startswith("_"):  # a note, not a value
            continue
        if isinstance(v, dict):
            flat.update({f"{name}[{k!r}]": x for k, x in v.items()})
        else:
            flat[name] = v
    return flat


def _raised(e, workbook):
    """One line for an exception: its type, message, and the workbook line it came from."""
    if isinstance(e, InputChanged):
        return (f"it wrote into its argument{'s' if len(e.names) > 1 else ''} {', '.join(e.names)}: a backward "
                "must never change its inputs (the caller still needs them); compute into new arrays")
    if isinstance(e, (WrongCount, WrongUse)):
        return f"it {e}"
    if isinstance(e, Raised):  # raised in the child process, which sent its type, message and line
        ends = "; sys.exit() ends the program, and a function the checker calls must return its answer" \
            if e.type_name == "SystemExit" else ""
        return f"it raised {e.type_name}: {e.message}{e.where}{ends}"
    frames = traceback.extract_tb(e.__traceback__)
    mine = [f for f in frames if workbook and os.path.abspath(f.filename) == os.path.abspath(workbook)]
    at = ""
    if mine:
        f = mine[-1]
        at = f" ({os.path.basename(f.filename)}, line {f.lineno}: {(f.line or '').strip()})"
    return f"it raised {type(e).__name__}: {' '.join(str(e).split())}{at}"


def _hint_for(e):
    text = str(e)
    if "matmul" in text or "shapes" in text and "aligned" in text:
        return "A matrix product got arrays whose inner sizes differ: write the shape of each array beside it."
    if "broadcast" in text:
        return "Two arrays of different shapes met in an elementwise operation: print their shapes."
    return None


def _structure(name, mine, ref):
    """What is wrong with the kind, shape or dtype of one returned value, or ``None``.

    Only the facts of this case: what the shapes say about the mistake is read on every
    case by :func:`_read`.
    """
    if isinstance(mine, (tuple, list)) and any(hasattr(v, "shape") for v in mine):  # arrays inside a container
        if isinstance(mine, tuple) and len(mine) == 1:
            return (f"{name} is a 1-tuple (an array inside a tuple of one), not an array: a trailing comma, as in "
                    f"`return {name.split('[')[0]},`, makes one")
        kind = "tuple" if isinstance(mine, tuple) else "list"
        return f"{name} is a {kind} of {len(mine)} value{'s' * (len(mine) != 1)}; expected one array of shape " \
               f"{np.shape(ref)}"
    try:
        a = np.asarray(mine)
    except Exception:
        return f"{name} is a {type(mine).__name__}; expected an array"
    r = np.asarray(ref)
    if a.dtype.kind not in "fiub":
        return f"{name} is {a.dtype} ({type(mine).__name__}); expected floating-point numbers"
    if a.shape != r.shape:
        return f"{name} has shape {a.shape}; expected {r.shape}"
    if r.dtype == np.float64 and a.dtype != np.float64:
        return (f"{name} has dtype {a.dtype}; the inputs are float64 and so must it be (a float32 constant, or "
                "an integer array from a comparison that was never multiplied by a float?)")
    return None


def _compare(mine, ref, floor):
    """Entrywise relative errors, with non-finite entries that differ counted as infinitely wrong."""
    a, r = np.asarray(mine, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    ok = np.isfinite(a) & np.isfinite(r)
    err = np.where(ok, 0.0, np.where((a == r) | (np.isnan(a) & np.isnan(r)), 0.0, np.inf))
    if ok.any():
        err[ok] = relative_error(np.where(ok, a, 0.0), np.where(ok, r, 0.0), 1e-3, floor)[ok]
    return err


def _judge(exercise, case, outs):
    """``(max relative error, None)`` if right, else ``(error or None, (problem, name, mine, truth))``."""
    ref = _flat(exercise.reference(case))
    mine = _flat(outs)
    for name, r in ref.items():
        if name not in mine:
            return None, (f"{name} is missing from what it returned", None, None, None)
        bad = _structure(name, mine[name], r)
        if bad:
            return None, (bad, name, None, None)
    for meaning in exercise.meanings:
        bad = meaning(case, outs)
        if bad:  # the numbers, if also wrong, still give the clues
            err, wrong = _first_wrong(exercise, case, mine, ref)
            return err, (bad, *(wrong[1:] if wrong else (None, None, None)))
    return _first_wrong(exercise, case, mine, ref)


def _first_wrong(exercise, case, mine, ref):
    """Compare every value with the numeric gradient (where there is one) and the library's."""
    numeric = case.remember("numeric", case.numeric) if case.numeric else {}
    worst = 0.0
    for name, r in ref.items():
        checks = [("numeric", numeric[name], case.abs_floor)] if name in numeric else []
        checks.append(("the library's", r, 1e-12))
        for label, truth, floor in checks:
            err = _compare(mine[name], truth, floor)
            e = float(err.max(initial=0.0))
            worst = max(worst, e)
            if e > TOL:
                idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape)) if err.ndim else ()
                a, t = np.asarray(mine[name], np.float64)[idx], np.asarray(truth, np.float64)[idx]
                at = f"worst entry {name}{list(idx)}: " if idx else ""
                problem = f"{name} is wrong: {at}yours {a:.10g}, {label} {t:.10g} (relative error {e:.2e})"
                return e, (problem, name, mine[name], truth)
    return worst, None


def _same(outs_a, outs_b):
    """Whether two answers agree: the same names and shapes, equal numbers (NaN and inf included)."""
    if isinstance(outs_a, Exception) or isinstance(outs_b, Exception):
        return False
    a, b = _flat(outs_a), _flat(outs_b)
    if a.keys() != b.keys():
        return False
    for k in a:
        try:
            x, y = np.asarray(a[k]), np.asarray(b[k])
            if x.dtype.kind not in "fiub" or y.dtype.kind not in "fiub":  # complex, text, objects: not numbers
                return x.dtype == y.dtype and x.shape == y.shape and bool(np.all(x == y))
            x, y = x.astype(np.float64), y.astype(np.float64)
        except (TypeError, ValueError):
            return False
        with np.errstate(all="ignore"):
            differ = x.shape != y.shape or float(_compare(x, y, 1e-12).max(initial=0.0)) > TOL
        if differ:
            return False
    return True


def diagnose(exercise, answers):
    """The catalogued mistake whose answers equal ``answers`` on every case, or ``None``."""
    for m in CATALOGUE.get(exercise.name, ()):
        theirs = [case.remember(("mistake", m.key), lambda: _call(exercise, m.fn, case))
                  for case in cases_of(exercise)]
        if all(_same(mine, t) for mine, t in zip(answers, theirs)):
            return m
    return None


def check_exercise(exercise, fn, workbook=None):
    """Check the learner's ``fn`` against ``exercise``; return a :class:`Result`."""
    cases = cases_of(exercise)
    answers = []
    for case in cases:
        outs = _call(exercise, fn, case)
        if isinstance(outs, Stopped):  # the learner's process ended or hung: nothing more to ask it
            return Result(exercise.name, FAILED, None, f"{outs} (on {case.label}).", None, cases=len(answers))
        if not answers and isinstance(outs, NotImplementedError):
            return Result(exercise.name, NOT_STARTED)
        answers.append(outs)
    worst, shared = 0.0, None
    for case, outs in zip(cases, answers):
        if isinstance(outs, Exception):
            problem = f"On {case.label}, {_raised(outs, workbook)}."
            return _failed(exercise, answers, None, problem, _hint_for(outs))
        err, wrong = _judge(exercise, case, outs)
        if wrong is None:
            worst = max(worst, err)
            if shared is None and "_shared" in outs:
                name, arg = outs["_shared"]
                shared = (f"On {case.label}, the {name} it returned is its argument {arg} itself (or a view of "
                          f"it): return a new array ({arg}.copy()), since the caller may add into {name} and "
                          f"must not see {arg} change.")
            continue
        problem, name, mine, truth = wrong
        hint, found = _read(exercise, cases, answers, name, numbers=mine is not None, at=case)
        return _failed(exercise, answers, err, f"On {case.label}: {problem}.", hint, found)
    if shared:  # the numbers are right everywhere; only the returned array itself is wrong
        return _failed(exercise, answers, worst, shared, None)
    return Result(exercise.name, PASSED, worst, cases=len(cases))


def _sentence(text):
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _values(exercise, cases, answers):
    """``(mine, refs)``: the flattened answers and the library's, one dict per case (``None`` where it raised)."""
    mine = [None if isinstance(o, Exception) else _flat(o) for o in answers]
    refs = [None if m is None else _flat(exercise.reference(c)) for c, m in zip(cases, mine)]
    return mine, refs


def _read(exercise, cases, answers, name, numbers=True, at=None):
    """``(hint, clues)`` about the value ``name``, from its numbers on every case.

    ``numbers`` is false when the problem is the value's structure: then only what the
    shapes say is told (or what is known of them). ``at`` is the case the problem was
    found on: its numbers suggest clues first.
    """
    if name is None:
        return None, ()
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # a learner's numbers may overflow anything
        warnings.simplefilter("ignore")
        return _read_quietly(exercise, cases, answers, name, numbers, at)


def _read_quietly(exercise, cases, answers, name, numbers, at):
    mine, refs = _values(exercise, cases, answers)
    views = views_of(cases, [None if m is None else m.get(name) for m in mine],
                     [None if r is None else r.get(name) for r in refs])
    first = next((v for v in views if at is not None and v.label == at.label), None)
    found = read_numbers(name, views, first)
    if found:
        return " ".join(_sentence(c.text) for c in found), tuple((name, c) for c in found)
    if not numbers:
        return shape_facts(name, views, len(cases)), ()
    right = [k for k in (refs[0] or {}) if k != name and all(
        r is None or (k in m and _structure(k, m[k], r[k]) is None and _compare(m[k], r[k], 1e-12).max(initial=0.0)
                      <= TOL) for m, r in zip(mine, refs))]
    return what_is_known(name, views, right, _meanings_passed(exercise, cases, answers), len(cases)), ()


def _meanings_passed(exercise, cases, answers):
    """What the meaning checks test (their docstrings), if the answers pass every one on every case."""
    if not exercise.meanings:
        return None
    for case, outs in zip(cases, answers):
        if isinstance(outs, Exception):
            return None
        try:
            if any(meaning(case, outs) for meaning in exercise.meanings):
                return None
        except Exception:  # a value the meaning cannot read: it says nothing then
            return None
    docs = [" ".join((m.__doc__ or "").split()).rstrip(".") for m in exercise.meanings]
    return docs if all(docs) else None


def _failed(exercise, answers, err, problem, hint, found=()):
    """The failed result: a catalogued mistake if one matches, else the ``hint`` read from the numbers."""
    m = diagnose(exercise, answers)
    if m is not None:
        diagnosis = f"This is a classic mistake: {m.what} Reread {DERIVATIONS} {m.section}."
        found = ()
    else:
        diagnosis = f"{hint + ' ' if hint else ''}Reread {DERIVATIONS} {exercise.section}."
    return Result(exercise.name, FAILED, err, problem, diagnosis, cases=len(answers), clues=tuple(found))
