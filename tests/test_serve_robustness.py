"""`briefing serve` and `briefing watch` under strain: stopped with a page
open, more requests than it takes, a project that does not change, a
symbolic link to outside, a watcher that fails, a brief that goes away."""

from __future__ import annotations

import asyncio
import os
import queue
import resource
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from conftest import make_project
from test_serve import BRIEF, EDITION, WAIT, get, open_stream, serving

from briefing.errors import UsageError
from briefing.orchestration.watch import RETRIES, follow, watch
from briefing.orchestration.workers import Limits
from briefing.preview.previews import Previews
from briefing.preview.server import MAX_REQUESTS, MAX_STREAMS, _Listeners, app


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_one_signal_stops_it_while_a_page_listens(tmp_path: Path, sig: int) -> None:
    """An open page keeps an event stream; one Ctrl-C or SIGTERM still ends
    the stream (cleanly: its last chunk) and the server (it waited for ever)."""
    with serving(make_project(tmp_path / "p")) as (process, port), \
            open_stream(port) as stream:
        process.send_signal(sig)
        received = b"".join(iter(lambda: stream.recv(65536), b""))
        assert received.endswith(b"0\r\n\r\n"), received  # the stream's end, not a cut
        process.wait(timeout=10)  # a bound, not a speed test: it never stopped


FLOOD = 1100  # event streams asked for at once, by a page or a script gone wrong


def test_a_flood_of_connections_leaves_it_working(tmp_path: Path) -> None:
    """FLOOD event streams asked of a server allowed 1,024 open files (the
    usual default): it wedged, logged tracebacks by the megabyte and lost its
    watcher. Now each is answered (200 up to MAX_STREAMS, then 503) or closed
    at once; the pages are still answered, and a save still reaches a page."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FLOOD + 200:
        pytest.skip(f"this test needs {FLOOD + 200} open files (ulimit -Hn is {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, FLOOD + 200), hard))
    project = make_project(tmp_path / "p")
    try:
        with serving(project, files=1024) as (process, port):
            answers = first_answers([ask_for_stream(port) for _ in range(FLOOD)])
            assert answers.get("200") == MAX_STREAMS, answers
            assert set(answers) <= {"200", "503", "closed"}, answers
            assert get(port, "/")[0] == 200
            assert get(port, f"/edition/{EDITION}")[0] == 200  # the page now viewed
            with open_stream(port) as stream:
                brief = project / BRIEF
                brief.write_text(brief.read_text().replace("Sample brief", "Flooded brief"))
                told = b""
                while f" {EDITION}".encode() not in told:  # the watcher is alive
                    told += stream.recv(65536)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert process.stdout is not None
    said = process.stdout.read()
    assert "Too many open files" not in said and len(said) < 10_000, said[:2000]


def ask_for_stream(port: int) -> socket.socket | None:
    try:
        stream = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        stream.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    except OSError:  # refused or reset on the way in: closed at once
        return None
    return stream


def first_answers(streams: list[socket.socket | None]) -> dict[str, int]:
    """How each connection was first answered: its status, or "closed"; every
    one is answered within WAIT, and the streams are closed afterwards."""
    count: dict[str, int] = {"closed": streams.count(None)} if None in streams else {}
    waiting = selectors.DefaultSelector()
    for stream in streams:
        if stream is not None:
            waiting.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + WAIT
    try:
        while waiting.get_map() and time.monotonic() < deadline:
            for key, _ in waiting.select(timeout=1):
                try:
                    first = key.fileobj.recv(64)
                except OSError:
                    first = b""
                answer = first[9:12].decode() if first.startswith(b"HTTP/1.1 ") else "closed"
                count[answer] = count.get(answer, 0) + 1
                waiting.unregister(key.fileobj)
        assert not waiting.get_map(), f"{len(waiting.get_map())} never answered"
    finally:
        for stream in streams:
            if stream is not None:
                stream.close()
    return count


def test_requests_in_flight_are_bounded(tmp_path: Path) -> None:
    """MAX_REQUESTS requests may wait at once (here for the catalogue, whose
    lock the test holds); one more is answered 503 at once, and the others
    are answered once the lock is free."""
    project = make_project(tmp_path / "p")
    previews = Previews(project, Limits(), lambda version, name: None)
    served = app(project, previews, _Listeners(), 8000)

    async def scenario() -> tuple[list[int], int]:
        with previews._catalogue_lock:
            waiting = [asyncio.create_task(request(served, "/")) for _ in range(MAX_REQUESTS)]
            while served.in_flight < MAX_REQUESTS:  # each one in, up to its wait
                await asyncio.sleep(0)
            extra = await asyncio.wait_for(request(served, "/"), WAIT)
        return [await task for task in waiting], extra

    answered, extra = asyncio.run(scenario())
    assert extra == 503
    assert answered == [200] * MAX_REQUESTS


async def request(served: Callable[..., Any], path: str) -> int:
    """The status of GET `path`, asked of the ASGI app directly."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"host", b"127.0.0.1:8000")],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
    statuses: list[int] = []
    never = asyncio.Event()

    async def receive() -> MutableMapping[str, Any]:
        if not statuses:
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await served(scope, receive, send)
    return statuses[0]


