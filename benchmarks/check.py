#!/usr/bin/env python3
"""`check` against `build --force` on the example project, in the same run.

    .venv/bin/python benchmarks/check.py [--repeats N]

Each round: `build --force`; then `check` as an editor runs it after a build
(the layouts' verdicts remembered); then `check` with no verdict remembered
(every edition laid out again). Commands run as the user runs them, in a
temporary copy of content/, templates/ and fonts/, with a private cache
folder. Prints medians and their ratios. Target (#19): check within 0.3x of
build --force.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BRIEFING = [sys.executable, "-m", "briefing"]


def timed(project: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run([*BRIEFING, "-C", str(project), *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "project"
        for name in ("content", "templates", "fonts"):
            shutil.copytree(REPO / name, project / name)
        env = {**os.environ, "XDG_CACHE_HOME": str(Path(scratch) / "cache")}
        verdicts = Path(scratch) / "cache" / "briefing" / "verdicts"
        timed(project, env, "build", "--force")  # warm the disk and the fonts' cache
        rounds: dict[str, list[float]] = {"build --force": [], "check after a build": [],
                                          "check, no verdict remembered": []}
        for _ in range(repeats):
            rounds["build --force"].append(timed(project, env, "build", "--force"))
            rounds["check after a build"].append(timed(project, env, "check"))
            shutil.rmtree(verdicts, ignore_errors=True)
            rounds["check, no verdict remembered"].append(timed(project, env, "check"))
    build = statistics.median(rounds["build --force"])
    print(f"| measure (median of {repeats}) | seconds | ratio to build --force |")
    print("|---|---|---|")
    for name, times in rounds.items():
        median = statistics.median(times)
        print(f"| {name} | {median:.2f} s | {median / build:.2f}x |")


if __name__ == "__main__":
    main()
