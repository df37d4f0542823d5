"""A pipeline's interface and the checking of what a caller sends."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from datamill.pipelines.interface import input_errors, interface, validate_params
from tests.unit.pipelines.specimens import example_document, pipeline


def spec_with_params() -> dict[str, object]:
    document = example_document()
    document["params"]["label"] = {"type": "string", "description": "Shown in reports"}
    document["params"]["mode"] = {"enum": ["fast", "exact"], "default": "fast"}
    return document


def test_the_interface_lists_inputs_and_a_json_schema_of_the_params() -> None:
    document = example_document()
    document["inputs"]["table"]["description"] = "Prices by city"
    assert interface(pipeline(document)) == {
        "inputs": {
            "table": {
                "kind": "table",
                "description": "Prices by city",
                "validators": [
                    {"kind": "columns", "required": {"price": "float", "city": "text"}},
                    {"kind": "rows", "min": 1},
                ],
            }
        },
        "params": {
            "type": "object",
            "properties": {"k": {"type": "number", "default": 3, "minimum": 0}},
            "required": [],
            "additionalProperties": False,
        },
    }


def test_params_without_a_default_are_required_and_the_schema_is_valid() -> None:
    params = interface(pipeline(spec_with_params()))["params"]
    assert params["required"] == ["label"]
    Draft202012Validator.check_schema(params)


def test_validate_params_applies_defaults() -> None:
    values, errors = validate_params(pipeline(spec_with_params()), {"label": "x"})
    assert errors == []
    assert values == {"k": 3, "label": "x", "mode": "fast"}


def test_validate_params_reports_every_error_under_body_params() -> None:
    _, errors = validate_params(pipeline(spec_with_params()), {"k": -1, "mode": "slow", "extra": 1})
    assert errors == [
        {"loc": ["body", "params", "k"], "msg": "-1 is less than the minimum of 0"},
        {"loc": ["body", "params", "label"], "msg": "field required"},
        {"loc": ["body", "params", "mode"], "msg": "'slow' is not one of ['fast', 'exact']"},
        {"loc": ["body", "params", "extra"], "msg": "unknown parameter"},
    ]


def test_validate_params_needs_an_object() -> None:
    assert validate_params(pipeline(example_document()), [1]) == (
        {},
        [{"loc": ["body", "params"], "msg": "expected an object of parameters"}],
    )
    assert validate_params(pipeline(example_document()), None) == ({"k": 3}, [])


def test_input_errors_name_missing_and_unknown_inputs() -> None:
    assert input_errors(pipeline(example_document()), ["tabel"]) == [
        {"loc": ["body", "inputs", "table"], "msg": "field required"},
        {"loc": ["body", "inputs", "tabel"], "msg": "unknown input"},
    ]
