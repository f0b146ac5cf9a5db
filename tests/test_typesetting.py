"""The typesetting gate (writers/typesetting.py) and the rules that keep it
quiet (templates/print.css, render/typography.py).

Each rule is seen twice on pages WeasyPrint lays out with the project's own
print.css: red once the layout rule that prevents it is taken back (a line of
CSS appended, or the no-break joins left out), green with it. A small project
then shows a finding the way an editor meets it: placed at the field's line,
the same from `check` as from `build`, and accepted in the brief.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import lxml.html
import pytest
from conftest import REPO, make_project, run_in_process
from readers import pdf_text
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from briefing.files import ProjectFiles
from briefing.render.theme import css_root, load_theme
from briefing.render.typography import (
    NBHY,
    NBSP,
    hyphenation_dictionaries,
    join,
    join_html,
    join_tree,
)
from briefing.writers.typesetting import Finding, findings

X = "content/briefs/x.yaml"
TYPE_AREA = 297 - 25 - 25  # mm: theme.yaml's A4 page less its margins


def laid_out(body: str, css: str = "", *, lang: str = "en", joined: bool = True
             ) -> list[Finding]:
    """The gate's findings on `body` laid out with print.css (and `css` after it)."""
    html = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>t</title>'
            f'</head><body class="report">{body}</body></html>')
    if joined:
        html = join_html(html)
    hyphenation_dictionaries()  # as the PDF writer does
    fonts = FontConfiguration()
    sheets = [CSS(string=css_root(load_theme(ProjectFiles(REPO))), font_config=fonts),
              CSS(filename=str(REPO / "templates" / "print.css"), font_config=fonts)]
    if css:
        sheets.append(CSS(string=css, font_config=fonts))
    document = HTML(string=html, base_url=(REPO / "templates").as_uri() + "/").render(
        stylesheets=sheets, font_config=fonts)
    return findings(document)


def rules(found: list[Finding]) -> dict[str, set[str]]:
    """rule -> the keys (field paths) it was found at."""
    out: dict[str, set[str]] = {}
    for finding in found:
        out.setdefault(finding.rule, set()).add(finding.key)
    return out


