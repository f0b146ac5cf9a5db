"""What makes a class a value type of the model: read from YAML by its own
`_validate`, described to editors by its own JSON Schema.

Dates, periods, amounts of money, shares and texts each parse the text the
editor typed in their own way; pydantic is told so here, once, instead of
in each of them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema


class Value:
    """A mixin: a subclass gives `_validate(value) -> instance` (raising
    PydanticCustomError in the editor's words) and its `JSON_SCHEMA`."""

    JSON_SCHEMA: ClassVar[dict[str, Any]]

    @classmethod
    def _validate(cls, value: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_plain_validator_function(cls._validate)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return cls.JSON_SCHEMA
