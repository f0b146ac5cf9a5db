"""The one place that reads YAML.

Content is read with PyYAML's composer only (never its constructor), so every
scalar stays the exact text the editor typed: `NO`, `yes`, `1.10` and `2006-08`
reach the model as strings and the schema decides what they mean. Duplicate
keys, anchors and aliases are refused, and every node's position is kept in a
`SourceMap` so that later stages can point at `file:line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.resolver import Resolver

from briefing.errors import Problems
from briefing.files import MAX_CONTENT_BYTES, Unreadable, read_confined

MAX_DEPTH = 40
NULLS = {"", "~", "null", "Null", "NULL"}

Path_ = tuple[str | int, ...]


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of one YAML file was written."""

    file: Path
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Line and column of `path`, or of its nearest ancestor that exists."""
        path = tuple(path)
        while True:
            if key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if not path:
                return (1, 1)
            path = path[:-1]


class _Refused(Exception):
    def __init__(self, mark: yaml.Mark, message: str, expected: str) -> None:
        self.mark, self.message, self.expected = mark, message, expected


class _Strict(Composer):
    """A YAML parser's events composed into nodes, with anchors and aliases refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, f"alias *{event.anchor} is not allowed",
                           "the value written out in full")
        if getattr(event, "anchor", None):
            raise _Refused(event.start_mark, f"anchor &{event.anchor} is not allowed",
                           "plain values without anchors")
        if len(self._depth) >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"nesting deeper than {MAX_DEPTH} levels",
                           "a flatter document")
        self._depth.append(event)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth.pop()


class _PythonEvents(_Strict, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                    Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        Composer.__init__(self)
        Resolver.__init__(self)
        self._depth: list[Any] = []


PARSERS: dict[str, type[Composer]] = {"python": _PythonEvents}
# LibYAML's parser (in PyYAML's wheels) is about ten times faster than the pure
# Python one; composing stays in Python either way, so the checks above apply,
# and a test reads the same files with both.
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser

    class _LibYAMLEvents(_Strict, CParser, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            Resolver.__init__(self)
            self._depth: list[Any] = []

    PARSERS["libyaml"] = _LibYAMLEvents
DEFAULT_PARSER = "libyaml" if "libyaml" in PARSERS else "python"


def read_yaml(file: Path, problems: Problems, parser: str = DEFAULT_PARSER
              ) -> tuple[Any, SourceMap] | None:
    """Read one YAML file into plain dicts, lists and strings plus its SourceMap.

    Returns None (after adding problems) when the file cannot be read at all.
    Duplicate keys are reported but do not stop the rest of the file.
    """
    try:
        raw = read_confined(file, [problems.root], MAX_CONTENT_BYTES)
    except Unreadable as err:
        problems.add(file, 1, 1, f"the file {err.why}", expected=err.expected)
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        col = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        problems.add(file, line, col, f"invalid UTF-8 at byte offset {err.start}",
                     expected="a UTF-8 encoded file")
        return None

    loader = None
    try:
        loader = PARSERS[parser](text)
        node = loader.get_single_node()
    except _Refused as err:
        problems.add(file, err.mark.line + 1, err.mark.column + 1, err.message,
                     expected=err.expected)
        return None
    except yaml.reader.ReaderError as err:
        line, col = _position(text, err.position)
        problems.add(file, line, col, f"character U+{err.character:04X} is not allowed",
                     expected="printable text")
        return None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message, expected = _describe(err, text)
        problems.add(file, mark.line + 1, mark.column + 1, message, expected=expected)
        return None
    except RecursionError:
        problems.add(file, 1, 1, "nesting is too deep", expected="a flatter document")
        return None
    finally:
        if loader is not None:
            loader.dispose()

    source = SourceMap(file)
    if node is None:
        return {}, source
    return _plain(node, (), source, problems), source


def _plain(node: yaml.Node, path: Path_, source: SourceMap, problems: Problems) -> Any:
    source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if key is None:
                problems.add(source.file, line, col, "a key must be plain text",
                             expected="a name such as `title`")
                continue
            if key in result:
                first = source.keys[path + (key,)]
                problems.add(source.file, line, col, f"duplicate key `{key}`",
                             field=dotted(path + (key,)),
                             expected=f"each key once; first written at line {first[0]}")
                continue
            source.keys[path + (key,)] = (line, col)
            result[key] = _plain(value_node, path + (key,), source, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, path + (i,), source, problems) for i, item in enumerate(node.value)]
    if not node.style and node.value in NULLS:  # plain: None in PyYAML, "" in LibYAML
        return None
    return node.value


def _describe(err: yaml.MarkedYAMLError, text: str) -> tuple[str, str]:
    problem = err.problem or err.context or "unreadable YAML"
    mark = err.problem_mark
    if "'\\t'" in problem or (mark is not None and text[mark.index:mark.index + 1] == "\t"):
        return "a tab character is used for indentation", "spaces for indentation"
    indentation = _indentation(err)
    if indentation is not None:
        return indentation
    message = f"YAML syntax: {problem}"
    if err.context and err.context_mark and err.problem_mark:
        start = err.context_mark
        message += f", {err.context} that starts at {start.line + 1}:{start.column + 1}"
    return message, "valid YAML"


def _indentation(err: yaml.MarkedYAMLError) -> tuple[str, str] | None:
    """The parser's words for a line indented wrongly, in an editor's: which
    block the line breaks, and the column its items start at."""
    problem, start, here = err.problem or "", err.context_mark, err.problem_mark
    if here is None:
        return None
    column = here.column + 1
    if "expected '-' indicator" in problem and start is not None:
        return (f"indentation: this line, at column {column}, does not line up with the "
                f"list that starts at {start.line + 1}:{start.column + 1}",
                f"each `-` of that list at column {start.column + 1}, and what belongs to an "
                f"item indented under it")
    if "did not find expected key" in problem and start is not None:
        return (f"indentation: this line, at column {column}, does not line up with the keys "
                f"of the block that starts at {start.line + 1}:{start.column + 1}",
                f"the block's keys at column {start.column + 1}, or a value indented under "
                "its key")
    if "mapping values are not allowed" in problem:
        return ("indentation, or an unquoted `: `: a `key:` here is indented under a plain "
                "value, or the value holds a colon and a space",
                "the key lined up with the keys above it, or the value in quotes")
    if "could not find expected ':'" in problem and start is not None:
        return (f"indentation, or a missing colon: line {start.line + 1} is neither a "
                "`key: value` nor indented under a key",
                "`key: value`, or text indented under the key it belongs to")
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def dotted(path: Path_) -> str:
    """`sections[2].title` style, as editors read it in error messages."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
