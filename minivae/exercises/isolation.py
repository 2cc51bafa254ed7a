"""The learner's workbook runs in a child process; the checker judges in this one.

``exercises check`` imports the workbook in **one** child process
(:mod:`minivae.exercises.child`; on Linux a fork of this one, made before any of the
workbook runs, so that Python and NumPy start only once) and calls the learner's
functions there, through a :class:`RemoteFunction` per exercise: this process makes the
inputs, the numeric gradients and the library's answers, and judges. The child sends
back what a function returned, its arguments as they are after the call, and what it
printed. So whatever the workbook does, the verdict stays this process's:

- an exception (``sys.exit()`` included) comes back as one, and the exercise fails;
- a process that ends (``os._exit``, a crash), hangs (a loop, ``time.sleep``) past the
  time limit, or sends something unreadable is stopped, the exercise fails with one
  line (:class:`~minivae.exercises.calling.Stopped`), and a fresh child imports the
  workbook again for the exercises left;
- what it prints goes down a pipe of its own, never into the report;
- an ``os.fork()`` in a function fails the exercise, and the copy it made ends without
  replying (one report, not two);
- replacing the checker's functions changes the child's copy only;
- a reply is read with an unpickler that builds nothing but numbers, strings,
  containers and arrays (:func:`minivae.exercises.child.plain`).

What it does not do: the learner's code still runs with the user's rights (it can read
and write files, start processes). A grader runs submissions in its own container.
"""
from __future__ import annotations

import importlib
import io
import os
import pickle
import select
import signal
import subprocess
import sys
import time
import types

import numpy as np

from . import child
from .calling import Answer, Raised, RaisedNotImplemented, Stopped, WrongUse
from .workbook import WorkbookError

#: seconds one call of a learner's function may take by default (the workbook's import: at least this)
TIMEOUT = 10.0
#: seconds the child may take to import NumPy and minivae, before any learner's code runs
STARTUP = 120.0
#: make the child by os.fork (Linux), or start a fresh interpreter (elsewhere)
FORK = sys.platform.startswith("linux")
#: the largest reply read, in bytes
MAX_REPLY = 256 * 2**20
#: bytes of a learner's output kept per exercise (the rest is counted)
KEEP_OUTPUT = 16 * 2**10


class _Sender(pickle.Pickler):
    """Pickles a request: a module (a model's array module) travels as its name."""

    def reducer_override(self, obj):
        if isinstance(obj, types.ModuleType):
            return importlib.import_module, (obj.__name__,)
        return NotImplemented


class _Reader(pickle.Unpickler):
    """Reads a reply, refusing every class but the two of :mod:`~minivae.exercises.child` and complex."""

    ALLOWED = {("minivae.exercises.child", "Packed"): child.Packed,
               ("minivae.exercises.child", "Foreign"): child.Foreign, ("builtins", "complex"): complex}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"a reply may not hold a {module}.{name}")
        return self.ALLOWED[module, name]


def _unpack(value):
    """A reply's plain data with each :class:`~minivae.exercises.child.Packed` made an array again."""
    if isinstance(value, child.Packed):
        dtype, shape = np.dtype(str(value.dtype)), tuple(int(n) for n in value.shape)
        if dtype.kind not in "biufcUS" or dtype.fields is not None or len(value.data) != dtype.itemsize * int(
                np.prod(shape, dtype=np.int64)):
            raise ValueError(f"an array of dtype {dtype} and shape {shape} in {len(value.data)} bytes")
        array = np.frombuffer(bytes(value.data), dtype).reshape(shape).copy()
        return array[()] if value.scalar else array
    if isinstance(value, (tuple, list)):
        return type(value)(_unpack(v) for v in value)
    if isinstance(value, dict):
        return {k: _unpack(v) for k, v in value.items()}
    return value


class _Output:
    """What the learner's code printed since it was last taken: the first bytes, and how many more."""

    def __init__(self):
        self.kept, self.more = bytearray(), 0

    def add(self, chunk):
        room = KEEP_OUTPUT - len(self.kept)
        self.kept += chunk[:max(room, 0)]
        self.more += max(len(chunk) - max(room, 0), 0)

    def take(self):
        text = self.kept.decode("utf-8", "replace")
        if self.more:
            text += f"\n[{self.more:,} more bytes, not kept]"
        self.kept, self.more = bytearray(), 0
        return text


class _Forked:
    """What :class:`_Child` uses of ``subprocess.Popen``, for a child made by ``os.fork``."""

    def __init__(self, pid):
        self.pid, self.returncode = pid, None

    def wait(self):
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


