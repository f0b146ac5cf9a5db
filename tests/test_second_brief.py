"""The second example brief (content/briefs/border-cooperation.yaml), written from
other agencies' public pages: every block it uses shows, in both its languages
and in every format."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from readers import docx_blocks, normalise, pdf_text

NAME = "2026-11-27_border-cooperation"
EXPECTED = {
    "en": ["€4,440,000.00", "EU: 80%", "Ukraine: 20%", "January 2020 – December 2022",
           "Working arrangement on operational cooperation with Frontex", "in force",
           "expired, 31 December 2021", "Incoming visit", "Crossing points equipped by the two "
           "projects", "Palanca–Maiaki–Udobne", "European Union body", "Parties: Frontex",
           "Palanca–Maiaki–Udobne joint border crossing point", "Oleh Nikolaichuk"],
    "ru": ["4 440 000,00 €", "ЕС: 80 %", "Украина: 20 %", "действует",
           "истек срок действия, 31 декабря 2021 г.", "Визит в страну",
           "Орган Европейского союза", "Олег Николайчук"],
}


@pytest.fixture(scope="module")
def folder(real_build: Path) -> Path:
    return real_build.parent / "border-cooperation"


def squeezed(text: str) -> str:
    """Text without any kind of space: CLDR's narrow and thin spaces read the
    same in every format, however each one spells them; case-blind, as a style
    may print a text in capitals."""
    return re.sub(r"[\s\u2009\u202f\u00a0]+", "", text).casefold()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_block_shows_in_every_format(folder: Path, language: str) -> None:
    pdf = squeezed(normalise(pdf_text(folder / f"{NAME}_{language}.pdf")))
    word = squeezed(" ".join(text for _, text in docx_blocks(folder / f"{NAME}_{language}.docx")))
    html = squeezed(lxml.html.document_fromstring(
        (folder / f"{NAME}_{language}.html").read_bytes()).text_content())
    for fact in EXPECTED[language]:
        assert squeezed(fact) in pdf, fact
        assert squeezed(fact) in word, fact
        assert squeezed(fact) in html, fact
