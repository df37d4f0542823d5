from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer

MAX_LIMIT = 500
T = TypeVar("T")


def _iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UTCTime = Annotated[datetime, PlainSerializer(_iso_z, return_type=str)]
"""A timestamp serialised as ISO 8601 in UTC with ``Z``."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Any text a database column can hold (PostgreSQL refuses NUL characters)."""


class Input(BaseModel):
    """A request body: unknown fields are an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ListReply(BaseModel, Generic[T]):
    """Every list reply: one page of items and the total count."""

    data: list[T]
    count: int
