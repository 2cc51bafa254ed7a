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

from .explorer_pages import driver, explorer_digits, pages  # noqa: F401 (one browser for the explorer's two test modules)

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
