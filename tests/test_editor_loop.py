"""The editor's loop: incremental and parallel builds, failures that stay local."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest
from conftest import (
    REPO,
    ROOTS,
    copy_project,
    made_once,
    make_project,
    note_too_long,
    output_files,
    run_in_process,
)
from readers import pdf_text

from briefing.orchestration.progress import Written

SAMPLE = "output/sample/2020-01-15_sample_en"
OTHER = "output/other/2021-03-01_other_en"
# Seconds after which a wait gives up: reached only by a run that would hang
# (a busy machine takes long, never this long).
WAIT_BOUND = 600


def _two_briefs(folder: Path) -> None:
    make_project(folder, files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    result = run_in_process(folder, "build", "-j", "2")
    assert result.code == 0, result.err


@pytest.fixture
def two_briefs(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project and `other`, built with -j 2 once per session; each
    test changes a copy of its own."""
    return copy_project(made_once(tmp_path_factory, "two-briefs", _two_briefs), tmp_path / "p")


def stamps(project: Path) -> dict[str, int]:
    return {name: p.stat().st_mtime_ns for name, p in output_files(project).items()
            if p.suffix in (".pdf", ".docx")}


def rebuilt(project: Path, *args: str) -> set[str]:
    before = stamps(project)
    result = run_in_process(project, *args)
    assert result.code == 0, result.err
    after = stamps(project)
    return {name for name in after if after[name] != before.get(name)}


def test_nothing_changed_means_nothing_rebuilt(two_briefs: Path) -> None:
    result = run_in_process(two_briefs)
    assert result.out == "built 0 file(s), 6 up to date\n"
    assert rebuilt(two_briefs) == set()


def test_a_partner_change_rebuilds_only_the_briefs_that_name_it(two_briefs: Path) -> None:
    partner = two_briefs / "content/partners/org.yaml"
    partner.write_text(partner.read_text().replace("Capital", "Capital City"))
    assert rebuilt(two_briefs) == {f"{SAMPLE}.pdf", f"{SAMPLE}.docx"}


def test_a_template_change_rebuilds_everything(two_briefs: Path) -> None:
    css = two_briefs / "templates/print.css"
    css.write_text(css.read_text() + "\n/* a reviewed change */\n")
    assert rebuilt(two_briefs) == {f"{SAMPLE}.pdf", f"{SAMPLE}.docx",
                                   f"{OTHER}.pdf", f"{OTHER}.docx"}


def test_force_rebuilds_and_a_touched_output_is_remade(two_briefs: Path) -> None:
    assert len(rebuilt(two_briefs, "build", "--force")) == 4
    (two_briefs / f"{OTHER}.pdf").write_bytes(b"not a pdf")
    assert rebuilt(two_briefs) == {f"{OTHER}.pdf"}
    assert (two_briefs / f"{OTHER}.pdf").read_bytes().startswith(b"%PDF")


def test_one_failing_brief_does_not_stop_the_others(two_briefs: Path) -> None:
    brief = two_briefs / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text().replace("date: 2020-01-15", "date: 2020-13-15"))
    css = two_briefs / "templates/print.css"
    css.write_text(css.read_text() + "\n/* touch everything */\n")
    before = stamps(two_briefs)
    result = run_in_process(two_briefs)
    assert result.code == 1
    assert result.err.splitlines() == [
        "content/briefs/sample.yaml:3:7: date: `2020-13-15` is not a real date "
        "(expected a day that exists)",
        "failed: sample (1 error(s); their previous outputs are untouched)",
    ]
    after = stamps(two_briefs)
    assert after[f"{OTHER}.pdf"] != before[f"{OTHER}.pdf"]
    assert after[f"{SAMPLE}.pdf"] == before[f"{SAMPLE}.pdf"]


def test_parallel_and_serial_builds_give_the_same_bytes(two_briefs: Path, tmp_path: Path) -> None:
    serial = make_project(tmp_path / "serial", files={
        "content/briefs/other.yaml": (ROOTS / "sample" / "other-brief.yaml").read_text()})
    assert run_in_process(serial, "build", "-j", "1").code == 0
    for name in (f"{SAMPLE}.pdf", f"{SAMPLE}.docx", f"{OTHER}.pdf", f"{OTHER}.docx"):
        assert (serial / name).read_bytes() == (two_briefs / name).read_bytes(), name


def test_quiet_and_plain_logs(project: Path) -> None:
    result = run_in_process(project, "build", "-q")
    assert (result.code, result.out, result.err) == (0, "", "")
    result = run_in_process(project, "build", "--force")
    assert result.out.splitlines()[0].startswith(f"wrote {SAMPLE}.")
    assert result.out.splitlines()[-1] == "built 3 file(s)"
    result = run_in_process(project, "build", "-v")
    assert result.out == "built 0 file(s), 3 up to date\n"


