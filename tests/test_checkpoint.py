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
    with pytest.raises(ValueError, match="entry '__config__' is not a .npy array"):
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
    (_set_config("hidden_dims", [5]), r"not the parameters of the Autoencoder its config describes"),
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


def dense_params(sizes):
    """How many parameters a stack of Dense layers of widths ``sizes`` has: sum of (a + 1) * b."""
    return sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))


@pytest.mark.parametrize("key, value", [("hidden_dims", [5, 4000]), ("input_dim", 10**9), ("hidden_dims", [2 * 10**9])])
def test_a_config_asking_for_more_than_the_file_holds_is_refused_before_building(
        saved, tmp_path, monkeypatch, key, value):
    """A crafted file of a few kilobytes cannot make load allocate a huge model: no layer is built."""
    from minivae.models import base

    _, path = saved
    bad = rewrite(path, tmp_path / "bad.npz", config=_set_config(key, value))
    config = {"input_dim": 6, "hidden_dims": [5, 4], "latent_dim": 3, key: value}
    sizes = (config["input_dim"], *config["hidden_dims"], config["latent_dim"])
    n = dense_params(sizes) + dense_params(sizes[::-1])
    built = []
    monkeypatch.setattr(base, "Dense", lambda *args, **kw: built.append(args))
    with pytest.raises(ValueError, match=rf"describes an Autoencoder with {n:,} parameters \(.*\), more than the "
                                         r"whole file \(\d\.\d KiB\) can hold"):
        minivae.load(bad)
    assert built == []  # refused before any layer was made


# ---------------------------------------------------------------------------
# issue 12: the format below the models, configs that are junk, save as strict as load
# ---------------------------------------------------------------------------

def test_the_format_module_imports_no_model():
    """minivae/checkpoint.py is a floor below the models: it imports nothing from minivae at all."""
    import ast

    source = open(os.path.join(os.path.dirname(minivae.__file__), "checkpoint.py"), encoding="utf-8").read()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not {m for m in imported if m.startswith(".") or m.startswith("minivae")}, imported


@pytest.mark.parametrize("damage", [b"\0\0\0\0", b"\x93NUMPY", b"\x80\x04\x95", b"junk junk junk"])
def test_damaged_first_bytes_never_suggest_allow_pickle(saved, tmp_path, damage):
    _, path = saved
    bad = tmp_path / "damaged.npz"
    bad.write_bytes(damage + open(path, "rb").read()[len(damage):])
    with pytest.raises(ValueError, match="not a readable minivae checkpoint") as info:
        minivae.load(bad)
    assert "pickle" not in str(info.value)


def _with_raw_config(path, out, raw):
    return rewrite(path, out, __config__=np.frombuffer(raw, dtype=np.uint8))


def _config_text(path):
    return bytes(read_npz(path)["__config__"]).decode()


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace('"seed": 7', '"seed": ' + "9" * 5000), "holds a whole number longer than 40 digits"),
    (lambda t: t.replace('"seed": 7', '"seed": -' + "9" * 41), "holds a whole number longer than 40 digits"),
    (lambda t: t.replace('"seed": 7', '"seed": ' + "[" * 10_000 + "]" * 10_000), "nests 10002 deep"),
    (lambda t: t.replace('"seed": 7', '"seed": 7, "pad": "' + "x" * 70_000 + '"'), r"config is 70,\d{3} bytes"),
    (lambda t: t.replace('"seed": 7', '"seed": NaN'), "holds NaN, which is not a number JSON allows"),
    (lambda t: t.replace('"seed": 7', '"seed": 1e999'), "holds 1e999, a number too large for a float"),
    (lambda t: t.replace('"seed": 7', '"seed": 7, "seed": 8'), "repeats the key 'seed'"),
    (lambda t: t.replace('"activation": "relu"', '"activation": ["relu"]'), "cannot build a model of class Auto"),
    (lambda t: t.replace('"input_dim": 6', '"input_dim": "6"'), "cannot build a model of class Autoencoder"),
    (lambda t: t.replace('"format_version": 1', '"format_version": true'), "format version True is not supported"),
    (lambda t: t.replace('"hidden_dims": [5, 4]', '"hidden_dims": [' + "1, " * 3000 + "1]"),
     "describes more than the 5,698 parameter arrays a checkpoint can hold"),
], ids=["5000-digits", "41-digits", "nested", "70-KB", "NaN", "1e999", "repeated-key", "list-activation",
        "string-width", "bool-version", "3000-layers"])
