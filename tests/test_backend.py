"""The backend: choosing NumPy or CuPy, dtypes, and the seeded random source."""
import os
import subprocess
import sys
import types

import numpy as np
import pytest

import minivae
from minivae import backend
from minivae.backend import (
    BackendUnavailableError,
    Random,
    array_module,
    backend_of,
    cupy_available,
    resolve_dtype,
    to_numpy,
)

CUPY_OK, CUPY_WHY = cupy_available()


@pytest.fixture(autouse=True)
def restore_backend(monkeypatch):
    """Whatever a test does to the global backend is undone afterwards."""
    monkeypatch.setitem(backend._state, "name", backend._state["name"])
    yield


# ---------------------------------------------------------------------------
# set_backend / get_backend
# ---------------------------------------------------------------------------

def test_round_trip_numpy():
    minivae.set_backend("numpy")
    assert minivae.get_backend() == "numpy"
    assert backend.xp() is np


def test_names_are_case_and_space_insensitive():
    minivae.set_backend("  NumPy ")
    assert minivae.get_backend() == "numpy"


@pytest.mark.skipif(not CUPY_OK, reason=f"CuPy backend unavailable: {CUPY_WHY}")
def test_round_trip_cupy():
    minivae.set_backend("cupy")
    assert minivae.get_backend() == "cupy"
    assert backend.xp().__name__ == "cupy"
    minivae.set_backend("numpy")
    assert minivae.get_backend() == "numpy"


@pytest.mark.parametrize("name", ["torch", "", "num py", "gpu"])
def test_unknown_name_lists_the_valid_ones(name):
    before = minivae.get_backend()
    with pytest.raises(ValueError, match="numpy") as err:
        minivae.set_backend(name)
    assert "cupy" in str(err.value)
    assert minivae.get_backend() == before


@pytest.mark.parametrize("name", [None, 0, np, ["numpy"]])
def test_non_string_name(name):
    with pytest.raises(TypeError, match="backend name must be a string"):
        minivae.set_backend(name)


def _run_python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "MINIVAE_BACKEND"}
    full_env.update(env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    full_env["PYTHONPATH"] = root + os.pathsep + full_env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True,
                          timeout=60, cwd=root)


def test_env_var_is_honoured_on_first_use():
    code = "import minivae; print(minivae.get_backend())"
    ok = _run_python(code, MINIVAE_BACKEND="numpy")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "numpy"
    unset = _run_python(code)
    assert unset.returncode == 0 and unset.stdout.strip() == "numpy", unset.stderr
    bogus = _run_python(code, MINIVAE_BACKEND="bogus")
    assert bogus.returncode != 0
    assert "ValueError" in bogus.stderr and "bogus" in bogus.stderr
    # the env var is read lazily: importing alone with a bogus value is fine
    lazy = _run_python("import minivae; print('imported')", MINIVAE_BACKEND="bogus")
    assert lazy.returncode == 0 and lazy.stdout.strip() == "imported", lazy.stderr


# ---------------------------------------------------------------------------
# CuPy unavailable
# ---------------------------------------------------------------------------

@pytest.mark.skipif(CUPY_OK, reason="CuPy is usable here")
def test_cupy_unavailable_says_what_is_missing_and_how_to_install():
    with pytest.raises(BackendUnavailableError) as err:
        minivae.set_backend("cupy")
    msg = str(err.value)
    assert "cupy" in msg.lower()
    assert ("not installed" in msg and "pip install" in msg) or "CUDA device" in msg
    assert minivae.get_backend() == "numpy"


def test_cupy_not_installed(monkeypatch):
    minivae.set_backend("numpy")
    monkeypatch.setitem(sys.modules, "cupy", None)  # makes `import cupy` raise ImportError
    with pytest.raises(BackendUnavailableError, match="pip install") as err:
        minivae.set_backend("cupy")
    assert "CuPy package" in str(err.value) and "not installed" in str(err.value)
    assert isinstance(err.value, RuntimeError)
    assert minivae.get_backend() == "numpy"  # a failed switch changes nothing
    ok, why = cupy_available()
    assert not ok and "pip install" in why
    with pytest.raises(BackendUnavailableError):
        Random(0, backend="cupy")


