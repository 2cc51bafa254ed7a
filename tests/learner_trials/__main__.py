"""``python -m tests.learner_trials``: the table of issue 17, point 6 (``-v``: every diagnosis too)."""
import sys

from . import MODULES, load
from .run import classify, judge

COLUMNS = ("right answers", "false negative", "mistakes", "passed", "right", "generic-but-true", "misleading")
rows = {name: dict.fromkeys(COLUMNS, 0) for name in MODULES}
for trial in load():
    result, false = judge(trial)
    verdict = classify(trial, result, false)
    row = rows[trial.exercise]
    row["right answers" if trial.kind == "right" else "mistakes"] += 1
    if verdict != "pass":
        row[verdict] += 1
    if "-v" in sys.argv or verdict in ("false negative", "passed", "misleading"):
        print(f"{trial.exercise} / {trial.key}: {verdict}\n  {trial.what or 'a right answer'}\n"
              f"  -> {result.problem} {result.diagnosis or ''}\n")
print(f"{'exercise':24}" + "".join(f"{c:>17}" for c in COLUMNS))
for name, row in rows.items():
    print(f"{name:24}" + "".join(f"{row[c]:>17}" for c in COLUMNS))
print(f"{'all':24}" + "".join(f"{sum(r[c] for r in rows.values()):>17}" for c in COLUMNS))
