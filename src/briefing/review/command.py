"""The `review` command: read, compare, report; with --apply, write and check."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from briefing.errors import BuildFailed, Problem, UsageError

EXIT_OK, EXIT_REVIEW = 0, 1


def run(root: Path, args: argparse.Namespace) -> int:
    from briefing.review.compare import review
    from briefing.review.report import lines, page, summary

    given: Path = args.returned
    shown_as = str(given)
    path = given if given.is_absolute() else Path.cwd() / given
    if not path.is_file():
        raise UsageError(f"no file {shown_as}")
    if args.output is not None and args.format != "html":
        raise UsageError("-o FILE is for --format html: the lines go to the terminal")
    if args.accept_tracked and not args.apply:
        raise UsageError("--accept-tracked is for --apply: it applies the tracked changes too")
    if args.output is not None and (args.output.is_dir() or not args.output.parent.is_dir()):
        raise UsageError(f"-o {args.output}: cannot be written: "
                         + ("it is a directory" if args.output.is_dir()
                            else "no such directory"))
    found = review(root, path, shown_as)
    if not args.apply:
        if args.format != "html" or args.output is not None:  # else the page alone
            for line in lines(found):
                print(line)
        if args.format == "html":
            _page(args.output, page(found))
        print(summary(found), file=sys.stderr)
        return EXIT_OK if found.clean else EXIT_REVIEW
    return _apply(root, args, found)


def _apply(root: Path, args: argparse.Namespace, found: object) -> int:
    from briefing.orchestration.validate import validate
    from briefing.review.apply import apply
    from briefing.review.report import page

    outcome = apply(found, tracked=args.accept_tracked)  # type: ignore[arg-type]
    for item in outcome.applied:
        print(item)
    for item in outcome.left:
        print(item)
    if args.format == "html":
        _page(args.output, page(found, outcome.applied))  # type: ignore[arg-type]
    written = ", ".join(outcome.files) or "no file"
    print(f"applied {len(outcome.applied)} edit(s) to {written}; "
          f"{len(outcome.left)} left for the editor", file=sys.stderr)
    if not outcome.files:
        return EXIT_REVIEW if outcome.left else EXIT_OK
    brief = found.returned.brief  # type: ignore[attr-defined]
    # Only the brief's own file written: check that brief; a partner's or the
    # publisher's file reaches other briefs too: check them all.
    own = outcome.files == [f"content/briefs/{brief}.yaml"]
    validation = validate(root, [brief] if own else [])
    if not validation.ok:
        raise BuildFailed(validation.problems + [Problem(
            outcome.files[0], 1, 1, "check fails after the review was applied: the "
            "mistakes above came with the official's text", expected="the YAML fixed by hand")])
    print(f"check: ok ({brief if own else 'every brief'})", file=sys.stderr)
    return EXIT_REVIEW if outcome.left else EXIT_OK


def _page(output: Path | None, html: str) -> None:
    if output is None:
        sys.stdout.write(html)
        return
    try:
        output.write_text(html, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"-o {output}: cannot be written: {err.strerror}") from None
    print(f"wrote {os.fspath(output)}", file=sys.stderr)
