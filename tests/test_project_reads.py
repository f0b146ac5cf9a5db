"""A project's files are read once per process while they stay the same.

The build's cache, every remembered verdict and the font checks all ask for
the digests of the fonts and templates: each file's bytes are read once, and
read again as soon as the file changes (a font replaced while `serve` runs).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import make_project

import briefing.files
from briefing.files import ProjectFiles
from briefing.render.fonts import font_file_problems


def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many times each file's bytes are read from here on."""
    counted: dict[str, int] = {}
    real = os.read

    def read(fd: int, size: int) -> bytes:
        name = os.readlink(f"/proc/self/fd/{fd}")
        counted[name] = counted.get(name, 0) + 1
        return real(fd, size)

    monkeypatch.setattr(briefing.files.os, "read", read)
    return counted


def test_a_file_is_read_once_while_it_is_unchanged(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "p")
    files = ProjectFiles(project)
    css = files.path("templates/print.css")
    counted = reads(monkeypatch)
    first = files.digest(css)
    assert ProjectFiles(project).digest(css) == first  # another object, the same process
    assert sum(counted.values()) <= 2  # one read, and the empty read that ends it
    css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    assert files.digest(css) != first
    assert sum(counted.values()) > 2


def test_fonts_are_checked_without_reading_them_again(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "p")
    fonts = tuple(ProjectFiles(project).fonts())
    assert font_file_problems(ProjectFiles(project), fonts) == []
    counted = reads(monkeypatch)
    assert font_file_problems(ProjectFiles(project), fonts) == []
    assert not any(name.endswith(".ttf") for name in counted), counted
    # A font replaced by something that is not a font is found at once.
    fonts[0].write_bytes(b"not a font, but as long as one would be" * 100)
    found = font_file_problems(ProjectFiles(project), fonts)
    assert [problem.path for problem in found] == [f"fonts/{fonts[0].name}"], found


# -- one project object, two side by side ------------------------------------------------


def test_two_projects_render_side_by_side_each_with_its_own_files(tmp_path: Path) -> None:
    """The loaded project carries its files, and every stage takes templates,
    theme and fonts from the project it is handed: two projects (an A4 and an
    A5 one) rendered one after the other in one process keep their own
    paper, in both directions (nothing kept per process leaks across)."""
    import io

    import pikepdf

    from briefing.content.load import load_project
    from briefing.render.edition import editions
    from briefing.render.html import environment, render_html
    from briefing.render.view import build_view
    from briefing.writers.pdf import write_pdf
    from briefing.writers.registry import Request

    theme = "templates/theme.yaml"
    a4 = make_project(tmp_path / "a4")
    a5 = make_project(tmp_path / "a5", files={theme: (a4 / theme).read_text(
        encoding="utf-8").replace("  size: A4 ", "  size: A5 ", 1)})
    projects = {"A4": load_project(ProjectFiles(a4)), "A5": load_project(ProjectFiles(a5))}
    assert projects["A4"].files == ProjectFiles(a4) and projects["A5"].files == ProjectFiles(a5)

    def width_mm(paper: str) -> float:
        """The first page's width of the project's first edition, laid out here."""
        project = projects[paper]
        assert project.files is not None
        edition = editions(project, project.briefs[0])[0]
        html = render_html(environment(project.files), build_view(project, edition), edition)
        pdf = write_pdf(Request(html, edition, project.files, project=project))
        with pikepdf.open(io.BytesIO(pdf)) as opened:
            return round(float(opened.pages[0].mediabox[2]) * 25.4 / 72)

    assert [width_mm(paper) for paper in ("A4", "A5", "A4", "A5")] == [210, 148, 210, 148]


def test_an_archived_edition_is_laid_out_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The archive's DOCX takes its contents' page numbers from the PDF/A made
    beside it, not from a print PDF laid out again and dropped."""
    import briefing.writers.pdf
    from briefing.content.load import load_project
    from briefing.orchestration import workers
    from briefing.orchestration.workers import Job
    from briefing.render.edition import editions

    project = load_project(ProjectFiles(make_project(tmp_path / "p")))
    edition = editions(project, project.briefs[0])[0]
    monkeypatch.setitem(workers._STATE, "project", project)
    monkeypatch.setitem(workers._STATE, "annexes", {})
    monkeypatch.setitem(workers._STATE, "layouts", "test")
    monkeypatch.setitem(workers._STATE, "limits", workers.Limits())
    monkeypatch.delitem(workers._STATE, "env", raising=False)
    layouts: list[str] = []
    real = briefing.writers.pdf._write

    def counted(request: object, options: dict[str, object]) -> bytes:
        layouts.append(str(options["pdf_variant"]))
        return real(request, options)  # type: ignore[arg-type]

    monkeypatch.setattr(briefing.writers.pdf, "_write", counted)
    outputs, problems = workers._render_formats(Job(edition, ("docx", "pdfa")))
    assert problems == [] and [fmt for fmt, _, _ in outputs] == ["pdfa", "docx"]
    assert layouts == ["pdf/a-3u"]


def test_a_relative_cache_folder_is_never_the_project(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`XDG_CACHE_HOME=cache` would put what Briefing remembers in whatever
    folder a command runs from; as the XDG specification says, it is ignored."""
    from briefing.files import user_cache

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")
    assert user_cache("verdicts") == tmp_path / "home/.cache/briefing/verdicts"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache("verdicts") == tmp_path / "xdg/briefing/verdicts"


def test_a_font_judged_is_judged_by_the_bytes_read(tmp_path: Path) -> None:
    """A font replaced between its digest and its check: the verdict is filed
    under the bytes actually read, so the damaged bytes are still refused."""
    from briefing.render.fonts import _unusable

    project = make_project(tmp_path / "p")
    files = ProjectFiles(project)
    font = files.fonts()[0]
    good = font.read_bytes()
    font.write_bytes(b"\0" * len(good))
    damaged = files.digest(font, 1 << 30)
    font.write_bytes(good)  # restored before it is checked
    assert _unusable(damaged, files, font) is None  # the font as it is now
    font.write_bytes(b"\0" * len(good))
    assert _unusable(damaged, files, font) is not None


def test_print_css_copied_with_its_time_kept_is_parsed_again(tmp_path: Path) -> None:
    """`cp -p` or `rsync -t` keep the modification time: the change time still
    tells the new file from the old."""
    from briefing.writers.pdf import _stamps

    project = make_project(tmp_path / "p")
    files = ProjectFiles(project)
    css = files.path("templates/print.css")
    before = _stamps(files)
    info = css.stat()
    css.write_text(css.read_text(encoding="utf-8").replace("1.45", "9.45", 1), encoding="utf-8")
    os.utime(css, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert css.stat().st_size == info.st_size and css.stat().st_mtime_ns == info.st_mtime_ns
    assert _stamps(files) != before
