"""A learner's trials: right-but-different answers and plausible mistakes the catalogue does not hold.

Written as a learner would write them, from the stubs' docstrings and docs/derivations.md,
without reading the catalogue (minivae/exercises/mistakes_*.py): one small module per
exercise. They are NOT catalogue entries; they measure the checker from the outside:
every right answer must pass, every mistake must fail, and every clue the checker states
must hold on fresh inputs of other shapes (``tests/clue_checks.py``).

``python -m tests.learner_trials`` prints the table of issue 17: how many right answers
failed, how many mistakes passed, and how many diagnoses name the real mistake (right),
say only true but general things (generic-but-true), or say something false (misleading).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

#: the exercise modules of this package, in the workbook's order
MODULES = ("dense_backward", "relu_backward", "sigmoid_backward", "tanh_backward", "mse", "bce_with_logits",
           "kl_standard_normal", "reparameterize_backward", "adam_step", "kl_sparsity", "contractive_penalty",
           "vae_backward")


@dataclass(frozen=True)
class Trial:
    """One answer: ``kind`` is "right" or "wrong"; ``names`` are phrases of a diagnosis that names the mistake."""

    exercise: str
    kind: str
    key: str
    fn: Callable
    what: str = ""
    names: tuple = ()


TRIALS: list = []


def right(exercise):
    """Register the decorated function as a right answer to ``exercise``."""
    def register(fn):
        TRIALS.append(Trial(exercise, "right", fn.__name__, fn))
        return fn
    return register


def wrong(exercise, what, *names):
    """Register the decorated function as a mistake: ``what`` it does wrong; ``names``: phrases that name it."""
    def register(fn):
        TRIALS.append(Trial(exercise, "wrong", fn.__name__, fn, what, names))
        return fn
    return register


def load():
    """Every trial (the modules register them when first imported)."""
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return list(TRIALS)
