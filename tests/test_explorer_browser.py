"""The explorer page in a real browser: its JavaScript contract, its controls and its numbers.

Headless Chromium driven by Selenium, one browser for the session (tests/explorer_pages.py
makes it and the pages); the layout, the phone, the keyboard and the state that every view
must follow are in test_explorer_ui.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from minivae import CVAE

from . import browser
from .explorer_pages import (
    canvas_data, canvas_shows, cell_numbers, derived, drag, element, ellipse_reach, embedded_pixels,
    flush, float64_copy, js, move_slider, needs_chromium, numpy_terms, open_page, plane_dims, shown, shown_vector,
    state, take_dot,
)

pytestmark = needs_chromium


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


def test_a_page_of_two_models_switches_between_them(driver, pages):
    models, path, _, _ = pages["two models"]
    browser.network_requests(driver)
    open_page(driver, path)
    assert js(driver, "return [minivae.info.latent_dim, minivae.models.index]") == [3, 0]
    buttons = driver.find_elements("css selector", "#model-switch button")
    assert [b.text for b in buttons] == ["latent 3", "latent 8"] and buttons[0].get_attribute("aria-pressed") == "true"
    buttons[1].click()
    driver.execute_async_script("const done = arguments[0]; (function wait() {"
                                " window.minivae && minivae.view ? done() : setTimeout(wait, 20); })()")
    assert js(driver, "return [minivae.info.latent_dim, minivae.models.index, location.hash]") == [8, 1, "#model=1"]
    assert js(driver, "return document.getElementById('model-title').textContent") == "latent 8"
    x = embedded_pixels(driver, 3)
    got = js(driver, "return minivae.encode(arguments[0], 0).mu", x.tolist())
    np.testing.assert_allclose(got, models[1].encode(x[None].astype(np.float32))[0][0], atol=1e-5)
    assert {u for u in browser.network_requests(driver) if not u.startswith("data:")} == {path.as_uri()}


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


def test_the_page_shows_sigma_as_exp_of_half_logvar_in_the_table_and_the_ellipses(driver, pages):
    """sigma = exp(logvar / 2): the table's numbers and the ellipses' size against NumPy (not the variance)."""
    model, path, _, _ = pages["vae"]
    open_page(driver, path)
    n = js(driver, "return minivae.data.heldout.n")
    X = np.array(js(driver, "return Array.from(minivae.bytesFromBase64(minivae.data.heldout.pixels), (v) => v / 255)")
                 ).reshape(n, -1)
    mu, logvar = float64_copy(model).encode(X)
    (pa, pb), R = plane_dims(driver)
    sigma = np.exp(0.5 * logvar)
    s2 = sigma[:, [pa, pb]]
    big_enough = s2.min(axis=1) > 0.12  # an ellipse of some pixels
    k_var = int(np.argmax(np.abs(np.log(s2)).min(axis=1) * big_enough))  # sigma farthest from 1: not sigma^2
    k_axes = int(np.argmax(np.abs(s2[:, 0] - s2[:, 1]) * big_enough))  # across and up differ most
    for k in (k_var, k_axes):
        take_dot(driver, k)
        rows = cell_numbers(driver, "posterior")
        assert rows[0] == ["", "μ", "σ", "KL (nats)"] and len(rows) == model.latent_dim + 2
        np.testing.assert_allclose([r[1] for r in rows[1:-1]], mu[k], atol=6e-4)
        np.testing.assert_allclose([r[2] for r in rows[1:-1]], sigma[k], atol=6e-4)
        kl = 0.5 * (mu[k] ** 2 + np.exp(logvar[k]) - 1 - logvar[k])
        np.testing.assert_allclose([r[3] for r in rows[1:-1]], kl, atol=6e-4)
        assert rows[-1][3] == pytest.approx(kl.sum(), abs=6e-4)
        rx, ry, P = ellipse_reach(driver)
        scale = P / (2 * R)  # canvas pixels per unit of z
        assert abs(rx - 2 * sigma[k, pa] * scale) <= 2 and abs(ry - 2 * sigma[k, pb] * scale) <= 2, \
            (k, rx, ry, 2 * sigma[k, [pa, pb]] * scale)
        caption = js(driver, "return document.getElementById('inset-caption').textContent")
        half = 3 * sigma[k, [pa, pb]].max()
        assert f"±{half:.2g}" in caption, caption
    # the two dots tell sigma from sigma^2 and across from up by more than the tolerance
    assert np.abs(s2[k_var] - s2[k_var] ** 2).min() * 2 * scale > 6, s2[k_var]
    assert abs(s2[k_axes, 0] - s2[k_axes, 1]) * 2 * scale > 6, s2[k_axes]


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
        assert rows[0] == ["", "−log p(x|z)", "ELBO", "ε", "z"]
        assert rows[1 + s][1] == pytest.approx(want["recon"], abs=0.006)
        assert rows[1 + s][2] == pytest.approx(want["elbo"], abs=0.006)
        assert rows[1 + s][3] == shown_vector(eps[s]) and rows[1 + s][4] == shown_vector(z)
    at_mu = numpy_terms(m64, x, label, np.zeros(2))
    line = js(driver, "return document.getElementById('elbo-line').textContent")
    assert f"−log p(x | z) = {at_mu['recon']:.2f} nats" in line, line
    assert f"= {shown(at_mu['elbo'])} nats" in line, line


def test_the_decoded_mean_has_a_bernoulli_sample_beside_it(driver, pages):
    open_page(driver, pages["vae"][1])
    drag(driver, element(driver, "plane"), [(20, -30), (25, -35)])
    mean, draw = np.array(derived(driver, "decoded")), np.array(derived(driver, "draw"))
    assert set(np.unique(draw)) <= {0.0, 1.0} and canvas_shows(driver, "draw", draw.tolist())
    element(driver, "redraw").click()
    flush(driver)
    assert np.array_equal(derived(driver, "decoded"), mean)  # the same mean, drawn again
    assert derived(driver, "draw") != draw.tolist() and canvas_shows(driver, "draw", derived(driver, "draw"))
    n = 400  # draws: pixel i is inked with probability mean_i
    ink = np.array(js(driver, """const V = minivae.view, sum = new Float64Array(minivae.info.input_dim);
        for (let s = 0; s < arguments[0]; s++) { V.state.noise += 1; V.derived().draw.forEach((v, i) => { sum[i] += v; }); }
        return Array.from(sum);""", n)) / n
    assert np.all(np.abs(ink - mean) <= 4.5 * np.sqrt(mean * (1 - mean) / n) + 1e-9), np.abs(ink - mean).max()
