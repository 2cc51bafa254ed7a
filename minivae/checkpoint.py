"""Saving and loading models: one ``.npz`` of arrays plus a JSON config, written safely.

The file holds ``__config__`` (the JSON config as bytes: class, constructor arguments,
dtype, library version) and one array per parameter, ``param:<name>``. It is written to
a temporary file in the same folder and renamed over the target, so a crash mid-save
never destroys the previous checkpoint. Loading uses ``allow_pickle=False``: a checkpoint
cannot run code.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy

FORMAT = "minivae-checkpoint"
FORMAT_VERSION = 1
_PREFIX = "param:"


def save(model, path):
    """Write ``model`` to ``path`` atomically and return the path (``.npz`` is appended if missing)."""
    from . import __version__
    from .backend import to_numpy

    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "version": __version__,
        "config": model.config(),
    }
    arrays = {_PREFIX + k: to_numpy(v) for k, v in model.params.items()}
    arrays["__config__"] = numpy.frombuffer(json.dumps(config).encode("utf-8"), dtype=numpy.uint8)
    return write_atomically(path, lambda f: numpy.savez(f, **arrays))


def write_atomically(path, write, *, text=False):
    """Call ``write(f)`` on a temporary file beside ``path``, then rename it over ``path``.

    A crash or an error mid-write leaves whatever was at ``path`` untouched (and no
    temporary file behind). ``text=True`` opens the file for UTF-8 text instead of bytes.
    Returns ``path``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".minivae-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w" if text else "wb", **({"encoding": "utf-8"} if text else {})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def _read(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    if not zipfile.is_zipfile(path):  # checked first: numpy's own message would suggest allow_pickle
        raise ValueError(f"{path!r} is not a readable minivae checkpoint (.npz): not an .npz archive (a zip of .npy files)")
    try:
        data = numpy.load(path, allow_pickle=False)
        if not hasattr(data, "files"):  # a plain .npy array, not an .npz archive
            raise ValueError(f"it holds a single {type(data).__name__}, not an .npz archive")
        with data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    # NotImplementedError: zipfile's answer to a damaged compression-method field
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError, NotImplementedError) as err:
        raise ValueError(f"{path!r} is not a readable minivae checkpoint (.npz): {err}") from None
    # numpy hands back a zip member that is not a .npy file as raw bytes
    odd = sorted(k for k, v in arrays.items() if not hasattr(v, "dtype"))
    if odd:
        raise ValueError(f"{path!r} is not a minivae checkpoint: entries {odd} are not .npy arrays")
    return arrays


def _check_sizes_fit(path, config, stored):
    """Refuse a config whose layer sizes the stored arrays cannot hold, before building it.

    Every width in the config (input, hidden, latent, classes) is some stored weight's
    side, so none can exceed the largest side stored. Checked first, a crafted file
    with a few bytes of arrays cannot make ``load`` allocate a huge model.
    """
    if not isinstance(config, dict):
        return  # building the model reports a malformed config
    hidden = config.get("hidden_dims", ())
    widths = [config.get(k) for k in ("input_dim", "latent_dim", "n_classes")]
    widths += list(hidden) if isinstance(hidden, (list, tuple)) else []
    largest = max((max(a.shape, default=0) for a in stored.values()), default=0)
    too_big = [w for w in widths if isinstance(w, int) and w > largest]
    if too_big or (isinstance(hidden, (list, tuple)) and len(hidden) > len(stored)):
        raise ValueError(f"{path!r}: its config asks for layers (widths {too_big or hidden}) that its "
                         f"stored arrays (largest side {largest}) cannot hold")


def load(path):
    """Load any model saved with ``model.save(path)``, onto the current backend.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For a junk, truncated or foreign file, or one whose arrays do not match its config.
    """
    from .models import MODELS

    path = os.fspath(path)
    data = _read(path)
    if "__config__" not in data:
        raise ValueError(f"{path!r} is an .npz file but not a minivae checkpoint (no __config__ entry)")
    try:
        meta = json.loads(bytes(data.pop("__config__")).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path!r}: its config is not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a minivae checkpoint (format {meta.get('format')!r})"
                         if isinstance(meta, dict) else f"{path!r}: malformed config")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path!r}: checkpoint format version {meta.get('format_version')!r} is not supported")
    cls = MODELS.get(meta.get("class")) if isinstance(meta.get("class"), str) else None
    if cls is None:
        raise ValueError(f"{path!r}: unknown model class {meta.get('class')!r}; known: {sorted(MODELS)}")
    stored = {k[len(_PREFIX):]: v for k, v in data.items() if k.startswith(_PREFIX)}
    _check_sizes_fit(path, meta.get("config"), stored)
    try:
        model = cls(**meta["config"])
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"{path!r}: its config cannot build a model of class {cls.__name__}: {err}") from None
    params = model.params
    if set(stored) != set(params):
        missing, extra = sorted(set(params) - set(stored)), sorted(set(stored) - set(params))
        raise ValueError(f"{path!r}: parameters do not match a {cls.__name__}: missing {missing}, unexpected {extra}")
    for k, v in params.items():
        a = stored[k]
        if a.shape != tuple(v.shape) or a.dtype != v.dtype:
            raise ValueError(f"{path!r}: parameter {k} has shape {a.shape} and dtype {a.dtype}; "
                             f"expected {tuple(v.shape)} and {v.dtype}")
        if not numpy.isfinite(a).all():
            raise ValueError(f"{path!r}: parameter {k} holds NaN or infinite values")
        v[...] = model.xp.asarray(a)
    return model
