"""The CuPy stand-in is strict, and the CuPy path does what the README says (issue 24).

First the stand-in itself: it refuses what CuPy refuses (a name or keyword CuPy lacks,
an implicit conversion to NumPy, a NumPy array in a device operation) and counts host
reads. Then the cases the backend-parametrized tests do not cover, run on the CuPy path
with the stand-in in place of CuPy: every model's ``fit``, save and load, ``to()`` round
trips with the same optimizer, the CLI with ``--backend cupy``, and the number of host
reads per training step.
"""
import json

import numpy as np
import pytest

import minivae
from minivae import CVAE, VAE, Adam, Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from minivae.backend import backend_of, to_numpy
from minivae.models.base import params_to_numpy
from minivae.train import SAVE_EVERY
from tests.conftest import use_fakecupy
from tests.kernel_harness import CXX

pytestmark = pytest.mark.skipif(CXX is None, reason="the CuPy stand-in runs kernels through a C++ compiler")


@pytest.fixture
def cp(monkeypatch):
    """The stand-in, installed as ``cupy`` for this test, with the global backend on it."""
    fake = use_fakecupy(monkeypatch)
    minivae.set_backend("cupy")
    return fake


# ---------------------------------------------------------------------- the stand-in refuses
def test_implicit_conversion_to_numpy_is_refused(cp):
    a = cp.asarray(np.arange(3.0))
    for convert in (np.asarray, np.array, lambda x: np.exp(x) + np.ones(3), lambda x: float(x)):
        with pytest.raises(TypeError, match="Implicit conversion|Unsupported type|only"):
            convert(a)
    with pytest.raises(TypeError, match="Unsupported type"):
        a + np.ones(3)  # a NumPy array in a device operation
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.maximum(np.ones(3), a)
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.ElementwiseKernel("T x", "T y", "y = x", "copy")(np.ones(3))


def test_names_and_keywords_that_cupy_lacks_are_refused(cp):
    a = cp.asarray(np.arange(4.0))
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial'"):
        a.max(initial=0.0)  # NumPy has it, CuPy's ndarray.max(axis, out, keepdims) has not
    with pytest.raises(TypeError, match="unexpected keyword argument 'where'"):
        cp.sum(a, where=a > 1)
    with pytest.raises(AttributeError, match="not in CuPy 14's API"):
        cp.random.default_rng(0).permutation(4)  # CuPy's Generator has no permutation
    with pytest.raises(AttributeError, match="not in CuPy 14's API"):
        cp.nanmean_of_something  # noqa: B018
    with pytest.raises(TypeError, match="Wrong arguments"):
        cp.exp(a, where=True)


def test_what_it_allows_works_as_on_cupy(cp):
    a = cp.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    assert cp.asarray(a) is a and type(a).__module__ == "cupy"
    assert (a * 2.0).dtype == np.float32 and backend_of(a.sum()) == "cupy"  # reductions stay on the device
    b = a.copy()
    b[0] = np.array([7.0, 8.0, 9.0], dtype=np.float32)  # assigning host data copies it over, as CuPy does
    np.testing.assert_array_equal(b.get(), [[7, 8, 9], [3, 4, 5]])
    k = cp.ElementwiseKernel("T x, float64 s", "T y", "y = x * (T)s", "scale")
    np.testing.assert_array_equal(k(a, 0.5).get(), np.arange(6.0).reshape(2, 3) / 2)
    with pytest.raises(TypeError, match="Type is mismatched"):
        cp.ElementwiseKernel("T x, T z", "T y", "y = x + z", "add")(a, a.astype("float64"))


def test_host_reads_are_counted_and_can_be_forbidden(cp):
    a = cp.asarray(np.arange(3.0))
    before = sum(cp.HOST_READS.values())
    float(a.sum()), a.get(), bool(a[0] == 0), a.max().item()
    assert sum(cp.HOST_READS.values()) - before == 4
    with cp.forbid_host_reads():
        b = cp.exp(a) + 1.0  # device work is fine
        with pytest.raises(cp.HostReadForbidden):
            float(b[0])


