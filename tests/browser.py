"""A real browser for the tests: Debian's Chromium driven by Selenium, and axe-core
(installed by `make test` from tests/browser/package-lock.json) to audit pages."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

AXE = Path(__file__).parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Chromium must not reach for the network this machine does not have.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-quic", "--no-first-run", "--hide-scrollbars"]


@contextmanager
def chromium(*flags: str) -> Iterator[webdriver.Chrome]:
    """Chromium with FLAGS and `flags` (such as --host-resolver-rules)."""
    with tempfile.TemporaryDirectory(prefix="briefing-chromium-") as profile:
        options = webdriver.ChromeOptions()
        for flag in [*FLAGS, *flags, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.binary_location = "/usr/bin/chromium"
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_script_timeout(120)
        try:
            yield driver
        finally:
            driver.quit()


def axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """axe-core's violations of WCAG 2.1 AA on the page loaded now."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r)).catch(e => done({error: String(e)}));", WCAG_21_AA)
    assert "error" not in result, result
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]]


def overflow(driver: webdriver.Chrome, width: int) -> tuple[int, int]:
    """(the document's scroll width, the viewport's) at `width` CSS pixels."""
    driver.set_window_size(width, 900)
    driver.execute_script("window.scrollTo(0, 0)")
    return tuple(driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"))
