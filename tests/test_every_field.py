"""Nothing is lost: every field an editor can write reaches the reader.

The content is generated from the model itself, so a field added later is
covered without touching this test: every text, prose, plain string, URL and
date field gets a marker of its own, and each marker must appear in the
HTML, in the PDF's text and in the DOCX's text (of the report or the note of
the same edition), or the field must be declared as metadata, which then
appears in the PDF and DOCX properties.
"""

from __future__ import annotations

import datetime as dt
import itertools
import types
import typing
import zipfile
from pathlib import Path
from typing import Any

import docx
import pikepdf
import pytest
import yaml
from conftest import REPO, made_once, make_project, run_in_process
from pydantic import BaseModel
from readers import normalise, pdf_text

from briefing.content.dates import PartialDate, Period, Recurrence
from briefing.content.model import (
    LABELLED_CHOICES,
    Brief,
    ColumnType,
    DataTable,
    Partner,
    Publisher,
)
from briefing.content.money import Money, Share
from briefing.content.text import Text

# Fields that say how a brief is made rather than what it says.
STRUCTURAL = {"languages", "documents", "id", "slug", "key", "type", "rows"}
CATALOG = yaml.safe_load((REPO / "templates" / "i18n" / "en.yaml").read_text())["labels"]
# Fields that name another record: they are shown through the record they name.
REFERENCES = {"partners", "timeline", "agreements", "organiser", "partner", "source", "sources",
              "donors", "implementers", "parties", "superseded_by"}
# Fields that exclude one filled here, each shown by a test of its own: a quote's
# `original` (its text in several languages) beside its `language` (one text), a
# project's `shares` beside its `co_financing`; a brief's `overrides`, which needs
# partners of its own.
ELSEWHERE = {("Quote", "original"): "test_content_round_two.py",
             ("CooperationProject", "shares"): "test_content_round_two.py",
             ("Brief", "overrides"): "test_content_round_two.py",
             ("Brief", "typesetting"): "test_typesetting.py",  # says how pages are checked
             ("Brief", "change_annex"): "test_change_annex.py"}  # a switch, shown nowhere
# Fields that go into document properties, not the page.
METADATA = {("brief", "reference"): "reference"}


class Markers:
    """Unique, searchable values, remembered with the path of their field."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.days = itertools.count(0)
        self.seen: dict[str, tuple[str, str]] = {}  # path -> (kind, what to look for)

    def text(self, path: str) -> str:
        marker = f"Mk{next(self.counter):03d}x"
        self.seen[path] = ("text", marker)
        return marker

    def language(self, path: str) -> str:
        """A language other than the edition's (en): its passage is marked so."""
        self.seen[path] = ("language", "ru")
        return "ru"

    def recurrence(self, path: str) -> str:
        weeks = next(self.counter) % 97 + 2
        self.seen[path] = ("recurrence", f"every {weeks} weeks")
        return f"every {weeks} weeks"

    def money(self, path: str) -> str:
        amount = 1000 + next(self.counter)
        self.seen[path] = ("money", f"€{amount:,}.50")
        return f"EUR {amount}.50"

    def share(self, path: str) -> str:
        percent = next(self.counter) % 90 + 5
        self.seen[path] = ("share", f"{percent}%")
        return str(percent)

    def date(self, path: str, precision: str) -> str:
        day = dt.date(1950, 1, 1) + dt.timedelta(days=37 * next(self.days))
        shown = {"day": f"{day.day} {day:%B} {day.year}", "month": f"{day:%B} {day.year}",
                 "year": str(day.year)}[precision]
        iso = {"day": day.isoformat(), "month": day.isoformat()[:7],
               "year": str(day.year)}[precision]
        self.seen[path] = ("date", shown)
        return iso


