"""The explorer page in a real browser: one state behind every view, phones, the keyboard.

Each bug the issue listed (samples drawn under an old label, a stale nearest digit,
sliders ignored after drawing, an overflowing table, a panel that jumped) has a test
here, and so has the page at 360 and 390 CSS pixels with touch input, and a walk done
with the keyboard alone. The browser and pages come from tests/explorer_pages.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from .explorer_pages import (
    canvas_shows, derived, drag, element, embedded_pixels, flush, float64_copy, js, move_slider,
    needs_chromium, open_page, plane_dims, shown_vector, take_dot, viewport,
)

pytestmark = needs_chromium


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


@pytest.mark.parametrize("width, height, swipe", [(360, 740, True), (390, 844, False)])
def test_on_a_phone_the_page_fits_the_plane_scales_and_a_swipe_beside_it_scrolls(driver, pages, width, height, swipe):
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
        # the pad and the zoomed view of its cloud, on the screen together
        js(driver, "document.querySelector('.pad-row').scrollIntoView({block: 'center'})")
        pad, inset = rect(driver, "pad"), rect(driver, "inset")
        for r in (pad, inset):
            assert r["left"] >= 0 and r["right"] <= width and r["top"] >= 0 and r["bottom"] <= height, (pad, inset)
        assert pad["width"] >= 120
        if not swipe:  # the fingers are tested once, at the narrowest screen
            return
        touch_swipe(driver, pad["left"] + pad["width"] / 2, pad["top"] + 15, pad["height"] - 30)  # a "1"
        flush(driver)
        assert js(driver, "return minivae.view.state.source") == "drawing"
        assert js(driver, "return document.getElementById('inset-caption').textContent").startswith("zoomed")
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
    from selenium.webdriver.common.action_chains import ActionChains

    for _ in range(40):  # Tab through the page: every control, each with a visible focus ring
        ActionChains(driver, duration=0).send_keys(Keys.TAB).perform()
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
        shown_vector(z))
    assert "ε = (" in js(driver, "return document.querySelector('#samples canvas').getAttribute('aria-label')")
    driver.execute_async_script("setTimeout(arguments[0], 400)")
    live = driver.find_element("id", "announce")
    assert live.get_attribute("aria-live") == "polite"
    kl = js(driver, "return minivae.view.derived().cloud.kl")
    assert f"KL {kl:.2f} nats" in live.get_attribute("textContent") and "z = (" in live.get_attribute("textContent")
