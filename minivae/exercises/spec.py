"""What an exercise is, what one of its inputs is, and what a catalogued mistake is.

An :class:`Exercise` names the library function a learner rewrites, says what to
compute (the stub's docstring), holds the solution (the library's function, called,
never copied) and builds the inputs it is checked on (:class:`Case`). A
:class:`Mistake` is a classic wrong version of one exercise: a function, its name, the
sentence that explains it and the section to reread. Adding one is a few lines in
``mistakes_ops.py`` or ``mistakes_models.py``; the checker needs no change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy

from .calling import answer, arrays_in  # noqa: F401  (arrays_in: kept importable from here)

#: where the derivations live, as the stubs and diagnoses cite it
DERIVATIONS = "docs/derivations.md"


def copy_args(value):
    """A deep copy of the arrays in ``value`` (arrays, tuples, named tuples, dicts, lists)."""
    if hasattr(value, "copy") and hasattr(value, "shape"):
        return value.copy()
    if isinstance(value, tuple):
        items = [copy_args(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, list):
        return [copy_args(v) for v in value]
    if isinstance(value, dict):
        return {k: copy_args(v) for k, v in value.items()}
    return value


def changed_arrays(before, after, prefix):
    """Names of the arrays in ``after`` that differ from their copies in ``before``."""
    if hasattr(after, "shape") and hasattr(after, "dtype"):
        return [] if numpy.array_equal(before, after, equal_nan=True) else [prefix]
    if isinstance(after, tuple) and hasattr(after, "_fields"):
        return [n for f, b, a in zip(after._fields, before, after) for n in changed_arrays(b, a, f"{prefix}.{f}")]
    if isinstance(after, dict):
        return [n for k in after for n in changed_arrays(before[k], after[k], f"{prefix}[{k!r}]")]
    return []


@dataclass
class Case:
    """One input on which an exercise is checked.

    Attributes
    ----------
    label : str
        How the messages describe it: ``"x (3, 4), B = 3"``.
    args : tuple
        The positional arguments of the learner's function (each call gets fresh copies).
    names : tuple of str
        The name of each argument (``("dout", "cache")``), for messages.
    batch : int or None
        The batch size B, so that the checker can name a factor ``1/B``.
    arrays : dict
        Name -> array (``x``, ``dout``, ...): places where a mistake may live (``"wrong
        exactly where x < 0"``). A clue reads one only for a value that has its shape on
        every case of the exercise (that shares its indices, as ``dx`` shares ``x``'s).
    numeric : callable or None
        ``numeric() -> {output name: central-difference gradient}`` from the library's
        forward pass; ``None`` where central differences cannot be trusted (a case
        chosen for its extreme values), and then only the library is the reference.
    abs_floor : float
        The smallest gradient central differences resolve on this case (see
        :func:`minivae.gradcheck._resolution_floor`).
    """

    label: str
    args: tuple
    names: tuple
    batch: int | None = None
    arrays: dict = field(default_factory=dict)
    numeric: Callable | None = None
    abs_floor: float = 1e-12
    kwargs: dict = field(default_factory=dict)
    _memo: dict = field(default_factory=dict, repr=False)

    def remember(self, key, compute):
        """``compute()``, computed once per case (the library's answer, the numeric gradient)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]


@dataclass
class Exercise:
    """One function a learner writes.

    Attributes
    ----------
    name : str
        The library's name for it, and the stub's.
    signature : str
        The stub's parameters, ``"dout, cache"``.
    section : str
        The section of docs/derivations.md to read, ``"§3.1 ReLU"``.
    returns : tuple of str
        The names of the returned values, in order (a dict's keys for ``vae_backward``).
    solution : callable
        The library's own function (or a thin adapter that calls it): the reference.
    source : str
        Where the solution lives in the library's source, for the stub to point at.
    doc : str
        The stub's docstring, after its first line.
    make_cases : callable
        ``make_cases() -> list of Case``, deterministic. Where it also takes ``variant=1``,
        that gives fresh cases of other shapes, on which the tests re-check every clue the
        checker states.
    summary : str
        The stub's first docstring line.
    gradients : tuple of str
        Which of ``returns`` are gradients, checked against central differences too.
    meanings : tuple of callables
        ``meaning(case, outs) -> None or a sentence``: what a formula means that a
        gradient check cannot see (the KL is never negative, ...).
    call : callable, optional
        ``call(fn, case) -> {name: value}``; default: ``fn(*case.args)``, its results
        named by ``returns``, the arguments checked to be left untouched.
    """

    name: str
    signature: str
    section: str
    returns: tuple
    solution: Callable
    source: str
    summary: str
    doc: str
    make_cases: Callable
    gradients: tuple = ()
    meanings: tuple = ()
    call: Callable | None = None

    def run(self, fn, case):
        """``{name: value}`` of ``fn`` on ``case`` (raises whatever ``fn`` raises).

        A value that shares memory with an argument (the argument itself, or a view of it:
        ``numpy.shares_memory``, measured in the process where ``fn`` ran) is noted under
        ``"_shared"`` as ``(value name, argument name)``. ``fn`` may be a
        :class:`~minivae.exercises.isolation.RemoteFunction`, which runs in a child process
        and writes what it did to its arguments back into them.
        """
        if self.call is not None:
            return self.call(fn, case)
        args = copy_args(case.args)
        seen = answer(fn, args, case.kwargs, case.names)  # the sharing is measured where fn ran
        touched = [n for arg, before, after in zip(case.names, case.args, args)
                   for n in changed_arrays(before, after, arg)]
        if touched:
            raise InputChanged(touched)
        many = len(self.returns) > 1
        out = tuple(seen.out) if isinstance(seen.out, (tuple, list)) and many else (seen.out,)
        if len(out) != len(self.returns):
            raise WrongCount(len(out), self.returns)
        outs = dict(zip(self.returns, out))
        for where, arg in seen.shared:  # noted, and reported only if nothing worse is wrong
            if (where is not None) == many:  # an item of the returned tuple, or the one value
                outs["_shared"] = (self.returns[where] if many else self.returns[0], arg)
                break
        return outs

    def reference(self, case):
        """The library's answer on ``case``, computed once."""
        return case.remember("reference", lambda: self.run(self.solution, case))


class InputChanged(Exception):
    """The learner's function wrote into one of its arguments."""

    def __init__(self, names):
        super().__init__(", ".join(names))
        self.names = names


class WrongCount(Exception):
    """The learner's function returned another number of values than the exercise asks for."""

    def __init__(self, got, expected):
        super().__init__(f"returned {got} value{'s' if got != 1 else ''}; expected {len(expected)}: "
                         f"({', '.join(expected)})")


@dataclass(frozen=True)
class Mistake:
    """A classic wrong version of an exercise.

    Attributes
    ----------
    exercise : str
        The exercise it is a wrong version of.
    key : str
        A short identifier (the function's name), unique in the catalogue.
    what : str
        The diagnosis: the mistake, and why it is one.
    section : str
        The section of docs/derivations.md to reread.
    fn : callable
        The wrong version, with the exercise's signature.
    """

    exercise: str
    key: str
    what: str
    section: str
    fn: Callable


#: exercise name -> its catalogued mistakes, in the order they were added
CATALOGUE: dict = {}


def mistake(exercise, section, what):
    """Register the decorated function as a catalogued mistake of ``exercise``."""

    def register(fn):
        CATALOGUE.setdefault(exercise, []).append(Mistake(exercise, fn.__name__, what, section, fn))
        return fn

    return register
