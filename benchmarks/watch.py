#!/usr/bin/env python3
"""`briefing watch`'s speed: from a save of the first brief's YAML to the saved
edition's HTML and PDF fresh in output/, as ratios to validating and rendering
that edition's HTML and PDF alone (the same baseline as benchmarks/preview.py),
measured in the same run on the first brief (three languages, two documents:
eighteen files behind every save).

    .venv/bin/python benchmarks/watch.py [--repeats N]

Prints medians. Targets (docs/performance.md): HTML within 1.5x, PDF within 1.3x.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

# One baseline for both benchmarks: run as a script, its own folder is on the path.
from preview import EDITION, REPO, SLUG, alone, project_copy, repeats, report

POLL = 0.002  # seconds between two looks at output/: a bound on the error of a reading


class Lines:
    """What `watch` prints, read in a thread; `wait` for a line that starts so."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self.news = threading.Condition()
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in iter(stream.readline, ""):
            with self.news:
                self.lines.append(line)
                self.news.notify_all()

    def wait(self, start: str, after: int = 0) -> int:
        """The index of the first line from `after` on that starts with `start`."""
        with self.news:
            found: list[int] = []

            def seen() -> bool:
                found[:] = [i for i in range(after, len(self.lines))
                            if self.lines[i].startswith(start)][:1]
                return bool(found)

            if not self.news.wait_for(seen, timeout=600):
                raise SystemExit(f"watch never printed {start!r}:\n{''.join(self.lines)}")
            return found[0]


def stamp(path: Path) -> tuple[int, int] | None:
    """Which file `path` is now: a rewritten output is a new file (a new inode)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def main() -> None:
    rounds = repeats(__doc__ or "")
    with project_copy() as project:
        watcher = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-C", str(project),
                                    "watch", "-j", "2"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        printed = Lines(watcher)
        try:
            seen = printed.wait("watching") + 1  # the first build is done
            brief = project / "content" / "briefs" / f"{SLUG}.yaml"
            text = brief.read_text(encoding="utf-8")
            html = project / "output" / SLUG / f"{EDITION}.html"
            pdf = project / "output" / SLUG / f"{EDITION}.pdf"
            if not pdf.is_file():
                raise SystemExit("the first build failed:\n" + "".join(printed.lines))
            html_times, pdf_times, html_alone, pdf_alone = [], [], [], []
            brief_times, brief_alone = [], []
            for round_ in range(rounds):
                marker = f"International cooperation {round_}"
                old_html, old_pdf = stamp(html), stamp(pdf)
                started = time.perf_counter()
                brief.write_text(text.replace("International cooperation", marker),
                                 encoding="utf-8")
                html_at = pdf_at = None
                while html_at is None or pdf_at is None:
                    now = time.perf_counter()
                    if html_at is None and stamp(html) not in (old_html, None):
                        html_at = now
                        assert marker in html.read_text(encoding="utf-8"), "a stale HTML"
                    if pdf_at is None and stamp(pdf) not in (old_pdf, None):
                        pdf_at = now
                    if now - started > 600:
                        raise SystemExit("watch did not rebuild the edition within 600 s:\n"
                                         + "".join(printed.lines))
                    time.sleep(POLL)
                html_times.append(html_at - started)
                pdf_times.append(pdf_at - started)
                seen = printed.wait("built ", seen) + 1  # the whole brief: the machine is ours
                brief_times.append(time.perf_counter() - started)
                time.sleep(0.5)
                html_alone.append(alone(project, ("html",)))
                pdf_alone.append(alone(project, ("html", "pdf")))
                brief_alone.append(whole_brief(project))
        finally:
            watcher.terminate()
            watcher.wait(timeout=60)
    report(rounds, [
        ("save to fresh HTML in output/ vs its HTML alone", html_times, html_alone, 1.5),
        ("save to fresh PDF in output/ vs it alone", pdf_times, pdf_alone, 1.3),
        ("save to the whole brief rebuilt vs build --force of it", brief_times, brief_alone,
         None)])


def whole_brief(project: Path) -> float:
    """`build SLUG --force -j 2` as `watch` builds it, in this process (the
    watcher is idle: it watches content/, templates/ and fonts/ only)."""
    from briefing.orchestration import pipeline

    started = time.perf_counter()
    result = pipeline.build(project, [SLUG], force=True, jobs=2)
    assert result.ok, result
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
