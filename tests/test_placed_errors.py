"""Every mistake an editor or a newcomer can make gets a placed error and exit 1:
never a traceback, never a hang, never text from outside the project."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from conftest import REPO, ROOTS, make_project, run_cli, run_in_process

from briefing.files import ProjectFiles

BRIEF = "content/briefs/sample.yaml"
PARTNER = "content/partners/org.yaml"
SAMPLE_YAML = (ROOTS / "sample" / BRIEF).read_text()
PARTNER_YAML = (ROOTS / "sample" / PARTNER).read_text()


def first_error(project: Path, *args: str) -> str:
    result = run_in_process(project, *(args or ("check",)))
    assert result.code == 1, (result.code, result.out, result.err)
    assert "Traceback" not in result.err
    return result.err.splitlines()[0]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(("name", "files", "expected"), [
    ("a control character in a URL",
     {BRIEF: SAMPLE_YAML.replace("url: https://example.org/page",
                                 'url: "https://example.org/\\x07page"')},
     "sources[0].url: character U+0007 is not allowed (expected printable text)"),
    ("a bidi override in a URL",
     {BRIEF: SAMPLE_YAML.replace("url: https://example.org/page",
                                 "url: https://example.org/\u202eexe.txt")},
     "sources[0].url: character U+202E is not allowed (expected printable text)"),
    ("a bidi override written as an entity in prose",
     {BRIEF: SAMPLE_YAML.replace("One paragraph of *summary*", "One &#x202E;paragraph")},
     "summary: character U+202E is not allowed (expected printable text)"),
    ("a language listed twice",
     {BRIEF: SAMPLE_YAML.replace("languages: [en]", "languages: [en, en]")},
     "languages: `en` is listed twice (expected each once)"),
    ("a document listed twice",
     {BRIEF: SAMPLE_YAML.replace("languages: [en]",
                                 "languages: [en]\ndocuments: [report, report]")},
     "documents: `report` is listed twice (expected each once)"),
])
def test_content_mistakes_are_placed(tmp_path: Path, name: str, files: dict[str, str],
                                     expected: str) -> None:
    error = first_error(make_project(tmp_path / "p", files=files))
    assert error.startswith("content/briefs/sample.yaml:"), error
    assert error.split(": ", 1)[1] == expected


def test_an_unknown_locale_in_a_catalog_is_placed(tmp_path: Path) -> None:
    catalog = (Path(__file__).parent.parent / "templates" / "i18n" / "en.yaml").read_text()
    catalog = catalog.replace("locale: en_GB", "locale: xx_YY")
    error = first_error(make_project(tmp_path / "p", files={
        "templates/i18n/en.yaml": catalog}))
    assert error == (f"templates/i18n/en.yaml:{line_of(catalog, 'locale:')}:9: locale: `xx_YY` "
                     "is not a CLDR locale (expected a locale such as en_GB, az, ru)")


def test_terminal_escapes_from_content_are_not_passed_through(tmp_path: Path) -> None:
    brief = SAMPLE_YAML.replace("title: Sample brief", 'title: Sample brief\n"\\e[2J\\e[31m": x')
    result = run_in_process(make_project(tmp_path / "p", files={BRIEF: brief}), "check")
    assert result.code == 1
    assert "\x1b" not in result.err
    assert "unknown key `\\x1b[2J\\x1b[31m`" in result.err


def test_an_unclosed_css_block_fails_the_build(tmp_path: Path) -> None:
    css = (Path(__file__).parent.parent / "templates" / "print.css").read_text()
    at = line_of(css, "body { margin: 0; }")
    broken = css.replace("body { margin: 0; }", "body { margin: 0;", 1)
    project = make_project(tmp_path / "p", files={"templates/print.css": broken})
    for command in (("check",), ("build", "--format", "pdf")):
        assert first_error(project, *command).startswith(
            f"templates/print.css:{at}:1: the block of `body` is not closed before the rule at ")
    assert not (project / "output" / "sample").exists()


def test_a_yml_file_is_refused_not_ignored(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", files={"content/partners/extra.yml": "name: X\n"})
    assert first_error(project) == ("content/partners/extra.yml:1:1: `extra.yml` is not read: "
                                    "content files end in .yaml (expected the file renamed to "
                                    "extra.yaml)")


def test_fonts_not_installed_is_one_line(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    for font in (project / "fonts").glob("*.ttf"):
        font.unlink()
    result = run_in_process(project, "check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "fonts:1:1: the project's fonts are not installed (expected the font files in "
        "fonts/: run `make build` once)", "1 error(s)"]  # check writes nothing anyway


@pytest.mark.parametrize(("name", "message"), [
    ("NotoSerif-Regular.ttf", "the font file is damaged: its SHA-256 is not the one "
     "fonts/SHA256SUMS lists"),
    ("Extra-Regular.ttf", "the font file is not a usable font (Not a TrueType or OpenType "
     "font (bad sfntVersion))"),
])
@pytest.mark.parametrize("command", ["check", "build"])
def test_a_damaged_font_is_placed_at_the_font(tmp_path: Path, name: str, message: str,
                                              command: str) -> None:
    """A listed font that differs from its digest, or a file in fonts/ that is no font."""
    project = make_project(tmp_path / "p", files={f"fonts/{name}": b"not a font" * 100})
    result = run_in_process(project, command)
    assert result.code == 1, result.err
    assert result.err.splitlines()[0] == (
        f"fonts/{name}:1:1: {message} (expected the font as installed: run `make build` to "
        "copy it again)")
    assert "Traceback" not in result.err


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_damaged_word_template_is_placed(tmp_path: Path, command: str) -> None:
    project = make_project(tmp_path / "p", files={"templates/reference.docx": b"PK\3\4 torn"})
    result = run_in_process(project, command)
    assert result.code == 1, result.err
    assert result.err.splitlines()[0] == (
        "templates/reference.docx:1:1: the Word template is not a usable .docx (BadZipFile: "
        "File is not a zip file) (expected a .docx saved by Word or LibreOffice, or the one "
        "tools/make-reference-docx makes)")


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_word_template_without_a_style_the_writer_needs_is_placed(
        tmp_path: Path, command: str) -> None:
    """Before, `check` passed it and the DOCX writer then stopped with a KeyError."""
    import io

    import docx

    template = docx.Document(str(REPO / "templates" / "reference.docx"))
    quote = next(style for style in template.styles if style.name == "Quote")
    quote.element.getparent().remove(quote.element)
    data = io.BytesIO()
    template.save(data)
    project = make_project(tmp_path / "p", files={"templates/reference.docx": data.getvalue()})
    result = run_in_process(project, command)
    assert result.code == 1, result.err
    assert result.err.splitlines()[0] == (
        "templates/reference.docx:1:1: the Word template has no style `Quote` (expected every "
        "style tools/make-reference-docx makes; add it in Word, or start again from that file)")


def test_a_word_template_linked_outside_is_refused(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    outside = tmp_path / "elsewhere.docx"
    (project / "templates/reference.docx").rename(outside)
    (project / "templates/reference.docx").symlink_to(outside)
    result = run_in_process(project, "build")
    assert result.code == 1, result.err
    assert result.err.splitlines()[0].startswith(
        "templates/reference.docx:1:1: the Word template leads outside the project")


# --- only regular files inside the project are read ------------------------------------

def special(project: Path, kind: str, outside: Path) -> Path:
    """Make content/partners/org.yaml something other than a regular file."""
    target = project / PARTNER
    target.unlink()
    if kind == "symlink outside":
        outside.write_text(PARTNER_YAML.replace("Example Organisation", "SECRET OUTSIDE"))
        target.symlink_to(outside)
    elif kind == "dangling symlink":
        target.symlink_to(project / "no-such-file.yaml")
    elif kind == "device":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    return target


@pytest.mark.parametrize(("kind", "why"), [
    ("symlink outside", "leads outside the project (a symbolic link?) (expected a file "
                        "inside the project folder)"),
    ("dangling symlink", "does not exist (a dangling symbolic link?) (expected an existing "
                         "file)"),
    ("device", "leads outside the project (a symbolic link?) (expected a file inside the "
               "project folder)"),
    ("fifo", "is not a regular file (a device or a pipe) (expected a regular file)"),
    ("folder", "is a folder (expected a regular file)"),
])
def test_only_regular_files_inside_the_project_are_read(tmp_path: Path, kind: str,
                                                         why: str) -> None:
    project = make_project(tmp_path / "p")
    special(project, kind, tmp_path / "secret.yaml")
    # In process, but a FIFO in its own: a build that opened it would hang, not fail.
    run = run_cli if kind == "fifo" else run_in_process
    for command in (("check",), ("build",)):
        result = run(project, *command)
        assert result.code == 1, result.err
        assert result.err.splitlines()[0] == f"{PARTNER}:1:1: the file {why}"
    assert not (project / "output" / "sample").exists()


def test_a_template_symlinked_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "evil.html.j2"
    outside.write_text("SECRET TEMPLATE")
    project = make_project(tmp_path / "p")
    (project / "templates" / "blocks" / "partner.html.j2").unlink()
    (project / "templates" / "blocks" / "partner.html.j2").symlink_to(outside)
    result = run_in_process(project, "build", "--format", "html")
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("templates/blocks/partner.html.j2:1:1: the "
                                                 "template leads outside the project")
    assert not list(project.glob("output/**/*.html"))


def test_a_damaged_cache_manifest_means_a_rebuild(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    assert run_in_process(project, "build").code == 0
    manifest = project / "output" / ".cache" / "manifest.json"
    for damage in ("[1, 2]", json.dumps({"version": 1, "outputs": {"x": 3}, "briefs": {}}),
                   '{"version": 1, "outputs": {}, "briefs": {"sample": {"files": 1}}}',
                   "\0\0\0"):
        manifest.write_text(damage)
        result = run_in_process(project, "build")
        assert (result.code, result.err) == (0, ""), damage
        assert "built 3 file(s)" in result.out


# --- WeasyPrint's own messages ---------------------------------------------------------

def test_a_clean_build_makes_weasyprint_log_nothing(tmp_path: Path) -> None:
    """Rendered in this process, so that WeasyPrint's logger can be listened to."""
    from briefing.content.load import load_project
    from briefing.render.edition import editions
    from briefing.render.html import environment, render_html
    from briefing.render.view import build_view
    from briefing.writers.pdf import write_pdf
    from briefing.writers.registry import Request

    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    project = make_project(tmp_path / "p", root=None)
    content = load_project(project)
    handler = Collect(logging.DEBUG)
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        for brief in content.briefs:
            for edition in editions(content, brief):
                html = render_html(environment(ProjectFiles(project)),
                                   build_view(content, edition), edition)
                assert write_pdf(Request(html, edition, ProjectFiles(project))).startswith(b"%PDF-")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []


