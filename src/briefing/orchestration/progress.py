"""What a build shows while it runs: a progress bar on a terminal, plain lines
in CI and logs (one per file written), nothing but errors with -q."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Written:
    """One file a build wrote: what progress reports show."""

    path: Path
    size: int
    seconds: float


class Progress(Protocol):
    """What a build reports while it runs."""

    def start(self, total: int) -> None: ...
    def done(self, name: str, written: list[Written]) -> None: ...


class Silent:
    """For builds nobody watches (tests, the archive)."""

    def start(self, total: int) -> None:
        pass

    def done(self, name: str, written: list[Written]) -> None:
        pass


class Lines:
    """One line per written file, for logs and CI."""

    def __init__(self, root: Path, verbosity: int) -> None:
        self.root, self.verbosity = root, verbosity

    def start(self, total: int) -> None:
        if self.verbosity > 0:
            print(f"{total} edition(s) to render")

    def done(self, name: str, written: list[Written]) -> None:
        if self.verbosity < 0:
            return
        for item in written:
            print(f"wrote {item.path.relative_to(self.root)} "
                  f"({item.size / 1024:.0f} KiB, {item.seconds:.2f} s)", flush=True)


class Bar(Lines):
    """A rich progress bar naming the edition that just finished."""

    def __init__(self, root: Path, verbosity: int) -> None:
        super().__init__(root, verbosity)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("[bold]building"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.description}"), transient=True)
        self.task = None

    def start(self, total: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("", total=total)

    def done(self, name: str, written: list[Written]) -> None:
        self.bar.update(self.task, advance=1, description=name)
        for item in written:
            self.bar.console.print(f"wrote {item.path.relative_to(self.root)}", highlight=False)

    def stop(self) -> None:
        self.bar.stop()


@contextmanager
def reporter(root: Path, verbosity: int) -> Iterator[Progress]:
    if verbosity >= 0 and sys.stderr.isatty() and sys.stdout.isatty():
        bar = Bar(root, verbosity)
        try:
            yield bar
        finally:
            if bar.task is not None:
                bar.stop()
    else:
        yield Lines(root, verbosity)
