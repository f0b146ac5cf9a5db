#!/usr/bin/env python3
"""Per-page cost from a short brief to a long one: it must stay flat.

    .venv/bin/python benchmarks/pages.py            # about 7 and 300 pages
    .venv/bin/python benchmarks/pages.py --pages 1000

Renders the same kind of brief (prose and one long table) at two lengths
through Briefing's PDF writer (layout, structure tree, accessibility gate)
and prints, as medians, each one's seconds per page and the ratio of the long
one's to the short one's; then the same for the structure tree alone. A ratio
near 1.0 is a cost that grows with the document, not faster.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import pikepdf
from run import corpus, edition_request, median_time

from briefing.writers.pdf import write_pdf

ROWS_PER_PAGE = 17  # about, for the corpus's table rows


def seconds_per_page(project: Path, repeats: int) -> tuple[float, int, float]:
    """Seconds per page of our PDF writer, the page count, and the structure
    tree's own seconds per page (timed around its one function)."""
    from briefing.writers import tagging

    request = edition_request(project, "brief-000", "ru")
    pages = len(pikepdf.open(io.BytesIO(write_pdf(request))).pages)
    spent: list[float] = []
    building = tagging.structure_tree

    def timed(*args: object) -> None:
        started = time.perf_counter()
        building(*args)
        spent.append(time.perf_counter() - started)

    tagging.structure_tree = timed  # the benchmark's own stopwatch, nothing else changes
    try:
        whole = median_time(lambda: write_pdf(request), repeats)
    finally:
        tagging.structure_tree = building
    return whole / pages, pages, statistics.median(spent) / pages


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--pages", type=int, default=300, help="the long brief's length")
    options.add_argument("--repeats", type=int, default=3)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        short = corpus(Path(temp) / "short", 1, 2 * ROWS_PER_PAGE)
        long = corpus(Path(temp) / "long", 1, args.pages * ROWS_PER_PAGE)
        small, small_pages, small_tree = seconds_per_page(short, args.repeats)
        large, large_pages, large_tree = seconds_per_page(long, args.repeats)
    print(f"{'':28} {small_pages:>5} pages {large_pages:>6} pages   ratio")
    print(f"{'PDF writer, s per page':28} {small:11.4f} {large:12.4f} {large / small:7.2f}x")
    print(f"{'structure tree, s per page':28} {small_tree:11.4f} {large_tree:12.4f} "
          f"{large_tree / small_tree:7.2f}x")


if __name__ == "__main__":
    main()
