"""Checking a pipeline against the registered tasks: every problem, each at its exact path."""

from __future__ import annotations

from typing import Any

import pytest

from datamill.pipelines.check import check_pipeline, check_pipeline_text
from datamill.pipelines.errors import Error
from tests.unit.pipelines.specimens import (
    CLEAN_AND_FLAG_JSON,
    CLEAN_AND_FLAG_YAML,
    example_document,
    pipeline,
    tasks,
)


def check(document: dict[str, Any]) -> list[Error]:
    return check_pipeline(pipeline(document), tasks())


def only_error(document: dict[str, Any]) -> Error:
    errors = check(document)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_design_example_passes_in_yaml_and_in_json() -> None:
    assert check_pipeline_text(CLEAN_AND_FLAG_YAML, tasks()) == []
    assert check_pipeline_text(CLEAN_AND_FLAG_JSON, tasks()) == []
    assert check(example_document()) == []


def test_an_unknown_task_is_reported_at_the_steps_task() -> None:
    document = example_document()
    document["steps"]["flag"]["task"] = "flag-outlier"
    assert only_error(document) == {
        "loc": ["steps", "flag", "task"],
        "msg": "unknown task 'flag-outlier'",
    }


def test_a_cycle_is_reported_at_depends_on_naming_every_step_in_it() -> None:
    document = example_document()
    document["steps"]["dedupe"]["depends_on"] = ["flag"]
    error = only_error(document)
    assert error["loc"] == ["steps", "dedupe", "depends_on"]
    assert "dedupe -> flag -> dedupe" in error["msg"]


def test_a_cycle_made_only_of_references_is_found() -> None:
    document = example_document()
    del document["steps"]["flag"]["depends_on"]
    document["steps"]["dedupe"]["with"]["columns"] = ["${steps.flag.outputs.count}"]
    errors = check(document)
    assert [e["loc"] for e in errors] == [["steps", "dedupe", "depends_on"]]
    assert "dedupe -> flag -> dedupe" in errors[0]["msg"]


def test_a_step_that_depends_on_itself_is_a_cycle() -> None:
    document = example_document()
    document["steps"]["flag"]["depends_on"] = ["dedupe", "flag"]
    error = only_error(document)
    assert error["loc"] == ["steps", "flag", "depends_on"]
    assert "flag -> flag" in error["msg"]


def test_depends_on_an_unknown_step_is_reported_at_its_index() -> None:
    document = example_document()
    document["steps"]["flag"]["depends_on"] = ["dedupe", "dedup"]
    assert only_error(document) == {
        "loc": ["steps", "flag", "depends_on", 1],
        "msg": "unknown step 'dedup'",
    }


@pytest.mark.parametrize(
    ("step", "key", "reference", "msg"),
    [
        ("dedupe", "table", "${inputs.tabel}", "unknown pipeline input 'tabel'"),
        ("flag", "k", "${params.kk}", "unknown parameter 'kk'"),
        ("flag", "table", "${steps.dedup.outputs.table}", "unknown step 'dedup'"),
        (
            "flag",
            "table",
            "${steps.dedupe.outputs.tables}",
            "step 'dedupe' has no output 'tables' (task 'drop-duplicates' has: table)",
        ),
    ],
)
def test_a_dangling_reference_is_reported_where_it_is_used(
    step: str, key: str, reference: str, msg: str
) -> None:
    document = example_document()
    document["steps"][step]["with"][key] = reference
    assert only_error(document) == {"loc": ["steps", step, "with", key], "msg": msg}


def test_a_dangling_reference_inside_a_list_has_the_items_path() -> None:
    document = example_document()
    document["steps"]["dedupe"]["with"]["columns"] = ["city", "${params.column}"]
    assert only_error(document) == {
        "loc": ["steps", "dedupe", "with", "columns", 1],
        "msg": "unknown parameter 'column'",
    }


def test_a_missing_required_parameter_is_reported_under_with() -> None:
    document = example_document()
    del document["steps"]["flag"]["with"]["k"]
    assert only_error(document) == {
        "loc": ["steps", "flag", "with", "k"],
        "msg": "missing parameter 'k' of task 'flag-outliers'",
    }


