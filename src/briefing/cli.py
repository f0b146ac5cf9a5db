"""`briefing` and `python build.py`: parse the command line, run the pipeline,
map exit codes.

Exit codes: 0 done, 1 content or template mistakes (all listed, one per line),
2 the command line itself is wrong, 3 Briefing is not set up (a package is
missing: run `make build`). Anything else that escapes is a bug in
Briefing and is shown with its traceback, asking for a report.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefing import __version__
from briefing.errors import BuildFailed, Problem, UsageError
from briefing.files import BRIEFS, find_root
from briefing.orchestration import pipeline
from briefing.orchestration.workers import (
    MAX_MEMORY_MIB,
    MAX_SECONDS,
    Limits,
    RenderOptions,
    Stop,
    memory_ceiling_mib,
)
from briefing.writers.registry import BUILD_FORMATS, DEFAULT_FORMATS, WRITERS

if TYPE_CHECKING:
    from briefing.content.model import Project

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_SETUP, EXIT_BUG = 0, 1, 2, 3, 70
DOCUMENT_FORMATS = ("pdf", "docx", "html")  # `changes` as a document of its own
COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {}


def parser(prog: str = "briefing") -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog=prog,
        description="Turn the YAML content under content/ into PDF and DOCX briefs.",
        epilog="Without a command, `build` runs with its defaults. Exit codes: 0 done, "
               "1 content or template errors, 2 usage error.",
    )
    main.add_argument("--version", action="version", version=f"Briefing {__version__}")
    main.add_argument("-C", "--project", type=Path, default=Path.cwd(), metavar="DIR",
                      help="the project folder (default: the current folder)")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")

    build = commands.add_parser(
        "build", help="build briefs (every brief, language and format by default)",
        description="Validate content, then write output/<slug>/<date>_<slug>_<lang>.<format> "
                    "for every brief that is not already up to date. A brief with mistakes "
                    "writes nothing; the others are still built.")
    build.add_argument("slugs", nargs="*", metavar="SLUG", help="only these briefs")
    _build_options(build)
    build.add_argument("--force", action="store_true",
                       help="rebuild even what is up to date")

    check = commands.add_parser(
        "check", help="validate content and templates without writing anything",
        description="Run the build's whole validation (content, references, fonts, "
                    "templates, and every edition's HTML against what the writers "
                    "support) and report every mistake as path:line:col, then exit 1; "
                    "exit 0 exactly when `build` can render everything. Writes nothing.")
    check.add_argument("slugs", nargs="*", metavar="SLUG",
                       help="only these briefs (default: all of them)")
    check.add_argument("--allow-fallback", action="store_true",
                       help="do not report missing translations")
    _limits(check)

    watch = commands.add_parser(
        "watch", help="rebuild the affected briefs on every saved change",
        description="Build, then watch content/, templates/ and fonts/; each saved change "
                    "rebuilds only the briefs it affects. Errors are printed and watching "
                    "goes on. Stop with Ctrl-C.")
    _build_options(watch)

    serve = commands.add_parser(
        "serve", help="preview the HTML edition in a browser, refreshed on every save",
        description="Serve the HTML editions on http://127.0.0.1:PORT/ (this machine only). "
                    "Each saved change re-renders the edition being viewed first, reloads "
                    "the page, then builds the affected briefs into output/. Mistakes are "
                    "shown in the page; the server keeps running. Stop with Ctrl-C.")
    serve.add_argument("--port", type=lambda text: _positive(text, 65535, "a port number"),
                       default=8000,
                       help="the port to listen on (default: 8000)")
    _build_options(serve)

    new = commands.add_parser(
        "new", help="scaffold a new brief that builds at once",
        description="Write content/briefs/SLUG.yaml: a commented brief, wired to the JSON "
                    "Schema so editors complete and check keys while typing.")
    new.add_argument("slug", metavar="SLUG", help="the new brief's name: a-z, 0-9 and -")

    publish = commands.add_parser(
        "publish", help="freeze a brief into a new archive edition",
        description="Write archive/<date>_<slug>_v<N>/: a BagIt 1.0 bag with the PDF/A-3u "
                    "and DOCX of every language, the exact source and a build manifest; "
                    "each PDF sealed (PAdES) when BRIEFING_SEAL_KEY names the organisation's "
                    "key (docs/archive.md), unsealed and saying so otherwise. Unchanged "
                    "source publishes nothing; an edition is never rewritten.")
    publish.add_argument("slug", metavar="SLUG", help="the brief to publish")
    _limits(publish)

    verify = commands.add_parser(
        "verify", help="prove an edition (or an archived PDF) is the build of its source",
        description="Check an edition's fixity, its record (files, bag-info.txt and folder "
                    "name against its build manifest) and its seals, then rebuild it from "
                    "its own source and compare byte for byte. Without a target (or with "
                    "--all), audit every edition of archive/ (fixity, record and seals; "
                    "--rebuild adds the rebuild): one line per edition and a summary. "
                    "Exit 1 if anything fails.")
    verify.add_argument("target", type=Path, metavar="EDITION_OR_PDF", nargs="?",
                        help="an edition folder under archive/, or an archived PDF "
                             "(default: every edition)")
    verify.add_argument("--all", action="store_true",
                        help="audit every edition of archive/ (the default without a target)")
    verify.add_argument("--rebuild", action="store_true",
                        help="with --all: also rebuild every edition and compare (slow)")
    _limits(verify)

    changes = commands.add_parser(
        "changes", help="what changed in a brief since its last published version",
        description="Compare the brief's current content with its latest published version "
                    "(or --since a version number or a git revision), record by record, and "
                    "print what was added, removed and changed, grouped by section, in the "
                    "brief's first language (or --lang). Exit 0 (also when there is no "
                    "previous version), 1 on content mistakes in either version.")
    changes.add_argument("slug", metavar="SLUG", help="the brief")
    changes.add_argument("--since", metavar="VERSION|REV",
                         help="a published version's number (2), or a git revision of the "
                              "project folder (HEAD~1, a tag); default: the latest published "
                              "version")
    changes.add_argument("--lang", dest="language", metavar="LANG",
                         help="one of the brief's languages (default: its first)")
    changes.add_argument("--format", choices=("text", "json", "redline", *DOCUMENT_FORMATS),
                         default="text",
                         help="text (default), json (every change with its old and new "
                              "values and its sentence in each language), redline (-o "
                              "FILE.docx: the report with the changes as Word tracked "
                              "changes), or pdf, docx, html (-o FILE: the changes as a "
                              "document of their own, in --lang)")
    changes.add_argument("-o", "--output", type=Path, metavar="FILE",
                         help="write to FILE instead of printing")
    _limits(changes)

    review = commands.add_parser(
        "review", help="compare a DOCX an official returned with its edition, field by field",
        description="Find the edition RETURNED.docx was built from, compare its text field by "
                    "field with the edition as built and with the YAML now, and print each "
                    "change, pending tracked change and comment at its field's line in the "
                    "YAML (path:line:col: field: ...). Exit 0 when nothing changed, 1 when "
                    "there is something to review (docs/review.md).")
    review.add_argument("returned", type=Path, metavar="RETURNED.docx",
                        help="the DOCX as the official returned it")
    review.add_argument("--apply", action="store_true",
                        help="write the official's edits into the YAML (comments, layout and "
                             "quoting kept), refusing fields whose YAML changed since the "
                             "edition was built; then run check")
    review.add_argument("--accept-tracked", action="store_true",
                        help="with --apply: also apply the tracked changes not yet accepted")
    review.add_argument("--format", choices=("text", "html"), default="text",
                        help="html: also write the review as a page (to -o FILE)")
    review.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="where --format html writes the page (default: standard output)")

    commands.add_parser(
        "schema", help="write the JSON Schemas of the content format to schema/",
        description="Generate schema/brief.schema.json, partner.schema.json and "
                    "publisher.schema.json from the model, for YAML-aware editors.")
    return main


def main(argv: list[str] | None = None, prog: str = "briefing") -> int:
    commands = parser(prog)
    args = commands.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:  # `briefing [-C DIR]`: build everything with the defaults
        args = commands.parse_args([*(["-C", str(args.project)]), "build"])
    start = args.project.resolve()
    if not start.is_dir():
        commands.error(f"no project folder {args.project}")
    root = find_root(start)
    if root is None:
        commands.error(f"not a Briefing project: neither {start} nor any folder above it "
                       "holds content/briefs/ or templates/theme.yaml (use -C DIR to name "
                       "the project folder)")
    try:
        return COMMANDS[args.command](args, root)
    except BuildFailed as failed:
        _print_problems(failed.problems)
        # `check` writes nothing whatever it finds: only a command that writes says so.
        written = "" if args.command == "check" else "; nothing was written"
        print(f"{len(failed.problems)} error(s){written}", file=sys.stderr)
        return EXIT_CONTENT
    except UsageError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as err:
        if (err.name or "").partition(".")[0] == "briefing":
            raise
        print(f"{prog}: Briefing is not set up: the package `{err.name}` is missing; run "
              "`make build` once (it installs everything), then use .venv/bin/briefing",
              file=sys.stderr)
        return EXIT_SETUP
    except KeyboardInterrupt:
        print("interrupted; finished outputs are complete, nothing is half-written",
              file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("This is a bug in Briefing, not in your content: please report it "
              "with the traceback above.", file=sys.stderr)
        return EXIT_BUG


def command(name: str) -> Callable[[Callable[[argparse.Namespace, Path], int]],
                                   Callable[[argparse.Namespace, Path], int]]:
    def register(function: Callable[[argparse.Namespace, Path], int]
                 ) -> Callable[[argparse.Namespace, Path], int]:
        COMMANDS[name] = function
        return function
    return register


@command("check")
def _check(args: argparse.Namespace, root: Path) -> int:
    from briefing.orchestration.validate import validate

    validation = validate(root, args.slugs, allow_fallback=args.allow_fallback,
                          jobs=args.jobs, limits=Limits(args.timeout, args.memory))
    if not validation.ok:
        raise BuildFailed(validation.problems)
    _print_problems(validation.notes)  # advice: plain http addresses, say; exit 0
    project = validation.project
    own = sum(len(partners) for partners in project.local.values())  # of one brief each
    print(f"ok: {len(validation.slugs)} brief(s), {len(project.partners) + own} partner(s)")
    return EXIT_OK


@command("build")
def _build(args: argparse.Namespace, root: Path) -> int:
    return _run_build(args, root, args.slugs, force=args.force)


@command("watch")
def _watch(args: argparse.Namespace, root: Path) -> int:
    from briefing.orchestration.watch import watch

    watch(root, lambda slugs, first, stop: _run_build(args, root, slugs, force=False,
                                                      stop=stop, first=first),
          formats=args.format or DEFAULT_FORMATS)
    return EXIT_OK


@command("serve")
def _serve(args: argparse.Namespace, root: Path) -> int:
    from briefing.preview.server import serve

    args.verbosity = -1  # the page shows what the build would print
    serve(root, args.port, Limits(args.timeout, args.memory),
          lambda slugs, first, stop: _run_build(args, root, slugs, force=False, stop=stop,
                                                first=first))
    return EXIT_OK


@command("new")
def _new(args: argparse.Namespace, root: Path) -> int:
    from briefing.content.scaffold import new_brief

    path = new_brief(root, args.slug)
    print(f"wrote {path.relative_to(root)}; build it with: briefing build {args.slug}")
    return EXIT_OK


@command("publish")
def _publish(args: argparse.Namespace, root: Path) -> int:
    from briefing.archive.publish import publish

    published = publish(root, args.slug, _render_options(args))
    where = published.path.relative_to(root)
    if published.new:
        print(f"published {where} (version {published.version}; seal: {published.seal})")
        if (repeated := published.date_repeated) is not None:
            print(f"note: version {published.version} carries the issue date of version "
                  f"{repeated[0]} ({repeated[1]}), the `date:` of {BRIEFS}/{args.slug}.yaml: "
                  "right for a correction; for a new issue, give the brief its date and "
                  "publish again")
    else:
        print(f"unchanged since {where}; nothing published")
    return EXIT_OK


@command("verify")
def _verify(args: argparse.Namespace, root: Path) -> int:
    from briefing.archive.seal import Settings, trust_roots
    from briefing.archive.verify import audit, verify
    from briefing.files import ARCHIVE

    if args.target is not None and args.all:
        raise UsageError("give an edition or a PDF, or --all, not both")
    if args.rebuild and args.target is not None:
        raise UsageError("--rebuild is for --all: verifying one edition always rebuilds it")
    trust = trust_roots(Settings.from_environment())
    if args.target is not None:
        verdicts = verify(root, args.target.resolve(), _render_options(args), trust)
        for verdict in verdicts:
            print(verdict, file=sys.stdout if verdict.ok else sys.stderr)
        failed = [v for v in verdicts if not v.ok]
        print(f"{len(verdicts) - len(failed)} passed, {len(failed)} failed")
        return EXIT_OK if verdicts and not failed else EXIT_CONTENT
    found = audit(root, _render_options(args), trust, rebuild=args.rebuild)
    for verdict in [*found.editions, *([found.register] if found.register else [])]:
        print(verdict, flush=True)
    damaged = sum(not verdict.ok for verdict in found.editions)
    print(f"{len(found.editions)} edition(s) in {ARCHIVE}/: "
          f"{len(found.editions) - damaged} intact, {damaged} damaged"
          + ("; the register does not vouch for them (see its line)" if found.register
             else ""))
    return EXIT_OK if found.ok else EXIT_CONTENT


@command("changes")
def _changes(args: argparse.Namespace, root: Path) -> int:
    from briefing.changes.report import as_json, summary, text

    found = summary(root, args.slug, args.since)
    languages = found.languages
    if args.language is not None and args.language not in languages:
        raise UsageError(f"--lang {args.language}: brief {args.slug!r} is written in "
                         f"{', '.join(languages)}")
    if found.changes is None or found.since is None:
        print(found.note)
        return EXIT_OK
    if args.format == "redline":
        return _redline(args, root, found.changes.old, found.changes.new)
    if args.format in DOCUMENT_FORMATS:
        return _changes_document(args, root, found, args.language or languages[0])
    out = as_json(found.changes, found.since).decode() if args.format == "json" else \
        text(found.changes, args.language or languages[0], found.since)
    if args.output is None:
        sys.stdout.write(out)
        return EXIT_OK
    return _written(args.output, out.encode())


def _changes_document(args: argparse.Namespace, root: Path, found: Any, language: str) -> int:
    """The changes as a document of their own: templates/changes.html.j2, an
    edition of kind `changes` with the annex against `--since`, rendered in
    the build's limited workers as every edition is."""
    from briefing.changes.annex import Annex
    from briefing.files import TEMPLATES
    from briefing.orchestration.workers import Job, render_all
    from briefing.render.edition import Edition

    if args.output is None:
        raise UsageError(f"--format {args.format} writes a file: give it -o FILE.{args.format}")
    project = found.changes.new
    edition = Edition(project.brief(args.slug), language, None, "changes")
    if not (root / TEMPLATES / edition.template).is_file():
        raise UsageError(f"{TEMPLATES}/{edition.template} is missing: copy it from Briefing's "
                         "own templates/ to make the changes a document")
    annex = Annex(found.changes, found.since, root, ())
    for _, outputs, problems in render_all(project, [Job(edition, (args.format,))], 1,
                                           _render_options(args).limits,
                                           annex={args.slug: annex}):
        if problems:
            raise BuildFailed(problems)
        return _written(args.output, outputs[0][1])
    raise AssertionError("render_all yields one outcome per job")


