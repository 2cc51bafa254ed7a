"""Two checkpoint refusals no other test reached: a weight in Fortran order, and a config
nested deep in objects alone or in lists alone (the rules 3 and 4 of minivae/checkpoint.py)."""
import json

import numpy as np
import pytest

import minivae
from minivae import Autoencoder
from minivae.checkpoint import MAX_DEPTH


@pytest.fixture
def saved(tmp_path):
    model = Autoencoder(6, (5,), 3, seed=7)
    return model, model.save(tmp_path / "model.npz")


def copy_with(path, out, **entries):
    """Copy the .npz ``path`` to ``out`` with some entries replaced (names as np.load lists them)."""
    with np.load(path, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    data.update(entries)
    np.savez(out, **data)
    return out


def test_a_weight_stored_in_fortran_order_is_refused(saved, tmp_path):
    model, path = saved
    W = np.asarray(model.params["encoder.0.W"])  # (6, 5): its bytes in Fortran order are W.T's in C order
    fortran = np.asfortranarray(W)
    bad = copy_with(path, tmp_path / "fortran.npz", **{"param:encoder.0.W": fortran})
    with np.load(bad) as f:  # the file says so in its header, as numpy writes an F-ordered array
        assert f["param:encoder.0.W"].flags.f_contiguous and not f["param:encoder.0.W"].flags.c_contiguous
    with pytest.raises(ValueError, match=r"parameter encoder\.0\.W is stored in Fortran order; expected C order") as info:
        minivae.load(bad)
    assert repr(str(bad)) in str(info.value)


def nested(kind, depth):
    """A JSON value nesting ``depth`` objects (``{"a":{"a":...}}``) or lists (``[[...]]``)."""
    return '{"a":' * depth + "1" + "}" * depth if kind == "objects" else "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("kind", ["objects", "lists"])
def test_a_config_nested_ten_thousand_deep_in_one_kind_of_bracket_is_a_value_error(saved, tmp_path, kind):
    _, path = saved
    with np.load(path, allow_pickle=False) as f:
        text = bytes(f["__config__"]).decode()
    deep = text.replace('"seed": 7', '"seed": ' + nested(kind, 10_000))
    assert deep != text
    bad = copy_with(path, tmp_path / "deep.npz", __config__=np.frombuffer(deep.encode(), np.uint8))
    with pytest.raises(ValueError, match=rf"its config nests 10002 deep; a checkpoint's nests at most {MAX_DEPTH}"):
        minivae.load(bad)  # 10,000 + the checkpoint object + its config; a RecursionError from json here would end the CLI in a traceback


@pytest.mark.parametrize("kind", ["objects", "lists"])
def test_one_level_past_the_limit_is_refused_and_the_limit_itself_is_not(saved, tmp_path, kind):
    _, path = saved
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(bytes(f["__config__"]).decode())
    for depth, refused in ((MAX_DEPTH - 1, False), (MAX_DEPTH, True)):  # inside the checkpoint's object: + 1
        text = json.dumps(meta).replace('"format": ', '"note": ' + nested(kind, depth) + ', "format": ')
        out = copy_with(path, tmp_path / f"depth{depth}.npz", __config__=np.frombuffer(text.encode(), np.uint8))
        if refused:
            with pytest.raises(ValueError, match=rf"nests {MAX_DEPTH + 1} deep"):
                minivae.load(out)
        else:
            assert minivae.load(out).config()["seed"] == 7  # nested 16 deep: read (the extra key is ignored)


def test_an_npy_header_of_format_2_is_read(saved, tmp_path):
    """checkpoint.read_npy_header: .npy format 2.0 (a 4-byte header length) is as valid as 1.0 (mutant: 2.0 refused)."""
    import io
    import zipfile

    model, path = saved
    out = tmp_path / "v2.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "param:encoder.0.W.npy":
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.asarray(model.params["encoder.0.W"]), version=(2, 0))
                data = buf.getvalue()
                assert data[6:8] == b"\x02\x00"  # the file says format 2.0
            dst.writestr(info, data)
    loaded = minivae.load(out)
    assert np.array_equal(loaded.params["encoder.0.W"], model.params["encoder.0.W"])
