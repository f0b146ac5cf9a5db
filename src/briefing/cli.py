"""`python build.py`: parse the command line, run the pipeline, map exit codes.

Exit codes: 0 done, 1 content or template mistakes (all listed, one per line),
2 the command line itself is wrong. Anything else that escapes is a bug in
Briefing and is shown with its traceback, asking for a report.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from briefing import __version__, pipeline
from briefing.errors import BuildFailed, UsageError

COMMANDS = ("build", "check")
EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 70


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="build.py",
        description="Turn the YAML content under content/ into PDF and DOCX briefs.",
        epilog="Without a command, `build` runs. Exit codes: 0 done, "
               "1 content or template errors, 2 usage error.",
    )
    main.add_argument("--version", action="version", version=f"Briefing {__version__}")
    main.add_argument("-C", "--project", type=Path, default=Path.cwd(), metavar="DIR",
                      help="the project folder (default: the current folder)")
    commands = main.add_subparsers(dest="command", metavar="COMMAND")

    build = commands.add_parser(
        "build", help="build briefs (every brief, language and format by default)",
        description="Validate all content, then write output/<slug>/<date>_<slug>_<lang>.<format>."
                    " Nothing is written if anything is wrong.")
    build.add_argument("slugs", nargs="*", metavar="SLUG", help="only these briefs")
    build.add_argument("--lang", action="append", default=[], metavar="LANG",
                       help="only this language (repeatable)")
    build.add_argument("--format", action="append", choices=sorted(pipeline.WRITERS), default=[],
                       help="only this format (repeatable; html writes the HTML both "
                            "writers read)")

    build.add_argument("--allow-fallback", action="store_true",
                       help="build drafts despite missing translations: the text of another "
                            "language is shown, visibly marked, and the edition says DRAFT")

    check = commands.add_parser(
        "check", help="validate content and templates without rendering",
        description="Report every content and template mistake as path:line:col, "
                    "then exit 1; exit 0 when all is well. Writes nothing.")
    check.add_argument("--allow-fallback", action="store_true",
                       help="do not report missing translations")
    return main


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(arg in COMMANDS or arg in ("-h", "--help", "--version") for arg in argv):
        argv = _with_default_command(argv)
    args = parser().parse_args(argv)
    root = args.project.resolve()
    try:
        if args.command == "check":
            project = pipeline.check(root, allow_fallback=args.allow_fallback)
            print(f"ok: {len(project.briefs)} brief(s), {len(project.partners)} partner(s)")
        else:
            written = pipeline.build(root, args.slugs, args.lang, args.format or pipeline.FORMATS,
                                     report=lambda w: _report(w, root),
                                     allow_fallback=args.allow_fallback)
            print(f"built {len(written)} file(s)")
        return EXIT_OK
    except BuildFailed as failed:
        for problem in failed.problems:
            print(problem, file=sys.stderr)
        print(f"{len(failed.problems)} error(s); nothing was written", file=sys.stderr)
        return EXIT_CONTENT
    except UsageError as err:
        print(f"build.py: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except Exception:
        traceback.print_exc()
        print("This is a bug in Briefing, not in your content: please report it "
              "with the traceback above.", file=sys.stderr)
        return EXIT_BUG


def _with_default_command(argv: list[str]) -> list[str]:
    """`build.py [-C DIR] [SLUG...]` means `build.py [-C DIR] build [SLUG...]`."""
    head: list[str] = []
    rest = list(argv)
    while rest and rest[0] in ("-C", "--project"):
        head += rest[:2]
        rest = rest[2:]
    return head + ["build"] + rest


def _report(written: pipeline.Written, root: Path) -> None:
    print(f"wrote {written.path.relative_to(root)} ({written.size / 1024:.0f} KiB, "
          f"{written.seconds:.2f} s)")
