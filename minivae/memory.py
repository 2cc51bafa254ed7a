"""How much memory a new allocation can still get: what the data loaders and the CLI check before allocating.

Files are sized before they are read (``minivae/datasets.py``, ``minivae/checkpoint.py``)
and commands size their work before doing it (``minivae/cli``): what cannot fit is
refused in one line that says how much was asked for, instead of a traceback or the
kernel's out-of-memory kill.
"""
from __future__ import annotations

import os

try:
    import resource  # the process's own limits (not on Windows)
except ImportError:  # pragma: no cover
    resource = None


def format_bytes(n):
    """``1536`` -> ``"1.5 KiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def available_memory(backend="numpy"):
    """Bytes a new allocation can still get, or ``None`` when the system does not say.

    On the CPU: ``MemAvailable`` of ``/proc/meminfo`` (else the free physical pages),
    lowered to what a cgroup memory limit (a container's) and the process's address-space
    limit (``ulimit -v``, less what the process maps already) still allow. On a GPU: the
    device's free memory plus what CuPy's memory pool holds unused.
    """
    if backend == "cupy":
        try:
            import cupy

            return int(cupy.cuda.runtime.memGetInfo()[0]) + int(cupy.get_default_memory_pool().free_bytes())
        except Exception:  # no device to ask: let the allocation itself fail
            return None
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
    try:  # cgroup v2: the container's limit and what it uses already
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read())
        if limit != "max":
            avail = min(avail, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    limit = _address_space_left()
    return avail if limit is None else min(avail, limit)


def _address_space_left():
    """Bytes ``ulimit -v`` (RLIMIT_AS) leaves this process beyond what it maps already, or ``None``."""
    if resource is None:  # pragma: no cover
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            mapped = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    except (OSError, ValueError, IndexError, StopIteration):
        mapped = 0
    return max(0, soft - mapped)
