"""`build.py new SLUG`: a commented brief that builds at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from briefing.content.model import SLUG
from briefing.errors import UsageError

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
    # timeline: [iom]          # a timeline figure of their milestones
    # trainings, events, working_groups, meetings, quotes: see docs/content.md
"""


def new_brief(root: Path, slug: str, today: dt.date | None = None) -> Path:
    if not SLUG.fullmatch(slug):
        raise UsageError(f"`{slug}` is not a valid slug (lowercase letters, digits and hyphens)")
    path = root / "content" / "briefs" / f"{slug}.yaml"
    if path.exists():
        raise UsageError(f"{path.relative_to(root)} already exists")
    catalogs = sorted(p.stem for p in (root / "templates" / "i18n").glob("*.yaml"))
    language = "en" if "en" in catalogs else (catalogs or ["en"])[0]
    today = today or dt.date.today()
    text = TEMPLATE.format(slug=slug, title=slug.replace("-", " ").capitalize(),
                           date=today.isoformat(), year=today.year, language=language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        handle.write(text)
    return path
