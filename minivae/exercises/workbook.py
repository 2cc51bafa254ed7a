"""The workbook: a plain Python file of stubs the learner fills in, and how it is read back.

``write(directory)`` makes ``directory/workbook.py``: a header that says how to check
and train, the imports a learner needs (the library's forward halves among them), and
one stub per exercise, each with the library's name and signature, a docstring that says
what to compute and where it is derived, and the body ``raise NotImplementedError``.

``load(path)`` imports a learner's workbook as a fresh module. A syntax error, or an
exception while the file runs, becomes a :class:`WorkbookError` of one line that names
the file and the line, not a traceback.
"""
from __future__ import annotations

import os
import tempfile
import textwrap
import traceback
import types

from .spec import DERIVATIONS

FILENAME = "workbook.py"
#: a workbook larger than this is not a workbook (it is read whole into memory)
MAX_BYTES = 2_000_000

HEADER = '''"""My minivae workbook: derive each backward pass on paper, write it here, check it.

Check every exercise, then one, then train a VAE made of your own functions:

    python -m minivae exercises check {dir}
    python -m minivae exercises check {dir} --only relu_backward
    python -m minivae exercises train {dir} --out {run}

Work in the order of this file (the order of the README's reading guide). Each stub
says what to compute, what it receives and returns, and which section of
docs/derivations.md derives it. A stub left as ``raise NotImplementedError`` counts
as "not started". The forward halves come from the library (imported below); so does
anything else you may call, through ``ops``.

The solutions are the library's own source: each stub names the file. Derive first,
and peek only to compare.
"""
import numpy as np

from minivae import ops  # the library's ops: ops.sigmoid, ops.reparameterize_backward, ...
from minivae.ops import dense_forward, relu_forward, reparameterize, sigmoid_forward, tanh_forward  # noqa: F401
'''


def stub(exercise):
    """The source of one exercise's stub: its ``def`` line, docstring and ``raise NotImplementedError``."""
    body = (f"{exercise.summary}\n\nRead {DERIVATIONS} {exercise.section}.\n\n{exercise.doc}\n\n"
            f"Solution: the library's own source, {exercise.source}.")
    doc = textwrap.indent(body, "    ").replace("\n    \n", "\n\n")
    return f'\n\ndef {exercise.name}({exercise.signature}):\n    """{doc.lstrip()}\n    """\n    raise NotImplementedError\n'


def source(exercises, directory="DIR"):
    """The whole workbook's text, for ``exercises`` (in their order)."""
    run = os.path.join(directory, "run")
    return HEADER.format(dir=directory, run=run) + "".join(stub(e) for e in exercises)


def write(directory, exercises, *, force=False):
    """Write ``directory/workbook.py`` with a stub for each of ``exercises``; return its path.

    Raises
    ------
    FileExistsError
        If the workbook exists and ``force`` is false: a learner's work is never
        overwritten by accident.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, FILENAME)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists already (your work?); pass --force to overwrite it, "
                              "or start in another folder")
    text = source(exercises, directory)
    fd, tmp = tempfile.mkstemp(prefix=".workbook-", suffix=".py", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


class WorkbookError(Exception):
    """The workbook cannot be imported; the message is one line naming the file and line."""


def path_of(directory):
    """``directory/workbook.py``, checked to exist and to be of a sane size."""
    path = os.path.join(directory, FILENAME)
    if not os.path.isfile(path):
        hint = "" if os.path.isdir(directory) else f" ({directory!r} is not a folder)"
        raise FileNotFoundError(f"no workbook at {path}{hint}; make one with "
                                f"'python -m minivae exercises start {directory}'")
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        raise WorkbookError(f"{path} is {size:,} bytes; a workbook is a few kilobytes of Python")
    return path


def load(path):
    """Import the workbook at ``path`` as a new module (never cached: each check reads it afresh).

    Raises
    ------
    WorkbookError
        With one line, ``workbook.py, line 12: SyntaxError: invalid syntax: def f(x)``,
        when the file does not compile or raises while it runs.
    """
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        code = compile(text, path, "exec")
    except SyntaxError as e:
        line = f": {e.text.strip()}" if e.text and e.text.strip() else ""
        raise WorkbookError(f"{name}, line {e.lineno}: {type(e).__name__}: {e.msg}{line}") from None
    module = types.ModuleType("minivae_workbook")
    module.__file__ = path
    try:
        exec(code, module.__dict__)
    except Exception as e:  # whatever the learner's file raises while it runs
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
        where = f"line {frames[-1].lineno}: " if frames else ""
        raise WorkbookError(f"{name}, {where}{type(e).__name__}: {' '.join(str(e).split())}") from None
    return module
