"""Re-check what the exercise checker said, on inputs it never saw.

A clue (minivae.gradclues.Clue) carries the test that makes it true. The checker says it
only when the test holds on every case of the exercise; here the same test runs on
fresh cases of other shapes (``make_cases(variant=1)``), where a clue that was an
accident of the checker's inputs shows itself false.
"""
import inspect
import warnings

import numpy as np

from minivae.exercises import model_exercises
from minivae.exercises.checker import _flat
from minivae.exercises.reading import pooled, views_of

_FRESH = {}


def fresh_cases(exercise):
    """Cases of other shapes and draws than the checker's (made once per exercise)."""
    if exercise.name not in _FRESH:
        if "variant" in inspect.signature(exercise.make_cases).parameters:
            _FRESH[exercise.name] = exercise.make_cases(variant=1)
        elif exercise.name == "adam_step":  # its cases take no variant: draw them on other shapes
            kept = model_exercises.SHAPES
            model_exercises.SHAPES = ((1, 1), (3, 2), (9, 4), (2, 5), (6, 6), (4, 9))
            try:
                _FRESH[exercise.name] = exercise.make_cases()
            finally:
                model_exercises.SHAPES = kept
        else:  # an exercise without fresh cases is re-checked on its own
            _FRESH[exercise.name] = exercise.make_cases()
    return _FRESH[exercise.name]


def answer(exercise, fn, case):
    """``fn``'s answer on ``case`` (in this process), or the exception it raised."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return exercise.run(fn, case)
        except Exception as e:  # a wrong function may raise anything
            return e


def views_on(exercise, fn, cases, name):
    """The views of the value ``name`` of ``fn``'s answers on ``cases`` (the pooled scalars included)."""
    answers = [answer(exercise, fn, c) for c in cases]
    mine = [None if isinstance(o, Exception) else _flat(o).get(name) for o in answers]
    refs = [None if m is None else _flat(exercise.reference(c)).get(name) for c, m in zip(cases, mine)]
    return pooled(views_of(cases, mine, refs))


def false_clues(exercise, fn, result):
    """``[(clue text, why), ...]`` for each clue of ``result`` that is false on fresh inputs (or said on none)."""
    bad = []
    for name, clue in result.clues:
        views = views_on(exercise, fn, fresh_cases(exercise), name)
        if any(clue.holds(v) is False for v in views):
            bad.append((clue.text, "false on fresh inputs"))
        if not views:
            bad.append((clue.text, "no fresh input to test it on"))
    return bad