class _Child:
    """One child process and its three pipes: requests, replies, and the learner's output.

    On Linux the child is a fork of this process (NumPy and minivae are loaded already);
    elsewhere, where a fork of a process that has loaded NumPy is less safe, a fresh
    interpreter.
    """

    def __init__(self, output):
        requests_end, self.requests = os.pipe()
        self.replies, replies_end = os.pipe()
        self.output, output_end = os.pipe()
        self.printed, self.output_open = output, True
        try:
            if FORK:
                self.process = _Forked(child.fork_and_serve(requests_end, replies_end, output_end))
            else:
                self.process = self._spawn(requests_end, replies_end, output_end)
        finally:
            for fd in (requests_end, replies_end, output_end):
                os.close(fd)

    @staticmethod
    def _spawn(requests_end, replies_end, output_end):
        """A fresh interpreter that imports this very minivae and serves the two pipes."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(child.__file__))))
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, PYTHONUNBUFFERED="1", MINIVAE_BACKEND="numpy", PYTHONPATH=path)
        serve = f"from minivae.exercises.child import serve; serve({requests_end}, {replies_end})"
        return subprocess.Popen([sys.executable, "-c", serve], stdin=subprocess.DEVNULL, stdout=output_end,
                                stderr=output_end, pass_fds=(requests_end, replies_end), start_new_session=True,
                                env=env)

    def send(self, message):
        child.send(self.requests, message, _Sender)

    def receive(self, limit):
        """The next reply, unpacked. Raises TimeoutError after ``limit`` s, EOFError if the child is gone."""
        deadline, data, size = time.monotonic() + limit, bytearray(), None
        while size is None or len(data) < child.HEADER.size + size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            watched = [self.replies] + ([self.output] if self.output_open else [])
            ready = select.select(watched, [], [], min(left, 0.2))[0]
            if self.output in ready:
                self._drain()
            if self.replies in ready:
                chunk = os.read(self.replies, 1 << 20)
                if not chunk:
                    raise EOFError
                data += chunk
                if size is None and len(data) >= child.HEADER.size:
                    (size,) = child.HEADER.unpack_from(data)
                    if size > MAX_REPLY:
                        raise ValueError(f"a reply of {size:,} bytes")
            elif self.status() is not None and not select.select([self.replies], [], [], 0)[0]:
                raise EOFError  # it ended, while a copy it forked holds the pipe open
        if len(data) > child.HEADER.size + size:
            raise ValueError("more than one reply to one request")
        while self.output_open and select.select([self.output], [], [], 0)[0]:
            self._drain()  # what it printed before it replied is in the pipe already
        try:
            return _unpack(_Reader(io.BytesIO(bytes(data[child.HEADER.size:]))).load())
        except Exception as e:  # a reply that is not what child.py sends
            raise ValueError(" ".join(str(e).split()) or type(e).__name__) from None

    def _drain(self):
        chunk = os.read(self.output, 1 << 16)
        if chunk:
            self.printed.add(chunk)
        else:
            self.output_open = False

    def status(self):
        """The exit status (minus the signal) once the child has ended, else ``None``; never reaps it."""
        if self.process.returncode is not None:
            return self.process.returncode
        if not hasattr(os, "waitid"):  # (macOS) this reaps it; then close() leaves its group alone
            return self.process.poll()
        info = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def ended(self):
        """How the child ended, in words (``"with exit code 0"``), after waiting a second for it."""
        for _ in range(100):
            status = self.status()
            if status is not None:
                break
            time.sleep(0.01)
        self.close()
        if status is None:
            return "by closing the checker's pipe"
        if status < 0:
            return f"by signal {signal.Signals(-status).name}" if -status in signal.valid_signals() else \
                f"by signal {-status}"
        return f"with exit code {status}"

    def close(self):
        """Stop the child and whatever it started in its process group; close the pipes."""
        if self.process.returncode is None:
            try:  # still unreaped here, so the group id is still the child's
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
        while self.output_open and select.select([self.output], [], [], 0)[0]:
            self._drain()
        for fd in (self.requests, self.replies, self.output):
            try:
                os.close(fd)
            except OSError:
                pass
        self.requests = self.replies = self.output = -1


class Session:
    """A workbook imported in a child process, whose functions are called there.

    Use it as a context manager; :meth:`open` imports the workbook, :meth:`function`
    gives a learner's function as a :class:`RemoteFunction`, and :meth:`output` what the
    workbook printed since it was last asked. After a call that ended or hung the child,
    the next call starts a fresh one (which imports the workbook again).
    """

    def __init__(self, path, timeout=TIMEOUT):
        self.path, self.timeout = path, timeout
        self._child, self._output = None, _Output()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._child is not None:
            self._child.close()
            self._child = None

    def output(self):
        """What the workbook printed (both streams, as a terminal shows them) since the last call."""
        return self._output.take()

    def start(self):
        """Start a child process; it imports NumPy and minivae while this process goes on."""
        self.close()
        self._child = _Child(self._output)

    def open(self):
        """Import the workbook in the child (started here unless :meth:`start` was called).

        Returns ``{name: "function" or a type name}`` for what the workbook defines.

        Raises
        ------
        WorkbookError
            With one line, when the workbook does not import, ends the process, or takes
            longer than the time limit.
        ChildProcessError
            When the child cannot even import minivae (before any of the workbook runs).
        """
        if self._child is None:
            self.start()
        name = os.path.basename(self.path)
        try:
            self._child.receive(STARTUP)  # ("ready",): NumPy and minivae are imported
        except (TimeoutError, EOFError, ValueError) as e:
            self.close()
            raise ChildProcessError(f"the checker's child process did not start ({type(e).__name__}): "
                                    f"{' '.join(self._output.take().split())[-500:]}") from None
        limit = max(self.timeout, TIMEOUT)  # once per child, and a workbook may import slow packages
        reply = self._ask(("load", os.path.abspath(self.path)), limit, name, WorkbookError, importing=True)
        if reply[0] != "loaded":
            self.close()
            raise WorkbookError(reply[1])
        return reply[1]

    def function(self, name):
        return RemoteFunction(self, name)

    def call(self, name, args, kwargs, names):
        """The child's reply to one call of ``name``; raises Stopped if the child ends, hangs or garbles it."""
        if self._child is None:
            try:
                self.open()
            except WorkbookError as e:
                raise Stopped(f"a fresh process for {name} could not import the workbook: {e}") from None
            self._output.take()  # its import printed this once already
        return self._ask(("call", name, args, kwargs, names), self.timeout, name, Stopped)

    def _ask(self, request, limit, who, error, importing=False):
        """The reply to ``request``; a child that hangs, ends or garbles it raises ``error`` with one line."""
        during = " while it was imported" if importing else ""
        try:
            self._child.send(request)
            return self._child.receive(limit)
        except TimeoutError:
            self.close()
            doing = "finish importing" if importing else "return"
            raise error(f"{who} did not {doing} within {limit:g} s, and the checker stopped it") from None
        except (EOFError, BrokenPipeError):
            how = self._child.ended()
            self._child = None
            raise error(f"{who} ended the process {how}{during}") from None
        except ValueError as e:
            self.close()
            raise error(f"{who} sent the checker a reply it cannot read ({e}){during}") from None