def test_every_name_the_stand_in_defines_is_cupys():
    import tests.fakecupy as fake

    api = fake.API["cupy"]
    for name in ("get_array_module", "asnumpy", "get_default_memory_pool", "ElementwiseKernel", "ndarray",
                 "random", "cuda"):
        assert name in api, name
    assert api["ndarray"]["kind"] == "class" and fake.API["ndarray"]["max"] == [
        ["axis", "positional_or_keyword", "None"], ["out", "positional_or_keyword", "None"],
        ["keepdims", "positional_or_keyword", "False"]]
    assert fake.API["source"].startswith("CuPy 14.2.0")


# ---------------------------------------------------------------------- planted faults are caught
def test_a_planted_implicit_conversion_in_a_training_step_fails_on_the_stand_in(cp):
    model = VAE(16, (8,), 2, seed=0)
    inner = model.loss_terms_and_grads

    def careless(x, y=None, **kw):
        terms, grads = inner(x, y, **kw)
        np.log(np.asarray(terms["loss"]))  # the kind of line that works on NumPy and breaks on a GPU
        return terms, grads

    model.loss_terms_and_grads = careless
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array is not allowed"):
        model.fit(_unit(32, 16), epochs=1, batch_size=8, verbose=False)


def test_a_planted_unknown_keyword_in_the_gradient_check_fails_on_the_stand_in(cp, monkeypatch):
    """The gradient check as it was before issue 24: max(initial=0.0), which CuPy does not have."""
    from minivae import gradcheck, ops

    def old_relative_error(analytic, numeric, floor, abs_floor=1e-10):
        xp = minivae.backend.array_module(analytic)
        a, n = xp.asarray(analytic, dtype="float64"), xp.asarray(numeric, dtype="float64")
        scale = max(float(xp.abs(a).max(initial=0.0)), float(xp.abs(n).max(initial=0.0)))
        denom = xp.maximum(xp.maximum(xp.abs(a), xp.abs(n)), max(floor * scale, abs_floor))
        return xp.abs(a - n) / denom

    x = cp.asarray(np.linspace(-1, 1, 6).reshape(2, 3))
    assert gradcheck.check_pair(ops.relu_forward, ops.relu_backward, x).passed  # the fixed one runs
    monkeypatch.setattr(gradcheck, "relative_error", old_relative_error)
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial'"):
        gradcheck.check_pair(ops.relu_forward, ops.relu_backward, x)


# ---------------------------------------------------------------------- the missing cases
def _unit(n, d, seed=0):
    return np.random.default_rng(seed).random((n, d)).astype(np.float32)


MODELS = {
    "ae": lambda: Autoencoder(16, (8,), 2, seed=0),
    "dae": lambda: DenoisingAutoencoder(16, (8,), 2, seed=0),
    "sae": lambda: SparseAutoencoder(16, (8,), 2, seed=0),
    "cae": lambda: ContractiveAutoencoder(16, (8,), 2, seed=0),
    "vae": lambda: VAE(16, (8,), 2, seed=0),
    "cvae": lambda: CVAE(16, 3, (8,), 2, seed=0),
}


