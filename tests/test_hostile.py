"""Hostile content: it renders as literal text or fails with a placed error.

A spy HTTP server on 127.0.0.1 and a secret file outside the project stand
in for what an attacker would reach for; neither may ever be touched.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
import yaml
from conftest import ROOTS, make_project, output_files, run_in_process
from readers import normalise, paragraph_text, pdf_text

SECRET = "SECRET-7f3a9c-DO-NOT-LEAK"
BRIEF = "content/briefs/sample.yaml"
PARTNER = "content/partners/org.yaml"


class Spy:
    def __init__(self) -> None:
        self.requests: list[str] = []
        spy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                spy.requests.append(self.path)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"p { color: red }")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def spy() -> Iterator[Spy]:
    server = Spy()
    yield server
    server.server.shutdown()
    assert server.requests == [], "something fetched from the network"


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("outside") / "secret.txt"
    path.write_text(SECRET)
    return path


def literal_payloads(spy_url: str, secret: Path) -> list[str]:
    """Texts that must come out exactly as typed, in every text field."""
    return [
        "<script>alert('x')</script>",
        "<img src=x onerror=alert(1)>",
        f'<img src="{secret.as_uri()}">',
        f'<link rel="stylesheet" href="{spy_url}/a.css">',
        f"<style>@import url({spy_url}/b.css);</style>",
        f'<iframe src="{spy_url}/c"></iframe>',
        f'<object data="{secret.as_uri()}"></object>',
        '<p style="background: url(x)">styled</p>',
        "{{ 7 * 7 }}",
        "{{ ''.__class__.__mro__ }}",
        "{% include '/etc/passwd' %}",
        "{% for x in range(999999999) %}{% endfor %}",
        "{# a comment? #}",
        "${7*7} #{7*7} <%= 7*7 %>",
        f"url({spy_url}/d.png)",
        f'"; background: url({spy_url}/e) }} body {{ x: "',
        "</title></head><body>",
        "]]><!-- -->",
        "&amp; &lt;b&gt; &#x41; &nbsp;",
        f"{secret.as_uri()}",
        "javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "../../../../etc/passwd",
        "C:\\Windows\\system32",
        "%s %d %n {0} {name}",
        "' OR 1=1 --",
        "\\u0000 \\x00 \\n",
        "Ünïcödé ə ğ ı İ ö ü ç ş — Ё ж щ ъ «»",
        "line one\nline two",
        "zero\u200bwidth\u200cjoin",
    ]


def prose_payloads(spy_url: str, secret: Path) -> list[tuple[str, str]]:
    """Markdown that must not become markup: (typed, text a reader sees)."""
    return [
        ("<b>raw html</b> stays text", "<b>raw html</b> stays text"),
        # Images are off: `![...](...)` is a `!` and a link, shown, never fetched.
        (f"![pixel]({spy_url}/f.png) is no image", "!pixel is no image"),
        ("[click](javascript:alert(1)) is no link", "[click](javascript:alert(1)) is no link"),
        (f"[file]({secret.as_uri()}) is no link", f"[file]({secret.as_uri()}) is no link"),
        # Plain http is a link (docs/content.md), followed only by a reader's click.
        (f"[plain http]({spy_url}/g) is a link", "plain http is a link"),
        ("<div style=\"color:red\">div</div>", '<div style="color:red">div</div>'),
        ("```\ncode fence\n```", "``` code fence ```"),
    ]


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory, spy: Spy, secret: Path
                  ) -> tuple[Path, list[str], list[str]]:
    literal = literal_payloads(spy.url, secret)
    prose = prose_payloads(spy.url, secret)
    brief = yaml.safe_load((ROOTS / "sample" / BRIEF).read_text())
    brief["key_points"] = literal
    brief["audience"] = literal[:10]
    brief["subtitle"] = literal[7]
    brief["sections"][0]["body"] = "\n\n".join(typed for typed, _ in prose)
    brief["sections"][1]["quotes"][0]["text"] = literal[3]
    brief["sections"][1]["quotes"][0]["by"] = literal[8]
    brief["marking"] = literal[15]
    partner = yaml.safe_load((ROOTS / "sample" / PARTNER).read_text())
    partner["name"] = literal[0]
    partner["offices"][0]["place"] = literal[2]
    project = make_project(tmp_path_factory.mktemp("hostile") / "p", files={
        BRIEF: yaml.safe_dump(brief, allow_unicode=True, sort_keys=False),
        PARTNER: yaml.safe_dump(partner, allow_unicode=True, sort_keys=False)})
    result = run_in_process(project, "build", "--format", "pdf", "--format", "docx",
                            "--format", "html")
    assert result.code == 0, result.err
    return project, literal, [seen for _, seen in prose]


def _outputs(project: Path) -> tuple[str, str, str]:
    folder = project / "output" / "sample"
    html = next(folder.glob("*.html")).read_text()
    pdf = normalise(pdf_text(next(folder.glob("*.pdf")), layout=True))
    document = docx.Document(str(next(folder.glob("*.docx"))))
    parts = [paragraph_text(p) for p in document.paragraphs]
    parts += [paragraph_text(p) for t in document.tables for row in t.rows for c in row.cells
              for p in c.paragraphs]
    parts += [paragraph_text(p) for t in document.tables for row in t.rows for c in row.cells
              for inner in c.tables for r in inner.rows for cc in r.cells for p in cc.paragraphs]
    for section in document.sections:
        parts += [paragraph_text(p) for p in section.header.paragraphs
                  + section.footer.paragraphs]
    return html, pdf, normalise(" ".join(parts))


@pytest.mark.parametrize("index", range(30))
def test_text_payload_is_shown_literally(hostile_build: tuple[Path, list[str], list[str]],
                                         index: int) -> None:
    project, literal, _ = hostile_build
    html, pdf, document = _outputs(project)
    payload = normalise(literal[index])
    assert payload in document
    invisible = str.maketrans("", "", "\u200b\u200c")  # no glyphs, so no PDF text either
    assert payload.translate(invisible) in pdf.translate(invisible)
    assert "<script>" not in html.split("<body", 1)[1].replace("&lt;script&gt;", "")


@pytest.mark.parametrize("index", range(7))
def test_prose_payload_is_shown_literally(hostile_build: tuple[Path, list[str], list[str]],
                                          index: int) -> None:
    project, _, prose = hostile_build
    _html, pdf, document = _outputs(project)
    assert normalise(prose[index]) in document
    assert normalise(prose[index]) in pdf


def test_no_markup_no_fetch_no_secret(hostile_build: tuple[Path, list[str], list[str]],
                                      spy: Spy) -> None:
    project, _, _ = hostile_build
    html, _, _ = _outputs(project)
    body = html.split("<body", 1)[1]
    for tag in ("<script", "<iframe", "<object", "<style", "<link", "<img src=x", "<b>raw"):
        assert tag not in body
    assert "javascript:" not in [a for a in body.split('href="')[1:]]
    assert spy.requests == []
    for path in output_files(project).values():
        assert SECRET.encode() not in path.read_bytes()


ERRORS = [
    # (name, file, text or bytes, first line starts with)
    ("file url", BRIEF, lambda spy, s: _sample_with("sources", [
        {"id": "page", "title": "x", "url": s.as_uri()}]), "content/briefs/sample.yaml:"),
    ("javascript url", BRIEF, lambda spy, s: _sample_with("sources", [
        {"id": "page", "title": "x", "url": "javascript:alert(1)"}]),
     "content/briefs/sample.yaml:"),
    ("path-like partner id", BRIEF, lambda spy, s: _sample_with("partners", ["../../etc/passwd"]),
     "content/briefs/sample.yaml:"),
    ("path-like section id", BRIEF, lambda spy, s: _sample_with(
        "sections", [{"id": "../x", "title": "t"}]), "content/briefs/sample.yaml:"),
    ("control character escape", BRIEF, lambda spy, s: "title: \"bell\\x07\"\n",
     "content/briefs/sample.yaml:1:8: title: character U+0007 is not allowed"),
    ("NUL escape", BRIEF, lambda spy, s: "title: \"nul\\0\"\n",
     "content/briefs/sample.yaml:1:8: title: character U+0000 is not allowed"),
    ("lone surrogate escape", BRIEF, lambda spy, s: "title: \"\\ud800\"\n",
     "content/briefs/sample.yaml:1:"),
    ("bidi override", BRIEF, lambda spy, s: "title: \"abc\\u202edef\"\n",
     "content/briefs/sample.yaml:1:8: title: character U+202E is not allowed"),
    ("raw control character", BRIEF, lambda spy, s: "title: a\x1bb\n",
     "content/briefs/sample.yaml:1:9: character U+001B is not allowed"),
    ("emoji the fonts lack", BRIEF, lambda spy, s: _sample_with("title", "Brief \U0001F600"),
     "content/briefs/sample.yaml:1:8: title: character '\U0001F600' (U+1F600) is not in"),
    ("alias bomb", BRIEF, lambda spy, s: "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
     "content/briefs/sample.yaml:1:4: anchor &a is not allowed"),
    ("deep nesting", BRIEF, lambda spy, s: "a: " + "[" * 200 + "]" * 200 + "\n",
     "content/briefs/sample.yaml:1:"),
    ("huge file", BRIEF, lambda spy, s: "title: " + "x" * (3 * 2**20) + "\n",
     "content/briefs/sample.yaml:1:1: the file is"),
    ("utf-16", BRIEF, lambda spy, s: "title: x\n".encode("utf-16"),
     "content/briefs/sample.yaml:1:1: invalid UTF-8"),
    ("latin-1", BRIEF, lambda spy, s: "title: Bakı Xəzər".encode()[:-2] + b"\xe9\n",
     "content/briefs/sample.yaml:1:"),
    ("python tag", BRIEF, lambda spy, s: "title: !!python/object:os.system echo\n",
     "content/briefs/sample.yaml:"),
    ("merge key", BRIEF, lambda spy, s: "<<: {title: x}\n", "content/briefs/sample.yaml:1:1: "),
    ("look-alike link host", BRIEF, lambda spy, s: _sample_with(
        "summary", "[https://example.org](https://ex\u0430mple.org/)"),
     "content/briefs/sample.yaml:14:10: summary: the link on line 1 of the text: the host of "),
    ("zero-width title", BRIEF, lambda spy, s: _sample_with("title", "Sample\u200b brief"),
     "content/briefs/sample.yaml:1:8: title: character U+200B (ZERO WIDTH SPACE) is invisible"),
]


def _sample_with(key: str, value: object) -> str:
    brief = yaml.safe_load((ROOTS / "sample" / BRIEF).read_text())
    brief[key] = value
    return yaml.safe_dump(brief, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize(("name", "target", "make", "first"), ERRORS, ids=[e[0] for e in ERRORS])
def test_hostile_input_is_a_placed_error(tmp_path: Path, spy: Spy, secret: Path, name: str,
                                         target: str, make: object, first: str) -> None:
    project = make_project(tmp_path / "p", files={target: make(spy.url, secret)})
    result = run_in_process(project)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert any(line.startswith(first) for line in lines), result.err
    assert all(re.match(r"(content|templates)/\S+:\d+:\d+: ", line) for line in lines[:-1])
    assert not [name for name in output_files(project) if name.endswith(".pdf")]


def test_templates_never_put_values_in_style_attributes() -> None:
    templates = Path(__file__).resolve().parent.parent / "templates"
    for template in templates.rglob("*.j2"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"style\s*=", text), template.name
