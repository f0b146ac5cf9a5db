"""What the preview shows: the viewed edition, rendered first on every save.

Previews are made by the build's own validation and worker pool, and held in
memory, apart from output/: the HTML edition of the edition being viewed and
its PDF, at once; then, in the background, the affected briefs are built into
output/ by the scheduler `watch` uses too (orchestration/scheduler.py): the
viewed edition first, its files written as soon as each is whole, then the
rest as a normal build does it (all-or-nothing per brief), a build that the
next save stops so that its preview comes first. A mistake in content or templates
becomes the preview's `problems`, the same `path:line:col: message` lines the
command line prints, and the server keeps running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from briefing.errors import BuildFailed, UsageError
from briefing.files import ProjectFiles
from briefing.orchestration.scheduler import Scheduler
from briefing.orchestration.validate import validate_content
from briefing.orchestration.workers import Job, Limits, RenderBugs, render_all
from briefing.render.edition import Edition, editions, slug_of

if TYPE_CHECKING:
    from briefing.content.model import Project


Found = tuple["Project", Edition]  # an edition to render, and its validated project


@dataclass
class Preview:
    """The latest rendering of one edition, or why there is none."""

    name: str
    version: int = 0
    html: bytes | None = None
    pdf: bytes | None = None
    pdf_version: int = 0  # the version `pdf` was rendered for: older is stale
    problems: list[str] = field(default_factory=list)
    unbuilt: str = ""  # why the last build of output/ for its brief failed, if it did


@dataclass(frozen=True)
class Catalogue:
    """What the preview lists: each brief's editions, or why it has none."""

    editions: dict[str, list[str]]  # slug -> the names of its editions ([]: see problems)
    problems: dict[str, list[str]]  # slug -> the mistakes that keep it from loading


