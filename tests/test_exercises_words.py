"""What the exercises tell a learner besides a verdict: the section to reread, the file of
the solution, the commands in the workbook, and the errors for a wrong name or a huge
workbook. Mutation testing found each of these unchecked (public behaviour only: the
checker's internals are being reworked)."""
import os
import re
from pathlib import Path

import numpy as np
import pytest

from minivae.exercises import EXERCISES, select
from minivae.exercises.workbook import WorkbookError, path_of, source

ROOT = Path(__file__).resolve().parent.parent
HEADINGS = dict(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? (.+)$", (ROOT / "docs/derivations.md").read_text(encoding="utf-8"),
                           flags=re.M))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_each_exercise_points_to_a_real_section_and_a_real_solution(exercise):
    number, title = re.fullmatch(r"§(\d+(?:\.\d+)?) \((.+)\)", exercise.section).groups()
    assert number in HEADINGS, f"{exercise.section}: docs/derivations.md has no section {number}"
    assert HEADINGS[number].split()[0].rstrip(":") == title.split()[0].rstrip(":"), (exercise.section,
                                                                                      HEADINGS[number])
    path, name = re.fullmatch(r"(minivae/\S+\.py), ([\w.]+)( \(.+\))?", exercise.source).group(1, 2)
    assert (ROOT / path).is_file() and f"def {name.split('.')[-1]}(" in (ROOT / path).read_text(encoding="utf-8")


def test_an_unknown_exercise_is_named_with_the_list_of_all():
    with pytest.raises(ValueError) as info:
        select(["relu_backwards"])
    assert str(info.value) == ("no exercise called 'relu_backwards'; the exercises are: "
                               + ", ".join(e.name for e in EXERCISES))


def test_the_workbook_says_the_commands_for_its_own_folder():
    text = source(EXERCISES, "my-work")
    assert "python -m minivae exercises check my-work\n" in text
    assert f"python -m minivae exercises train my-work --out {os.path.join('my-work', 'run')}\n" in text


def test_a_huge_workbook_is_refused_with_its_size(tmp_path):
    with open(tmp_path / "workbook.py", "wb") as f:
        f.truncate(2_000_001)  # sparse: no 2 MB written
    with pytest.raises(WorkbookError, match=r"workbook\.py is 2,000,001 bytes; a workbook is a few kilobytes"):
        path_of(tmp_path)


# ---------------------------------------------------------------------- the four survivors left open by
# benchmarks/mutation.py in minivae/exercises/ (benchmarks/README.md), each with a test of its own
def test_a_sigmoid_slope_above_a_quarter_breaks_the_bound_first():
    """ops_exercises._sigmoid_bound: |dx| <= |dout|/4 (mutant: 4|dout|). A slope of 0.3 breaks the bound."""
    from minivae.exercises import BY_NAME
    from minivae.exercises.checker import check_exercise

    result = check_exercise(BY_NAME["sigmoid_backward"], lambda dout, cache: 0.3 * dout)
    assert result.status == "failed" and "at most |dout| / 4" in result.problem, result.problem


def test_a_relu_right_to_rounding_but_not_exactly_zero_fails_on_its_meaning_alone():
    """checker._judge: a meaning broken while every number is right (mutant: wrong[1:] of None raises)."""
    from minivae.exercises import BY_NAME
    from minivae.exercises.checker import check_exercise

    result = check_exercise(BY_NAME["relu_backward"],
                            lambda dout, cache: dout * (cache.x > 0) + 1e-15 * (cache.x < 0))
    assert result.status == "failed" and "exactly 0 where x < 0" in result.problem, result.problem


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.gradients and e.name != "vae_backward"],
                         ids=lambda e: e.name)
def test_every_gradient_is_checked_against_its_numeric_gradient(exercise):
    """The cases' numeric gradients are kept under the gradients' names (mutants: "DX" for "dx", ...)."""
    from minivae.exercises.checker import cases_of

    for case in cases_of(exercise):
        if case.numeric:
            assert set(case.remember("numeric", case.numeric)) >= set(exercise.gradients)


def test_copy_args_copies_the_arrays_inside_a_list():
    """spec.copy_args: a list's arrays are copied, not dropped (mutant: items replaced by None)."""
    from minivae.exercises.spec import copy_args

    a, b = np.arange(3.0), np.ones((2, 2))
    copied = copy_args([a, (b, 1)])
    assert isinstance(copied, list) and np.array_equal(copied[0], a) and copied[0] is not a
    assert np.array_equal(copied[1][0], b) and copied[1][0] is not b and copied[1][1] == 1
