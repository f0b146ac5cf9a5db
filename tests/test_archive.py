"""Archive editions: BagIt 1.0 bags out of harm's way, tamper-evident against
their own record, sealed, complete in metadata, explained in provenance,
audited in one run; published atomically by root and by ordinary users."""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import hashlib
import http.server
import importlib.metadata
import io
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import bagit
import pikepdf
import pytest
from conftest import REPO, Run, make_project, run_in_process

from briefing.archive.seal import first_revision
from briefing.orchestration.output import remove_stale_temporaries

ARCHIVE = "archive"
EDITION = "archive/2020-01-15_sample_v{}"
PDF = "2020-01-15_sample_en.pdf"
DOCX = "2020-01-15_sample_en.docx"
BRIEF = "content/briefs/sample.yaml"
SEAL_VARIABLES = ("BRIEFING_SEAL_KEY", "BRIEFING_SEAL_CERT", "BRIEFING_SEAL_PASSPHRASE",
                  "BRIEFING_SEAL_TSA", "BRIEFING_SEAL_TRUST")
UNSEALED = "none: no seal key was configured (BRIEFING_SEAL_KEY)"


def run(project: Path, *args: str, env: dict[str, str] | None = None,
        prefix: tuple[str, ...] = ()) -> Run:
    """build.py's command line with exactly the seal settings in `env`: in this
    process (as run_in_process), or in a process of its own started through
    `prefix` (as another user, say)."""
    if not prefix:
        with environment_of(env or {}):
            return run_in_process(project, *args)
    environment = {name: value for name, value in os.environ.items()
                   if name not in SEAL_VARIABLES}
    environment |= {"PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    done = subprocess.run([*prefix, sys.executable, str(REPO / "build.py"), "-C", str(project),
                           *args], capture_output=True, text=True, env=environment, timeout=300)
    return Run(done.returncode, done.stdout, done.stderr)


@contextlib.contextmanager
def environment_of(env: dict[str, str]) -> Iterator[None]:
    """This process's environment with no seal setting but those in `env`, for
    as long as the block runs."""
    saved = {name: os.environ.get(name) for name in (*SEAL_VARIABLES, *env)}
    for name in SEAL_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def writable_copy(edition: Path, target: Path) -> Path:
    shutil.copytree(edition, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return target


def resave(edition: Path) -> None:
    """Recompute every manifest and tag manifest with bagit, as a forger would."""
    bagit.Bag(str(edition)).save(manifests=True)
    bagit.Bag(str(edition)).validate()  # the bag itself is valid again


def failed_lines(result: Run) -> list[str]:
    return [line for line in (result.out + result.err).splitlines() if "FAILED" in line]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("archive") / "p")
    result = run(project, "publish", "sample")
    assert result.code == 0, result.err
    assert result.out == f"published {EDITION.format(1)} (version 1; seal: {UNSEALED})\n"
    return project


# --- BagIt 1.0 ------------------------------------------------------------------------------

def test_an_edition_is_a_complete_read_only_bag(published: Path) -> None:
    edition = published / EDITION.format(1)
    names = sorted(p.name for p in edition.iterdir())
    assert names == ["bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt",
                     "manifest-sha512.txt", "tagmanifest-sha256.txt", "tagmanifest-sha512.txt"]
    data = sorted(p.relative_to(edition / "data").as_posix()
                  for p in (edition / "data").rglob("*") if p.is_file())
    assert data[:3] == [DOCX, PDF, "build-manifest.json"]
    assert "source/content/briefs/sample.yaml" in data
    assert "source/content/partners/org.yaml" in data  # the partners it names...
    assert "source/content/partners/ministry.yaml" in data
    assert "source/templates/report.html.j2" in data and "source/requirements.lock" in data
    assert "source/fonts/SHA256SUMS" in data
    info = (edition / "bag-info.txt").read_text()
    for field in ("Source-Organization: Example Migration Agency", "Brief-Date: 2020-01-15",
                  "Edition-Version: 1", "Languages: en", "Marking: FOR OFFICIAL USE",
                  "Dependencies: weasyprint==70.0", "Source-Digest: ", f"Seal: {UNSEALED}"):
        assert field in info
    writable = [p.relative_to(edition).as_posix() for p in [edition, *edition.rglob("*")]
                if p.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)]
    assert writable == [], "every file and folder of an edition must be read-only"


def test_bagit_itself_validates_a_bagit_1_0_bag(published: Path) -> None:
    edition = bagit.Bag(str(published / EDITION.format(1)))
    edition.validate()
    assert edition.version_info == (1, 0)
    assert sorted(edition.algorithms) == ["sha256", "sha512"]
    assert edition.info["Bagging-Date"] == "2020-01-15"  # the brief's date, not the clock's
    assert edition.info["External-Identifier"] == "2020-01-15_sample_v1"
    assert edition.info["Bag-Group-Identifier"] == "sample"
    assert edition.info["Source-Organization"] == "Example Migration Agency"


def _listing(path: Path) -> dict[str, str]:
    """A manifest as RFC 8493 2.1.3 defines it: `checksum filepath` lines, LF ended,
    %0A %0D %25 the only percent-encodings."""
    text = path.read_bytes().decode("utf-8")
    assert text.endswith("\n") and not text.startswith("\ufeff")
    listed = {}
    for line in text[:-1].split("\n"):
        digest, name = re.fullmatch(r"([0-9a-f]+)[ \t]+(\S.*)", line).groups()
        name = name.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
        assert name not in listed and not name.startswith(("/", "./"))
        assert ".." not in name.split("/")
        listed[name] = digest
    return listed


