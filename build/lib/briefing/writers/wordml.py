"""WordprocessingML the python-docx API does not offer: fields, bookmarks,
languages, fixed column widths, and a byte-reproducible package.

The DOCX writer decides *what* goes where; this module only knows how Word
spells it.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph


def column_widths(table: Table, widths: list[int]) -> None:
    """Fix column widths in the grid and every cell, as Word and LibreOffice both read."""
    for column, width in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        column.w = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def field(paragraph: Paragraph, instruction: str, cached: str = "1") -> None:
    field_begin(paragraph, instruction)
    if cached:
        paragraph.add_run(cached)
    field_char(paragraph, "end")


def field_begin(paragraph: Paragraph, instruction: str) -> None:
    field_char(paragraph, "begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    field_char(paragraph, "separate")


def field_char(paragraph: Paragraph, kind: str) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    paragraph.add_run()._r.append(char)


def set_language(r_pr: object, language: str) -> None:
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), language)


def bookmark_name(fragment: str) -> str:
    """Word bookmark names: letters, digits, underscores, at most 40 characters."""
    return ("_" + re.sub(r"[^A-Za-z0-9_]", "_", fragment))[:40]


def remove_paragraphs(container: object) -> None:
    for paragraph in list(container.paragraphs):
        paragraph._p.getparent().remove(paragraph._p)


def clear_body(doc: DocxDocument) -> None:
    body = doc.element.body
    for child in list(body):
        if not child.tag.endswith("}sectPr"):
            body.remove(child)


def reproducible(doc: DocxDocument, day: dt.date) -> bytes:
    """Save with every zip entry stamped with the brief's date, in a fixed order."""
    buffer = io.BytesIO()
    doc.save(buffer)
    stamp = (max(day.year, 1980), day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, source.read(info.filename))
    return out.getvalue()
