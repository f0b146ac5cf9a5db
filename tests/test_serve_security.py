"""`briefing serve` is a web server on the editor's machine: any page the
editor opens may try to reach it. One real server, attacked through Chromium
and raw HTTP: reflected names, foreign Host headers, hostile paths, too many
event streams; and the headers every page carries."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from browser import chromium
from conftest import make_project
from selenium.webdriver.common.by import By
from test_serve import EDITION, WAIT, get, open_stream, serving

from briefing.preview.server import MAX_STREAMS

HOSTILE = 'x_"><img src=x onerror="window.pwned=1">_en'
# Reads the Content-Security-Policy violations of every page, from before the
# page's own scripts run (a script added through the DevTools protocol is not
# subject to the page's policy).
SPY = ("window.violations = []; document.addEventListener('securitypolicyviolation', "
       "e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));")


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    project = make_project(tmp_path_factory.mktemp("serve") / "p")
    with serving(project) as (_, port):
        yield port


def test_a_name_from_the_url_injects_nothing(port: int) -> None:
    """The reported attack, in a browser: the name is refused (404), never
    rendered or echoed, and nothing it carries runs or exists in the page."""
    with chromium() as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": SPY})
        driver.get(f"http://127.0.0.1:{port}/edition/{quote(HOSTILE, safe='')}")
        assert driver.execute_script("return window.pwned") is None
        assert driver.find_elements(By.TAG_NAME, "img") == []
        assert "onerror" not in driver.page_source
        assert driver.find_element(By.TAG_NAME, "h1").text == "404"

        # The real page under its policy: the HTML edition displays with
        # nothing refused, and the reload script (its nonce) is allowed to run.
        driver.get(f"http://127.0.0.1:{port}/edition/{EDITION}")
        assert "Every block the templates know" in driver.find_element(By.TAG_NAME,
                                                                         "body").text
        assert driver.execute_script("return window.violations") == []
        assert driver.find_elements(By.CSS_SELECTOR, "script[data-name]")


def test_a_rebound_name_gets_no_page(port: int) -> None:
    """DNS rebinding through Chromium: a foreign name resolved to 127.0.0.1
    (as an attacker's DNS would) reaches the server but is not answered."""
    with chromium("--host-resolver-rules=MAP attacker.test 127.0.0.1") as driver:
        driver.get(f"http://attacker.test:{port}/edition/{EDITION}")
        assert driver.find_element(By.TAG_NAME, "h1").text == "421"
        assert "Every block the templates know" not in driver.page_source


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}",
                                  "LOCALHOST:{port}"])
def test_its_own_names_are_answered(port: int, host: str) -> None:
    assert get(port, "/", host.format(port=port))[0] == 200


@pytest.mark.parametrize("host", ["attacker.test:{port}", "attacker.test", "localhost",
                                  "127.0.0.1", "127.0.0.1:1", "localhost.:{port}",
                                  "127.0.0.1:{port}.attacker.test", ""])
def test_any_other_host_is_refused(port: int, host: str) -> None:
    status, headers, body = get(port, "/", host.format(port=port))
    assert status == 421
    assert "sample" not in body and headers["content-type"].startswith("text/html")


def test_a_request_without_host_is_refused(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as raw:
        raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
        answer = b"".join(iter(lambda: raw.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 421 "), answer[:80]


def test_every_page_has_a_strict_policy(port: int) -> None:
    nonces = []
    for path in ("/", f"/edition/{EDITION}", "/edition/nothing", "/no/such/page"):
        _, headers, body = get(port, path)
        policy = dict(part.strip().split(" ", 1)
                      for part in headers["content-security-policy"].split(";"))
        assert policy.pop("script-src").startswith("'nonce-")
        assert policy == {"default-src": "'none'", "style-src": "'unsafe-inline'",
                          "img-src": "data:", "connect-src": "'self'",
                          "frame-ancestors": "'none'", "base-uri": "'none'",
                          "form-action": "'none'"}
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        nonce = re.search(r"'nonce-([^']+)'", headers["content-security-policy"])[1]
        nonces.append(nonce)
        scripts = re.findall(r"<script[^>]*>", body)
        assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts
    assert len(set(nonces)) == len(nonces), "a nonce was used twice"


@pytest.mark.parametrize("path", [
    "/output/tiny%00/x", "/output/sample/%00.pdf", f"/output/sample/{EDITION}%00.pdf",
    "/edition/%00", f"/edition/{'a' * 5000}", f"/output/{'a' * 5000}/{'b' * 5000}.pdf",
    "/output/sample/..%2F..%2Fcontent%2Fbriefs%2Fsample.yaml", "/output/../content",
    f"/output/sample/{EDITION}.yaml", f"/output/other/{EDITION}.pdf",
    f"/preview/{quote(HOSTILE, safe='')}.pdf", "/output/%2e%2e/%2e%2e"])
def test_hostile_paths_get_a_404_page(port: int, path: str) -> None:
    status, headers, body = get(port, path)
    assert status == 404, body[:300]
    assert headers["content-type"].startswith("text/html")
    assert "<h1>404</h1>" in body and "Traceback" not in body
    assert "\x00" not in body and "aaaa" not in body and "onerror" not in body


def test_event_streams_are_bounded(port: int) -> None:
    """MAX_STREAMS pages may listen at once; one more gets 503, and a stream
    closed makes room again."""
    streams = [open_stream(port) for _ in range(MAX_STREAMS)]
    try:
        extra = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        extra.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert extra.recv(65536).startswith(b"HTTP/1.1 503 "), "one stream too many"
        extra.close()
        assert get(port, "/")[0] == 200, "the pages themselves are still answered"
        streams.pop().close()
        streams.append(wait_for_room(port))
    finally:
        for stream in streams:
            stream.close()


def wait_for_room(port: int) -> socket.socket:
    """A new stream, once the server has seen the closed one go (it notices
    when it next writes or reads; asked until then, within WAIT)."""
    import time

    deadline = time.monotonic() + WAIT
    while True:
        try:
            return open_stream(port)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
