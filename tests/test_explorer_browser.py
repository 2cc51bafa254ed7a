"""The explorer page in a real browser: headless Chromium, driven by Selenium.

One browser for the whole file. The pages are made from small models: a VAE and a CVAE
trained for a few epochs on the 8x8 digits (their latent spaces have structure to drag
through), and untrained, seeded ones for every activation, the Gaussian likelihood and
28x28 images (where only the arithmetic is under test). Skipped, with the reason, where
Chromium, chromedriver or Selenium is missing; ``.ci/run`` installs them.
"""
from __future__ import annotations

import contextlib

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
    models["latent 8"] = (VAE(64, hidden_dims=(16,), latent_dim=8, seed=5), X_test, y_test)
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


def derived(driver, key):
    """What the page draws from its state: ``z``, ``decoded``, ``cloud.mu``, ..."""
    return js(driver, f"const v = minivae.view.derived().{key}; return v && Array.from(v);")


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


@contextlib.contextmanager
def viewport(driver, width, height, phone=False):
    """The page at ``width`` x ``height`` CSS pixels; ``phone``: a mobile screen (3 device pixels
    per CSS pixel) with touch input, as Chromium's device emulation makes it. Reloads nothing."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 3 if phone else 1, "mobile": phone})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone, "maxTouchPoints": 5})
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})


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
    z = np.array(derived(driver, "z"))
    half = js(driver, "return document.getElementById('plane').clientWidth") / 2  # CSS pixels
    one_pixel = R / half
    assert abs(z[pa] - 70 / half * R) <= one_pixel and abs(z[pb] - 40 / half * R) <= one_pixel, z
    held = [j for j in range(model.latent_dim) if j not in (pa, pb)]
    np.testing.assert_allclose(z[held], np.array(info["held"])[held])
    decoded = model.decode(z[None].astype(np.float32))[0]
    shown = np.array(derived(driver, "decoded"))
    assert np.abs(shown - decoded).max() < 1e-5 and canvas_shows(driver, "decoded", shown.tolist())


def move_slider(driver, value):
    j = js(driver, """const s = document.querySelector('#held input'); s.value = String(arguments[0]);
                      s.dispatchEvent(new Event('input')); return Number(s.getAttribute('aria-label').slice(2, -1));""",
           value)
    flush(driver)
    return j


def test_a_slider_moves_a_coordinate_off_the_plane(driver, pages):
    open_page(driver, pages["vae"][1])
    drag(driver, element(driver, "plane"), [(10, 10), (20, 20)])
    before = derived(driver, "decoded")
    j = move_slider(driver, 2.5)
    assert derived(driver, "z")[j] == 2.5 and derived(driver, "decoded") != before


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
    assert magenta_pixels(driver) == 0 and js(driver, "return minivae.view.derived().cloud") is None
    pad = element(driver, "pad")
    drag(driver, pad, [(0, -80), (0, -40), (0, 0), (0, 40), (0, 80)])  # a "1"
    mu_1 = np.array(derived(driver, "cloud.mu"))
    seen = np.array(derived(driver, "x"))
    assert seen.min() >= 0 and seen.max() <= 1 and seen.sum() > 2, "the encoder saw no ink"
    np.testing.assert_allclose(mu_1, model.encode(seen[None].astype(np.float32))[0][0], atol=1e-5)
    assert canvas_shows(driver, "seen", seen.tolist())
    assert magenta_pixels(driver) > 100, "no mu and no ellipses on the plane"
    drag(driver, pad, [(-70, -80), (60, -80), (0, 80)])  # and a stroke that makes it a "7"
    mu_2 = np.array(derived(driver, "cloud.mu"))
    assert np.abs(mu_2 - mu_1).max() > 0.05, (mu_1, mu_2)
    np.testing.assert_allclose(derived(driver, "z"), mu_2)  # panel 2 shows the drawing's reconstruction
    element(driver, "clear").click()
    flush(driver)
    assert js(driver, "return minivae.view.derived().cloud") is None and magenta_pixels(driver) == 0


def test_the_pad_scales_and_centres_a_drawing_like_the_digits(driver, pages):
    _, path, X, _ = pages["mnist-sized cvae, softplus"]  # its digits: ink in rows and columns 4..23
    open_page(driver, path)
    geometry = js(driver, "return minivae.data.pad")
    assert geometry["box"] == 20 and np.allclose(geometry["center"], 13.5, atol=0.3), geometry
    pad = element(driver, "pad")
    drag(driver, pad, [(30, -60), (30, 0), (30, 60)])  # a short "1", off to the right
    img = np.array(derived(driver, "x")).reshape(28, 28)
    rows = np.flatnonzero(img.max(axis=1) > 0.25)
    assert abs(rows[-1] - rows[0] + 1 - geometry["box"]) <= 1, rows  # as tall as the digits' box
    drag(driver, pad, [(-40, -60), (30, -60)])  # a bar on top: its centre of mass is now high and right
    img = np.array(derived(driver, "x")).reshape(28, 28)
    centre = [img.sum(axis=1) @ np.arange(28) / img.sum(), img.sum(axis=0) @ np.arange(28) / img.sum()]
    np.testing.assert_allclose(centre, geometry["center"], atol=0.15)  # moved to the digits' centre


def test_sample_draws_z_equal_mu_plus_sigma_times_standard_normal_noise(driver, pages):
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    drag(driver, element(driver, "pad"), [(-40, -60), (40, -60), (40, 0), (-40, 0), (-40, 60), (40, 60)])
    cloud = js(driver, "const c = minivae.view.derived().cloud; return [Array.from(c.mu), Array.from(c.logvar)]")
    mu, logvar = np.array(cloud[0]), np.array(cloud[1])
    presses = js(driver, """const button = document.getElementById('sample'), out = [];
        for (let i = 0; i < 25; i++) {
            button.click(); out.push(minivae.view.derived().samples.map((s) => Array.from(s.z)));
        }
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
    z = derived(driver, "z")
    shown = {}
    for label in (1, 7):
        driver.find_element("css selector", f"#label-buttons button[data-label='{label}']").click()
        flush(driver)
        assert js(driver, "return minivae.view.state.label") == label
        assert derived(driver, "z") == z
        shown[label] = canvas_data(driver, "decoded")
        expected = model.decode(np.array([z], dtype=np.float32), np.array([label]))[0]
        assert np.abs(np.array(derived(driver, "decoded")) - expected).max() < 1e-5
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


