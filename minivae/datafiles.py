"""The MNIST files a user already has (IDX, plain or gzipped; a Keras-style ``.npz``), sized before they are read.

:func:`minivae.datasets.load_mnist` reads through here in two passes:

1. **size**: only the headers are read (an IDX file's first 8 or 16 bytes, the first
   bytes of its gzip stream; an ``.npz`` file's zip directory and each member's ``.npy``
   header, through :func:`minivae.checkpoint.read_npy_header`). They give the shape and
   dtype of every array, so the memory the arrays and their float copy need is known
   before one byte of data is read: what cannot fit in the memory this process may use
   (:func:`minivae.memory.available_memory`) is refused with one ``MemoryError`` naming
   the file, the size and the memory; a 2 MB compressed file that unpacks to 9 GiB is
   refused in milliseconds, not after the allocation;
2. **read**: exactly the sizes the headers promised (a longer or shorter body is refused),
   then the labels are checked: whole numbers in ``0 .. MAX_CLASSES - 1``.
"""
from __future__ import annotations

import gzip
import math
import os
import zipfile
import zlib

import numpy

from . import checkpoint, memory

#: labels are class indices below this (a CVAE takes one input per class, the explorer one button)
MAX_CLASSES = 1000

# IDX magic numbers: two zero bytes, a type code (0x08 = unsigned byte), the number of dims.
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


class Array:
    """One array of a data file, sized from its header: ``path``, ``name``, ``shape``, ``dtype``."""

    def __init__(self, path, name, shape, dtype, read):
        self.path, self.name, self.shape, self.dtype, self._read = path, name, tuple(shape), dtype, read

    @property
    def nbytes(self):
        return math.prod(self.shape) * self.dtype.itemsize

    def read(self):
        return self._read()


def check_fits(arrays, float_dtype):
    """Refuse ``arrays`` (images then labels, per split) unless they and their float copies fit in memory.

    Counted: every array as stored, the images again as ``float_dtype``, the labels again
    as int64 (what :func:`minivae.datasets.load_mnist` returns).
    """
    need = sum(a.nbytes for a in arrays)
    need += sum(math.prod(a.shape) * (float_dtype.itemsize if len(a.shape) > 1 else 8) for a in arrays)
    avail = memory.available_memory()
    if avail is not None and need > avail:
        big = max(arrays, key=lambda a: a.nbytes)
        raise MemoryError(
            f"{big.path}: {big.name} holds {'x'.join(map(str, big.shape))} values of {big.dtype}; with its "
            f"float copy the data need {memory.format_bytes(need)}, more than the {memory.format_bytes(avail)} "
            "of memory this process may use")


def check_labels(path, name, labels):
    """Raise unless every label is a whole number in ``0 .. MAX_CLASSES - 1``; return them as int64."""
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"{path}: {name} must hold whole numbers (class labels); got dtype {labels.dtype}")
    with numpy.errstate(invalid="ignore"):
        bad = ~((labels >= 0) & (labels < MAX_CLASSES) & (labels == numpy.floor(labels)))
    if bad.any():
        i = int(numpy.flatnonzero(bad)[0])
        raise ValueError(f"{path}: {name}[{i}] is {labels[i].item()!r}; labels must be whole numbers in "
                         f"0..{MAX_CLASSES - 1}")
    return labels.astype(numpy.int64)


# ---------------------------------------------------------------------- IDX
def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _gzip_error(path, err):
    return ValueError(f"{path}: not a readable gzip file ({err}); is it truncated?")


