"""The explorer page without a browser: what it embeds, that it reaches for nothing outside
itself, its plane and pad geometry, bad inputs, and ``python -m minivae explore``.

What the page *does* is tested in headless Chromium, in test_explorer_browser.py.
"""
from __future__ import annotations

import base64
import configparser
import contextlib
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from minivae import CVAE, VAE, Autoencoder
from minivae.cli import main
from minivae.explore import (
    ASSETS, MAX_PAGE_BYTES, choose_plane, explorer_data, explorer_html, pad_geometry, page_size, write_explorer,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = (rng.random((120, 64)) < 0.3) * rng.random((120, 64))
    return X.astype(np.float32), np.arange(120) % 10


def embedded(page):
    return json.loads(re.search(r'<script type="application/json" id="minivae-model">(.*?)</script>', page, re.S)
                      .group(1))


def floats(text):
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


# ---------------------------------------------------------------------- one file, nothing outside it
def test_the_page_is_one_file_that_reaches_for_nothing(data):
    X, y = data
    page = explorer_html(CVAE(64, 10, hidden_dims=(16,), latent_dim=3), X, y)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]*\ssrc\s*=", page, re.I), "a script loaded from elsewhere"
    assert not re.search(r"<link[^>]*rel=\"stylesheet\"", page, re.I)
    for attr in re.findall(r"\b(?:src|href)\s*=\s*[\"']([^\"']*)", page, re.I):
        assert attr.startswith("data:"), f"src/href {attr!r} points outside the page"
    for word in ("http://", "https://", "fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "import(",
                 "sendBeacon", "{{"):
        assert word not in page, word
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp and "connect-src" not in csp  # every request is refused
    scripts = 1 + sum(name.endswith(".js") for name in ASSETS)  # the data, then each .js
    assert page.count("<script") == scripts == page.count("</script>") == 6


def test_the_page_holds_the_weights_exactly_and_its_size_is_theirs(data):
    X, y = data
    model = VAE(64, hidden_dims=(32, 16), latent_dim=4, activation="leaky_relu", seed=3)
    page = explorer_html(model, X, y, n_points=100)
    record = embedded(page)
    dense = [layer for name in ("encoder", "mu", "logvar", "decoder") for layer in record["blocks"][name]
             if layer["type"] == "dense"]
    Ws = [v for k, v in model.params.items() if k.endswith(".W")]
    bs = [v for k, v in model.params.items() if k.endswith(".b")]
    assert len(dense) == len(Ws) == 7  # encoder 2, mu 1, logvar 1, decoder 3
    for layer, W, b in zip(dense, Ws, bs):
        np.testing.assert_array_equal(floats(layer["W"]).reshape(layer["in"], layer["out"]), W)
        np.testing.assert_array_equal(floats(layer["b"]), b)
    kinds = [layer["type"] for layer in record["blocks"]["encoder"] + record["blocks"]["decoder"]]
    assert kinds == ["dense", "leaky_relu", "dense", "leaky_relu", "dense", "leaky_relu", "dense", "leaky_relu",
                     "dense"]
    assert record["blocks"]["encoder"][1]["negative_slope"] == 0.01
    mu, logvar = model.encode(X[np.sort(np.random.default_rng(0).choice(120, 100, replace=False))])
    np.testing.assert_array_equal(floats(record["heldout"]["mu"]).reshape(100, 4), mu)
    np.testing.assert_array_equal(floats(record["heldout"]["logvar"]).reshape(100, 4), logvar)
    weights = 4 * model.n_params() * 4 / 3  # float32 in base64
    pixels = 100 * 64 * 4 / 3
    assert weights + pixels < len(page.encode()) < weights + pixels + 80_000


@pytest.mark.parametrize("kind, n_points", [("vae", 100), ("cvae", 120), ("vae", 1)])
def test_page_size_is_the_size_of_the_page_before_it_is_made(data, kind, n_points):
    X, y = data
    model = VAE(64, hidden_dims=(48, 16), latent_dim=5, seed=1) if kind == "vae" else \
        CVAE(64, 10, hidden_dims=(40,), latent_dim=3, seed=1)
    actual = len(explorer_html(model, X, y, n_points=n_points).encode("utf-8"))
    assert abs(page_size(model, n_points) - actual) < 3_000, (page_size(model, n_points), actual)


def test_a_page_too_large_to_open_is_refused_before_anything_is_written(data, tmp_path, monkeypatch):
    """The 784-8000-8000-50 VAE's page would be 757 MB (Chromium cannot parse it): refused, in one line."""
    import minivae.explore as explore

    X, y = data
    model = VAE(64, hidden_dims=(400,), latent_dim=2)
    size = page_size(model, 100)
    assert 200_000 < size < MAX_PAGE_BYTES
    monkeypatch.setattr(explore, "MAX_PAGE_BYTES", size - 1)
    calls = []
    monkeypatch.setattr(model, "encode", lambda *a, **k: calls.append(1))  # nothing is computed either
    with pytest.raises(ValueError) as info:
        write_explorer(model, X, y, tmp_path / "big.html", n_points=100)
    message = str(info.value)
    assert "\n" not in message and f"would be {size / 1e6:,.0f} MB" in message and \
        f"past {(size - 1) / 1e6:,.0f} MB" in message, message
    assert calls == [] and list(tmp_path.iterdir()) == []
    # the model, from its shapes alone (its weights would take 300 MB to make)
    big = type("Shapes", (), {"params": {"W": np.empty((784 + 8000 + 8000 + 50 * 2 + 8000 + 8000, 0))}})()
    big.params = {f"{i}": np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), (n,), (0,))
                  for i, n in enumerate((784 * 8000, 8000 * 8000, 8000 * 50, 8000 * 50, 50 * 8000, 8000 * 8000,
                                         8000 * 784))}
    big.input_dim, big.latent_dim = 784, 50
    assert 700e6 < page_size(big, 500) < 800e6 and page_size(big, 500) > MAX_PAGE_BYTES