def example(model: type[BaseModel], markers: Markers, where: str,
            refs: dict[str, str]) -> dict[str, Any]:
    """One record with every field filled, each text field with its own marker."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name in ("id", "slug") or (model.__name__, name) in ELSEWHERE:
            continue
        path = f"{where}.{name}"
        annotation = info.annotation
        if info.metadata:  # pydantic keeps a field's own constraints beside its type
            annotation = typing.Annotated[annotation, *info.metadata]
        data[name] = value(annotation, name, path, markers, refs)
    return data


def value(annotation: Any, name: str, path: str, markers: Markers,
          refs: dict[str, str]) -> Any:
    annotation, metadata = _unwrapped(annotation)
    origin = typing.get_origin(annotation)
    inner = _unwrapped(typing.get_args(annotation)[0]) if origin is tuple else (
        annotation, metadata)
    if name in REFERENCES and _is_slug(inner[1]):
        ref = refs.get(name, refs["partner"])
        return [ref] if origin is tuple else ref
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        return [value(item, name, f"{path}[0]", markers, refs)]
    if origin is typing.Literal:
        prefix = next((prefix for prefix, choices in LABELLED_CHOICES.items()
                       if choices == annotation), None)
        choice = typing.get_args(annotation)[-1]  # not the default: it must show
        if prefix is not None:
            markers.seen[path] = ("label", CATALOG[f"{prefix}_{choice}"])
        return choice
    if name == "languages":
        return ["en"]
    if annotation is DataTable:
        return table(markers, path, refs)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return example(annotation, markers, path, refs)
    if any("[a-z]{2,3}" in str(m) for m in metadata):  # a language code
        return markers.language(path)
    if annotation is Money:
        return markers.money(path)
    if annotation is Share:
        return markers.share(path)
    if annotation is PartialDate:
        return markers.date(path, "day")
    if annotation is Period:
        return markers.date(path, "month")
    if annotation is Recurrence:
        return markers.recurrence(path)
    if isinstance(annotation, type) and issubclass(annotation, Text):
        return markers.text(path)
    if any("https" in str(m) for m in metadata):
        marker = markers.text(path)
        return f"https://example.org/{marker}"
    return markers.text(path)


def table(markers: Markers, path: str, refs: dict[str, str]) -> dict[str, Any]:
    """A table with a column of every type, one row."""
    kinds = typing.get_args(ColumnType)
    return {
        "caption": markers.text(f"{path}.caption"),
        "columns": [{"key": kind, "label": markers.text(f"{path}.columns[{i}].label"),
                     "type": kind} for i, kind in enumerate(kinds)],
        "rows": [{kind: {"text": lambda: markers.text(f"{path}.rows[0].text"),
                         "date": lambda: markers.date(f"{path}.rows[0].date", "day"),
                         "amount": lambda: markers.money(f"{path}.rows[0].amount"),
                         "partner": lambda: refs["partner"]}[kind]() for kind in kinds}],
        "note": markers.text(f"{path}.note"),
    }


def _unwrapped(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """(the type without None and Annotated, the Annotated metadata)."""
    annotation = _without_none(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _without_none(typing.get_args(annotation)[0]), annotation.__metadata__
    return annotation, ()


def _is_slug(metadata: tuple[Any, ...]) -> bool:
    return any("a-z0-9" in str(m) for m in metadata)


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        return options[0]
    return annotation


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Markers]:
    markers = Markers()
    refs = {"partner": "every", "source": "src", "sources": "src", "superseded_by": "agr2"}
    brief = example(Brief, markers, "brief", refs)
    brief["languages"] = ["en"]
    brief["documents"] = ["report", "note"]
    brief["key_points"] = [markers.text(f"brief.key_points[{i}]") for i in range(3)]
    brief["sources"][0]["id"] = "src"
    brief["sections"][0]["id"] = "only"
    brief["date"] = "2020-01-15"  # names the files
    del markers.seen["brief.date"]
    partner = example(Partner, markers, "partner", refs)
    first = partner["agreements"][0]
    first.update(id="agr1", status="superseded")
    markers.seen["partner.agreements[0].status"] = ("label", CATALOG[
        "agreement_status_superseded"])
    partner["agreements"].append({"id": "agr2", "title": markers.text(
        "partner.agreements[1].title")})
    publisher = example(Publisher, markers, "publisher", refs)

    def make(project: Path) -> None:
        make_project(project, files={
            "content/briefs/sample.yaml": yaml.safe_dump(brief, allow_unicode=True),
            "content/partners/every.yaml": yaml.safe_dump(partner, allow_unicode=True),
            "content/partners/org.yaml": "", "content/partners/ministry.yaml": "",
            "content/publisher.yaml": yaml.safe_dump(publisher, allow_unicode=True),
        })
        result = run_in_process(project, "build", "--format", "html", "--format", "pdf",
                                "--format", "docx")
        assert result.code == 0, result.err

    # The content (and its markers) is the same in every test process: the model
    # decides it. It is built once per session (conftest.made_once), read only.
    return made_once(tmp_path_factory, "every-field", make), markers


def texts(project: Path) -> dict[str, str]:
    folder = project / "output" / "sample"
    html = pdf = word = ""
    for name in ("2020-01-15_sample_en", "2020-01-15_sample_note_en"):
        html += (folder / f"{name}.html").read_text()
        pdf += pdf_text(folder / f"{name}.pdf")
        word += docx_text(folder / f"{name}.docx")
    # Case-blind: a style may print a text in capitals (the cover's publisher).
    return {"html": normalise(html).casefold(), "pdf": normalise(pdf).casefold(),
            "docx": normalise(word).casefold()}


def docx_text(path: Path) -> str:
    """Every run of text in the body, tables, headers and footers, and link targets."""
    document = docx.Document(str(path))
    body = document.element.body
    words = [node.text or "" for node in body.iter(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t")]
    for section in document.sections:
        for part in (section.header, section.footer):
            words += [p.text for p in part.paragraphs]
    words += [rel.target_ref for rel in document.part.rels.values() if rel.is_external]
    return " ".join(words)


def test_every_field_reaches_every_format(everything: tuple[Path, Markers]) -> None:
    project, markers = everything
    shown = texts(project)
    missing = {fmt: sorted(path for path, (kind, marker) in markers.seen.items()
                           if _metadata(path) is None and kind != "language"
                           and marker.casefold() not in text)
               for fmt, text in shown.items()}
    assert missing == {"html": [], "pdf": [], "docx": []}


def test_language_fields_mark_their_passages(everything: tuple[Path, Markers]) -> None:
    """A field that names a language (a quote's) is shown as the language of its
    passage: a `lang` in the HTML, a /Lang in the PDF's structure, a w:lang on
    the Word runs."""
    project, markers = everything
    languages = {marker for kind, marker in markers.seen.values() if kind == "language"}
    assert languages == {"ru"}
    folder = project / "output" / "sample"
    html = (folder / "2020-01-15_sample_en.html").read_text()
    assert 'lang="ru"' in html
    with pikepdf.open(folder / "2020-01-15_sample_en.pdf") as pdf:
        marked = {str(obj.get("/Lang")) for obj in pdf.objects
                  if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/StructElem"
                  and "/Lang" in obj}
    assert "ru" in marked
    word = zipfile.ZipFile(folder / "2020-01-15_sample_en.docx").read("word/document.xml")
    assert b'<w:lang w:val="ru"/>' in word


def test_metadata_fields_reach_the_properties(everything: tuple[Path, Markers]) -> None:
    project, markers = everything
    folder = project / "output" / "sample"
    with pikepdf.open(folder / "2020-01-15_sample_en.pdf") as pdf:
        info = {str(k): str(v) for k, v in pdf.docinfo.items()}
    core = docx.Document(str(folder / "2020-01-15_sample_en.docx")).core_properties
    for path, (_, marker) in markers.seen.items():
        key = _metadata(path)
        if key is not None:
            assert info.get(f"/{key}") == marker or marker in info.values(), (path, info)
            assert marker in (core.identifier, core.category, core.title, core.subject)


def _metadata(path: str) -> str | None:
    parts = path.split(".")
    return METADATA.get((parts[0], parts[-1])) if len(parts) == 2 else None


def test_generated_content_covers_every_model_field(everything: tuple[Path, Markers]) -> None:
    """The generator itself misses nothing: every leaf field of the three
    records has a marker, or is structural, or is a reference."""
    _, markers = everything
    assert len(markers.seen) > 60
    seen_names = {path.split(".")[-1].split("[")[0] for path in markers.seen}
    every = set()
    for model in (Brief, Partner, Publisher):
        every |= _leaves(model)
    assert every - seen_names - STRUCTURAL == set()


def _leaves(model: type[BaseModel]) -> set[str]:
    names = set()
    for name, info in model.model_fields.items():
        if (model.__name__, name) in ELSEWHERE:
            continue
        annotation, metadata = _unwrapped(info.annotation)
        metadata += tuple(info.metadata)
        if typing.get_origin(annotation) is tuple:
            annotation, metadata = _unwrapped(typing.get_args(annotation)[0])
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _leaves(annotation)
        elif not (name in REFERENCES and _is_slug(metadata)):
            names.add(name)
    return names
