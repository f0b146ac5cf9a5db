"""The HTML itself as an output (`--format html`): what both writers read."""

from __future__ import annotations

from briefing.writers.registry import Request


def write_html(request: Request) -> bytes:
    return request.html.encode("utf-8")
