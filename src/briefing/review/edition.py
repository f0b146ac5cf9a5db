"""The edition a returned DOCX came from, as the project renders it now.

The returned file names its brief, language and document (writers/fields.py);
the project's content is loaded and checked, the edition's HTML rendered in
the build's own workers (no template runs in this process) and, when it is
not the HTML the returned file was built from, its DOCX written in this
process only to read its map: the fields' texts as they would be built now,
comparable with the returned ones character for character.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from briefing.errors import BuildFailed, Problem
from briefing.review.returned import Mark, Returned, read_returned


def current_marks(root: Path, returned: Returned, shown_as: str
                  ) -> tuple[list[Mark], str, dict[str, tuple[str, int, int]], set[str]]:
    """The marks of the edition as built from the current YAML, the digest of
    its HTML, the place (file, line, column) of every field address, and the
    addresses of the fields written in Markdown (prose)."""
    from briefing.content.load import gather
    from briefing.orchestration.workers import Job, Limits, render_all
    from briefing.render.edition import editions
    from briefing.render.fields import place
    from briefing.writers.docx import write_docx
    from briefing.writers.fields import digest
    from briefing.writers.registry import Request

    def refuse(why: str, expected: str) -> BuildFailed:
        return BuildFailed([Problem(shown_as, 1, 1, why, expected=expected)])

    loaded = gather(root)  # the content only: the render below says the rest
    if returned.brief not in loaded.brief_files:
        raise refuse(f"comes from brief `{returned.brief}`, which this project does not have",
                     "the project the edition was built from (-C DIR)")
    if loaded.blame(returned.brief) or not loaded.has_brief(returned.brief):
        raise BuildFailed(loaded.blame(returned.brief))  # fix the YAML first, then compare
    project = loaded.project
    assert project is not None
    edition = next((e for e in editions(project, project.brief(returned.brief))
                    if e.language == returned.language and e.kind == returned.document), None)
    if edition is None:
        raise refuse(f"is the {returned.document} of `{returned.brief}` in `"
                     f"{returned.language}`, which the brief no longer publishes",
                     "a language and document the brief declares")
    html = None
    problems: list[Problem] = []
    for _, outputs, found in render_all(project, [Job(edition, ("semantic",))], 1,
                                        Limits()):
        problems += found
        html = next((data.decode("utf-8") for fmt, data, _ in outputs if fmt == "semantic"),
                    None)
    if html is None:
        raise BuildFailed(problems)
    if digest(html) == returned.digest:  # the same HTML: the same texts, no need to write
        marks = returned.marks
    else:
        data = write_docx(Request(html, edition, loaded.files))
        marks = read_returned(io.BytesIO(data), shown_as).marks  # type: ignore[arg-type]
    places: dict[str, tuple[str, int, int]] = {}
    prose: set[str] = set()
    for mark in [*returned.marks, *marks]:
        if mark.address not in places:
            found = place(project, mark.address)
            if found is not None:
                places[mark.address] = found
            if _is_prose(project, mark.address):
                prose.add(mark.address)
    return marks, digest(html), places, prose


def _is_prose(project: Any, address: str) -> bool:
    """Whether the field at `address` is written in Markdown (a Prose, or in one)."""
    from pydantic import BaseModel

    from briefing.content.text import Prose
    from briefing.render.fields import _parsed, _records, _relative

    file, _, wanted = address.partition("#")
    for record in _records(project):
        source = project.sources.get(id(record))
        if source is None or _relative(source.file, project) != file:
            continue
        node: Any = record
        for part in _parsed(wanted):
            if isinstance(node, Prose):
                return True
            if isinstance(part, int):
                node = node[part] if isinstance(node, (list, tuple)) and part < len(node) \
                    else None
            elif isinstance(node, BaseModel):
                node = getattr(node, part, None)
            elif isinstance(node, Mapping):
                node = node.get(part)
            else:
                node = None
            if node is None:
                return False
        return isinstance(node, Prose)
    return False
