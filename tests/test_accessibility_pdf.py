"""Tagged PDF: the structure tree of every PDF kind (report, note, archival) in
every language, walked here with pikepdf independently of the build's own gate
(src/briefing/writers/conformance.py), and compared with the HTML it came from."""

from __future__ import annotations

import itertools
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
import pikepdf
import pytest
from conftest import made_once, make_project, run_in_process

from briefing.writers.conformance import conformance_problems

SLUG = "international-cooperation"
DATE = "2026-11-20"
LANGUAGES = ("en", "ru", "az")
KINDS = ("report", "note", "archival")
FURNITURE = ("page-header", "page-footer")


@dataclass
class Node:
    role: str
    obj: pikepdf.Dictionary
    kids: list[Node] = field(default_factory=list)
    marks: list[tuple[tuple[int, int], int]] = field(default_factory=list)  # (page, MCID)
    annotations: list[pikepdf.Dictionary] = field(default_factory=list)

    def walk(self) -> list[Node]:
        return [self, *(node for kid in self.kids for node in kid.walk())]

    def roles(self) -> list[str]:
        return [kid.role for kid in self.kids]


def read_tree(pdf: pikepdf.Pdf) -> Node:
    def node(obj: pikepdf.Dictionary) -> Node:
        here = Node(str(obj.get("/S", "/StructTreeRoot"))[1:], obj)
        kids = obj.get("/K", pikepdf.Array())
        for kid in (kids if isinstance(kids, pikepdf.Array) else [kids]):
            if not isinstance(kid, pikepdf.Dictionary):
                here.marks.append((obj.Pg.objgen, int(kid)))
            elif kid.get("/Type") == "/MCR":
                here.marks.append((kid.get("/Pg", obj.get("/Pg")).objgen, int(kid.MCID)))
            elif kid.get("/Type") == "/OBJR":
                here.annotations.append(kid.Obj)
            else:
                here.kids.append(node(kid))
        return here

    return node(pdf.Root.StructTreeRoot)


def sequences(page: pikepdf.Page) -> list[tuple[str, pikepdf.Object, bool]]:
    """Every marked-content sequence of a page: tag, properties, inside an artifact."""
    found, stack = [], []
    for operands, operator in pikepdf.parse_content_stream(page):
        if str(operator) in ("BDC", "BMC"):
            properties = operands[1] if str(operator) == "BDC" else None
            found.append((str(operands[0]), properties, "/Artifact" in stack))
            stack.append(str(operands[0]))
        elif str(operator) == "EMC":
            stack.pop()
    return found


@dataclass
class Edition:
    path: Path
    html: lxml.html.HtmlElement
    pdf: pikepdf.Pdf
    tree: Node
    kind: str
    language: str

    def body(self) -> list[lxml.html.HtmlElement]:
        """The HTML's elements outside the running header and footer."""
        return [element for element in self.html.body.iter()
                if not any(item.get("class") in FURNITURE
                           for item in [element, *element.iterancestors()])]


def edition(path: Path, html: Path, kind: str, language: str) -> Edition:
    pdf = pikepdf.open(path)
    return Edition(path, lxml.html.document_fromstring(html.read_text(encoding="utf-8")), pdf,
                   read_tree(pdf), kind, language)


@pytest.fixture(scope="module")
def editions(real_build: Path, real_semantic: Path,
             tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Edition]:
    """The real brief's report and note in its three languages, as the session
    built them (conftest.py), and the archival PDFs of the same brief, published
    once."""
    def publish(project: Path) -> None:
        make_project(project, root=None)
        result = run_in_process(project, "publish", SLUG)
        assert result.code == 0, result.err

    project = made_once(tmp_path_factory, "accessibility-published", publish)
    archived = next((project / "archive").glob(f"*_{SLUG}_v1")) / "data"
    found = {}
    for language in LANGUAGES:
        for kind, folder, infix in (("report", real_build, ""), ("note", real_build, "_note"),
                                    ("archival", archived, "")):
            name = f"{DATE}_{SLUG}{infix}_{language}"
            found[kind, language] = edition(folder / f"{name}.pdf",
                                            real_semantic / SLUG / f"{name}.semantic.html",
                                            kind, language)
    return found


EVERY = [(kind, language) for kind in KINDS for language in LANGUAGES]


