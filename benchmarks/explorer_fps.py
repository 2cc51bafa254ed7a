"""How big are the explorer pages, and how fast do they redraw while the learner drags?

For each model below the script trains it (``--epochs``; the size of a page does not
depend on training, nor does its speed), writes its page with ``python -m minivae
explore`` (500 held-out digits, the default) and measures in headless Chromium:

- **frames/s while dragging**: for ``--seconds``, one synthetic ``pointermove`` over the
  plane per animation frame (a circle through the plane); the page decodes the code
  under the pointer and redraws on its next frame. This is what the learner sees, and is
  capped by the browser's frame rate (60 in headless Chromium);
- **ms per frame**: the page's own timing of that redraw (decode, paint the digit(s),
  draw the plane and the zoomed cloud, write the numbers), mean over the frames above; ``1000 / ms`` is how many frames per
  second the work alone would allow;
- **uncapped redraws/s**: ``--moves`` pointer moves each followed by a synchronous
  redraw, no frame pacing: the decode-and-draw throughput.

The models are the command line's defaults (``train vae|cvae``: hidden 256,128, a code
of 8) on both embedded data sets, and the demos' models (demos/vae.py's 2-D VAE and
demos/cvae.py's CVAE, hidden 400, a code of 2, on the 5,000 MNIST digits).

    python benchmarks/explorer_fps.py                 # all six (a few minutes: training)
    python benchmarks/explorer_fps.py --only cli-vae-digits --epochs 2
    python benchmarks/explorer_fps.py --page out/vae/explorer.html   # measure a page you have
    python benchmarks/explorer_fps.py --screenshot docs/figures/explorer.png   # the README's pictures

``--screenshot`` trains the demos' 2-D VAE on the MNIST digits (30 epochs, as the demo),
draws a digit on its pad, samples, points at the plane and saves what Chromium shows at
1280x800 (explorer.png) and at 390x844 with touch (explorer_phone.png, at the pad).

Measured (Chromium 156 headless, software rendering, on the shared 2-core development
machine while seven other jobs ran; 5 epochs, median of 3 loads, 3 s of dragging each,
with a held-out digit's cloud and its 8 samples on screen; 1280x800, and 390x844 with touch):

    | page                  | MB   | frames/s desktop, phone | ms per frame | uncapped redraws/s |
    | cli-vae-digits        | 0.67 | 50, 57                  | 1.60, 1.21   | 420, 409           |
    | cli-cvae-digits       | 0.21 | 29, 53                  | 3.32, 1.45   | 232, 333           |
    | cli-vae-mnist-subset  | 3.15 | 59, 52                  | 2.35, 2.43   | 265, 183           |
    | cli-cvae-mnist-subset | 4.08 | 37, 38                  | 12.41, 11.32 |  55,  65           |
    | demo-vae-2d           | 3.97 | 51, 60                  | 2.04, 1.59   | 219, 362           |
    | demo-cvae             | 4.01 | 50, 51                  | 8.14, 8.32   |  69,  53           |

A CVAE's page decodes ten digits per frame (the strip of every label), hence its 8-12 ms.
The page before the numbers were shown, measured on the same busy machine in the same
hour, took 7.3-7.4 ms per frame on the two MNIST CVAE pages (50-58 frames/s); the busy
machine's numbers vary by some 30 % from run to run.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from minivae.cli import main as cli  # noqa: E402
from tests import browser  # noqa: E402

#: name -> the train command's arguments (the CLI's defaults: --hidden 256,128 --latent 8)
MODELS = {
    "cli-vae-digits": ["vae", "--data", "digits"],
    "cli-cvae-digits": ["cvae", "--data", "digits"],
    "cli-vae-mnist-subset": ["vae", "--data", "mnist-subset"],
    "cli-cvae-mnist-subset": ["cvae", "--data", "mnist-subset"],
    "demo-vae-2d": ["vae", "--data", "mnist-subset", "--hidden", "400", "--latent", "2"],  # demos/vae.py's vae2
    "demo-cvae": ["cvae", "--data", "mnist-subset", "--hidden", "400", "--latent", "2"],  # demos/cvae.py
}

# the numbers live: the cloud of the held-out digit nearest the centre and its 8 samples
# (Enter and S on the plane, as a keyboard user would), kept on screen while the pointer moves
WITH_A_CLOUD = """
const plane = document.getElementById('plane');
plane.focus();
for (const key of ['Home', 'Enter', 's']) plane.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
minivae.view.renderNow();
return minivae.view.derived().samples.length;
"""

DRAG_FOR = """
const [seconds, done] = arguments;
const plane = document.getElementById('plane'), rect = plane.getBoundingClientRect();
minivae.view.resetStats();
const t0 = performance.now(); let moves = 0;
function step(now) {
  if (now - t0 > 1000 * seconds) {
    const s = minivae.view.stats();
    return done({frames: s.frames, meanMs: s.meanMs, seconds: (performance.now() - t0) / 1000, moves});
  }
  const a = moves * 0.05;
  plane.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, pointerId: 1, pointerType: 'mouse',
    clientX: rect.left + rect.width * (0.5 + 0.4 * Math.cos(a)), clientY: rect.top + rect.height * (0.5 + 0.4 * Math.sin(a))}));
  moves += 1;
  requestAnimationFrame(step);
}
requestAnimationFrame(step);
"""

UNCAPPED = """
const n = arguments[0];
const plane = document.getElementById('plane'), rect = plane.getBoundingClientRect();
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const a = i * 0.05;
  plane.dispatchEvent(new PointerEvent('pointermove', {bubbles: true, pointerId: 1, pointerType: 'mouse',
    clientX: rect.left + rect.width * (0.5 + 0.4 * Math.cos(a)), clientY: rect.top + rect.height * (0.5 + 0.4 * Math.sin(a))}));
  minivae.view.renderNow();
}
return (performance.now() - t0) / 1000;
"""


def train_and_write(name, args, folder, epochs):
    run = Path(folder) / name
    page = Path(folder) / f"{name}.html"
    quiet = contextlib.redirect_stdout(io.StringIO())
    with quiet:
        status = cli(["train", *args, "--epochs", str(epochs), "--out", str(run), "--quiet", "--no-figures"])
        status = status or cli(["explore", str(run), "--out", str(page)])
    if status:
        raise SystemExit(f"{name}: the command failed (status {status})")
    return page


#: the screens measured: (width, height) in CSS pixels, and whether it is a phone (touch, 3x pixels)
SCREENS = {"desktop": (1280, 800, False), "phone": (390, 844, True)}


def emulate(driver, screen, pixel_ratio=None):
    """Chromium's device emulation for ``screen`` (a key of SCREENS), or none for ``None``."""
    if screen is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        return
    width, height, phone = SCREENS[screen]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "mobile": phone,
                            "deviceScaleFactor": pixel_ratio or (3 if phone else 1)})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone, "maxTouchPoints": 5})


