"""Shared test settings.

Hypothesis profiles: ``ci`` (the default, fast) and ``thorough`` (many examples), chosen
with ``HYPOTHESIS_PROFILE=thorough pytest``.

The ``backend`` fixture runs a test on NumPy, on CuPy where CuPy and a CUDA device are
present (otherwise that case is skipped with the reason), and on the CuPy path with the
strict stand-in ``tests/fakecupy`` in place of CuPy (every run, no GPU needed).
"""
import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from minivae.backend import cupy_available, module_for

from .explorer_pages import driver, explorer_digits, pages  # noqa: F401 (one browser for the explorer's two test modules)

# the backend fixture is function-scoped (it swaps the stand-in in for each test); its
# value and `put` hold no state that one hypothesis example could leave to the next
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
settings.register_profile("ci", max_examples=20, deadline=None, suppress_health_check=_QUIET, derandomize=True)
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def use_fakecupy(monkeypatch):
    """Make ``import cupy`` give the strict stand-in (``tests/fakecupy``) until the test ends.

    The library's kernel cache and the global backend are restored afterwards, so nothing
    built on the stand-in outlives the test.
    """
    import tests.fakecupy as fakecupy
    from minivae import backend as backend_module
    from minivae.ops import kernels

    fakecupy.precompile({"probe": backend_module.PROBE_KERNEL, **kernels._SPECS})  # one compiler call
    monkeypatch.setitem(sys.modules, "cupy", fakecupy)
    monkeypatch.setattr(kernels, "_BUILT", {})
    monkeypatch.setitem(backend_module._state, "name", backend_module._state["name"])
    return fakecupy


@pytest.fixture(params=["numpy", "cupy", "fakecupy"])
def backend(request, monkeypatch):
    """The name of a backend that can run here.

    ``cupy`` is skipped, with the reason, where CuPy cannot run; ``fakecupy`` runs the
    same test on the CuPy path with the strict stand-in in place of CuPy (the fixture
    then returns ``"cupy"``), or skips when no C++ compiler can run its kernels.
    """
    if request.param == "cupy":
        ok, why = cupy_available()
        if not ok:
            pytest.skip(f"CuPy backend unavailable: {why}")
    if request.param == "fakecupy":
        from tests.kernel_harness import CXX

        if CXX is None:
            pytest.skip("the CuPy stand-in runs kernels through a C++ compiler, and none is on PATH")
        use_fakecupy(monkeypatch)
        return "cupy"
    return request.param


@pytest.fixture(params=["cupy", "fakecupy"])
def gpu(request, monkeypatch):
    """CuPy (skipped, with the reason, without a GPU), or the stand-in in its place (every run)."""
    from minivae.backend import cupy_available, module_for

    if request.param == "fakecupy":
        from tests.kernel_harness import CXX

        if CXX is None:
            pytest.skip("the CuPy stand-in needs a C++ compiler")
        use_fakecupy(monkeypatch)
    else:
        ok, why = cupy_available()
        if not ok:
            pytest.skip(f"CuPy backend unavailable: {why}")
    return module_for("cupy")


@pytest.fixture
def put(backend):
    """Move a NumPy array onto the test's backend (copy), keeping its dtype."""
    mod = module_for(backend)

    def _put(a):
        return mod.asarray(np.ascontiguousarray(a))

    return _put


def skip_reasons(reports):
    """``[(count, reason), ...]`` of skipped test reports, most frequent first."""
    counts = {}
    for report in reports:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        counts[reason] = counts.get(reason, 0) + 1
    return sorted(((n, r) for r, n in counts.items()), key=lambda nr: (-nr[0], nr[1]))


def pytest_terminal_summary(terminalreporter):
    """One line per reason why tests skipped (``-rs`` would print one line per test)."""
    grouped = skip_reasons(terminalreporter.stats.get("skipped", []))
    if grouped:
        terminalreporter.section("why tests were skipped", sep="-")
        for n, reason in grouped:
            terminalreporter.line(f"{n:4d} skipped: {reason}")
