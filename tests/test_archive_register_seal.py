"""With the organisation's seal key, every register row is sealed (a CMS
SignedData holding the row, by the key that seals the PDFs), so a forger who
rewrites the register along with a version is caught by the audit."""

from __future__ import annotations

import base64
import csv
import shutil
from pathlib import Path

import pytest
from asn1crypto import cms
from conftest import make_project
from test_archive import DOCX, EDITION, resave, run, seal_env
from test_archive import authority as authority  # the module's certificate authority
from test_archive_evidence import audit, writable

from briefing.archive import register

V1 = EDITION.format(1)
NAME = "2020-01-15_sample_v1"


@pytest.fixture(scope="module")
def sealed_archive(tmp_path_factory: pytest.TempPathFactory,
                   authority: dict[str, object]) -> Path:
    project = make_project(tmp_path_factory.mktemp("sealed-register") / "p")
    result = run(project, "publish", "sample", env=seal_env(authority))
    assert result.code == 0, result.err
    return project


@pytest.fixture
def project(sealed_archive: Path, tmp_path: Path, authority: dict[str, object],
            monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sealed archive, audited trusting the authority's CA."""
    monkeypatch.setenv("BRIEFING_SEAL_TRUST", str(authority["folder"] / "ca.pem"))
    return Path(shutil.copytree(sealed_archive, tmp_path / "p", symlinks=True))


def test_each_row_is_sealed_with_the_archive_key(project: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = project / "archive/register.csv"
    row = next(csv.DictReader(path.open(newline="")))
    signed = cms.ContentInfo.load(base64.b64decode(row.pop("row_seal")))["content"]
    held = signed["encap_content_info"]["content"].native
    assert held == register.encode(row.values())  # the row itself, inside its seal
    subject = signed["certificates"][0].chosen.subject.human_friendly
    assert "Archive Seal" in subject
    code, out = audit(project, capsys)
    assert code == 0, out
    assert out.splitlines()[0] == f"ok  {NAME}: intact (fixity, record, register, 1 seal(s))"


def _rewrite_row(project: Path, keep_seal: bool) -> None:
    """The forger's register: the version's row made again from the forged bag,
    chained as before; without the key its seal is the old one or none."""
    path = project / "archive/register.csv"
    old = next(csv.DictReader(path.open(newline="")))["row_seal"]
    path.write_bytes(register.HEADER)
    register.append(project / "archive", project / V1, NAME, None)
    if keep_seal:
        text = path.read_text()
        path.write_text(text[:-1] + old + "\n")


@pytest.mark.parametrize("keep_seal", [False, True], ids=["seal dropped", "old seal kept"])
def test_a_register_rewritten_without_the_key_fails_the_audit(
        project: Path, keep_seal: bool, capsys: pytest.CaptureFixture[str]) -> None:
    edition = writable(project / V1)
    docx = edition / "data" / DOCX
    data = bytearray(docx.read_bytes())
    data[200] ^= 0x01
    docx.write_bytes(bytes(data))
    resave(edition)  # every bag manifest recomputed
    _rewrite_row(project, keep_seal)
    code, out = audit(project, capsys)
    assert code == 1
    register_line = next(line for line in out.splitlines()
                         if line.startswith("FAILED  archive/register.csv: "))
    assert register_line.endswith(
        "line 2: the row's seal (by CN=Archive Seal,O=Example Migration Agency): the seal is "
        "broken: the row is not what was sealed" if keep_seal else
        "line 2: the row of 2020-01-15_sample_v1 is not sealed, though its edition is: the "
        "register was rewritten"), register_line