def test_the_bag_meets_rfc_8493_read_by_hand(published: Path) -> None:
    edition = published / EDITION.format(1)
    # 2.1.1: bagit.txt, exactly these two lines, UTF-8 without byte-order mark
    assert (edition / "bagit.txt").read_bytes() == (
        b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    # 2.1.2: the payload directory
    assert (edition / "data").is_dir()
    payload = {p.relative_to(edition).as_posix(): p.read_bytes()
               for p in (edition / "data").rglob("*") if p.is_file()}
    tag_files = sorted(p.name for p in edition.iterdir() if p.is_file())
    # 2.1.3 and 2.4: payload manifests (SHA-512 and SHA-256), every payload file in each
    manifests = [n for n in tag_files if re.fullmatch(r"manifest-[a-z0-9]+\.txt", n)]
    assert manifests == ["manifest-sha256.txt", "manifest-sha512.txt"]
    for manifest in manifests:
        listed = _listing(edition / manifest)
        assert set(listed) == set(payload)
        algorithm = manifest.removeprefix("manifest-").removesuffix(".txt")
        assert all(hashlib.new(algorithm, payload[n]).hexdigest() == d for n, d in listed.items())
    # 2.2.1: tag manifests list every tag file but the tag manifests
    for manifest in (n for n in tag_files if n.startswith("tagmanifest-")):
        listed = _listing(edition / manifest)
        assert set(listed) == {n for n in tag_files if not n.startswith("tagmanifest-")}
        algorithm = manifest.removeprefix("tagmanifest-").removesuffix(".txt")
        assert all(hashlib.new(algorithm, (edition / n).read_bytes()).hexdigest() == d
                   for n, d in listed.items())
    # 2.2.2: bag-info.txt, `label: value` lines, and the reserved elements' forms
    raw = (edition / "bag-info.txt").read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8) and raw.endswith(b"\n")
    fields: dict[str, list[str]] = {}
    for line in raw.decode("utf-8").split("\n")[:-1]:
        label, colon, value = line.partition(":")
        assert colon and label == label.strip() and label and not line[0].isspace()
        fields.setdefault(label, []).append(value.strip())
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", *fields["Bagging-Date"])
    octets, streams = map(int, re.fullmatch(r"(\d+)\.(\d+)", *fields["Payload-Oxum"]).groups())
    assert (octets, streams) == (sum(map(len, payload.values())), len(payload))
    for label in ("Source-Organization", "External-Description", "External-Identifier",
                  "Bag-Group-Identifier", "Bag-Software-Agent"):
        assert len(fields[label]) == 1 and fields[label][0], label


def test_same_source_gives_the_same_edition_byte_for_byte(published: Path,
                                                          tmp_path: Path) -> None:
    """bag-info.txt too: its Bagging-Date is the brief's date, never the clock."""
    other = make_project(tmp_path / "other")
    assert run(other, "publish", "sample").code == 0
    assert tree(other / EDITION.format(1)) == tree(published / EDITION.format(1))


# --- out of harm's way ----------------------------------------------------------------------