def test_jobs_must_be_positive(project: Path) -> None:
    assert run_in_process(project, "build", "-j", "0").code == 2
    assert not (project / "output").exists()
    assert os.cpu_count()


def test_check_does_not_import_the_renderers(project: Path) -> None:
    """Once a build's WeasyPrint and python-docx found nothing wrong with
    print.css and reference.docx, `check` remembers it (for the same
    templates, fonts and code) and imports neither: it stays fast while
    content is edited."""
    assert run_in_process(project, "build", "--format", "html").code == 0
    assert run_in_process(project, "check").code == 0  # asks them, and remembers
    code = ("import sys; sys.argv = ['build.py', '-C', sys.argv[1], 'check'];"
            "from briefing.cli import main; code = main();"
            "assert 'weasyprint' not in sys.modules and 'docx' not in sys.modules, 'imported';"
            "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert done.returncode == 0, done.stderr


def test_check_selected_briefs(two_briefs: Path) -> None:
    brief = two_briefs / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text().replace("date: 2020-01-15", "date: 2020-13-15"))
    assert run_in_process(two_briefs, "check", "other").code == 0
    assert run_in_process(two_briefs, "check", "sample").code == 1
    assert run_in_process(two_briefs, "check").code == 1
    assert run_in_process(two_briefs, "check", "missing").code == 2


def test_new_scaffolds_a_brief_that_builds_at_once(project: Path) -> None:
    result = run_in_process(project, "new", "fresh-brief")
    assert result.code == 0, result.err
    text = (project / "content/briefs/fresh-brief.yaml").read_text()
    assert text.splitlines()[0] == \
        "# yaml-language-server: $schema=../../schema/brief.schema.json"
    result = run_in_process(project, "build", "fresh-brief", "--format", "pdf")
    assert result.code == 0, result.err
    assert len(list((project / "output/fresh-brief").glob("*_fresh-brief_en.pdf"))) == 1
    assert run_in_process(project, "new", "fresh-brief").code == 2  # never overwritten
    assert run_in_process(project, "new", "Not A Slug").code == 2


def test_committed_schemas_are_current_and_validate_content(tmp_path: Path) -> None:
    import json

    import jsonschema
    import yaml

    from briefing.content.schema import rendered

    for name, text in rendered().items():
        assert (REPO / "schema" / name).read_text(encoding="utf-8") == text, \
            f"schema/{name} is stale: run python build.py schema"
    brief_schema = json.loads((REPO / "schema/brief.schema.json").read_text())
    partner_schema = json.loads((REPO / "schema/partner.schema.json").read_text())
    for path in (REPO / "content/briefs").glob("*.yaml"):
        jsonschema.validate(yaml.load(path.read_text(), Loader=yaml.BaseLoader), brief_schema)
    for path in (REPO / "content/partners").glob("*.yaml"):
        jsonschema.validate(yaml.load(path.read_text(), Loader=yaml.BaseLoader), partner_schema)
    broken = yaml.load((ROOTS / "errors" / "unknown-key.yaml").read_text(),
                       Loader=yaml.BaseLoader)
    with pytest.raises(jsonschema.ValidationError, match="bodi"):
        jsonschema.validate(broken, brief_schema)


