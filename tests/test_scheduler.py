"""The editor's loop (orchestration/scheduler.py): `watch` and `serve` hand
their saves to one scheduler, which builds output/ with the edition saved or
viewed most recently first, and stops a build when a save comes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOTS, make_project

from briefing.orchestration.scheduler import Scheduler
from briefing.orchestration.watch import watch
from briefing.orchestration.workers import Limits, Stop
from briefing.preview import server
from briefing.preview.previews import Previews

WAIT = 120  # seconds a condition may take to come true: a bound, not a pause
SAMPLE = "2020-01-15_sample_en"

Asked = queue.Queue[tuple[list[str], "str | None"]]


@pytest.fixture
def scheduled() -> Iterator[tuple[Scheduler, Asked]]:
    """A scheduler whose build only records what it is asked (slugs, first)."""
    asked: Asked = queue.Queue()
    scheduler = Scheduler(lambda slugs, first, stop: asked.put((slugs, first)))
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        yield scheduler, asked
    finally:
        scheduler.close()
        thread.join(WAIT)
    assert not thread.is_alive()


def test_the_edition_saved_or_viewed_last_comes_first(
        scheduled: tuple[Scheduler, Asked]) -> None:
    scheduler, asked = scheduled
    scheduler.saved(["b", "c"], "c")  # watch: brief c's YAML saved (a slug: its first edition)
    assert asked.get(timeout=WAIT) == (["b", "c"], "c")
    scheduler.saved(["a", "c"])  # a partner both use: c is still the one edited
    assert asked.get(timeout=WAIT) == (["a", "c"], "c")
    scheduler.saved(None)  # a template: every brief, c still first
    assert asked.get(timeout=WAIT) == ([], "c")
    scheduler.saved(["d", "e"])  # a partner c does not use: the first affected brief
    assert asked.get(timeout=WAIT) == (["d", "e"], "d")
    scheduler.request(["a"], "2020-01-01_a_note_ru")  # serve: the edition viewed
    assert asked.get(timeout=WAIT) == (["a"], "2020-01-01_a_note_ru")
    scheduler.request(["a", "b"])
    assert asked.get(timeout=WAIT) == (["a", "b"], "2020-01-01_a_note_ru")
    scheduler.request(["b"], "2020-01-01_a_note_ru")  # a save that misses the viewed brief
    assert asked.get(timeout=WAIT) == (["b"], "b")


def test_a_save_stops_the_build_and_its_briefs_are_built_again() -> None:
    """A build meets a save: it is stopped (pause returns once it has), and
    the next build covers both the stopped brief and the new one. The build
    here is a stand-in that, the first time, runs until it is stopped."""
    asked: list[tuple[list[str], str | None]] = []
    started, finished = threading.Event(), threading.Event()

    def build(slugs: list[str], first: str | None, stop: Stop) -> None:
        asked.append((slugs, first))
        if len(asked) == 1:
            started.set()
            assert stop.signal.poll(WAIT), "never stopped"  # woken by the stop itself
        else:
            finished.set()

    scheduler = Scheduler(build)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        scheduler.request(["first"])
        assert started.wait(WAIT)
        scheduler.pause()  # returns once the build in progress has stopped
        assert len(asked) == 1
        scheduler.request(["second"], "second")
        assert finished.wait(WAIT)
        assert asked == [(["first"], "first"), (["first", "second"], "second")]
    finally:
        scheduler.close()
        thread.join(WAIT)
    assert not thread.is_alive()


def test_watch_hands_its_saves_to_the_scheduler_and_a_save_stops_a_build(
        tmp_path: Path) -> None:
    """`watch` with a stand-in build: after the first build (every brief),
    a save of `sample` is built in the scheduler's thread with `sample` first;
    that build runs until the save of `other` stops it, and the next build
    covers both, `other` (saved last) first."""
    project = make_project(tmp_path / "p", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    asked: Asked = queue.Queue()
    threads: list[str] = []

    def rebuild(slugs: list[str], first: str | None, stop: Stop) -> int:
        asked.put((slugs, first))
        threads.append(threading.current_thread().name)
        if slugs == ["sample"]:
            assert stop.signal.poll(WAIT), "the save of `other` did not stop this build"
        return 0

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(project, rebuild, stop), daemon=True)
    thread.start()
    try:
        assert asked.get(timeout=WAIT) == ([], None)  # the first build: every brief
        sample = project / "content/briefs/sample.yaml"
        sample.write_text(sample.read_text() + "\n")
        assert asked.get(timeout=WAIT) == (["sample"], "sample")
        other = project / "content/briefs/other.yaml"
        other.write_text(other.read_text() + "\n")
        assert asked.get(timeout=WAIT) == (["other", "sample"], "other")
    finally:
        stop.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert threads[1:] == ["briefing-build", "briefing-build"]


def test_serve_hands_its_saves_to_the_same_scheduler(tmp_path: Path) -> None:
    """The preview renders the viewed edition, then asks the scheduler (the
    class `serve` makes, the one `watch` uses) to build the saved brief with
    that edition first."""
    assert server.Scheduler is Scheduler
    project = make_project(tmp_path / "p")
    asked: Asked = queue.Queue()
    scheduler = Scheduler(lambda slugs, first, stop: asked.put((slugs, first)))
    previews = Previews(project, Limits(), lambda version, name: None, scheduler)
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        previews.view(SAMPLE)
        brief = project / "content/briefs/sample.yaml"
        brief.write_text(brief.read_text().replace("Sample brief", "Viewed brief"))
        previews.refresh(["sample"])  # what the watcher does with the save
        assert previews.previews[SAMPLE].html and b"Viewed brief" in previews.previews[
            SAMPLE].html
        assert asked.get(timeout=WAIT) == (["sample"], SAMPLE)
    finally:
        scheduler.close()
        thread.join(WAIT)
    assert not thread.is_alive()
