"""What the preview shows: the viewed edition, rendered first on every save.

Previews are made by the build's own validation and worker pool, and held in
memory, apart from output/: the HTML edition of the edition being viewed,
then its PDF, then the affected briefs are built into output/ as a normal
build does it (all-or-nothing per brief). A mistake in content or templates
becomes the preview's `problems`, the same `path:line:col: message` lines the
command line prints, and the server keeps running.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from briefing.build.validate import validate_content
from briefing.build.workers import Job, Limits, RenderBugs, render_all
from briefing.errors import BuildFailed, UsageError
from briefing.files import ProjectFiles
from briefing.render.edition import Edition, editions


@dataclass
class Preview:
    """The latest rendering of one edition, or why there is none."""

    name: str
    version: int = 0
    html: bytes | None = None
    pdf: bytes | None = None
    problems: list[str] = field(default_factory=list)


class Previews:
    """Every edition's preview; `viewed` is rendered first after each save."""

    def __init__(self, root: Path, limits: Limits, changed: Callable[[int, str], None]
                 ) -> None:
        self.root, self.limits, self.changed = root, limits, changed
        self.lock = threading.RLock()
        self.previews: dict[str, Preview] = {}
        self.viewed: str | None = None
        self.version = 0

    # -- what there is ---------------------------------------------------------------------

    def catalogue(self) -> dict[str, list[str]]:
        """slug -> the names of its editions (or [] for a brief that does not load)."""
        try:
            validation = validate_content(self.root)
        except (BuildFailed, UsageError):
            return {slug: [] for slug in ProjectFiles(self.root).briefs()}
        return {slug: [e.name for e in validation.editions(slug)]
                if slug not in validation.failed else [] for slug in validation.slugs}

    def get(self, name: str) -> Preview:
        """The preview of edition `name`, rendered now if it never was (or is
        stale). A preview already made is answered at once, even while the next
        step (the viewed edition's PDF, say) is rendering."""
        preview = self.previews.get(name)
        if preview is not None and preview.version != -1:
            return preview
        with self.lock:
            self.view(name)
            self.refresh([self._slug(name)])
            return self.previews.setdefault(name, Preview(name))

    def view(self, name: str) -> None:
        self.viewed = name

    # -- rendering ---------------------------------------------------------------------------

    def refresh(self, slugs: list[str] | None) -> None:
        """After a save: the viewed edition's HTML, then its PDF, then the rest."""
        with self.lock:
            viewed = self.viewed
            slug = self._slug(viewed) if viewed else None
            if viewed and (slugs is None or slug in slugs):
                self._render(slug, viewed, ("html",))
                self.changed(self.previews[viewed].version, viewed)  # the page reloads now
                self._render(slug, viewed, ("pdf",), keep_version=True)
            for other in list(self.previews):
                if other != viewed and (slugs is None or self._slug(other) in slugs):
                    self.previews[other].version = -1  # stale: rendered again when viewed

    def _render(self, slug: str | None, name: str, formats: tuple[str, ...],
                keep_version: bool = False) -> None:
        preview = self.previews.setdefault(name, Preview(name))
        if not keep_version:
            self.version += 1
            preview.version = self.version
        try:
            edition = self._edition(slug, name)
        except BuildFailed as failed:
            preview.html = preview.pdf = None
            preview.problems = [str(problem) for problem in failed.problems]
            return
        if edition is None:
            preview.html = preview.pdf = None
            preview.problems = [f"no edition {name}: it was renamed or removed"]
            return
        validation, edition = edition
        try:
            outcomes = list(render_all(self.root, validation.project,
                                       [Job(edition, formats)], 1, self.limits))
        except RenderBugs as bugs:
            preview.problems = [f"a bug in Briefing while rendering {name}:",
                                *(bug.traceback for bug in bugs.bugs)]
            return
        for _, outputs, problems in outcomes:
            if problems:
                preview.html = preview.pdf = None
                preview.problems = [str(problem) for problem in sorted(set(problems))]
                return
            preview.problems = []
            for fmt, data, _ in outputs:
                setattr(preview, fmt, data)

    def _edition(self, slug: str | None, name: str) -> tuple[object, Edition] | None:
        if slug is None or slug not in ProjectFiles(self.root).briefs():
            return None
        validation = validate_content(self.root, [slug])
        if validation.failed or validation.unattributed:
            raise BuildFailed(validation.problems)
        for edition in editions(validation.project, validation.brief(slug)):
            if edition.name == name:
                return validation, edition
        return None

    @staticmethod
    def _slug(name: str) -> str:
        """`<date>_<slug>[_<kind>]_<lang>` -> slug."""
        parts = name.split("_")
        return parts[1] if len(parts) >= 3 else name


def rebuild_outputs(root: Path, slugs: list[str] | None, build: Callable[[list[str]], None]
                    ) -> None:
    """The affected briefs into output/, as `build` does it; any trouble is the
    preview's to show, never the server's end."""
    try:
        build(slugs or [])
    except (BuildFailed, UsageError):
        pass
    except Exception:  # a bug: shown, and the server goes on
        traceback.print_exc()
