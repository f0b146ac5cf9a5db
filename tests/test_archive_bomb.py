"""verify FILE.pdf reads an archived PDF's attachments through a size cap: a PDF
of a few MiB whose source.tar inflates to 4 GiB of zeros is refused, unread,
by a process that stays small."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pikepdf
from conftest import REPO, make_project

GIB = 1 << 30
PIECE = 1 << 20
MAX_RSS = 500 * (1 << 20)


def deflated_zeros(size: int) -> bytes:
    """A valid zlib stream of `size` zero bytes, made with zlib piece by piece:
    after a full flush the compressor forgets what came before, so each further
    MiB of zeros compresses to the same block, which is repeated rather than
    recomputed (4 GiB would otherwise take half a minute); the trailer's
    Adler-32 is that of `size` zeros. The test holds only the compressed bytes."""
    compressor = zlib.compressobj(9)
    first = compressor.compress(bytes(PIECE)) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(PIECE)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert compressor.compress(bytes(PIECE)) + compressor.flush(zlib.Z_FULL_FLUSH) == block
    end = compressor.flush()[:-4] + struct.pack(">I", ((size % 65521) << 16) | 1)
    return first + block * (size // PIECE - 1) + end


def bomb_pdf(path: Path) -> Path:
    """A one-page PDF carrying a small build manifest and a source.tar that
    inflates to 4 GiB, written as one FlateDecode stream."""
    manifest = json.dumps({"edition": {}, "outputs": [], "source_sha256": {}}).encode()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.attachments["build-manifest.json"] = pikepdf.AttachedFileSpec(pdf, manifest)
        pdf.attachments["source.tar"] = pikepdf.AttachedFileSpec(pdf, b"tar")
        stream = pdf.attachments["source.tar"].get_file().obj
        stream.write(deflated_zeros(4 * GIB), filter=pikepdf.Name.FlateDecode)
        pdf.save(path, compress_streams=False,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return path


def test_a_compressed_attachment_bomb_is_refused_unread(tmp_path: Path) -> None:
    pdf = bomb_pdf(tmp_path / "bomb.pdf")
    assert pdf.stat().st_size < 8 << 20
    with pikepdf.open(pdf) as opened:  # the bomb is what it claims to be
        raw = opened.attachments["source.tar"].get_file().obj.read_raw_bytes()
    inflater = zlib.decompressobj()
    assert len(inflater.decompress(raw, 64 << 20)) == 64 << 20 and inflater.unconsumed_tail
    del raw, inflater
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("w") as stdout, err.open("w") as stderr:
        project = make_project(tmp_path / "p")
        child = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-C", str(project),
                                  "verify", str(pdf)], stdout=stdout, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, nobody else's
        child.returncode = os.waitstatus_to_exitcode(status)
    assert child.returncode == 1, err.read_text()
    assert err.read_text() == ("FAILED  bomb.pdf: its attachment source.tar inflates to more "
                               "than 256 MiB: not read (a compressed bomb?)\n")
    assert out.read_text() == "0 passed, 1 failed\n"
    assert usage.ru_maxrss * 1024 < MAX_RSS, f"peak RSS {usage.ru_maxrss // 1024} MiB"
