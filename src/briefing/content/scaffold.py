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