# ---------------------------------------------------------------------- the numbers
def embedded_pixels(driver, k):
    """The k-th held-out digit's pixels as the page holds them (uint8 / 255)."""
    return np.array(js(driver, """const M = minivae, D = M.info.input_dim, k = arguments[0];
        return Array.from(M.bytesFromBase64(M.data.heldout.pixels).subarray(k * D, (k + 1) * D), (v) => v / 255);""",
                       k))


def numpy_terms(model, x, label, eps):
    """kl, its coordinates, recon = -log p(x | z) and the ELBO at z = mu + exp(logvar / 2) eps, from minivae's ops."""
    from minivae import bce_with_logits, kl_standard_normal

    x, eps = x[None].astype(model.dtype), eps[None].astype(model.dtype)
    y = (np.array([label]),) if isinstance(model, CVAE) else ()
    mu, logvar = model.encode(x, *y)
    z = mu + np.exp(0.5 * logvar) * eps
    kl = kl_standard_normal(mu, logvar)[0]
    c = np.eye(model.n_classes, dtype=model.dtype)[[label]] if y else np.zeros((1, 0), model.dtype)
    out = model.decoder.forward(np.concatenate([z, c], axis=1))
    if model.likelihood == "bernoulli":
        recon = bce_with_logits(out, x)[0]
    else:
        recon = ((x - out) ** 2).sum() / (2 * model.sigma ** 2) + 0.5 * x.size * np.log(2 * np.pi * model.sigma ** 2)
    terms, _ = model.loss_terms_and_grads(x, *y, eps=eps, grads=False)
    np.testing.assert_allclose([terms["kl"], terms["recon"]], [kl, recon], rtol=1e-6)  # the same maths twice
    per_dim = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar)[0]
    return {"kl": float(kl), "klPerDim": per_dim, "recon": float(recon), "elbo": float(-recon - kl)}