def idx_array(path, expected_magic, name):
    """The :class:`Array` of one IDX file of unsigned bytes, from its header alone.

    IDX layout: a big-endian uint32 magic ``0x000008ND`` (``08`` = unsigned byte, ``ND`` =
    number of dimensions), then ``ND`` big-endian uint32 sizes, then the values. A plain
    file's size is checked against the header here; a gzipped one's while it is read.
    """
    gz = _is_gzip(path)
    ndim = expected_magic & 0xFF
    header = 4 + 4 * ndim
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            head = f.read(header)  # gzip: decompresses only the first bytes of the stream
    except _GZIP_ERRORS as err:
        raise _gzip_error(path, err) from None
    if len(head) < 4:
        raise ValueError(f"{path}: file is truncated ({len(head)} bytes; an IDX header has at least 8)")
    magic = int.from_bytes(head[:4], "big")
    if magic != expected_magic:
        hint = {IDX_LABELS_MAGIC: " (this looks like a label file)",
                IDX_IMAGES_MAGIC: " (this looks like an image file)"}.get(magic, "")
        raise ValueError(
            f"{path}: wrong magic number 0x{magic:08X}{hint}; expected 0x{expected_magic:08X} "
            f"for an IDX file of unsigned bytes with {ndim} dimension(s)")
    if len(head) < header:
        raise ValueError(f"{path}: file is truncated inside its header ({len(head)} of {header} bytes)")
    shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    n_values = math.prod(shape)
    if not gz:
        _check_body(path, shape, n_values, os.path.getsize(path) - header)
    return Array(path, name, shape, numpy.dtype(numpy.uint8), lambda: _read_idx_body(path, gz, header, shape))


def _check_body(path, shape, n_values, n_body):
    if n_body < n_values:
        raise ValueError(
            f"{path}: file is truncated: the header promises shape {shape} ({n_values} bytes "
            f"of data) but only {n_body} bytes follow")
    if n_body > n_values:
        extra = f"{n_body - n_values}" if n_body > n_values + 1 else "more"
        raise ValueError(
            f"{path}: file has {extra} unexpected bytes after the {n_values} "
            f"promised by its header (shape {shape})")


def _read_idx_body(path, gz, header, shape):
    """Exactly the values the header promised, decompressed into one buffer of that size."""
    out = numpy.empty(math.prod(shape), numpy.uint8)
    view = memoryview(out)
    got = 0
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            f.read(header)
            while got < out.size:
                n = f.readinto(view[got:got + checkpoint.CHUNK * 16])
                if not n:
                    break
                got += n
            more = len(f.read(1))
    except _GZIP_ERRORS as err:
        raise _gzip_error(path, err) from None
    _check_body(path, shape, out.size, got + more)
    return out.reshape(shape)


# ---------------------------------------------------------------------- npz
def npz_arrays(path, keys):
    """Key -> :class:`Array` of the members ``keys`` of an ``.npz`` file, from its directory and headers."""
    bad_file = (f"{path}: not a readable .npz file ({{}}). load_mnist takes a folder that holds the IDX "
                "files, or the path of an .npz file")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not an .npz archive. load_mnist takes a folder that holds the IDX files, "
                         "or the path of an .npz file")
    try:
        with checkpoint.open_regular(path) as f, zipfile.ZipFile(f) as archive:
            names = [n[:-4] for n in archive.namelist() if n.endswith(".npy")]
            missing = [k for k in keys if k not in names]
            if missing:
                raise KeyError(missing)
            found = {}
            for k in keys:
                with archive.open(k + ".npy") as member:
                    shape, fortran_order, dtype = checkpoint.read_npy_header(member)
                found[k] = Array(path, k, shape, dtype, lambda k=k: _read_member(path, k))
    except KeyError as err:
        raise ValueError(
            f"{path}: missing key(s) {', '.join(err.args[0])}; it holds {', '.join(names) or 'nothing'} "
            "(expected x_train, y_train, x_test, y_test)") from None
    except checkpoint.DAMAGED as err:
        raise ValueError(bad_file.format(err)) from None
    for k, a in found.items():
        if a.dtype.kind not in "biuf" or a.dtype.hasobject:
            raise ValueError(f"{path}: {k} must hold numbers; its header says dtype {a.dtype}")
    return found


def _read_member(path, key):
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            return archive[key]
    except checkpoint.DAMAGED as err:
        raise ValueError(f"{path}: cannot read {key} ({err}); is it truncated?") from None
