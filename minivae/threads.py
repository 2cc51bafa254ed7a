"""How many BLAS threads the training loop uses: fewer when they cannot help.

NumPy hands every matrix product to a BLAS library (OpenBLAS, MKL) that splits it over
all the cores. For a large product on an idle machine that pays: the 784-400-20 VAE of
``benchmarks/train_speed.py`` trains faster on 2 threads than on 1. Otherwise it costs:

- a **small** product gains nothing from a second thread, but the thread still wakes,
  waits and spins;
- on a **busy** machine (a browser, another job) each product waits for its slowest
  thread, which may be off the CPU for a whole time slice, and the waiting threads spin,
  taking CPU from everything else. Small models then trained 3 to 17 times slower.

So :func:`minivae.train.fit` runs its loop inside :func:`blas_threads_for`, which sets the
BLAS thread limit by this rule (measured with ``python benchmarks/busy_machine.py``;
``benchmarks/README.md`` has the numbers):

1. If the largest matrix product of a training step (batch size × the largest weight
   matrix's ``in × out`` multiply-adds) is under :data:`SMALL_PRODUCT`: **one** thread.
2. Otherwise, if other processes keep cores busy (measured over :data:`PROBE_SECONDS` just
   before the loop, from ``/proc/stat`` on Linux): as many threads as there are idle
   cores, at least one.
3. Otherwise the BLAS's own choice (one thread per core, for OpenBLAS).

Rule 1 depends only on the model and the batch size. Rule 2 depends on the machine's
load, and a product computed on 1 thread can differ from the 2-thread one in its last
bit, so a large model trained on a busy machine can end a few digits away from the same
run on a quiet one. Set ``MINIVAE_BLAS_THREADS`` to choose yourself: ``auto`` (the
default) applies the rule, a whole number ``n`` allows at most ``n`` threads in every
loop (``1`` gives the same numbers on any load), and ``blas`` leaves the BLAS's own
setting alone. The limit is set with ``threadpoolctl`` (the library scikit-learn uses
for the same job), imported only here; on CuPy nothing changes.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

#: multiply-adds of a training step's largest matrix product under which the loop uses one
#: BLAS thread: batch 128 through a 64-128 layer is 1 million, batch 64 through 784-128 is 6.4
SMALL_PRODUCT = 4_000_000

#: how long :func:`busy_cores` watches the machine before a loop with a large product
PROBE_SECONDS = 0.05

#: a measurement of :func:`busy_cores` younger than this is reused (many short fits in a row)
PROBE_REUSE_SECONDS = 10.0

ENV = "MINIVAE_BLAS_THREADS"

_last_probe = [float("-inf"), None]  # (time.monotonic() of the measurement, its value)


def largest_product(model, batch_size):
    """Multiply-adds of the largest matrix product in one training step: ``batch_size × in × out``.

    The forward ``x @ W`` of the largest weight matrix; its two backward products
    (``dout @ W.T`` and ``x.T @ dout``) have the same count.
    """
    sizes = [int(W.shape[0]) * int(W.shape[1]) for W in model.params.values() if W.ndim == 2]
    return int(batch_size) * max(sizes, default=0)


def _cpu_ticks():
    """``(busy ticks of the whole machine, ticks of all its time, number of CPUs)`` from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as f:
        lines = f.read().splitlines()
    fields = [int(v) for v in lines[0].split()[1:9]]  # user nice system idle iowait irq softirq steal
    n_cpus = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
    return sum(fields) - fields[3] - fields[4], sum(fields), n_cpus


def _own_ticks():
    """CPU ticks this process (all its threads) has used, from /proc/self/stat."""
    with open("/proc/self/stat", encoding="ascii") as f:
        after_name = f.read().rsplit(")", 1)[1].split()
    return int(after_name[11]) + int(after_name[12])  # utime, stime (fields 14 and 15)


def busy_cores(seconds=PROBE_SECONDS):
    """How many cores *other* processes kept busy over the next ``seconds``: a float, or ``None``.

    The machine's busy time minus this process's own (its BLAS threads may still be
    spinning from the last product), over the elapsed time. ``None`` where ``/proc`` is
    not readable (not Linux).
    """
    try:
        busy0, total0, n_cpus = _cpu_ticks()
        own0 = _own_ticks()
        time.sleep(seconds)
        busy1, total1, _ = _cpu_ticks()
        own1 = _own_ticks()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / (total1 - total0) * n_cpus


def _recent_busy_cores():
    now = time.monotonic()
    if now - _last_probe[0] > PROBE_REUSE_SECONDS:
        _last_probe[:] = [now, busy_cores()]
    return _last_probe[1]


def _usable_cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def thread_limit(model, batch_size, setting=None, *, busy=None):
    """The BLAS thread limit for training ``model`` with ``batch_size``: an int, or ``None`` for no limit.

    Parameters
    ----------
    model : Model
    batch_size : int
    setting : str, optional
        The value of ``MINIVAE_BLAS_THREADS`` (default: read from the environment):
        ``"auto"`` applies the rule of the module docstring, ``"blas"`` never limits, a
        whole number ``n >= 1`` limits to ``n``.
    busy : float, optional
        Cores kept busy by other processes (default: measured by :func:`busy_cores`, only
        when the product is large).
    """
    if getattr(model, "backend", "numpy") != "numpy":
        return None
    setting = (os.environ.get(ENV, "auto") if setting is None else str(setting)).strip().lower()
    if setting == "blas":
        return None
    if setting not in ("", "auto"):
        try:
            n = int(setting)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{ENV} must be 'auto', 'blas' or a whole number >= 1; got {setting!r}")
        return n
    if largest_product(model, batch_size) < SMALL_PRODUCT:
        return 1
    busy = _recent_busy_cores() if busy is None else busy
    if busy is None:
        return None
    idle = _usable_cpus() - busy
    return max(1, int(round(idle))) if idle < _usable_cpus() - 0.5 else None


_blas = {}  # the BLAS thread pools, and len(sys.modules) when they were found


def _blas_pools():
    """threadpoolctl's controller of the BLAS pools loaded in this process (``None`` without threadpoolctl).

    Looking costs about 2 ms and the demos call ``fit`` some 200 times, so the pools are
    found once and looked for again only when a module has been imported since: a BLAS
    arrives with the extension module that links it (scikit-learn brings SciPy's own
    OpenBLAS next to NumPy's), and a pool found before it came would leave the new one
    unlimited. A BLAS opened with ``ctypes`` alone, with no import, is not seen.
    """
    n_modules = len(sys.modules)
    if _blas.get("modules") != n_modules:
        try:
            from threadpoolctl import ThreadpoolController  # imported here: `import minivae` stays light
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency; without it, no limit
            pools = None
        else:
            pools = ThreadpoolController().select(user_api="blas")
        _blas.update(modules=len(sys.modules), pools=pools)  # counted after threadpoolctl's own import
    return _blas["pools"]


@contextlib.contextmanager
def at_most(limit):
    """Run the body with at most ``limit`` BLAS threads (``None``: unchanged); restored afterwards.

    A limit never raises the BLAS's thread count. Yields the limit in force (``None``:
    the BLAS's own setting).
    """
    blas = _blas_pools() if limit is not None else None
    if blas is None or not blas.lib_controllers \
            or limit >= max(lib.num_threads for lib in blas.lib_controllers):
        limit = None
    if limit is None:
        yield None
        return
    with blas.limit(limits=limit):
        yield limit


def blas_threads_for(model, batch_size):
    """A context that runs the body under the BLAS thread limit :func:`thread_limit` chooses."""
    return at_most(thread_limit(model, batch_size))