@pytest.fixture(params=EVERY, ids=[f"{kind}-{language}" for kind, language in EVERY])
def one(request: pytest.FixtureRequest, editions: dict[tuple[str, str], Edition]) -> Edition:
    return editions[request.param]


# --- the document -----------------------------------------------------------------------------

def test_tagged_and_declared(one: Edition) -> None:
    info = subprocess.run(["pdfinfo", str(one.path)], capture_output=True, text=True).stdout
    assert re.search(r"^Tagged:\s+yes$", info, re.M)
    root = one.pdf.Root
    assert bool(root.MarkInfo.Marked) and bool(root.ViewerPreferences.DisplayDocTitle)
    assert str(root.Lang) == one.html.get("lang") and str(root.Lang).startswith(one.language)
    with one.pdf.open_metadata() as xmp:
        assert xmp["pdfuaid:part"] == "1"
        assert xmp["dc:title"] == str(one.pdf.docinfo.Title) == one.html.find(".//title").text
        if one.kind == "archival":
            assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "U")
    assert subprocess.run(["qpdf", "--check", str(one.path)], capture_output=True
                          ).returncode == 0


def test_the_builds_own_gate_finds_nothing(one: Edition) -> None:
    assert conformance_problems(one.path.read_bytes()) == []


# --- page content: in the tree or an artifact --------------------------------------------------

def test_every_marked_sequence_is_reachable_or_an_artifact(one: Edition) -> None:
    reached = {mark for node in one.tree.walk() for mark in node.marks}
    parents = one.pdf.Root.StructTreeRoot.ParentTree.Nums
    parent_tree = {int(parents[i]): parents[i + 1] for i in range(0, len(parents), 2)}
    for page in one.pdf.pages:
        mapped = parent_tree[int(page.StructParents)]
        for tag, properties, in_artifact in sequences(page):
            if tag == "/Artifact" or in_artifact:
                continue
            mcid = int(properties.MCID)
            assert (page.obj.objgen, mcid) in reached, (tag, mcid)
            assert isinstance(mapped[mcid], pikepdf.Dictionary)


def test_page_furniture_is_an_artifact(one: Edition) -> None:
    """The running header and footer (marking, title, page numbers) on every page,
    the cover's marking on the cover: pagination artifacts, top and bottom."""
    for page in one.pdf.pages:
        kinds = {(str(properties.get("/Type")), str(properties.get("/Subtype")))
                 for tag, properties, _ in sequences(page)
                 if tag == "/Artifact" and isinstance(properties, pikepdf.Dictionary)}
        assert {("/Pagination", "/Header"), ("/Pagination", "/Footer")} <= kinds


def test_the_emblem_is_an_artifact(one: Edition) -> None:
    if one.kind == "note":
        pytest.skip("the note has no emblem")
    cover = one.pdf.pages[0]
    drawn, stack = [], []  # the artifacts around each painting of a path (the emblem's)
    for operands, operator in pikepdf.parse_content_stream(cover):
        if str(operator) in ("BDC", "BMC"):
            kind = operands[1].get("/Type") if str(operator) == "BDC" else None
            stack.append((str(operands[0]), str(kind)))
        elif str(operator) == "EMC":
            stack.pop()
        elif str(operator) in ("f", "f*", "S", "B", "b"):
            drawn.append(list(stack))
    assert drawn and all(stack and stack[0][0] == "/Artifact" for stack in drawn)
    assert ("/Artifact", "/Layout") in [item for stack in drawn for item in stack]
    assert not [node for node in one.tree.walk() if node.role == "Figure"
                and node.obj.Pg.objgen == cover.obj.objgen]


# --- the tree ----------------------------------------------------------------------------------

def test_headings_are_the_htmls_in_order(one: Edition) -> None:
    levels = [int(node.role[1]) for node in one.tree.walk() if re.fullmatch(r"H[1-6]", node.role)]
    html = [int(element.tag[1]) for element in one.body()
            if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels == html and levels[0] == 1
    assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(levels))