def test_anything_weasyprint_logs_fails_the_build(tmp_path: Path) -> None:
    css = (Path(__file__).parent.parent / "templates" / "print.css").read_text()
    project = make_project(tmp_path / "p", files={
        "templates/print.css": css + "\nh1 { colour: red; }\n"})
    error = first_error(project, "build", "--format", "pdf")
    assert "WeasyPrint: Ignored `colour: red` at" in error
    assert "unknown property" in error


@pytest.mark.parametrize(("name", "files", "where"), [
    ("an entity in prose", {BRIEF: SAMPLE_YAML.replace(
        "One paragraph of *summary*", "One paragraph &#x4E2D; of *summary*")},
     "content/briefs/sample.yaml"),
    ("an e-mail address", {BRIEF: SAMPLE_YAML.replace(
        "languages: [en]", "languages: [en]\ndocuments: [report, note]\ncontact:\n"
        "  name: Desk\n  email: desk@例え.jp\nkey_points: [a, b, c]").replace(
        "key_points:\n  - First point.\n  - Second point with **bold** text.\n", "")},
     "content/briefs/sample.yaml"),
    ("a catalog's words", {"templates/i18n/en.yaml": (
        Path(__file__).parent.parent / "templates/i18n/en.yaml").read_text().replace(
        "contents: Contents", "contents: Contents 中")}, "templates/i18n/en.yaml"),
])
def test_a_character_the_fonts_lack_is_refused_wherever_it_enters(
        tmp_path: Path, name: str, files: dict[str, str], where: str) -> None:
    project = make_project(tmp_path / "p", files=files)
    for command in (("check",), ("build",)):
        error = first_error(project, *command)
        assert error.startswith(f"{where}:") and "is not in the project's fonts" in error, error
    assert not (project / "output" / "sample").exists()