@pytest.mark.parametrize("name", ["vae", "cvae", "gaussian likelihood", "mnist-sized cvae, softplus"])
def test_terms_equal_the_numpy_kl_likelihood_and_elbo(driver, pages, name):
    model, path, _, _ = pages[name]
    open_page(driver, path)
    rng = np.random.default_rng(2)
    C = model.n_classes if isinstance(model, CVAE) else 1
    for k, scale in ((0, 0.0), (5, 1.0), (17, 2.5)):
        x = embedded_pixels(driver, k)
        eps, label = rng.standard_normal(model.latent_dim) * scale, int(rng.integers(C))
        got = js(driver, "return minivae.terms(arguments[0], arguments[1], arguments[2])", x.tolist(), label, eps.tolist())
        assert got["elbo"] == -got["recon"] - got["kl"]
        for reference, tol in ((model, 2e-5), (float64_copy(model), 1e-9)):
            want = numpy_terms(reference, x, label, eps)
            for term in ("kl", "recon", "elbo"):
                assert got[term] == pytest.approx(want[term], rel=tol, abs=tol), (term, k, reference.dtype)
            np.testing.assert_allclose(got["klPerDim"], want["klPerDim"], rtol=tol, atol=tol)
    assert js(driver, "try { minivae.terms(new Array(arguments[0]).fill(0), 0, [1]); } catch (e) { return e.message; }",
              model.input_dim).startswith(f"eps must hold {model.latent_dim} numbers")


def cell_numbers(driver, table_id):
    rows = js(driver, "return Array.from(document.getElementById(arguments[0]).rows,"
                      " (r) => Array.from(r.cells, (c) => c.textContent))", table_id)
    return [[float(c.replace("\u2212", "-")) if c and c[-1].isdigit() and c[0] in "\u22120123456789" else c
             for c in row] for row in rows]


def plane_dims(driver):
    return js(driver, "return minivae.info.plane.dims"), js(driver, "return minivae.info.plane.extent")


def take_dot(driver, k):
    """Click the k-th held-out digit's dot, as a learner would."""
    (pa, pb), R = plane_dims(driver)
    mu = js(driver, "return Array.from(minivae.view.heldMuOf(arguments[0]))", k)
    plane = element(driver, "plane")
    half = js(driver, "return document.getElementById('plane').clientWidth") / 2
    point = (round(mu[pa] / R * half), round(-mu[pb] / R * half))
    drag(driver, plane, [point, point])
    assert js(driver, "return minivae.view.state.source") == k, "the click did not take the dot"
    return np.array(mu)


def ellipse_reach(driver):
    """How far the cloud's drawing reaches from mu along the plane's rows and columns, in canvas pixels.

    The plane is drawn with the cloud and again without it (same z): the pixels that differ
    are the cloud's. Its outermost pixels on mu's row and column are the 2-sigma ellipse's.
    """
    return js(driver, """const V = minivae.view, c = document.getElementById('plane'), ctx = c.getContext('2d');
        const d = V.derived(), [pa, pb] = minivae.info.plane.dims, saved = [V.state.source, V.state.zFrom, V.state.z];
        const [cx, cy] = V.plane.toCanvas(d.cloud.mu[pa], d.cloud.mu[pb]);
        V.state.z = Float64Array.from(d.z); V.state.zFrom = 'keys'; V.renderNow();
        const a = ctx.getImageData(0, 0, c.width, c.height).data;
        V.state.source = null; V.renderNow();
        const b = ctx.getImageData(0, 0, c.width, c.height).data;
        [V.state.source, V.state.zFrom, V.state.z] = saved; V.renderNow();
        const differs = (x, y) => { const i = 4 * (y * c.width + x); return Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) > 30; };
        let rx = 0, ry = 0;
        for (let x = 0; x < c.width; x++) if (differs(x, Math.round(cy))) rx = Math.max(rx, Math.abs(x + 0.5 - cx));
        for (let y = 0; y < c.height; y++) if (differs(Math.round(cx), y)) ry = Math.max(ry, Math.abs(y + 0.5 - cy));
        return [rx, ry, c.width];""")


