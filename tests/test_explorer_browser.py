"""The explorer page in a real browser: headless Chromium, driven by Selenium.

One browser for the whole file. The pages are made from small models: a VAE and a CVAE
trained for a few epochs on the 8x8 digits (their latent spaces have structure to drag
through), and untrained, seeded ones for every activation, the Gaussian likelihood and
28x28 images (where only the arithmetic is under test). Skipped, with the reason, where
Chromium, chromedriver or Selenium is missing; ``.ci/run`` installs them.
"""
from __future__ import annotations

import numpy as np
import pytest

from minivae import CVAE, VAE
from minivae.datasets import load_digits, train_test_split
from minivae.explore import write_explorer

from . import browser

WHY = browser.unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"browser tests need headless Chromium: {WHY}")


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def driver():
    drv, profile = browser.start()
    drv.get("about:blank")
    browser.network_requests(drv), browser.console_messages(drv)  # what the browser did on its own
    yield drv
    browser.stop(drv, profile)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits()
    return train_test_split(X, y, test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def pages(tmp_path_factory, digits):
    """name -> (model, path of its page, held-out X, y)."""
    X_train, X_test, y_train, y_test = digits
    folder = tmp_path_factory.mktemp("explorer")
    vae = VAE(64, hidden_dims=(32,), latent_dim=3, seed=0)
    vae.fit(X_train, epochs=12, verbose=False)
    cvae = CVAE(64, 10, hidden_dims=(32,), latent_dim=2, seed=0)
    cvae.fit(X_train, y_train, epochs=4, verbose=False)
    rng = np.random.default_rng(0)
    X28 = np.zeros((40, 28, 28))
    X28[:, 4:24, 4:24] = rng.random((40, 20, 20)) * (rng.random((40, 20, 20)) < 0.3)
    X28[:, [4, 23], 4:24] = X28[:, 4:24, [4, 23]] = 1.0  # a frame of ink: the box is 20, its centre 13.5
    X28 = X28.reshape(40, 784)
    models = {"vae": (vae, X_test, y_test), "cvae": (cvae, X_test, y_test),
              "mnist-sized cvae, softplus": (CVAE(784, 10, hidden_dims=(16,), latent_dim=3, activation="softplus",
                                                  seed=2), X28, np.arange(40) % 10),
              "gaussian likelihood": (VAE(64, hidden_dims=(16,), latent_dim=2, likelihood="gaussian", sigma=0.2,
                                          seed=3), X_test, None)}
    for act in ("leaky_relu", "sigmoid", "tanh", "linear"):
        models[act] = (VAE(64, hidden_dims=(16, 8), latent_dim=2, activation=act, seed=4), X_test, y_test)
    out = {}
    for name, (model, X, y) in models.items():
        path = folder / f"{name.replace(' ', '_').replace(',', '')}.html"
        write_explorer(model, X, y, path, n_points=200)
        out[name] = (model, path, X, y)
    return out


def open_page(driver, path):
    driver.get(path.as_uri())
    started = driver.execute_script("return !!(window.minivae && window.minivae.view)")
    assert started, f"the page did not start: {browser.console_messages(driver)}"


def flush(driver):
    """Wait two animation frames: whatever the last events asked for is drawn."""
    driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")


def js(driver, code, *args):
    return driver.execute_script(code, *args)


def canvas_shows(driver, canvas_id_or_el, values):
    """True when the digit canvas shows exactly ``values`` (grey = round(255 (1 - clip(v))))."""
    return js(driver, """
        const c = typeof arguments[0] === 'string' ? document.getElementById(arguments[0]) : arguments[0];
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, v = arguments[1];
        if (d.length !== 4 * v.length) return false;
        return v.every((x, i) => d[4 * i] === Math.round(255 * (1 - Math.min(1, Math.max(0, x)))));
    """, canvas_id_or_el, list(values))


def canvas_data(driver, canvas_id):
    return js(driver, "const c = document.getElementById(arguments[0]);"
                      "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);", canvas_id)


def state(driver, key):
    return js(driver, f"const v = minivae.view.state.{key}; return v && Array.from(v);")


def float64_copy(model):
    """The same model with its weights in float64: what the page computes, without float32 rounding."""
    m64 = type(model)(**{**model.config(), "dtype": "float64"})
    for name, value in model.params.items():
        m64.params[name][...] = value
    return m64


def drag(driver, element, points):
    """Press at ``points[0]`` (pixels from the element's centre), move through the rest, release."""
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver, duration=0).move_to_element_with_offset(element, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        chain = chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()
    flush(driver)


def element(driver, id_):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, id_)


