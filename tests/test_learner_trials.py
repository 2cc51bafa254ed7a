"""The checker measured as a new learner meets it (issue 17, point 6).

``tests/learner_trials`` holds answers written from the stubs, not from the catalogue:
right ones written differently from the library, and plausible mistakes the catalogue
does not hold. Every right answer must pass, every mistake must fail, and every clue the
checker states must hold again on fresh inputs of other shapes. ``python -m
tests.learner_trials`` prints the whole table.
"""
import pytest

from minivae.exercises import CATALOGUE, EXERCISES

from .learner_trials import load
from .learner_trials.run import classify, judge

TRIALS = load()


def test_the_trials_cover_every_exercise_several_times():
    rights = [t for t in TRIALS if t.kind == "right"]
    wrongs = [t for t in TRIALS if t.kind == "wrong"]
    assert len(rights) >= 50 and len(wrongs) >= 50
    for e in EXERCISES[:12]:
        assert sum(t.exercise == e.name for t in rights) >= 4, e.name
        assert sum(t.exercise == e.name for t in wrongs) >= 4, e.name
    catalogued = {m.fn.__name__ for ms in CATALOGUE.values() for m in ms}
    assert not catalogued & {t.key for t in wrongs}, "the trials are not the catalogue's"


@pytest.mark.parametrize("trial", TRIALS, ids=lambda t: f"{t.exercise}-{t.key}")
def test_right_passes_wrong_fails_and_every_clue_holds_on_fresh_inputs(trial):
    result, false = judge(trial)
    verdict = classify(trial, result, false)
    assert verdict not in ("false negative", "passed", "misleading"), (verdict, result.problem, result.diagnosis,
                                                                      false)
    if trial.kind == "wrong":  # and not one the catalogue holds, in its numbers either
        assert result.problem and result.diagnosis and "classic mistake" not in result.diagnosis


def test_a_false_clue_is_caught():
    """The re-check itself can fail: a clue that is an accident of the checker's inputs is false on fresh ones."""
    from minivae.exercises import BY_NAME
    from minivae.gradclues import Clue

    from .clue_checks import false_clues

    trial = next(t for t in TRIALS if t.key == "leaky")
    result, _ = judge(trial)
    accident = Clue("count", "your dx is wrong in exactly 3 entries", lambda v: bool(v.wrong.sum() == 3))
    result.clues = (("dx", accident),)
    assert false_clues(BY_NAME["relu_backward"], trial.fn, result) == [
        ("your dx is wrong in exactly 3 entries", "false on fresh inputs")]
