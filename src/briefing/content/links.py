"""Web addresses: which hosts a link or a URL field may name, and whether a
link's text tells the truth about where it goes.

A reader decides whether to follow a link by what it shows, so an address is
refused when it can show one host and lead to another: a host whose letters
mix scripts (Latin `example.org` with a Cyrillic `а`, which reads the same and
is a different host), punycode that does not decode, a user name before the
host (`https://example.org@elsewhere.net`), and link text that is itself an
address naming another host than the target's. A host wholly in one script
(`мвд.рф`) is a real place and is kept.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

# Scripts written together in one word (UTS #39, "highly restrictive"): Han,
# Hiragana, Katakana, Hangul and Bopomofo go with each other and with one other
# script; any two others in one label (Latin and Cyrillic, say) are refused.
_EAST_ASIAN = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC"}
# Link text that is an address: an optional scheme, a host with a dot and a
# top-level name of two letters or more, then perhaps a port, path or query.
_ADDRESS = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(?P<host>[^\s/?#:@\\]+\.[^\W\d_]{2,})\.?"
                      r"(?::\d+)?(?:[/?#]\S*)?", re.IGNORECASE)
_EXPECTED_HOST = "an address https://host/path whose host is written in one script"


def address_problem(url: str) -> str | None:
    """Why `url` may not be a link's target or a URL field's value, or None."""
    try:
        parts = urlsplit(url)
    except ValueError:  # `https://[x/`: an unclosed IPv6 address
        return f"`{url}` has no valid host (expected https://host/path)"
    if "@" in parts.netloc:
        return (f"`{url}` names a user before its host `{parts.hostname}` (expected "
                "https://host/path, without `name@`: it disguises where the link goes)")
    host = parts.hostname or ""
    if "\\" in url or not host or not all(c.isalnum() or c in "-." for c in host):
        return f"`{url}` has no valid host (expected https://host/path)"
    try:
        labels = [_decoded(label) for label in host.rstrip(".").split(".")]
        real = ascii_host(host)
    except UnicodeError:
        return f"`{url}` has a host, `{host}`, that is not valid punycode (expected a real host)"
    for label in labels:
        scripts = _scripts(label)
        if len(scripts - _EAST_ASIAN) > 1:
            mixed = " and ".join(sorted(script.title() for script in scripts))
            return (f"the host of `{url}` mixes {mixed} letters (it is really `{real}`; "
                    f"expected {_EXPECTED_HOST}: look-alike letters disguise where it goes)")
    return None


def text_problem(text: str, url: str) -> str | None:
    """Why a link showing `text` may not go to `url`, or None: text that is
    itself an address must name the target's host (`www.` aside)."""
    shown = _ADDRESS.fullmatch(text.strip())
    if shown is None:
        return None
    try:
        said, real = ascii_host(shown["host"]), ascii_host(urlsplit(url).hostname or "")
    except UnicodeError:
        return f"the link text `{text.strip()}` is not a valid host (expected words or a host)"
    if said.removeprefix("www.") == real.removeprefix("www."):
        return None
    return (f"the link text `{text.strip()}` names the host {said}, but the link goes to "
            f"{real} (expected link text naming the host it goes to, or words that are not "
            "an address)")


def ascii_host(host: str) -> str:
    """The host as the network knows it: lowercase, each label in punycode."""
    return ".".join(label.encode("idna").decode("ascii") if label else ""
                    for label in host.lower().rstrip(".").split("."))


def _decoded(label: str) -> str:
    """A label as its reader sees it (`xn--` punycode decoded); UnicodeError if
    it does not decode."""
    if label.lower().startswith("xn--"):
        return label.encode("ascii").decode("idna")
    return label


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters and non-ASCII digits, by Unicode name
    (`CYRILLIC SMALL LETTER A` is Cyrillic); combining marks take their letter's."""
    return {unicodedata.name(char, "UNKNOWN").split()[0].split("-")[0]
            for char in label if not (char.isascii() and not char.isalpha())
            and not unicodedata.category(char).startswith("M")}
