"""Run one trial through the checker and classify what it said."""
from minivae.exercises import BY_NAME
from minivae.exercises.checker import check_exercise

from ..clue_checks import false_clues


def judge(trial):
    """``(result, false clues)`` of the checker on the trial's function."""
    exercise = BY_NAME[trial.exercise]
    result = check_exercise(exercise, trial.fn)
    return result, false_clues(exercise, trial.fn, result)


def classify(trial, result, false):
    """One of: "pass" and "false negative" (right answers); "passed", "misleading", "right",
    "generic-but-true" (mistakes). A diagnosis names the mistake when it holds one of the
    trial's phrases; one with a clue false on fresh inputs is misleading."""
    if trial.kind == "right":
        return "pass" if result.status == "passed" else "false negative"
    if result.status == "passed":
        return "passed"
    if false:
        return "misleading"
    text = f"{result.problem} {result.diagnosis}"
    return "right" if any(n in text for n in trial.names) else "generic-but-true"
