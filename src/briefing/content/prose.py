"""Prose fields: the CommonMark dialect editors write, and its HTML.

Prose is running text inside a section the template already titles, so
headings, images, code and rules are not part of it, raw HTML is off and
links must be https. Pipe tables and footnotes (`[^1]` with a line
`[^1]: text`) are part of it. A footnote's text is printed where it is
referenced, as `<span class="footnote">`: the PDF floats it to the foot of
its page and the DOCX writer makes it a Word footnote, so both number the
notes of a document in one sequence.

What the dialect allows but the writers cannot show faithfully is refused
when the content is loaded, placed at the field: lists nested deeper than
Word's list styles go, quotations and emphasis nested beyond what the
writers take, and footnotes that would print as literal markup, vanish or
cannot be one Word footnote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

from briefing.content.links import address_problem, text_problem

# Word's reference styles have three list levels (List Bullet, List Bullet 2, 3).
MAX_LIST_DEPTH = 3
# Quotations in quotations: Word shows every level as Quote, the PDF indents each.
MAX_QUOTE_DEPTH = 3
# Emphasis, strong and links inside one another: far more than a sentence needs,
# far less than where lxml (255 levels) and WeasyPrint (about 250) give up.
MAX_INLINE_DEPTH = 10

_PROSE = MarkdownIt("commonmark", {"html": False}).disable([
    "heading", "lheading", "image", "code", "fence", "backticks", "hr",
    "html_block", "html_inline",
]).enable("table")
# Definitions stay where they are written (prose_problem places them); every
# `[^label]` is a reference, so one without a definition is found, not printed.
footnote_plugin(_PROSE, inline=False, move_to_end=False, always_match_refs=True)
_PROSE.validateLink = lambda url: url.startswith(("https://", "http://"))  # type: ignore[method-assign]

_NOTES = "briefing_notes"  # env: label -> the tokens of its definition
_OPEN = "briefing_open"  # env: the labels whose notes are being rendered


def _render_note(self: Any, tokens: Sequence[Token], idx: int, options: Any,
                 env: dict[str, Any]) -> str:
    """A footnote reference -> the note's text, where the reader meets it."""
    label = tokens[idx].meta["label"]
    children = _note_text(env.get(_NOTES, {}).get(label, []))
    open_notes = env.setdefault(_OPEN, set())
    if children is None or label in open_notes:  # refused at load; never loops
        return escapeHtml(f"[^{label}]")
    open_notes.add(label)
    html = self.renderInline(children, options, env)
    open_notes.discard(label)
    return f'<span class="footnote">{html}</span>'


def _render_table_open(self: Any, tokens: Sequence[Token], idx: int, options: Any,
                       env: dict[str, Any]) -> str:
    # A table in prose has no caption: it is not a class="data" table.
    return '<table class="prose-table">\n'


def _render_ordered_list_open(self: Any, tokens: Sequence[Token], idx: int, options: Any,
                              env: dict[str, Any]) -> str:
    # `3. item` starts at 3: the DOCX writer reads `start`; WeasyPrint 70 does
    # not, so the list-item counter says it too.
    token = tokens[idx]
    start = token.attrGet("start")
    if start is not None:
        token.attrSet("style", f"counter-reset: list-item {int(start) - 1}")
    return self.renderToken(tokens, idx, options, env)


_PROSE.add_render_rule("footnote_ref", _render_note)
_PROSE.add_render_rule("table_open", _render_table_open)
_PROSE.add_render_rule("ordered_list_open", _render_ordered_list_open)


def render_prose(text: str) -> str:
    """The HTML of one prose field."""
    tokens, env = _parse(text)
    return _PROSE.renderer.render(tokens, _PROSE.options, env)


def render_prose_inline(text: str) -> str:
    """The HTML of a prose field that is one paragraph, without the paragraph
    (for table cells); any other prose as `render_prose` gives it."""
    tokens, env = _parse(text)
    if [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]:
        return _PROSE.renderer.render(tokens[1].children or [], _PROSE.options, env)
    return _PROSE.renderer.render(tokens, _PROSE.options, env)


def _parse(text: str) -> tuple[list[Token], dict[str, Any]]:
    """The field's tokens without its footnote definitions, which go to env."""
    env: dict[str, Any] = {}
    tokens = _PROSE.parse(text, env)
    body: list[Token] = []
    notes: dict[str, list[Token]] = {}
    depth = 0
    for token in tokens:
        if token.type == "footnote_reference_open":
            depth += 1
            if depth == 1:
                current = notes.setdefault(token.meta["label"], [])
                continue
        elif token.type == "footnote_reference_close":
            depth -= 1
            if depth == 0:
                continue
        (current if depth else body).append(token)
    env[_NOTES] = notes
    return body, env


def _note_text(tokens: list[Token]) -> list[Token] | None:
    """The inline tokens of a footnote of one paragraph, else None."""
    if [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]:
        return tokens[1].children or []
    return None


def prose_problems(text: str) -> list[str]:
    """Every way `text` cannot be shown the same in every format, by line of the text."""
    return [message for _, message in sorted(set(_problems(_PROSE.parse(text, {}))))]


