"""What the explorer's browser tests share: one headless Chromium and the pages it opens.

One browser for the whole test session (test_explorer_browser.py and test_explorer_ui.py
both use it). The pages are made from small models: a VAE and a CVAE trained for a few
epochs on the 8x8 digits (their latent spaces have structure to drag through), untrained,
seeded ones for every activation, the Gaussian likelihood, 28x28 images and a code of 8
numbers (where only the arithmetic or the layout is under test), and a page of two models.
Skipped, with the reason, where Chromium, chromedriver or Selenium is missing; ``.ci/run``
installs them.
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
needs_chromium = pytest.mark.skipif(WHY is not None, reason=f"browser tests need headless Chromium: {WHY}")


# ---------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def driver():
    drv, profile = browser.start()
    drv.get("about:blank")
    browser.network_requests(drv), browser.console_messages(drv)  # what the browser did on its own
    yield drv
    browser.stop(drv, profile)


@pytest.fixture(scope="session")
def explorer_digits():
    X, y = load_digits()
    return train_test_split(X, y, test_size=0.2, seed=0)


@pytest.fixture(scope="session")
def pages(tmp_path_factory, explorer_digits):
    """name -> (model, path of its page, held-out X, y)."""
    X_train, X_test, y_train, y_test = explorer_digits
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
    two = [vae, models["latent 8"][0]]
    write_explorer(two, X_test, y_test, folder / "two.html", n_points=200, title=["latent 3", "latent 8"])
    out["two models"] = (two, folder / "two.html", X_test, y_test)
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


def shown(v):
    """``v`` as the page writes it: 2 decimals, a real minus sign, and 0.00 never signed."""
    text = f"{abs(v):.2f}"
    return ("\u2212" if v < 0 and float(text) != 0 else "") + text


def shown_vector(a):
    return "(" + ", ".join(shown(v) for v in a) + ")"


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



def move_slider(driver, value):
    j = js(driver, """const s = document.querySelector('#held input'); s.value = String(arguments[0]);
                      s.dispatchEvent(new Event('input')); return Number(s.getAttribute('aria-label').slice(2, -1));""",
           value)
    flush(driver)
    return j


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
