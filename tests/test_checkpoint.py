"""Checkpoints (minivae/checkpoint.py): exact round trips, atomic writes, and every kind of
file that is not a minivae checkpoint turned away with a ``ValueError``."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import minivae
from minivae import Autoencoder
from minivae.checkpoint import FORMAT, FORMAT_VERSION
from minivae.models import MODELS
from minivae.models.base import params_to_numpy


def trained(loss="bce", dtype="float32", **kw):
    """A small autoencoder moved away from its initial weights (biases non-zero too)."""
    model = Autoencoder(6, (5, 4), 3, loss=loss, dtype=dtype, seed=7, **kw)
    X = np.random.default_rng(0).random((30, 6))
    model.fit(X, epochs=2, batch_size=10, verbose=False)
    return model


def same_params(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def read_npz(path):
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def rewrite(path, out, *, config=None, drop=(), **arrays):
    """Copy checkpoint ``path`` to ``out`` with its JSON edited by ``config(meta)`` and arrays replaced."""
    data = read_npz(path)
    if config is not None:
        meta = json.loads(bytes(data["__config__"]).decode())
        config(meta)
        data["__config__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    for k in drop:
        del data[k]
    data.update({k.replace("__", ":", 1) if k.startswith("param__") else k: v for k, v in arrays.items()})
    np.savez(out, **data)
    return out


@pytest.fixture
def saved(tmp_path):
    model = trained()
    return model, model.save(tmp_path / "model.npz")


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss, activation", [("bce", "relu"), ("mse", "tanh")])
def test_round_trip_is_exact(tmp_path, loss, activation, dtype):
    model = trained(loss, dtype, activation=activation, code_activation="sigmoid")
    path = model.save(tmp_path / "ae.npz")
    loaded = minivae.load(path)
    assert type(loaded) is Autoencoder
    assert loaded.config() == model.config()
    assert loaded.config()["loss"] == loss and loaded.config()["dtype"] == dtype
    a, b = params_to_numpy(model), params_to_numpy(loaded)
    assert same_params(a, b)  # bitwise
    assert all(b[k].dtype == np.dtype(dtype) for k in b)
    X = np.random.default_rng(1).random((9, 6))
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    assert loaded.loss(X) == model.loss(X)


def test_save_appends_npz_and_accepts_paths(tmp_path):
    model = trained()
    path = model.save(tmp_path / "no_suffix")
    assert path == str(tmp_path / "no_suffix.npz") and os.path.isfile(path)
    assert same_params(params_to_numpy(minivae.load(tmp_path / "no_suffix.npz")), params_to_numpy(model))


def test_save_overwrites_an_old_checkpoint(saved):
    model, path = saved
    for p in model.params.values():
        p += 1
    model.save(path)
    assert same_params(params_to_numpy(minivae.load(path)), params_to_numpy(model))


def test_the_file_is_a_plain_npz_of_arrays_and_json(saved):
    model, path = saved
    with np.load(path, allow_pickle=False) as f:  # no pickle needed to read it
        files = set(f.files)
        config_bytes = f["__config__"]
        arrays = {k: f[k] for k in f.files if k != "__config__"}
    assert files == {"__config__"} | {f"param:{k}" for k in model.params}
    assert config_bytes.dtype == np.uint8
    meta = json.loads(bytes(config_bytes).decode("utf-8"))
    assert meta["format"] == FORMAT and meta["format_version"] == FORMAT_VERSION
    assert meta["class"] == "Autoencoder" and meta["version"] == minivae.__version__
    assert meta["config"] == model.config()
    assert all(a.dtype == np.float32 for a in arrays.values())


def test_load_restores_onto_the_current_backend(tmp_path, backend):
    model = trained()
    path = model.save(tmp_path / "model.npz")
    previous = minivae.get_backend()
    minivae.set_backend(backend)
    try:
        loaded = minivae.load(path)
        assert loaded.backend == backend
        assert all(minivae.backend.backend_of(v) == backend for v in loaded.params.values())
        assert same_params(params_to_numpy(loaded), params_to_numpy(model))
    finally:
        minivae.set_backend(previous)


# ---------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------

def crash_halfway(exc):
    """A numpy.savez that writes the first half of a real archive, then fails with ``exc``."""
    real = np.savez

    def savez(file, *args, **kwds):
        buf = io.BytesIO()
        real(buf, *args, **kwds)
        data = buf.getvalue()
        file.write(data[:len(data) // 2])
        raise exc

    return savez


@pytest.mark.parametrize("exc", [OSError("No space left on device"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_a_crash_mid_save_keeps_the_old_checkpoint(tmp_path, monkeypatch, exc):
    model = trained()
    path = model.save(tmp_path / "model.npz")
    old_bytes = open(path, "rb").read()
    old_params = params_to_numpy(model)
    for p in model.params.values():  # a successful save would now change the file
        p *= 2
    monkeypatch.setattr(np, "savez", crash_halfway(exc))
    with pytest.raises(type(exc)):
        model.save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    assert open(path, "rb").read() == old_bytes
    assert same_params(params_to_numpy(minivae.load(path)), old_params)


def test_a_crash_on_the_first_save_leaves_nothing(tmp_path, monkeypatch):
    model = trained()
    monkeypatch.setattr(np, "savez", crash_halfway(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# files that are not checkpoints
# ---------------------------------------------------------------------------

def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        minivae.load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("content", [
    b"",
    b"hello, I am a text file\n",
    bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)),
    b"PK\x03\x04" + bytes(200),                      # the start of a zip, then zeros
    b"\x93NUMPY" + bytes(np.random.default_rng(1).integers(0, 256, 100, dtype=np.uint8)),
], ids=["empty", "text", "random", "zip-magic", "npy-magic"])
def test_junk_bytes(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable minivae checkpoint"):
        minivae.load(path)


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.5, 0.9, 0.99])
def test_truncated_file(saved, tmp_path, fraction):
    _, path = saved
    data = open(path, "rb").read()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(ValueError, match="not a readable minivae checkpoint"):
        minivae.load(cut)


def test_every_truncation_is_a_value_error(saved, tmp_path):
    _, path = saved
    data = open(path, "rb").read()
    cut = tmp_path / "cut.npz"
    for n in range(0, len(data), max(1, len(data) // 97)):
        cut.write_bytes(data[:n])
        with pytest.raises(ValueError):
            minivae.load(cut)


def test_foreign_npz(tmp_path):
    path = tmp_path / "foreign.npz"
    rng = np.random.default_rng(0)
    np.savez(path, a=rng.normal(size=(3, 4)), b=rng.integers(0, 9, 5))
    with pytest.raises(ValueError, match=r"not a minivae checkpoint \(no __config__ entry\)"):
        minivae.load(path)


def test_foreign_npy(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros((3, 4)))
    with pytest.raises(ValueError, match="not an .npz archive"):
        minivae.load(path)


def test_zip_whose_members_are_not_arrays(saved, tmp_path):
    """A zip with the right names whose members are raw bytes (numpy returns them as bytes)."""
    _, path = saved
    names = read_npz(path)
    fake = tmp_path / "fake.npz"
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("__config__", bytes(names["__config__"]))
        for k in names:
            if k != "__config__":
                z.writestr(k, b"\x00" * 16)
    with pytest.raises(ValueError, match="not .npy arrays"):
        minivae.load(fake)


def test_pickled_object_arrays_are_refused(tmp_path):
    path = tmp_path / "pickle.npz"
    np.savez(path, __config__=np.array([{"evil": True}], dtype=object))
    with pytest.raises(ValueError, match="not a readable minivae checkpoint"):
        minivae.load(path)


@pytest.mark.parametrize("cls", ["NotAModel", "Model", "Sequential", "__builtins__", ["Autoencoder"], None])
def test_config_with_a_wrong_class(saved, tmp_path, cls):
    _, path = saved
    bad = rewrite(path, tmp_path / "bad.npz", config=lambda m: m.update({"class": cls}))
    with pytest.raises(ValueError, match="unknown model class"):
        minivae.load(bad)


@pytest.mark.skipif("VAE" not in MODELS, reason="no VAE model registered")
def test_config_of_one_model_labelled_as_another(saved, tmp_path):
    """An autoencoder's file relabelled "VAE": the config or the arrays will not fit."""
    _, path = saved
    bad = rewrite(path, tmp_path / "bad.npz", config=lambda m: m.update({"class": "VAE"}))
    with pytest.raises(ValueError, match="VAE"):
        minivae.load(bad)


