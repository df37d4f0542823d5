"""The operations reference (``docs/operations.md``), written from the catalogue itself.

Generated, so that it cannot drift from what the server accepts: ``make docs-operations``; a
test fails when the file is stale. Run as ``python -m datamill.operations.reference``.
"""

from __future__ import annotations

import json
from typing import Any

from datamill.operations.base import Operation
from datamill.operations.catalog import OPERATIONS

FAMILIES = {
    "columns": "Columns",
    "rows": "Rows",
    "missing": "Missing values",
    "text": "Text",
    "numbers": "Numbers",
    "outliers": "Outliers",
    "encoding": "Encoding",
    "cells": "Cells",
    "clustering": "Clustering",
}

INTRO = """\
# Cleaning operations

<!-- Generated from the catalogue by `make docs-operations`: do not edit by hand. -->

Every operation runs on a worker and makes one new revision of the dataset, which becomes its
head (see the user guide, "Cleaning a dataset"). Apply one with the API:

```
POST /api/v1/datasets/{id}/operations
{"op": "fill-statistic", "params": {"column": "price", "statistic": "median"}}
```

or from the command line:

```
datamill dataset op sales fill-statistic --param column=price --param statistic=median
```

Parameters are checked against the dataset before anything is queued: an unknown column, a
column of the wrong type or a value that does not fit is a 422 naming the parameter. Values that
name columns are marked *column*. A column's text form is the text the grid shows (`1.5`,
`true`, `2024-01-31`, `NaN`). Regular expressions are RE2 (as in the grid's `regex` filter):
`\\w`, `\\d` and `\\s` are ASCII classes.
"""


def markdown() -> str:
    parts = [INTRO]
    for family, title in FAMILIES.items():
        members = [op for op in OPERATIONS.values() if op.family == family]
        if not members:
            continue
        parts.append(f"\n## {title}\n")
        for operation in members:
            parts.append(_section(operation))
    return "".join(parts)


def _section(operation: Operation[Any]) -> str:
    schema = operation.schema()
    required = set(schema.get("required", []))
    rows = [
        f"| `{name}` | {_type(field, schema)} "
        f"| {'required' if name in required else _default(field)} "
        f"| {_describe(field, schema)} |"
        for name, field in schema.get("properties", {}).items()
    ]
    example = json.dumps(
        {"op": operation.name, "params": dict(operation.example)}, ensure_ascii=False
    )
    table = "\n".join(
        ["| Parameter | Type | Default | Meaning |", "| --- | --- | --- | --- |", *rows]
    )
    summary = operation.summary.replace("<", "&lt;")
    return f"\n### `{operation.name}`\n\n{summary}\n\n{table}\n\nExample: `{example}`\n"


def _resolve(field: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = field.get("$ref")
    if isinstance(reference, str):
        return dict(schema.get("$defs", {}).get(reference.rsplit("/", 1)[-1], {}))
    return field


def _type(field: dict[str, Any], schema: dict[str, Any]) -> str:
    options = field.get("anyOf")
    if options:
        kinds = [_type(o, schema) for o in options if o.get("type") != "null"]
        return " or ".join(kinds)
    field = _resolve(field, schema)
    column = field.get("x-column")
    if column:
        return "new column name" if column["new"] else "column" + _types(column["types"])
    if "enum" in field:
        return " \\| ".join(f"`{value}`" for value in field["enum"])
    kind = field.get("type")
    if kind == "array":
        return f"list of {_type(field.get('items', {}), schema)}"
    if kind == "object":
        if "propertyNames" in field:
            return "object: column → text"
        if "properties" in field:
            names = ", ".join(f"`{n}`" for n in field["properties"])
            return f"object ({names})"
        return "object"
    if kind is None and not field:
        return "any value"
    return {
        "integer": "integer",
        "number": "number",
        "string": "text",
        "boolean": "true/false",
    }.get(str(kind), str(kind))


def _types(types: list[str]) -> str:
    return "" if len(types) == 6 else f" ({', '.join(types)})"


def _default(field: dict[str, Any]) -> str:
    if "default" not in field:
        return ""
    return f"`{json.dumps(field['default'])}`"


def _describe(field: dict[str, Any], schema: dict[str, Any]) -> str:
    text = str(field.get("description") or _resolve(field, schema).get("description") or "")
    limits = [
        f"{label} {field[key]}"
        for key, label in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        )
        if key in field
    ]
    if limits:
        text = f"{text} ({', '.join(limits)})" if text else ", ".join(limits)
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


if __name__ == "__main__":
    print(markdown(), end="")  # noqa: T201
