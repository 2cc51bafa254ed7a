"""The process that runs a learner's workbook for the checker, and the messages it sends.

:func:`serve` runs in a process that :mod:`minivae.exercises.isolation` starts; it
reads requests from one file descriptor and writes replies to another, two pipes of
their own, so that nothing the workbook prints (its fd 1 and 2 go to a third pipe, which
the parent reads as the learner's output) can be taken for a reply. The requests:

- ``("load", path)``: import the workbook; reply ``("loaded", {name: kind})`` or
  ``("import error", one line)``;
- ``("call", name, args, kwargs, names)``: call the workbook's function on the
  arguments; reply ``("answer", out, args, shared, rebound, forked)`` (the arguments as
  they are after the call) or ``("raised", type, message, where, not_implemented, forked)``.

A reply holds only plain data (:func:`plain`): numbers, strings, tuples, lists, dicts,
arrays as :class:`Packed` bytes, and a :class:`Foreign` note for anything else, so that
the parent can read it without running any code the workbook chose. A fork inside the
learner's function is noticed (``forked``), and the copy of this process it made ends
without replying.
"""
from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import threading
import time
import traceback
import warnings

import numpy as np

HEADER = struct.Struct("<Q")  # the length of the pickle that follows
MAX_DEPTH = 20  # deeper than this, a returned value is not an answer


class Packed:
    """An array as bytes: ``dtype`` (a dtype string), ``shape``, ``data``, and whether it was a NumPy scalar."""

    def __init__(self, dtype, shape, data, scalar):
        self.dtype, self.shape, self.data, self.scalar = dtype, shape, data, scalar


class Foreign:
    """Something that is not a number, a string, an array or a container of them: only what it is travels.

    ``kind`` says it with its article: ``"a function"``, ``"an array of dtype object"``.
    """

    def __init__(self, kind):
        self.kind = f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


def plain(value, depth=0):
    """``value`` as plain data: arrays packed, containers walked, anything else a :class:`Foreign`."""
    try:
        if value is None or type(value) in (bool, int, float, complex, str, bytes):  # not a subclass
            return value
        if isinstance(value, (np.ndarray, np.generic)):
            a = np.asarray(value)
            if a.dtype.kind not in "biufcUS" or a.dtype.fields is not None:
                return Foreign(f"array of dtype {a.dtype}")
            return Packed(a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes(), isinstance(value, np.generic))
        if depth >= MAX_DEPTH:
            return Foreign(f"{type(value).__name__} nested {MAX_DEPTH} deep")
        if isinstance(value, tuple):  # a named tuple travels as a tuple
            return tuple(plain(v, depth + 1) for v in value)
        if isinstance(value, list):
            return [plain(v, depth + 1) for v in value]
        if isinstance(value, dict) and all(type(k) in (str, int) for k in value):
            return {k: plain(v, depth + 1) for k, v in value.items()}
        return Foreign(type(value).__name__)
    except Exception:  # an object that breaks while it is looked at is not an answer either
        return Foreign(type(value).__name__)


def send(fd, message, pickler=pickle.Pickler):
    """Write ``message`` (pickled by ``pickler``, after its length) to the pipe ``fd``."""
    buffer = io.BytesIO()
    pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    data = buffer.getvalue()
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def _read(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError("the pipe was closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(fd):
    """The next message from the pipe ``fd`` (only the parent writes there: an ordinary unpickle)."""
    (n,) = HEADER.unpack(_read(fd, HEADER.size))
    return pickle.loads(_read(fd, n))


def _where(e, path):
    """``" (workbook.py, line 4: return dout @ W)"`` for the innermost workbook frame, or ``""``."""
    mine = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
    if not mine:
        return ""
    f = mine[-1]
    return f" ({os.path.basename(path)}, line {f.lineno}: {(f.line or '').strip()})"


def _raised(e, path):
    try:
        message = " ".join(str(e).split())
    except Exception:  # an exception whose __str__ raises
        message = "(its message could not be printed)"
    return ("raised", type(e).__name__, message[:2000], _where(e, path), isinstance(e, NotImplementedError))


def _leave_with_the_parent():
    """End this process when the parent is gone (it cannot reply to anyone then)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def serve(requests, replies):
    """Answer the parent's requests until it closes the pipe."""
    from ..backend import set_backend
    from .calling import observed_call
    from .workbook import WorkbookError, load

    set_backend("numpy")  # a learner's functions are NumPy code
    me, forks, module, path = os.getpid(), [], None, None
    os.register_at_fork(after_in_parent=lambda: forks.append(1))
    _leave_with_the_parent()
    send(replies, ("ready",))
    while True:
        try:
            request = receive(requests)
        except EOFError:
            return
        if request[0] == "load":
            path = request[1]
            try:
                module = load(path)
                reply = ("loaded", {n: type(v).__name__ if not callable(v) else "function"
                                    for n, v in vars(module).items() if not n.startswith("_")})
            except WorkbookError as e:
                reply = ("import error", str(e))
        else:
            _, name, args, kwargs, names = request
            forks.clear()
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):  # the checker reads the numbers
                    warnings.simplefilter("ignore")
                    seen = observed_call(getattr(module, name), args, kwargs, names)
                reply = ("answer", plain(seen.out), plain(args), seen.shared, seen.rebound)
            except BaseException as e:  # SystemExit too: the checker decides what it means
                reply = _raised(e, path)
            reply += (bool(forks),)
        if os.getpid() != me:  # a copy made by os.fork() in the workbook: only the original replies
            os._exit(0)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # the workbook may have replaced or closed them
                pass
        send(replies, reply)


def fork_and_serve(requests, replies, output):
    """Fork this process; return the copy's pid. The copy serves ``requests`` and never returns.

    The copy starts a session of its own (so that the checker can stop it with whatever
    it starts), reads nothing from stdin, writes its fd 1 and 2 to ``output``, keeps no
    other file descriptor of this process, and ends with ``os._exit``. Nothing has to be
    imported again: NumPy and minivae are already loaded here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (Python 3.12+) a fork beside the BLAS's threads
        pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        os.setsid()
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        keep = sorted({0, 1, 2, requests, replies})
        for low, high in zip(keep, keep[1:] + [os.sysconf("SC_OPEN_MAX")]):
            os.closerange(low + 1, high)
        _PARENTS_STREAMS.extend((sys.stdin, sys.stdout, sys.stderr))  # never collected, so never flushed here
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
        sys.stdout, sys.stderr = (io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), errors="backslashreplace",
                                                   write_through=True) for fd in (1, 2))
        serve(requests, replies)
        status = 0
    finally:
        os._exit(status)


_PARENTS_STREAMS = []

