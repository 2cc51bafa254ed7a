"""A run folder is one unit: ``train`` writes a whole new run beside the old one, then swaps it in.

``train --out runs/vae`` writes the model, the history and the figures into a new folder
beside it, ``runs/.minivae-run-vae.<token>.tmp``, and only when all of them are there::

    1. rename runs/vae                       -> runs/.minivae-run-vae.<token>.old
    2. rename runs/.minivae-run-vae.<token>.tmp -> runs/vae
    3. remove runs/.minivae-run-vae.<token>.old

What a kill leaves, at each moment:

* before 1: the old run, untouched (and a stale ``.tmp``, which the next ``train`` removes);
* between 1 and 2: no ``runs/vae``, the old run in ``.old`` and the complete new one in
  ``.tmp`` (same token): ``evaluate``, ``sample`` and ``explore`` say so in one line, and
  the next ``train`` into ``runs/vae`` first puts the old run back;
* after 2: the new run (and a stale ``.old``, which the next ``train`` removes).

So ``runs/vae`` never holds a model beside another run's history or figures. Files of
the user's in the old folder (say ``new-samples.png``) are carried into the new one as
hard links before the swap. The history records the SHA-256 of its ``model.npz``, and the
readers refuse a pair that does not match (:func:`check_history`). A writer holds a lock
on its ``.tmp`` folder, so that a cleaner tells a live writer from a killed one.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import secrets
import shutil
import stat

from ..checkpoint import _lock, _sync_folder, fcntl

CHECKSUM_KEY = "checkpoint_sha256"


def _prefix(name):
    return f".minivae-run-{name}."


def _sibling(out, token, kind):
    parent, name = os.path.split(out)
    return os.path.join(parent, f"{_prefix(name)}{token}.{kind}")


def _leftovers(out):
    """Token -> {"tmp": path, "old": path} of the temporary folders of run folder ``out``."""
    parent, name = os.path.split(out)
    pattern = re.compile(re.escape(_prefix(name)) + r"([0-9a-f]{8})\.(tmp|old)\Z")
    found = {}
    try:
        names = os.listdir(parent or os.curdir)
    except OSError:
        return found
    for entry in names:
        m = pattern.match(entry)
        if m:
            found.setdefault(m.group(1), {})[m.group(2)] = os.path.join(parent, entry)
    return found


def _is_live(folder):
    """Whether a live process holds the lock of ``folder`` (where there are no locks: assume so)."""
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not _lock(fd)
    finally:
        os.close(fd)


def interrupted(out):
    """One line describing an interrupted swap of run folder ``out`` (which is missing), or ``None``."""
    for parts in _leftovers(out).values():
        if "old" in parts and not os.path.lexists(out):
            new = f", the new one (complete) in {parts['tmp']!r}" if "tmp" in parts else ""
            return (f"{out!r} is missing: a train run was stopped while replacing it; the previous run is in "
                    f"{parts['old']!r}{new}: rename one of them to {out!r}, or train again")
    return None


def recover(out):
    """Before a new run into ``out``: undo what a killed writer left (a live one's folders are left alone)."""
    for parts in _leftovers(out).values():
        if "tmp" in parts and _is_live(parts["tmp"]):
            continue
        if "old" in parts:
            if not os.path.lexists(out):
                os.rename(parts["old"], out)  # the swap stopped half-way: the previous run goes back
            else:
                shutil.rmtree(parts["old"], ignore_errors=True)
        if "tmp" in parts:
            shutil.rmtree(parts["tmp"], ignore_errors=True)


def sha256(path):
    """The SHA-256 of a file, in hex (computed once per version of the file in a process)."""
    st = os.stat(path)
    return _sha256(os.path.realpath(path), (st.st_ino, st.st_size, st.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _sha256(path, version):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _link_or_copy(src, dst):
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:  # another file system, or no hard links there
        shutil.copy2(src, dst, follow_symlinks=False)


def _carry_others(old, new, run_names):
    """Put into ``new`` what ``old`` holds besides a run's own files (the user's), as hard links."""
    for entry in os.listdir(old):
        if entry in run_names or os.path.lexists(os.path.join(new, entry)):
            continue
        src, dst = os.path.join(old, entry), os.path.join(new, entry)
        if os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(src, dst)


@contextlib.contextmanager
def new_run(out, run_names):
    """Yield an empty folder to write a run into; on success swap it in for ``out`` (a folder).

    ``run_names``: the files a run writes (the old run's are dropped, anything else carried).
    On an error the new folder is removed and ``out`` is left as it was; an ``OSError`` is
    raised again naming the file of ``out`` it was about (the temporary folder means nothing
    to the user).
    """
    out = os.path.realpath(out)  # a symlink to the run folder stays one
    token = secrets.token_hex(4)
    tmp = _sibling(out, token, "tmp")
    os.mkdir(tmp)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        _lock(fd)
        try:
            mode = stat.S_IMODE(os.stat(out).st_mode)
        except FileNotFoundError:
            mode = 0o777 & ~_umask()
        os.chmod(tmp, mode)
        try:
            yield tmp
            if os.path.isdir(out):
                _carry_others(out, tmp, run_names)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            where = os.path.join(out, os.path.relpath(err.filename, tmp)) if isinstance(err.filename, str) \
                and os.path.abspath(err.filename).startswith(tmp + os.sep) else err.filename or out
            raise OSError(err.errno, f"{err.strerror or err} (the previous run in {out!r} is kept)", where) from err
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _swap(tmp, out, token)
    finally:
        os.close(fd)


def _swap(tmp, out, token):
    old = None
    if os.path.lexists(out):
        old = _sibling(out, token, "old")
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    _sync_folder(os.path.dirname(out))


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
