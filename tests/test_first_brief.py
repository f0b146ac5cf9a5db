"""The first real brief: every fact of the seed page, in the PDF and in the DOCX."""

from __future__ import annotations

from pathlib import Path

import pytest
from readers import docx_blocks, docx_furniture_text, normalise, pdf_text

NAME = "2026-11-20_international-cooperation_en"

FACTS = [
    # partners, and the change from origin to destination
    "International Organization for Migration (IOM)",
    "United Nations High Commissioner for Refugees (UNHCR)",
    "European Union", "Council of Europe", "Commonwealth of Independent States (CIS)",
    "country of origin", "country of destination",
    # IOM offices, at the precision the source gives
    "Baku: first office in the country", "1996",
    "Nakhchivan (Nakhchivan Autonomous Republic): second field office", "1998",
    "Mingachevir: third office in the country", "August 2006",
    # agreement, ratification, membership
    "Agreement on Cooperation between the Republic of Azerbaijan and IOM",
    "8 November 1999", "8 February 2000",
    "7 June 2001", "The IOM Council admits the Republic of Azerbaijan as a member state.",
    # trainings
    "Austria", "Germany", "Georgia",
    "Management of Labour Migration", "Prevention of Illegal Migration",
    "2007\u2009\u2013\u20092008", "employees of the State Migration Service",
    "Integrated State Borders Model for the southern borders of Azerbaijan",
    "Bases of migration management",
    # the forum and the five working groups
    "First meeting of the Global Forum on Migration and Development",
    "migration of citizens of CIS member states",
    "Proposals for a coordinated migration policy of the CIS member states",
    "2007 Activity Plan of the Russian Federation and the Republic of Azerbaijan",
    "Migration, human trafficking and internally displaced persons (IDPs)",
    "integrated border management system in the South Caucasus",
    # meetings, and the agreements signed at them
    "Federal Ministry of the Interior of the Republic of Austria",
    "Federal Department on Migration of Switzerland",
    "Migration Council of the Kingdom of Norway",
    "Repatriation and Departure Service of the Kingdom of the Netherlands",
    "Ministry of Justice of the Russian Federation",
    "Federal Migration Service of the Russian Federation",
    "several agreements to strengthen relations were signed",
    # the quotation and its attribution
    "we must prefer the interests of our state, people, citizens",
    "Ilham Aliyev, President of the Republic of Azerbaijan",
]


@pytest.mark.parametrize("fact", FACTS)
def test_fact_in_pdf(real_build: Path, fact: str) -> None:
    text = normalise(pdf_text(real_build / f"{NAME}.pdf"))
    assert normalise(fact) in text


@pytest.mark.parametrize("fact", FACTS)
def test_fact_in_docx(real_build: Path, fact: str) -> None:
    text = " ".join(text for _, text in docx_blocks(real_build / f"{NAME}.docx"))
    assert normalise(fact) in text


def test_marking_and_page_numbers_in_docx_furniture(real_build: Path) -> None:
    furniture = docx_furniture_text(real_build / f"{NAME}.docx")
    assert "FOR OFFICIAL USE" in furniture
    assert "Page 1 of 1" in furniture  # PAGE and NUMPAGES fields, before Word updates them


def test_outputs_are_named_by_the_briefs_own_date(real_build: Path) -> None:
    assert sorted(p.name for p in real_build.iterdir()) == sorted(
        f"2026-11-20_international-cooperation{kind}_{language}.{fmt}"
        for kind in ("", "_note") for language in ("az", "en", "ru")
        for fmt in ("docx", "html", "pdf"))


EDITION_FORMS = {
    "en": ["8 November 1999", "8 February 2000", "7 June 2001", "August 2006",
           "International Organization for Migration", "Ilham Aliyev"],
    "az": ["8 noyabr 1999", "8 fevral 2000", "7 iyun 2001", "avqust 2006",
           "Beynəlxalq Miqrasiya Təşkilatı", "Azərbaycan Respublikası Dövlət Miqrasiya Xidməti",
           "İlham Əliyev", "XİDMƏTİ İSTİFADƏ ÜÇÜN"],
    "ru": ["8 ноября 1999\u202fг.", "8 февраля 2000\u202fг.", "7 июня 2001\u202fг.",
           "август 2006\u202fг.", "Международная организация по миграции",
           "Государственная миграционная служба Азербайджанской Республики", "Ильхам Алиев",
           "ДЛЯ СЛУЖЕБНОГО ПОЛЬЗОВАНИЯ"],
}
DISTINCT_LABELS = ("contents", "summary", "key_facts", "sources", "page")


def _labels(language: str) -> list[str]:
    import yaml

    root = Path(__file__).resolve().parent.parent
    catalog = yaml.safe_load((root / "templates/i18n" / f"{language}.yaml").read_text())
    return [catalog["labels"][name] for name in DISTINCT_LABELS]


@pytest.mark.parametrize("language", sorted(EDITION_FORMS))
def test_each_edition_speaks_its_own_language(real_build: Path, language: str) -> None:
    name = f"2026-11-20_international-cooperation_{language}"
    pdf = normalise(pdf_text(real_build / f"{name}.pdf"))
    docx = " ".join(text for _, text in docx_blocks(real_build / f"{name}.docx"))
    for text in (pdf, docx):
        for form in EDITION_FORMS[language]:
            assert normalise(form) in text
        for label in _labels(language)[:4]:  # the PDF may set some in capitals
            assert label.casefold() in text.casefold()
        for other in set(EDITION_FORMS) - {language}:
            for label in _labels(other):
                assert f" {label} " not in f" {text} ", (other, label)