def test_the_assets_are_package_data():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    patterns = cfg["options.package_data"]["minivae"]
    for name in ASSETS:
        assert (ROOT / "minivae" / "explorer" / name).is_file()
        assert f"explorer/*{Path(name).suffix}" in patterns, name


def test_the_notes_point_to_sections_that_exist():
    sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", (ROOT / "docs" / "derivations.md").read_text("utf-8"),
                              re.M))
    cited = set()
    for name in ASSETS:
        cited |= set(re.findall(r"§(\d+(?:\.\d+)?)", (ROOT / "minivae" / "explorer" / name).read_text("utf-8")))
    assert {"3.3", "5.1", "5.2", "9.1", "9.2", "9.4"} <= cited
    assert cited <= sections, cited - sections


# ---------------------------------------------------------------------- the plane and the pad
def test_the_plane_is_the_two_coordinates_where_mu_spreads_most():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((500, 5)) * np.array([0.1, 2.0, 0.3, 1.0, 0.05]) + np.array([0, 0, 0.7, 0, -1])
    dims, spread, held = choose_plane(mu)
    assert dims == [1, 3]
    np.testing.assert_allclose(spread, mu.std(axis=0))
    np.testing.assert_allclose(held, mu.mean(axis=0))
    assert choose_plane(np.zeros((3, 4)))[0] == [0, 1]  # ties: the lower index first


def test_the_page_shows_the_chosen_plane_and_holds_the_rest(data):
    X, y = data
    model = VAE(64, hidden_dims=(16,), latent_dim=6, seed=1)
    record = explorer_data(model, X, y)
    mu = model.encode(X)[0]
    assert record["plane"]["dims"] == choose_plane(mu)[0]
    assert record["plane"]["extent"] >= 3 and record["plane"]["extent"] * 2 == int(record["plane"]["extent"] * 2)
    np.testing.assert_allclose(record["plane"]["held"], mu.mean(axis=0), rtol=1e-6, atol=1e-7)


def test_pad_geometry_measures_the_size_and_centre_of_the_digits():
    X = np.zeros((3, 8, 8))
    X[:, 1:6, 2:5] = 1.0  # ink in rows 1..5, columns 2..4: 5 tall, centre of mass (3, 3)
    geometry = pad_geometry(X.reshape(3, 64), 8)
    assert geometry["box"] == 5 and geometry["center"] == [3.0, 3.0]
    assert pad_geometry(np.zeros((2, 64)), 8)["box"] > 0  # blank images: a sensible default


# ---------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("case, error, words", [
    ("an autoencoder", TypeError, "model must be a VAE or CVAE"),
    ("a 1-d code", ValueError, "latent_dim must be >= 2"),
    ("non-square images", ValueError, "input_dim must be a square number"),
    ("X a list", TypeError, "X must be an array"),
    ("X of the wrong width", ValueError, "X must have shape (n, 64)"),
    ("a CVAE without labels", TypeError, "give y"),
    ("y of the wrong length", ValueError, "y must have shape (120,)"),
    ("n_points 0", ValueError, "n_points must be an integer >= 1"),
])
def test_bad_inputs_say_what_was_expected(data, case, error, words):
    X, y = data
    model, kw = VAE(64, latent_dim=2), {}
    if case == "an autoencoder":
        model = Autoencoder(64, latent_dim=2)
    elif case == "a 1-d code":
        model = VAE(64, latent_dim=1)
    elif case == "non-square images":
        model, X = VAE(60, latent_dim=2), X[:, :60]
    elif case == "X a list":
        X = X.tolist()
    elif case == "X of the wrong width":
        X = X[:, :10]
    elif case == "a CVAE without labels":
        model, y = CVAE(64, 10, latent_dim=2), None
    elif case == "y of the wrong length":
        y = y[:5]
    else:
        kw["n_points"] = 0
    with pytest.raises(error) as info:
        write_explorer(model, X, y, "unused.html", **kw)
    assert words in str(info.value)