def test_a_required_parameter_with_a_default_may_be_left_out() -> None:
    # flag-outliers requires `column`, which has a default; the example never sets it.
    assert "column" not in example_document()["steps"]["flag"]["with"]
    assert check(example_document()) == []


def test_a_missing_input_is_reported_under_with() -> None:
    document = example_document()
    del document["steps"]["dedupe"]["with"]["table"]
    assert only_error(document) == {
        "loc": ["steps", "dedupe", "with", "table"],
        "msg": "missing input 'table' of task 'drop-duplicates'",
    }


@pytest.mark.parametrize(
    ("step", "key", "value", "loc", "msg"),
    [
        ("flag", "k", "three", ["steps", "flag", "with", "k"], "'three' is not of type 'number'"),
        ("flag", "k", -1, ["steps", "flag", "with", "k"], "-1 is less than the minimum of 0"),
        (
            "dedupe",
            "keep",
            "middle",
            ["steps", "dedupe", "with", "keep"],
            "'middle' is not one of ['first', 'last']",
        ),
        (
            "dedupe",
            "columns",
            ["city", 7],
            ["steps", "dedupe", "with", "columns", 1],
            "7 is not of type 'string'",
        ),
        (
            "dedupe",
            "columns",
            [],
            ["steps", "dedupe", "with", "columns"],
            "[] should be non-empty",
        ),
    ],
)
def test_a_literal_parameter_is_validated_against_the_tasks_schema(
    step: str, key: str, value: Any, loc: list[str | int], msg: str
) -> None:
    document = example_document()
    document["steps"][step]["with"][key] = value
    assert only_error(document) == {"loc": loc, "msg": msg}


def test_a_key_the_task_does_not_declare_is_reported() -> None:
    document = example_document()
    document["steps"]["dedupe"]["with"]["colour"] = "red"
    assert only_error(document) == {
        "loc": ["steps", "dedupe", "with", "colour"],
        "msg": "task 'drop-duplicates' has no input or parameter 'colour'",
    }


def test_a_table_cannot_feed_a_file_input() -> None:
    document = example_document()
    document["steps"]["save"] = {
        "task": "save-file",
        "with": {"source": "${steps.flag.outputs.table}"},
    }
    assert only_error(document) == {
        "loc": ["steps", "save", "with", "source"],
        "msg": "expected a file, but ${steps.flag.outputs.table} is a table",
    }


def test_a_pipeline_file_input_cannot_feed_a_table_input() -> None:
    document = example_document()
    document["inputs"]["table"] = {"kind": "file"}
    assert only_error(document) == {
        "loc": ["steps", "dedupe", "with", "table"],
        "msg": "expected a table, but ${inputs.table} is a file",
    }


def test_a_table_input_needs_a_reference_not_a_literal() -> None:
    document = example_document()
    document["steps"]["dedupe"]["with"]["table"] = "prices.csv"
    error = only_error(document)
    assert error["loc"] == ["steps", "dedupe", "with", "table"]
    assert error["msg"].startswith("a table input takes a reference")


def test_a_table_cannot_be_a_parameter() -> None:
    document = example_document()
    document["steps"]["flag"]["with"]["k"] = "${inputs.table}"
    assert only_error(document) == {
        "loc": ["steps", "flag", "with", "k"],
        "msg": "a parameter takes a value, but ${inputs.table} is a table",
    }


def test_a_table_cannot_be_interpolated_into_text() -> None:
    document = example_document()
    document["steps"]["flag"]["with"]["column"] = "col-${inputs.table}"
    error = only_error(document)
    assert error["loc"] == ["steps", "flag", "with", "column"]
    assert "${inputs.table} is a table" in error["msg"]


def test_a_pipeline_parameter_of_another_type_is_reported() -> None:
    document = example_document()
    document["params"]["k"] = {"type": "string", "default": "3"}
    assert only_error(document) == {
        "loc": ["steps", "flag", "with", "k"],
        "msg": "${params.k} is string, but the parameter expects number",
    }


def test_an_integer_pipeline_parameter_may_feed_a_number() -> None:
    document = example_document()
    document["params"]["k"] = {"type": "integer", "default": 2}
    assert check(document) == []


