"""The editor's loop, shared by `watch` and `serve`: after each batch of saves,
build the affected briefs into output/, the edition saved or viewed most
recently first.

One thread builds; a save stops the build in progress at once (the briefs it
finished are written, those it stopped are built again with the next batch),
so that the next save never waits behind the last one. Which edition comes
first (`Scheduler.priority`):

- the edition viewed most recently (`serve`: the one in the browser), or
  the brief whose YAML was just saved (`watch`: its first edition, the
  first language and first document), when the batch affects it;
- else the one prioritised before, if the batch still affects it (a partner,
  a template or the publisher saved while the same brief is edited);
- else the first affected brief's first edition.

The build is told that edition (`pipeline.build(first=...)`): its files go
to output/ the moment each is whole, before the rest of its brief.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from briefing.errors import BuildFailed, UsageError
from briefing.orchestration.workers import Stop
from briefing.render.edition import slug_of

# What a build does with a batch: the briefs (every one for []), the edition to
# do first (an edition's name, or a brief's slug for its first edition), and
# the Stop a new save sets. It returns an exit code (0 or None: built).
Build = Callable[[list[str], str | None, Stop], object]
class Scheduler:
    """Builds the briefs each batch of saves affects into output/, in a thread
    of its own (`run`), the edition saved or viewed most recently first."""

    def __init__(self, build: Build,
                 built: Callable[[list[str] | None, str], None] | None = None) -> None:
        self._build = build
        self._built = built  # told how each build that was not stopped ended
        self._ready = threading.Condition()
        self._pending: set[str] | None = set()  # None: every brief
        self._asked = False  # whether a build is wanted now
        self._stop = Stop()
        self._closed = False
        self._building = False
        self.priority: str | None = None  # the edition (or brief) done first, last time

    def saved(self, slugs: list[str] | None, latest: str | None = None) -> None:
        """A batch of saves (`watch`): stop the build in progress, then build
        what it was stopped in and `slugs` (None: every brief), `latest` (the
        saved brief's slug: its first edition) first."""
        self.pause()
        self.request(slugs, latest)

    def pause(self) -> None:
        """Stop the build in progress and wait until it has stopped (render
        workers are forked with what a render is given: two renders at once
        would mix it up); start none until `request`. `serve` pauses while it
        renders the viewed edition's preview."""
        with self._ready:
            self._asked = False
            self._stop.set()
            self._ready.wait_for(lambda: not self._building)

    def request(self, slugs: list[str] | None, latest: str | None = None) -> None:
        """Build `slugs` (None: every brief) as soon as the thread is free,
        `latest` first if they include it: the edition viewed (its name) or
        the brief saved (its slug) most recently."""
        with self._ready:
            if self._pending is not None:
                self._pending = None if slugs is None else self._pending | set(slugs)
            if latest is not None:
                self.priority = latest
            self._asked = True
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._stop.set()
            self._ready.notify()

    def first(self, slugs: set[str] | None) -> str | None:
        """The edition to build first among `slugs` (None: every brief): the
        one prioritised (viewed, or done first last time) if it is among
        them, else the first brief's first edition (its slug stands for it)."""
        if self.priority is not None and (slugs is None or slug_of(self.priority) in slugs):
            return self.priority
        return min(slugs) if slugs else None

    def run(self) -> None:
        """The thread's life: build what was asked, until closed."""
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._asked or self._closed)
                if self._closed:
                    return
                slugs, self._pending, self._asked = self._pending, set(), False
                if slugs == set():
                    continue
                self.priority = first = self.first(slugs)
                self._stop.clear()
                self._building = True
            failed = self._run(slugs, first)
            with self._ready:
                self._building = False
                stopped = self._stop.is_set()
                if stopped and self._pending is not None:  # stopped by a save:
                    self._pending = None if slugs is None else self._pending | slugs  # again
                self._ready.notify_all()
            # Told outside the condition: a save holding the previews' lock may
            # be waiting in `pause` for this very build to end.
            if not stopped and self._built is not None:
                self._built(sorted(slugs) if slugs is not None else None, failed)

    def _run(self, slugs: set[str] | None, first: str | None) -> str:
        """Build `slugs`; why it failed, or "". The built files stay as they
        were for a brief that failed, and the build printed its mistakes."""
        try:
            code = self._build(sorted(slugs) if slugs is not None else [], first, self._stop)
        except (BuildFailed, UsageError) as err:
            return str(err)
        except Exception:  # a bug: shown, and the loop goes on
            traceback.print_exc()
            code = 70
        if code in (0, None):
            return ""
        return (f"the build of output/ after the last save failed (exit {code}): the "
                "terminal running `briefing serve` shows why; output/ keeps its previous "
                "files")
