"""JSON: arrays of records and JSON Lines read; other shapes and broken JSON refused by line."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
)


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"42", "number"), (b'"text"', "string"), (b"true", "boolean"), (b"null", "null")],
)
def test_a_json_scalar_is_invalid_and_explains_the_expected_shape(
    lab: Lab, data: bytes, kind: str
) -> None:
    detail = lab.fails(Invalid, "value.json", data)
    assert detail.startswith(f"The file holds a single JSON {kind}, not records.")
    assert "array of objects" in detail and "JSON Lines" in detail


def test_a_json_array_of_non_objects_is_invalid(lab: Lab) -> None:
    detail = lab.fails(Invalid, "list.json", b"[1, 2, 3]")
    assert detail.startswith("The JSON array holds number values, not records.")


def test_an_empty_json_array_is_invalid(lab: Lab) -> None:
    assert "empty JSON array" in lab.fails(Invalid, "none.json", b"  []  ")


def test_malformed_json_array_names_the_line(lab: Lab) -> None:
    data = b'[\n  {"a": 1},\n  {"a": 2,,},\n  {"a": 3}\n]\n'
    detail = lab.fails(Invalid, "bad.json", data)
    assert detail == (
        "Line 3 is not valid JSON: Expecting property name enclosed in double quotes (column 11)."
    )


def test_malformed_json_lines_name_the_line(lab: Lab) -> None:
    data = b'{"a": 1}\n{"a": 2}\n{"a": 3\n{"a": 4}\n'
    detail = lab.fails(Invalid, "bad.jsonl", data)
    assert detail.startswith("Line 3 is not valid JSON:")


def test_json_that_mixes_records_and_values_is_invalid(lab: Lab) -> None:
    assert "could not be turned into columns" in lab.fails(Invalid, "mix.json", b'[{"a": 1}, 2]')


RECORDS = [
    {"id": 1, "name": "a", "score": 1.5, "ok": True, "day": "2024-01-02", "tags": ["x", "y"]},
    {"id": 2, "name": "b", "score": None, "ok": False, "day": "2024-01-03", "meta": {"k": 1}},
]


def test_a_json_array_of_records_is_read(lab: Lab) -> None:
    result = lab.ingest("records.json", json.dumps(RECORDS, indent=2).encode())
    assert result.details["layout"] == "array"
    assert {c["name"]: c["type"] for c in result.columns} == {
        "id": "int",
        "name": "text",
        "score": "float",
        "ok": "bool",
        "day": "date",
        "tags": "text",
        "meta": "text",
    }
    first, second = lab.rows()
    assert first["tags"] == '["x","y"]' and first["meta"] is None
    assert second["meta"] == '{"k":1}' and second["day"] == dt.date(2024, 1, 3)


def test_json_lines_are_read(lab: Lab) -> None:
    data = "\n".join(json.dumps(r) for r in RECORDS).encode()
    result = lab.ingest("records.jsonl", data)
    assert result.details["layout"] == "lines" and result.row_count == 2
    assert [row["id"] for row in lab.rows()] == [1, 2]


def test_json_mixed_values_and_timezones_are_normalised(lab: Lab) -> None:
    data = b'[{"v": 1, "at": "2024-01-01T10:00:00+02:00"}, {"v": "x", "at": null}, {"v": {"a": 1}}]'
    result = lab.ingest("mixed.json", data)
    assert {c["name"]: c["type"] for c in result.columns} == {"v": "text", "at": "timestamp"}
    assert [row["v"] for row in lab.rows()] == ["1", "x", '{"a":1}']
    assert lab.rows()[0]["at"] == dt.datetime(2024, 1, 1, 8, 0)


def test_json_with_a_bom_and_utf16_is_read(lab: Lab) -> None:
    lab.ingest("bom.json", b"\xef\xbb\xbf" + json.dumps(RECORDS).encode())
    assert len(lab.rows()) == 2
    lab.out.unlink()
    lab.ingest("wide.json", json.dumps(RECORDS).encode("utf-16"))
    assert len(lab.rows()) == 2


def test_json_keys_are_cleaned(lab: Lab) -> None:
    result = lab.ingest("keys.json", b'[{" a ": 1, "b": 2}]')
    assert [c["name"] for c in result.columns] == ["a", "b"]
    assert result.warnings == ['Column 1 had spaces around its name; it is called "a".']
