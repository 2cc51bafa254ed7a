"""No command ends in a traceback: every subcommand over odd data and extreme checkpoints, generated.

Each case runs the command line in-process (``main(argv)``, stderr captured) and accepts
one of two outcomes: it works (exit 0, no warning, no NaN or inf printed), or it ends with
exactly one line ``minivae: error: ...`` and exit status 2. An exception escaping ``main``
is the traceback a user would have seen, and fails the case.

- odd data: 0, 1, 2 and 3 examples, one class, constant pixels, one feature, for every
  model kind ``train`` knows, then ``evaluate``, ``sample`` and ``explore`` of the run;
- extreme but accepted checkpoints: sigma_x at both ends of its range, weights of +-3e38
  (near the float32 maximum), then the same three readers;
- the library: a loss that overflows on finite inputs is a ValueError naming the cause.
"""
import contextlib
import io
import math
import os
import warnings

import numpy as np
import pytest

from minivae import CVAE, VAE
from minivae.cli import main
from minivae.cli.train import KINDS
from minivae.models import (Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder)
from minivae.models.vae import _check_sigma

D = 4  # pixels of an example of the odd data sets (2x2 images)

#: name -> (examples, pixels per example, pixel value or None for random, one class only)
ODD_DATA = {
    "0 examples": (0, D, None, False),
    "1 example": (1, D, None, False),
    "2 examples": (2, D, None, False),
    "3 examples": (3, D, None, False),
    "one class": (3, D, None, True),
    "constant pixels": (3, D, 255, False),
    "one feature": (3, 1, None, False),
}
KIND_NAMES = list(KINDS)
ODD_CASES = [(kind, data) for data in ODD_DATA for kind in KIND_NAMES]


def draws_figures(kind, data):
    """Figures for one model kind per data set, in turn (drawing all would take most of the time)."""
    return KIND_NAMES.index(kind) == list(ODD_DATA).index(data) % len(KIND_NAMES)


