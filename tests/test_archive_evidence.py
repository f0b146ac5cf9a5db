"""The archive as evidence (issue 20): archive/ a real folder outside output/;
publish on a full, read-only or misplaced archive a clear error with nothing
left behind; verify on a malformed build manifest a verdict, never a crash;
the register a hash-chained record of every version that the audit holds the
archive against, for archive/ and for any copy of it.

One archive of two versions is published per module and copied per test."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pikepdf
import pytest
from conftest import REPO, make_project
from test_archive import BRIEF, DOCX, EDITION, UNSEALED, resave, run, tree

from briefing.archive import register
from briefing.cli import main

V1, V2 = EDITION.format(1), EDITION.format(2)


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with two versions of `sample` in archive/."""
    project = make_project(tmp_path_factory.mktemp("evidence") / "p")
    assert run(project, "publish", "sample").code == 0
    _edit_brief(project, "Sample brief, second edition")
    result = run(project, "publish", "sample")
    assert result.out.startswith(f"published {V2} (version 2; seal: {UNSEALED})\nnote: version 2 "
                                 "carries the issue date of version 1"), result.err
    return project


@pytest.fixture
def project(archived: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(archived, tmp_path / "p", symlinks=True))


def _edit_brief(project: Path, title: str) -> None:
    brief = project / BRIEF
    brief.write_text(brief.read_text().replace("title: Sample brief", f"title: {title}"))


def writable(folder: Path) -> Path:
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return folder


def audit(project: Path, capsys: pytest.CaptureFixture[str], *target: str) -> tuple[int, str]:
    """`briefing verify [TARGET]` in this process (the audit renders nothing)."""
    code = main(["-C", str(project), "verify", *target])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


# --- 1. archive/ is a real folder outside output/ --------------------------------------------

@pytest.mark.parametrize("target", ["output/store", "missing"])
def test_publish_refuses_an_archive_that_is_a_link(project: Path, target: str) -> None:
    store = project / target
    if target == "output/store":
        store.parent.mkdir()
        (project / "archive").rename(store)
    else:
        shutil.rmtree(writable(project / "archive"))
    (project / "archive").symlink_to(target)
    before = tree(store) if store.exists() else {}
    _edit_brief(project, "Sample brief, third edition")
    result = run(project, "publish", "sample")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[0] == (
        f"archive:1:1: is a symbolic link (to {target}); editions are written only into a real "
        "folder, never through a link (expected a real folder beside output/, never inside it)")
    assert "Traceback" not in result.err
    assert (tree(store) if store.exists() else {}) == before
    assert not store.exists() or not [p for p in store.iterdir() if p.name.startswith(".")]


def _clean(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", "-f", str(REPO / "Makefile"), "-C", str(project),
                           "clean"], capture_output=True, text=True)


def test_make_clean_never_deletes_editions_through_a_link(project: Path) -> None:
    """rm -rf output removes a link in output/, never what it leads to; editions
    that really lie under output/ (archive/ a link into it) stop the clean."""
    (project / "output").mkdir()
    (project / "output/old-archive").symlink_to("../archive")
    before = tree(project / "archive")
    done = _clean(project)
    assert done.returncode == 0, done.stderr
    assert not (project / "output").exists() and tree(project / "archive") == before
    (project / "output").mkdir()
    (project / "archive").rename(project / "output/store")
    (project / "archive").symlink_to("output/store")
    done = _clean(project)
    assert done.returncode != 0
    assert ("make clean: output/ holds archive editions (output/store/2020-01-15_sample_v"
            in done.stderr)
    assert tree(project / "output/store") == before


# --- 2. an archive that cannot take an edition ------------------------------------------------

def test_publish_into_an_archive_that_is_a_file(project: Path) -> None:
    shutil.rmtree(writable(project / "archive"))
    (project / "archive").write_text("not a folder")
    result = run(project, "publish", "sample")
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines()[0] == (
        "archive:1:1: is not a folder (expected a folder beside output/ for the editions)")
    assert (project / "archive").read_text() == "not a folder"


