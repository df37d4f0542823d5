"""Reading a specification written as YAML or JSON into plain JSON values.

The YAML reader follows the JSON-compatible rules of YAML 1.2, so that a document means the same
in both syntaxes: only ``true``/``false`` are booleans (not ``yes``, ``no``, ``on``, ``off``),
``1e3`` is a number, ``012`` and ``2024-01-31`` stay text, and anchors, aliases, merge keys and tags
making values JSON lacks (``!!binary``, ``!!set``...) are refused. Duplicate keys are errors in
both syntaxes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Hashable
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from datamill.pipelines.errors import Error, Loc, SpecError
from datamill.problems import field_error

MAX_CHARS = 1_000_000

_YAML_TAG = "tag:yaml.org,2002:"
_REPLACED = {
    f"{_YAML_TAG}{name}" for name in ("bool", "int", "float", "timestamp", "merge", "value")
}


class _JsonCompatibleLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with YAML 1.2's JSON scalars, and neither aliases nor duplicate keys."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (*name) are not supported", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_JsonCompatibleLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_JsonCompatibleLoader.add_implicit_resolver(
    f"{_YAML_TAG}bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_JsonCompatibleLoader.add_implicit_resolver(
    f"{_YAML_TAG}int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_JsonCompatibleLoader.add_implicit_resolver(
    f"{_YAML_TAG}float",
    re.compile(r"^[-+]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def load_document(text: str, *, subject: str = "specification") -> dict[str, Any]:
    """The mapping written in ``text`` (YAML or JSON), or a :class:`SpecError` saying why not."""
    if len(text) > MAX_CHARS:
        raise SpecError([field_error([], f"longer than {MAX_CHARS} characters")], subject=subject)
    try:
        document = _parse(text)
    except _SyntaxProblem as exc:
        raise SpecError([field_error([], str(exc))], subject=subject) from None
    if not isinstance(document, dict):
        raise SpecError(
            [field_error([], "expected a mapping (YAML) or an object (JSON) at the top level")],
            subject=subject,
        )
    errors = json_errors(document, [])
    if errors:
        raise SpecError(errors, subject=subject)
    return document


class _SyntaxProblem(ValueError):
    pass


def _parse(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        pass  # not JSON (or JSON with a duplicate key): YAML reads it, or says where it stops
    try:
        return yaml.load(text, Loader=_JsonCompatibleLoader)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise _SyntaxProblem(f"not valid YAML or JSON: {where}{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise _SyntaxProblem(f"not valid YAML or JSON: {exc}") from None
    except RecursionError:
        raise _SyntaxProblem("nested too deeply") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def json_errors(value: Any, loc: Loc) -> list[Error]:
    """Where ``value`` holds something JSON cannot: keys that are not text, non-finite numbers."""
    errors: list[Error] = []
    stack: list[tuple[Any, list[str | int]]] = [(value, list(loc))]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            for key, item in node.items():
                if isinstance(key, str):
                    stack.append((item, [*where, key]))
                else:
                    errors.append(field_error([*where, str(key)], "keys must be text: quote it"))
        elif isinstance(node, list):
            stack.extend((item, [*where, i]) for i, item in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            errors.append(field_error(where, "not a finite number"))
        elif node is not None and not isinstance(node, str | int | float | bool):
            errors.append(field_error(where, f"not a JSON value ({type(node).__name__})"))
    errors.sort(key=lambda e: [str(part) for part in e["loc"]])
    return errors
