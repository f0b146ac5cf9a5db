"""Every output format, and the function that writes it from an edition's HTML.

The command line's `--format` choices, the build and the archive all read
this one table. Writers are imported only when a build needs them, so that
`check` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from briefing.content.model import Project
from briefing.files import ProjectFiles
from briefing.render.edition import Edition


@dataclass(frozen=True)
class Attachment:
    """A file carried inside an archival PDF (PDF/A-3 allows any)."""

    name: str
    data: bytes
    description: str
    relationship: str = "Source"


@dataclass(frozen=True)
class Request:
    """What a writer is given: the edition's HTML and where its project is; for
    a writer that states page numbers without laying pages out, the page
    of each anchor in the PDF of the same edition."""

    html: str
    edition: Edition
    files: ProjectFiles  # the project's: templates, fonts, theme
    attachments: tuple[Attachment, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # the edition's catalog words
    pages: Mapping[str, int] = field(default_factory=dict)  # element id -> its PDF page
    # The loaded project, to name the editor's line of a field a writer finds
    # fault with (render/fields.place); None: such faults name the brief.
    project: Project | None = None


@dataclass(frozen=True)
class Writer:
    name: str  # the format's name on the command line
    suffix: str  # of the output file
    target: str  # module:function that writes it
    description: str
    built: bool = True  # offered by `build --format`; False: the archive's own
    paged: bool = False  # given Request.pages: the PDF is laid out first, asked for or not
    lays_out: bool = False  # its output is the laid-out pages a paged writer reads

    def load(self) -> Callable[[Request], bytes]:
        module, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module), function)

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]


WRITERS: dict[str, Writer] = {writer.name: writer for writer in (
    Writer("pdf", "pdf", "briefing.writers.pdf:write_pdf", "the print PDF (WeasyPrint)",
           lays_out=True),
    Writer("docx", "docx", "briefing.writers.docx:write_docx",
           "the editable Word file (python-docx)", paged=True),
    Writer("html", "html", "briefing.writers.html:write_html",
           "the HTML edition: one accessible, self-contained page for screens"),
    Writer("semantic", "semantic.html", "briefing.writers.html:write_semantic",
           "the semantic HTML every writer reads, for template authors"),
    Writer("pdfa", "pdf", "briefing.writers.pdf:write_pdfa",
           "the archival PDF/A-3u with its source embedded", built=False, lays_out=True),
)}
DEFAULT_FORMATS = ("pdf", "docx", "html")
BUILD_FORMATS = tuple(name for name, writer in WRITERS.items() if writer.built)