def table(widths: list[int], rows: list[list[str]], caption: str = "") -> str:
    cols = "".join(f'<col style="width: {width}%">' for width in widths)
    body = "".join("<tr>" + "".join(
        f'<td data-field="{X}#rows[{r}].c{c}">{text}</td>' for c, text in enumerate(row))
        + "</tr>" for r, row in enumerate(rows))
    head = "".join(f"<th>H{c}</th>" for c in range(len(widths)))
    cap = f'<caption data-field="{X}#caption">{caption}</caption>' if caption else ""
    return (f'<table class="data">{cap}<colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def spacer(mm: float) -> str:
    return f'<div style="height: {mm}mm"></div>'


# -- no-break joins --------------------------------------------------------------------

@pytest.mark.parametrize(("text", "language", "expected"), [
    ("Agreement No. 12-345 of 14 July 1997", "en",
     f"Agreement No.{NBSP}12{NBHY}345 of 14{NBSP}July{NBSP}1997"),
    ("подписано 11 июня 2007 г., рег. № AZ-12-345", "ru",
     f"подписано 11{NBSP}июня{NBSP}2007{NBSP}г., рег. №{NBSP}AZ{NBHY}12{NBHY}345"),
    ("1999-cu il noyabrın 8-də, 5 km", "az", f"1999{NBHY}cu il noyabrın 8{NBHY}də, 5{NBSP}km"),
    ("€ 3 000 and 5 km, 12 % of USD 4 million", "en",
     f"€{NBSP}3{NBSP}000 and 5{NBSP}km, 12{NBSP}% of USD{NBSP}4{NBSP}million"),
    ("Mr. A. B. Smith, e.g. this", "en", f"Mr.{NBSP}A.{NBSP}B.{NBSP}Smith, e.g.{NBSP}this"),
    # what must stay breakable: words with hyphens, prepositions, plain numbers
    ("state-owned, in 2021 с партнерами, 2021 and 2022", "ru",
     "state-owned, in 2021 с партнерами, 2021 and 2022"),
])
def test_join_keeps_what_belongs_together(text: str, language: str, expected: str) -> None:
    assert join(text, language) == expected
    assert join(expected, language) == expected  # applied twice, the same
    assert len(join(text, language)) == len(text)  # one character for one


def test_join_tree_touches_text_only_outside_code_and_head() -> None:
    tree = lxml.html.document_fromstring(
        '<html lang="en"><head><title>No. 5</title></head><body>'
        '<p title="No. 5">No. 5 <b>in</b> 5 km</p><pre>No. 5</pre><p><code>5 km</code> 5 km</p>'
        '<p lang="ru">1997 г.</p></body></html>')
    join_tree(tree, "en")
    assert tree.find(".//title").text == "No. 5"
    first = tree.find(".//p")
    assert first.get("title") == "No. 5"
    assert first.text == f"No.{NBSP}5 " and first[0].tail == f" 5{NBSP}km"
    assert tree.find(".//pre").text == "No. 5"
    assert tree.find(".//code").text == "5 km" and tree.find(".//code").tail == f" 5{NBSP}km"
    assert tree.findall(".//p")[-1].text == f"1997{NBSP}г."


def test_a_registry_number_is_kept_whole_and_stays_searchable(tmp_path: Path) -> None:
    """Its hyphens stay the hyphens written (a search for it finds it in the
    PDF, which an archivist relies on for decades), in a nobreak span the
    stylesheets keep on one line; in the DOCX they are Word's own no-break
    hyphens. Inside a link, where a span would be a second link, no-break
    hyphens instead."""
    tree = lxml.html.document_fromstring(
        '<html lang="en"><body><p>Ref. AZ-12-345 <b>and</b> file 2019-2021 too</p>'
        '<p><a href="#x">AZ-12-345</a></p></body></html>')
    join_tree(tree, "en")
    first = tree.find(".//p")
    assert [(span.get("class"), span.text) for span in first.iter("span")] == [
        ("nobreak", "AZ-12-345"), ("nobreak", "2019-2021")]
    assert first.text_content() == "Ref. AZ-12-345 and file 2019-2021 too"
    assert tree.find(".//a").text == f"AZ{NBHY}12{NBHY}345"
    sample = (REPO / "tests/roots/sample" / BRIEF).read_text(encoding="utf-8")
    project = make_project(tmp_path / "p", files={BRIEF: sample.replace(
        'reference: "1.10"', "reference: SMS-IC-2026-12-345", 1)})
    assert run_in_process(project, "build", "--format", "pdf", "--format", "docx").code == 0
    stem = project / "output/sample/2020-01-15_sample_en"
    text = pdf_text(stem.with_suffix(".pdf"))
    assert text.count("SMS-IC-2026-12-345") >= 2 and NBHY not in text  # the header, the cover
    with zipfile.ZipFile(stem.with_suffix(".docx")) as docx:
        furniture = "".join(docx.read(name).decode() for name in docx.namelist()
                            if name.startswith("word/header"))
    assert "<w:t>SMS</w:t>" in furniture and "noBreakHyphen" in furniture


# -- each rule, red without its layout rule and green with it ----------------------------

def test_long_words_in_narrow_columns_are_hyphenated_not_cut() -> None:
    cells = [["Counterintelligence", "x"], ["Telecommunications", "x"]]
    narrow = table([11, 89], cells)
    assert "broken-word" not in rules(laid_out(narrow))
    cut = rules(laid_out(narrow, "td { hyphens: manual; }"))
    assert cut["broken-word"] == {"rows[0].c0", "rows[1].c0"}
    russian = table([11, 89], [["Телекоммуникационный", "действующий"]])
    assert "broken-word" not in rules(laid_out(russian, lang="ru"))
    assert "broken-word" in rules(laid_out(russian, "td { hyphens: manual; }", lang="ru"))
    # Azerbaijani, which Pyphen has no dictionary for, by its syllable rule
    azerbaijani = table([11, 89], [["Telekommunikasiya", "Beynəlxalqlaşdırma"]])
    assert "broken-word" not in rules(laid_out(azerbaijani, lang="az-Latn-AZ"))
    assert "broken-word" in rules(laid_out(azerbaijani, "td { hyphens: manual; }",
                                           lang="az-Latn-AZ"))
    import pyphen
    assert pyphen.Pyphen(lang="az", left=3, right=3).inserted("Beynəlxalqlaşdırma") == (
        "Bey-nəl-xalq-laş-dırma")


def test_a_word_wider_than_its_column_stays_inside_it() -> None:
    digits = table([11, 89], [["12345678901234567890123456", "x"]])
    found = rules(laid_out(digits))
    assert "overflow" not in found and found["broken-word"] == {"rows[0].c0"}
    assert rules(laid_out(digits, "html { overflow-wrap: normal; }"))["overflow"] == {
        "rows[0].c0"}


def test_a_word_too_long_to_keep_whole_may_break_before_its_punctuation() -> None:
    # A 41-character e-mail (longer than BREAKABLE) breaks anywhere, as the PDF
    # writer lays it out (render/layout.py `breakable`); in this column a line of
    # it starts with its ".", which is by design, not a split join.
    from briefing.render.layout import BREAKABLE, breakable

    mail = "registry.of.incoming.letters.a@mfa.gov.az"
    assert len(mail) > BREAKABLE
    page = breakable(f"<html><body>{table([22, 78], [[mail, 'x']])}</body></html>")
    body = page.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    assert laid_out(body) == []
    # ... while a short word's line that starts with its stop still is one
    short = [(f.rule, f.message) for f in laid_out(table([8, 92], [["Smith.", "x"]]))]
    assert short == [("split-join", "a line starts with \u201c.\u201d (\u201cSmith.\u201d)")]


def test_a_heading_caption_or_first_row_never_ends_a_page() -> None:
    text = "<p>" + "A line of text that runs on. " * 40 + "</p>"
    heading = spacer(TYPE_AREA - 14) + f'<h2 data-field="{X}#sections[1].title">Next</h2>' + text
    assert rules(laid_out(heading)) == {}
    assert rules(laid_out(heading, "h2 { break-after: auto; }")) == {
        "heading-at-foot": {"sections[1].title"}}
    partner = (spacer(TYPE_AREA - 22) + '<article class="partner"><h2>Partner</h2>'
               f'<p class="partner-kind" data-field="{X}#kind">Agency</p>{text}</article>')
    assert rules(laid_out(partner)) == {}  # a partner's name and kind line move on together
    assert rules(laid_out(partner, ".partner-kind { break-after: auto; }")) == {
        "heading-at-foot": {"kind"}}
    rows = [["row one"], ["row two"], ["row three"]]
    captioned = spacer(TYPE_AREA - 12) + table([100], rows, caption="Caption")
    assert rules(laid_out(captioned)) == {}
    assert rules(laid_out(captioned, "table.data caption { break-after: auto; }")) == {
        "heading-at-foot": {"caption"}}
    first = spacer(TYPE_AREA - 22) + table([100], rows)
    assert rules(laid_out(first)) == {}
    assert rules(laid_out(first, "table.data tbody tr:first-child:not(:last-child) "
                                 "{ break-after: auto; }")) == {"heading-at-foot": {"rows[0].c0"}}


# Found by shrinking the example border-cooperation brief while the page stayed underfull.
CHAIN = (
    '<section><table class="data"><tbody><tr><td>x</td><td class="date">June 2021</td>'
    "<td>Kuchurhan, Ukraine\u2013Moldova border</td></tr></tbody></table></section>"
    f'<section><h1 data-field="{X}#sections[1].title">2. Next</h1>'
    "<p>The project set out to make crossing the common border easier for people and goods "
    "while preventing smuggling, crime and corruption. Its work came in three parts:</p>"
    "<ul><li>joint video monitoring and information exchange before arrival at three road "
    "crossing points:<ul><li>Criva\u2013Mamalyha,</li><li>Otaci\u2013Mohyliv-Podilskyi,</li>"
    "<li>Palanca\u2013Maiaki\u2013Udobne;</li></ul></li><li>cars, patrol boats and other "
    "equipment for patrolling the Dniester river, for crime prevention and rescue;</li>"
    "<li>training in using the equipment together with risk analysis.</li></ul>"
    "<p>The two customs services' central IT systems were modernised along the way. An earlier "
    "project (November 2017 to March 2020, about EUR 4.75 million) had equipped the two "
    "busiest crossing points, Cuciurgan\u2013Pervomaisc and Reni\u2013Giurgiule\u0219ti, "
    "which about three million people and 810,000 vehicles pass every year.</p>"
    f'<table class="data"><tbody><tr><td data-field="{X}#sections[1].rows[0].place">'
    "<br>Place: Palanca\u2013Maiaki\u2013Udobne joint border "
    "crossing point<br>completes the data exchange built under the project</td>"
    '<td class="date">8 August 2024</td></tr></tbody></table>'
    '<table class="data"><caption>Projects</caption><tbody><tr><td><br>Participants: State '
    "Customs Service of Ukraine, SBGS of Ukraine, Moldovan Border Police, Customs Service of "
    "the Republic of Moldova video monitoring and automated number-plate recognition at three "
    "road crossing points the EU paid EUR 3,552,000; Moldova and Ukraine co-financed EUR "
    '888,000</td><td class="date">January 2020 \u2013 December 2022</td>'
    '<td class="amount">\u20ac4,440,000.00</td></tr></tbody></table></section>'
    '<section class="sources"><h1>Sources</h1><ol><li><a href="https://example.org/">'
    + "https://example.org/" + "a" * 120 + "</a></li></ol></section>")


def test_a_page_is_not_left_half_empty_when_what_follows_fits() -> None:
    # A first row kept with the next even when it is the only row: the
    # table's end is then kept with the next section, which WeasyPrint moves
    # whole to the next page. print.css keeps a first row with a second only.
    assert rules(laid_out(CHAIN)) == {}
    assert rules(laid_out(CHAIN, "table.data tbody tr:first-child { break-after: avoid; }")) == {
        "underfull-page": {"sections[1].rows[0].place"}}


def test_references_dates_and_units_are_never_split() -> None:
    text = ("The agreement No. 12-345 was signed on 14 July 1997 for 5 km of border "
            "and 12 % of € 3 000. ")
    body = "".join(f'<p data-field="{X}#p{width}" style="width: {width}mm">{text * 3}</p>'
                   for width in range(30, 72, 3))
    assert "split-join" not in rules(laid_out(body))
    assert len(rules(laid_out(body, joined=False))["split-join"]) > 5


# -- as an editor meets it ---------------------------------------------------------------

BRIEF = "content/briefs/sample.yaml"
NUMBERS = """  - id: registry
    title: Registry
    tables:
      - caption: Numbers
        columns:
          - {key: a, label: Number}
          - {key: b, label: Country}
          - {key: c, label: Note}
          - {key: d, label: Check}
          - {key: e, label: Copy}
        rows:
          - a: "12345678901234567890123456789012345678"
            b: Counterintelligence
            c: Registered under No. 12-345 on 14 July 1997.
            d: "98765432109876543210987654321098765432"
            e: "56789012345678901234567890123456789012"
sources:
"""


def test_a_finding_is_placed_at_its_field_and_can_be_accepted(tmp_path: Path) -> None:
    sample = (REPO / "tests/roots/sample" / BRIEF).read_text(encoding="utf-8")
    brief = sample.replace("sources:\n", NUMBERS, 1)
    project = make_project(tmp_path / "p", files={BRIEF: brief})
    line = brief.splitlines().index('          - a: "12345678901234567890123456789012345678"') + 1
    checked = run_in_process(project, "check")
    assert checked.code == 1
    assert (f"{BRIEF}:{line}:16: sections[2].tables[0].rows[0].a: \u201c12345678901234567890"
            "123456789012345678\u201d broken without a hyphen on page ") in checked.err
    # Three numbers of 38 digits are wider than the page together: no column
    # rule can keep them whole, and none can be hyphenated.
    assert checked.err.count("[broken-word]") == 3 and "3 error(s)" in checked.err, checked.err
    accepted = brief + "typesetting:\n  accept:\n" + "".join(
        f'    - {{field: "sections[2].tables[0].rows[0].{key}", rule: broken-word}}\n'
        for key in "ade")
    (project / BRIEF).write_text(accepted, encoding="utf-8")
    assert run_in_process(project, "check").code == 0
    # The same pages without the acceptance (a verdict remembered for them
    # must not hide the findings: the brief's settings are part of its key).
    (project / BRIEF).write_text(brief, encoding="utf-8")
    assert run_in_process(project, "check").code == 1
    (project / BRIEF).write_text(accepted + '    - {field: "sections[7].title", rule: overflow}\n',
                                 encoding="utf-8")
    wrong = run_in_process(project, "check")
    assert wrong.code == 1
    assert (f"{BRIEF}:{len(accepted.splitlines()) + 1}:15: typesetting.accept[3].field: the brief "
            "has no field `sections[7].title`") in wrong.err
