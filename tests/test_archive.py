"""Archive editions: publish, never overwrite, prove by rebuilding; PDF/A tools recognise."""

from __future__ import annotations

import hashlib
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pikepdf
import pytest
from conftest import REPO, make_project, run_cli

EDITION = "output/archive/2020-01-15_sample_v{}"
PDF = "2020-01-15_sample_en.pdf"


def tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def writable(path: Path) -> None:
    for item in [path, *path.parents]:
        if item.exists():
            item.chmod(item.stat().st_mode | stat.S_IWUSR)
        if item.name == "archive":
            break


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = make_project(tmp_path_factory.mktemp("archive") / "p")
    result = run_cli(project, "publish", "sample")
    assert result.code == 0, result.err
    assert result.out == f"published {EDITION.format(1)} (version 1)\n"
    return project


def test_an_edition_is_a_complete_bag(published: Path) -> None:
    edition = published / EDITION.format(1)
    names = sorted(p.name for p in edition.iterdir())
    assert names == ["bag-info.txt", "bagit.txt", "data", "manifest-sha256.txt",
                     "manifest-sha512.txt", "tagmanifest-sha256.txt", "tagmanifest-sha512.txt"]
    data = sorted(p.relative_to(edition / "data").as_posix()
                  for p in (edition / "data").rglob("*") if p.is_file())
    assert data[:3] == ["2020-01-15_sample_en.docx", PDF, "build-manifest.json"]
    assert "source/content/briefs/sample.yaml" in data
    assert "source/content/partners/org.yaml" in data  # the partners it names...
    assert "source/content/partners/ministry.yaml" in data
    assert "source/templates/report.html.j2" in data and "source/requirements.lock" in data
    assert "source/fonts/SHA256SUMS" in data
    info = (edition / "bag-info.txt").read_text()
    for field in ("Source-Organization: Example Migration Agency", "Brief-Date: 2020-01-15",
                  "Edition-Version: 1", "Languages: en", "Marking: FOR OFFICIAL USE",
                  "Dependencies: weasyprint==70.0", "Source-Digest: "):
        assert field in info
    assert not edition.stat().st_mode & stat.S_IWUSR, "an edition must be read-only"


def test_publishing_unchanged_content_is_a_no_op_then_v2_supersedes(published: Path) -> None:
    v1 = published / EDITION.format(1)
    before = tree(v1)
    result = run_cli(published, "publish", "sample")
    assert (result.code, result.out) == (
        0, f"unchanged since {EDITION.format(1)}; nothing published\n")
    brief = published / "content/briefs/sample.yaml"
    brief.write_text(brief.read_text().replace("Sample brief", "Sample brief, second edition"))
    result = run_cli(published, "publish", "sample")
    assert result.out == f"published {EDITION.format(2)} (version 2)\n"
    assert tree(v1) == before, "v1 changed"
    register = (published / "output/archive/register.csv").read_text().splitlines()
    assert register[0] == "date,slug,version,languages,marking,files,supersedes"
    assert [row.split(",")[2] for row in register[1:]] == ["1", "2"]
    assert register[2].endswith(",2020-01-15_sample_v1")
    assert re.search(rf"{PDF}=[0-9a-f]{{64}}", register[1])


def test_verify_passes_on_a_fresh_edition_and_a_lone_pdf(published: Path) -> None:
    result = run_cli(published, "verify", str(published / EDITION.format(1)))
    assert result.code == 0, result.err
    assert f"ok  {PDF}: identical to its rebuild from the source" in result.out
    assert result.out.splitlines()[-1] == "2 passed, 0 failed"
    lone = published / EDITION.format(1) / "data" / PDF
    result = run_cli(published, "verify", str(lone))
    assert result.code == 0, result.err


