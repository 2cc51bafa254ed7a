"""What the exercises tell a learner besides a verdict: the section to reread, the file of
the solution, the commands in the workbook, and the errors for a wrong name or a huge
workbook. Mutation testing found each of these unchecked (public behaviour only: the
checker's internals are being reworked)."""
import os
import re
from pathlib import Path

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