# ---------------------------------------------------------------------- the JavaScript contract
@pytest.mark.parametrize("name", ["vae", "cvae", "mnist-sized cvae, softplus", "gaussian likelihood",
                                  "leaky_relu", "sigmoid", "tanh", "linear"])
def test_encode_and_decode_equal_numpy(driver, pages, name):
    model, path, X, _ = pages[name]
    open_page(driver, path)
    rng = np.random.default_rng(1)
    n = 30
    Xq = np.concatenate([X[:n - 2], np.zeros((1, X.shape[1])), np.ones((1, X.shape[1]))]).astype(np.float64)
    Z = rng.standard_normal((n, model.latent_dim)) * np.linspace(0.1, 8.0, n)[:, None]  # to large |logits|
    cvae = isinstance(model, CVAE)
    labels = [int(c) for c in rng.integers(0, model.n_classes if cvae else 1, n)]
    got = js(driver, "return arguments[0].map((x, i) => minivae.encode(x, arguments[1][i]))", Xq.tolist(), labels)
    got_x = np.array(js(driver, "return arguments[0].map((z, i) => minivae.decode(z, arguments[1][i]))",
                        Z.tolist(), labels))
    extra = (np.array(labels),) if cvae else ()
    for reference, tol in ((model, 1e-5), (float64_copy(model), 1e-10)):
        mu, logvar = reference.encode(Xq.astype(reference.dtype), *extra)
        x_mean = reference.decode(Z.astype(reference.dtype), *extra)
        np.testing.assert_allclose([g["mu"] for g in got], mu, rtol=tol, atol=tol)
        np.testing.assert_allclose([g["logvar"] for g in got], logvar, rtol=tol, atol=tol)
        np.testing.assert_allclose(got_x, x_mean, rtol=tol, atol=tol)
    assert got_x.shape == (n, model.input_dim)


def test_the_contract_refuses_bad_input_with_a_message(driver, pages):
    open_page(driver, pages["cvae"][1])
    catch = "try { {call}; return 'no error'; } catch (e) { return e.name + ': ' + e.message; }"
    cases = {"minivae.decode([0.5], 3)": "RangeError: z must hold 2 numbers; got 1",
             "minivae.decode([0, 0], 10)": "RangeError: label must be a whole number in [0, 10)",
             "minivae.decode([0, 0], 1.5)": "RangeError: label must be a whole number in [0, 10)",
             "minivae.encode(null, 0)": "TypeError: pixels must be an array of 64 numbers",
             "minivae.encode(new Array(64).fill(NaN), 0)": "RangeError: pixels[0] must be a finite number"}
    for call, message in cases.items():
        assert js(driver, catch.replace("{call}", call)).startswith(message), call


# ---------------------------------------------------------------------- the controls
def test_dragging_over_the_plane_decodes_the_code_under_the_pointer(driver, pages):
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    plane = element(driver, "plane")
    before = canvas_data(driver, "decoded")
    drag(driver, plane, [(-150, 120), (-60, 60), (70, -40)])
    after = canvas_data(driver, "decoded")
    assert after != before, "the decoded digit did not change while dragging"
    info = js(driver, "return minivae.info.plane")
    (pa, pb), R = info["dims"], info["extent"]
    z = np.array(state(driver, "z"))
    one_pixel = 2 * R / 460
    assert abs(z[pa] - 70 / 230 * R) <= one_pixel and abs(z[pb] - 40 / 230 * R) <= one_pixel, z
    held = [j for j in range(model.latent_dim) if j not in (pa, pb)]
    np.testing.assert_allclose(z[held], np.array(info["held"])[held])
    decoded = model.decode(z[None].astype(np.float32))[0]
    assert canvas_shows(driver, "decoded", decoded.tolist()) or \
        np.abs(np.array(state(driver, "decoded")) - decoded).max() < 1e-5 and \
        canvas_shows(driver, "decoded", state(driver, "decoded"))


def test_a_slider_moves_a_held_coordinate(driver, pages):
    open_page(driver, pages["vae"][1])
    drag(driver, element(driver, "plane"), [(10, 10), (20, 20)])
    before = state(driver, "decoded")
    j = js(driver, """const s = document.querySelector('#held input'); s.value = '2.5';
                      s.dispatchEvent(new Event('input')); return Number(s.getAttribute('aria-label').slice(2, -1));""")
    flush(driver)
    assert state(driver, "z")[j] == 2.5 and state(driver, "held")[j] == 2.5
    assert state(driver, "decoded") != before


