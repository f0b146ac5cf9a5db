"""HTML -> PDF through WeasyPrint, with print.css and the project's fonts.

print.css reads the shared presentation tokens (templates/theme.yaml) as
custom properties, `var(--navy)`; they come from a `:root` stylesheet made
from the theme and given to WeasyPrint before print.css.

WeasyPrint only logs what it cannot load or understand; here any warning or
error it logs fails the edition, so a broken stylesheet or a missing font is
never a silently different PDF.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pydyf
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from briefing.errors import BuildFailed, Problem
from briefing.files import ASSET_FOLDERS, STYLESHEET, TEMPLATES
from briefing.render.theme import Theme, load_theme
from briefing.writers.fetcher import ProjectFetcher
from briefing.writers.registry import Request

ARCHIVE_VARIANT = "pdf/a-3u"  # why: docs/archive.md


def write_pdf(request: Request) -> bytes:
    """Lay out the HTML with print.css and return the PDF; same input, same bytes."""
    return _write(request, {"custom_metadata": True})


def write_pdfa(request: Request) -> bytes:
    """The archival PDF/A-3u: the request's attachments are embedded, dated with
    the brief, and the XMP packet is left uncompressed near the start of the
    file, so that format identification (PRONOM, FIDO) can read it."""
    fetcher = ProjectFetcher([request.root / folder for folder in ASSET_FOLDERS])
    day = dt.datetime.combine(request.edition.brief.date.first_day, dt.time(), dt.UTC)
    options = {
        "pdf_variant": ARCHIVE_VARIANT,
        "attachments": [Attachment(file_obj=io.BytesIO(item.data), url_fetcher=fetcher,
                                   name=item.name, description=item.description,
                                   created=day, modified=day,
                                   relationship=item.relationship)
                        for item in request.attachments],
        "finisher": _readable_xmp,
    }
    return _xmp_near_the_start(_write(request, options))


def _write(request: Request, options: dict[str, object]) -> bytes:
    root, edition = request.root, request.edition
    theme = load_theme(root)
    fetcher = ProjectFetcher([root / folder for folder in ASSET_FOLDERS])
    fonts = FontConfiguration()
    templates = (root / TEMPLATES).resolve()
    identifier = hashlib.sha256(request.html.encode()
                                + b"".join(item.data for item in request.attachments))
    with _weasyprint_messages() as messages:
        try:
            tokens = CSS(string=_root_rule(theme), url_fetcher=fetcher, font_config=fonts)
            stylesheet = CSS(filename=str((root / STYLESHEET).resolve()), url_fetcher=fetcher,
                             font_config=fonts)
            document = HTML(string=request.html, base_url=templates.as_uri() + "/",
                            url_fetcher=fetcher)
            pdf = document.write_pdf(
                stylesheets=[tokens, stylesheet],
                font_config=fonts,
                pdf_identifier=identifier.hexdigest()[:32].encode(),
                **options,
            )
        except FatalURLFetchingError as err:
            messages.append(str(err.__cause__ or err))
    if messages:
        raise BuildFailed([
            Problem(STYLESHEET, 1, 1, f"WeasyPrint: {message} "
                    f"(while rendering {edition.name}.pdf)")
            for message in messages
        ])
    return pdf


def _root_rule(theme: Theme) -> str:
    """`:root { --navy: #1f3a5f; ... }`: the theme as print.css reads it."""
    return ":root {\n" + "".join(f"  {name}: {value};\n"
                                 for name, value in theme.css_properties().items()) + "}\n"


def _readable_xmp(document: object, pdf: pydyf.PDF) -> None:
    """WeasyPrint compresses the XMP packet of PDF/A-2 and later; format
    identifiers (PRONOM signatures, FIDO) read `pdfaid` as plain bytes."""
    reference = pdf.catalog["Metadata"]
    number = int((reference.decode() if isinstance(reference, bytes) else reference).split()[0])
    pdf.objects[number].compress = False


def _xmp_near_the_start(data: bytes) -> bytes:
    """FIDO reads only the first 128 KiB for `pdfaid`, and WeasyPrint writes the
    XMP packet after every page. qpdf (through pikepdf) writes objects in the
    order it meets them from the catalog, so the packet comes within the first
    few KiB; `deterministic_id` keeps the bytes reproducible."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none, deterministic_id=True)
    return out.getvalue()


@contextmanager
def _weasyprint_messages() -> Iterator[list[str]]:
    """Collect everything WeasyPrint logs at WARNING or above."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("weasyprint")
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
