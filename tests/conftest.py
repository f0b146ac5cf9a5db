"""Shared test set-up: real projects in temporary folders, goldens, log checks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    """Run build.py as a user does, in its own process."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-C", str(project), *args],
                          capture_output=True, text=True, env=env, timeout=300)
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


@pytest.fixture(scope="session")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real content built once per test session, in a copy of the project."""
    folder = make_project(tmp_path_factory.mktemp("real") / "project", root=None)
    result = run_cli(folder)
    assert result.code == 0, result.err
    return folder / "output" / "international-cooperation"


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_project(tmp_path_factory.mktemp("sample") / "project")
    result = run_cli(folder)
    assert result.code == 0, result.err
    return folder