def magenta_pixels(driver):
    """Pixels of the plane in the colour of the drawn cloud (its mu, its ellipses, its samples)."""
    return js(driver, """const c = document.getElementById('plane');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (Math.abs(d[i] - 194) + Math.abs(d[i + 1] - 24) + Math.abs(d[i + 2] - 91) < 12) n++;  // #c2185b
        }
        return n;""")


def test_a_stroke_on_the_pad_moves_mu_and_draws_its_cloud(driver, pages):
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    assert magenta_pixels(driver) == 0 and js(driver, "return minivae.view.state.cloud") is None
    pad = element(driver, "pad")
    drag(driver, pad, [(0, -80), (0, -40), (0, 0), (0, 40), (0, 80)])  # a "1"
    mu_1 = np.array(js(driver, "return Array.from(minivae.view.state.cloud.mu)"))
    seen = np.array(state(driver, "seen"))
    assert seen.min() >= 0 and seen.max() <= 1 and seen.sum() > 2, "the encoder saw no ink"
    np.testing.assert_allclose(mu_1, model.encode(seen[None].astype(np.float32))[0][0], atol=1e-5)
    assert canvas_shows(driver, "seen", seen.tolist())
    assert magenta_pixels(driver) > 100, "no mu and no ellipses on the plane"
    drag(driver, pad, [(-70, -80), (60, -80), (0, 80)])  # and a stroke that makes it a "7"
    mu_2 = np.array(js(driver, "return Array.from(minivae.view.state.cloud.mu)"))
    assert np.abs(mu_2 - mu_1).max() > 0.05, (mu_1, mu_2)
    np.testing.assert_allclose(state(driver, "z"), mu_2)  # panel 2 shows the drawing's reconstruction
    element(driver, "clear").click()
    flush(driver)
    assert js(driver, "return minivae.view.state.cloud") is None and magenta_pixels(driver) == 0


def test_the_pad_scales_and_centres_a_drawing_like_the_digits(driver, pages):
    _, path, X, _ = pages["mnist-sized cvae, softplus"]  # its digits: ink in rows and columns 4..23
    open_page(driver, path)
    geometry = js(driver, "return minivae.data.pad")
    assert geometry["box"] == 20 and np.allclose(geometry["center"], 13.5, atol=0.3), geometry
    pad = element(driver, "pad")
    drag(driver, pad, [(30, -60), (30, 0), (30, 60)])  # a short "1", off to the right
    img = np.array(state(driver, "seen")).reshape(28, 28)
    rows = np.flatnonzero(img.max(axis=1) > 0.25)
    assert abs(rows[-1] - rows[0] + 1 - geometry["box"]) <= 1, rows  # as tall as the digits' box
    drag(driver, pad, [(-40, -60), (30, -60)])  # a bar on top: its centre of mass is now high and right
    img = np.array(state(driver, "seen")).reshape(28, 28)
    centre = [img.sum(axis=1) @ np.arange(28) / img.sum(), img.sum(axis=0) @ np.arange(28) / img.sum()]
    np.testing.assert_allclose(centre, geometry["center"], atol=0.15)  # moved to the digits' centre


def test_sample_draws_z_equal_mu_plus_sigma_times_standard_normal_noise(driver, pages):
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    drag(driver, element(driver, "pad"), [(-40, -60), (40, -60), (40, 0), (-40, 0), (-40, 60), (40, 60)])
    cloud = js(driver, "const c = minivae.view.state.cloud; return [Array.from(c.mu), Array.from(c.logvar)]")
    mu, logvar = np.array(cloud[0]), np.array(cloud[1])
    presses = js(driver, """const button = document.getElementById('sample'), out = [];
        for (let i = 0; i < 25; i++) { button.click(); out.push(minivae.view.state.samples.map((z) => Array.from(z))); }
        return out;""")
    Z = np.array(presses)
    assert Z.shape == (25, 8, model.latent_dim)
    eps = ((Z - mu) / np.exp(0.5 * logvar)).reshape(-1, model.latent_dim)  # should be N(0, I), 200 draws
    Z = Z[-1]
    flush(driver)
    sigma = np.exp(0.5 * logvar)
    assert sigma.min() < 0.5, f"sigma {sigma}: too close to 1 to tell exp(logvar / 2) from exp(logvar)"
    assert np.all(np.abs(eps.mean(axis=0)) < 0.25) and np.all(np.abs(eps.std(axis=0) - 1) < 0.15), \
        (eps.mean(axis=0), eps.std(axis=0))
    strip = driver.find_elements("css selector", "#samples canvas")
    assert len(strip) == 8
    last = model.decode(Z.astype(np.float32))
    assert all(np.abs(np.array(js(driver, "return Array.from(minivae.decodeFast(arguments[0], 0))", z.tolist()))
                      - x).max() < 1e-5 for z, x in zip(Z, last))
    assert canvas_shows(driver, strip[3], js(driver, "return Array.from(minivae.decodeFast(arguments[0], 0))",
                                              Z[3].tolist()))


