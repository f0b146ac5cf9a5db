#!/usr/bin/env python3
"""The live preview's speed: from a save to the reloaded page and to the fresh PDF
of the edition being viewed, as ratios to rendering that edition's HTML and PDF
alone, measured in the same run on the first brief (three languages, two
documents: eighteen files behind every save).

    .venv/bin/python benchmarks/preview.py [--repeats N]

Prints medians. Targets (docs/performance.md): HTML within 1.5x, PDF within 1.3x.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SLUG = "international-cooperation"
EDITION = f"2026-11-20_{SLUG}_en"


def alone(project: Path, formats: tuple[str, ...]) -> float:
    """Validate and render the one edition in `formats`, as the preview must."""
    from briefing.orchestration.validate import validate_content
    from briefing.orchestration.workers import Job, Limits, render_all

    started = time.perf_counter()
    validation = validate_content(project, [SLUG])
    edition = next(e for e in validation.editions(SLUG) if e.name == EDITION)
    list(render_all(validation.project, [Job(edition, formats)], 1, Limits()))
    return time.perf_counter() - started


def built_by_server(project: Path, since: float) -> None:
    """Wait until the server's background build has written this round's
    outputs (every file of the brief newer than the save at `since`; the
    viewed edition's come first, the rest after), so that nothing else runs
    while the baseline is measured."""
    folder = project / "output" / SLUG
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            times = [path.stat().st_mtime for path in folder.iterdir()]
        except FileNotFoundError:  # switched to a new generation meanwhile: look again
            times = []
        if times and min(times) > since:
            time.sleep(0.5)  # the cache is saved right after: let it
            return
        time.sleep(0.05)
    raise SystemExit("the server did not build the brief within 300 s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def repeats(description: str) -> int:
    """The rounds asked for on the command line (--repeats N, default 7)."""
    options = argparse.ArgumentParser(description=description.splitlines()[0])
    options.add_argument("--repeats", type=int, default=7)
    return int(options.parse_args().repeats)


@contextlib.contextmanager
def project_copy() -> Iterator[Path]:
    """A copy of the example project (content/, templates/, fonts/) in a
    temporary folder; the renderers imported here first, so that the
    baseline (`alone`) never pays for their import."""
    with tempfile.TemporaryDirectory() as temp:
        project = Path(temp) / "project"
        for folder in ("content", "templates", "fonts"):
            shutil.copytree(REPO / folder, project / folder)
        import briefing.render.html
        import briefing.writers.pdf  # noqa: F401
        yield project


def main() -> None:
    rounds = repeats(__doc__ or "")
    with project_copy() as project:
        port = free_port()
        server = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-C", str(project),
                                   "serve", "--port", str(port), "-j", "2"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None
            server.stdout.readline()
            base = f"http://127.0.0.1:{port}"
            urllib.request.urlopen(f"{base}/edition/{EDITION}", timeout=300).read()
            brief = project / "content" / "briefs" / f"{SLUG}.yaml"
            text = brief.read_text(encoding="utf-8")
            html_times, pdf_times, html_alone, pdf_alone = [], [], [], []
            for round_ in range(rounds):
                events = urllib.request.urlopen(f"{base}/events", timeout=300)
                events.readline(), events.readline()  # ": connected" and its blank line
                saved_at = time.time()
                started = time.perf_counter()
                brief.write_text(text.replace("International cooperation",
                                              f"International cooperation {round_}"),
                                 encoding="utf-8")
                while not events.readline().decode().startswith("data:"):
                    pass
                page = urllib.request.urlopen(f"{base}/edition/{EDITION}", timeout=300).read()
                html_times.append(time.perf_counter() - started)
                assert f"International cooperation {round_}".encode() in page
                pdf = urllib.request.urlopen(f"{base}/preview/{EDITION}.pdf", timeout=300).read()
                pdf_times.append(time.perf_counter() - started)
                assert pdf.startswith(b"%PDF")
                events.close()
                built_by_server(project, saved_at)
                html_alone.append(alone(project, ("html",)))
                pdf_alone.append(alone(project, ("html", "pdf")))
        finally:
            server.terminate()
            server.wait(timeout=60)
    report(rounds, [
        ("save to reloaded HTML edition vs its HTML alone", html_times, html_alone, 1.5),
        ("save to fresh PDF of the viewed edition vs it alone", pdf_times, pdf_alone, 1.3)])


def report(repeats: int,
           rows: list[tuple[str, list[float], list[float], float | None]]) -> None:
    """Each measure's medians, ours and alone, their ratio and its target (None:
    the measure has none, it is shown for what it tells)."""
    width = max(len(what) for what, *_ in rows) + 1
    print(f"{'measure (median of ' + str(repeats) + ')':<{width}} {'ours':>9} {'alone':>9}  ratio")
    for what, ours, base_times, target in rows:
        ours_m, base_m = statistics.median(ours), statistics.median(base_times)
        print(f"{what:<{width}} {ours_m:7.3f} s {base_m:7.3f} s  {ours_m / base_m:5.2f}x"
              + (f"  (target <= {target}x)" if target is not None else ""))


if __name__ == "__main__":
    main()