class Previews:
    """Every edition's preview; `viewed` is rendered first after each save."""

    def __init__(self, root: Path, limits: Limits, changed: Callable[[int, str], None],
                 outputs: Scheduler | None = None) -> None:
        self.root, self.limits, self.changed = root, limits, changed
        self.files = ProjectFiles(root)  # the server's one view of the project
        self.outputs = outputs  # paused while a preview renders, then asked to build
        self.lock = threading.RLock()
        self.previews: dict[str, Preview] = {}
        self.viewed: str | None = None
        self.version = 0
        self.saves = 0  # batches of saves seen: part of the catalogue's key
        self._catalogue: tuple[object, Catalogue] | None = None
        self._catalogue_lock = threading.Lock()

    # -- what there is ---------------------------------------------------------------------

    def catalogue(self) -> Catalogue:
        """Every brief's editions, or the mistakes of a brief that does not load.

        It takes a whole validation, so it is kept while the project's input
        files are unchanged (the same names, sizes and modification times, and
        no batch of saves seen since): a page load is then a few `stat`s, and
        a burst of requests never validates the project more than once."""
        with self._catalogue_lock:
            key = (self.saves, self._stamps())
            if self._catalogue is None or self._catalogue[0] != key:
                self._catalogue = (key, self._validated_catalogue())
            return self._catalogue[1]

    def known(self, name: str) -> bool:
        """Whether the preview may show edition `name`: one in the catalogue,
        or one shown before (a brief since broken or removed shows why). Every
        other name from a URL is refused, never rendered or echoed."""
        return name in self.previews or any(name in names
                                            for names in self.catalogue().editions.values())

    def _stamps(self) -> tuple[tuple[str, int, int], ...]:
        files = self.files
        stamps = []
        for name in files.inputs():
            try:
                stat = files.path(name).stat()
            except OSError:  # gone or unreadable since it was listed: a change too
                stamps.append((name, -1, -1))
            else:
                stamps.append((name, stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def _validated_catalogue(self) -> Catalogue:
        try:
            validation = validate_content(self.files)
        except (BuildFailed, UsageError) as failed:  # the whole project: every brief
            slugs = self.files.briefs()
            return Catalogue({slug: [] for slug in slugs},
                             {slug: str(failed).splitlines() for slug in slugs})
        return Catalogue({slug: [e.name for e in validation.editions(slug)]
                          if slug not in validation.failed else [] for slug in validation.slugs},
                         {slug: [str(p) for p in problems]
                          for slug, problems in validation.failed.items()})

    def get(self, name: str) -> Preview:
        """The preview of edition `name`, rendered now if it never was (or is
        stale). A preview already made is answered at once, even while the next
        step (the viewed edition's PDF, say) is rendering."""
        preview = self.previews.get(name)
        if preview is not None and preview.version != -1:
            return preview
        with self.lock:
            self.view(name)
            self.refresh([slug_of(name)], saved=False)
            return self.previews.setdefault(name, Preview(name))

    def with_pdf(self, name: str) -> Preview:
        """The preview of `name` with a PDF of its latest version: waits for the
        PDF a save is rendering (a refresh holds the lock until it is made),
        or renders it now."""
        self.get(name)
        with self.lock:
            preview = self.previews.setdefault(name, Preview(name))
            if preview.pdf_version != preview.version and not preview.problems:
                with self._outputs_paused([]):
                    self._render(name, (("pdf",),), keep_version=True)
            return preview

    def view(self, name: str) -> None:
        self.viewed = name

    # -- rendering ---------------------------------------------------------------------------

    def refresh(self, slugs: list[str] | None, *, saved: bool = True) -> None:
        """After a save: the viewed edition's HTML, then its PDF, then the
        affected briefs into output/ (`saved`) while the page is read."""
        if saved:
            self.saves += 1
        with self.lock, self._outputs_paused(slugs if saved else []):
            self._refresh(slugs)

    def built(self, slugs: list[str] | None, failed: str) -> None:
        """The build of output/ for `slugs` (None: all) after a save is done;
        `failed` says why it failed, or is "". A preview is then not shown as
        if output/ held it: its page says the build failed until one succeeds.
        Pages whose verdict changed are told to reload."""
        with self.lock:
            changed = [preview for preview in self.previews.values()
                       if (slugs is None or slug_of(preview.name) in slugs)
                       and preview.unbuilt != failed]
            if changed:
                self.version += 1
            for preview in changed:
                preview.unbuilt = failed
                if preview.version != -1:
                    preview.version = self.version
                self.changed(self.version, preview.name)

    def broken(self, why: list[str]) -> None:
        """Something failed before the previews could follow a save (a bug of
        ours, shown in the terminal): no preview may pass for current, so each
        shows `why` until the next save renders it again, and the pages reload."""
        with self.lock:
            self.version += 1
            for preview in self.previews.values():
                preview.html = preview.pdf = None
                preview.problems, preview.version = list(why), self.version
            for name in self.previews:
                self.changed(self.version, name)

    @contextmanager
    def _outputs_paused(self, then: list[str] | None) -> Iterator[None]:
        """The preview first, with the machine to itself: the output build
        stopped meanwhile, and asked afterwards to build `then` (and what it
        was stopped in), the viewed edition first."""
        if self.outputs is not None:
            self.outputs.pause()
        try:
            yield
        finally:
            if self.outputs is not None:
                self.outputs.request(then, self.viewed)

    def _refresh(self, slugs: list[str] | None) -> None:
        briefs = self.files.briefs()

        def touched(name: str) -> bool:  # a deleted brief's previews say it is gone
            return slugs is None or slug_of(name) in slugs or slug_of(name) not in briefs

        with self.lock:
            viewed = self.viewed
            if viewed and touched(viewed):
                # Both at once, in two workers: the page reloads as soon as its
                # HTML is out, and the PDF is not held up behind it.
                self._render(viewed, (("html",), ("pdf",)), announce=True)
            for other in list(self.previews):
                if other != viewed and touched(other):
                    self.previews[other].version = -1  # stale: rendered again when viewed

    def _render(self, name: str, steps: tuple[tuple[str, ...], ...], *,
                announce: bool = False, keep_version: bool = False) -> None:
        """Render edition `name` into its preview, each step (a tuple of
        formats) in a worker of its own; with `announce`, tell the pages once
        the first step is in. The preview takes its new version only with its
        new content: a page read meanwhile (without the lock) gets the old
        content with the old version, and so reloads when told."""
        preview = self.previews.setdefault(name, Preview(name))
        if not keep_version:
            self.version += 1
        version = self.version if not keep_version else preview.version
        try:
            found = self._edition(slug_of(name), name)
        except BuildFailed as failed:
            found, preview.problems = None, [str(problem) for problem in failed.problems]
        else:
            if found is None:
                preview.problems = [f"no edition {name}: it was renamed or removed"]
        if found is None:
            preview.html = preview.pdf = None
            preview.version = version
            if announce:
                self.changed(preview.version, name)
            return
        project, edition = found
        jobs = [Job(edition, formats) for formats in steps]
        try:
            for index, (_, outputs, problems) in enumerate(
                    render_all(project, jobs, len(jobs), self.limits)):
                if problems:
                    shown = bool(preview.html) and not preview.problems
                    preview.html = preview.pdf = None
                    preview.problems = [str(problem) for problem in sorted(set(problems))]
                    if index == 0:
                        preview.version = version
                    if announce and index > 0 and shown:  # the page showed the HTML:
                        self.version += 1  # now it must show what the PDF found
                        preview.version = self.version
                        self.changed(preview.version, name)
                else:
                    for fmt, data, _ in outputs:
                        setattr(preview, fmt, data)
                        if fmt == "pdf":
                            preview.pdf_version = version
                    if index == 0:
                        preview.problems, preview.version = [], version
                if announce and index == 0:
                    self.changed(preview.version, name)  # the page reloads now
        except RenderBugs as bugs:
            preview.html = preview.pdf = None
            preview.problems = [f"a bug in Briefing while rendering {name}:",
                                *(bug.traceback for bug in bugs.bugs)]
            preview.version = version
            if announce:
                self.changed(preview.version, name)

    def _edition(self, slug: str | None, name: str) -> Found | None:
        if slug is None or slug not in self.files.briefs():
            return None
        validation = validate_content(self.files, [slug])
        if validation.failed or validation.unattributed:
            raise BuildFailed(validation.problems)
        for edition in editions(validation.project, validation.brief(slug)):
            if edition.name == name:
                return validation.project, edition
        return None
