"""Validators of a pipeline's inputs: each a small tagged model, checked before a run is queued.

``kind`` selects the validator. The pure ones can say what is wrong from facts about an input (its
file name and size, its columns, its row count, its value); a ``task`` validator runs a registered
task on the input and passes when the task succeeds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from datamill.datasets.types import ColumnType
from datamill.pipelines.names import DataKind, Slug

_EXTENSION = re.compile(r"\.?[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


class _Validator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FileValidator(_Validator):
    """An uploaded file: its extension (case-insensitive, with or without the dot) and size."""

    kind: Literal["file"]
    extensions: list[str] | None = Field(default=None, min_length=1)
    max_bytes: int | None = Field(default=None, ge=1)

    @field_validator("extensions")
    @classmethod
    def _dotted(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for extension in value:
            if not _EXTENSION.fullmatch(extension):
                raise PydanticCustomError("extension", "expected extensions such as csv or .csv")
        return [("" if e.startswith(".") else ".") + e.lower() for e in value]

    def problems(self, filename: str, size: int) -> list[str]:
        found: list[str] = []
        if self.extensions is not None:
            name = PurePath(filename).name.lower()
            if not any(name.endswith(extension) for extension in self.extensions):
                found.append(f"expected a file ending in {', '.join(self.extensions)}")
        if self.max_bytes is not None and size > self.max_bytes:
            found.append(f"larger than {self.max_bytes} bytes")
        return found


class ColumnsValidator(_Validator):
    """A table with at least these columns, each of this type (an ``int`` column passes as
    ``float``)."""

    kind: Literal["columns"]
    required: dict[str, ColumnType] = Field(min_length=1)

    def problems(self, columns: Mapping[str, ColumnType]) -> list[str]:
        found: list[str] = []
        for name, expected in self.required.items():
            actual = columns.get(name)
            if actual is None:
                found.append(f"missing column '{name}' ({expected})")
            elif actual != expected and not (expected == "float" and actual == "int"):
                found.append(f"column '{name}' is {actual}, expected {expected}")
        return found


class RowsValidator(_Validator):
    """A table whose number of rows is within ``[min, max]`` (either bound may be left out)."""

    kind: Literal["rows"]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _bounds(self) -> RowsValidator:
        if self.min is None and self.max is None:
            raise PydanticCustomError("rows", "give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise PydanticCustomError("rows", "min is greater than max")
        return self

    def problems(self, rows: int) -> list[str]:
        if self.min is not None and rows < self.min:
            return [f"{rows} rows, expected at least {self.min}"]
        if self.max is not None and rows > self.max:
            return [f"{rows} rows, expected at most {self.max}"]
        return []


class RegexValidator(_Validator):
    """A value whose text matches ``pattern`` as a whole (Python ``re`` syntax)."""

    kind: Literal["regex"]
    pattern: str = Field(max_length=1000)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise PydanticCustomError(
                "regex", "not a valid regular expression: {why}", {"why": str(exc)}
            ) from None
        return value

    def problems(self, value: str) -> list[str]:
        if re.fullmatch(self.pattern, value) is None:
            return [f"does not match {self.pattern}"]
        return []


class TaskValidator(_Validator):
    """A registered task run on the input: it passes when the task succeeds."""

    kind: Literal["task"]
    task: Slug


Validator = Annotated[
    FileValidator | ColumnsValidator | RowsValidator | RegexValidator | TaskValidator,
    Field(discriminator="kind"),
]

APPLIES_TO: dict[str, frozenset[DataKind]] = {
    "file": frozenset({"file", "table"}),
    "columns": frozenset({"table"}),
    "rows": frozenset({"table"}),
    "regex": frozenset({"value"}),
    "task": frozenset({"file", "table", "value"}),
}
"""The kinds of input each validator makes sense for (a table input arrives as an upload too)."""
