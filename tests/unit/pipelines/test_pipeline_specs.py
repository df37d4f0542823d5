"""Pipeline specifications: parsing YAML or JSON, and the rules that need no registered task."""

from __future__ import annotations

from typing import Any

import pytest

from datamill.pipelines.errors import SpecError
from datamill.pipelines.pipeline import PipelineSpec, parse_pipeline, pipeline_from_document
from datamill.pipelines.validators import (
    ColumnsValidator,
    FileValidator,
    RegexValidator,
    RowsValidator,
)
from tests.unit.pipelines.specimens import (
    CLEAN_AND_FLAG_JSON,
    CLEAN_AND_FLAG_YAML,
    example_document,
)


def errors_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(SpecError) as caught:
        pipeline_from_document(document)
    return caught.value.items


def test_yaml_and_json_parse_identically() -> None:
    from_yaml = parse_pipeline(CLEAN_AND_FLAG_YAML)
    from_json = parse_pipeline(CLEAN_AND_FLAG_JSON)
    assert from_yaml == from_json
    assert from_yaml.document() == from_json.document()


def test_the_design_example_reads_as_written() -> None:
    spec = parse_pipeline(CLEAN_AND_FLAG_YAML)
    assert list(spec.steps) == ["dedupe", "flag"]
    assert spec.steps["flag"].depends_on == ["dedupe"]
    assert spec.steps["dedupe"].with_ == {"table": "${inputs.table}", "columns": ["city"]}
    assert spec.inputs["table"].validators == [
        ColumnsValidator(kind="columns", required={"price": "float", "city": "text"}),
        RowsValidator(kind="rows", min=1),
    ]
    assert spec.params == {"k": {"type": "number", "default": 3, "minimum": 0}}
    assert spec.outputs == {"result": "${steps.flag.outputs.table}"}


def test_a_pipeline_survives_a_round_trip_through_its_document() -> None:
    spec = parse_pipeline(CLEAN_AND_FLAG_YAML)
    assert spec.document()["steps"]["flag"]["with"]["k"] == "${params.k}"
    assert PipelineSpec.model_validate(spec.document()) == spec


def test_bad_validators_are_reported_each_at_its_path() -> None:
    document = example_document()
    document["inputs"]["table"]["validators"] = [
        {"kind": "columns", "required": {"price": "money"}},
        {"kind": "rows"},
        {"kind": "rows", "min": 5, "max": 1},
        {"kind": "histogram"},
        {"required": {"a": "int"}},
        {"kind": "file", "extensions": ["c sv"], "max_bytes": 0},
    ]
    assert [e["loc"] for e in errors_of(document)] == [
        ["inputs", "table", "validators", 0, "required", "price"],
        ["inputs", "table", "validators", 1],
        ["inputs", "table", "validators", 2],
        ["inputs", "table", "validators", 3, "kind"],
        ["inputs", "table", "validators", 4, "kind"],
        ["inputs", "table", "validators", 5, "extensions"],
        ["inputs", "table", "validators", 5, "max_bytes"],
    ]


def test_a_regex_validator_must_compile() -> None:
    document = example_document()
    document["inputs"]["code"] = {
        "kind": "value",
        "validators": [{"kind": "regex", "pattern": "(["}],
    }
    [error] = errors_of(document)
    assert error["loc"] == ["inputs", "code", "validators", 0, "pattern"]
    assert error["msg"].startswith("not a valid regular expression")


def test_a_validator_must_fit_its_inputs_kind() -> None:
    document = example_document()
    document["inputs"]["code"] = {"kind": "value", "validators": [{"kind": "rows", "min": 1}]}
    document["inputs"]["table"]["validators"].append({"kind": "regex", "pattern": "x"})
    assert errors_of(document) == [
        {
            "loc": ["inputs", "table", "validators", 2, "kind"],
            "msg": "a regex validator checks a value input, not a table",
        },
        {
            "loc": ["inputs", "code", "validators", 0, "kind"],
            "msg": "a rows validator checks a table input, not a value",
        },
    ]


def test_a_parameter_is_a_valid_schema_with_a_fitting_default() -> None:
    document = example_document()
    document["params"]["k"] = {"type": "number", "default": -1, "minimum": 0}
    document["params"]["mode"] = {"enum": "fast"}
    assert [e["loc"] for e in errors_of(document)] == [
        ["params", "k", "default"],
        ["params", "mode", "enum"],
    ]


def test_malformed_references_and_outputs_are_reported_at_their_paths() -> None:
    document = example_document()
    document["steps"]["dedupe"]["with"]["columns"] = ["${inputs}", "${steps.dedupe.table}"]
    document["steps"]["flag"]["with"]["k"] = "${params.k"
    document["outputs"]["result"] = "table: ${steps.flag.outputs.table}"
    assert [e["loc"] for e in errors_of(document)] == [
        ["steps", "dedupe", "with", "columns", 0],
        ["steps", "dedupe", "with", "columns", 1],
        ["steps", "flag", "with", "k"],
        ["outputs", "result"],
    ]


def test_names_are_checked_where_they_are_declared() -> None:
    document = example_document()
    document["name"] = "Clean and flag"
    document["steps"]["Flag Step"] = document["steps"].pop("flag")
    document["inputs"]["2nd"] = {"kind": "file"}
    assert [e["loc"] for e in errors_of(document)] == [
        ["name"],
        ["inputs", "2nd"],
        ["steps", "Flag Step"],
    ]


def test_unknown_fields_are_refused() -> None:
    document = example_document()
    document["steps"]["flag"]["params"] = {"k": 1}
    assert errors_of(document) == [{"loc": ["steps", "flag", "params"], "msg": "unknown field"}]


def test_a_pipeline_needs_a_step() -> None:
    document = example_document()
    document["steps"] = {}
    document["outputs"] = {}
    assert errors_of(document) == [{"loc": ["steps"], "msg": "a pipeline needs at least one step"}]


def test_file_validator_extensions_are_normalised_and_checked() -> None:
    validator = FileValidator(kind="file", extensions=["CSV", ".tsv"], max_bytes=10)
    assert validator.extensions == [".csv", ".tsv"]
    assert validator.problems("data.Csv", 3) == []
    assert validator.problems("data.xlsx", 11) == [
        "expected a file ending in .csv, .tsv",
        "larger than 10 bytes",
    ]


def test_columns_validator_accepts_an_int_column_as_float() -> None:
    validator = ColumnsValidator(kind="columns", required={"price": "float", "city": "text"})
    assert validator.problems({"price": "int", "city": "text"}) == []
    assert validator.problems({"price": "text"}) == [
        "column 'price' is text, expected float",
        "missing column 'city' (text)",
    ]


def test_rows_and_regex_validators_judge_a_fact() -> None:
    assert RowsValidator(kind="rows", min=1, max=3).problems(0) == ["0 rows, expected at least 1"]
    assert RowsValidator(kind="rows", max=3).problems(4) == ["4 rows, expected at most 3"]
    regex = RegexValidator(kind="regex", pattern=r"[A-Z]{2}\d+")
    assert regex.problems("AB12") == []
    assert regex.problems("xAB12") == [r"does not match [A-Z]{2}\d+"]
