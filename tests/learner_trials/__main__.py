"""``python -m tests.learner_trials``: the table of issue 17, point 6 (add ``-v`` for every diagnosis)."""
import sys

from . import load
from .run import classify, judge

rows = [(t, judge(t)) for t in load()]
counts = {}
for trial, (result, false) in rows:
    verdict = classify(trial, result, false)
    counts[verdict] = counts.get(verdict, 0) + 1
    if "-v" in sys.argv or verdict in ("false negative", "passed", "misleading"):
        print(f"{trial.exercise:24} {trial.key:34} {verdict:17} {(result.problem or '')[:90]}")
        if trial.kind == "wrong":
            print(f"{'':24} {trial.what}\n{'':24} -> {result.diagnosis}\n")
right = sum(1 for t, _ in rows if t.kind == "right")
wrong = len(rows) - right
print(f"{right} right answers over {len({t.exercise for t, _ in rows})} exercises: "
      f"{counts.get('false negative', 0)} false negatives")
print(f"{wrong} mistakes: {counts.get('passed', 0)} passed; diagnoses right {counts.get('right', 0)}, "
      f"generic-but-true {counts.get('generic-but-true', 0)}, misleading {counts.get('misleading', 0)}")
