from __future__ import annotations

from pydantic import Field

from datamill.schemas.common import Input, Public, Text, UTCTime


class TokenCreate(Input):
    name: Text = Field(min_length=1, max_length=100, description="What the token is for.")


class TokenPublic(Public):
    id: str
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    created_at: UTCTime
    last_used_at: UTCTime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself. It is shown once and never again.")
