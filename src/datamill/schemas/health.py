from __future__ import annotations

from pydantic import BaseModel


class Check(BaseModel):
    ok: bool
    detail: str


class Health(BaseModel):
    status: str
    version: str
    database: Check
    storage: Check
