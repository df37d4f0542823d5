"""The names a specification may use, and the kinds of data that flow between steps.

Tasks, pipelines, steps and queues are lowercase slugs (they appear in URLs). Inputs, outputs and
parameters are identifiers, because Python tasks receive them as keyword arguments and references
(``${steps.a.outputs.table}``) use ``.`` as their separator.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

SLUG = re.compile(r"[a-z][a-z0-9_-]{0,63}")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")

DataKind = Literal["file", "table", "value"]
"""What flows between steps: a file, a table (a dataset revision) or a JSON value."""


def _slug(value: str) -> str:
    if not SLUG.fullmatch(value):
        raise PydanticCustomError(
            "slug",
            "expected a lowercase name: a letter, then up to 63 letters, digits, '-' or '_'",
        )
    return value


def _identifier(value: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise PydanticCustomError(
            "identifier",
            "expected a name made of letters, digits and '_', not starting with a digit "
            "(at most 64 characters)",
        )
    return value


def _env_name(value: str) -> str:
    if not ENV_NAME.fullmatch(value):
        raise PydanticCustomError(
            "env_name", "expected an environment variable name: A-Z, 0-9 and '_', not 0-9 first"
        )
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Identifier = Annotated[str, AfterValidator(_identifier)]
EnvName = Annotated[str, AfterValidator(_env_name)]
