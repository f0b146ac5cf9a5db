"""HTML -> PDF through WeasyPrint, with print.css and the project's fonts.

WeasyPrint only logs what it cannot load or understand; here any warning or
error it logs fails the edition, so a broken stylesheet or a missing font is
never a silently different PDF.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from briefing.errors import BuildFailed, Problem
from briefing.render.fetcher import ProjectFetcher
from briefing.render.html import TEMPLATES, Edition

STYLESHEET = "print.css"
ASSET_FOLDERS = (TEMPLATES, "fonts")


def write_pdf(html: str, edition: Edition, root: Path) -> bytes:
    """Lay out `html` and return the PDF bytes; same input, same bytes."""
    fetcher = ProjectFetcher([root / folder for folder in ASSET_FOLDERS])
    fonts = FontConfiguration()
    templates = (root / TEMPLATES).resolve()
    with _weasyprint_messages() as messages:
        try:
            stylesheet = CSS(filename=str(templates / STYLESHEET), url_fetcher=fetcher,
                             font_config=fonts)
            document = HTML(string=html, base_url=templates.as_uri() + "/", url_fetcher=fetcher)
            pdf = document.write_pdf(
                stylesheets=[stylesheet],
                font_config=fonts,
                custom_metadata=True,
                pdf_identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode(),
            )
        except FatalURLFetchingError as err:
            messages.append(str(err.__cause__ or err))
    if messages:
        raise BuildFailed([
            Problem(f"{TEMPLATES}/{STYLESHEET}", 1, 1, f"WeasyPrint: {message} "
                    f"(while rendering {edition.name}.pdf)")
            for message in messages
        ])
    return pdf


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
