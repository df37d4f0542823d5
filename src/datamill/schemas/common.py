from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

MAX_LIMIT = 500
T = TypeVar("T")


def _iso_z(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


UTCTime = Annotated[datetime, PlainSerializer(_iso_z, return_type=str)]
"""A timestamp serialised as ISO 8601 in UTC with ``Z``."""


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ListReply(BaseModel, Generic[T]):
    """Every list reply: one page of items and the total count."""

    data: list[T]
    count: int
