"""`build.py watch`: rebuild the briefs each saved change affects, forever.

Errors are printed where they happen and the watcher carries on; even a bug
in Briefing is shown and survived, so an editor never has to restart it.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from briefing.build.cache import Cache
from briefing.errors import BuildFailed, UsageError

WATCHED = ("content", "templates", "fonts")
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


def watch(root: Path, rebuild: Callable[[list[str] | None], None],
          stop: threading.Event | None = None) -> None:
    import watchfiles

    rebuild(None)
    print("watching content/, templates/ and fonts/ for changes (Ctrl-C to stop)", flush=True)
    paths = [root / name for name in WATCHED if (root / name).is_dir()]
    for changes in watchfiles.watch(*paths, stop_event=stop, debounce=300,
                                    watch_filter=lambda _, name: Path(name).suffix in SUFFIXES):
        slugs = affected(root, [Path(name) for _, name in changes])
        if slugs == []:
            continue
        try:
            rebuild(slugs)
        except (BuildFailed, UsageError) as err:
            print(err, flush=True)
        except Exception:
            traceback.print_exc()
            print("(a bug in Briefing; still watching)", flush=True)
