"""Errors as ``application/problem+json`` (RFC 9457).

Services raise :class:`Problem` (or a subclass naming the situation); the app turns it into a reply.
Nothing else in the code base builds error responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the caller can act on: a status, a short title and a precise detail."""

    status = 400
    title = "Bad request"
    slug = "bad-request"
    default_headers: Mapping[str, str] = {}

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        status: int | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = {**self.default_headers, **(headers or {})}
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:datamill:problem:{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


class Unauthorized(Problem):
    status, title, slug = 401, "Not signed in", "unauthorized"
    default_headers = {"WWW-Authenticate": 'Bearer realm="datamill"'}


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported file type", "unsupported-media-type"


class Invalid(Problem):
    """The request is well formed but its content cannot be used (a bad file, a bad field)."""

    status, title, slug = 422, "Invalid input", "invalid"


class TooManyRequests(Problem):
    status, title, slug = 429, "Too many requests", "too-many-requests"


class Unavailable(Problem):
    status, title, slug = 503, "Service unavailable", "unavailable"


class MethodNotAllowed(Problem):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class ServerError(Problem):
    status, title, slug = 500, "Internal server error", "server-error"


def problem_for_status(status: int, detail: str) -> Problem:
    """The Problem subclass for an HTTP status raised outside our code (routing, Starlette)."""
    kinds: list[type[Problem]] = [Problem, *Problem.__subclasses__()]
    for kind in kinds:
        if kind.status == status:
            return kind(detail)
    return Problem(detail, status=status, title="Error")


def field_error(loc: Sequence[str | int], msg: str) -> dict[str, Any]:
    return {"loc": list(loc), "msg": msg}
