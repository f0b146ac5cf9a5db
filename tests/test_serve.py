"""`briefing serve` in a real browser: edit, see it; break it, see the mistake;
fix it, see the brief again; never a reload by hand."""

from __future__ import annotations

import http.client
import resource
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from browser import chromium
from conftest import REPO, make_project
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BRIEF = "content/briefs/sample.yaml"
EDITION = "2020-01-15_sample_en"
SCREENSHOT = REPO / "docs" / "serve.png"
WAIT = 120  # seconds a condition may take to come true: a bound, not a pause


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(project: Path, files: int | None = None
            ) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`briefing serve` on `project` in its own process (allowed `files` open
    files), listening on a free port once this yields; stopped (SIGTERM)
    afterwards."""
    port = free_port()
    limit = None if files is None else (
        lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (files, files)))
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "-C", str(project), "serve", "--port",
         str(port), "-j", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=limit)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed just before it listens
        assert first.startswith(f"serving the preview on http://127.0.0.1:{port}/"), first
        yield process, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # it did not stop: fail, but leave nothing behind
            process.kill()
            process.wait()
            raise


def get(port: int, path: str, host: str | None = None) -> tuple[int, dict[str, str], str]:
    """GET `path` with exactly this Host header (the server's own by default)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    try:
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host if host is not None else f"127.0.0.1:{port}")
        connection.endheaders()
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def open_stream(port: int) -> socket.socket:
    """An event stream, as a page opens it: a raw socket past the first message."""
    stream = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    stream.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = b""
    while b": connected" not in head:
        chunk = stream.recv(65536)
        assert chunk, head
        head += chunk
    assert head.startswith(b"HTTP/1.1 200 "), head
    return stream


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    project = make_project(tmp_path / "p")
    with serving(project) as (_, port):
        yield project, port


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def test_the_page_follows_every_save(served: tuple[Path, int], tmp_path: Path,
                                     request: pytest.FixtureRequest) -> None:
    project, port = served
    brief = project / BRIEF
    with chromium() as driver:
        # The page reloads itself after each save, so an element found just
        # before a reload is gone when it is read: the wait reads again.
        wait = WebDriverWait(driver, WAIT, poll_frequency=0.2, ignored_exceptions=(
            NoSuchElementException, StaleElementReferenceException))
        driver.get(f"http://127.0.0.1:{port}/")
        driver.find_element(By.LINK_TEXT, EDITION).click()
        wait.until(lambda d: "Every block the templates know" in body_text(d))
        marker = driver.execute_script("window.briefingMarker = 1; return 1")

        brief.write_text(brief.read_text().replace("Every block the templates know",
                                                   "Freshly edited subtitle"))
        wait.until(lambda d: "Freshly edited subtitle" in body_text(d))
        # The page reloaded itself: what this test set on it is gone.
        assert driver.execute_script("return window.briefingMarker") is None
        assert marker == 1
        # The preview PDF is the one of this save, never the one before it.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/preview/{EDITION}.pdf",
                                    timeout=WAIT) as response:
            pdf = response.read()
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                              check=True).stdout.decode()
        assert "Freshly edited subtitle" in " ".join(text.split())

        brief.write_text(brief.read_text().replace("title: Sample brief", "titel: Sample"))
        wait.until(lambda d: "unknown key `titel`" in body_text(d))
        problems = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "pre.problems").text)
        assert problems.startswith("content/briefs/sample.yaml:")

        brief.write_text(brief.read_text().replace("titel: Sample", "title: Sample brief"))
        wait.until(lambda d: "Freshly edited subtitle" in body_text(d))
        assert not driver.find_elements(By.CSS_SELECTOR, "pre.problems")
        # In the background the server builds output/ from the last save too,
        # though the saves before it stopped the builds they started.
        built = project / "output" / "sample" / f"{EDITION}.html"
        wait.until(lambda _: built.is_file() and "Freshly edited subtitle" in built.read_text())
        driver.set_window_size(1280, 900)
        shot = tmp_path / "serve.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        if request.config.getoption("--update-goldens"):  # README's picture of the preview
            SCREENSHOT.write_bytes(shot.read_bytes())


def test_only_this_machine_can_connect(served: tuple[Path, int]) -> None:
    _, port = served
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                               text=True).stdout
    assert listening.strip(), "nothing listens"
    assert all(line.split()[3].startswith("127.0.0.1:") for line in listening.splitlines())



def test_an_editions_links_to_its_other_languages_open_their_previews(tmp_path: Path) -> None:
    """The HTML edition links to its other languages by file name (`…_az.html`,
    as they lie in output/); in the preview the same link opens that
    language's preview, not a 404."""
    import re
    import urllib.parse

    project = make_project(tmp_path / "p", root=None)
    name = "2026-11-20_international-cooperation_en"
    with serving(project) as (_, port):
        status, _, page = get(port, f"/edition/{name}")
        assert status == 200
        links = sorted(set(re.findall(r'href="(2026-11-20_international-cooperation_'
                                      r'(?:az|ru)\.html)"', page)))
        assert len(links) == 2, links
        for link in links:
            url = urllib.parse.urljoin(f"http://127.0.0.1:{port}/edition/{name}", link)
            with urllib.request.urlopen(url, timeout=WAIT) as response:
                assert response.status == 200
                assert f'<html lang="{link[-7:-5]}' in response.read().decode("utf-8")