def test_the_cvae_label_buttons_change_the_digit_and_not_the_code(driver, pages):
    model, path, _, _ = pages["cvae"]
    open_page(driver, path)
    drag(driver, element(driver, "plane"), [(30, 30), (40, 20)])
    z = state(driver, "z")
    shown = {}
    for label in (1, 7):
        driver.find_element("css selector", f"#label-buttons button[data-label='{label}']").click()
        flush(driver)
        assert js(driver, "return minivae.view.state.label") == label
        assert state(driver, "z") == z
        shown[label] = canvas_data(driver, "decoded")
        expected = model.decode(np.array([z], dtype=np.float32), np.array([label]))[0]
        assert np.abs(np.array(state(driver, "decoded")) - expected).max() < 1e-5
    assert shown[1] != shown[7]
    strip = driver.find_elements("css selector", "#every-label canvas")
    assert len(strip) == 10
    for c in (0, 4, 9):
        assert canvas_shows(driver, strip[c], js(driver, "return Array.from(minivae.decodeFast(arguments[0], arguments[1]))",
                                                  z, c))


def test_the_walk_decodes_the_straight_line_from_a_to_b(driver, pages):
    model, path, _, _ = pages["cvae"]
    open_page(driver, path)
    element(driver, "walk").click()
    plane = element(driver, "plane")
    drag(driver, plane, [(-200, -200), (-200, -200)])
    drag(driver, plane, [(200, 190), (200, 190)])
    walk = js(driver, "const w = minivae.view.state.walk; return [w.picking, Array.from(w.A), Array.from(w.B)]")
    assert walk[0] == 0
    A, B = np.array(walk[1]), np.array(walk[2])
    pa, pb = js(driver, "return minivae.info.plane.dims")
    assert A[pa] < -2 and A[pb] > 2 and B[pa] > 2 and B[pb] < -2, (A, B)  # top left, bottom right
    strip = driver.find_elements("css selector", "#walk-strip canvas")
    assert len(strip) == 10
    label = js(driver, "return minivae.view.state.label")
    for s in (0, 4, 9):
        z = A + s / 9 * (B - A)
        x = model.decode(z[None].astype(np.float32), np.array([label]))[0]
        pixels = js(driver, "return Array.from(minivae.decodeFast(arguments[0], arguments[1]))", z.tolist(), label)
        assert np.abs(np.array(pixels) - x).max() < 1e-5 and canvas_shows(driver, strip[s], pixels)


# ---------------------------------------------------------------------- no network, no errors
def test_the_page_makes_no_request_and_logs_no_error(driver, pages):
    path = pages["cvae"][1]
    browser.network_requests(driver), browser.console_messages(driver)  # forget the earlier tests
    open_page(driver, path)
    plane, pad = element(driver, "plane"), element(driver, "pad")
    drag(driver, plane, [(-100, -100), (0, 0), (100, 50)])
    drag(driver, pad, [(0, -80), (0, 80)])
    element(driver, "sample").click()
    driver.find_element("css selector", "#label-buttons button[data-label='3']").click()
    element(driver, "walk").click()
    drag(driver, plane, [(-50, 0), (-50, 0)])
    drag(driver, plane, [(50, 0), (50, 0)])
    element(driver, "clear").click()
    flush(driver)
    requests = [u for u in browser.network_requests(driver) if not u.startswith("data:")]
    assert requests == [path.as_uri()], requests
    messages = browser.console_messages(driver)
    assert messages == [], messages


def test_the_benchmark_measures_frames_while_dragging(driver, pages):
    """benchmarks/explorer_fps.py's measurement, on one page (its numbers are not asserted)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "explorer_fps", Path(__file__).resolve().parents[1] / "benchmarks" / "explorer_fps.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fps, ms, uncapped = bench.measure(driver, pages["cvae"][1], seconds=0.3, moves=20, repeats=1)
    assert fps > 0 and ms > 0 and uncapped > 0
    assert js(driver, "return minivae.view.stats().frames") >= 20  # each move was drawn