def _redline(args: argparse.Namespace, root: Path, old: Project, new: Project) -> int:
    from briefing.changes.redline import redline

    if args.output is None:
        raise UsageError("--format redline writes a DOCX: give it -o FILE.docx")
    return _written(args.output, redline(old, new, args.slug, args.language))


def _written(output: Path, data: bytes) -> int:
    """`data` written to `-o FILE`; a file that cannot be written is a usage error."""
    try:
        output.write_bytes(data)
    except OSError as err:
        raise UsageError(f"-o {output}: cannot be written: {err.strerror}") from None
    print(f"wrote {output}")
    return EXIT_OK


@command("review")
def _review(args: argparse.Namespace, root: Path) -> int:
    from briefing.review.command import run

    return run(root, args)


@command("schema")
def _schema(args: argparse.Namespace, root: Path) -> int:
    from briefing.content.schema import write

    for path in write(root):
        print(f"wrote {path.relative_to(root)}")
    return EXIT_OK


def _run_build(args: argparse.Namespace, root: Path, slugs: list[str], *, force: bool,
               stop: Stop | None = None, first: str | None = None) -> int:
    """`build`, and each build of `watch` and `serve` (`stop`: a save ends it;
    `first`: the edition they build first, see orchestration/scheduler.py)."""
    from briefing.orchestration.progress import reporter

    with reporter(root, args.verbosity) as progress:
        result = pipeline.build(root, slugs, args.lang, args.format or DEFAULT_FORMATS,
                                allow_fallback=args.allow_fallback, force=force,
                                jobs=args.jobs, limits=Limits(args.timeout, args.memory),
                                progress=progress, stop=stop, first=first)
    # One mistake in a partner two briefs share fails both, and is one mistake:
    # counted once, as `check` counts it.
    problems = list(dict.fromkeys(p for slug in sorted(result.failed)
                                  for p in result.failed[slug]))
    _print_problems(problems + result.problems)
    if args.verbosity >= 0:
        summary = f"built {len(result.written)} file(s)"
        if result.fresh:
            summary += f", {len(result.fresh)} up to date"
        if result.stopped:
            summary += "; stopped by a save: the briefs not finished are built next"
        print(summary, flush=True)
    if result.failed:
        # watch and serve write the edition they build first as soon as it is
        # whole (pipeline.build, `first`): those files stand; the rest did not change
        early = [item.path.name for item in result.written
                 if item.path.parent.name in result.failed]
        print(f"failed: {', '.join(sorted(result.failed))} ({len(problems)} error(s); their "
              + (f"other outputs are untouched, the new {', '.join(early)} stand)" if early
                 else "previous outputs are untouched)"), file=sys.stderr)
    elif result.problems:
        print(f"{len(result.problems)} error(s) outside the briefs; the briefs' outputs "
              "are written", file=sys.stderr)
    if result.bugs:  # after everything else was written and reported
        for bug in result.bugs:
            print(f"a bug in Briefing stopped rendering {bug.edition}:\n{bug.traceback}",
                  file=sys.stderr, end="" if bug.traceback.endswith("\n") else "\n")
        print("This is a bug in Briefing, not in your content: please report it "
              "with the traceback above.", file=sys.stderr)
        return EXIT_BUG
    return EXIT_OK if result.ok else EXIT_CONTENT


