"""Shared test set-up: real projects in temporary folders, goldens, log checks."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from readers import libreoffice_pdf

from briefing.cli import main

REPO = Path(__file__).resolve().parent.parent
ROOTS = Path(__file__).resolve().parent / "roots"
GOLDENS = Path(__file__).resolve().parent / "goldens"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true",
                     help="rewrite tests/goldens/ from the current output")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/goldens/<name>; `--update-goldens` rewrites it."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, actual: str) -> None:
        path = GOLDENS / name
        if update or not path.exists():
            if not update:
                pytest.fail(f"no golden {path.name}; run pytest --update-goldens and review it")
            path.write_text(actual, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert actual == expected, f"{name} differs; review, then pytest --update-goldens"

    return check


def make_project(target: Path, root: str | None = "sample",
                 files: dict[str, str | bytes] | None = None) -> Path:
    """A project folder: the repo's templates and fonts, a test root's content,
    then `files` written over it (relative path -> text, bytes, or "" to delete)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "templates", target / "templates")
    shutil.copy(REPO / "requirements.lock", target / "requirements.lock")
    (target / "fonts").mkdir()
    shutil.copy(REPO / "fonts" / "SHA256SUMS", target / "fonts" / "SHA256SUMS")
    for font in (REPO / "fonts").glob("*.ttf"):
        shutil.copy(font, target / "fonts" / font.name)
    source = REPO / "content" if root is None else ROOTS / root / "content"
    shutil.copytree(source, target / "content")
    for name, data in (files or {}).items():
        path = target / name
        if data == "":
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return target


def output_files(project: Path) -> dict[str, Path]:
    """Every output file as a reader finds it, `output/<slug>/<name>` (each brief's
    folder is a link to its current generation), the cache left out."""
    output = project / "output"
    if not output.is_dir():
        return {}
    return {f"output/{folder.name}/{path.name}": path
            for folder in sorted(output.iterdir()) if not folder.name.startswith(".")
            and folder.is_dir() and folder.name != "archive"
            for path in sorted(folder.iterdir()) if path.is_file()}


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(project: Path, *args: str) -> Run:
    """Run build.py as a user does, in its own process: for what the process
    boundary itself decides (its exit status, signals, limits, imports)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-C", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300)
    return Run(done.returncode, done.stdout, done.stderr)


def run_in_process(project: Path, *args: str) -> Run:
    """Run build.py's command line in this process: the same exit code and the
    same output as run_cli, without a new interpreter that imports WeasyPrint
    again (a second or more each time). Renders still happen in the build's
    own worker processes."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["-C", str(project), *args], prog="build.py")
        except SystemExit as leaving:  # argparse's usage errors, --help, --version
            code = leaving.code if isinstance(leaving.code, int) else int(leaving.code is not None)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every test process of this session shares: with pytest-xdist,
    the parent of the workers' own temporary folders (made anew for each run);
    without it, the session's own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str,
              make: Callable[[Path], None]) -> Path:
    """The folder `name`, made by `make` once per test session, whichever test
    process asks first; the others wait on its lock, then reuse it. Tests read
    it and never change it (one that must change it works on a copy)."""
    shared = session_folder(tmp_path_factory)
    folder, done = shared / name, shared / f"{name}.done"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            make(folder)
            done.touch()
    return folder


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a shared project for a test that changes it: files, links and
    modification times as they are, so that its build cache still holds."""
    shutil.copytree(source, target, symlinks=True)
    return target


def built(*args: str, root: str | None = "sample") -> Callable[[Path], None]:
    """Make a project from `root` in a folder and build it with `args`."""
    def make(folder: Path) -> None:
        make_project(folder, root=root)
        result = run_in_process(folder, *args)
        assert result.code == 0, result.err
    return make


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real content built with the defaults, once per test session: its
    international-cooperation folder (the other brief's is beside it)."""
    project = made_once(tmp_path_factory, "real", built(root=None))
    return project / "output" / "international-cooperation"


@pytest.fixture(scope="session")
def real_semantic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """output/ of the real content's semantic HTML (`--format semantic`, the
    HTML every writer reads), every brief and language, once per session."""
    return made_once(tmp_path_factory, "real-semantic",
                     built("build", "--format", "semantic", root=None)) / "output"


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project built by the bare command (`build.py -C DIR`: a
    build with the defaults), once per session."""
    return made_once(tmp_path_factory, "sample", built())


@pytest.fixture(scope="session")
def sample_semantic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample project's semantic HTML (`--format semantic`), once per session."""
    return made_once(tmp_path_factory, "sample-semantic", built("build", "--format", "semantic"))


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """A DOCX as LibreOffice lays it out (readers.libreoffice_pdf), converted once
    per session for each distinct file: the same bytes give the same pages, and
    each conversion takes LibreOffice seconds."""
    def convert(docx_path: Path) -> Path:
        digest = hashlib.sha256(docx_path.read_bytes()).hexdigest()

        def make(folder: Path) -> None:
            folder.mkdir(parents=True)
            libreoffice_pdf(docx_path, folder)

        [converted] = made_once(tmp_path_factory, f"libreoffice-{digest}", make).glob("*.pdf")
        return converted
    return convert


def note_too_long(brief: Path) -> None:
    """Give a brief's note five key points far too long for its one page (in
    English; the brief's other languages keep short ones)."""
    data = yaml.safe_load(brief.read_text(encoding="utf-8"))
    data["key_points"] = [{"en": f"Key point {n}, which says much more than it must. " * 12,
                           "az": f"Əsas məqam {n}.", "ru": f"Ключевой момент {n}."}
                          for n in range(5)]
    brief.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                     encoding="utf-8")


def sample_request(project: Path) -> Any:
    """The English report of brief `sample` in `project`, as a render worker
    hands it to a writer (the HTML made from the project's own files)."""
    from briefing.content.load import load_project
    from briefing.files import ProjectFiles
    from briefing.render.edition import Edition
    from briefing.render.html import environment, render_html
    from briefing.render.view import build_view
    from briefing.writers.registry import Request

    files = ProjectFiles(project)
    content = load_project(files)
    edition = Edition(content.brief("sample"), "en")
    html = render_html(environment(files), build_view(content, edition), edition)
    return Request(html, edition, files, project=content)
