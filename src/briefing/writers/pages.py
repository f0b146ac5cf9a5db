"""Where each anchor of an edition falls in its PDF.

The DOCX has no layout of its own until Word opens it, yet its contents
should show page numbers at once (in Protected View, in LibreOffice). The
PDF laid the same HTML out: WeasyPrint writes a named destination for every
element id, on the page where the element starts, and print.css numbers the
pages from the first without a reset, so a destination's page index is the
number the PDF prints.
"""

from __future__ import annotations

import io
import re

import pikepdf

from briefing.content.model import ONE_PAGE

# What only a laid-out PDF can tell a paged writer: the pages of a contents
# list's entries (a <nav> of the HTML), and whether a one-page document fits.
_CONTENTS = re.compile(r"<nav[\s>]")


def needs_layout(html: str, kind: str) -> bool:
    """Whether a paged writer (the DOCX) must wait for the PDF's layout: a
    document with a contents list, or one that must fit one page. Otherwise a
    DOCX-only build writes the DOCX without laying out a PDF it will not write."""
    return kind in ONE_PAGE or bool(_CONTENTS.search(html))


def anchor_pages(pdf: bytes) -> dict[str, int]:
    """Element id -> the number of the page it starts on, from the PDF's named destinations."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        numbers = {page.objgen: number for number, page in enumerate(document.pages, 1)}
        names = document.Root.get("/Names")
        if names is None or "/Dests" not in names:
            return {}
        pages = {}
        for name, destination in pikepdf.NameTree(names.Dests).items():
            target = destination.get("/D", destination) if isinstance(
                destination, pikepdf.Dictionary) else destination
            page = numbers.get(target[0].objgen) if len(target) else None
            if page is not None:
                pages[name] = page
        return pages
