"""Learn by deriving: a workbook of stubs, a checker that diagnoses mistakes, and your own VAE.

The loop a course hands out (the CS231n assignments' pattern), on minivae's own maths::

    python -m minivae exercises start my-work      # my-work/workbook.py: one stub per exercise
    python -m minivae exercises check my-work      # passed / failed (and why) / not started
    python -m minivae exercises train my-work --out my-work/run   # a VAE trained with your functions

The files, each small:

- ``spec.py``: what an exercise, one of its inputs (a case) and a catalogued mistake are;
- ``cases.py``: the inputs: many random ones, the edge cases, the numerical gradients;
- ``ops_exercises.py``, ``model_exercises.py``, ``conv_exercise.py``: the thirteen exercises,
  in the order of the README's reading guide; each solution is the library's own function,
  called (``solutions.py`` adapts the three that are methods in the library);
- ``mistakes_ops.py``, ``mistakes_models.py``, ``mistakes_conv.py``: the catalogue of
  classic mistakes, as data;
- ``checker.py``: judges an answer and diagnoses what is wrong;
- ``calling.py``: how the learner's function is called, and what is noticed where it ran
  (a returned view of an argument, a rebound parameter);
- ``isolation.py``, ``child.py``: the workbook runs in a child process, the checker
  judges in its own (``exercises check``);
- ``workbook.py``: writes the stubs and imports a learner's workbook;
- ``substitute.py``: trains a VAE with the learner's functions in place of the library's.

See docs/exercises.md.
"""
from __future__ import annotations

from . import mistakes_conv, mistakes_models, mistakes_ops  # noqa: F401  (they fill the catalogue)
from .conv_exercise import EXERCISE as _CONV_EXERCISE
from .model_exercises import EXERCISES as _MODEL_EXERCISES
from .ops_exercises import EXERCISES as _OPS_EXERCISES
from .spec import CATALOGUE, Exercise, Mistake  # noqa: F401

#: every exercise, in the order of the README's reading guide
EXERCISES = tuple(_OPS_EXERCISES + _MODEL_EXERCISES + [_CONV_EXERCISE])
#: name -> exercise
BY_NAME = {e.name: e for e in EXERCISES}


def select(only=None):
    """The exercises named in ``only`` (all when ``None``), in the workbook's order.

    Raises
    ------
    ValueError
        For a name that is not an exercise (the message lists them all).
    """
    if not only:
        return list(EXERCISES)
    unknown = [n for n in only if n not in BY_NAME]
    if unknown:
        raise ValueError(f"no exercise called {unknown[0]!r}; the exercises are: {', '.join(BY_NAME)}")
    return [e for e in EXERCISES if e.name in set(only)]