def _render_options(args: argparse.Namespace) -> RenderOptions:
    return RenderOptions(args.jobs, Limits(args.timeout, args.memory))


def _print_problems(problems: list[Problem]) -> None:
    for problem in sorted(set(problems)):
        print(problem, file=sys.stderr)


def _build_options(sub: argparse.ArgumentParser) -> None:
    """What `build` and `watch` share: selection, processes, limits, verbosity."""
    sub.add_argument("--lang", action="append", default=[], metavar="LANG",
                     help="only this language (repeatable)")
    sub.add_argument("--format", action="append", choices=BUILD_FORMATS, default=[],
                     help="only this format (repeatable): " + "; ".join(
                         f"{name}: {WRITERS[name].description}" for name in BUILD_FORMATS)
                     + f" (default: {', '.join(DEFAULT_FORMATS)})")
    sub.add_argument("--allow-fallback", action="store_true",
                     help="build drafts despite missing translations: the text of another "
                          "language is shown, visibly marked, and the edition says DRAFT")
    _limits(sub)
    _verbosity(sub)


def _limits(sub: argparse.ArgumentParser) -> None:
    """How many processes render, and the limits of each: every rendering command.

    A time limit is at most MAX_SECONDS. A memory limit above what this
    process may ever map (its hard RLIMIT_AS, which workers inherit) is
    refused rather than quietly lowered; the default is lowered to it."""
    ceiling = memory_ceiling_mib()
    memory = min(Limits.memory_mib, ceiling)
    why = ("the hard limit of this process's address space, `ulimit -H -v`"
           if ceiling < MAX_MEMORY_MIB else "the most setrlimit(2) takes")
    most = pipeline.MAX_JOBS_PER_CORE * pipeline.default_jobs()
    sub.add_argument("-j", "--jobs", default=pipeline.default_jobs(), metavar="N",
                     type=lambda text: _positive(
                         text, most, f"{pipeline.MAX_JOBS_PER_CORE} per core: more processes "
                         "than that only share the same cores and multiply the memory"),
                     help="render in N processes (default: one per core)")
    sub.add_argument("--timeout", type=lambda text: _positive(text, MAX_SECONDS, "about 68 years"),
                     default=Limits.seconds, metavar="SECONDS",
                     help=f"stop an edition that renders longer (default: {Limits.seconds})")
    sub.add_argument("--memory", type=lambda text: _positive(text, ceiling, why),
                     default=memory, metavar="MIB",
                     help=f"memory a rendering process may map, in MiB (default: {memory})")


def _verbosity(sub: argparse.ArgumentParser) -> None:
    group = sub.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=-1,
                       default=0, help="print only errors")
    group.add_argument("-v", "--verbose", dest="verbosity", action="store_const", const=1,
                       help="also list what was up to date")


def _positive(text: str, ceiling: int | None = None, why: str = "") -> int:
    """A whole number from 1 to `ceiling`; anything else is a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    if ceiling is not None and value > ceiling:
        raise argparse.ArgumentTypeError(f"must be at most {ceiling}"
                                         + (f" ({why})" if why else ""))
    return value