def test_the_archive_lives_beside_output_and_make_clean_keeps_it(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    assert run(project, "build", "--format", "pdf").code == 0
    assert run(project, "publish", "sample").code == 0
    assert (project / EDITION.format(1)).is_dir() and (project / "output").is_dir()
    before = tree(project / ARCHIVE)
    assert run(project, "build", "--force").code == 0
    assert tree(project / ARCHIVE) == before, "a build touched the archive"
    done = subprocess.run(["make", "-s", "-f", str(REPO / "Makefile"), "-C", str(project),
                           "clean"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (project / "output").exists()
    assert tree(project / ARCHIVE) == before, "make clean touched the archive"


def test_make_clean_refuses_editions_left_in_output(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    old = project / "output/archive/2020-01-15_sample_v1"
    old.mkdir(parents=True)
    (old / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    done = subprocess.run(["make", "-s", "-f", str(REPO / "Makefile"), "-C", str(project),
                           "clean"], capture_output=True, text=True)
    assert done.returncode != 0 and "mv output/archive archive" in done.stderr
    assert (old / "bagit.txt").exists()


def test_cleaning_temporaries_never_sweeps_the_archive(published: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    archive = project / ARCHIVE
    edition = archive / "2020-01-15_sample_v1" / "data" / "source" / "templates"
    edition.mkdir(parents=True)
    (archive / "2020-01-15_sample_v1" / "bagit.txt").write_text("BagIt-Version: 1.0\n")
    (archive / "register.csv").write_text("date\n")
    kept = [edition / ".kept.html.partial", archive / ".register.csv.x.partial",
            archive / ".incoming-x" / ".half.pdf.partial"]
    for path in kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("archived")
    stale = project / "output" / "sample" / ".a.pdf.partial"
    stale.parent.mkdir(parents=True)
    stale.write_text("half")
    pointer = project / "output" / ".sample.link.partial"  # a half-made link to a folder
    pointer.symlink_to("sample")
    (project / "output" / "old-archive").symlink_to(archive)  # never followed
    remove_stale_temporaries(project)  # even swept from the project's root
    assert not stale.exists() and not pointer.is_symlink()
    assert all(path.read_text() == "archived" for path in kept)


# --- publishing that dies, and an ordinary user --------------------------------------------

def _visible(archive: Path) -> list[str]:
    return sorted(p.name for p in archive.iterdir() if not p.name.startswith(".")) \
        if archive.exists() else []


DYING = """
import os, sys
from briefing.archive import bag, publish, register
from briefing.cli import main

owner_name, function, when, count = sys.argv[2:6]
owner = {"bag": bag, "publish": publish, "register": register}[owner_name]
original, calls = getattr(owner, function), [0]

def dying(*args, **kwargs):
    calls[0] += 1
    if when == "before" and calls[0] >= int(count):
        os._exit(137)
    result = original(*args, **kwargs)
    if when == "after" and calls[0] >= int(count):
        os._exit(137)
    return result

setattr(owner, function, dying)
sys.exit(main(["-C", sys.argv[1], "publish", "sample"]))
"""


@pytest.mark.parametrize("moment", [
    ("publish", "_write", "before", "3"),  # the payload half written
    ("bag", "make", "after", "1"),  # bagged, not yet read-only
    ("publish", "_freeze", "after", "1"),  # read-only, not yet registered
    ("register", "append", "after", "1"),  # registered, not yet renamed
    ("publish", "sync_folder", "after", "1"),  # renamed into place
], ids=["writing", "bagged", "frozen", "registered", "renamed"])
def test_a_publish_that_dies_leaves_nothing_or_a_whole_edition(
        tmp_path: Path, moment: tuple[str, str, str, str]) -> None:
    """Whenever it dies, no edition is visible, or a whole one with its row; an
    edition registered but not yet renamed is renamed by the next publish."""
    project = make_project(tmp_path / "p")
    archive = project / ARCHIVE
    died = subprocess.run([sys.executable, "-c", DYING, str(project), *moment],
                          capture_output=True, text=True, timeout=300)
    assert died.returncode == 137, died.stderr
    visible = _visible(archive)
    assert visible in ([], ["register.csv"], ["2020-01-15_sample_v1", "register.csv"]), visible
    if "register.csv" in visible:  # registered: published, whether renamed yet or not
        result = run(project, "publish", "sample")
        assert result.out == f"unchanged since {EDITION.format(1)}; nothing published\n"
    result = run(project, "publish", "sample")  # the next publish repairs
    assert result.code == 0, result.err
    assert not list(archive.glob(".incoming-*")), "a dead publish's temporary stayed"
    assert _visible(archive) == ["2020-01-15_sample_v1", "register.csv"]
    rows = list(csv.DictReader((archive / "register.csv").open(newline="")))
    assert [row["version"] for row in rows] == ["1"]
    audit = run(project, "verify")
    assert audit.code == 0, audit.out + audit.err


def test_a_register_that_cannot_be_written_publishes_nothing(tmp_path: Path) -> None:
    """The row is written before the edition is renamed into place: a register
    that cannot take it stops the publish, and nothing is left of the edition."""
    project = make_project(tmp_path / "p")
    archive = project / ARCHIVE
    (archive / "register.csv").mkdir(parents=True)  # where the register should be
    result = run(project, "publish", "sample")
    assert result.code == 1 and result.err.startswith("archive:1:1: cannot hold the edition "
                                                      "2020-01-15_sample_v1: "), result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in archive.iterdir()) == ["register.csv"]
    (archive / "register.csv").rmdir()
    result = run(project, "publish", "sample")
    assert result.out == f"published {EDITION.format(1)} (version 1; seal: {UNSEALED})\n"
    rows = list(csv.DictReader((archive / "register.csv").open(newline="")))
    assert [(row["slug"], row["version"]) for row in rows] == [("sample", "1")]


def test_an_ordinary_user_publishes_and_verifies() -> None:
    """As root the read-only edition could be renamed anyhow; as another user,
    only if the rename needs no write permission on it. CI runs as root, so
    the test becomes `nobody`, in a folder every user can reach (pytest's own
    are root's alone), keeping only the right to read and search, so that an
    interpreter under /root stays reachable: it grants no write."""
    folder = Path(tempfile.mkdtemp(prefix="briefing-ordinary-"))
    try:
        folder.chmod(0o755)
        project = make_project(folder / "p")
        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:
            for path in [folder, *folder.rglob("*")]:
                os.lchown(path, 65534, 65534)
            prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search")
        env = {"HOME": str(project), "XDG_CACHE_HOME": str(project / ".cache")}
        result = run(project, "publish", "sample", env=env, prefix=prefix)
        assert result.code == 0, result.err
        edition = project / EDITION.format(1)
        assert edition.stat().st_uid == (65534 if prefix else os.geteuid())
        assert not any(p.stat().st_mode & stat.S_IWUSR for p in [edition, *edition.rglob("*")])
        assert not list((project / ARCHIVE).glob(".incoming-*"))
        result = run(project, "verify", str(edition), env=env, prefix=prefix)
        assert result.code == 0, result.err
        assert run(project, "verify", env=env, prefix=prefix).code == 0
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(folder)


def test_two_publishers_at_once_take_one_version(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    command = [sys.executable, str(REPO / "build.py"), "-C", str(project), "publish", "sample"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    outs = sorted(p.communicate(timeout=300)[0] for p in (first, second))
    assert first.returncode == second.returncode == 0
    assert outs == [f"published {EDITION.format(1)} (version 1; seal: {UNSEALED})\n",
                    f"unchanged since {EDITION.format(1)}; nothing published\n"]


# --- versions, the register, verify ---------------------------------------------------------

def test_a_version_with_the_issue_date_of_the_one_before_is_pointed_out(
        tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    brief = project / BRIEF
    assert run(project, "publish", "sample").out.count("\n") == 1
    brief.write_text(brief.read_text().replace("date: 2020-01-15", "date: 2020-01-16"))
    result = run(project, "publish", "sample")  # a new issue, its own date: nothing to say
    assert result.out == "published archive/2020-01-16_sample_v2 (version 2; seal: " \
                         f"{UNSEALED})\n", result.err
    brief.write_text(brief.read_text().replace("Sample brief", "Sample brief, corrected"))
    result = run(project, "publish", "sample")
    assert result.out.splitlines()[1] == (
        "note: version 3 carries the issue date of version 2 (2020-01-16), the `date:` of "
        "content/briefs/sample.yaml: right for a correction; for a new issue, give the brief "
        "its date and publish again")


def test_publishing_unchanged_content_is_a_no_op_then_v2_supersedes(published: Path) -> None:
    v1 = published / EDITION.format(1)
    before = tree(v1)
    result = run(published, "publish", "sample")
    assert (result.code, result.out) == (
        0, f"unchanged since {EDITION.format(1)}; nothing published\n")
    brief = published / BRIEF
    original = brief.read_text()
    brief.write_text(original.replace("Sample brief", "Sample brief, second edition"))
    try:
        result = run(published, "publish", "sample")
    finally:
        brief.write_text(original)
    assert result.out == (
        f"published {EDITION.format(2)} (version 2; seal: {UNSEALED})\n"
        "note: version 2 carries the issue date of version 1 (2020-01-15), the `date:` of "
        "content/briefs/sample.yaml: right for a correction; for a new issue, give the brief "
        "its date and publish again\n")
    assert tree(v1) == before, "v1 changed"
    with (published / "archive/register.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["date", "slug", "version", "reference", "title", "languages",
                       "marking", "seal", "files", "supersedes", "changes",
                       "tag_manifest_sha256", "previous_row_sha256", "row_seal"]
    assert [row[10] for row in rows[1:]] == ["", "1"]  # v2: the title changed
    assert [row[2] for row in rows[1:]] == ["1", "2"]
    assert rows[2][9] == "2020-01-15_sample_v1" and rows[2][4] == "Sample brief, second edition"
    assert re.search(rf"{PDF}=[0-9a-f]{{64}}", rows[1][8])
    infos = [bagit.Bag(str(published / EDITION.format(n))).info for n in (1, 2)]
    assert infos[0]["Bag-Group-Identifier"] == infos[1]["Bag-Group-Identifier"] == "sample"
    assert [i["External-Identifier"] for i in infos] == [
        "2020-01-15_sample_v1", "2020-01-15_sample_v2"]


def test_verify_passes_on_a_fresh_edition_and_a_lone_pdf(published: Path) -> None:
    result = run(published, "verify", str(published / EDITION.format(1)))
    assert result.code == 0, result.err
    assert f"ok  {PDF}: identical to its rebuild from the source" in result.out
    assert "ok  record: " in result.out and "ok  fixity: " in result.out
    assert f"ok  {PDF}: not sealed" in result.out
    assert result.out.splitlines()[-1] == "5 passed, 0 failed"
    lone = published / EDITION.format(1) / "data" / PDF
    result = run(published, "verify", str(lone))
    assert result.code == 0, result.err


@pytest.mark.parametrize("damage", ["flip a bit in the PDF", "change the source", "delete a file"])
def test_verify_fails_on_damage(published: Path, tmp_path: Path, damage: str) -> None:
    copy = writable_copy(published / EDITION.format(1), tmp_path / "2020-01-15_sample_v1")
    if damage == "flip a bit in the PDF":
        target = copy / "data" / PDF
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        named = f"data/{PDF}"
    elif damage == "change the source":
        target = copy / "data/source/content/briefs/sample.yaml"
        target.write_text(target.read_text().replace("Test Department", "Test Departmant"))
        named = "data/source/content/briefs/sample.yaml"
    else:
        (copy / "data" / DOCX).unlink()
        named = f"data/{DOCX}"
    result = run(published, "verify", str(copy))
    assert result.code == 1
    assert "Traceback" not in result.err
    assert any(line.startswith("FAILED") and named in line for line in result.err.splitlines())


def _marking(edition: Path) -> str:
    info = edition / "bag-info.txt"
    info.write_text(info.read_text().replace("Marking: FOR OFFICIAL USE", "Marking: PUBLIC"))
    return "Marking says 'PUBLIC'"


def _manifest(edition: Path) -> str:
    path = edition / "data" / "build-manifest.json"
    manifest = json.loads(path.read_text())
    manifest["edition"]["marking"] = "PUBLIC"
    manifest["tool"] = "Briefing 9.9"
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return "carries another build manifest than data/build-manifest.json"


def _docx(edition: Path) -> str:
    (edition / "data" / DOCX).unlink()
    return f"data/{DOCX}: missing: the build manifest lists it"


def _extra(edition: Path) -> str:
    (edition / "data" / "notes.txt").write_text("added later")
    return "data/notes.txt: not part of the edition"


TAMPERING = {"bag-info says PUBLIC": _marking, "manifest rewritten": _manifest,
             "DOCX deleted": _docx, "a file added": _extra}


@pytest.mark.parametrize("tampering", [*TAMPERING, "renamed v1 to v7"])
def test_verify_checks_an_edition_against_its_own_record(published: Path, tmp_path: Path,
                                                          tampering: str) -> None:
    """Each forgery keeps the bag valid (manifests recomputed with bagit), so
    only the edition's record can tell; the audit tells too, without rebuilding."""
    name = "2020-01-15_sample_v7" if tampering == "renamed v1 to v7" else "2020-01-15_sample_v1"
    project = make_project(tmp_path / "p")
    copy = writable_copy(published / EDITION.format(1), project / ARCHIVE / name)
    if tampering in TAMPERING:
        named = TAMPERING[tampering](copy)
    else:
        named = "2020-01-15_sample_v7: the folder's name disagrees with the edition's record"
    resave(copy)
    result = run(project, "verify", str(copy))
    assert result.code == 1, result.out
    assert any(named in line for line in failed_lines(result)), failed_lines(result)
    assert "Traceback" not in result.err
    audit = run(project, "verify", "--all")
    assert audit.code == 1 and named in audit.out and "1 damaged" in audit.out


def _no_forgery(project: Path, shown: str) -> None:
    """bag-info.txt, register.csv and the manifest hold `shown` on one line each,
    as their own readers and a plain line reader see them, and verify passes."""
    edition = project / EDITION.format(1)
    text = (edition / "bag-info.txt").read_text(encoding="utf-8")
    assert not any(line.startswith("Forged") for line in text.splitlines())
    info = bagit.Bag(str(edition)).info
    assert info["External-Description"] == shown and "Forged" not in info
    register = (project / ARCHIVE / "register.csv").read_text(encoding="utf-8")
    assert len(register.splitlines()) == 2, "a line reader sees one row per edition"
    rows = list(csv.reader(io.StringIO(register, newline="")))
    assert [len(row) for row in rows] == [14, 14] and rows[1][4] == shown
    manifest = json.loads((edition / "data" / "build-manifest.json").read_text())
    assert manifest["edition"]["title"] == shown
    result = run(project, "verify", str(edition))
    assert result.code == 0, result.err
    assert run(project, "verify").code == 0


def _titled(tmp_path: Path, title: str) -> Path:
    project = make_project(tmp_path / "p")
    brief = project / BRIEF
    brief.write_text(brief.read_text().replace("title: Sample brief",
                                               "title: " + json.dumps(title)))
    return project


def test_a_title_with_line_breaks_forges_nothing(tmp_path: Path) -> None:
    project = _titled(tmp_path, "Sample\nForged: yes\r,\"x\",y")
    result = run(project, "publish", "sample")
    assert result.code == 0, result.err
    _no_forgery(project, "Sample Forged: yes ,\"x\",y")


def test_a_title_with_a_paragraph_separator_forges_nothing(tmp_path: Path) -> None:
    """Refused at its line as the content's mistake, or published clean: either
    way nothing is forged and nothing half published."""
    project = _titled(tmp_path, "Sample\u2029Forged: yes,\"x\",y")
    result = run(project, "publish", "sample")
    if result.code == 1:
        assert result.err.startswith(f"{BRIEF}:1:") and "U+2029" in result.err
        assert _visible(project / ARCHIVE) == []
    else:
        assert result.code == 0, result.err
        _no_forgery(project, "Sample Forged: yes,\"x\",y")


SEPARATORS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("separator", SEPARATORS, ids=["LF", "CR", "CRLF", "VT", "FF", "FS", "RS",
                                                   "NEL", "LS", "PS"])
def test_bag_info_and_the_register_hold_one_line_per_value(tmp_path: Path,
                                                          separator: str) -> None:
    """Whatever a value holds, it is written as one line and read back as
    written: bag-info.txt by the one cleaning function and bagit's reader (which
    splits lines as str.splitlines does, U+2029 included), and register.csv
    even from a bag-info.txt another tool wrote raw, escape codes and all."""
    from briefing.archive import bag, register

    forged = f"Sample{separator}Forged: yes,\"x\",y"
    folder = tmp_path / "made"
    folder.mkdir()
    (folder / "file.txt").write_text("payload")
    bag.make(folder, {"External-Description": forged})
    text = (folder / "bag-info.txt").read_text(encoding="utf-8")
    assert not any(line.startswith("Forged") for line in text.splitlines())
    info = bagit.Bag(str(folder)).info
    assert info["External-Description"] == bag.clean(forged) and "Forged" not in info
    assert bag.clean(forged) == "Sample" + " " * len(separator) + "Forged: yes,\"x\",y"
    archive = tmp_path / ARCHIVE
    raw = archive / "2020-01-15_sample_v1"
    raw.mkdir(parents=True)
    (raw / "file.txt").write_text("payload")
    bagit.make_bag(str(raw), {"Brief-Date": "2020-01-15", "Brief-Slug": "sample",
                              "Edition-Version": "1", "Marking": f"\x1b[31m{forged}\x07"})
    register.append(archive, raw, raw.name, None)
    written = (archive / "register.csv").read_text(encoding="utf-8")
    assert len(written.splitlines()) == 2 and "\x1b" not in written and "\x07" not in written
    rows = list(csv.reader(io.StringIO(written, newline="")))
    assert [len(row) for row in rows] == [14, 14]
    assert rows[1][6] == bag.clean(bagit.Bag(str(raw)).info["Marking"])


def test_publish_validates_as_the_build_does(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    brief = project / BRIEF
    brief.write_text(brief.read_text().replace("title: Sample brief", "titel: Sample brief"))
    checked, published = run(project, "check", "sample"), run(project, "publish", "sample")
    assert checked.code == published.code == 1
    assert checked.err.splitlines()[0].startswith(f"{BRIEF}:")
    assert published.err.splitlines()[:-1] == checked.err.splitlines()[:-1]  # every mistake
    assert not (project / ARCHIVE).exists() or _visible(project / ARCHIVE) == []


# --- the audit ------------------------------------------------------------------------------

def test_verify_without_a_target_audits_every_edition(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    assert run(project, "publish", "sample").code == 0
    brief = project / BRIEF
    brief.write_text(brief.read_text().replace("Sample brief", "Sample brief, again"))
    assert run(project, "publish", "sample").code == 0
    result = run(project, "verify")
    assert result.code == 0, result.out + result.err
    assert result.out.splitlines() == [
        "ok  2020-01-15_sample_v1: intact (fixity, record, register, unsealed)",
        "ok  2020-01-15_sample_v2: intact (fixity, record, register, unsealed)",
        "2 edition(s) in archive/: 2 intact, 0 damaged"]
    rebuilt = run(project, "verify", "--all", "--rebuild")
    assert rebuilt.code == 0 and "intact (fixity, record, register, unsealed, rebuild)" \
        in rebuilt.out
    target = project / EDITION.format(1) / "data" / DOCX
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    data[100] ^= 0x01
    target.write_bytes(bytes(data))
    result = run(project, "verify", "--all")
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].startswith(f"FAILED  2020-01-15_sample_v1: data/{DOCX}: sha256 differs "
                               f"from the bag's manifest; data/{DOCX}: sha512 differs from the "
                               "bag's manifest")
    assert lines[1].startswith("ok  2020-01-15_sample_v2")
    assert lines[-1] == "2 edition(s) in archive/: 1 intact, 1 damaged"
    assert run(project, "verify", "--all", str(project / EDITION.format(2))).code == 2


# --- metadata, PDF/A ------------------------------------------------------------------------

XMP_OF_INFO = {"/Title": "dc:title", "/Author": "dc:creator", "/Subject": "dc:description",
               "/Keywords": "pdf:Keywords", "/Creator": "xmp:CreatorTool",
               "/Producer": "pdf:Producer", "/CreationDate": "xmp:CreateDate",
               "/ModDate": "xmp:ModifyDate", "/Identifier": "dc:identifier",
               "/Version": "xmpMM:VersionID"}
BRIEFING_NS = "https://briefing.example/ns/pdf/1.0/"


def _xmp_value(value: object) -> str:
    if isinstance(value, list | set):
        return ", ".join(sorted(str(item) for item in value if item is not None))
    return str(value)


def test_the_archival_pdf_carries_every_field_of_the_print_pdf(published: Path) -> None:
    assert run(published, "build", "sample", "--format", "pdf").code == 0
    printed = published / "output/sample" / PDF
    archived = published / EDITION.format(1) / "data" / PDF
    with pikepdf.open(printed) as pdf:
        info = {str(k): str(v) for k, v in pdf.docinfo.items()}
        language = str(pdf.Root.Lang)
    assert {"/marking", "/reference"} <= set(info)
    with pikepdf.open(archived) as pdf:
        archival = {str(k): str(v) for k, v in pdf.docinfo.items()}
        assert str(pdf.Root.Lang) == language
        with pdf.open_metadata() as xmp:
            xmp_fields = {key: _xmp_value(value) for key, value in xmp.items()}
    for key, value in info.items():  # key by key: the Info dictionary...
        assert archival.get(key) == value, key
    for key, value in archival.items():  # ...and each of its fields in the XMP as well
        name = XMP_OF_INFO.get(key)
        qualified = (f"{{{pikepdf.models.metadata.XmpDocument.NS[name.split(':')[0]]}}}"
                     f"{name.split(':')[1]}" if name else f"{{{BRIEFING_NS}}}{key[1:]}")
        expected = value[2:].replace("-", "") if "Date" in key else value
        got = xmp_fields[qualified].replace("-", "") if "Date" in key else xmp_fields[qualified]
        assert got == expected, key
    assert xmp_fields["{http://purl.org/dc/elements/1.1/}language"] == language
    assert archival["/Identifier"] == "2020-01-15_sample_v1" and archival["/Version"] == "1"


def test_attachments_are_listed_once_in_a_sorted_name_tree(published: Path) -> None:
    with pikepdf.open(published / EDITION.format(1) / "data" / PDF) as pdf:
        af = [item.objgen for item in pdf.Root.AF]
        assert len(af) == len(set(af)) == 2
        names = list(pdf.Root.Names.EmbeddedFiles.Names)
        keys = [bytes(key) for key in names[::2]]
        assert keys == sorted(keys) == [b"build-manifest.json", b"source.tar"]
        assert sorted(item.objgen for item in names[1::2]) == sorted(af)


def _pdfa_gate(path: Path) -> None:
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    with pikepdf.open(path) as pdf:
        assert not pdf.is_encrypted
        assert len(pdf.trailer.ID) == 2
        intent = pdf.Root.OutputIntents[0]
        assert str(intent.S) == "/GTS_PDFA1" and "sRGB" in str(intent.OutputConditionIdentifier)
        assert "/JavaScript" not in pdf.Root.get("/Names", {}) and "/OpenAction" not in pdf.Root
        assert sorted(pdf.attachments) == ["build-manifest.json", "source.tar"]
        info = pdf.docinfo
        raw = pdf.Root.Metadata.read_raw_bytes()
        assert b"pdfaid" in raw  # stored uncompressed
        with pdf.open_metadata() as xmp:
            assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "U")
            assert xmp["dc:title"] == str(info["/Title"])
            assert xmp["dc:creator"] == [str(info["/Author"])]
            assert xmp["dc:description"] == str(info["/Subject"])
            assert xmp["pdf:Keywords"] == str(info["/Keywords"])
            assert xmp["pdf:Producer"] == str(info["/Producer"])
            assert xmp["xmp:CreateDate"].replace("-", "") == str(info["/CreationDate"])[2:]
            assert xmp["xmp:ModifyDate"].replace("-", "") == str(info["/ModDate"])[2:]
            custom = [key for key in xmp if key.startswith(f"{{{BRIEFING_NS}}}")]
        # ISO 19005-2 6.6.2.3: every property outside the predefined schemas is described
        for key in custom:
            assert f"<pdfaProperty:name>{key.split('}')[1]}</pdfaProperty:name>".encode() in raw
        assert f"<pdfaSchema:namespaceURI>{BRIEFING_NS}</pdfaSchema:namespaceURI>".encode() in raw
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                assert "/ToUnicode" in font
                assert "/FontFile2" in font.DescendantFonts[0].FontDescriptor
            for annotation in page.get("/Annots", []):
                flags = int(annotation.get("/F", 0))
                assert flags & 4 and not flags & (1 | 2 | 32), "annotations print, never hide"


def _fido(path: Path) -> None:
    fido = Path(sys.executable).parent / "fido"
    done = subprocess.run([str(fido), "-q", str(path)], capture_output=True, text=True)
    assert done.stdout.startswith("OK,") and ',fmt/481,' in done.stdout, done.stdout


def test_archived_pdf_passes_the_pdfa_gate(published: Path) -> None:
    _pdfa_gate(published / EDITION.format(1) / "data" / PDF)


def test_fido_identifies_pdfa(published: Path) -> None:
    _fido(published / EDITION.format(1) / "data" / PDF)


# --- provenance -----------------------------------------------------------------------------

def test_the_build_manifest_records_what_took_part(published: Path) -> None:
    manifest = json.loads((published / EDITION.format(1) / "data/build-manifest.json")
                          .read_text())
    environment = manifest["environment"]
    distributions = environment["distributions"]
    for name in ("briefing", "weasyprint", "pydyf", "python-docx", "pikepdf", "bagit", "pyhanko",
                 "jinja2", "babel", "fonttools"):
        assert distributions[name] == importlib.metadata.version(name), name
    assert list(distributions) == sorted(distributions)
    assert environment["python"] == (f"{platform.python_implementation()} "
                                     f"{platform.python_version()}")
    assert environment["platform"].startswith(f"{platform.system()} {platform.machine()}")
    libraries = environment["libraries"]
    assert set(libraries) == {"pango", "harfbuzz", "cairo", "freetype", "fontconfig"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in libraries.values())
    from weasyprint.text.ffi import pango
    number = pango.pango_version()
    assert libraries["pango"] == f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    fonts = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted((published / "fonts").glob("*.ttf"))}
    assert environment["fonts_sha256"] == fonts and fonts
    assert manifest["edition"]["version"] == 1 and manifest["outputs"] == [DOCX, PDF]


def test_verify_says_which_part_of_the_installation_differs(published: Path,
                                                            tmp_path: Path) -> None:
    copy = writable_copy(published / EDITION.format(1), tmp_path / "2020-01-15_sample_v1")
    path = copy / "data" / "build-manifest.json"
    manifest = json.loads(path.read_text())
    manifest["environment"]["libraries"]["pango"] = "1.0.0"
    manifest["environment"]["distributions"]["weasyprint"] = "69.0"
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    resave(copy)
    result = run(published, "verify", str(copy))
    assert result.code == 1
    line = next(line for line in failed_lines(result)
                if line.startswith(f"FAILED  {PDF}: differs from its rebuild"))
    assert "pango 1.0.0 in the edition's record, " in line
    assert "weasyprint 69.0 in the edition's record, 70.0 here" in line


# --- the seal -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A certificate authority made on the fly: a seal certificate (as PKCS#12
    and as PEM) and a time-stamping certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder = tmp_path_factory.mktemp("authority")
    start = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Migration "
                                             "Agency"), x509.NameAttribute(NameOID.COMMON_NAME,
                                                                           common)])

    def usage(**flags: bool) -> x509.KeyUsage:
        names = ("digital_signature", "content_commitment", "key_encipherment",
                 "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                 "encipher_only", "decipher_only")
        return x509.KeyUsage(**{flag: flags.get(flag, False) for flag in names})

    def issue(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name,
              issuer_key: rsa.RSAPrivateKey, serial: int, *extensions: tuple[object, bool]
              ) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(issuer)
                   .public_key(key.public_key()).serial_number(serial)
                   .not_valid_before(start).not_valid_after(end))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(issuer_key, hashes.SHA256())

    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
    ca = issue("Test Root CA", keys[0], name("Test Root CA"), keys[0], 1,
               (x509.BasicConstraints(ca=True, path_length=None), True),
               (usage(key_cert_sign=True, crl_sign=True), True))
    seal = issue("Archive Seal", keys[1], ca.subject, keys[0], 2,
                 (usage(digital_signature=True, content_commitment=True), True))
    tsa = issue("Test TSA", keys[2], ca.subject, keys[0], 3,
                (usage(digital_signature=True), True),
                (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True))
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "seal.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"seal", keys[1], seal, [ca], serialization.BestAvailableEncryption(b"s3cret")))
    (folder / "seal-key.pem").write_bytes(keys[1].private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (folder / "seal-cert.pem").write_bytes(seal.public_bytes(pem) + ca.public_bytes(pem))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "other-ca.pem").write_bytes(issue("Other CA", other, name("Other CA"), other, 9,
                                                (x509.BasicConstraints(ca=True, path_length=None),
                                                 True)).public_bytes(pem))
    return {"folder": folder, "tsa": (tsa, keys[2]), "seal": seal}


@pytest.fixture(scope="module")
def time_stamps(authority: dict[str, object]) -> Iterator[str]:
    """An RFC 3161 time-stamping service on 127.0.0.1, answered by pyHanko's
    own test time-stamper with the authority's TSA certificate."""
    from asn1crypto import keys, tsp
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign.timestamps import DummyTimeStamper

    certificate, key = authority["tsa"]
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(
            serialization.Encoding.DER)),
        tsa_key=keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())))

    class Service(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            answer = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def seal_env(authority: dict[str, object], **extra: str) -> dict[str, str]:
    folder = authority["folder"]
    return {"BRIEFING_SEAL_KEY": str(folder / "seal.p12"), "BRIEFING_SEAL_PASSPHRASE": "s3cret",
            **extra}


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory, authority: dict[str, object],
           time_stamps: str) -> Path:
    """A sealed edition (with a time-stamp), and beside it, in `twin`, the same
    source published unsealed just before."""
    folder = tmp_path_factory.mktemp("sealed")
    assert run(make_project(folder / "twin"), "publish", "sample").code == 0
    project = make_project(folder / "p")
    result = run(project, "publish", "sample",
                 env=seal_env(authority, BRIEFING_SEAL_TSA=time_stamps))
    assert result.code == 0, result.err
    assert re.fullmatch(rf"published {EDITION.format(1)} \(version 1; seal: PAdES by "
                        r"CN=Archive Seal,O=Example Migration Agency \(certificate SHA-256 "
                        r"[0-9a-f]{64}\)\)\n", result.out), result.out
    return project


