"""How a bad specification is reported: every problem at once, each with the path of its field.

Errors are ``{"loc": [...], "msg": ...}`` like every validation error of the API
(:class:`datamill.problems.Invalid`). Paths start at the root of the document (``["steps", "flag",
"task"]``); the API adds its own prefix (``"body"``) where it needs one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from datamill.problems import Invalid, field_error

Loc = Sequence[str | int]
Error = dict[str, Any]


class SpecError(Invalid):
    """A task or pipeline specification that cannot be used; ``items`` lists every problem."""

    title = "Invalid specification"
    slug = "invalid-spec"

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, subject: str = "specification"):
        self.items: list[Error] = [field_error(e["loc"], e["msg"]) for e in errors]
        super().__init__(summary(subject, self.items), errors=self.items)


def summary(subject: str, errors: Sequence[Mapping[str, Any]]) -> str:
    """The first problem as a sentence, so that the detail alone says what to fix."""
    if not errors:
        return f"The {subject} is invalid."
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    more = len(errors) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"The {subject} is invalid: {where}: {first['msg']}{tail}."


def fail_with(errors: Sequence[Error]) -> None:
    """Inside a model validator: fail with several precisely placed errors, or do nothing.

    Pydantic places a model validator's error at the model itself; the list travels in the error's
    context and :func:`errors_from_validation` puts each one at its own path below the model.
    """
    if errors:
        _raise(list(errors))


def _raise(errors: list[Error]) -> NoReturn:
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    raise PydanticCustomError(
        "spec", "{first}", {"first": f"{where}: {first['msg']}", "errors": errors}
    )


def errors_from_validation(exc: ValidationError, document: Any) -> list[Error]:
    """Pydantic's errors as spec errors, with paths that exist in ``document``.

    Pydantic inserts names of its own into paths (the tag of a tagged union, ``[key]`` for a bad
    mapping key); walking the document alongside the path drops them.
    """
    errors: list[Error] = []
    for error in exc.errors(include_url=False):
        kind = error["type"]
        loc = document_loc(error["loc"], document, missing=kind == "missing")
        ctx = error.get("ctx") or {}
        if kind == "spec":
            errors.extend(field_error([*loc, *sub["loc"]], sub["msg"]) for sub in ctx["errors"])
        elif kind == "union_tag_invalid":
            errors.append(field_error([*loc, "kind"], f"expected one of {ctx['expected_tags']}"))
        elif kind == "union_tag_not_found":
            errors.append(field_error([*loc, "kind"], "field required"))
        elif kind == "extra_forbidden":
            errors.append(field_error(loc, "unknown field"))
        else:
            msg = str(error["msg"])
            errors.append(field_error(loc, msg[:1].lower() + msg[1:]))
    return errors


def document_loc(
    loc: Sequence[str | int], document: Any, *, missing: bool = False
) -> list[str | int]:
    """``loc`` without the parts that are not keys or indexes of ``document``.

    With ``missing``, the last part is kept anyway: it names the field that is not there.
    """
    out: list[str | int] = []
    node = document
    for i, part in enumerate(loc):
        found = (isinstance(node, Mapping) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if found:
            node = node[part]
            out.append(part)
        elif missing and i == len(loc) - 1:
            out.append(part)
    return out
