"""Reading YAML or JSON into JSON values: one meaning in both syntaxes, and clear refusals."""

from __future__ import annotations

import json

import pytest

from datamill.pipelines.documents import load_document
from datamill.pipelines.errors import SpecError


def test_yaml_scalars_follow_json_not_yaml_1_1() -> None:
    document = load_document(
        "a: yes\nb: on\nc: 1e3\nd: 012\ne: 2024-01-31\nf: true\ng: 1.5\nh: -3\ni: .inf\nj: ~\n"
    )
    assert document == {
        "a": "yes",
        "b": "on",
        "c": 1000.0,
        "d": "012",
        "e": "2024-01-31",
        "f": True,
        "g": 1.5,
        "h": -3,
        "i": ".inf",
        "j": None,
    }


def test_json_text_reads_as_json() -> None:
    value = {"a": [1, 2.5, None, True, "x\u00e9"], "b": {"c": 1e3}}
    assert load_document(json.dumps(value)) == value


@pytest.mark.parametrize(
    ("text", "loc", "msg_part"),
    [
        ("a: 1\na: 2\n", [], "line 2, column 1: duplicate key 'a'"),
        ('{"a": 1, "a": 2}', [], "duplicate key 'a'"),
        ("a: &x [1]\nb: *x\n", [], "anchors and aliases"),
        ("- 1\n- 2\n", [], "expected a mapping"),
        ("a: [1,\n", [], "not valid YAML or JSON: line 2"),
        ("a: !!binary aGk=\n", ["a"], "not a JSON value"),
        ("a: !!python/object/apply:os.system [ls]\n", [], "could not determine a constructor"),
        ("1: one\n", ["1"], "keys must be text"),
        ('{"a": NaN}', ["a"], "not a finite number"),
    ],
)
def test_what_json_cannot_hold_is_refused_with_its_place(
    text: str, loc: list[str | int], msg_part: str
) -> None:
    with pytest.raises(SpecError) as caught:
        load_document(text)
    [error] = caught.value.items
    assert error["loc"] == loc
    assert msg_part in error["msg"]
    assert caught.value.status == 422


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises(SpecError, match=r"nested too deeply|not valid"):
        load_document("a: " + "[" * 100_000 + "]" * 100_000)


def test_an_overlong_document_is_refused() -> None:
    with pytest.raises(SpecError, match="longer than"):
        load_document("a: " + "x" * 1_000_001)