def test_a_sealed_edition_says_who_sealed_it_and_when(sealed: Path,
                                                      authority: dict[str, object]) -> None:
    info = bagit.Bag(str(sealed / EDITION.format(1))).info
    from cryptography.hazmat.primitives.serialization import Encoding

    fingerprint = hashlib.sha256(authority["seal"].public_bytes(Encoding.DER)).hexdigest()
    assert info["Seal"].endswith(f"(certificate SHA-256 {fingerprint})")
    assert re.fullmatch(rf"{PDF} \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["Seal-Time"])
    assert re.fullmatch(rf"{PDF} \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info["Seal-Timestamp"])
    result = run(sealed, "verify", str(sealed / EDITION.format(1)), env=seal_env(authority))
    assert result.code == 0, result.err
    assert re.search(rf"ok  {PDF}: sealed by CN=Archive Seal,O=Example Migration Agency at "
                     r"\S+Z, time-stamped \S+Z: intact, whole file, certificate trusted",
                     result.out), result.out
    assert (f"ok  {PDF}: identical to its rebuild from the source (the sealed file's first "
            "revision)") in result.out
    trusted_ca = {"BRIEFING_SEAL_TRUST": str(authority["folder"] / "ca.pem")}
    assert run(sealed, "verify", env=trusted_ca).code == 0  # the audit, with the CA alone
    lone = run(sealed, "verify", str(sealed / EDITION.format(1) / "data" / PDF), env=trusted_ca)
    assert lone.code == 0, lone.err


def test_the_sealed_pdf_is_the_unsealed_one_plus_an_incremental_update(sealed: Path) -> None:
    signed = (sealed / EDITION.format(1) / "data" / PDF).read_bytes()
    unsigned = (sealed.parent / "twin" / EDITION.format(1) / "data" / PDF).read_bytes()
    assert first_revision(signed) == unsigned and signed.startswith(unsigned)
    with pikepdf.open(io.BytesIO(signed)) as pdf:
        field = pdf.Root.AcroForm.Fields[0]
        signature = field.V
        assert str(signature.SubFilter) == "/ETSI.CAdES.detached"  # PAdES
        start, _, after, rest = (int(n) for n in signature.ByteRange)
        assert start == 0 and after + rest == len(signed)  # the whole file but the signature
        assert int(field.F) & 4 and not int(field.F) & (1 | 2 | 32)


def test_a_sealed_pdf_stays_pdfa(sealed: Path) -> None:
    path = sealed / EDITION.format(1) / "data" / PDF
    _pdfa_gate(path)
    _fido(path)


def test_one_flipped_byte_breaks_the_seal(sealed: Path, tmp_path: Path,
                                          authority: dict[str, object]) -> None:
    copy = writable_copy(sealed / EDITION.format(1), tmp_path / "2020-01-15_sample_v1")
    target = copy / "data" / PDF
    data = bytearray(target.read_bytes())
    data[len(data) // 3] ^= 0x01
    target.write_bytes(bytes(data))
    resave(copy)
    result = run(sealed, "verify", str(copy), env=seal_env(authority))
    assert result.code == 1
    assert any(line.startswith(f"FAILED  {PDF}: sealed by ") and "the seal is broken" in line
               for line in failed_lines(result)), failed_lines(result)
    assert "Traceback" not in result.err


def test_a_seal_is_only_as_good_as_the_trust_configured(sealed: Path,
                                                        authority: dict[str, object]) -> None:
    edition = str(sealed / EDITION.format(1))
    untrusted = run(sealed, "verify", edition)
    assert untrusted.code == 1 and "no certificate to trust is configured" in untrusted.err
    stranger = run(sealed, "verify", edition,
                   env={"BRIEFING_SEAL_TRUST": str(authority["folder"] / "other-ca.pem")})
    assert stranger.code == 1 and "not one this installation trusts" in stranger.err


def test_a_pem_key_seals_too(tmp_path: Path, authority: dict[str, object]) -> None:
    folder = authority["folder"]
    project = make_project(tmp_path / "p")
    env = {"BRIEFING_SEAL_KEY": str(folder / "seal-key.pem"),
           "BRIEFING_SEAL_CERT": str(folder / "seal-cert.pem")}
    result = run(project, "publish", "sample", env=env)
    assert result.code == 0 and "seal: PAdES by CN=Archive Seal" in result.out, result.err
    assert "Seal-Timestamp" not in bagit.Bag(str(project / EDITION.format(1))).info
    assert run(project, "verify", str(project / EDITION.format(1)), env=env).code == 0
    brief = project / BRIEF
    brief.write_text(brief.read_text().replace("Sample brief", "Sample brief, again"))
    wrong = run(project, "publish", "sample", env={"BRIEFING_SEAL_KEY": str(folder / "ca.pem")})
    assert wrong.code == 2 and "BRIEFING_SEAL_KEY" in wrong.err and "Traceback" not in wrong.err


def test_pyhankos_own_validator_accepts_the_seal(sealed: Path,
                                                 authority: dict[str, object]) -> None:
    """docs/archive.md: checking a seal without Briefing."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=[load_cert_from_pemder(
        str(authority["folder"] / "ca.pem"))])
    with (sealed / EDITION.format(1) / "data" / PDF).open("rb") as handle:
        status = validate_pdf_signature(PdfFileReader(handle).embedded_signatures[0], context)
    assert status.bottom_line and status.timestamp_validity is not None


def test_register_rows_name_the_seal(sealed: Path) -> None:
    rows = list(csv.DictReader((sealed / ARCHIVE / "register.csv").open(newline="")))
    assert rows[0]["seal"] == "PAdES by CN=Archive Seal,O=Example Migration Agency"
