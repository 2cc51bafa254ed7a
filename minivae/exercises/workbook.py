"""The workbook: a plain Python file of stubs the learner fills in, and how it is read back.

``write(directory)`` makes ``directory/workbook.py``: a header that says how to check
and train, the imports a learner needs (the library's forward halves among them), and
one stub per exercise, each with the library's name and signature, a docstring that says
what to compute and where it is derived, and the body ``raise NotImplementedError``.
A learner's work is never lost: ``write(..., force=True)`` keeps the previous file as
``workbook-backup-N.py``, and ``add(directory, exercises)`` appends the stubs a workbook
lacks, leaving the rest of the file as it was.

``load(path)`` imports a learner's workbook as a fresh module. A syntax error, or an
exception while the file runs, becomes a :class:`WorkbookError` of one line that names
the file and the line, not a traceback.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import textwrap
import traceback
import types

from ..checkpoint import write_atomically
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
    """Write ``directory/workbook.py`` with a stub for each of ``exercises``; return ``(path, backup)``.

    The file is written through the project's one atomic writer
    (:func:`minivae.checkpoint.write_atomically`: a new file follows the umask). With
    ``force``, a workbook already there is first kept as ``workbook-backup-N.py`` (the
    lowest free N), whose path is ``backup``; otherwise ``backup`` is ``None``.

    Raises
    ------
    FileExistsError
        If the workbook exists and ``force`` is false: a learner's work is never
        overwritten by accident.
    """
    os.makedirs(directory, exist_ok=True)
    path, backup = os.path.join(directory, FILENAME), None
    if os.path.exists(path):
        if not force:
            raise FileExistsError(f"{path} exists already (your work?); pass --add NAME ... to add exercises to it, "
                                  "--force to start it afresh (the old one is kept as a numbered backup), or "
                                  "start in another folder")
        backup = keep_backup(path)
    text = source(exercises, directory)
    write_atomically(path, lambda f: f.write(text.encode("utf-8")), what="a workbook")
    return path, backup


def keep_backup(path):
    """Keep the file at ``path`` as ``workbook-backup-N.py`` beside it (the lowest free N); return that path.

    A hard link where the file system allows it (the file's bytes, mode and times as they
    were), else a copy; an existing backup is never replaced.
    """
    folder = os.path.dirname(path)
    for n in range(1, 100_000):
        backup = os.path.join(folder, f"workbook-backup-{n}.py")
        try:
            os.link(path, backup)
            return backup
        except FileExistsError:
            continue
        except OSError:  # no hard links here: copy, refusing to overwrite
            try:
                with open(path, "rb") as src, open(backup, "xb") as dst:
                    shutil.copyfileobj(src, dst)
                shutil.copystat(path, backup)
                return backup
            except FileExistsError:
                continue
    raise FileExistsError(f"no free name for a backup of {path} in {folder}")


def add(directory, exercises):
    """Append the stubs of the ``exercises`` that ``directory/workbook.py`` lacks; return ``(path, added)``.

    The workbook's own bytes are kept as they are, and the new stubs follow them. A name
    counts as present when the file binds it at the top level (a ``def``, an assignment,
    an import), or, for a file that does not parse, has a ``def`` line for it.
    """
    path = path_of(directory)
    with open(path, "rb") as f:
        data = f.read()
    present = defined_names(data.decode("utf-8", errors="replace"))
    added = [e for e in exercises if e.name not in present]
    if added:
        text = ("" if not data or data.endswith(b"\n") else "\n") + "".join(stub(e) for e in added)
        write_atomically(path, lambda f: f.write(data + text.encode("utf-8")), what="a workbook")
    return path, added


def defined_names(text):
    """The names a workbook's text binds at its top level."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set(re.findall(r"^def\s+(\w+)\s*\(", text, flags=re.MULTILINE))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


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


def compiled(path):
    """``(code, text)``: the workbook at ``path`` read and compiled, none of it run.

    Raises
    ------
    WorkbookError
        With one line, ``workbook.py, line 12: SyntaxError: invalid syntax: def f(x)``,
        when the file does not compile.
    """
    name = os.path.basename(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        return compile(text, path, "exec"), text
    except SyntaxError as e:
        line = f": {e.text.strip()}" if e.text and e.text.strip() else ""
        raise WorkbookError(f"{name}, line {e.lineno}: {type(e).__name__}: {e.msg}{line}") from None
    except ValueError as e:  # a NUL byte in the file
        raise WorkbookError(f"{name}: {' '.join(str(e).split())}") from None


def load(path):
    """Import the workbook at ``path`` as a new module (never cached: each check reads it afresh).

    Raises
    ------
    WorkbookError
        With one line, ``workbook.py, line 12: SyntaxError: invalid syntax: def f(x)``,
        when the file does not compile or raises while it runs.
    """
    code, _ = compiled(path)
    module = types.ModuleType("minivae_workbook")
    module.__file__ = path
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as e:  # whatever the learner's file raises while it runs, sys.exit() too
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
        where = f"line {frames[-1].lineno}: " if frames else ""
        name = os.path.basename(path)
        raise WorkbookError(f"{name}, {where}{type(e).__name__}: {' '.join(str(e).split())}") from None
    return module