def test_the_page_shows_sigma_as_exp_of_half_logvar_in_the_table_and_the_ellipses(driver, pages):
    """sigma = exp(logvar / 2): the table's numbers and the ellipses' size against NumPy (not the variance)."""
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    n = js(driver, "return minivae.data.heldout.n")
    X = np.array([embedded_pixels(driver, k) for k in range(n)])
    mu, logvar = float64_copy(model).encode(X)
    (pa, pb), R = plane_dims(driver)
    sigma = np.exp(0.5 * logvar)
    # the dot whose sigma on the plane is farthest from 1 (where sigma and sigma^2 differ most) and not tiny
    k = int(np.argmax(np.abs(np.log(sigma[:, [pa, pb]])).min(axis=1) * (sigma[:, [pa, pb]].min(axis=1) > 0.12)))
    take_dot(driver, k)
    rows = cell_numbers(driver, "posterior")
    assert rows[0] == ["", "μ", "σ", "KL (nats)"] and len(rows) == model.latent_dim + 2
    np.testing.assert_allclose([r[1] for r in rows[1:-1]], mu[k], atol=6e-4)
    np.testing.assert_allclose([r[2] for r in rows[1:-1]], sigma[k], atol=6e-4)
    kl = 0.5 * (mu[k] ** 2 + np.exp(logvar[k]) - 1 - logvar[k])
    np.testing.assert_allclose([r[3] for r in rows[1:-1]], kl, atol=6e-4)
    assert rows[-1][3] == pytest.approx(kl.sum(), abs=6e-4)
    assert np.abs(sigma[k, [pa, pb]] - np.exp(logvar[k, [pa, pb]])).min() > 0.05  # the test can tell them apart
    rx, ry, P = ellipse_reach(driver)
    scale = P / (2 * R)  # canvas pixels per unit of z
    assert abs(rx - 2 * sigma[k, pa] * scale) <= 2 and abs(ry - 2 * sigma[k, pb] * scale) <= 2, \
        (rx, ry, 2 * sigma[k, [pa, pb]] * scale)
    caption = js(driver, "return document.getElementById('inset-caption').textContent")
    half = 3 * sigma[k, [pa, pb]].max()
    assert f"±{half:.2g}" in caption, caption


def test_each_sample_is_listed_with_its_eps_z_and_elbo(driver, pages):
    model, path, _, _ = pages["cvae"]
    open_page(driver, path)
    k = 7
    take_dot(driver, k)
    element(driver, "sample").click()
    flush(driver)
    label = js(driver, "return minivae.view.state.label")
    assert label == js(driver, "return minivae.data.heldout.labels[arguments[0]]", k)  # encoded with its label
    x = embedded_pixels(driver, k)
    eps = np.array(js(driver, "return minivae.view.state.eps.map((e) => Array.from(e))"))
    rows = cell_numbers(driver, "sample-table")
    assert len(rows) == 1 + 8 == len(eps) + 1
    m64 = float64_copy(model)
    mu, logvar = m64.encode(x[None], np.array([label]))
    for s in (0, 5):
        want = numpy_terms(m64, x, label, eps[s])
        z = mu[0] + np.exp(0.5 * logvar[0]) * eps[s]
        assert rows[1 + s][1] == "(" + ", ".join(f"{v:.2f}" for v in eps[s]).replace("-", "\u2212") + ")"
        assert rows[1 + s][2] == "(" + ", ".join(f"{v:.2f}" for v in z).replace("-", "\u2212") + ")"
        assert rows[1 + s][3] == pytest.approx(want["recon"], abs=0.006)
        assert rows[1 + s][4] == pytest.approx(want["elbo"], abs=0.006)
    at_mu = numpy_terms(m64, x, label, np.zeros(2))
    line = js(driver, "return document.getElementById('elbo-line').textContent")
    assert f"−log p(x | z) = {at_mu['recon']:.2f} nats" in line, line
    assert f"= {at_mu['elbo']:.2f} nats".replace("-", "\u2212") in line, line


def test_the_decoded_mean_has_a_bernoulli_sample_beside_it(driver, pages):
    open_page(driver, pages["vae"][1])
    drag(driver, element(driver, "plane"), [(20, -30), (25, -35)])
    mean, draw = np.array(derived(driver, "decoded")), np.array(derived(driver, "draw"))
    assert set(np.unique(draw)) <= {0.0, 1.0} and canvas_shows(driver, "draw", draw.tolist())
    assert np.all(draw[mean < 1e-6] == 0) and np.all(draw[mean > 1 - 1e-6] == 1)
    element(driver, "redraw").click()
    flush(driver)
    assert np.array_equal(derived(driver, "decoded"), mean)  # the same mean, drawn again


