"""`briefing watch`: rebuild the briefs each saved change affects, forever.

Errors are printed where they happen and the watcher carries on; even a bug
in Briefing is shown and survived, so an editor never has to restart it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from briefing.errors import BuildFailed, UsageError
from briefing.files import WATCHED
from briefing.orchestration.cache import Cache

SUFFIXES = {".yaml", ".j2", ".css", ".docx", ".svg", ".png", ".ttf"}


def affected(root: Path, changed: Iterable[Path]) -> list[str] | None:
    """The briefs a set of changed files touches; None means all of them."""
    cache = Cache.open(root)
    slugs: set[str] = set()
    for path in changed:
        relative = path.resolve().relative_to(root.resolve()).as_posix()
        if relative.startswith("content/briefs/"):
            if path.exists():
                slugs.add(path.stem)
        elif relative.startswith("content/partners/"):
            users = [slug for slug, known in cache.briefs.items() if relative in known["files"]]
            unknown = [p.stem for p in (root / "content/briefs").glob("*.yaml")
                       if p.stem not in cache.briefs]
            slugs.update(users + unknown)
        else:  # the publisher, a template, a catalog, a font: everything
            return None
    return sorted(slugs)


def changes(root: Path, stop: threading.Event | None = None, debounce: int = 300,
            ready: Callable[[], None] | None = None) -> Iterator[list[Path]]:
    """The files each save changes under content/, templates/ and fonts/,
    gathered for `debounce` ms: what `watch` and `serve` react to.

    `ready` is called once, as soon as the watcher sees every save (saves made
    while it runs are gathered for the first batch): whoever says "watching"
    says it from there, or a save made right after would be lost."""
    import watchfiles

    paths = [root / name for name in WATCHED if (root / name).is_dir()]
    # A quiet spell of `rust_timeout` ms yields an empty batch: the first one
    # tells that the watcher is in place.
    for found in watchfiles.watch(*paths, stop_event=stop, debounce=debounce, step=10,
                                  rust_timeout=100, yield_on_timeout=True,
                                  watch_filter=lambda _, name: Path(name).suffix in SUFFIXES):
        if ready is not None:
            ready()
            ready = None
        if found:
            yield [Path(name) for _, name in found]


def watch(root: Path, rebuild: Callable[[list[str] | None], None],
          stop: threading.Event | None = None) -> None:
    def start() -> None:  # every save from here on is seen, those during this build too
        rebuild(None)
        print("watching content/, templates/ and fonts/ for changes (Ctrl-C to stop)",
              flush=True)

    for changed in changes(root, stop, ready=start):
        slugs = affected(root, changed)
        if slugs == []:
            continue
        try:
            rebuild(slugs)
        except (BuildFailed, UsageError) as err:
            print(err, flush=True)
        except Exception:
            traceback.print_exc()
            print("(a bug in Briefing; still watching)", flush=True)
