"""`data:` URLs (RFC 2397), decoded one way for every writer.

Figures come to the writers as `data:` URLs, and templates may write their
own. The PDF (through WeasyPrint's fetcher), the DOCX and the HTML edition
once each decoded them in their own way, and disagreed: a percent-encoded SVG
built as a PDF and stopped the DOCX writer. Here is the one reading:
`data:[<type>[;<parameter>...]][;base64],<payload>`, the payload
percent-decoded first, then base64-decoded when the URL says so.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from briefing.files import MAX_ASSET_BYTES

DEFAULT_TYPE = "text/plain"


class BadDataURL(ValueError):
    """A `data:` URL that cannot be decoded; the message says why."""


@dataclass(frozen=True)
class DataURL:
    mime: str  # the media type alone, lowercased: `image/svg+xml`
    data: bytes

    @property
    def svg(self) -> bool:
        return self.mime == "image/svg+xml"


def is_data_url(url: str) -> bool:
    return url[:5].lower() == "data:"


def decode(url: str, limit: int = MAX_ASSET_BYTES) -> DataURL:
    """The media type and bytes of a `data:` URL, at most `limit` of them."""
    if not is_data_url(url):
        raise BadDataURL("not a data: URL")
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise BadDataURL("a data: URL without a comma before its data")
    if len(payload) > 3 * limit:  # no encoding more than triples the bytes (`%XX`)
        raise BadDataURL(f"a data: URL larger than {limit} bytes")
    parameters = [part.strip() for part in header.split(";")]
    encoded = parameters[-1].lower() == "base64"
    mime = (parameters[0] or DEFAULT_TYPE).lower()
    data = unquote_to_bytes(payload)
    if encoded:
        try:
            data = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BadDataURL("a data: URL whose base64 data is damaged") from None
    if len(data) > limit:
        raise BadDataURL(f"a data: URL larger than {limit} bytes")
    return DataURL(mime, data)