# ---------------------------------------------------------------------- every view follows the one state
def test_a_new_label_re_encodes_the_cloud_and_redraws_its_samples(driver, pages):
    """The bug: a held-out 2's cloud, sampled under the selected label 0, showed 0s."""
    model, path, _, _ = pages["cvae"]
    open_page(driver, path)
    labels = js(driver, "return minivae.data.heldout.labels")
    k = labels.index(2)
    take_dot(driver, k)
    element(driver, "sample").click()
    flush(driver)
    assert js(driver, "return minivae.view.state.label") == 2  # the dot's own label
    driver.find_element("css selector", "#label-buttons button[data-label='5']").click()
    flush(driver)
    x = embedded_pixels(driver, k)
    mu, logvar = float64_copy(model).encode(x[None], np.array([5]))  # the same digit, told it is a 5
    np.testing.assert_allclose(derived(driver, "cloud.mu"), mu[0], atol=1e-5)
    eps = np.array(js(driver, "return minivae.view.state.eps.map((e) => Array.from(e))"))
    strip = driver.find_elements("css selector", "#samples canvas")
    for s in (0, 3, 7):
        z = mu[0] + np.exp(0.5 * logvar[0]) * eps[s]
        want = model.decode(z[None].astype(np.float32), np.array([5]))[0]
        shown = js(driver, "return Array.from(minivae.view.derived().samples[arguments[0]].mean)", s)
        assert np.abs(np.array(shown) - want).max() < 1e-5 and canvas_shows(driver, strip[s], shown)
    assert "told it is a 5" in js(driver, "return document.getElementById('posterior-note').textContent")
    np.testing.assert_allclose(derived(driver, "z"), mu[0], atol=1e-5)  # z = the new mu, decoded under 5


def test_the_nearest_digit_is_the_nearest_to_z_wherever_z_comes_from(driver, pages):
    open_page(driver, pages["vae"][1])
    (pa, pb), R = plane_dims(driver)
    n = js(driver, "return minivae.data.heldout.n")
    mus = np.array(js(driver, "return Array.from(minivae.view.consts.heldMu)")).reshape(n, -1)[:, [pa, pb]]

    def shown():
        note = js(driver, "return document.getElementById('nearest-note').textContent")
        k = js(driver, "return minivae.view.derived().nearest.k")
        return k, note

    half = js(driver, "return document.getElementById('plane').clientWidth") / 2
    plane = element(driver, "plane")
    drag(driver, plane, [(0, 0), (int(half) - 2, -int(half) + 2)])  # from the centre to the top-right corner
    z = np.array(derived(driver, "z"))[[pa, pb]]
    k, note = shown()
    assert z[0] > R - 0.1 and z[1] > R - 0.1
    assert k == int(np.argmin(((mus - z) ** 2).sum(axis=1))), "not the dot nearest the corner"
    assert f"{np.sqrt(((mus[k] - z) ** 2).sum()):.2f} from z" in note, note
    drag(driver, element(driver, "pad"), [(0, -80), (0, 80)])  # a drawing: z is now its mu
    z = np.array(derived(driver, "z"))[[pa, pb]]
    assert shown()[0] == int(np.argmin(((mus - z) ** 2).sum(axis=1)))
    assert "never trained" not in js(driver, "return document.getElementById('z-note').textContent")


def test_after_drawing_the_sliders_still_move_z_and_the_digit(driver, pages):
    """The bug: after drawing, the sliders changed the held values but not the decoded digit."""
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    drag(driver, element(driver, "pad"), [(-40, -60), (40, -60), (-30, 70)])
    assert "μ of your drawing" in js(driver, "return document.getElementById('z-note').textContent")
    j = move_slider(driver, -1.5)
    z = np.array(derived(driver, "z"))
    assert z[j] == -1.5
    decoded = model.decode(z[None].astype(np.float32))[0]
    assert np.abs(np.array(derived(driver, "decoded")) - decoded).max() < 1e-5
    assert canvas_shows(driver, "decoded", derived(driver, "decoded"))
    assert "sliders" in js(driver, "return document.getElementById('z-note').textContent")


def test_an_8_number_code_fits_and_nothing_jumps_while_dragging(driver, pages):
    with viewport(driver, 1280, 800):
        open_page(driver, pages["latent 8"][1])
        fits_and_stays(driver)


