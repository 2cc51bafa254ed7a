"""Data files are sized from their headers before any data is read, and their labels are checked.

A compressed ``.npz`` or a gzipped IDX file can claim arrays far larger than itself; what
cannot fit in the memory the process may use is refused at once, naming the file, the
size and the memory. Labels must be whole numbers in ``0 .. MAX_CLASSES - 1``.
"""
import gzip
import io
import time
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy

from minivae import datafiles, datasets, memory
from tests.test_datasets import make_split, write_idx

HUGE = (300_000, 7_840)  # 2.2 GiB of uint8 (8.8 GiB as float32): the file


def npy_member(shape, dtype, body=b""):
    """The bytes of a .npy file whose header claims ``shape`` and ``dtype``, followed by ``body`` only."""
    f = io.BytesIO()
    npy.write_array_header_1_0(f, {"descr": npy.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                                   "shape": shape})
    return f.getvalue() + body


def write_npz(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name + ".npy", data)
    return path


@pytest.fixture
def little_memory(monkeypatch):
    """The process may use 100 MiB (whatever this machine has)."""
    monkeypatch.setattr(memory, "available_memory", lambda backend="numpy": 100 * 2**20)


@pytest.fixture
def no_data_reads(monkeypatch):
    """Fail if an array's data is read (headers only)."""
    monkeypatch.setattr(datafiles, "_read_member", lambda *a: pytest.fail("read an array before sizing it"))
    monkeypatch.setattr(datafiles, "_read_idx_body", lambda *a: pytest.fail("read an IDX body before sizing it"))


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_an_npz_too_large_for_memory_is_refused_from_its_headers(tmp_path, little_memory, no_data_reads,
                                                                  compression):
    """A 2.3 MB savez_compressed file of 300,000 x 7,840 zeros used to be unpacked (8.8 GiB) before any check."""
    path = write_npz(tmp_path / "mnist.npz", {
        "x_train": npy_member(HUGE, "u1", b"\0" * 1000), "y_train": npy_member(HUGE[:1], "i8"),
        "x_test": npy_member((10, 784), "u1"), "y_test": npy_member((10,), "i8")}, compression)
    start = time.process_time()
    with pytest.raises(MemoryError) as info:
        datasets.load_mnist(path)
    assert time.process_time() - start < 5  # CPU seconds, not wall: a header read, never the 2 GiB
    message = str(info.value)
    assert str(path) in message and "300000x7840" in message and "100.0 MiB" in message, message
    assert "GiB" in message.split("need")[1]


@pytest.mark.parametrize("gz", [True, False])
def test_an_idx_file_too_large_for_memory_is_refused_from_its_first_bytes(tmp_path, little_memory,
                                                                          no_data_reads, gz):
    """A 1.5 MB gzipped IDX file used to be decompressed whole before its header was read."""
    header = (0x00000803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (3_000_000, 28, 28))
    body = header + bytes(2_000_000)  # the header claims 2.2 GiB; a plain file's size is checked first
    images = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    images.write_bytes(gzip.compress(body) if gz else body)
    labels = (0x00000801).to_bytes(4, "big") + (3_000_000).to_bytes(4, "big") + bytes(10)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    with pytest.raises(MemoryError if gz else ValueError) as info:
        datasets.load_mnist(tmp_path)
    assert str(images) in str(info.value)
    if gz:
        assert "3000000x28x28" in str(info.value) and "100.0 MiB" in str(info.value)
    else:  # the file's own size already says it cannot hold what its header claims
        assert "truncated" in str(info.value)


def test_a_gzip_stream_longer_than_its_header_is_refused(tmp_path):
    images, labels = make_split(4, 3)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    payload = write_idx(tmp_path / "plain", images)
    path.write_bytes(gzip.compress(payload + bytes(50)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match="unexpected bytes after the 2352 promised by its header"):
        datasets.load_mnist(tmp_path)


def test_arrays_that_fit_are_read_exactly(tmp_path):
    (tr_x, tr_y), (te_x, te_y) = make_split(2, 5), make_split(3, 2)
    np.savez_compressed(tmp_path / "mnist.npz", x_train=tr_x, y_train=tr_y, x_test=te_x, y_test=te_y)
    X, y = datasets.load_mnist(tmp_path / "mnist.npz", kind="all", scale=False)
    np.testing.assert_array_equal(X, np.concatenate([tr_x, te_x]).reshape(7, -1))
    np.testing.assert_array_equal(y, np.concatenate([tr_y, te_y]))


@pytest.mark.parametrize("labels, first_bad", [
    (np.arange(6) % 3 + 0.5, "y_train[0] is 0.5"),          # used to train on int(label) without a word
    (np.array([0, 1, np.nan, 2, 0, 1]), "y_train[2] is nan"),  # used to show -9223372036854775808
    (np.array([0, 1, 2, -1, 0, 1]), "y_train[3] is -1"),
    (np.array([0, 1, 2, 0, 1000, 1]), "y_train[4] is 1000"),
    (np.array([0, 1, 2, 0, 1, np.inf]), "y_train[5] is inf"),
])
def test_labels_must_be_whole_numbers_in_range(tmp_path, labels, first_bad):
    x = np.zeros((6, 4), np.uint8)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x, y_train=labels, x_test=x, y_test=np.arange(6) % 3)
    with pytest.raises(ValueError) as info:
        datasets.load_mnist(path)
    assert str(path) in str(info.value) and first_bad in str(info.value), str(info.value)
    assert "whole numbers in 0..999" in str(info.value)


def test_whole_float_labels_are_accepted(tmp_path):
    x = np.zeros((4, 4), np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.array([0.0, 1.0, 2.0, 3.0]), x_test=x,
             y_test=np.arange(4))
    X, y = datasets.load_mnist(tmp_path / "mnist.npz")
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("bad, expected", [
    (np.array([[0.0, np.nan, 0.0, 1.0]] * 2), "found nan"),
    (np.array([[0.0, 256.0, 0.0, 1.0]] * 2), "found 256.0"),
    (np.array([["a", "b", "c", "d"]] * 2), "must hold numbers; its header says dtype <U1"),
])
def test_pixels_must_be_numbers_in_0_255(tmp_path, bad, expected):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=bad, y_train=np.arange(2), x_test=bad, y_test=np.arange(2))
    with pytest.raises(ValueError, match="x_train") as info:
        datasets.load_mnist(path)
    assert expected in str(info.value)


def test_a_file_without_examples_says_so(tmp_path):
    x = np.zeros((0, 4), np.uint8)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.zeros(0), x_test=x, y_test=np.zeros(0))
    with pytest.raises(ValueError, match=r"x_train has shape \(0, 4\): no images"):
        datasets.load_mnist(tmp_path / "mnist.npz")


def test_the_memory_left_includes_the_address_space_limit(monkeypatch):
    resource = pytest.importorskip("resource")
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2**40, 2**40) if which == resource.RLIMIT_AS
                        else (resource.RLIM_INFINITY,) * 2)
    left = memory._address_space_left()
    assert left is not None and 2**40 - 2**36 < left < 2**40  # the limit less what Python maps already
    assert memory.available_memory() <= left