def _set_config(key, value):
    return lambda m: m["config"].update({key: value})


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update({"format": "something-else"}), r"not a minivae checkpoint \(format 'something-else'\)"),
    (lambda m: m.update({"format_version": 99}), r"format version 99 is not supported"),
    (lambda m: m.update({"config": [1, 2]}), r"cannot build a model of class Autoencoder"),
    (lambda m: m.pop("config"), r"cannot build a model of class Autoencoder"),
    (_set_config("activation", "gelu"), r"cannot build a model of class Autoencoder: activation must be one of"),
    (_set_config("unknown_knob", 1), r"cannot build a model of class Autoencoder"),
    (_set_config("latent_dim", 5), r"parameter .* has shape"),
    (_set_config("hidden_dims", [5]), r"parameters do not match a Autoencoder"),
    (_set_config("dtype", "float64"), r"dtype float32; expected .* float64"),
])
def test_config_that_does_not_fit(saved, tmp_path, edit, match):
    _, path = saved
    bad = rewrite(path, tmp_path / "bad.npz", config=edit)
    with pytest.raises(ValueError, match=match):
        minivae.load(bad)


def test_config_that_is_not_json(saved, tmp_path):
    _, path = saved
    bad = rewrite(path, tmp_path / "bad.npz", __config__=np.frombuffer(b"{not json", dtype=np.uint8))
    with pytest.raises(ValueError, match="not valid JSON"):
        minivae.load(bad)
    bad = rewrite(path, tmp_path / "bad2.npz", __config__=np.frombuffer(b"[1, 2]", dtype=np.uint8))
    with pytest.raises(ValueError, match="malformed config"):
        minivae.load(bad)


