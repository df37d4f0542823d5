"""Task and pipeline specs in request bodies, shared by ``tasks.py`` and ``pipelines.py``.

A spec is sent as JSON (``application/json``) or as YAML text (``application/yaml``,
``text/yaml``); either way the text itself is what gets parsed and kept, so a route takes it as
:data:`SpecText` rather than as a pydantic model. The 1 MB body limit (``limits.py``) applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from datamill.pipelines.names import SLUG
from datamill.problems import Conflict, Invalid, UnsupportedMediaType, field_error

SPEC_MEDIA_TYPES = frozenset(
    {
        "application/json",
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/x-yaml",
        "text/plain",
    }
)


def spec_body(description: str) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that takes a spec."""
    text = {"schema": {"type": "string", "description": f"{description} as YAML."}}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "description": description}},
                "application/yaml": text,
                "text/yaml": text,
            },
        }
    }


async def spec_text(request: Request) -> str:
    """The body as text: JSON or YAML, UTF-8, no NUL characters."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type not in SPEC_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Send the spec as application/json or as YAML (application/yaml, text/yaml), "
            f"not {media_type}."
        )
    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"The body is not UTF-8 text (byte {exc.start}).",
            errors=[field_error(["body"], "not UTF-8 text")],
        ) from None
    if "\0" in text:
        raise Invalid(
            "The body contains a NUL character.",
            errors=[field_error(["body"], "contains a NUL character")],
        )
    return text


SpecText = Annotated[str, Depends(spec_text)]

NAME_PATTERN = f"^{SLUG.pattern}$"
TaskName = Annotated[
    str, Path(pattern=NAME_PATTERN, description="A task name: lowercase letters, digits, - and _.")
]
PipelineName = Annotated[
    str,
    Path(pattern=NAME_PATTERN, description="A pipeline name: lowercase letters, digits, - and _."),
]


@contextmanager
def committed(db: Session, conflict: str) -> Iterator[None]:
    """Commit what the block did; a uniqueness race lost to another request becomes a 409."""
    try:
        yield
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(conflict) from None
