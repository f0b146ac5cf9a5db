"""Reading outputs as a reader would: PDF text via poppler, DOCX via python-docx."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docx
import lxml.html
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

BLOCKS = {"p", "h1", "h2", "h3", "li", "dt", "dd", "th", "td", "caption", "figcaption"}


def normalise(text: str) -> str:
    """Undo line-end hyphenation and collapse all whitespace to single spaces.

    Thin spaces (CLDR puts them around range dashes) are dropped: pdftotext
    does not report them, so both sides are compared without them. No-break
    spaces and hyphens read as spaces and hyphens.
    """
    text = text.replace("\u2010\n", "").replace("\u00ad", "").replace("\u2009", "")
    text = text.replace("\u2011", "-")  # a no-break hyphen (render/typography.py) reads as one
    return re.sub(r"\s+", " ", text).strip()


def pdf_text(path: Path, *, layout: bool = False, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if layout:
        args.append("-layout")
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def libreoffice_pdf(docx_path: Path, folder: Path) -> Path:
    """Convert a DOCX with LibreOffice headless; its exit code lies, so check the file."""
    subprocess.run(["soffice", f"-env:UserInstallation=file://{folder}/profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(folder), str(docx_path)],
                   capture_output=True, timeout=180)
    converted = folder / (docx_path.stem + ".pdf")
    assert converted.exists(), f"LibreOffice did not convert {docx_path.name}"
    return converted


def docx_blocks(path: Path) -> list[tuple[str, str]]:
    """(style name, text) of every non-empty body paragraph, tables included, in order."""
    document = docx.Document(str(path))
    return [(p.style.name, normalise(paragraph_text(p))) for p in _paragraphs(document)
            if paragraph_text(p).strip()]


def paragraph_text(paragraph: Paragraph) -> str:
    """A paragraph's text as Word shows it: python-docx's `Paragraph.text`, also
    inside the content controls (w:sdt) around every field's text
    (writers/fields.py), which python-docx 1.2 does not look into."""
    return _inline_text(paragraph._p)


def paragraph_runs(paragraph: Paragraph) -> list[Run]:
    """python-docx's `Paragraph.runs`, with the runs inside content controls."""
    return [Run(r, paragraph) for r in paragraph._p.xpath("./w:r | ./w:sdt/w:sdtContent/w:r")]


def cell_text(cell: _Cell) -> str:
    """python-docx's `_Cell.text`, with content controls read (paragraph_text)."""
    return "\n".join(paragraph_text(p) for p in cell.paragraphs)


def _inline_text(element: object) -> str:
    out = []
    for child in element:
        if child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                out.append(_inline_text(content))
        elif child.tag in (qn("w:r"), qn("w:hyperlink")):
            out.append(child.text)
    return "".join(out)


def without_page_numbers(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The contents' entries without their page numbers: the HTML has none (in
    the PDF print.css adds them, in the DOCX a PAGEREF field shows them)."""
    return [(style, re.sub(r" \d+$", "", text) if style == "toc 1" else text)
            for style, text in blocks]


def _paragraphs(container: object) -> Iterator[Paragraph]:
    for item in container.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                for cell in row.cells:
                    yield from _paragraphs(cell)
        else:
            yield item


def docx_furniture_text(path: Path) -> str:
    document = docx.Document(str(path))
    parts = []
    for section in document.sections:
        for part in (section.header, section.footer, section.first_page_header,
                     section.first_page_footer):
            parts += [paragraph_text(p) for p in part.paragraphs]
    return normalise(" ".join(parts))


def html_blocks(html: str) -> list[tuple[str, str]]:
    """(tag, text) of the body's block elements, header and footer excluded."""
    tree = lxml.html.document_fromstring(html)
    for br in tree.iter("br"):
        br.tail = " " + (br.tail or "")
    out = []
    for element in tree.body.iter():
        if element.tag not in BLOCKS:
            continue
        if any(a.tag in ("header", "footer") for a in element.iterancestors()):
            continue
        if element.tag == "li" and element.find("p") is not None:
            continue
        text = normalise(element.text_content())
        if text:
            out.append((element.tag, text))
    return out
