"""The only way WeasyPrint may load a file: from the project's asset folders.

Templates and fonts are the project's own; content is not trusted. This
fetcher serves regular files whose real path (symlinks resolved) lies inside
one of the allowed roots, and refuses everything else: http(s), file: URLs
elsewhere, and oversized files. Every WeasyPrint object is created with it.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from briefing.files import MAX_ASSET_BYTES, Unreadable, read_confined
from briefing.writers import dataurl


class Refused(ValueError):
    """A resource outside the project's asset folders was asked for."""


class ProjectFetcher(URLFetcher):
    def __init__(self, roots: list[Path]) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=True)
        self.roots = [root.resolve() for root in roots]

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if dataurl.is_data_url(url):
            return _data(url)
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise Refused(f"refused to fetch {url!r}: only project files may be loaded")
        path = Path(unquote(parts.path))
        if not any(path.resolve().is_relative_to(root) for root in self.roots):
            raise Refused(f"refused to fetch {url!r}: outside the project's asset folders")
        try:
            data = read_confined(path, self.roots, MAX_ASSET_BYTES)
        except Unreadable as err:
            raise Refused(f"asset {path.name} {err.why}") from None
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.resolve().as_uri(), data, {"Content-Type": mime})


def _data(url: str) -> URLFetcherResponse:
    """A data: URL (figures drawn from content), decoded here, never fetched."""
    try:
        found = dataurl.decode(url)
    except dataurl.BadDataURL as err:
        raise Refused(str(err)) from None
    return URLFetcherResponse(url, found.data, {"Content-Type": found.mime})
