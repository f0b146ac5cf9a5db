"""The HTML edition reflows from a phone (320 px) to a desktop, measured on the
boxes Chromium lays out: no word broken without a hyphen, no date split in a
table, tables as cards on a phone with no label for an empty cell, nothing
wider than the screen. On the sample, the two real briefs and a stress brief
made here (long names in narrow columns, many partners, long tables; en, ru, az)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.dates import get_month_names
from browser import broken_words, chromium, overflow, resize, split_phrases
from conftest import ROOTS, made_once, make_project, run_in_process

WIDTHS = (320, 360, 1280)
PHONE = 360
LANGUAGES = ("en", "ru", "az")


def text(en: str, ru: str, az: str) -> dict[str, str]:
    return {"en": en, "ru": ru, "az": az}


# Long names, long words and long countries, in three languages.
NAMES = [
    text("Federal Office for Immigration and Asylum of the Republic of Austria",
         "Федеральное ведомство по делам иммиграции и убежища Австрийской Республики",
         "Avstriya Respublikasının İmmiqrasiya və Sığınacaq üzrə Federal İdarəsi"),
    text("Main Directorate for Migration Affairs of the Ministry of Internal Affairs",
         "Главное управление по вопросам миграции Министерства внутренних дел",
         "Daxili İşlər Nazirliyinin Miqrasiya Məsələləri üzrə Baş İdarəsi"),
    text("Directorate-General for Neighbourhood and Enlargement Negotiations",
         "Генеральный директорат по вопросам соседства и переговоров о расширении",
         "Qonşuluq və Genişlənmə Danışıqları üzrə Baş Direktorluq"),
    text("State Border Guard Service of Ukraine", "Государственная пограничная служба Украины",
         "Ukrayna Dövlət Sərhəd Xidməti"),
    text("Interdepartmental Commission on Readmission and Repatriation",
         "Межведомственная комиссия по реадмиссии и репатриации",
         "Readmissiya və Repatriasiya üzrə İdarələrarası Komissiya"),
    text("International Centre for Migration Policy Development",
         "Международный центр по развитию миграционной политики",
         "Beynəlxalq Miqrasiya Siyasətinin İnkişafı Mərkəzi"),
]
COUNTRIES = [text("Bosnia and Herzegovina", "Босния и Герцеговина", "Bosniya və Herseqovina"),
             text("Liechtenstein", "Лихтенштейн", "Lixtenşteyn"),
             text("United Kingdom of Great Britain and Northern Ireland",
                  "Соединенное Королевство Великобритании и Северной Ирландии",
                  "Böyük Britaniya və Şimali İrlandiya Birləşmiş Krallığı"),
             text("Kyrgyzstan", "Кыргызстан", "Qırğızıstan")]
PLACES = [text("Mohyliv-Podilskyi, Vinnytsia Oblast", "Могилев-Подольский, Винницкая область",
               "Mogilyov-Podolski, Vinnitsa vilayəti"),
          text("Nakhchivan Autonomous Republic", "Нахичеванская Автономная Республика",
               "Naxçıvan Muxtar Respublikası"),
          text("Interinstitutional headquarters", "Межгосударственная штаб-квартира",
               "Dövlətlərarası qərargah")]
STATUSES = ["in-force", "signed", "suspended", "superseded", "expired", "terminated"]


def partner(number: int) -> dict:
    name = NAMES[number % len(NAMES)]
    agreements = [{
        "id": f"agreement-{number}-{k}",
        "kind": ["agreement", "memorandum", "working-arrangement"][k % 3],
        "title": text(f"Intergovernmental agreement on readmission and interinstitutional "
                      f"cooperation, part {k + 1}",
                      f"Межправительственное соглашение о реадмиссии и межведомственном "
                      f"сотрудничестве, часть {k + 1}",
                      f"Readmissiya və idarələrarası əməkdaşlıq haqqında hökumətlərarası "
                      f"saziş, hissə {k + 1}"),
        "signed": f"{1997 + k}-07-14",
        **({"ratified": f"{1998 + k}-02-08", "ratified_by": text(
            "Parliament of the Republic", "Парламент Республики", "Respublikanın Parlamenti")}
           if k % 2 == 0 else {}),
        **({"in_force": f"{1998 + k}-11-30"} if k != 1 else {}),
        **({"status": STATUSES[k % len(STATUSES)]} if k != 3 else {}),
        **({"ended": f"{2010 + k}-09-01"} if STATUSES[k % len(STATUSES)] in (
            "expired", "terminated") and k != 3 else {}),
        **({"superseded_by": f"agreement-{number}-0"} if k == 3 else {}),
    } for k in range(6)]
    agreements[3]["status"] = "superseded"
    return {
        "name": name,
        **({"short_name": f"P{number}"} if number % 2 else {}),  # else the long name
        "kind": ["ministry", "agency", "international-organisation", "state"][number % 4],
        "country": COUNTRIES[number % len(COUNTRIES)],
        "offices": [{"place": PLACES[k % len(PLACES)], "opened": f"{1996 + k}-08"}
                    for k in range(3)],
        "agreements": agreements if number < 2 else [],
        "milestones": [{"date": "2001-06-07", "text": text(
            "Admitted as a member state", "Принята в качестве государства-члена",
            "Üzv dövlət kimi qəbul edilib")}],
    }


PARTNERS = [f"stress-{number}" for number in range(12)]


def stress_brief() -> dict:
    return {
        "title": text("Interinstitutional cooperation on readmission",
                      "Межведомственное сотрудничество по вопросам реадмиссии",
                      "Readmissiya məsələləri üzrə idarələrarası əməkdaşlıq"),
        "subtitle": text("Long names in narrow columns", "Длинные названия в узких столбцах",
                         "Dar sütunlarda uzun adlar"),
        "date": "1997-07-14",
        "reference": "SMS-IC-1997-00014/Ref-2",
        "marking": text("FOR OFFICIAL USE", "ДЛЯ СЛУЖЕБНОГО ПОЛЬЗОВАНИЯ",
                        "XİDMƏTİ İSTİFADƏ ÜÇÜN"),
        "languages": list(LANGUAGES),
        "department": text("International Cooperation Department",
                           "Отдел международного сотрудничества",
                           "Beynəlxalq əməkdaşlıq şöbəsi"),
        "audience": NAMES[:3],
        "partners": PARTNERS[:3],
        "summary": text("Readmission and interinstitutional cooperation.",
                        "Реадмиссия и межведомственное сотрудничество.",
                        "Readmissiya və idarələrarası əməkdaşlıq."),
        "key_facts": [{"value": "EUR 4,440,000", "label": text(
            "internationally coordinated readmission programmes",
            "международно скоординированных программ реадмиссии",
            "beynəlxalq əlaqələndirilmiş readmissiya proqramları")}],
        "sections": [{
            "id": "partners", "title": text("Partners", "Партнеры", "Tərəfdaşlar"),
            "partners": PARTNERS[:2], "agreements": PARTNERS[:2],
        }, {
            "id": "activities", "title": text("Activities", "Мероприятия", "Tədbirlər"),
            "trainings": [{
                "title": text("Identification of irregular migrants",
                              "Идентификация нелегальных мигрантов",
                              "Qeyri-qanuni miqrantların identifikasiyası"),
                "where": PLACES[k % len(PLACES)], "when": f"{2007 + k}-03/{2008 + k}-11",
                "organiser": PARTNERS[k % len(PARTNERS)]} for k in range(8)],
            "events": [{
                "title": text("Interinstitutional consultations", "Межведомственные консультации",
                              "İdarələrarası məsləhətləşmələr"),
                "kind": "working-group", "when": f"{2001 + k}-11-08",
                **({"where": PLACES[k % len(PLACES)]} if k % 2 else {}),
                "partners": PARTNERS[k:k + 4]} for k in range(8)],
            "meetings": [{"partner": PARTNERS[k], "when": f"{2003 + k}-05-10",
                          **({"topics": text("readmission", "реадмиссия", "readmissiya")}
                             if k % 3 else {})} for k in range(12)],
            "projects": [{
                "title": text("Strengthening integrated border management",
                              "Укрепление интегрированного управления границей",
                              "İnteqrasiya olunmuş sərhəd idarəçiliyinin gücləndirilməsi"),
                "donors": PARTNERS[2:4], "implementers": PARTNERS[4:6],
                "budget": "EUR 4440000", "period": f"{2014 + k}-09/{2017 + k}-11",
                "shares": [{"by": PARTNERS[2], "share": 80}, {"who": text(
                    "the national authorities", "национальные органы", "milli orqanlar"),
                    "share": 20}]} for k in range(3)],
            "tables": [{
                "caption": text("Readmission applications by interinstitutional commission",
                                "Заявления о реадмиссии по межведомственным комиссиям",
                                "İdarələrarası komissiyalar üzrə readmissiya müraciətləri"),
                "columns": [
                    {"key": "when", "label": text("Received", "Получено", "Alınıb"),
                     "type": "date"},
                    {"key": "partner", "label": text("Counterpart", "Партнер", "Tərəfdaş"),
                     "type": "partner"},
                    {"key": "country", "label": text("Country", "Страна", "Ölkə")},
                    {"key": "status", "label": text("Status", "Статус", "Status")},
                    {"key": "cost", "label": text("Cost", "Стоимость", "Dəyəri"),
                     "type": "amount"}],
                "rows": [{"when": f"{1997 + k % 20}-07-14", "partner": PARTNERS[k % 12],
                          "country": COUNTRIES[k % len(COUNTRIES)],
                          **({"status": text("in force", "действует", "qüvvədədir")}
                             if k % 4 else {}),
                          **({"cost": f"EUR {1000 * k + 531328.62}"} if k % 3 else {})}
                         for k in range(40)],
            }],
        }],
    }


def make_project_with_stress(folder: Path) -> None:
    """The real content, with the sample brief and the stress brief beside it
    (and their partners), built once as HTML."""
    sample = ROOTS / "sample" / "content"
    files = {f"content/partners/{pid}.yaml": json.dumps(partner(number), ensure_ascii=False)
             for number, pid in enumerate(PARTNERS)}
    files["content/briefs/stress.yaml"] = json.dumps(stress_brief(), ensure_ascii=False)
    for path in [sample / "briefs" / "sample.yaml", *(sample / "partners").glob("*.yaml")]:
        files[str(path.relative_to(sample.parent))] = path.read_text(encoding="utf-8")
    make_project(folder, root=None, files=files)
    result = run_in_process(folder, "build", "--format", "html")
    assert result.code == 0, result.err


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return made_once(tmp_path_factory, "reflow", make_project_with_stress) / "output"


def test_the_stress_brief_typesets_without_a_finding_in_the_pdf(output: Path) -> None:
    """The same brief unlike the examples, laid out as PDF in every language:
    `check` runs the typesetting gate on every page (docs/typesetting.md)."""
    result = run_in_process(output.parent, "check", "stress")
    assert result.code == 0, result.err


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


PAGES = (["sample/2020-01-15_sample_en"]
         + [f"international-cooperation/2026-11-20_international-cooperation{kind}_{language}"
            for kind in ("", "_note") for language in LANGUAGES]
         + [f"border-cooperation/2026-11-27_border-cooperation_{language}"
            for language in ("en", "ru")]
         + [f"stress/1997-07-14_stress_{language}" for language in LANGUAGES])
# Widths: two phones, a tablet, a small laptop without the contents sidebar, a desktop.
WIDTHS = (320, 360, 800, 1024, 1280)


@pytest.fixture(scope="module", params=PAGES)
def page(request: pytest.FixtureRequest) -> str:
    """Each page, its tests run one after another (a module-scoped parameter),
    so that the browser loads it once."""
    return request.param


def load(browser, output: Path, page: str) -> None:
    path = output / f"{page}.html"
    assert path.is_file(), path
    if browser.current_url != path.as_uri():
        browser.get(path.as_uri())


def test_no_word_broken_without_a_hyphen_and_nothing_wider_than_the_screen(
        browser, output, page: str) -> None:
    load(browser, output, page)
    for width in WIDTHS:
        scroll, viewport = overflow(browser, width)
        assert (width, scroll) == (width, viewport)
        assert (width, broken_words(browser)) == (width, [])


def dates(language: str) -> str:
    """A JavaScript pattern for a date written out, as `8 November 1999`,
    `август 2006 г.` or `8 noyabr 1999`, in `language`."""
    months = {name for width in ("format", "stand-alone")
              for name in get_month_names("wide", width, language).values()}
    return (r"(?:\d{1,2}\s)?(?:" + "|".join(sorted(months, key=len, reverse=True))
            + r")\s\d{4}(?:\sг\.)?")


def test_dates_in_tables_stay_on_one_line_at_desktop(browser, output, page: str) -> None:
    load(browser, output, page)
    language = page.rsplit("_", 1)[1]
    pattern = dates(language)
    tables = "table, .timeline-entries, .milestones"
    found = browser.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent).join(' ')"
        ".match(new RegExp(arguments[1], 'gu')) || []", tables, pattern)
    if "_note_" not in page:
        assert found, "no date found: the pattern does not fit the page"
    for width in (1024, 1280):
        overflow(browser, width)
        assert (width, split_phrases(browser, tables, pattern)) == (width, [])


# Each data table as laid out: its number of columns, whether it is shown as
# cards (each cell a full-width line below the last), and what is wrong with it.
_TABLES = r"""
const found = [];
for (const table of document.querySelectorAll("main table.data")) {
  const columns = table.querySelectorAll("thead th").length, wrong = [];
  const caption = table.caption ? table.caption.textContent.trim() : "?";
  const head = table.tHead.getBoundingClientRect();
  const rows = [...table.tBodies].flatMap(body => [...body.rows]);
  const shown = row => [...row.cells].filter(cell => cell.getClientRects().length);
  const cards = head.height <= 1 && rows.every(row => {
    const cells = shown(row), width = row.getBoundingClientRect().width;
    return cells.every((cell, i) => cell.getBoundingClientRect().width >= width - 1
      && (i === 0 || cell.getBoundingClientRect().top
                     >= cells[i - 1].getBoundingClientRect().bottom - 0.5));
  });
  for (const row of rows) {
    for (const cell of row.cells) {
      const empty = !cell.textContent.trim(), label = cell.dataset.label;
      const before = getComputedStyle(cell, "::before").content;
      if (cards && empty && cell.getClientRects().length)
        wrong.push(`an empty cell shown (${label}: ${before})`);
      if (cards && !empty && label && before !== JSON.stringify(label + ": "))
        wrong.push(`"${cell.textContent.trim()}" without its label ${label} (${before})`);
    }
    if (!cards && new Set(shown(row).map(cell => cell.getBoundingClientRect().top)).size > 1)
      wrong.push("a row's cells not side by side");
  }
  found.push({caption, columns, cards, wrong});
}
return found;
"""


def cards_expected(columns: int, width: int) -> bool:
    """Where screen.css makes a table cards: every table on a phone (up to
    40rem), one of four columns below 52rem, of five or more below 75rem."""
    return width <= 640 or (columns >= 4 and width < 832) or (columns >= 5 and width < 1200)


def test_tables_are_tables_where_they_fit_and_cards_elsewhere(browser, output, page) -> None:
    """Cards: each cell a line of its own, led by its column's name, an empty
    cell left out; tables: each row's cells side by side, the header row shown."""
    load(browser, output, page)
    for width in WIDTHS:
        overflow(browser, width)
        tables = browser.execute_script(_TABLES)
        assert tables or "_note_" in page
        for table in tables:
            expected = cards_expected(table["columns"], width)
            assert (width, table["caption"], table["cards"], table["wrong"]) == (
                width, table["caption"], expected, [])


def test_the_check_sees_a_word_broken_and_allows_a_soft_hyphen(browser, tmp_path) -> None:
    """The instrument itself, on words made to break in a 4em column: a word
    broken anywhere is found (with its apostrophe), a break at a soft hyphen
    and an address shown as a link are not."""
    page = tmp_path / "words.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><body style="width: 4em; overflow-wrap: anywhere">'
        "<p id=a>Reference</p><p id=b>Refer\u00adence</p><p id=c>Government\u2019s</p>"
        '<p id=d><a href="https://example.org/a/long/path">https://example.org/a/long/path</a>'
        "</p></body></html>", encoding="utf-8")
    browser.get(page.as_uri())
    resize(browser, 800)
    found = broken_words(browser)
    assert [line.split(":")[0] for line in found] == ["#a p", "#c p"]
    assert all(line.replace("|", "").endswith(word) for line, word in zip(
        found, ["Reference", "Government’s"], strict=True)), found
