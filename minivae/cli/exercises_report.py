"""The three reports of ``exercises check``: text for a learner, JSON and Gradescope's results.json for graders.

Each report is a function ``(path, results, printed, broken) -> str`` over the checker's
:class:`~minivae.exercises.checker.Result` list: ``printed`` is what the workbook printed
while it was imported, ``broken`` the one line saying why it does not import (or
``None``). Only the text report shows what the learner's code printed; the JSON and the
Gradescope file hold the checker's words alone. :func:`emit` prints a report, or writes
it to a file through :func:`minivae.checkpoint.write_atomically`.
"""
from __future__ import annotations

import json
import os
import re
import sys
import textwrap

#: how much of what a learner's code printed the text report shows, per exercise
SHOWN_LINES, SHOWN_WIDTH = 8, 100


def _printed(label, text, indent=6, pad=" " * 6):
    """The learner's output under ``label``, trimmed to SHOWN_LINES lines of SHOWN_WIDTH characters."""
    lines = text.rstrip("\n").splitlines()
    if not lines:
        return []
    lost = lines.pop() if re.fullmatch(r"\[[\d,]+ more bytes, not kept\]", lines[-1]) else None
    shown = [f"{pad}| {line[:SHOWN_WIDTH]}{' ...' if len(line) > SHOWN_WIDTH else ''}" for line in lines[:SHOWN_LINES]]
    if len(lines) > SHOWN_LINES or lost:
        more = [f"{len(lines) - SHOWN_LINES} more lines"] if len(lines) > SHOWN_LINES else []
        shown.append(f"{pad}| ... ({', then '.join(more + [lost[1:-1]] if lost else more)})")
    return [f"{' ' * indent}{label}:"] + shown


def text(path, results, printed, broken):
    """The learner's report: a line per exercise, what is wrong and why, and what the code printed."""
    lines = [f"checking {path}", ""]
    if printed:
        lines += _printed("the workbook printed while it was imported", printed, 0, "  ") + [""]
    if broken:
        lines += [f"the workbook does not import: {broken}", "",
                  f"{len(results)} failed (every exercise asked for, until the workbook imports)."]
        return "\n".join(lines)
    for r in results:
        status = "FAILED" if r.status == "failed" else r.status
        extra = f"({r.cases} cases, largest relative error {r.max_rel_error:.1e})" if r.status == "passed" else ""
        lines.append(f"  {r.exercise:25s} {status:12s} {extra}".rstrip())
        for words in (r.problem, r.diagnosis):
            if words:
                lines.append(textwrap.fill(words, 100, initial_indent=" " * 6, subsequent_indent=" " * 6))
        lines += _printed("it printed", r.output)
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "not started")}
    lines += ["", ", ".join(f"{n} {s}" for s, n in counts.items() if n) + "."]
    return "\n".join(lines)


def as_json(path, results, printed, broken):
    """A JSON list of ``{exercise, status, max_rel_error, diagnosis}``, one object per exercise."""
    return json.dumps([r.as_json() for r in results], indent=1)


def gradescope(path, results, printed, broken):
    """Gradescope's ``results.json``: one test per exercise worth 1 point, and the total ``score``.

    The keys written: ``score``, ``output``, ``tests`` (each ``name``, ``number``,
    ``score``, ``max_score``, ``status``, ``output``); see docs/exercises.md.
    """
    tests = []
    for i, r in enumerate(results, 1):
        if r.status == "passed":
            words = f"passed on {r.cases} cases (largest relative error {r.max_rel_error:.1e})."
        else:
            words = " ".join(t for t in (r.problem, r.diagnosis) if t) or \
                f"{r.status}: the stub still raises NotImplementedError."
        tests.append({"name": r.exercise, "number": str(i), "score": float(r.status == "passed"),
                      "max_score": 1.0, "status": "passed" if r.status == "passed" else "failed", "output": words})
    passed = sum(t["score"] for t in tests)
    summary = f"{os.path.basename(path)}: {passed:g} of {len(tests)} exercises passed."
    if broken:
        summary += f" The workbook does not import: {broken}"
    return json.dumps({"score": passed, "output": summary, "tests": tests}, indent=1)


REPORTS = {"text": text, "json": as_json, "gradescope": gradescope}


def emit(report, out=None):
    """Print ``report``, or write it to the file ``out`` atomically.

    A reader that stops early (``check --json | head -1``) ends the printing quietly.
    """
    data = report + "\n"
    if out:
        from ..checkpoint import write_atomically

        write_atomically(out, lambda f: f.write(data.encode("utf-8")), what="a report")
        return
    try:
        sys.stdout.write(data)
        sys.stdout.flush()
    except BrokenPipeError:
        try:  # Python flushes stdout again at exit: let that go nowhere rather than fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
