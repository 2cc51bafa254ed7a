"""Shared test settings.

Hypothesis profiles: ``ci`` (the default, fast) and ``thorough`` (many examples), chosen
with ``HYPOTHESIS_PROFILE=thorough pytest``.

The ``backend`` fixture runs a test on NumPy and, where CuPy and a CUDA device are
present, on CuPy too; otherwise the CuPy case is skipped with the reason.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from minivae.backend import cupy_available, module_for

settings.register_profile(
    "ci", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(params=["numpy", "cupy"], scope="session")
def backend(request):
    """The name of a backend that can run here (CuPy is skipped, with the reason, when it cannot)."""
    if request.param == "cupy":
        ok, why = cupy_available()
        if not ok:
            pytest.skip(f"CuPy backend unavailable: {why}")
    return request.param


@pytest.fixture(scope="session")
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
