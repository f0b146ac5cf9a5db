"""The file-system changes a process makes under a folder, as the kernel reports them.

Tests that must act at an exact moment of a build (kill it right after its
fifth rename, say) wait for that change here instead of sleeping and hoping
the build got that far: inotify queues every change in order, however fast or
slow the machine is.
"""

from __future__ import annotations

import ctypes
import os
import select
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

_LIBC = ctypes.CDLL(None, use_errno=True)
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
# What counts as a change: a file made, finished, renamed or removed; a folder made.
_WATCHED = (0x8      # IN_CLOSE_WRITE
            | 0x40   # IN_MOVED_FROM
            | 0x80   # IN_MOVED_TO
            | 0x100  # IN_CREATE
            | 0x200)  # IN_DELETE
_IN_ISDIR = 0x40000000
_HEADER = struct.Struct("iIII")  # wd, mask, cookie, len


class Changes:
    """Every change under `folder` (sub-folders included, also those made
    later), one at a time."""

    def __init__(self, folder: Path) -> None:
        self._fd = _LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self._folders: dict[int, Path] = {}
        self._pending: list[str] = []
        for path in [folder, *(p for p in folder.rglob("*") if p.is_dir()
                               and not p.is_symlink())]:
            self._watch(path)

    def _watch(self, folder: Path) -> None:
        wd = _LIBC.inotify_add_watch(self._fd, os.fsencode(folder), _WATCHED)
        if wd >= 0:  # a folder already gone is no change to wait for
            self._folders[wd] = folder

    def next(self, timeout: float) -> str | None:
        """The next change, `<event> <path>`; None if nothing changed within
        `timeout` seconds (the process is done, or stuck)."""
        while not self._pending:
            ready, _, _ = select.select([self._fd], [], [], timeout)
            if not ready:
                return None
            self._read()
        return self._pending.pop(0)

    def _read(self) -> None:
        data = os.read(self._fd, 65536)
        offset = 0
        while offset < len(data):
            wd, mask, _, size = _HEADER.unpack_from(data, offset)
            offset += _HEADER.size
            name = data[offset:offset + size].rstrip(b"\0").decode()
            offset += size
            folder = self._folders.get(wd)
            if folder is None or not name:
                continue
            path = folder / name
            if mask & 0x100 and mask & _IN_ISDIR:
                self._watch(path)
            self._pending.append(f"{mask & _WATCHED:#x} {path}")

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> Changes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The telling moments to kill a build at (test_robustness.py), in the order a
# build reaches them: a brief's files are written as temporaries into a new
# generation folder (`.<slug>.<random>.gen`) and renamed there; then the brief's link
# output/<slug> is switched to it (made as a temporary link, renamed over the
# old one); the old generation is removed, and the cache is saved last. A
# moment is the first change of its kind after those of the kinds before it:
# a build also removes, as it starts, what a killed one left behind.
Change = Callable[[str], bool]


def _kind(change: str) -> tuple[str, str, str]:
    """(event, the changed name, the name of its folder)."""
    event, _, path = change.partition(" ")
    folder, _, name = path.rpartition("/")
    return event, name, folder.rpartition("/")[2]


def _switched(change: str) -> bool:
    """output/<slug> renamed into place."""
    event, name, folder = _kind(change)
    return event == "0x80" and not name.startswith(".") and not folder.startswith(".")


MOMENTS: dict[str, tuple[Change, ...]] = {
    "before the first file is written": (
        lambda change: _kind(change)[0] == "0x100" and _kind(change)[1].endswith(".gen"),),
    "while a temporary is written": (
        lambda change: _kind(change)[0] in ("0x100", "0x8") and _kind(change)[2].endswith(".gen")
        and change.endswith(".partial"),),
    "once a file is renamed into its generation": (
        lambda change: _kind(change)[0] == "0x80" and _kind(change)[2].endswith(".gen"),),
    "at the switch, its temporary link made": (
        lambda change: _kind(change)[0] == "0x100" and change.endswith(".link.partial"),),
    "right after the switch": (_switched,),
    "while the old generation is removed": (_switched, lambda change: _kind(change)[0] == "0x200"),
    "while the cache is saved": (_switched, lambda change: _kind(change)[2] == ".cache"),
}


def kill_at(command: list[str], folder: Path, moment: tuple[Change, ...]) -> bool:
    """Run `command` and SIGKILL it right after the change that completes
    `moment`; whether it was killed (not: it ended before that)."""
    folder.mkdir(exist_ok=True)
    waiting = list(moment)
    with Changes(folder) as changes:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        try:
            while waiting:  # also the changes still queued when it exits
                change = changes.next(timeout=0 if process.poll() is not None else 1.0)
                if change is None and process.poll() is not None:
                    return False
                if change is not None and waiting[0](change):
                    waiting.pop(0)
            process.kill()  # SIGKILL: no cleanup handler runs
            return True
        finally:
            process.kill()
            process.wait()
