from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from datamill.schemas.common import Input, Public, Text, UTCTime


class UserPublic(Public):
    id: str
    username: str
    role: Literal["admin", "member"]
    disabled: bool
    created_at: UTCTime


class LoginRequest(Input):
    username: Text = Field(max_length=64)
    password: Text = Field(max_length=1024)


class LoginReply(BaseModel):
    user: UserPublic
    csrf_token: str = Field(
        description="Send it back in the `X-CSRF-Token` header of every cookie-authenticated write."
    )