def test_one_table_per_html_table_with_scoped_header_cells(one: Edition) -> None:
    tables = [node for node in one.tree.walk() if node.role == "Table"]
    assert len(tables) == sum(1 for element in one.body() if element.tag == "table")
    for table in tables:
        cells = [node for node in table.walk() if node.role == "TH"]
        assert cells
        for cell in cells:
            scope = str(cell.obj.A.Scope)
            assert scope in ("/Column", "/Row")
        for group in table.kids:
            assert group.role in ("Caption", "THead", "TBody", "TFoot")
            if group.role == "THead":
                assert all(str(cell.obj.A.Scope) == "/Column" for cell in group.walk()
                           if cell.role == "TH")


def test_lists_have_items_with_labels_and_bodies(one: Edition) -> None:
    lists = [node for node in one.tree.walk() if node.role == "L"]
    html = [element for element in one.body() if element.tag in ("ul", "ol", "dl")
            and not any(item.tag == "nav" for item in element.iterancestors())]
    assert len(lists) == len(html)
    for node, element in zip(lists, html, strict=True):
        items = [kid for kid in node.kids if kid.role == "LI"]
        expected = element.findall("dt") if element.tag == "dl" else element.findall("li")
        assert len(items) == len(expected)
        for item in items:
            assert item.roles()[-1] == "LBody"
            assert item.roles() == ["Lbl", "LBody"] or (
                item.roles() == ["LBody"] and "timeline-entries" in element.get("class", ""))


def test_the_contents_are_toc_and_tocis_with_leaders_as_artifacts(one: Edition) -> None:
    tocs = [node for node in one.tree.walk() if node.role == "TOC"]
    if one.kind == "note":
        assert not tocs
        return
    [toc] = tocs
    entries = one.html.find(".//nav").findall(".//li")
    assert toc.roles() == ["TOCI"] * len(entries)
    for item, entry in zip(toc.kids, entries, strict=True):
        [link] = item.kids
        assert link.role == "Link" and link.annotations
        assert {str(a.Contents) for a in link.annotations} == {
            " ".join(entry.text_content().split())}
        assert len(link.marks) <= 3  # the title and the page number, never the dots
    page = one.pdf.pages[[p.obj.objgen for p in one.pdf.pages].index(toc.obj.Pg.objgen)]
    layout = [properties for tag, properties, _ in sequences(page) if tag == "/Artifact"
              and isinstance(properties, pikepdf.Dictionary)
              and str(properties.get("/Type")) == "/Layout"]
    assert len(layout) >= len(entries)


def test_figures_have_real_alternative_text(one: Edition) -> None:
    figures = [node for node in one.tree.walk() if node.role == "Figure"]
    images = [element for element in one.body() if element.tag == "img" and element.get("alt")]
    assert len(figures) == len(images)
    for figure, image in zip(figures, images, strict=True):
        assert str(figure.obj.Alt) == image.get("alt")
        assert re.search(r"\d{4}", str(figure.obj.Alt))  # says when, not only "Timeline"
        assert len(figure.obj.A.BBox) == 4


def test_the_timelines_facts_are_a_list_in_the_tree(one: Edition) -> None:
    entries = [element for element in one.body()
               if element.tag == "ul" and "timeline-entries" in element.get("class", "")]
    if one.kind == "note":
        assert not entries
        return
    assert entries
    holders = [node for node in one.tree.walk() if "Figure" in [
        grandchild.role for kid in node.kids for grandchild in kid.kids]]
    for holder in holders:
        roles = holder.roles()
        after = roles[next(i for i, kid in enumerate(holder.kids)
                           if "Figure" in kid.roles()) + 1]
        assert after == "L"
    facts = sum(len(element.findall("li")) for element in entries)
    items = [node for node in one.tree.walk() if node.role == "LI"
             and node.roles() == ["LBody"] and node.kids[0].marks]
    assert len(items) == facts


def test_links_are_in_the_tree_and_described_by_their_text(one: Edition) -> None:
    in_tree = {annotation.objgen for node in one.tree.walk() if node.role == "Link"
               for annotation in node.annotations}
    for page in one.pdf.pages:
        for annotation in page.get("/Annots", []):
            if str(annotation.Subtype) == "/Link":
                assert annotation.objgen in in_tree
                contents = str(annotation.Contents)
                assert contents and not contents.startswith("#")
                assert "StructParent" in str(list(annotation.keys()))


# --- a passage in another language, a table across pages ---------------------------------------

