"""Writing output files so that nothing is ever half-written.

Each file goes to a temporary name in its own folder, is flushed to disk, and
only then renamed over the final name: a reader (or a crash) sees the old file
or the new one, never a truncated mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".partial"
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomically(path: Path, data: bytes) -> None:
    write_all({path: data})


def write_all(files: dict[Path, bytes]) -> None:
    """Write several files so that each is whole and none is replaced unless all
    could be written: every temporary is written and flushed first, then all
    are renamed into place. On any error the temporaries go and the old files stay."""
    temps: dict[Path, str] = {}
    try:
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                        suffix=TEMP_SUFFIX)
            temps[path] = temp
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o644 & ~_UMASK)  # mkstemp makes 0600
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        for temp in temps.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
        raise
    for path, temp in temps.items():
        os.replace(temp, path)
    for folder in {path.parent for path in files}:
        sync_folder(folder)


def remove_stale_temporaries(folder: Path) -> None:
    """Delete temporaries a killed build left behind (never a finished file).

    Whatever `folder` is, nothing archived is swept: the walk follows no
    symbolic link and enters no archive (a folder with a register.csv), no
    edition (a BagIt bag, with its bagit.txt) and no publish in progress
    (`.incoming-*`); those are the archive's own, and publish tidies them."""
    if not folder.is_dir():
        return
    for parent, folders, names in os.walk(folder):  # followlinks=False
        if parent != str(folder) and os.path.exists(os.path.join(parent, "register.csv")):
            folders[:] = []
            continue
        links = [name for name in folders if os.path.islink(os.path.join(parent, name))]
        for name in [*names, *links]:  # a link to a folder is listed among the folders
            if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                Path(parent, name).unlink(missing_ok=True)
        folders[:] = [name for name in folders if name not in links
                      and not name.startswith(".incoming-")
                      and not os.path.lexists(os.path.join(parent, name, "bagit.txt"))]


def sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """One build (or publish) at a time per project: a lock on the project folder
    itself, so no lock file is left behind; a second build waits its turn."""
    fd = os.open(root, os.O_RDONLY)
    _HELD.add(fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("waiting for another build of this project to finish...", file=sys.stderr,
                  flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)  # closing releases the lock


_HELD: set[int] = set()


def forget_locks() -> None:
    """In a forked worker: drop the inherited lock descriptors, so that the lock
    is held by the build alone and goes when the build goes, however it ends."""
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


# --- a brief's folder, switched in one step ----------------------------------------------

GENERATION = ".gen"


def switch_folder(link: Path, files: dict[str, bytes], keep: set[str]) -> None:
    """Make `link` (output/<slug>) show a new generation of a brief's files in
    one atomic step: `files` written, the `keep` names of the current
    generation carried over (hard links: same bytes, same times), anything
    else left behind. A reader, or a crash at any moment, sees the old set or
    the new set, never a mix. `link` is a symbolic link to a hidden folder
    `.<slug>.<random>.gen` beside it; an older build's plain folder is adopted
    as the first generation."""
    parent = link.parent
    parent.mkdir(parents=True, exist_ok=True)
    current = _adopt(link)
    generation = Path(tempfile.mkdtemp(dir=parent, prefix=f".{link.name}.", suffix=GENERATION))
    try:
        os.chmod(generation, 0o755 & ~_UMASK)
        if current is not None:
            for name in sorted(keep - set(files)):
                if (current / name).is_file():
                    os.link(current / name, generation / name)
        write_all({generation / name: data for name, data in files.items()})
        pointer = parent / f".{link.name}.link{TEMP_SUFFIX}"
        pointer.unlink(missing_ok=True)
        os.symlink(generation.name, pointer)
        os.replace(pointer, link)  # the one step
        sync_folder(parent)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    if current is not None:
        shutil.rmtree(current, ignore_errors=True)


def remove_folder(link: Path) -> None:
    """Remove a brief's outputs altogether (its brief was deleted or renamed)."""
    target = link.resolve() if link.is_symlink() else None
    if link.is_symlink():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    if target is not None and target.name.endswith(GENERATION):
        shutil.rmtree(target, ignore_errors=True)
    sync_folder(link.parent)


def brief_links(folder: Path) -> set[str]:
    """The slugs whose files `folder` (output/) shows: each a link `<slug>` to
    a generation `.<slug>.<random>.gen` beside it, as only switch_folder makes
    them, whether or not the cache knows the brief (a brief whose first
    edition was written early under `watch` and whose build then failed)."""
    if not folder.is_dir():
        return set()
    return {entry.name for entry in folder.iterdir() if entry.is_symlink()
            and (target := os.readlink(entry)).startswith(f".{entry.name}.")
            and target.endswith(GENERATION) and "/" not in target}


def remove_abandoned_generations(folder: Path) -> None:
    """Generations no link points to: left by a build killed mid-switch."""
    if not folder.is_dir():
        return
    live = {os.readlink(entry) for entry in folder.iterdir() if entry.is_symlink()}
    for entry in folder.iterdir():
        if entry.name.endswith(GENERATION) and entry.is_dir() and not entry.is_symlink() \
                and entry.name not in live:
            shutil.rmtree(entry, ignore_errors=True)


def _adopt(link: Path) -> Path | None:
    """The folder `link` shows now, turning an older build's plain folder into a
    generation first (renamed, then linked: a reader briefly sees no folder,
    never a mix, and only once)."""
    if link.is_symlink():
        return link.parent / os.readlink(link)
    if not link.exists():
        return None
    adopted = Path(tempfile.mkdtemp(dir=link.parent, prefix=f".{link.name}.", suffix=GENERATION))
    os.rmdir(adopted)
    os.rename(link, adopted)
    os.symlink(adopted.name, link)
    sync_folder(link.parent)
    return adopted