@contextlib.contextmanager
def mounted(folder: Path, *options: str) -> Iterator[None]:
    """`folder` with a file system mounted on it for the time of the block."""
    subprocess.run(["mount", *options, str(folder)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@contextlib.contextmanager
def _unwritable(project: Path) -> Iterator[None]:
    """archive/ read-only: as root (who writes through any mode) a read-only
    bind mount of it; as anyone else, its mode."""
    archive = project / "archive"
    if os.geteuid() != 0:
        archive.chmod(0o555)
        yield
        return
    subprocess.run(["mount", "--bind", str(archive), str(archive)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(archive)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(archive)], check=True)


def test_publish_into_a_read_only_archive(project: Path) -> None:
    before = tree(project / "archive")
    _edit_brief(project, "Sample brief, third edition")
    with _unwritable(project):
        result = run(project, "publish", "sample")
        assert (result.code, result.out) == (1, "")
        first = result.err.splitlines()[0]
        assert first.startswith("archive:1:1: cannot be written: ") and first.endswith(
            "; nothing was published (expected a folder this user may write to, on a disk "
            "with room)"), result.err
        assert "Traceback" not in result.err
        assert tree(project / "archive") == before
        assert sorted(p.name for p in (project / "archive").iterdir()) == [
            "2020-01-15_sample_v1", "2020-01-15_sample_v2", "register.csv"]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_publish_into_a_full_archive(tmp_path: Path) -> None:
    """An edition is about 600 KiB: a 256 KiB tmpfs fills while it is written."""
    project = make_project(tmp_path / "p")
    archive = project / "archive"
    archive.mkdir()
    with mounted(archive, "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs"):
        result = run(project, "publish", "sample")
        assert (result.code, result.out) == (1, "")
        assert result.err.splitlines()[0] == (
            "archive:1:1: cannot hold the edition 2020-01-15_sample_v1: No space left on "
            "device; nothing was published (expected a folder this user may write to, on a "
            "disk with room)")
        assert "Traceback" not in result.err
        assert list(archive.iterdir()) == [], "something half-written stayed"


BAG_ON_A_FULL_DISK = """
import sys
from pathlib import Path
from briefing.archive import bag
folder = Path(sys.argv[1])
try:
    with (folder / "filler").open("wb") as handle:  # the payload fills the disk
        while True:
            handle.write(bytes(4096))
            handle.flush()
except OSError:
    pass
try:
    bag.make(folder, {"External-Description": "x"})
except OSError as err:
    print(err.strerror)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_bagit_failing_on_a_full_disk_prints_no_traceback(tmp_path: Path) -> None:
    """bagit logs its own failure with a traceback before raising it; publish
    reports the error in one line, so bagit's log goes nowhere."""
    folder = tmp_path / "bag"
    folder.mkdir()
    with mounted(folder, "-t", "tmpfs", "-o", "size=64k", "tmpfs"):
        done = subprocess.run([sys.executable, "-c", BAG_ON_A_FULL_DISK, str(folder)],
                              capture_output=True, text=True, timeout=60)
    assert (done.stdout, done.stderr) == ("No space left on device\n", "")


INTERRUPTED = """
import sys
from briefing.archive import register
from briefing.cli import main

append = register.append

def interrupted(*args, **kwargs):
    append(*args, **kwargs)
    raise KeyboardInterrupt  # Ctrl-C once the row is written, before the rename

register.append = interrupted
sys.exit(main(["-C", sys.argv[1], "publish", "sample"]))
"""


def test_a_publish_interrupted_once_registered_is_completed_by_the_next(
        tmp_path: Path) -> None:
    """Ctrl-C after the row was written keeps the hidden edition (it is
    published): the next publish renames it into place, and nothing is lost."""
    project = make_project(tmp_path / "p")
    done = subprocess.run([sys.executable, "-c", INTERRUPTED, str(project)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 130, done.stderr
    archive = project / "archive"
    assert [p.name for p in archive.iterdir() if not p.name.startswith(".")] == ["register.csv"]
    assert len(list(archive.glob(".incoming-*"))) == 1
    result = run(project, "publish", "sample")
    assert result.out == f"unchanged since {V1}; nothing published\n", result.err
    assert run(project, "verify").code == 0


# --- 3. a build manifest of the wrong shape ---------------------------------------------------

def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


MANIFESTS = {
    "a list at the top": ("[]", "expected a mapping at the top, found a list"),
    "edition a list": ('{"tool": "Briefing 1", "code_sha256": "x", "edition": [], '
                       '"outputs": [], "source_sha256": {}, "environment": {}}',
                       "edition: expected a mapping, found a list"),
    "environment a list": (None, "environment: expected a mapping, found a list"),
    "languages a string": (None, "edition.languages: expected a list, found a string"),
    "nested 100,000 levels": (_nested(100_000), "nested too deeply to be a build manifest"),
}


@pytest.mark.parametrize("case", MANIFESTS)
def test_verify_on_a_malformed_build_manifest(project: Path, case: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    edition = writable(project / V1)
    path = edition / "data/build-manifest.json"
    text, why = MANIFESTS[case]
    if text is None:
        manifest = json.loads(path.read_text())
        if case == "environment a list":
            manifest["environment"] = [manifest["environment"]]
        else:
            manifest["edition"]["languages"] = "en"
        text = json.dumps(manifest)
    path.write_text(text)
    resave(edition)
    code, out = audit(project, capsys, str(edition))
    assert code == 1
    assert (f"FAILED  data/build-manifest.json: {why}: the edition has no record this "
            "Briefing can check it against") in out.splitlines()


def test_verify_a_lone_pdf_whose_manifest_is_nested_too_deeply(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archived = project / V1 / "data" / "2020-01-15_sample_en.pdf"
    forged = tmp_path / "forged.pdf"
    with pikepdf.open(archived) as pdf:
        pdf.attachments["build-manifest.json"] = pikepdf.AttachedFileSpec(
            pdf, _nested(100_000).encode(), filename="build-manifest.json")
        pdf.save(forged)
    code, out = audit(project, capsys, str(forged))
    assert code == 1
    assert ("FAILED  forged.pdf: its build manifest: nested too deeply to be a build manifest"
            in out.splitlines())


# --- 5. the register: every version, chained, its tag manifest's digest ------------------------

def test_the_register_chains_every_version(archived: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    lines = (archived / "archive/register.csv").read_bytes().splitlines(keepends=True)
    assert lines[0] == register.HEADER and len(lines) == 3
    rows = list(csv.DictReader(line.decode() for line in lines))
    for number, row in enumerate(rows, start=1):
        edition = archived / "archive" / f"2020-01-15_sample_v{number}"
        assert row["tag_manifest_sha256"] == hashlib.sha256(
            (edition / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
        assert row["previous_row_sha256"] == hashlib.sha256(lines[number - 1]).hexdigest()
        assert row["row_seal"] == ""
    assert audit(archived, capsys) == (0, (
        "ok  2020-01-15_sample_v1: intact (fixity, record, register, unsealed)\n"
        "ok  2020-01-15_sample_v2: intact (fixity, record, register, unsealed)\n"
        "2 edition(s) in archive/: 2 intact, 0 damaged\n"))


def _bag_info(project: Path, change: Callable[[str], str]) -> None:
    """Version 2's bag-info.txt changed by `change`, its manifests recomputed."""
    edition = writable(project / V2)
    info = edition / "bag-info.txt"
    info.write_text(change(info.read_text()))
    resave(edition)


def _approved(project: Path) -> str:
    _bag_info(project, lambda text: text + "Approved-By: the minister\n")
    return "bag-info.txt: Approved-By is not a field Briefing writes: added after publishing"


def _supersedes(project: Path) -> str:
    _bag_info(project, lambda text: text.replace("Supersedes: 2020-01-15_sample_v1",
                                                 "Supersedes: 2019-12-01_sample_v1"))
    return ("bag-info.txt: Supersedes names 2019-12-01_sample_v1, which is not beside it "
            "(there: 2020-01-15_sample_v1)")


def _version_changed(project: Path) -> str:
    _bag_info(project, lambda text: re.sub(r"(?m)^Briefing-Version: .*$",
                                           "Briefing-Version: 9.9", text))
    return "bag-info.txt: Briefing-Version says '9.9', the edition's record says"


def _marking_twice(project: Path) -> str:
    _bag_info(project, lambda text: text + "Marking: PUBLIC\n")
    return "bag-info.txt: Marking is given 2 times"


def _docx(project: Path) -> str:
    edition = writable(project / V2)
    docx = edition / "data" / DOCX
    data = bytearray(docx.read_bytes())
    data[200] ^= 0x01
    docx.write_bytes(bytes(data))
    resave(edition)
    return ("tagmanifest-sha256.txt is not the one the register recorded (line 3): its tag "
            "files (bag-info.txt, the manifests) changed after it was published")


def _deleted(project: Path) -> str:
    shutil.rmtree(writable(project / V1))
    return ("2020-01-15_sample_v1: missing: the register lists it (line 2); the version was "
            "deleted, moved or renamed")


def _renamed(project: Path) -> str:
    (project / V2).rename(project / f"{V2}.bak")
    return ("2020-01-15_sample_v2.bak: not part of the archive, which holds only its editions "
            "and register.csv (a bag: a renamed or copied edition?)")


def _row_edited(project: Path) -> str:
    path = project / "archive/register.csv"
    path.write_text(path.read_text().replace(",Sample brief,", ",Sample brief (draft),"))
    return ("archive/register.csv: line 3: previous_row_sha256 is not the SHA-256 of the line "
            "before")


def _unregistered(project: Path) -> str:
    path = project / "archive/register.csv"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    return "2020-01-15_sample_v2: not in the register: not published here"


TAMPERING = {"Approved-By added": _approved, "Supersedes forged": _supersedes,
             "Briefing-Version changed": _version_changed, "Marking given twice": _marking_twice,
             "DOCX edited": _docx, "version deleted": _deleted,
             "version renamed to .bak": _renamed, "a row edited": _row_edited,
             "a version without its row": _unregistered}


@pytest.mark.parametrize("tampering", TAMPERING)
def test_the_audit_catches_tampering_with_recomputed_manifests(
        project: Path, tampering: str, capsys: pytest.CaptureFixture[str]) -> None:
    named = TAMPERING[tampering](project)
    code, out = audit(project, capsys)
    assert code == 1
    failed = [line for line in out.splitlines() if line.startswith("FAILED")]
    assert any(named in line for line in failed), failed


@pytest.mark.parametrize("tampering", ["Approved-By added", "Supersedes forged"])
def test_verify_edition_catches_bag_info_fields_outside_the_record(
        project: Path, tampering: str) -> None:
    named = TAMPERING[tampering](project)
    result = run(project, "verify", str(project / V2))
    assert result.code == 1 and "Traceback" not in result.err
    assert f"FAILED  {named}" in result.err.splitlines(), result.err


def test_a_lone_version_renamed_away_fails_the_audit(project: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    """The issue's case: one version renamed to *.bak audited as "0 editions"."""
    shutil.rmtree(writable(project / V2))
    path = project / "archive/register.csv"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    assert audit(project, capsys)[0] == 0
    (project / V1).rename(project / f"{V1}.bak")
    code, out = audit(project, capsys)
    assert code == 1 and "FAILED  2020-01-15_sample_v1: missing: the register lists it" in out


def test_without_a_key_a_rewritten_register_is_caught_only_by_the_rebuild(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/archive.md: without a key, a forger who edits a DOCX, recomputes the
    bag's manifests and rewrites the version's row (the last, so no row after it
    is chained to it) passes the audit; only the rebuild tells. This test keeps
    that sentence true."""
    _docx(project)
    path = project / "archive/register.csv"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:2]))
    register.append(project / "archive", project / V2, (project / V2).name, None)
    assert audit(project, capsys)[0] == 0
    result = run(project, "verify", str(project / V2))
    assert result.code == 1 and f"FAILED  {DOCX}: differs from its rebuild" in result.err


def test_publish_refuses_to_remake_a_missing_register(project: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (project / "archive/register.csv").unlink()
    code, out = audit(project, capsys)
    assert code == 1 and "FAILED  archive/register.csv: missing (or not a file)" in out
    _edit_brief(project, "Sample brief, third edition")
    result = run(project, "publish", "sample")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("archive/register.csv:1:1: is missing, though archive/ holds "
                                 "editions: restore it from a copy"), result.err
    assert not (project / "archive/register.csv").exists()


def test_publish_refuses_a_register_that_is_a_link(project: Path) -> None:
    path = project / "archive/register.csv"
    path.rename(project / "register-elsewhere.csv")
    path.symlink_to("../register-elsewhere.csv")
    before = (project / "register-elsewhere.csv").read_bytes()
    _edit_brief(project, "Sample brief, third edition")
    result = run(project, "publish", "sample")
    assert (result.code, result.out) == (1, "")
    assert result.err.startswith("archive/register.csv:1:1: is a symbolic link; the register is "
                                 "written only as a file"), result.err
    assert (project / "register-elsewhere.csv").read_bytes() == before


def test_a_missing_version_keeps_its_number(project: Path) -> None:
    shutil.rmtree(writable(project / V2))
    _edit_brief(project, "Sample brief, third edition")
    result = run(project, "publish", "sample")
    assert result.out.splitlines()[0] == \
        f"published {EDITION.format(3)} (version 3; seal: {UNSEALED})"
    rows = list(csv.DictReader((project / "archive/register.csv").open(newline="")))
    assert [(row["version"], row["supersedes"]) for row in rows] == [
        ("1", ""), ("2", "2020-01-15_sample_v1"), ("3", "2020-01-15_sample_v2")]


def test_a_register_from_before_the_chain_is_chained_at_the_next_publish(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "archive/register.csv"
    rows = list(csv.reader(path.open(newline="")))
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(row[:10] for row in rows)
    code, out = audit(project, capsys)
    assert code == 1 and "line 1: has the form before the chain" in out
    _edit_brief(project, "Sample brief, third edition")
    assert run(project, "publish", "sample").code == 0
    assert [row.identifier for row in register.read(project / "archive").rows] == [
        "2020-01-15_sample_v1", "2020-01-15_sample_v2", "2020-01-15_sample_v3"]
    assert audit(project, capsys)[0] == 0


def test_the_audit_opens_no_link_device_or_pipe_in_a_transfer(archived: Path,
                                                               tmp_path: Path) -> None:
    """A transfer is untrusted: a DOCX that is a link to /dev/zero, a manifest
    that is a named pipe, are named, never read (reading them never ends)."""
    copy = Path(shutil.copytree(archived / "archive", tmp_path / "transfer"))
    docx = writable(copy / "2020-01-15_sample_v1") / "data" / DOCX
    docx.unlink()
    docx.symlink_to("/dev/zero")
    manifest = writable(copy / "2020-01-15_sample_v2") / "data/build-manifest.json"
    manifest.unlink()
    os.mkfifo(manifest)
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-C", str(archived),
                           "verify", str(copy)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    failed = [line for line in done.stderr.splitlines() if line.startswith("FAILED")]
    assert [line.split(": ")[1:3] for line in failed] == [
        ["not a readable BagIt bag", "holds what a bag never does, not read"]] * 2
    assert f"data/{DOCX} (a link, device or pipe)" in failed[0]
    assert "data/build-manifest.json (a link, device or pipe)" in failed[1]


# --- 6. verify PATH audits any folder holding an archive --------------------------------------

def test_verify_audits_a_copy_of_the_archive_elsewhere(archived: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    copy = Path(shutil.copytree(archived / "archive", tmp_path / "transfer" / "2026-12"))
    code, out = audit(archived, capsys, str(copy))
    assert code == 0, out
    assert out.splitlines() == [
        "ok  2020-01-15_sample_v1: intact (fixity, record, register, unsealed)",
        "ok  2020-01-15_sample_v2: intact (fixity, record, register, unsealed)",
        "2 passed, 0 failed"]
    shutil.rmtree(writable(copy / "2020-01-15_sample_v1"))
    code, out = audit(archived, capsys, str(copy))
    assert code == 1 and "FAILED  2020-01-15_sample_v1: missing: the register lists it" in out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert audit(archived, capsys, str(empty)) == (  # stdout, then stderr
        1, "0 passed, 1 failed\nFAILED  empty: holds no edition and no register: not an archive\n")