class RemoteFunction:
    """The workbook's function ``name``, called in the session's child process.

    It is called like the function. Afterwards the arrays of its arguments (and the
    dicts, lists and tuples holding them) hold what the child's copies held, so a
    write into an argument is seen here; :meth:`observed` also says which returned
    arrays share memory with an argument, and which parameters were rebound, both
    measured in the child (:func:`minivae.exercises.calling.observed_call`).
    """

    def __init__(self, session, name):
        self.session, self.__name__ = session, name

    def __call__(self, *args, **kwargs):
        return self.observed(args, kwargs, tuple(f"argument {i + 1}" for i in range(len(args)))).out

    def observed(self, args, kwargs, names):
        reply = self.session.call(self.__name__, args, kwargs, tuple(names))
        if reply[-1]:
            raise WrongUse("called os.fork(): a function the checker calls must compute its answer in its own "
                           "process")
        if reply[0] == "raised":
            _, kind, message, where, not_implemented, _ = reply
            raise (RaisedNotImplemented if not_implemented else Raised)(kind, message, where)
        _, out, after, shared, rebound, _ = reply
        for target, value in zip(args, after):
            _write_back(target, value)
        foreign = _foreign_in(out)
        if foreign is not None:
            raise WrongUse(f"returned {foreign.kind} where arrays or numbers belong")
        return Answer(out, [tuple(s) for s in shared], list(rebound))


def _write_back(target, after):
    """Make the argument ``target`` hold what the child's copy of it held after the call."""
    if isinstance(target, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != target.shape:
            raise WrongUse("changed the shape of one of its arguments in place")
        target[...] = after
    elif isinstance(target, dict) and isinstance(after, dict):
        for key in [k for k in target if k not in after]:
            del target[key]
        for key, value in after.items():
            _put(target, key, value)
    elif isinstance(target, list) and isinstance(after, list) and len(target) == len(after):
        for i, value in enumerate(after):
            _put(target, i, value)
    elif isinstance(target, tuple) and isinstance(after, tuple) and len(target) == len(after):
        for t, a in zip(target, after):
            _write_back(t, a)


def _put(holder, key, value):
    """``holder[key] = value``, in place when both are arrays of one shape or containers of one kind."""
    old = holder.get(key) if isinstance(holder, dict) else holder[key]
    if isinstance(old, np.ndarray) and isinstance(value, np.ndarray) and old.shape == value.shape \
            or any(isinstance(old, kind) and isinstance(value, kind) for kind in (dict, list, tuple)):
        _write_back(old, value)
    else:
        holder[key] = value


def _foreign_in(value):
    if isinstance(value, child.Foreign):
        return value
    for v in value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ():
        found = _foreign_in(v)
        if found is not None:
            return found
    return None