@pytest.mark.parametrize("kind", MODELS)
def test_every_model_fits_saves_and_loads_on_the_cupy_path(cp, kind, tmp_path):
    model = MODELS[kind]()
    X, y = _unit(40, 16), np.arange(40) % 3
    labels = (y,) if kind == "cvae" else ()
    history = model.fit(X, *labels, epochs=2, batch_size=8, verbose=False,
                        validation_data=(X[:8], y[:8]) if kind == "cvae" else (X[:8],))
    assert np.isfinite(history["loss"]).all() and np.isfinite(history["val_loss"]).all()
    assert history["loss"][-1] < history["loss"][0]  # it learned
    assert all(backend_of(v) == "cupy" for v in model.params.values())
    path = model.save(tmp_path / "m.npz")
    on_gpu = minivae.load(path)
    assert all(backend_of(v) == "cupy" for v in on_gpu.params.values())
    minivae.set_backend("numpy")
    on_cpu = minivae.load(path)
    assert all(isinstance(v, np.ndarray) for v in on_cpu.params.values())
    saved = params_to_numpy(model)
    for loaded in (on_gpu, on_cpu):
        assert all(np.array_equal(to_numpy(loaded.params[k]), saved[k]) for k in saved)
    if kind in ("vae", "cvae"):  # the same noise gives the same loss on both devices
        eps = np.random.default_rng(1).normal(size=(8, 2)).astype(np.float32)
        loss_cpu = on_cpu.loss(X[:8], *(y[:8],) * (kind == "cvae"), eps=eps)
        loss_gpu = on_gpu.loss(X[:8], *(y[:8],) * (kind == "cvae"), eps=cp.asarray(eps))
        assert loss_gpu == pytest.approx(loss_cpu, rel=1e-5)


def test_to_round_trips_with_the_same_optimizer(cp):
    """numpy -> cupy -> numpy with one Adam: its memory follows the model, its step count goes on."""
    minivae.set_backend("numpy")
    X = _unit(32, 16)
    model, opt = VAE(16, (8,), 2, seed=0), Adam(lr=1e-2)
    losses = model.fit(X, epochs=1, batch_size=8, optimizer=opt, verbose=False)["loss"]
    steps = opt.steps
    model.to("cupy")
    losses = model.fit(X, epochs=1, batch_size=8, optimizer=opt, verbose=False)["loss"]
    assert opt.steps == 2 * steps and all(backend_of(v) == "cupy" for v in model.params.values())
    model.to("numpy")
    losses = model.fit(X, epochs=1, batch_size=8, optimizer=opt, verbose=False)["loss"]
    assert opt.steps == 3 * steps and all(isinstance(v, np.ndarray) for v in model.params.values())
    assert np.isfinite(losses).all() and losses[-1] < model.history["loss"][0]


def test_a_training_step_that_does_not_read_the_loss_makes_no_host_read(cp):
    """Host reads in an epoch of N steps: the loss of every SAVE_EVERY-th step and of the last
    one, then the finite-parameter check and one per recorded loss term; none in any other
    step (and a few checks of the data before the first step)."""
    n_steps = 25
    model, opt = VAE(16, (8,), 2, seed=0), Adam(lr=1e-3)
    X = cp.asarray(_unit(8 * n_steps, 16))
    events = []  # (what, host reads so far)
    count = lambda: sum(cp.HOST_READS.values())  # noqa: E731
    step, loss = opt.step, model.loss_terms_and_grads

    def counting_step(*args, **kw):
        events.append(("step", count()))
        return step(*args, **kw)

    def counting_loss(*args, **kw):
        events.append(("loss", count()))
        return loss(*args, **kw)

    opt.step, model.loss_terms_and_grads = counting_step, counting_loss
    model.fit(X, epochs=1, batch_size=8, optimizer=opt, verbose=False)  # binds the optimizer
    events.clear()
    launches = dict(cp.LAUNCHES)
    model.fit(X, epochs=1, batch_size=8, optimizer=opt, verbose=False)
    end = count()
    for name in ("adam", "bce_with_logits", "kl_standard_normal", "reparameterize", "relu_backward"):
        assert cp.LAUNCHES[f"minivae_{name}"] - launches.get(f"minivae_{name}", 0) >= n_steps, name  # fused
    assert [e[0] for e in events] == ["loss", "step"] * n_steps
    at = [c for _, c in events] + [end]
    in_step = [at[2 * i + 1] - at[2 * i] for i in range(n_steps)]  # the step's loss, its read, the update
    between = [at[2 * i + 2] - at[2 * i + 1] for i in range(n_steps - 1)]
    read_steps = [i for i in range(n_steps) if i % SAVE_EVERY == 0 or i == n_steps - 1]
    assert in_step == [int(i in read_steps) for i in range(n_steps)]
    assert between == [0] * (n_steps - 1)
    n_terms = len([k for k in model.history if k not in ("epoch", "time")])
    assert end - at[-2] == 1 + n_terms  # the epoch's end: isfinite(params), then one mean per term


