"""The checkpoint module's file handling where mutation testing found no test: the words for
a file's kind and a size, a read of nothing, a FIFO among the stale temporary files, the
count of those removed, and a temporary file's name taken by a symlink."""
import os
import stat
import sys
import threading

import numpy as np
import pytest

import minivae
from minivae import checkpoint

posix = pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, symlinks and locks as on POSIX")


def test_each_kind_of_file_has_its_words(tmp_path):
    (tmp_path / "f").write_bytes(b"")
    assert checkpoint.kind_of(os.stat(tmp_path / "f").st_mode) == "a regular file"
    assert checkpoint.kind_of(os.stat(tmp_path).st_mode) == "a folder"
    assert checkpoint.kind_of(stat.S_IFIFO) == "a FIFO (named pipe)"
    assert checkpoint.kind_of(stat.S_IFSOCK) == "a socket"
    assert checkpoint.kind_of(0) == "a special file"  # a mode of no kind Python knows


def test_a_config_asking_for_terabytes_says_so_in_tebibytes(tmp_path):
    path = minivae.Autoencoder(6, (5,), 3, seed=0).save(tmp_path / "model.npz")
    with np.load(path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    text = bytes(data["__config__"]).decode().replace('"input_dim": 6', '"input_dim": 300000') \
        .replace('"hidden_dims": [5]', '"hidden_dims": [1000000]')
    data["__config__"] = np.frombuffer(text.encode(), np.uint8)
    np.savez(tmp_path / "huge.npz", **data)
    with pytest.raises(ValueError, match=r"\(2\.2 TiB\), more than the whole file \(\d\.\d KiB\) can hold"):
        minivae.load(tmp_path / "huge.npz")  # 2 × 300,000 × 1,000,000 float32 weights: 2.2 TiB


def test_a_read_of_nothing_reads_nothing(tmp_path):
    (tmp_path / "f").write_bytes(b"abc")
    with checkpoint.open_regular(str(tmp_path / "f")) as f:
        assert f.read(0) == b"" and f.read() == b"abc" and f.read() == b""


@posix
def test_a_fifo_named_like_a_temporary_file_neither_blocks_nor_goes(tmp_path):
    fifo = tmp_path / ".minivae-model.npz.0123abcd.tmp"
    os.mkfifo(fifo)
    result = []
    cleaner = threading.Thread(target=lambda: result.append(checkpoint.remove_stale_temporaries(tmp_path,
                                                                                               "model.npz")),
                               daemon=True)
    cleaner.start()
    cleaner.join(timeout=10)
    if cleaner.is_alive():  # blocked opening the FIFO: a writer's open frees it, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        cleaner.join(timeout=10)
        pytest.fail("remove_stale_temporaries blocked on a FIFO")
    assert result == [0] and fifo.exists()


@posix
def test_the_stale_temporaries_removed_are_counted(tmp_path):
    for hex8 in ("0123abcd", "89ab4567", "ffff0000"):
        (tmp_path / f".minivae-model.npz.{hex8}.tmp").write_bytes(b"half a save")
    (tmp_path / ".minivae-other.npz.0123abcd.tmp").write_bytes(b"another target's")
    assert checkpoint.remove_stale_temporaries(tmp_path, "model.npz") == 3
    assert os.listdir(tmp_path) == [".minivae-other.npz.0123abcd.tmp"]


@posix
def test_a_temporary_name_taken_by_a_symlink_is_never_written_through(tmp_path, monkeypatch):
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    os.symlink(precious, tmp_path / ".minivae-model.npz.0123abcd.tmp")
    monkeypatch.setattr(checkpoint.secrets, "token_hex", lambda n: "0123abcd")  # every name is the taken one
    with pytest.raises(FileExistsError, match="could not create a temporary file for 'model.npz'"):
        checkpoint.write_atomically(tmp_path / "model.npz", lambda f: f.write(b"new"))
    assert precious.read_text() == "keep me" and not (tmp_path / "model.npz").exists()
