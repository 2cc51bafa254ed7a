"""How the learner's function is called, in whichever process it runs, and what is noticed.

A call is *observed*: besides what the function returned, the checker needs two facts
that only the process where the function ran can see:

- which returned arrays **share memory** with an argument (``dz[...]`` is a view of
  ``dz``: a caller that adds into ``dmu`` would change ``dz``). This is measured with
  ``numpy.shares_memory``, never by identity, since a view is a new object;
- which parameters the function **rebound** (``p = p - lr * step`` makes a new array
  and points the local name at it; the caller's ``p`` never changes). This is watched
  with ``sys.setprofile`` for the length of the call, unless a profiler is at work.

:func:`observed_call` measures both where it runs: in the checker's own process for
trusted functions (the library's, the catalogued mistakes), and in the child process of
:mod:`minivae.exercises.isolation` for a learner's workbook, whose
:class:`~minivae.exercises.isolation.RemoteFunction` answers :func:`answer` itself.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Answer:
    """What one call gave back.

    Attributes
    ----------
    out : object
        What the function returned.
    shared : list of (int or None, str)
        ``(where, argument)`` for each returned array that shares memory with an
        argument's array: ``where`` is ``None`` for the returned value itself, ``i`` for
        item ``i`` of a returned tuple or list; ``argument`` names the array
        (``"dz"``, ``"cache.x"``).
    rebound : list of str
        The names (as the exercise calls them) of the arguments whose parameter named
        another object when the function returned.
    """

    out: object
    shared: list = field(default_factory=list)
    rebound: list = field(default_factory=list)


class WrongUse(Exception):
    """The function did something the exercise forbids (the message completes "it ...")."""


class Raised(Exception):
    """The learner's function raised ``type_name`` in the child process.

    ``where`` is ``" (workbook.py, line 4: return dout @ W)"`` or ``""``.
    """

    def __init__(self, type_name, message, where=""):
        super().__init__(message)
        self.type_name, self.message, self.where = type_name, message, where


class RaisedNotImplemented(Raised, NotImplementedError):
    """The stub's ``raise NotImplementedError`` (or a subclass of it), raised in the child."""


class Stopped(Exception):
    """The learner's code ended or hung its process: the exercise stops here, with this one line."""


def answer(fn, args, kwargs, names):
    """``fn(*args, **kwargs)`` observed (an :class:`Answer`); ``fn`` may answer from another process.

    ``names`` name the positional ``args`` in messages. Raises whatever ``fn`` raises.
    """
    remote = getattr(fn, "observed", None)
    if remote is not None:
        return remote(args, kwargs, names)
    return observed_call(fn, args, kwargs, names)


def observed_call(fn, args, kwargs, names):
    """Call ``fn`` here, and measure in this process what :class:`Answer` records."""
    code = getattr(fn, "__code__", None)
    rebound = []
    if code is None or sys.getprofile() is not None:  # a builtin, or a profiler at work: nothing watched
        out = fn(*args, **kwargs)
    else:
        params = code.co_varnames[:min(code.co_argcount, len(args))]

        def watch(frame, event, _):
            if event == "return" and frame.f_code is code:  # the outermost return comes last
                rebound[:] = [n for n, p, a in zip(names, params, args) if frame.f_locals.get(p, a) is not a]

        previous = sys.getprofile()
        sys.setprofile(watch)
        try:
            out = fn(*args, **kwargs)
        finally:
            sys.setprofile(previous)
    return Answer(out, sharing(out, args, names), rebound)


def sharing(out, args, names):
    """``[(where, argument name)]``: the returned arrays that share memory with an argument's."""
    returned = [(None, out)] + (list(enumerate(out)) if isinstance(out, (tuple, list)) else [])
    inputs = [pair for arg, name in zip(args, names) for pair in arrays_in(arg, name)]
    return [(where, name) for where, value in returned if isinstance(value, np.ndarray)
            for name, x in inputs if np.shares_memory(value, x)]


def arrays_in(value, prefix):
    """``[(name, array), ...]`` for the arrays in ``value`` (an array, a named tuple, a tuple)."""
    if isinstance(value, np.ndarray):
        return [(prefix, value)]
    if isinstance(value, tuple):
        fields = getattr(value, "_fields", range(len(value)))
        return [pair for f, v in zip(fields, value) for pair in arrays_in(v, f"{prefix}.{f}")]
    return []
