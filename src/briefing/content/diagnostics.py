"""Turning pydantic's validation errors into the editor's: placed at the YAML
line and column, in words, with "did you mean" for misspelt keys."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from briefing.content.yamlsource import Path_, SourceMap, dotted
from briefing.errors import Problems


def report_validation(
    err: ValidationError, model: type[BaseModel], source: SourceMap, problems: Problems
) -> None:
    errors = err.errors(include_url=False)
    missing = {tuple(error["loc"]) for error in errors if error["type"] == "missing"}
    # A required key misspelt is one mistake, said once: at the misspelt key.
    misspelt = {(*loc[:-1], hint) for loc, (_, hint) in (
        (tuple(error["loc"]), _suggestion(model, tuple(error["loc"])))
        for error in errors if error["type"] == "extra_forbidden")} & missing
    for error in errors:
        loc: Path_ = tuple(error["loc"])
        kind, ctx = error["type"], error.get("ctx", {})
        if kind == "too_short" and any(
            len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc
            for other in errors
        ):
            continue  # pydantic counts only the valid items; the item errors say more
        if kind == "extra_forbidden":
            allowed, hint = _suggestion(model, loc)
            message = f"unknown key `{loc[-1]}`"
            if (*loc[:-1], hint) in misspelt:
                message += f"; did you mean `{hint}`, which is required and missing?"
            elif hint:
                message += f"; did you mean `{hint}`?"
            line, col = source.locate(loc, key=True)
            problems.add(source.file, line, col, message, dotted(loc),
                         "one of " + ", ".join(allowed))
            continue
        if kind == "missing":
            if loc in misspelt:
                continue
            line, col = source.locate(loc[:-1])
            problems.add(source.file, line, col, "required key is missing", dotted(loc),
                         f"a `{loc[-1]}:` line")
            continue
        line, col = source.locate(loc)
        if kind == "prose":  # a prose field may break several rules: each is said
            for said in ctx.get("all", ()):
                message, expected = _wording(kind, {**error, "msg": said}, ctx)
                problems.add(source.file, line, col, message, dotted(loc), expected)
            continue
        message, expected = _wording(kind, error, ctx)
        problems.add(source.file, line, col, message, dotted(loc), expected)


def _suggestion(model: type[BaseModel], loc: Path_) -> tuple[list[str], str | None]:
    """The keys allowed beside the unknown key at `loc`, and the one it most
    likely misspells, if any."""
    allowed = field_names(model, loc[:-1])
    hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    return allowed, hint[0] if hint else None


def _wording(kind: str, error: dict[str, Any], ctx: dict[str, Any]) -> tuple[str, str]:
    shown = error.get("input")
    shown = f"`{shown}`" if isinstance(shown, str) else "this value"
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern.startswith("^https"):
            return (f"{shown} is not a web address",
                    "a URL starting with https:// (or http:// where the site has no https)")
        if "a-z0-9" in pattern:
            return f"{shown} is not a valid id", "lowercase letters, digits and hyphens, like `iom`"
        return f"{shown} is not a language code", "a code such as en, az, ru"
    if kind == "literal_error":
        return f"{shown} is not one of the choices", ctx.get("expected", "")
    if kind in ("string_type", "str_type"):
        return "this is not text", "a string"
    if kind in ("tuple_type", "list_type"):
        return "this is not a list", "a list of `- item` lines"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return "this is not a mapping", "`key: value` lines"
    if kind == "too_short":
        return "too few items", f"at least {ctx.get('min_length')}"
    if kind == "string_too_long":
        return "this text is too long", f"at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "this text is empty", "some text"
    message = error["msg"]
    if "(expected " in message:
        message, _, rest = message.partition(" (expected ")
        return message, rest.rstrip(")")
    return message[0].lower() + message[1:], ""


def field_names(model: type[BaseModel], loc: Path_) -> list[str]:
    """The keys allowed at `loc` inside `model`: for "did you mean" suggestions."""
    current: Any = model
    for part in loc:
        current = _without_none(current)
        if isinstance(part, int):
            current = typing.get_args(current)[0] if typing.get_origin(current) is tuple else None
        elif _is_record(current) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return []
    current = _without_none(current)
    if not _is_record(current):
        return []
    return [name for name in current.model_fields if name not in ("id", "slug")]


def _without_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


def _is_record(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