def fits_and_stays(driver):
    drag(driver, element(driver, "pad"), [(0, -80), (10, 80)])
    element(driver, "sample").click()
    flush(driver)
    assert js(driver, "return document.documentElement.scrollWidth") <= js(driver, "return innerWidth")
    top = "return document.getElementById('walk-panel').getBoundingClientRect().top"
    tops = {js(driver, top)}
    for point in [(0, 0), (120, -60), (200, 200), (-30, 40)]:  # the pointer moves on over the plane
        js(driver, """const c = document.getElementById('plane'), r = c.getBoundingClientRect();
            c.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, pointerType: 'mouse',
                clientX: r.left + r.width / 2 + arguments[0], clientY: r.top + r.height / 2 + arguments[1]}));""", *point)
        flush(driver)
        tops.add(js(driver, top))
    assert js(driver, "return minivae.view.state.source") == "drawing" and len(tops) == 1, tops
    captions = js(driver, "return Array.from(document.querySelectorAll('#walk-strip figcaption'), (c) => c.textContent)")
    assert len(captions) == 10 and not any(c.strip().isdigit() for c in captions), captions


def test_a_point_far_outside_the_prior_says_so(driver, pages):
    open_page(driver, pages["vae"][1])
    half = js(driver, "return document.getElementById('plane').clientWidth") / 2
    drag(driver, element(driver, "plane"), [(-int(half) + 2, int(half) - 2)] * 2)  # the bottom-left corner
    note = js(driver, "return document.getElementById('z-note').textContent")
    z = np.array(derived(driver, "z"))
    assert f"{100 * np.exp(-0.5 * z @ z):.2g} % of its peak" in note and "never trained" in note, note
    element(driver, "prior").click()
    flush(driver)
    assert js(driver, "return minivae.view.state.zFrom") == "prior"
    assert "drawn from the prior" in js(driver, "return document.getElementById('z-note').textContent")


# ---------------------------------------------------------------------- phones
def touch_swipe(driver, x, y, dy, steps=10):
    """A finger put down at (x, y) (CSS pixels of the viewport) and moved by dy, through Chromium's touch input."""
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for i in range(1, steps + 1):
        driver.execute_cdp_cmd("Input.dispatchTouchEvent",
                               {"type": "touchMove", "touchPoints": [{"x": x, "y": y + dy * i / steps}]})
    driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def rect(driver, id_):
    return js(driver, "return document.getElementById(arguments[0]).getBoundingClientRect().toJSON()", id_)


@pytest.mark.parametrize("width, height", [(360, 740), (390, 844)])
def test_on_a_phone_the_page_fits_the_plane_scales_and_a_swipe_beside_it_scrolls(driver, pages, width, height):
    with viewport(driver, width, height, phone=True):
        for name in ("cvae", "latent 8"):
            open_page(driver, pages[name][1])
            assert js(driver, "return innerWidth") == width
            wide = js(driver, """return Array.from(document.querySelectorAll('body *'))
                .filter((e) => e.getBoundingClientRect().right > innerWidth + 0.5).map((e) => e.id || e.tagName)""")
            assert js(driver, "return document.documentElement.scrollWidth") <= width and wide == [], (name, wide)
        plane = rect(driver, "plane")
        assert 0 <= plane["left"] and plane["right"] <= width and plane["width"] > 0.8 * width - 40, plane
        assert plane["width"] == pytest.approx(plane["height"])
        # a finger on the plane moves z and does not scroll; beside it, it scrolls the page
        js(driver, "scrollTo(0, 0)")
        before = derived(driver, "z")
        touch_swipe(driver, plane["left"] + plane["width"] / 2, plane["top"] + 0.7 * plane["height"], -100)
        flush(driver)
        assert js(driver, "return scrollY") == 0 and derived(driver, "z") != before
        below = plane["bottom"] + 40
        touch_swipe(driver, width / 2, below, -150)
        driver.execute_async_script("setTimeout(arguments[0], 300)")
        assert js(driver, "return scrollY") > 50, "a swipe beside the plane did not scroll the page"
        # the pad and the zoomed view of its cloud, on the screen together
        js(driver, "document.querySelector('.pad-row').scrollIntoView({block: 'center'})")
        pad, inset = rect(driver, "pad"), rect(driver, "inset")
        for r in (pad, inset):
            assert r["left"] >= 0 and r["right"] <= width and r["top"] >= 0 and r["bottom"] <= height, (pad, inset)
        assert pad["width"] >= 120
        touch_swipe(driver, pad["left"] + pad["width"] / 2, pad["top"] + 15, pad["height"] - 30)  # a "1"
        flush(driver)
        assert js(driver, "return minivae.view.state.source") == "drawing"
        assert js(driver, "return document.getElementById('inset-caption').textContent").startswith("zoomed")