class Printed:
    """What a process prints, line by line; a test waits for a condition that
    is checked again at each new line, however long the machine takes."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.ended = False
        self._news = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in iter(stream.readline, ""):
            with self._news:
                self.lines.append(line)
                self._news.notify_all()
        with self._news:
            self.ended = True
            self._news.notify_all()

    def wait_for(self, condition: Callable[[], bool]) -> None:
        with self._news:  # the bound only ends a run that would otherwise hang
            self._news.wait_for(lambda: self.ended or condition(), timeout=WAIT_BOUND)
            assert condition(), f"not seen; the process printed: {''.join(self.lines)}"


def test_watch_rebuilds_on_save_and_survives_mistakes(two_briefs: Path) -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "-C", str(two_briefs), "watch", "-j", "1",
         "--format", "pdf"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    printed = Printed(process.stdout)
    try:
        printed.wait_for(lambda: any("watching" in line for line in printed.lines))
        sample, other = two_briefs / f"{SAMPLE}.pdf", two_briefs / f"{OTHER}.pdf"
        other_before = other.stat().st_mtime_ns
        brief = two_briefs / "content/briefs/sample.yaml"
        good = brief.read_text()
        brief.write_text(good.replace("Sample brief", "Sample brief, revised"))
        printed.wait_for(lambda: "revised" in pdf_text(sample))  # at each line, `wrote ...`
        brief.write_text(good.replace("date: 2020-01-15", "date: [broken"))
        printed.wait_for(lambda: any(
            line.startswith("content/briefs/sample.yaml:4:10: YAML syntax")
            for line in printed.lines))
        assert process.poll() is None, "the watcher died on a broken file"
        brief.write_text(good)
        printed.wait_for(lambda: "revised" not in pdf_text(sample))
        assert other.stat().st_mtime_ns == other_before, "an unaffected brief was rebuilt"
        # A brief deleted: its outputs go, as a build removes them.
        (two_briefs / "content/briefs/other.yaml").unlink()
        printed.wait_for(lambda: not (two_briefs / "output/other").exists())
        assert sample.is_file()
    finally:
        process.terminate()
        process.wait(timeout=WAIT_BOUND)


def test_a_save_made_as_soon_as_the_watcher_is_ready_is_seen(tmp_path: Path) -> None:
    """`watch` and `serve` say they are watching from `ready`: a save at that
    moment must reach the first batch (it was lost when "watching" was printed
    before the watcher was in place)."""
    from briefing.orchestration.watch import changes

    project = make_project(tmp_path / "p")
    brief = project / "content/briefs/sample.yaml"
    stop = threading.Event()
    deadline = threading.Timer(WAIT_BOUND, stop.set)  # only a bound on a failing run
    deadline.start()
    try:
        batches = changes(project, stop, debounce=50,
                          ready=lambda: brief.write_text(brief.read_text() + "\n"))
        first = next(batches, [])
    finally:
        stop.set()
        deadline.cancel()
    assert brief.resolve() in {path.resolve() for path in first}


# -- the edition saved or viewed first (orchestration/scheduler.py, pipeline `first`) ------

BRIEF = "international-cooperation"
REPORT_EN = f"output/{BRIEF}/2026-11-20_{BRIEF}_en"
NOTE_EN = f"output/{BRIEF}/2026-11-20_{BRIEF}_note_en"


class Recorded:
    """A build's progress as a list: each edition done, the files it wrote,
    and what output/ held at that moment."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events: list[tuple[str, list[str], set[str]]] = []

    def start(self, total: int) -> None:
        pass

    def done(self, name: str, written: list[Written]) -> None:
        self.events.append((name, sorted(str(item.path.relative_to(self.root))
                                        for item in written), set(output_files(self.root))))


def test_the_edition_named_first_renders_and_is_written_before_its_brief(
        tmp_path: Path) -> None:
    """`first`: the note (the brief's second edition) is rendered before the
    report, its HTML and PDF each written the moment it is done, while the
    report is not made yet; then the rest of the brief is written."""
    from briefing.orchestration import pipeline

    project = make_project(tmp_path / "p", root=None)
    progress = Recorded(project)
    result = pipeline.build(project, [BRIEF], ["en"], ("pdf", "html"), jobs=2,
                            progress=progress, first=f"2026-11-20_{BRIEF}_note_en")
    assert result.ok, result.failed
    (html, html_written, html_seen), (pdf, pdf_written, pdf_seen) = progress.events[:2]
    assert (html, html_written) == (f"2026-11-20_{BRIEF}_note_en", [f"{NOTE_EN}.html"])
    assert (pdf, pdf_written) == (f"2026-11-20_{BRIEF}_note_en", [f"{NOTE_EN}.pdf"])
    assert f"{NOTE_EN}.html" in html_seen and not any(REPORT_EN in seen for seen in pdf_seen)
    assert progress.events[2][1] == [f"{REPORT_EN}.html", f"{REPORT_EN}.pdf"]
    assert set(output_files(project)) == {f"{REPORT_EN}.html", f"{REPORT_EN}.pdf",
                                          f"{NOTE_EN}.html", f"{NOTE_EN}.pdf"}


