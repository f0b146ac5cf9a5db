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


def resize(driver: webdriver.Chrome, width: int, height: int = 900) -> None:
    """The window `width` CSS pixels wide, once the page has seen it: Chromium
    resizes the page after set_window_size returns, so this waits for the
    page's own width (a frame at a time) rather than for a time."""
    driver.set_window_size(width, height)
    driver.execute_async_script(
        "const [width, done] = arguments;"
        "(function check() { window.innerWidth === width ? done()"
        " : requestAnimationFrame(check); })();", width)


def overflow(driver: webdriver.Chrome, width: int) -> tuple[int, int]:
    """(the document's scroll width, the viewport's) at `width` CSS pixels."""
    resize(driver, width)
    driver.execute_script("window.scrollTo(0, 0)")
    return tuple(driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"))


# Text laid out in lines, read back from the boxes: a break between two
# characters of a word is a line change between their client rects (a soft
# hyphen inside a word is a place it may break). Words are read within one text
# node: a word split across two elements is not seen.
# A link whose text is its own address is a URL, which breaks anywhere.
_LINES = r"""
const range = document.createRange();
function texts(root) {
  const found = [], walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node; (node = walker.nextNode());) {
    const parent = node.parentElement;
    if (!parent || parent.closest("svg, script, style, title")) continue;
    const link = parent.closest("a[href]");
    if (link && link.textContent.trim() === link.getAttribute("href")) continue;
    found.push(node);
  }
  return found;
}
function boxes(node, start, end) {
  range.setStart(node, start);
  range.setEnd(node, end);
  return [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
}
// The text between start and end, with "|" where it changes lines.
function lines(node, start, end) {
  let shown = "", last = null;
  for (let i = start; i < end; i++) {
    // the last box: after a soft hyphen that broke, a letter's range also
    // holds the hyphen drawn at the end of the line before
    const box = boxes(node, i, i + 1).at(-1);
    if (box && last && Math.abs(box.top - last.top) > Math.min(box.height, last.height) / 2)
      shown += "|";
    if (box) last = box;
    shown += node.data[i];
  }
  return shown;
}
function spansLines(node, start, end) {
  const rects = boxes(node, start, end);
  return rects.some(r => Math.abs(r.top - rects[0].top) > Math.min(r.height, rects[0].height) / 2);
}
function where(node) {
  const element = node.parentElement;
  const named = element.closest("[id]");
  const tag = element.tagName.toLowerCase() + [...element.classList].map(c => "." + c).join("");
  return (named ? "#" + named.id + " " : "") + tag;
}
"""

_BROKEN_WORDS = _LINES + r"""
const found = [];
// a word: letters, marks, digits and soft hyphens, with an apostrophe, a
// point or a comma inside it ("Service's", "4,440,000", "1.10") part of it
const WORD = /[\p{L}\p{M}\p{N}\u00AD]+(?:['’.,][\p{L}\p{M}\p{N}\u00AD]+)*/gu;
for (const node of texts(document.body)) {
  for (const word of node.data.matchAll(WORD)) {
    const end = word.index + word[0].length;
    if (!spansLines(node, word.index, end)) continue;
    const shown = lines(node, word.index, end);
    if (shown.split("|").slice(0, -1).every(piece => piece.endsWith("\u00AD"))) continue;
    found.push(where(node) + ": " + shown.replaceAll("\u00AD", ""));
  }
}
return found;
"""

_SPLIT_PHRASES = _LINES + r"""
const [selector, pattern] = arguments, found = [];
for (const scope of document.querySelectorAll(selector)) {
  for (const node of texts(scope)) {
    for (const match of node.data.matchAll(new RegExp(pattern, "gu"))) {
      const end = match.index + match[0].length;
      if (spansLines(node, match.index, end))
        found.push(where(node) + ": " + lines(node, match.index, end));
    }
  }
}
return found;
"""


def broken_words(driver: webdriver.Chrome) -> list[str]:
    """Every word of the page laid out across lines without a hyphen, as
    "where: Refere|nce" (a break after a soft hyphen is a hyphen)."""
    return driver.execute_script(_BROKEN_WORDS)


def split_phrases(driver: webdriver.Chrome, selector: str, pattern: str) -> list[str]:
    """Every match of the regular expression `pattern` (JavaScript, Unicode)
    in the text under `selector` that is laid out across lines."""
    return driver.execute_script(_SPLIT_PHRASES, selector, pattern)
