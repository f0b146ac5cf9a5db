"""`briefing watch`: rebuild the briefs each saved change affects, forever.

Each batch of saves goes to the scheduler `serve` uses too (scheduler.py):
the saved brief's first edition is built first and its files written the
moment each is whole, and a save during a build stops it (the stopped
briefs are built with the next batch).

Errors are printed where they happen and the watcher carries on; even a bug
in Briefing is shown and survived, so an editor never has to restart it. The
watcher itself never dies quietly either (`follow`): a failure is shown and
it starts again, and only gives up, saying so, if it keeps failing.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from briefing.errors import BuildFailed, UsageError
from briefing.files import OUTPUT, WATCHED, ProjectFiles
from briefing.orchestration.cache import Cache
from briefing.orchestration.output import brief_links
from briefing.orchestration.scheduler import Build, Scheduler
from briefing.orchestration.workers import Stop, modules_for, preload_modules
from briefing.writers.registry import DEFAULT_FORMATS

SUFFIXES = {".yaml", ".j2", ".css", ".docx", ".svg", ".png", ".ttf"}
RETRIES = 3  # failures of the watcher in a row, no save seen in between, before giving up


def affected(files: ProjectFiles, changed: Iterable[Path]) -> list[str] | None:
    """The briefs a set of changed files touches; None means all of them.

    A file is named where it lies, its symbolic link not followed: a link to
    outside the project is a brief's file like any other (which the build then
    refuses, placed), and a path that still lies outside (inside a linked
    folder) touches everything."""
    cache = Cache.open(files)
    slugs: set[str] = set()
    deleted = False
    for path in changed:
        relative = files.relative(path)
        if relative.startswith("content/briefs/"):
            if path.exists():
                slugs.add(path.stem)
            elif path.stem in cache.briefs or path.stem in brief_links(files.path(OUTPUT)):
                # a brief with outputs gone, or a link to nowhere now (not an
                # editor's lock file `.#x.yaml`, say, which has no outputs)
                deleted = True
        elif relative.startswith("content/partners/"):
            users = [slug for slug, known in cache.briefs.items() if relative in known["files"]]
            unknown = [slug for slug in files.briefs() if slug not in cache.briefs]
            own = relative.split("/")[2:-1]  # content/partners/<slug>/<id>.yaml: its brief's
            slugs.update(users + unknown + own[:1])
        else:  # the publisher, a template, a catalog, a font, anything outside: everything
            return None
    slugs &= set(files.briefs())  # a deleted brief is still its partners' user in the cache
    if deleted and not slugs:
        # A brief deleted, none saved: any build removes a deleted brief's
        # outputs, and one of every brief finds the others up to date.
        return None
    return sorted(slugs)


def saved_brief(files: ProjectFiles, changed: Iterable[Path]) -> str | None:
    """The brief whose YAML is among `changed` (the first by name), if any."""
    saved = [path.stem for path in changed
             if files.relative(path).startswith("content/briefs/") and path.exists()]
    return min(saved, default=None)


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


def follow(root: Path, stop: threading.Event | None, *, debounce: int,
           ready: Callable[[], None], again: Callable[[], None]) -> Iterator[list[str] | None]:
    """The briefs each batch of saves affects (None: all of them; [] for
    none), until `stop` is set (see `batches`)."""
    return (slugs for slugs, _ in batches(root, stop, debounce=debounce, ready=ready,
                                          again=again))


def batches(root: Path, stop: threading.Event | None, *, debounce: int,
            ready: Callable[[], None], again: Callable[[], None]
            ) -> Iterator[tuple[list[str] | None, str | None]]:
    """For each batch of saves, the briefs it affects (as `follow`) and the
    brief whose own YAML was saved, if one was (the first by name).

    A watcher that died quietly would leave the editor saving into the void,
    trusting a stale build or page. So a failure of the watcher (of
    watchfiles, or in working out what a save affects) is printed with its
    traceback and the watcher starts again; once it is back in place `again`
    is called instead of `ready` (saves may have been missed meanwhile:
    rebuild everything). After RETRIES failures with no batch worked out in
    between, it gives up with a clear message (SystemExit, exit 1) rather
    than spin. What `ready` and `again` raise is the caller's, and passes."""
    failures = 0
    files = ProjectFiles(root)  # the watcher's one view of the project
    while True:
        theirs: list[BaseException] = []
        try:
            for changed in changes(root, stop, debounce,
                                   _marked(ready if failures == 0 else again, theirs)):
                slugs = affected(files, changed)
                failures = 0
                yield slugs, saved_brief(files, changed)
            return  # stopped
        except Exception as failure:
            if failure in theirs:
                raise
            traceback.print_exc()
            failures += 1
            if failures >= RETRIES:
                raise SystemExit(f"briefing: error: the file watcher failed {failures} times "
                                 "in a row (see above); stopped, since saves would go "
                                 "unseen") from None
            print("(the file watcher failed; watching again, and rebuilding every brief "
                  "since saves may have been missed)", flush=True)


def _marked(callback: Callable[[], None], raised: list[BaseException]) -> Callable[[], None]:
    """`callback`, noting in `raised` what it raises: the caller's own error
    (a usage error in the first build, say) is not a failure of the watcher."""

    def call() -> None:
        try:
            callback()
        except BaseException as error:
            raised.append(error)
            raise

    return call


def watch(root: Path, rebuild: Build, stop: threading.Event | None = None,
          formats: Sequence[str] = DEFAULT_FORMATS) -> None:
    """Build everything, then follow the saves until `stop` (or Ctrl-C):
    `rebuild(slugs, first, stop)` is the build ([] for every brief), in
    `formats`."""
    preload_modules(modules_for(formats))  # the render workers are forked from here
    build = _reported(rebuild)
    scheduler = Scheduler(build)
    thread = threading.Thread(target=scheduler.run, name="briefing-build", daemon=True)
    thread.start()  # idle until the first batch of saves

    def start() -> None:  # every save from here on is seen, those during this build too
        rebuild([], None, Stop())  # a usage error ends `watch` here, as it ends `build`
        print("watching content/, templates/ and fonts/ for changes (Ctrl-C to stop)",
              flush=True)

    try:  # the saved brief's first edition comes first (a slug stands for it)
        for slugs, brief in batches(root, stop, debounce=300, ready=start,
                                    again=lambda: scheduler.saved(None)):
            if slugs != []:
                scheduler.saved(slugs, brief)
    finally:  # the build in progress stops; what it finished is written
        scheduler.close()
        thread.join()


def _reported(rebuild: Build) -> Build:
    """`rebuild`, its errors printed and survived: the watcher goes on."""

    def build(slugs: list[str], first: str | None, stop: Stop) -> object:
        try:
            return rebuild(slugs, first, stop)
        except (BuildFailed, UsageError) as err:
            print(err, flush=True)
            return 1
        except Exception:
            traceback.print_exc()
            print("(a bug in Briefing; still watching)", flush=True)
            return 70

    return build