def test_arrays_that_do_not_fit(saved, tmp_path):
    model, path = saved
    W = params_to_numpy(model)["encoder.0.W"]
    cases = [
        ({"param__encoder.0.W": W[:-1]}, (), r"parameter encoder.0.W has shape"),
        ({"param__encoder.0.W": W.astype(np.float64)}, (), r"dtype float64; expected .* float32"),
        ({"param__encoder.0.W": np.full_like(W, np.nan)}, (), r"encoder.0.W holds NaN"),
        ({}, ("param:decoder.0.b",), r"missing \['decoder.0.b'\]"),
        ({"param__extra.W": W}, (), r"unexpected \['extra.W'\]"),
    ]
    for i, (arrays, drop, match) in enumerate(cases):
        bad = rewrite(path, tmp_path / f"bad{i}.npz", drop=drop, **arrays)
        with pytest.raises(ValueError, match=match):
            minivae.load(bad)


@pytest.mark.parametrize("key, value", [("hidden_dims", [5, 4000]), ("input_dim", 10**9), ("latent_dim", 50)])
def test_a_config_asking_for_layers_larger_than_its_arrays_is_refused_before_building(
        saved, tmp_path, monkeypatch, key, value):
    """A crafted file of a few bytes cannot make load allocate a huge model."""
    from minivae.models import MODELS as registry

    _, path = saved
    bad = rewrite(path, tmp_path / "bad.npz", config=_set_config(key, value))
    built = []
    monkeypatch.setitem(registry, "Autoencoder", lambda **kw: built.append(kw))
    with pytest.raises(ValueError, match=r"config asks for layers .*largest side 6"):
        minivae.load(bad)
    assert built == []  # refused before any model was made