@pytest.mark.parametrize("damage", ["flip a bit in the PDF", "change the source", "delete a file"])
def test_verify_fails_on_damage(published: Path, tmp_path: Path, damage: str) -> None:
    copy = tmp_path / "edition"
    subprocess.run(["cp", "-r", str(published / EDITION.format(1)), str(copy)], check=True)
    subprocess.run(["chmod", "-R", "u+w", str(copy)], check=True)
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
        (copy / "data" / "2020-01-15_sample_en.docx").unlink()
        named = "data/2020-01-15_sample_en.docx"
    result = run_cli(published, "verify", str(copy))
    assert result.code == 1
    assert "Traceback" not in result.err
    assert any(line.startswith("FAILED") and named in line for line in result.err.splitlines())


def test_archived_pdf_passes_the_pdfa_gate(published: Path) -> None:
    path = published / EDITION.format(1) / "data" / PDF
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    with pikepdf.open(path) as pdf:
        assert not pdf.is_encrypted
        assert len(pdf.trailer.ID) == 2
        intent = pdf.Root.OutputIntents[0]
        assert str(intent.S) == "/GTS_PDFA1" and "sRGB" in str(intent.OutputConditionIdentifier)
        assert "/JavaScript" not in pdf.Root.get("/Names", {}) and "/OpenAction" not in pdf.Root
        assert sorted(pdf.attachments) == ["build-manifest.json", "source.tar"]
        info = pdf.docinfo
        with pdf.open_metadata() as xmp:
            assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("3", "U")
            assert xmp["dc:title"] == str(info["/Title"])
            assert xmp["dc:creator"] == [str(info["/Author"])]
            assert xmp["dc:description"] == str(info["/Subject"])
            assert xmp["pdf:Keywords"] == str(info["/Keywords"])
            assert xmp["xmp:CreateDate"].replace("-", "") == str(info["/CreationDate"])[2:]
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                assert "/ToUnicode" in font
                assert "/FontFile2" in font.DescendantFonts[0].FontDescriptor
        assert b"pdfaid" in pdf.Root.Metadata.read_raw_bytes()  # stored uncompressed


def test_fido_identifies_pdfa(published: Path) -> None:
    path = published / EDITION.format(1) / "data" / PDF
    fido = Path(sys.executable).parent / "fido"
    done = subprocess.run([str(fido), "-q", str(path)], capture_output=True, text=True)
    assert done.stdout.startswith("OK,") and ',fmt/481,' in done.stdout, done.stdout


def test_a_killed_publish_leaves_no_partial_edition(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    started = time.monotonic()
    assert run_cli(project, "publish", "sample").code == 0
    duration = time.monotonic() - started
    archive = project / "output/archive"
    subprocess.run(["chmod", "-R", "u+w", str(archive)], check=True)
    subprocess.run(["rm", "-rf", str(archive)], check=True)
    for moment in range(8):
        process = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-C", str(project),
                                    "publish", "sample"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(duration * (moment + 0.5) / 8)
        process.kill()
        process.wait()
        visible = [p.name for p in archive.iterdir() if not p.name.startswith(".")] \
            if archive.exists() else []
        for name in visible:
            if name != "register.csv":
                result = run_cli(project, "verify", str(archive / name))
                assert result.code == 0, (moment, name, result.err)
        if any(name.endswith("_v1") for name in visible):
            break
    result = run_cli(project, "publish", "sample")
    assert result.code == 0
    assert not list(archive.glob(".incoming-*")), "a killed publish left its temporary behind"
    assert sorted(p.name for p in archive.iterdir()) == ["2020-01-15_sample_v1", "register.csv"]


def test_two_publishers_at_once_take_one_version(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    command = [sys.executable, str(REPO / "build.py"), "-C", str(project), "publish", "sample"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    outs = sorted(p.communicate(timeout=300)[0] for p in (first, second))
    assert first.returncode == second.returncode == 0
    assert outs == [f"published {EDITION.format(1)} (version 1)\n",
                    f"unchanged since {EDITION.format(1)}; nothing published\n"]
