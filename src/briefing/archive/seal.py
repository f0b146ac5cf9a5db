"""The seal: a PAdES signature on each archival PDF, made and checked with pyHanko.

The organisation configures its key in the environment (docs/archive.md):

    BRIEFING_SEAL_KEY         a PKCS#12 file (.p12, .pfx), or a PEM private key
    BRIEFING_SEAL_CERT        with a PEM key: its certificate (chain certificates may follow)
    BRIEFING_SEAL_PASSPHRASE  the PKCS#12 file's or the PEM key's passphrase, if any
    BRIEFING_SEAL_TSA         an RFC 3161 time-stamping service URL: a trusted time
    BRIEFING_SEAL_TRUST       PEM certificates `verify` trusts (the organisation's CA,
                              the TSA's); default: the certificates of the seal key

The seal is an incremental update: the file's first revision, every byte up
to its %%EOF, is the reproducible unsigned PDF/A, and the update adds only
the signature field. pyHanko's own metadata update is left out, so the
Info dictionary and the XMP stay those of the first revision and keep
agreeing (PDF/A wants them equal; pyHanko would name itself as producer in
both, differently). A signature holds its time: the claimed signing time
(/M) is the moment of sealing, recorded in the signature and in bag-info.txt;
with a time-stamping service, a token attests it as well.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Imported first, for what it does on import: it adds the time-stamp content
# types to asn1crypto's CMS tables, which asn1crypto reverses once, on first
# use. A CMS seal read before it (a register row) would leave `tst_info` out
# of that reversed table, and every time-stamp made or read afterwards in the
# same process would fail.
import asn1crypto.tsp  # noqa: F401

from briefing.errors import UsageError

KEY, CERT, PASSPHRASE, TSA, TRUST = (f"BRIEFING_SEAL_{name}" for name in (
    "KEY", "CERT", "PASSPHRASE", "TSA", "TRUST"))
FIELD = "ArchiveSeal"  # the signature field's name
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# pyHanko logs each failed check with a traceback; the verdicts say it in words.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


@dataclass(frozen=True)
class Settings:
    """The seal's configuration, from the environment."""

    key: str = ""
    cert: str = ""
    passphrase: str = ""
    tsa: str = ""
    trust: str = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(*(env.get(name, "") for name in (KEY, CERT, PASSPHRASE, TSA, TRUST)))

    @property
    def configured(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True)