# ---------------------------------------------------------------------- keyboard and screen readers
def press(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver, duration=0).send_keys(*keys).perform()
    flush(driver)


def test_the_walk_can_be_done_with_the_keyboard_alone(driver, pages):
    from selenium.webdriver.common.keys import Keys

    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    js(driver, "document.activeElement.blur()")
    seen = []
    for _ in range(40):  # Tab through the page: every control, each with a visible focus ring
        press(driver, Keys.TAB)
        focus = js(driver, """const e = document.activeElement, s = getComputedStyle(e);
            return e === document.body ? null
                : [e.id || e.getAttribute('aria-label') || e.textContent, s.outlineStyle, parseFloat(s.outlineWidth)]""")
        if focus is None:  # past the last control
            break
        assert focus[1] != "none" and focus[2] >= 2, focus
        seen.append(focus[0])
    assert seen[0] == "plane", seen
    assert any(name.startswith("z[") for name in seen), seen  # the slider of the coordinate off the plane
    for name in ("held-mean", "redraw", "prior", "pad", "clear", "walk"):
        assert name in seen, (name, seen)
    assert seen.index("plane") < seen.index("prior") < seen.index("pad") < seen.index("clear") < seen.index("walk")
    element(driver, "plane").click()  # focus it back (a click is also where a mouse user starts)
    js(driver, "document.getElementById('plane').focus()")
    (pa, pb), R = plane_dims(driver)
    z0 = np.array(derived(driver, "z"))
    step = js(driver, "return minivae.view.state.step")
    press(driver, Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_UP)
    z1 = np.array(derived(driver, "z"))
    np.testing.assert_allclose(z1[[pa, pb]], z0[[pa, pb]] + [2 * step, step], atol=1e-6)
    press(driver, "+")
    assert js(driver, "return minivae.view.state.step") == 2 * step
    assert f"by {2 * step:g}" in js(driver, "return document.getElementById('plane-keys').textContent")
    press(driver, Keys.ENTER)  # the nearest held-out digit's cloud
    k = js(driver, "return minivae.view.state.source")
    assert isinstance(k, int) and js(driver, "return minivae.view.derived().nearest.k") == k
    press(driver, "s")
    assert len(js(driver, "return minivae.view.state.eps")) == 8
    press(driver, "a", Keys.ARROW_LEFT, Keys.ARROW_LEFT, Keys.ARROW_DOWN, "b")
    A, B = (np.array(js(driver, f"return Array.from(minivae.view.state.walk.{e})")) for e in "AB")
    np.testing.assert_allclose((B - A)[[pa, pb]], [-4 * step, -2 * step], atol=1e-6)
    strip = driver.find_elements("css selector", "#walk-strip canvas")
    for s, z in ((0, A), (9, B)):
        shown = js(driver, "return Array.from(minivae.view.derived().walk[arguments[0]])", s)
        assert np.abs(np.array(shown) - model.decode(z[None].astype(np.float32))[0]).max() < 1e-5
        assert canvas_shows(driver, strip[s], shown)
    # names and the polite live region
    names = js(driver, "return Array.from(document.querySelectorAll('canvas'), (c) => c.getAttribute('aria-label'))")
    assert all(names), names
    z = derived(driver, "z")
    assert js(driver, "return document.getElementById('decoded').getAttribute('aria-label')").endswith(
        "(" + ", ".join(f"{v:.2f}" for v in z).replace("-", "\u2212") + ")")
    assert "ε = (" in js(driver, "return document.querySelector('#samples canvas').getAttribute('aria-label')")
    driver.execute_async_script("setTimeout(arguments[0], 400)")
    live = driver.find_element("id", "announce")
    assert live.get_attribute("aria-live") == "polite"
    kl = js(driver, "return minivae.view.derived().cloud.kl")
    assert f"KL {kl:.2f} nats" in live.get_attribute("textContent") and "z = (" in live.get_attribute("textContent")