def test_watch_writes_the_saved_edition_first_and_a_failing_one_keeps_its_files(
        tmp_path: Path) -> None:
    """Under `watch` a save of the brief writes its first edition (the English
    report) as soon as it is whole; the note, made too long by the same save,
    fails: its previous files stay, the failure is printed, and the report's
    new files stand."""

    project = make_project(tmp_path / "p", root=None)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, str(REPO / "build.py"), "-C", str(project), "watch", "-j", "2",
         "--lang", "en", "--format", "pdf", "--format", "html"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    printed = Printed(process.stdout)
    try:
        printed.wait_for(lambda: any("watching" in line for line in printed.lines))
        note = {suffix: (project / f"{NOTE_EN}.{suffix}").stat().st_ino
                for suffix in ("pdf", "html")}
        seen = len(printed.lines)
        note_too_long(project / f"content/briefs/{BRIEF}.yaml")
        printed.wait_for(lambda: any(line.startswith("failed: ") for line in printed.lines))
    finally:
        process.terminate()
        process.wait(timeout=WAIT_BOUND)
    after = printed.lines[seen:]
    wrote = [line.split()[1] for line in after if line.startswith("wrote ")]
    assert wrote == [f"{REPORT_EN}.html", f"{REPORT_EN}.pdf"], after
    failure = next(i for i, line in enumerate(after) if "the note is" in line)
    assert re.match(rf"content/briefs/{BRIEF}\.yaml:\d+:\d+: key_points\[\d\]\.en: the note is ",
                    after[failure]), after[failure]
    assert after[failure + 1:] == [
        "built 2 file(s)\n",
        f"failed: {BRIEF} (1 error(s); their other outputs are untouched, the new "
        f"2026-11-20_{BRIEF}_en.html, 2026-11-20_{BRIEF}_en.pdf stand)\n"], after
    assert "which says much more" in " ".join(pdf_text(project / f"{REPORT_EN}.pdf").split())
    assert "which says much more" in (project / f"{REPORT_EN}.html").read_text()
    assert note == {suffix: (project / f"{NOTE_EN}.{suffix}").stat().st_ino
                    for suffix in ("pdf", "html")}, "the failed note's files were replaced"
    assert not [path for path in (project / "output").rglob("*") if ".partial" in path.name]


def test_the_first_editions_docx_takes_its_page_numbers_from_its_own_pdf_job(
        real_build: Path, tmp_path: Path) -> None:
    """`watch` and `serve` render the first edition's HTML and PDF as jobs of
    their own, and its DOCX after them: the DOCX reads the contents' page
    numbers from that PDF (not from a second layout) and is the DOCX a plain
    build makes, byte for byte."""
    from briefing.orchestration import pipeline

    project = copy_project(real_build.parent.parent, tmp_path / "p")
    result = pipeline.build(project, [BRIEF], ["en"], ("html", "pdf", "docx"), force=True,
                            jobs=2, first=f"2026-11-20_{BRIEF}_en")
    assert result.ok, result
    written = [item.path.name for item in result.written]
    assert written[:2] == [f"2026-11-20_{BRIEF}_en.html", f"2026-11-20_{BRIEF}_en.pdf"]
    assert f"2026-11-20_{BRIEF}_en.docx" in written
    for name in (f"{REPORT_EN}.docx", f"{NOTE_EN}.docx"):
        assert (project / name).read_bytes() == (real_build.parent.parent / name).read_bytes()


def test_a_brief_deleted_with_other_saves_is_built_away(two_briefs: Path) -> None:
    """A brief deleted in the same batch as a save of a partner it used (a git
    checkout, say): the briefs built are those that still exist, and their
    build removes the deleted brief's outputs. An editor's lock file beside a
    brief (Emacs makes `.#sample.yaml`, a link to nowhere) deletes nothing."""
    from briefing.files import ProjectFiles
    from briefing.orchestration import pipeline
    from briefing.orchestration.watch import affected

    files = ProjectFiles(two_briefs)
    lock = two_briefs / "content/briefs/.#sample.yaml"
    lock.symlink_to("editor@host.4242:1700000000")
    assert affected(files, [lock]) == []
    lock.unlink()
    other, ministry = two_briefs / "content/briefs/other.yaml", \
        two_briefs / "content/partners/ministry.yaml"
    other.unlink()
    ministry.write_text(ministry.read_text() + "\n")
    found = affected(files, [other, ministry])
    assert found == ["sample"]
    assert pipeline.build(two_briefs, found).ok
    assert not (two_briefs / "output/other").exists()


def test_a_brief_the_cache_does_not_know_is_built_away_too(two_briefs: Path) -> None:
    """A brief whose outputs the cache does not record (under `watch` its first
    edition was written early, then another failed) is removed like any other
    once deleted; a brief replaced by a link to nowhere is built, and refused."""
    from briefing.files import ProjectFiles
    from briefing.orchestration import pipeline
    from briefing.orchestration.cache import Cache
    from briefing.orchestration.watch import affected

    files = ProjectFiles(two_briefs)
    cache = Cache.open(files)
    cache.forget("other")  # as a brief never built whole leaves it
    cache.save()
    assert (two_briefs / "output/other").is_symlink()
    other = two_briefs / "content/briefs/other.yaml"
    other.unlink()
    assert affected(files, [other]) is None
    assert pipeline.build(two_briefs).ok
    assert not (two_briefs / "output/other").exists()
    sample = two_briefs / "content/briefs/sample.yaml"
    sample.unlink()
    sample.symlink_to("/nowhere/sample.yaml")
    assert affected(files, [sample]) is None
    assert run_in_process(two_briefs).code == 1
