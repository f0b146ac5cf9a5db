"""`build.py new SLUG`: a commented brief that builds at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NoReturn

from briefing.content.model import SLUG
from briefing.errors import BuildFailed, Problems, UsageError
from briefing.files import BRIEFS, CONTENT, ProjectFiles

TEMPLATE = """\
# yaml-language-server: $schema=../../schema/brief.schema.json
# A new brief. Build it with:  python build.py build {slug}
# The content format is described in docs/content.md.

title: {title}
subtitle: What this brief is about, in one line
date: {date}                  # the issue date (names the output files)
reference: REF-{year}-000     # the registry number
marking: FOR OFFICIAL USE
languages: [{language}]             # one catalog per language in templates/i18n/
department: Name of the department that prepared it
# documents: [report, note]   # add `note` for a one-page note (needs `contact`)
audience:
  - First reader on the distribution list

summary: >
  Two or three sentences an official reads first. Prose fields take
  CommonMark: *emphasis*, **strong**, lists and [links](https://example.org).

key_points:
  - The first point to remember.

sections:
  - id: background
    title: Background
    body: |
      The text of the first section.
    # partners: [iom]          # partner profiles, by file name in content/partners/
    # timeline: [iom]          # a timeline of their offices, agreements and milestones
    # agreements: [iom]        # a table of their agreements and each one's life cycle
  - id: activities
    title: Activities
    body: |
      Prose takes *emphasis*, **strong**, lists (nested up to three deep),
      quotes and [links](https://example.org).

      - a first point
      - a second point
    events:
      - title: Study visit to a partner service
        kind: study-visit      # meeting, visit-incoming, visit-outgoing, conference...
        when: 2024-05-13/2024-05-17
        where: Partner capital
        participants: five officers of the department
        outcome: A plan for joint training in the following year
        # partners: [iom]      # the partners taking part
    projects:
      - title: Modernising document checks
        budget: EUR 250000     # an amount and an ISO 4217 currency
        co_financing: 10       # per cent
        period: 2023-01/2024-12
        status: ongoing        # planned, ongoing, completed, suspended, cancelled
        outcomes:
          - Staff trained in document examination
        # donors: [eu]          # partner ids: who pays, who implements
        # implementers: [iom]
    tables:                    # for anything no block covers: your own columns
      - caption: Applications received
        columns:
          - {{key: year, label: Year, type: date}}
          - {{key: count, label: Applications}}
        rows:
          - {{year: 2023, count: "1,204"}}
          - {{year: 2024, count: "1,377"}}
    quotes:
      - text: A sentence worth quoting, exactly as it was said.
        by: A. Person
        role: Head of the department
    # trainings, working_groups, meetings: see docs/content.md
"""


def new_brief(root: Path, slug: str, today: dt.date | None = None) -> Path:
    """Write content/briefs/<slug>.yaml from the template; never overwrite one.

    A folder that cannot take the file (read-only, missing, not a folder, a
    full disk) is the user's to fix: one problem naming it, exit 1, never a
    traceback."""
    if not SLUG.fullmatch(slug):
        raise UsageError(f"`{slug}` is not a valid slug (lowercase letters, digits and hyphens)")
    layout = ProjectFiles(root)
    path = layout.path(BRIEFS) / f"{slug}.yaml"
    try:
        taken, project = path.exists() or path.is_symlink(), layout.path(CONTENT).is_dir()
    except OSError as err:  # a folder on the way may not be searched
        _cannot_write(root, path.parent, f"cannot be searched: {_why(err)}",
                      f"a folder {BRIEFS}/ you may write to")
    if taken:
        raise UsageError(f"{layout.relative(path)} already exists")
    if not project:
        _cannot_write(root, layout.path(CONTENT), f"no such folder in {root}",
                      "`-C` naming the project folder, the one holding content/")
    catalogs = sorted(layout.catalogs())
    language = "en" if "en" in catalogs else (catalogs or ["en"])[0]
    today = today or dt.date.today()
    text = TEMPLATE.format(slug=slug, title=slug.replace("-", " ").capitalize(),
                           date=today.isoformat(), year=today.year, language=language)
    _make_folder(root, path.parent)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise UsageError(f"{layout.relative(path)} already exists") from None
    except OSError as err:
        _cannot_write(root, path, f"the new brief cannot be written: {_why(err)}",
                      f"a folder {BRIEFS}/ you may write to")
    return path


def _make_folder(root: Path, folder: Path) -> None:
    """content/briefs/, made if missing: a project with no brief yet may lack it.
    A symbolic link leading outside the project is refused, as the loader would."""
    if not folder.resolve().is_relative_to(root.resolve()):
        _cannot_write(root, folder, "leads outside the project (a symbolic link?)",
                      f"a folder {BRIEFS}/ inside the project")
    try:
        folder.mkdir(exist_ok=True)
    except FileExistsError:
        _cannot_write(root, folder, "is not a folder", f"a folder {BRIEFS}/")
    except OSError as err:
        _cannot_write(root, folder, f"cannot be made: {_why(err)}",
                      f"a folder {BRIEFS}/ you may write to")


def _why(err: OSError) -> str:
    return (err.strerror or type(err).__name__).lower()


def _cannot_write(root: Path, path: Path, why: str, expected: str) -> NoReturn:
    problems = Problems(root)
    problems.add(path, 1, 1, why, expected=expected)
    raise BuildFailed(problems.items)
