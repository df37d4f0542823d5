"""Parameters described by JSON Schema (Draft 2020-12): checking schemas, defaults and values.

Schemas are checked against the Draft 2020-12 meta-schema (``pattern`` must compile), may only use
local references (``#/$defs/...``: checking a spec never fetches anything), and every ``default``
must satisfy its own schema. Values are validated with ``format`` asserted (a ``format: date``
parameter refuses ``"yesterday"``), which goes beyond the draft's annotation-only default.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from datamill.pipelines.errors import Error, Loc
from datamill.problems import field_error

_META = Draft202012Validator(
    Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)
_REF_KEYWORDS = ("$ref", "$dynamicRef")
_CONTEXT_KEYWORDS = ("$schema", "$id", "$defs", "definitions", "$anchor", "$dynamicAnchor")


def schema_errors(schema: Any, loc: Loc) -> list[Error]:
    """Why ``schema`` is not a usable Draft 2020-12 schema (an empty list when it is)."""
    errors = _violations(_META, schema, loc)
    if errors:
        return errors
    errors.extend(_remote_reference_errors(schema, list(loc)))
    if not errors and isinstance(schema, Mapping):
        errors.extend(_default_errors(schema, list(loc)))
    return errors


def value_errors(schema: Mapping[str, Any], value: Any, loc: Loc) -> list[Error]:
    """Why ``value`` does not satisfy ``schema`` (a checked schema), each at its own path."""
    validator = Draft202012Validator(
        dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    return _violations(validator, value, loc)


def property_errors(schema: Mapping[str, Any], name: str, value: Any, loc: Loc) -> list[Error]:
    """Why ``value`` is not a valid ``name`` property of the object ``schema``.

    The property is validated inside a copy of the object schema that keeps only its definitions,
    so ``{"$ref": "#/$defs/..."}`` in the property still resolves and the object's other rules
    (``required``, other properties) do not apply to a lone value.
    """
    sub = property_schemas(schema).get(name, {})
    context = {key: schema[key] for key in _CONTEXT_KEYWORDS if key in schema}
    wrapper = {**context, "properties": {name: sub}}
    return [
        {**error, "loc": [*loc, *error["loc"][len(loc) + 1 :]]}
        for error in value_errors(wrapper, {name: value}, loc)
    ]


def property_schemas(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The schema of each parameter of an object schema (``properties``), in declaration order."""
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    return {
        name: sub if isinstance(sub, Mapping) else {}
        for name, sub in properties.items()
        if isinstance(name, str)
    }


def required_names(schema: Mapping[str, Any]) -> list[str]:
    """The parameters a caller must give: ``required`` minus those with a ``default``."""
    required = schema.get("required")
    if not isinstance(required, list):
        return []
    properties = property_schemas(schema)
    return [
        name
        for name in required
        if isinstance(name, str) and "default" not in properties.get(name, {})
    ]


def with_defaults(schema: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` completed with the ``default`` of every parameter not given."""
    result = dict(values)
    for name, sub in property_schemas(schema).items():
        if name not in result and "default" in sub:
            result[name] = copy.deepcopy(sub["default"])
    return result


def json_types(schema: Mapping[str, Any]) -> set[str] | None:
    """The JSON types a schema declares with ``type``, or None when it does not say."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list) and all(isinstance(t, str) for t in declared):
        return set(declared)
    return None


def types_overlap(given: set[str], expected: set[str]) -> bool:
    """Whether a value of one of the ``given`` types may be one of the ``expected`` ones."""
    numbers = {"number", "integer"}
    widened_given = given | (numbers if given & numbers else set())
    return bool(widened_given & expected)


def _violations(validator: Draft202012Validator, instance: Any, loc: Loc) -> list[Error]:
    found = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
    return [_error(error, loc) for error in found]


def _error(error: SchemaViolation, loc: Loc) -> Error:
    where = [*loc, *error.absolute_path]
    missing = _missing_property(error)
    if missing is not None:
        return field_error([*where, missing], "field required")
    return field_error(where, _message(error))


def _missing_property(error: SchemaViolation) -> str | None:
    """The property a ``required`` error is about, so the error sits at the missing field."""
    if error.validator != "required" or not isinstance(error.validator_value, list):
        return None
    for name in error.validator_value:
        if isinstance(name, str) and error.message.startswith(f"{name!r} "):
            return name
    return None


def _message(error: SchemaViolation) -> str:
    if error.validator == "additionalProperties" and error.validator_value is False:
        return error.message.replace("Additional properties", "unknown properties")
    return error.message


def _remote_reference_errors(schema: Any, loc: list[str | int]) -> list[Error]:
    errors: list[Error] = []
    for where, node in _walk(schema, loc):
        if not isinstance(node, Mapping):
            continue
        for keyword in _REF_KEYWORDS:
            target = node.get(keyword)
            if isinstance(target, str) and not target.startswith("#"):
                errors.append(
                    field_error(
                        [*where, keyword],
                        "only references inside the schema (starting with '#') are allowed",
                    )
                )
    return errors


def _default_errors(schema: Mapping[str, Any], loc: list[str | int]) -> list[Error]:
    """A ``default`` that its own schema refuses, at the top level or of a property."""
    errors: list[Error] = []
    if "default" in schema:
        errors.extend(value_errors(schema, schema["default"], [*loc, "default"]))
    for name, sub in property_schemas(schema).items():
        if "default" in sub:
            where = [*loc, "properties", name, "default"]
            errors.extend(property_errors(schema, name, sub["default"], where))
    return errors


def _walk(node: Any, loc: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    stack: list[tuple[list[str | int], Any]] = [(loc, node)]
    while stack:
        where, current = stack.pop()
        yield where, current
        if isinstance(current, Mapping):
            stack.extend(([*where, key], value) for key, value in current.items())
        elif isinstance(current, list):
            stack.extend(([*where, i], value) for i, value in enumerate(current))
