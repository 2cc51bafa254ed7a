"""Headless Chromium for the explorer's browser tests and its benchmark.

Debian's ``chromium`` and ``chromium-driver`` packages, driven by Selenium. Chromium is
started so that it reaches for nothing on its own (no background networking, no
component updates, no sync), in a fresh profile; the DevTools performance log records
every network request the page makes and the browser log every console message.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile

CHROMIUM = os.environ.get("MINIVAE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions")


def unavailable():
    """Why the browser tests cannot run here (a sentence), or ``None`` when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium; it is in the 'test' extra)"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if shutil.which("chromedriver") is None:
        return "no chromedriver on PATH (apt-get install chromium-driver)"
    return None


def start(width=1400, height=1000):
    """A headless Chromium session (Selenium ``WebDriver``) and its profile folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="minivae-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    return driver, profile


def stop(driver, profile):
    try:
        driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def network_requests(driver):
    """URLs of every request the pages made since the last call (DevTools performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def console_messages(driver):
    """``(level, message)`` of every console message since the last call."""
    return [(e["level"], e["message"]) for e in driver.get_log("browser")]