def _fake_cupy(get_device_count):
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_device_count))
    return cupy


def test_cupy_installed_but_no_driver(monkeypatch):
    def no_driver():
        raise RuntimeError("cudaErrorInsufficientDriver")

    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(no_driver))
    with pytest.raises(BackendUnavailableError, match="CUDA device") as err:
        minivae.set_backend("cupy")
    assert "cudaErrorInsufficientDriver" in str(err.value)
    assert minivae.get_backend() == "numpy"


def test_cupy_installed_but_zero_devices(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: 0))
    with pytest.raises(BackendUnavailableError, match="found none"):
        minivae.set_backend("cupy")


class _FakeCompileError(Exception):
    """What CuPy raises when NVRTC rejects a kernel: a long, many-line message."""


def _cupy_with(kernel=None, matmul_error=None):
    """A module that answers like CuPy on a machine with a device, and fails where told."""
    import numpy

    cupy = _fake_cupy(lambda: 1)

    def elementwise(in_params, out_params, body, name):
        if kernel is not None:
            raise kernel
        return lambda x: x + 1

    class Array(numpy.ndarray):
        def __matmul__(self, other):
            if matmul_error is not None:
                raise matmul_error
            return numpy.matmul(self, other)

    cupy.ElementwiseKernel = elementwise
    cupy.arange = lambda *a, **k: numpy.arange(*a, **k).view(Array)
    cupy.asarray = lambda *a, **k: numpy.asarray(*a, **k).view(Array)
    return cupy


@pytest.mark.parametrize("what, fake, expected", [
    ("NVRTC", _cupy_with(kernel=_FakeCompileError("nvrtc: error: failed to open libnvrtc-builtins.so.12\n"
                                                  "line 2 of a long compiler log")),
     "needs NVRTC (CUDA's run-time compiler)"),
    ("NVRTC", _cupy_with(kernel=OSError("libnvrtc.so.12: cannot open shared object file")), "NVRTC"),
    ("cuBLAS", _cupy_with(matmul_error=OSError("libcublas.so.12: cannot open shared object file")),
     "needs cuBLAS for its matrix products"),
])
def test_cupy_with_a_device_but_without_a_library_says_which_in_one_line(monkeypatch, what, fake, expected):
    """A device alone is not enough: the check compiles a kernel and multiplies two matrices."""
    minivae.set_backend("numpy")
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(BackendUnavailableError) as err:
        minivae.set_backend("cupy")
    msg = str(err.value)
    assert expected in msg and what in msg and "pip install" in msg
    assert "\n" not in msg and "line 2" not in msg  # one line, the first of the error
    assert minivae.get_backend() == "numpy"
    ok, why = cupy_available()
    assert not ok and why == msg


def test_cupy_that_passes_the_checks_is_checked_once(monkeypatch):
    fake = _cupy_with()
    calls = []
    make = fake.ElementwiseKernel
    fake.ElementwiseKernel = lambda *a: calls.append(a) or make(*a)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert backend.module_for("cupy") is fake and backend.module_for("cupy") is fake
    assert len(calls) == 1


# ---------------------------------------------------------------------------
# dtypes
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    (None, np.float32), ("float32", np.float32), ("float64", np.float64),
    (np.float32, np.float32), (np.float64, np.float64), (np.dtype("float64"), np.float64),
])
def test_resolve_dtype_accepts(given, expected):
    dt = resolve_dtype(given)
    assert isinstance(dt, np.dtype) and dt == expected