def test_junk_in_the_config_is_a_value_error_naming_the_file(saved, tmp_path, edit, match):
    _, path = saved
    bad = _with_raw_config(path, tmp_path / "bad.npz", edit(_config_text(path)).encode())
    with pytest.raises(ValueError, match=match) as info:
        minivae.load(bad)
    assert repr(str(bad)) in str(info.value) and "set_int_max_str_digits" not in str(info.value)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is a folder, not a regular file"):
        minivae.load(tmp_path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_save_refuses_what_load_would_refuse_with_the_same_message_and_keeps_the_old_file(saved, tmp_path, bad):
    from minivae import checkpoint

    model, path = saved
    good_bytes = open(path, "rb").read()
    model.params["decoder.2.W"][1, 1] = bad
    with pytest.raises(ValueError, match=r"parameter decoder.2.W holds NaN or infinite values") as refused:
        model.save(path)
    assert open(path, "rb").read() == good_bytes and os.listdir(tmp_path) == ["model.npz"]
    # the same arrays written without the checks: load refuses them with the very same message
    raw, _ = checkpoint.encode_config(path, json.loads(_config_text(path)))
    checkpoint.write(path, raw, params_to_numpy(model))
    with pytest.raises(ValueError) as loaded:
        minivae.load(path)
    assert str(loaded.value) == str(refused.value)


def test_save_refuses_a_config_load_would_refuse(tmp_path):
    model = Autoencoder(6, (5,), 3)
    model.seed = 10**50  # set after construction: longer than any number a checkpoint may hold
    with pytest.raises(ValueError, match="holds a whole number longer than 40 digits"):
        model.save(tmp_path / "m.npz")

    class MyAutoencoder(Autoencoder):
        pass

    with pytest.raises(ValueError, match="unknown model class 'MyAutoencoder'"):
        MyAutoencoder(6, (5,), 3).save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


@pytest.fixture
def umask():
    def set_umask(mask):
        os.umask(mask)

    old = os.umask(0o022)
    yield set_umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path, umask, mask, mode):
    umask(mask)
    path = trained().save(tmp_path / "m.npz")
    assert os.stat(path).st_mode & 0o777 == mode


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_replaced_file_keeps_its_mode(saved, umask, mode):
    model, path = saved
    umask(0o077)
    os.chmod(path, mode)
    model.save(path)
    assert os.stat(path).st_mode & 0o777 == mode


def test_saving_over_a_symlink_writes_through_it(tmp_path):
    """The link stays a link; the file behind it is replaced (atomically, in its own folder)."""
    model = trained()
    (tmp_path / "runs").mkdir()
    real = model.save(tmp_path / "runs" / "model.npz")
    os.symlink(os.path.join("runs", "model.npz"), tmp_path / "latest.npz")
    for p in model.params.values():
        p += 1
    model.save(tmp_path / "latest.npz")
    assert os.path.islink(tmp_path / "latest.npz")
    assert same_params(params_to_numpy(minivae.load(real)), params_to_numpy(model))
    os.symlink("missing.npz", tmp_path / "dangling.npz")  # a dangling link: its target is created
    model.save(tmp_path / "dangling.npz")
    assert os.path.islink(tmp_path / "dangling.npz") and os.path.isfile(tmp_path / "missing.npz")


def test_save_refuses_to_replace_a_special_file(tmp_path):
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    (tmp_path / "folder.npz").mkdir()
    model = trained()
    with pytest.raises(ValueError, match="is a FIFO \\(named pipe\\), not a regular file"):
        model.save(fifo)
    with pytest.raises(ValueError, match="is a folder, not a regular file"):
        model.save(tmp_path / "folder.npz")
    assert os.path.exists(fifo) and not os.path.isfile(fifo)
    assert sorted(os.listdir(tmp_path)) == ["fifo.npz", "folder.npz"]


def test_save_removes_stale_temporary_files_of_its_target_only(saved, tmp_path):
    """Stale: named after this target and locked by no live process. Others are left alone."""
    import fcntl

    model, path = saved
    names = {
        "stale": ".minivae-model.npz.0123abcd.tmp",
        "held": ".minivae-model.npz.89abcdef.tmp",         # a live writer holds its lock
        "other target": ".minivae-other.npz.0123abcd.tmp",
        "older release": ".minivae-x1y2z3.npz.tmp",
        "not ours": ".minivae-model.npz.0123abcd.tmp.bak",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"half a checkpoint")
    with open(tmp_path / names["held"], "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        model.save(path)
    left = set(os.listdir(tmp_path))
    assert names["stale"] not in left
    assert left == {"model.npz"} | {v for k, v in names.items() if k != "stale"}


def test_the_command_line_refuses_a_folder_whose_checkpoint_is_not_a_regular_file(tmp_path, capsys):
    from minivae.cli import main

    (tmp_path / "model.npz").mkdir()
    assert main(["sample", str(tmp_path), "--out", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.npz' is a folder, not a regular file" in err


def test_loading_costs_no_more_memory_than_building_the_model(tmp_path):
    """Arrays are read one at a time into the built model: no second copy of the whole model."""
    import tracemalloc

    model = Autoencoder(300, (400,), 20, seed=0)  # 1.0 MB of float32 parameters
    path = model.save(tmp_path / "m.npz")
    tracemalloc.start()
    try:
        Autoencoder(**model.config())
        build = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        loaded = minivae.load(path)
        load = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert same_params(params_to_numpy(loaded), params_to_numpy(model))
    assert build > 2 * model.n_params() * 4  # the measurement sees the model: its layers, then its flat buffer
    assert load < build + 256 * 1024, (load, build)


def test_a_zip_directory_larger_than_a_checkpoints_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(6000):  # 6,000 entries: a directory of ~330 KB (parsing it would cost ~3 MB)
            z.writestr(f"{i}.npy", b"")
    with pytest.raises(ValueError, match=r"its zip directory claims 3\d\d,\d{3} bytes; a checkpoint's is at most "
                                         r"262,144"):
        minivae.load(path)


def test_brackets_inside_config_strings_are_not_nesting(saved, tmp_path):
    _, path = saved
    text = _config_text(path).replace(f'"version": "{minivae.__version__}"', '"version": "' + "[{\\\"" * 40 + '"')
    loaded = minivae.load(_with_raw_config(path, tmp_path / "brackets.npz", text.encode()))
    assert same_params(params_to_numpy(loaded), params_to_numpy(saved[0]))


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"there is no folder '.*nowhere'"):
        trained().save(tmp_path / "nowhere" / "m.npz")