def test_a_pipeline_parameters_default_must_fit_the_task_parameter() -> None:
    document = example_document()
    document["params"]["k"] = {"type": "number", "default": -2}
    assert only_error(document) == {
        "loc": ["steps", "flag", "with", "k"],
        "msg": "the default of ${params.k} does not fit here: -2 is less than the minimum of 0",
    }


def test_text_with_references_cannot_feed_a_number() -> None:
    document = example_document()
    document["steps"]["flag"]["with"]["k"] = "${params.k}0"
    assert only_error(document) == {
        "loc": ["steps", "flag", "with", "k"],
        "msg": "references inside text make a string, not number",
    }


def test_an_output_referencing_something_unknown_is_reported() -> None:
    document = example_document()
    document["outputs"]["result"] = "${steps.flag.outputs.flags}"
    document["outputs"]["echo"] = "${inputs.missing}"
    assert check(document) == [
        {
            "loc": ["outputs", "result"],
            "msg": "step 'flag' has no output 'flags' (task 'flag-outliers' has: table, count)",
        },
        {"loc": ["outputs", "echo"], "msg": "unknown pipeline input 'missing'"},
    ]


def test_an_unknown_validator_task_is_reported() -> None:
    document = example_document()
    document["inputs"]["table"]["validators"].append({"kind": "task", "task": "check-price"})
    assert only_error(document) == {
        "loc": ["inputs", "table", "validators", 2, "task"],
        "msg": "unknown task 'check-price'",
    }


def test_a_validator_task_taking_one_input_of_the_same_kind_passes() -> None:
    document = example_document()
    document["inputs"]["table"]["validators"].append({"kind": "task", "task": "check-prices"})
    assert check(document) == []


def test_a_validator_task_must_take_the_inputs_kind() -> None:
    document = example_document()
    document["inputs"]["table"]["validators"].append({"kind": "task", "task": "save-file"})
    assert only_error(document) == {
        "loc": ["inputs", "table", "validators", 2, "task"],
        "msg": "task 'save-file' takes a file, but this input is a table",
    }


def test_a_validator_task_cannot_need_parameters() -> None:
    document = example_document()
    document["inputs"]["table"]["validators"].append({"kind": "task", "task": "flag-outliers"})
    error = only_error(document)
    assert error["loc"] == ["inputs", "table", "validators", 2, "task"]
    assert error["msg"].endswith("needs parameters a validator cannot give: k")


def test_every_problem_is_reported_together() -> None:
    document = example_document()
    document["inputs"]["table"]["validators"].append({"kind": "task", "task": "nope"})
    document["steps"]["dedupe"]["task"] = "drop-duplicate"
    document["steps"]["dedupe"]["depends_on"] = ["flag", "ghost"]
    document["steps"]["flag"]["with"]["k"] = -5
    document["steps"]["flag"]["with"]["colour"] = "${params.colour}"
    document["outputs"]["result"] = "${steps.gone.outputs.table}"
    assert [e["loc"] for e in check(document)] == [
        ["inputs", "table", "validators", 2, "task"],
        ["steps", "dedupe", "task"],
        ["steps", "dedupe", "depends_on", 1],
        ["steps", "flag", "with", "k"],
        ["steps", "flag", "with", "colour"],
        ["steps", "dedupe", "depends_on"],
        ["outputs", "result"],
    ]


def test_each_separate_cycle_is_reported() -> None:
    document = example_document()
    document["steps"]["dedupe"]["depends_on"] = ["flag"]
    document["steps"]["a"] = {"task": "save-file", "depends_on": ["b"], "with": {}}
    document["steps"]["b"] = {
        "task": "save-file",
        "with": {"source": "${steps.a.outputs.copy}"},
    }
    errors = [e for e in check(document) if e["loc"][-1] == "depends_on"]
    assert [e["loc"] for e in errors] == [
        ["steps", "dedupe", "depends_on"],
        ["steps", "a", "depends_on"],
    ]
    assert "a -> b -> a" in errors[1]["msg"]


def test_checking_text_that_is_not_a_pipeline_returns_its_parse_errors() -> None:
    errors = check_pipeline_text("name: x\nsteps: {}\n", tasks())
    assert errors == [{"loc": ["steps"], "msg": "a pipeline needs at least one step"}]