def test_the_cli_trains_samples_and_evaluates_with_backend_cupy(cp, tmp_path, capsys):
    from minivae.cli import main

    minivae.set_backend("numpy")
    out = tmp_path / "run"
    assert main(["train", "vae", "--data", "digits", "--epochs", "1", "--limit", "200", "--hidden", "32",
                 "--latent", "2", "--backend", "cupy", "--no-figures", "--quiet", "--out", str(out)]) == 0
    history = json.loads((out / "history.json").read_text())
    assert history["run"]["backend"] == "cupy" and np.isfinite(history["loss"]).all()
    assert main(["sample", str(out), "--n", "4", "--backend", "cupy", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0
    assert main(["evaluate", str(out), "--n-samples", "5", "--json", "--quiet", "--backend", "cupy"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n_examples"] == 359 and 0 < result["neg_elbo"] < 200
    assert result["log_likelihood"] >= -result["neg_elbo"] - 1e-3  # the bound holds: log p(x) >= ELBO


def test_make_api_reads_signatures_from_python_and_cython_sources(tmp_path, capsys):
    """The generator of cupy_api.json, on a miniature CuPy source tree."""
    import importlib

    make_api = importlib.import_module("tests.fakecupy.make_api")  # by full name: the package calls itself cupy

    files = {
        "cupy/__init__.py": "from cupy import random\nfrom cupy._core import ndarray\nfrom numpy import float32\n"
                            "from cupy._math.sums import total as sum\nfrom cupy._math.ew import exp\n",
        "cupy/_math/sums.py": "def total(a, axis=None, dtype=None, out=None, keepdims=False):\n    pass\n",
        "cupy/_math/ew.py": "exp = ufunc.create_math_ufunc('exp', 1, 'cupy_exp', '')\n",
        "cupy/_core/__init__.py": "",
        "cupy/_core/core.pyx": "cdef class _ndarray_base:\n"
                               "    cpdef _ndarray_base max(self, axis=None, out=None, bint keepdims=False):\n"
                               "        pass\n"
                               "    @property\n    def ndim(self):\n        pass\n"
                               "    def reshape(self, *shape, order='C', copy=None):\n        pass\n",
        "cupy/_core/_kernel.pyx": "cdef class ElementwiseKernel:\n"
                                  "    def __init__(self, in_params, out_params, operation,\n"
                                  "                 name='kernel', **kwargs):\n        pass\n",
        "cupy/random/__init__.py": "def default_rng(seed=None):\n    pass\n",
        "cupy/random/_generator_api.pyx": "class Generator:\n"
                                          "    def random(self, size=None, dtype=numpy.float64, out=None):\n"
                                          "        pass\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    make_api.main(str(tmp_path))
    api = json.loads(capsys.readouterr().out)
    assert api["cupy"]["sum"]["params"][1] == ["axis", "positional_or_keyword", "None"]
    assert api["cupy"]["exp"] == {"kind": "ufunc"} and api["cupy"]["float32"] == {"kind": "numpy"}
    assert api["cupy"]["random"] == {"kind": "module"}
    assert api["ndarray"]["max"] == [["axis", "positional_or_keyword", "None"],
                                     ["out", "positional_or_keyword", "None"],
                                     ["keepdims", "positional_or_keyword", "False"]]  # 'bint' dropped
    assert api["ndarray"]["ndim"] == "property"
    assert api["ndarray"]["reshape"][0] == ["shape", "var_positional", None]
    assert [p[0] for p in api["ElementwiseKernel.__init__"]] == ["in_params", "out_params", "operation", "name",
                                                                 "kwargs"]
    assert api["random.Generator"]["random"][1] == ["dtype", "positional_or_keyword", "numpy.float64"]