class Seal:
    """What a PDF's seal says, checked."""

    signer: str  # the certificate's subject, RFC 4514
    fingerprint: str  # the certificate's SHA-256
    time: str  # the claimed signing time (/M), UTC
    timestamp: str  # the time-stamping token's time, "" without one
    problems: tuple[str, ...]  # empty when intact, trusted and covering the whole file
    intact: bool = False  # the signature matches the bytes it covers

    @property
    def ok(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        stamped = f", time-stamped {self.timestamp}" if self.timestamp else ""
        return f"sealed by {self.signer} at {self.time}{stamped}"


class Sealer:
    """The organisation's key, loaded once per publish."""

    def __init__(self, settings: Settings) -> None:
        from pyhanko.sign import signers

        self.settings = settings
        data = _read(settings.key, KEY)
        passphrase = settings.passphrase.encode() or None
        if data.lstrip().startswith(b"-----BEGIN"):
            self.signer = self._pem(data, passphrase)
        else:
            try:
                self.signer = signers.SimpleSigner.load_pkcs12_data(data, (), passphrase)
            except ValueError:
                raise UsageError(f"{KEY}: {settings.key} is neither a PEM key nor a PKCS#12 "
                                 f"file this passphrase ({PASSPHRASE}) opens") from None
        self.certificate = self.signer.signing_cert
        self.subject, self.fingerprint = describe_certificate(self.certificate)

    def _pem(self, data: bytes, passphrase: bytes | None) -> Any:
        from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        if not self.settings.cert:
            raise UsageError(f"{KEY} is a PEM key: {CERT} must name its certificate")
        try:
            key = load_private_key_from_pemder_data(data, passphrase=passphrase)
        except (ValueError, TypeError):
            raise UsageError(f"{KEY}: cannot read the key in {self.settings.key} (wrong "
                             f"or missing passphrase in {PASSPHRASE}?)") from None
        certificates = list(load_certs_from_pemder_data(_read(self.settings.cert, CERT)))
        if not certificates:
            raise UsageError(f"{CERT}: no certificate in {self.settings.cert}")
        return signers.SimpleSigner(signing_key=key, signing_cert=certificates[0],
                                    cert_registry=SimpleCertificateStore.from_certs(
                                        certificates[1:]))

    def seal(self, pdf: bytes) -> bytes:
        """`pdf` with a PAdES signature appended as an incremental update."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.sign.timestamps import HTTPTimeStamper

        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        # Keep the first revision's metadata (see the module's docstring); the
        # maintainers' way to do so (pyHanko issue #223).
        writer._update_meta = lambda: None
        meta = signers.PdfSignatureMetadata(field_name=FIELD, md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES)
        timestamper = HTTPTimeStamper(self.settings.tsa) if self.settings.tsa else None
        try:
            return signers.PdfSigner(meta, self.signer, timestamper=timestamper) \
                .sign_pdf(writer).getvalue()
        except Exception as err:  # the time-stamping service is out of reach, refuses...
            if timestamper is None:
                raise
            raise UsageError(f"{TSA}: the time-stamping service {self.settings.tsa} "
                             f"failed: {err}") from None


def describe_certificate(certificate: Any) -> tuple[str, str]:
    """(subject as RFC 4514, SHA-256 of the DER) of an asn1crypto certificate."""
    from cryptography import x509

    der = certificate.dump()
    return (x509.load_der_x509_certificate(der).subject.rfc4514_string(),
            hashlib.sha256(der).hexdigest())


def trust_roots(settings: Settings) -> list[Any]:
    """The certificates `verify` trusts: BRIEFING_SEAL_TRUST, or else the seal
    key's own certificates; none if neither is configured."""
    from pyhanko.keys import load_certs_from_pemder_data

    if settings.trust:
        roots = list(load_certs_from_pemder_data(_read(settings.trust, TRUST)))
        if not roots:
            raise UsageError(f"{TRUST}: no PEM certificate in {settings.trust}")
        return roots
    if not settings.configured:
        return []
    sealer = Sealer(settings)
    return [sealer.certificate, *sealer.signer.cert_registry]


def read_seal(pdf: bytes, trust: list[Any]) -> Seal | None:
    """The seal of an archival PDF, checked against `trust`; None if unsealed."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as err:  # pyHanko's reader on damaged bytes: say so, do not crash
        return Seal("?", "?", "?", "", (f"the file cannot be read for its seal: {err}",))
    if not signatures:
        return None
    signature = signatures[0]
    context = ValidationContext(trust_roots=trust or [], allow_fetching=False)
    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"})
    try:
        status = validate_pdf_signature(signature, context, key_usage_settings=usage)
    except Exception as err:  # a malformed signature is a broken seal, not a crash
        return Seal("?", "?", "?", "", (f"the seal cannot be checked: {err}",))
    signer, fingerprint = describe_certificate(status.signing_cert)
    claimed = status.signer_reported_dt
    stamp = status.timestamp_validity
    problems = _trusted(status, bool(status.intact and status.valid), "file", trust)
    if len(signatures) != 1 or status.coverage != SignatureCoverageLevel.ENTIRE_FILE \
            or reader.xrefs.total_revisions != 2:
        problems.append("the file was changed after it was sealed (a later revision)")
    if stamp is not None and not (stamp.intact and stamp.valid and stamp.trusted):
        problems.append("the seal's time-stamp is broken or not from a trusted service")
    return Seal(signer, fingerprint, _utc(claimed), _utc(stamp.timestamp) if stamp else "",
                tuple(problems), bool(status.intact and status.valid))


def first_revision(pdf: bytes) -> bytes:
    """The bytes of a PDF's first revision, up to and with its %%EOF line: for a
    sealed archival PDF, the unsigned PDF/A that the seal's update follows."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if reader.xrefs.total_revisions < 2:
            return pdf
        end = reader.xrefs.get_xref_container_info(0).end_location
    except Exception:  # unreadable: compare the whole file, which will differ
        return pdf
    end = pdf.find(b"%%EOF", end)
    if end < 0:
        return pdf
    end += len(b"%%EOF")
    end += 2 if pdf[end:end + 2] == b"\r\n" else 1 if pdf[end:end + 1] in (b"\n", b"\r") else 0
    return pdf[:end]


def _utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime(TIME_FORMAT) if moment else "?"


def _read(path: str, variable: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"{variable}: cannot read {path}: {err.strerror}") from None


# --- the register's rows: CMS SignedData with the row inside ---------------------------------

def seal_data(sealer: Sealer, data: bytes) -> str:
    """`data` sealed with the organisation's key: a CMS SignedData (RFC 5652)
    that holds `data` itself and the signing certificate, base64, so a register
    row carries its own seal and any CMS tool can check it."""
    import asyncio
    import base64

    info = asyncio.run(sealer.signer.async_sign_general_data(data, "sha256", detached=False))
    return base64.b64encode(info.dump()).decode("ascii")


def read_data_seal(sealed: str, data: bytes, trust: list[Any]) -> Seal:
    """A seal made by `seal_data`, checked: it holds exactly `data`, its
    signature is intact and its certificate is one `trust` leads to."""
    import asyncio
    import base64
    import binascii

    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_cms_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import StandardCMSSignatureStatus
    from pyhanko_certvalidator import ValidationContext

    try:
        signed = cms.ContentInfo.load(base64.b64decode(sealed, validate=True))["content"]
        held = signed["encap_content_info"]["content"].native
        status = asyncio.run(async_validate_cms_signature(
            signed, StandardCMSSignatureStatus,
            validation_context=ValidationContext(trust_roots=trust or [], allow_fetching=False),
            key_usage_settings=KeyUsageConstraints(
                key_usage={"digital_signature", "non_repudiation"})))
        signer, fingerprint = describe_certificate(status.signing_cert)
    except (binascii.Error, ValueError, TypeError, KeyError, AttributeError) as err:
        return Seal("?", "?", "?", "", (f"the seal cannot be read: {err}",))
    except Exception as err:  # pyHanko's own errors on a malformed signature
        return Seal("?", "?", "?", "", (f"the seal cannot be checked: {err}",))
    problems = _trusted(status, bool(status.intact and status.valid and held == data), "row",
                        trust)
    return Seal(signer, fingerprint, _utc(status.signer_reported_dt), "", tuple(problems),
                bool(status.intact and status.valid and held == data))


def _trusted(status: Any, intact: bool, what: str, trust: object) -> list[str]:
    """What a seal's check says of it: broken, or sealed by whom no one trusts."""
    if not intact:
        return [f"the seal is broken: the {what} is not what was sealed"]
    if not trust:
        return [f"no certificate to trust is configured ({TRUST}), so who sealed it cannot "
                "be confirmed"]
    if not status.trusted:
        return ["the sealing certificate is not one this installation trusts"]
    return []
