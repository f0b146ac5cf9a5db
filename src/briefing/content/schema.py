"""JSON Schemas of the content format, generated from the model.

Editors' YAML language servers (VS Code's YAML extension and others) read
them to complete keys and underline mistakes while typing. They are written
to schema/ by `build.py schema`, and a test keeps the committed files current.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from briefing.content.model import Brief, Partner, Publisher

SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "brief": (Brief, "slug"),
    "partner": (Partner, "id"),
    "publisher": (Publisher, ""),
}
FOLDER = "schema"


def schema(model: type[BaseModel], from_file_name: str) -> dict[str, object]:
    """The model's schema without the key that comes from the file name."""
    result = model.model_json_schema()
    if from_file_name:
        del result["properties"][from_file_name]
        result["required"] = [k for k in result.get("required", []) if k != from_file_name]
    result["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return result


def rendered() -> dict[str, str]:
    """File name -> text of every schema, exactly as committed."""
    return {f"{name}.schema.json": json.dumps(schema(model, key), indent=2, ensure_ascii=False)
            + "\n" for name, (model, key) in SCHEMAS.items()}


def write(root: Path) -> list[Path]:
    from briefing.orchestration.output import write_atomically

    paths = []
    for name, text in rendered().items():
        path = root / FOLDER / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomically(path, text.encode("utf-8"))
        paths.append(path)
    return paths