def prose_problem(text: str) -> str | None:
    """The first of `prose_problems`, or None."""
    return next(iter(prose_problems(text)), None)


def _problems(tokens: list[Token]) -> Iterator[tuple[int, str]]:
    """(line, message) for each way the field cannot be shown the same everywhere."""
    depth = {"list": 0, "quote": 0}
    line = 0
    defined: dict[str, list[tuple[int, list[Token]]]] = {}
    referenced: dict[str, list[int]] = {}
    note: list[str] = []  # the definition being read, if any
    items: list[list[int]] = []  # per list item open: its line, and whether it has text
    for token in tokens:
        line = (token.map or [line - 1])[0] + 1
        if token.type == "list_item_open":
            items.append([line, 0])
        elif token.type == "inline" and token.content.strip() and items:
            items[-1][1] = 1
        elif token.type == "list_item_close":
            opened, said = items.pop()
            if items:
                items[-1][1] |= said
            if not said:
                yield opened, (f"the list item on line {opened} of the text is empty "
                               "(expected text after its `-`, `*` or number)")
        kind = {"bullet_list": "list", "ordered_list": "list",
                "blockquote": "quote"}.get(token.type.rsplit("_", 1)[0])
        if kind and token.nesting:
            depth[kind] += token.nesting
            limit = MAX_LIST_DEPTH if kind == "list" else MAX_QUOTE_DEPTH
            if depth[kind] > limit:
                what = "a list" if kind == "list" else "a quotation"
                plural = "lists" if kind == "list" else "quotations"
                yield line, (f"{what} nested {depth[kind]} deep on line {line} of the text "
                             f"(expected {plural} nested at most {limit} deep)")
        elif token.type == "footnote_reference_open":
            label = token.meta["label"]
            if note:
                yield line, (f"footnote [^{label}] on line {line} of the text is inside "
                             f"footnote [^{note[-1]}] (expected each footnote on a line of "
                             "its own, not indented under another)")
            defined.setdefault(label, []).append((line, []))
            note.append(label)
        elif token.type == "footnote_reference_close":
            note.pop()
        elif note:
            defined[note[-1]][-1][1].append(token)
        if token.type == "inline":
            yield from _inline_problems(token.children or [], line, note, referenced)
            yield from _link_problems(token.children or [], line)
    for label, lines in referenced.items():
        if label not in defined:
            yield lines[0], (f"footnote [^{label}] on line {lines[0]} of the text has no "
                             f"text (expected a line `[^{label}]: the note` in the same field)")
        elif len(lines) > 1:
            yield lines[1], (f"footnote [^{label}] is referenced twice, on lines {lines[0]} "
                             f"and {lines[1]} of the text (expected each footnote referenced "
                             "once: write a second footnote for the second place)")
    for label, definitions in defined.items():
        first = definitions[0][0]
        if len(definitions) > 1:
            yield definitions[1][0], (
                f"footnote [^{label}] is written twice, on lines {first} and "
                f"{definitions[1][0]} of the text (expected one text for each footnote)")
        elif label not in referenced:
            yield first, (f"footnote [^{label}] on line {first} of the text is never "
                          f"referenced (expected a `[^{label}]` where the note belongs)")
        elif _note_text(definitions[0][1]) is None:
            yield first, (f"footnote [^{label}] on line {first} of the text is not one "
                          "paragraph (expected a footnote of one paragraph, without lists, "
                          "quotations or tables)")


def _link_problems(children: list[Token], line: int) -> Iterator[tuple[int, str]]:
    """A link must go where it seems to: to a host in one script, and to the
    host its text names when its text is an address (links do not nest)."""
    href, shown = None, ""
    for child in children:
        if child.type == "link_open":
            href, shown = str(child.attrGet("href") or ""), ""
        elif child.type == "link_close" and href is not None:
            if (why := address_problem(href) or text_problem(shown, href)) is not None:
                yield line, f"the link on line {line} of the text: {why}"
            href = None
        elif href is not None and child.type in ("text", "code_inline"):
            shown += child.content


def _inline_problems(children: list[Token], line: int, note: list[str],
                     referenced: dict[str, list[int]]) -> Iterator[tuple[int, str]]:
    depth = deepest = 0
    for i, child in enumerate(children):
        depth += child.nesting
        deepest = max(deepest, depth)
        if child.type != "footnote_ref":
            continue
        label = child.meta["label"]
        referenced.setdefault(label, []).append(line)
        after = children[i + 1].content if i + 1 < len(children) else ""
        if note:
            yield line, (f"footnote [^{label}] on line {line} of the text is referenced "
                         f"inside footnote [^{note[-1]}] (expected footnotes referenced "
                         "from the text only)")
        elif after.startswith("]"):  # `[text[^1]](https://...)` is no link: literal markup
            yield line, (f"footnote [^{label}] on line {line} of the text is inside a link's "
                         f"brackets (expected it after the link: [text](https://...)[^{label}])")
    if deepest > MAX_INLINE_DEPTH:
        yield line, (f"emphasis nested {deepest} deep on line {line} of the text (expected "
                     f"emphasis, strong and links nested at most {MAX_INLINE_DEPTH} deep)")