def test_write_explorer_writes_by_renaming_a_temporary_file(data, tmp_path):
    X, y = data
    path = write_explorer(VAE(64, latent_dim=2), X, y, tmp_path / "new" / "page.html")
    assert Path(path).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["page.html"]
    # a new page gets the mode the umask gives, as any new file does
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "new" / "page.html").stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------- the command
def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    tiny = ["--epochs", "1", "--hidden", "16", "--latent", "3", "--quiet", "--no-figures", "--seed", "1"]
    for kind in ("cvae", "ae"):
        assert run(["train", kind, "--data", "digits", *tiny, "--out", root / kind])[0] == 0
    for beta in ("1", "4"):
        assert run(["train", "vae", "--data", "digits", *tiny, "--beta", beta, "--out", root / f"vae{beta}"])[0] == 0
    return root


def test_explore_a_train_run_embeds_its_held_out_split(runs, tmp_path):
    from minivae.cli.common import load_split

    status, out, err = run(["explore", runs / "cvae", "--out", tmp_path / "cvae.html", "--points", "50"])
    assert status == 0, err
    _, X_test, _, y_test, _ = load_split("digits", test_size=0.2, seed=1)
    assert "cvae.html" in out and f"50 of the {len(X_test)} held-out examples (test_size 0.2, seed 1)" in out
    assert "10 label buttons" in out
    record = embedded((tmp_path / "cvae.html").read_text(encoding="utf-8"))
    keep = np.sort(np.random.default_rng(0).choice(len(X_test), 50, replace=False))
    assert record["heldout"]["labels"] == y_test[keep].tolist() and record["n_classes"] == 10
    pixels = np.frombuffer(base64.b64decode(record["heldout"]["pixels"]), np.uint8).reshape(50, 64)
    np.testing.assert_allclose(pixels / 255, X_test[keep], atol=0.5 / 255 + 1e-7)


def test_explore_several_runs_makes_one_page_with_a_switch(runs, tmp_path):
    from minivae import load

    page = tmp_path / "betas.html"
    status, out, err = run(["explore", runs / "vae1", runs / "vae4", "--out", page, "--points", "40"])
    assert status == 0, err
    assert "2 models" in out and "with a switch" in out
    record = embedded(page.read_text(encoding="utf-8"))
    assert [m["beta"] for m in record["models"]] == [1.0, 4.0] and "beta 4" in record["models"][1]["title"]
    for m, folder in zip(record["models"], ("vae1", "vae4")):
        model = load(runs / folder / "model.npz")
        W = floats(m["blocks"]["encoder"][0]["W"]).reshape(64, -1)
        np.testing.assert_array_equal(W, model.params["encoder.0.W"])
    assert record["models"][0]["heldout"]["pixels"] == record["models"][1]["heldout"]["pixels"]  # the same digits
    single = [len(explorer_html(load(runs / f / "model.npz"), np.zeros((40, 64)), n_points=40).encode())
              for f in ("vae1", "vae4")]
    code = sum(len((ROOT / "minivae" / "explorer" / name).read_bytes()) for name in ASSETS)
    assert abs(page.stat().st_size - (sum(single) - code)) < 0.05 * page.stat().st_size  # the code once
    status, _, err = run(["explore", runs / "vae1", runs / "vae4", "--title", "x", "--out", tmp_path / "t.html"])
    assert status == 2 and "--title names the page of one model" in err


@pytest.mark.parametrize("case, words", [
    ("ae", "holds an Autoencoder; the explorer shows the mu and sigma of a vae or cvae"),
    ("huge weights", "gives a mu or logvar that is not a finite float32 number"),
    ("lone", "give --data"),
    ("folder", "is a folder"),
    ("wrong data", "64 features per example"),
])
def test_explore_user_errors_are_one_line(runs, tmp_path, case, words):
    lone = tmp_path / "lone.npz"
    lone.write_bytes((runs / "cvae" / "model.npz").read_bytes())
    mnist = tmp_path / "mnist.npz"
    np.savez(mnist, x_train=np.zeros((4, 28, 28), np.uint8), y_train=np.arange(4),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.arange(2))
    huge = tmp_path / "huge.npz"
    model = VAE(64, hidden_dims=(8,), latent_dim=2)
    for value in model.params.values():
        value[...] = 3e38  # finite, but the encoder's sums overflow
    model.save(huge)
    argv = {"ae": [runs / "ae", "--out", tmp_path / "x.html"],
            "huge weights": [huge, "--data", "digits", "--seed", "0", "--out", tmp_path / "x.html"],
            "lone": [lone, "--out", tmp_path / "x.html"],
            "folder": [runs / "cvae", "--out", tmp_path],
            "wrong data": [runs / "cvae", "--data", mnist, "--out", tmp_path / "x.html"]}[case]
    status, out, err = run(["explore", *argv])
    assert status == 2 and err.count("\n") == 1 and err.startswith("minivae: error: ") and words in err, err
    assert not (tmp_path / "x.html").exists()
