#!/usr/bin/env python3
"""The typesetting gate's cost, as a share of the PDF render it checks.

    .venv/bin/python benchmarks/typesetting.py              # the examples and a long brief
    .venv/bin/python benchmarks/typesetting.py --repeats 5

For each edition: the median seconds of Briefing's whole PDF writer (layout,
gate, structure tree, accessibility gate) and of the gate alone (timed around
its one function), the gate's share of the render, and its milliseconds per
page. Target (docs/typesetting.md): under 5 % of the render.
"""

from __future__ import annotations

import argparse
import io
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pikepdf
from run import REPO, corpus, edition_request, median_time

from briefing.writers import pdf


def measured(project: Path, slug: str, language: str, repeats: int) -> tuple[int, float, float]:
    """Pages, the writer's median seconds, the gate's median seconds."""
    request = edition_request(project, slug, language)
    pages = len(pikepdf.open(io.BytesIO(pdf.write_pdf(request))).pages)
    spent: list[float] = []
    gate = pdf.gate

    def timed(*args: object) -> object:
        started = time.perf_counter()
        found = gate(*args)
        spent.append(time.perf_counter() - started)
        return found

    pdf.gate = timed  # the benchmark's own stopwatch, nothing else changes
    try:
        whole = median_time(lambda: pdf.write_pdf(request), repeats)
    finally:
        pdf.gate = gate
    return pages, whole, statistics.median(spent)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--repeats", type=int, default=3)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        examples = Path(temp) / "examples"
        for folder in ("content", "templates", "fonts"):
            shutil.copytree(REPO / folder, examples / folder)
        long = corpus(Path(temp) / "long", 1, 600)
        editions = [(examples, "international-cooperation", "az"),
                    (examples, "border-cooperation", "ru"), (long, "brief-000", "ru")]
        print(f"{'edition':34} {'pages':>5} {'render s':>9} {'gate s':>7} {'share':>6} "
              f"{'ms/page':>8}")
        for project, slug, language in editions:
            pages, whole, gate = measured(project, slug, language, args.repeats)
            print(f"{slug + ' ' + language:34} {pages:5d} {whole:9.2f} {gate:7.3f} "
                  f"{100 * gate / whole:5.1f}% {1000 * gate / pages:8.1f}")


if __name__ == "__main__":
    main()