@pytest.mark.parametrize("bad", ["int32", np.int64, "float16", bool, "complex128"])
def test_resolve_dtype_rejects_non_float_or_other_widths(bad):
    with pytest.raises(ValueError, match=r"dtype must be one of \('float32', 'float64'\)"):
        resolve_dtype(bad)


@pytest.mark.parametrize("bad", ["junk", object(), 3.5])
def test_resolve_dtype_rejects_junk(bad):
    with pytest.raises(TypeError, match="dtype must be a name"):
        resolve_dtype(bad)


# ---------------------------------------------------------------------------
# Random
# ---------------------------------------------------------------------------

def test_random_same_seed_same_numbers(backend):
    a, b = Random(42, backend=backend), Random(42, backend=backend)
    for draw in (lambda r: r.normal((3, 4)), lambda r: r.uniform((5,)), lambda r: r.permutation(10),
                 lambda r: r.integers(0, 100, (7,))):
        np.testing.assert_array_equal(to_numpy(draw(a)), to_numpy(draw(b)))
    assert a.spawn_seed() == b.spawn_seed()
    assert not np.array_equal(to_numpy(Random(1, backend=backend).normal((20,))),
                              to_numpy(Random(2, backend=backend).normal((20,))))


def test_random_dtypes_and_ranges(backend):
    r = Random(0, backend=backend)
    assert r.normal((2, 3)).dtype == np.float32
    assert r.uniform((2, 3)).dtype == np.float32
    assert r.normal((2, 3), dtype="float64").dtype == np.float64
    assert r.uniform(4, dtype=np.float64).dtype == np.float64
    u = to_numpy(r.uniform((10_000,), dtype="float64"))
    assert u.min() >= 0.0 and u.max() < 1.0
    with pytest.raises(ValueError):
        r.normal((2,), dtype="int32")
    i = to_numpy(r.integers(3, 7, (1000,)))
    assert i.min() >= 3 and i.max() <= 6
    assert backend_of(r.normal((1,))) == backend
    assert isinstance(r.spawn_seed(), int)


def test_random_permutation_is_a_permutation(backend):
    for n in (1, 2, 17, 1000):
        p = to_numpy(Random(n, backend=backend).permutation(n))
        assert np.issubdtype(p.dtype, np.integer)
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    assert not np.array_equal(to_numpy(Random(0, backend=backend).permutation(1000)), np.arange(1000))


def test_random_does_not_touch_numpy_global_state():
    np.random.seed(123)
    expected = np.random.random(3)
    np.random.seed(123)
    Random(0).normal((100,))
    np.testing.assert_array_equal(np.random.random(3), expected)


def test_random_uses_current_backend_by_default():
    minivae.set_backend("numpy")
    assert Random(0).backend == "numpy" and Random(0).xp is np


# ---------------------------------------------------------------------------
# to_numpy / array_module
# ---------------------------------------------------------------------------

def test_to_numpy_of_numpy_is_the_same_array():
    a = np.arange(6.0).reshape(2, 3)
    assert to_numpy(a) is a
    np.testing.assert_array_equal(to_numpy([1.0, 2.0]), np.array([1.0, 2.0]))


def test_to_numpy_and_array_module_of_backend_arrays(put, backend):
    a = put(np.arange(6.0).reshape(2, 3))
    assert array_module(a).__name__ == backend
    assert backend_of(a) == backend
    b = to_numpy(a)
    assert isinstance(b, np.ndarray)
    np.testing.assert_array_equal(b, np.arange(6.0).reshape(2, 3))


def test_array_module_of_numpy_arrays_is_numpy():
    a = np.zeros(3)
    assert array_module(a) is np
    assert array_module(a, np.ones(2)) is np
    assert array_module() is np
    assert array_module(1.0, [1, 2]) is np
    assert backend_of(a) == "numpy"


def test_module_for():
    assert backend.module_for("numpy") is np
    with pytest.raises(ValueError):
        backend.module_for("torch")
