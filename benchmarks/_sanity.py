"""When a benchmark's own measurements contradict each other, it says so and prints no ratio.

On a busy machine a timing can be disturbed by anything else running: a part of a step
then takes longer than the whole step, a "floor" that bounds every library takes longer
than a library, or two rounds of the same measurement differ by half. A ratio built
from such numbers is noise, so the benchmarks ask :func:`problems` first and print a
ratio only where it finds none; otherwise they print ``—`` and the reasons (and the raw
seconds, which are still what was measured).

The rules are about the numbers alone, never about how fast anything should be:

- a part cannot take longer than the whole it is part of (``parts``, ``whole``);
- a floor, the time of work every library must do, cannot exceed a library's time
  (``floor``, ``totals``);
- repeated rounds of one measurement must agree within ``SPREAD`` (slowest over fastest),
  and a ratio needs at least two rounds to be checked that way (``rounds``);
- two libraries that hand the same matrix products to the same BLAS cannot differ by
  more than ``PEER`` times (``peers``): the products are half of a step (benchmarks/README.md).
"""
from __future__ import annotations

SPREAD = 1.5  # slowest round over fastest: beyond it, the machine changed under the measurement
PEER = 4.0  # the same products on the same BLAS: a larger gap is a disturbed measurement


def problems(*, parts=None, whole=None, floor=None, totals=None, rounds=None, peers=None):
    """The reasons the given measurements are unusable, as short sentences; ``[]`` when usable.

    Parameters
    ----------
    parts : dict name -> seconds, optional
        Parts of ``whole`` (each must be at most ``whole``; together at most ``whole``).
    whole : float, optional
    floor : float, optional
        Work every entry of ``totals`` includes.
    totals : dict name -> seconds, optional
    rounds : dict name -> list of seconds, optional
        Repeated measurements of one thing each; fewer than two rounds cannot be checked.
    peers : tuple (name_a, seconds_a, name_b, seconds_b), optional
    """
    found = []
    if parts is not None and whole is not None:
        if whole <= 0:
            found.append(f"the whole took {whole:.3g} s")
        for name, t in parts.items():
            if t > whole:
                found.append(f"{name} ({t:.3g} s) took longer than the whole ({whole:.3g} s)")
        if len(parts) > 1 and sum(parts.values()) > whole * 1.001:
            found.append(f"the parts add up to {sum(parts.values()):.3g} s, more than the whole ({whole:.3g} s)")
    if floor is not None and totals:
        for name, t in totals.items():
            if floor > t:
                found.append(f"the floor ({floor:.3g} s) took longer than {name} ({t:.3g} s), which includes it")
    for name, times in (rounds or {}).items():
        if len(times) < 2:
            found.append(f"{name} was measured once: run more rounds to know whether it is stable")
        elif min(times) <= 0 or max(times) / min(times) > SPREAD:
            found.append(f"the rounds of {name} range from {min(times):.3g} to {max(times):.3g} s "
                         f"(more than {SPREAD}x apart)")
    if peers is not None:
        name_a, a, name_b, b = peers
        if min(a, b) <= 0 or max(a, b) / min(a, b) > PEER:
            found.append(f"{name_a} ({a:.3g} s) and {name_b} ({b:.3g} s) are more than {PEER:g}x apart, "
                         "for the same products on the same BLAS")
    return found


def say(found, what="ratio"):
    """Print why no ``what`` is shown (nothing when ``found`` is empty)."""
    if found:
        print(f"\nUnusable measurements, so no {what} is printed (rerun on a quieter machine, "
              "or with more rounds):")
        for reason in found:
            print(f"- {reason}")