def outcome(argv):
    """Run ``main(argv)``; check it worked cleanly or said one line; return ``(status, last stderr line)``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = main([str(a) for a in argv])  # an exception here is a traceback for the user
    lines = err.getvalue().strip().splitlines()
    if status == 0:
        assert not caught, (argv, [str(w.message) for w in caught])
        printed = out.getvalue().replace(",", " ").replace(":", " ").split()
        assert not {"nan", "inf", "-inf"} & set(printed), (argv, out.getvalue())
        assert all(line.startswith("minivae: note: ") for line in lines), (argv, lines)
    else:
        assert status == 2 and len(lines) == 1 and lines[0].startswith("minivae: error: "), (argv, status, lines)
    return status, (lines[-1] if lines else "")


def readers(ckpt, model_kind, tmp_path, data=None, image=True):
    """The argv of every command that reads a checkpoint (``sample`` to an image too when ``image``)."""
    given = ["--data", data] if data else []
    label = ["--label", "0"] if model_kind == "cvae" else []
    return [["evaluate", ckpt, *given, "--n-samples", "2", "--per-label", "2", "-q"],
            ["sample", ckpt, "--n", "2", "--out", tmp_path / "samples.npy", *label],
            *([["sample", ckpt, "--n", "2", "--out", tmp_path / "samples.png", *label]] if image else []),
            ["explore", ckpt, *given, "--out", tmp_path / "page.html", "--points", "3"]]


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory):
    """name -> a Keras-style .npz of that odd data (the same examples as training and test sets)."""
    root = tmp_path_factory.mktemp("odd")
    rng = np.random.default_rng(0)
    files = {}
    for name, (n, d, value, one_class) in ODD_DATA.items():
        x = rng.integers(0, 256, (n, d), dtype=np.uint8) if value is None else np.full((n, d), value, np.uint8)
        y = np.zeros(n, np.int64) if one_class else np.arange(n) % 3
        files[name] = root / f"{name.replace(' ', '-')}.npz"
        np.savez(files[name], x_train=x, y_train=y, x_test=x, y_test=y)
    return files


@pytest.fixture
def quick(monkeypatch):
    """No fsync (durability is not under test here) and no PNG encoding: the figures are still drawn."""
    from matplotlib.figure import Figure

    monkeypatch.setattr(os, "fsync", lambda fd: None)
    monkeypatch.setattr(Figure, "savefig", lambda self, f, *a, **k: f.write(b"png") if hasattr(f, "write")
                        else open(f, "wb").close())
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("kind, data", ODD_CASES, ids=[f"{k}-{d.replace(' ', '-')}" for k, d in ODD_CASES])
def test_every_command_on_odd_data_works_or_says_one_line(kind, data, odd_files, tmp_path, quick):
    out = tmp_path / "run"
    figures = [] if draws_figures(kind, data) else ["--no-figures"]
    status, line = outcome(["train", kind, "--data", odd_files[data], "--out", out, "--epochs", "1",
                            "--hidden", "3", "--latent", "3", "-q", *figures])
    if ODD_DATA[data][0] == 0:
        assert status == 2 and "no images to learn from" in line, line
        return
    if kind == "convvae" and ODD_DATA[data][1] == 1:  # a stride-2 convolution cannot halve a 1x1 image
        assert status == 2 and "1x1 images" in line, line
        return
    assert status == 0, line  # tiny data is still data: train works on it
    for argv in readers(out, kind, tmp_path, image=not figures):
        outcome(argv)


def _extreme(name):
    """A model that its constructor and save accept, at an edge of what they accept."""
    low = 1.0 / math.sqrt(float(np.finfo(np.float32).max))
    high = math.nextafter(math.sqrt(float(np.finfo(np.float64).max)), 0.0)
    kinds = {"vae": VAE, "cvae": CVAE, "ae": Autoencoder, "dae": DenoisingAutoencoder, "sae": SparseAutoencoder,
             "cae": ContractiveAutoencoder}
    kind, what = name.split(" ", 1)
    args = (D, 3) if kind == "cvae" else (D,)
    if what.startswith("sigma"):
        sigma = {"sigma low": low, "sigma high": high, "sigma 1e-19": 1e-19}[what]
        return kind, kinds[kind](*args, (3,), 2, likelihood="gaussian", sigma=_check_sigma(sigma, "float32"))
    model = kinds[kind](*args, (3,), 2)
    for p in model.params.values():
        p[...] = 3e38 if what == "weights 3e38" else -3e38
    return kind, model


EXTREME = ["vae sigma low", "vae sigma high", "vae sigma 1e-19", "cvae sigma low", "vae weights 3e38",
           "vae weights -3e38", "cvae weights 3e38", "ae weights 3e38", "sae weights -3e38"]


@pytest.mark.parametrize("name", EXTREME)
def test_every_reader_on_an_extreme_checkpoint_works_or_says_one_line(name, odd_files, tmp_path, quick):
    """evaluate of sigma=1e-19 used to end in an AttributeError from statistics.stdev of infinities."""
    kind, model = _extreme(name)
    ckpt = model.save(tmp_path / "model.npz")
    statuses = {argv[0] + (os.path.splitext(argv[5])[1] if argv[0] == "sample" else ""): outcome(argv)[0]
                for argv in readers(ckpt, kind, tmp_path, odd_files["3 examples"])}
    if "weights" in name and kind in ("vae", "cvae"):  # no finite number comes out of such weights
        assert statuses["evaluate"] == statuses["sample.npy"] == 2, statuses


# ---------------------------------------------------------------------------
# the library: a loss of finite inputs that overflows is a ValueError naming the cause
# ---------------------------------------------------------------------------

def _vae(kind):
    return VAE(D, (3,), 2, likelihood="gaussian") if kind == "vae" else CVAE(D, 3, (3,), 2, likelihood="gaussian")


@pytest.mark.parametrize("kind", ["vae", "cvae"])
@pytest.mark.parametrize("method", ["log_likelihood", "elbo"])
def test_a_likelihood_that_overflows_is_a_value_error(kind, method):
    """Finite inputs of 3e19 used to give NaN with a RuntimeWarning."""
    model = _vae(kind)
    X = np.full((3, D), 3e19, np.float32)
    args = (X, np.arange(3)) if kind == "cvae" else (X,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"of example 0 overflows float32 .* inputs up to 3e\+19") as info:
            getattr(model, method)(*args, 2)
    assert "sigma=1" in str(info.value)
    ok = getattr(model, method)(*((np.full((3, D), 0.5, np.float32),) + args[1:]), 2)
    assert np.all(np.isfinite(ok))  # the check refuses only what overflowed


@pytest.mark.parametrize("cls", [Autoencoder, DenoisingAutoencoder, SparseAutoencoder, ContractiveAutoencoder])
def test_a_reconstruction_error_that_overflows_is_a_value_error(cls):
    """Inputs of 1e30 used to give inf."""
    model = cls(D, (3,), 2, loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"reconstruction error of example 0 overflows float32 \(it came out"):
            model.reconstruction_error(np.full((2, D), 1e30, np.float32))
    assert np.all(np.isfinite(model.reconstruction_error(np.full((2, D), 1e3, np.float32))))
