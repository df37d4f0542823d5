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


class UserCreate(Input):
    username: Text = Field(max_length=64, description="2 to 64 of a-z 0-9 . _ -")
    password: Text = Field(max_length=1024, description="At least 8 characters.")
    role: Literal["admin", "member"] = "member"


class UserUpdate(Input):
    """Only the fields sent change. Disabling ends the user's browser sessions at once, and
    their API tokens are refused while the account stays disabled."""

    role: Literal["admin", "member"] | None = None
    disabled: bool | None = None
    password: Text | None = Field(default=None, max_length=1024)
