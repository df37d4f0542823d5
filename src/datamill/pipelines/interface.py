"""A pipeline's interface: what a caller must send to run it, and checking what they sent."""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from datamill.pipelines.errors import Error
from datamill.pipelines.parameters import value_errors
from datamill.pipelines.pipeline import PipelineSpec
from datamill.problems import field_error


def interface(spec: PipelineSpec) -> dict[str, Any]:
    """The inputs (kind, description, validators) and a JSON Schema of the parameters.

    A parameter without a ``default`` is required; parameters not declared are refused.
    """
    return {
        "inputs": {
            name: {
                "kind": spec_input.kind,
                "description": spec_input.description,
                "validators": [
                    validator.model_dump(mode="json", exclude_none=True)
                    for validator in spec_input.validators
                ],
            }
            for name, spec_input in spec.inputs.items()
        },
        "params": {
            "type": "object",
            "properties": copy.deepcopy(spec.params),
            "required": [name for name, schema in spec.params.items() if "default" not in schema],
            "additionalProperties": False,
        },
    }


def validate_params(spec: PipelineSpec, params: Any) -> tuple[dict[str, Any], list[Error]]:
    """The parameters of a run with defaults applied, and every error (``["body", "params",
    name, ...]``). The values are only meaningful when there is no error."""
    loc: list[str | int] = ["body", "params"]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return {}, [field_error(loc, "expected an object of parameters")]
    values: dict[str, Any] = {}
    errors: list[Error] = []
    for name, schema in spec.params.items():
        if name in params:
            values[name] = params[name]
            errors.extend(value_errors(schema, params[name], [*loc, name]))
        elif "default" in schema:
            values[name] = copy.deepcopy(schema["default"])
        else:
            errors.append(field_error([*loc, name], "field required"))
    errors.extend(
        field_error([*loc, name], "unknown parameter") for name in params if name not in spec.params
    )
    return values, errors


def input_errors(spec: PipelineSpec, given: Collection[str]) -> list[Error]:
    """Inputs missing from a run request, and inputs it sends that the pipeline does not take
    (``["body", "inputs", name]``); validators are the caller's next step."""
    errors = [
        field_error(["body", "inputs", name], "field required")
        for name in spec.inputs
        if name not in given
    ]
    errors.extend(
        field_error(["body", "inputs", name], "unknown input")
        for name in given
        if name not in spec.inputs
    )
    return errors