@pytest.fixture(scope="module")
def long_draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample brief in English and Russian, its title not yet translated
    (a draft: the title stays English in the Russian edition), with a table of
    sixty trainings, which breaks across pages."""
    sample = Path(__file__).parent / "roots" / "sample" / "content" / "briefs" / "sample.yaml"
    text = sample.read_text(encoding="utf-8")
    text = text.replace("title: Sample brief", "title:\n  en: Sample brief", 1)
    text = text.replace("languages: [en]", "languages: [en, ru]")
    training = ("      - title: Course {n}\n        where: Exampleland\n"
                "        when: 2007/2008\n        organiser: org\n")
    text = text.replace("    trainings:\n", "    trainings:\n" + "".join(
        training.format(n=n) for n in range(60)))

    def make(project: Path) -> None:
        make_project(project, files={"content/briefs/sample.yaml": text})
        result = run_in_process(project, "build", "--allow-fallback", "--format", "pdf",
                                "--format", "semantic")
        assert result.code == 0, result.err
    return made_once(tmp_path_factory, "accessibility-draft", make) / "output" / "sample"


def test_a_passage_in_another_language_carries_its_language(long_draft: Path) -> None:
    russian = edition(long_draft / "2020-01-15_sample_ru.pdf",
                      long_draft / "2020-01-15_sample_ru.semantic.html", "report", "ru")
    marked = [element for element in russian.body() if element.get("lang") == "en"]
    assert marked
    spans = [node for node in russian.tree.walk() if str(node.obj.get("/Lang", "")) == "en"]
    assert len(spans) == len(marked)
    assert str(russian.pdf.Root.Lang).startswith("ru")
    english = edition(long_draft / "2020-01-15_sample_en.pdf",
                      long_draft / "2020-01-15_sample_en.semantic.html", "report", "en")
    # nothing in another language there but the quote said in Russian
    assert [(node.role, str(node.obj.Lang)) for node in english.tree.walk()
            if "/Lang" in node.obj] == [("BlockQuote", "ru")]


def test_a_table_broken_across_pages_is_one_table(long_draft: Path) -> None:
    english = edition(long_draft / "2020-01-15_sample_en.pdf",
                      long_draft / "2020-01-15_sample_en.semantic.html", "report", "en")
    [table] = [node for node in english.tree.walk() if node.role == "Table"
               and len([row for row in node.walk() if row.role == "TR"]) > 60]
    pages = {mark[0] for node in table.walk() for mark in node.marks}
    assert len(pages) >= 2
    rows = [node for node in table.walk() if node.role == "TR"]
    assert len(rows) == 62  # the header once (repeated on later pages as an artifact), 61 rows
    assert [kid.role for kid in table.kids] == ["Caption", "THead", "TBody"]
    assert conformance_problems(english.path.read_bytes()) == []


# --- the gate fails the build -----------------------------------------------------------------

def test_a_heading_out_of_order_fails_the_build(tmp_path: Path) -> None:
    template = Path(__file__).parent.parent / "templates" / "blocks" / "partner.html.j2"
    text = template.read_text(encoding="utf-8").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    project = make_project(tmp_path / "p", files={"templates/blocks/partner.html.j2": text})
    result = run_in_process(project, "build", "--format", "pdf")
    assert result.code == 1
    assert re.fullmatch(
        r"templates/report\.html\.j2:1:1: the PDF's structure: heading H3 on page \d+ follows "
        r"H1 \(while rendering 2020-01-15_sample_en\.pdf\) \(expected a tagged PDF/UA-1 "
        r"\(docs/accessibility\.md\)\)", result.err.splitlines()[0]), result.err
    assert not (project / "output").exists()


def test_the_gate_reads_what_weasyprint_alone_writes() -> None:
    """WeasyPrint's own tree (no Briefing step) fails the gate on the gaps it has."""
    from weasyprint import CSS, HTML

    html = ("<html lang='en'><head><title>T</title></head><body>"
            "<div class='h'>Header</div><h1>One</h1><img src='data:image/svg+xml,"
            "%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%221%22 height=%221%22/%3E'"
            " alt='dot'><h3>Three</h3></body></html>")
    css = "@page { @top-center { content: 'Running' } } "
    data = HTML(string=html).write_pdf(stylesheets=[CSS(string=css)], pdf_variant="pdf/ua-1")
    found = conformance_problems(data)
    assert any("neither reachable" in problem for problem in found)
    assert any("heading H3" in problem for problem in found)
