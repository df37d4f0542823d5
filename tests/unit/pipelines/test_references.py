"""References: ${inputs.x}, ${params.y}, ${steps.a.outputs.z}, found with their paths, resolved."""

from __future__ import annotations

import pytest

from datamill.pipelines.references import (
    Reference,
    ReferenceSyntaxError,
    UnresolvedReference,
    find_references,
    is_literal,
    parse_template,
    reference_errors,
    resolve,
    single_reference,
)

TABLE = Reference("steps", "table", "dedupe")


def test_a_template_splits_into_text_and_references() -> None:
    assert parse_template("${inputs.x}") == [Reference("inputs", "x")]
    assert parse_template("k=${params.k}, t=${steps.dedupe.outputs.table}!") == [
        "k=",
        Reference("params", "k"),
        ", t=",
        TABLE,
        "!",
    ]
    assert parse_template("costs $5, no ref") == ["costs $5, no ref"]


def test_double_dollar_writes_a_literal_reference() -> None:
    assert parse_template("$${inputs.x} is how you write it") == ["${inputs.x} is how you write it"]
    assert single_reference("$${inputs.x}") is None


@pytest.mark.parametrize(
    "text",
    [
        "${inputs}",
        "${inputs.}",
        "${input.x}",
        "${steps.a.table}",
        "${steps.a.outputs}",
        "${ x }",
        "${",
    ],
)
def test_a_malformed_reference_is_a_syntax_error(text: str) -> None:
    with pytest.raises(ReferenceSyntaxError, match="expected"):
        parse_template(text)


def test_references_render_as_written() -> None:
    for text in ("${inputs.x}", "${params.k}", "${steps.dedupe.outputs.table}"):
        [reference] = parse_template(text)
        assert str(reference) == text


def test_single_reference_is_only_a_whole_value() -> None:
    assert single_reference("${params.k}") == Reference("params", "k")
    assert single_reference(" ${params.k}") is None
    assert single_reference(3) is None


def test_references_are_found_with_their_paths_in_nested_values() -> None:
    value = {
        "table": "${steps.dedupe.outputs.table}",
        "columns": ["city", "${params.col}"],
        "options": {"label": "k=${params.k} in ${inputs.name}", "${inputs.key}": 1},
    }
    assert find_references(value, ["with"]) == [
        (["with", "table"], TABLE),
        (["with", "columns", 1], Reference("params", "col")),
        (["with", "options", "label"], Reference("params", "k")),
        (["with", "options", "label"], Reference("inputs", "name")),
    ]
    assert not is_literal(value)
    assert is_literal({"a": ["$${inputs.x}", 1, None]})


def test_reference_errors_have_the_path_of_their_string() -> None:
    value = {"a": ["ok", "${nope}"], "b": {"c": "${params.k"}}
    assert [e["loc"] for e in reference_errors(value, ["with"])] == [
        ["with", "a", 1],
        ["with", "b", "c"],
    ]


def test_a_whole_reference_resolves_to_the_value_itself() -> None:
    resolved = resolve(
        {"k": "${params.k}", "opts": "${params.opts}", "t": "${steps.dedupe.outputs.table}"},
        inputs={},
        params={"k": 3, "opts": {"a": [1, 2]}},
        steps={"dedupe": {"table": {"revision": "r1"}}},
    )
    assert resolved == {"k": 3, "opts": {"a": [1, 2]}, "t": {"revision": "r1"}}


def test_embedded_references_are_interpolated_as_text() -> None:
    resolved = resolve(
        ["k=${params.k}", "${inputs.city}-${params.flag}", "${params.list}!", "$${params.k}"],
        inputs={"city": "Lyon"},
        params={"k": 2.5, "flag": True, "list": ["a", 1]},
        steps={},
    )
    assert resolved == ["k=2.5", "Lyon-true", '["a",1]!', "${params.k}"]


def test_resolve_leaves_its_argument_alone() -> None:
    value = {"k": ["${params.k}"]}
    resolve(value, inputs={}, params={"k": 1}, steps={})
    assert value == {"k": ["${params.k}"]}


def test_a_reference_without_a_value_says_which_and_where() -> None:
    with pytest.raises(UnresolvedReference) as caught:
        resolve(
            {"a": ["${steps.flag.outputs.table}"]}, inputs={}, params={}, steps={}, loc=["with"]
        )
    assert caught.value.reference == Reference("steps", "table", "flag")
    assert caught.value.loc == ["with", "a", 0]