def test_the_catalogue_is_reused_until_a_file_changes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    previews = Previews(project, Limits(), lambda version, name: None)
    first = previews.catalogue()
    assert previews.catalogue() is first, "validated again, though nothing changed"

    brief = project / BRIEF
    stamp = brief.stat().st_mtime_ns
    brief.write_text(brief.read_text().replace("2020-01-15", "2020-01-16"))
    os.utime(brief, ns=(stamp, stamp))  # same size, same time: only the watcher knows
    assert previews.catalogue() is first
    previews.refresh([])  # what the watcher does with a batch of saves
    assert previews.catalogue().editions == {"sample": ["2020-01-16_sample_en"]}

    brief.write_text(brief.read_text().replace("2020-01-16", "2020-01-17") + "\n")
    assert previews.catalogue().editions == {"sample": ["2020-01-17_sample_en"]}, \
        "a save not yet seen by the watcher was missed"

    brief.write_text(brief.read_text().replace("title: Sample brief", "titel: Sample"))
    broken = previews.catalogue()
    assert broken.editions == {"sample": []}
    assert broken.problems["sample"][0].startswith("content/briefs/sample.yaml:")


def test_a_link_to_outside_does_not_stop_watch(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A symbolic link under content/ to a file outside the project appears
    while `watch` runs: the next save is still built (the watcher thread
    died on it), and the watcher did not even have to start again."""
    project = make_project(tmp_path / "p")
    secret = tmp_path / "secret.yaml"
    secret.write_text("title: not yours\n")
    asked: queue.Queue[list[str]] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(
        project, lambda slugs, first, stop: asked.put(slugs), stop), daemon=True)
    thread.start()
    try:
        assert asked.get(timeout=WAIT) == []  # the first build: every brief
        (project / "content/briefs/leak.yaml").symlink_to(secret)
        assert asked.get(timeout=WAIT) == ["leak"]  # named, its link not followed
        brief = project / BRIEF
        brief.write_text(brief.read_text() + "\n")
        assert "sample" in asked.get(timeout=WAIT)  # (with `leak`, if a save stopped it)
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert "failed" not in capsys.readouterr().out


def test_a_failing_watcher_starts_again_then_gives_up(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The watcher fails on a save (here `output` is a link to itself, so
    working out what the save affects meets a symbolic link loop): it says so,
    starts again and has everything rebuilt, then follows saves as before.
    One that keeps failing gives up with a clear message instead of going
    quiet; and an error of the caller's own (a usage error in its first
    build) is not the watcher's, and ends it at once."""
    project = make_project(tmp_path / "p")
    brief, output = project / BRIEF, project / "output"
    output.symlink_to("output")

    def save() -> None:
        brief.write_text(brief.read_text() + "\n")

    def repaired() -> None:  # the watcher is back: the loop goes, and a save is seen
        output.unlink()
        save()

    stop = threading.Event()
    try:
        assert next(follow(project, stop, debounce=50, ready=save, again=repaired)) == ["sample"]
    finally:
        stop.set()
    out = capsys.readouterr()
    assert "RuntimeError: Symlink loop" in out.err
    assert out.out.count("the file watcher failed; watching again") == 1

    output.symlink_to("output")
    stop = threading.Event()
    deadline = threading.Timer(WAIT, stop.set)  # only a bound on a failing run
    deadline.start()
    try:
        with pytest.raises(SystemExit, match=f"the file watcher failed {RETRIES} times in a "
                                             "row"):
            next(follow(project, stop, debounce=50, ready=save, again=save))
    finally:
        deadline.cancel()

    def wrong() -> None:
        raise UsageError("no brief is published in xx")

    with pytest.raises(UsageError):
        next(follow(project, threading.Event(), debounce=50, ready=wrong, again=save))


def test_a_watcher_that_gives_up_stops_serve(tmp_path: Path) -> None:
    """`serve` whose watcher keeps failing (the loop above) stops, saying why
    (exit 1), after telling the open page; it never keeps serving pages that
    no longer follow the saves."""
    project = make_project(tmp_path / "p")
    (project / "output").symlink_to("output")
    brief = project / BRIEF
    with serving(project) as (process, port):
        assert get(port, f"/edition/{EDITION}")[0] == 200
        with open_stream(port) as stream:
            # Saved until the server ends the stream; each round waits for news
            # of the last save (a save made while the watcher restarts is lost).
            for _ in range(4 * RETRIES):
                brief.write_text(brief.read_text() + "\n")
                if not stream.recv(65536):
                    break
            else:
                raise AssertionError(f"still serving after {4 * RETRIES} failing saves")
        assert process.wait(timeout=WAIT) == 1
    assert process.stdout is not None
    said = process.stdout.read()
    assert f"briefing: error: the file watcher failed {RETRIES} times in a row" in said


def test_a_deleted_brief_is_not_shown_as_current(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    told: list[tuple[int, str]] = []
    previews = Previews(project, Limits(), lambda version, name: told.append((version, name)))
    assert previews.get(EDITION).html
    (project / BRIEF).unlink()
    previews.refresh([])  # a deleted brief affects no brief that can be built
    shown = previews.get(EDITION)
    assert shown.html is None
    assert shown.problems == [f"no edition {EDITION}: it was renamed or removed"]
    assert told[-1] == (shown.version, EDITION), "the open page was not told to reload"
    assert previews.known(EDITION), "its page must say so, not answer 404"


def test_a_failed_build_of_output_is_not_shown_as_current(tmp_path: Path) -> None:
    """The preview renders in memory, and output/ is built after it: when that
    build fails (here `output` is a file), the page says so instead of passing
    for what output/ holds, and a build that succeeds clears it."""
    project = make_project(tmp_path / "p", files={"output": "not a folder\n"})
    brief = project / BRIEF
    with serving(project) as (_, port):
        assert get(port, f"/edition/{EDITION}")[0] == 200  # the page now viewed
        with open_stream(port) as stream:
            brief.write_text(brief.read_text().replace("Sample brief", "Saved brief"))
            page = told_until(stream, port, lambda page: "is not a folder" in page)
            assert "<h1>Mistakes in" in page and "output:1:1:" in page
            (project / "output").unlink()
            brief.write_text(brief.read_text().replace("Saved brief", "Saved again"))
            page = told_until(stream, port, lambda page: "is not a folder" not in page)
            assert "Saved again" in page and "Mistakes" not in page
    assert (project / "output/sample" / f"{EDITION}.pdf").is_file()


def told_until(stream: socket.socket, port: int, shown: Callable[[str], bool]) -> str:
    """The edition's page once `shown` holds of it, read again each time the
    server tells the page of a change (as the page's script would)."""
    while True:
        message = stream.recv(65536)
        assert message, "the stream ended"
        if f" {EDITION}".encode() in message and shown(page := get(port,
                                                                   f"/edition/{EDITION}")[2]):
            return page