def measure(driver, page, seconds, moves, repeats, screen=None):
    """Median over ``repeats`` loads of the page: frames/s, ms per frame, uncapped redraws/s.

    ``screen``: "desktop" or "phone" (SCREENS), or ``None`` for the browser's own window.
    """
    fps, ms, uncapped = [], [], []
    if screen is not None:
        emulate(driver, screen)
    for _ in range(repeats):
        driver.get(Path(page).resolve().as_uri())
        if driver.execute_script(WITH_A_CLOUD) != 8:
            raise SystemExit(f"{page}: the page did not show a cloud and its samples")
        result = driver.execute_async_script(DRAG_FOR, seconds)
        fps.append(result["frames"] / result["seconds"])
        ms.append(result["meanMs"])
        uncapped.append(moves / driver.execute_script(UNCAPPED, moves))
    if screen is not None:
        emulate(driver, None)
    problems = [m for m in browser.console_messages(driver)]
    if problems:
        print(f"  console messages on {page}: {problems}", file=sys.stderr)
    return statistics.median(fps), statistics.median(ms), statistics.median(uncapped)


def draw_a_two(driver, scale=1.0):
    """Draw a "2" on the pad: an arc over the top, down the diagonal, along the bottom."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    pad = driver.find_element(By.ID, "pad")
    arc = [(55 * math.cos(t), -45 - 40 * math.sin(t)) for t in (3.3, 2.8, 2.2, 1.6, 1.0, 0.4, -0.3)]
    path_2 = [(int(scale * x), int(scale * y)) for x, y in arc + [(0, 10), (-40, 50), (-60, 75), (-10, 75), (60, 75)]]
    chain = ActionChains(driver, duration=0).move_to_element_with_offset(pad, *path_2[0]).click_and_hold()
    for (x0, y0), (x1, y1) in zip(path_2[:-1], path_2[1:]):
        chain = chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()


def screenshot(driver, folder, path, epochs):
    """The README's pictures: demos/vae.py's 2-D VAE, a drawn 2, its cloud, numbers and samples.

    ``path`` gets the desktop view (1280 x 800 CSS pixels, cut below the pad's panel);
    ``<path>_phone.png`` the phone view (390 x 844, touch, 2 device pixels per CSS pixel),
    scrolled so that the pad and the zoomed cloud are at the top.
    """
    from PIL import Image
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    page = train_and_write("demo-vae-2d", MODELS["demo-vae-2d"], folder, epochs)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    phone = path.with_name(f"{path.stem}_phone{path.suffix}")
    for screen, out in (("desktop", path), ("phone", phone)):
        mobile = SCREENS[screen][2]
        emulate(driver, screen, pixel_ratio=2 if mobile else 1)
        driver.get(page.resolve().as_uri())
        if mobile:
            driver.execute_script("document.querySelector('.pad-row').scrollIntoView({block: 'start'})")
        draw_a_two(driver, driver.execute_script("return document.getElementById('pad').clientWidth") / 224)
        driver.find_element(By.ID, "sample").click()
        if not mobile:
            plane = driver.find_element(By.ID, "plane")
            ActionChains(driver, duration=0).move_to_element_with_offset(plane, 35, -150).perform()
        else:
            driver.execute_script("window.scrollBy(0, -40)")
        driver.execute_async_script("requestAnimationFrame(() => requestAnimationFrame(arguments[0]))")
        image = Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB")
        if not mobile:
            bottom = driver.execute_script("return document.getElementById('pad-panel').getBoundingClientRect().bottom")
            image = image.crop((0, 0, image.width, min(image.height, int(bottom) + 12)))
        image.save(out, optimize=True)
        print(f"screenshot: {out} ({image.width}x{image.height}, {os.path.getsize(out) / 1e3:.0f} kB)")
    emulate(driver, None)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="training epochs per model (default: %(default)s)")
    parser.add_argument("--only", nargs="*", choices=list(MODELS), help="just these models")
    parser.add_argument("--page", nargs="*", default=[], help="also measure these existing pages")
    parser.add_argument("--seconds", type=float, default=3.0, help="dragging time per measurement")
    parser.add_argument("--moves", type=int, default=300, help="pointer moves for the uncapped rate")
    parser.add_argument("--repeats", type=int, default=3, help="page loads per model; the median is shown")
    parser.add_argument("--screenshot", metavar="PNG", help="only take the README's screenshot, to PNG")
    args = parser.parse_args(argv)
    why = browser.unavailable()
    if why:
        raise SystemExit(f"needs headless Chromium: {why}")
    driver, profile = browser.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            if args.screenshot:
                screenshot(driver, folder, args.screenshot, epochs=30)
                return 0
            names = args.only if args.only is not None else list(MODELS)
            pages = {name: train_and_write(name, MODELS[name], folder, args.epochs) for name in names}
            pages.update({p: Path(p) for p in args.page})
            print("| page | size (MB) | screen | frames/s while dragging | ms per frame | uncapped redraws/s |")
            print("| --- | --- | --- | --- | --- | --- |")
            for name, page in pages.items():
                for screen in SCREENS:
                    fps, ms, uncapped = measure(driver, page, args.seconds, args.moves, args.repeats, screen)
                    print(f"| {name} | {os.path.getsize(page) / 1e6:.2f} | {screen} | {fps:.0f} | {ms:.2f} | "
                          f"{uncapped:.0f} |", flush=True)
    finally:
        browser.stop(driver, profile)
    print(f"(Chromium {driver.capabilities.get('browserVersion', '?')}, headless; median of {args.repeats} loads; "
          f"{args.seconds:g} s of dragging each, a cloud and its 8 samples on screen; desktop "
          f"{SCREENS['desktop'][0]}x{SCREENS['desktop'][1]}, phone {SCREENS['phone'][0]}x{SCREENS['phone'][1]} "
          "with touch and 3 device pixels per CSS pixel)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
