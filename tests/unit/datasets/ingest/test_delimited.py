"""CSV and TSV: binary junk, bad options, delimiters, headers, column names, a round trip."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.datasets.engine import Engine
from datamill.datasets.ingest import IngestOptions, ingest
from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
    csv_bytes,
)


def test_binary_junk_named_csv_is_not_a_text_file(lab: Lab) -> None:
    detail = lab.fails(Invalid, "data.csv", bytes(range(256)) * 64)
    assert "does not look like a text file" in detail


def test_bad_options_are_invalid(lab: Lab) -> None:
    assert "not an encoding" in lab.fails(Invalid, "a.csv", b"a\n1\n", encoding="klingon")
    assert "delimiter must be one character" in lab.fails(
        Invalid, "a.csv", b"a\n1\n", delimiter="::"
    )


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(lab: Lab, delimiter: str) -> None:
    rows: list[list[Any]] = [
        ["id", "label", "score"],
        [1, "a, b; c", 0.5],
        [2, "d|e", 1.5],
        [3, "f\tg", 2.5],
    ]
    result = lab.ingest("table.txt", csv_bytes(rows, delimiter))
    assert result.details["delimiter"] == delimiter
    assert lab.rows()[0] == {"id": 1, "label": "a, b; c", "score": 0.5}


def test_a_tsv_file_is_read_with_tabs(lab: Lab) -> None:
    result = lab.ingest("table.tsv", b"a\tb\n1,5\t2\n")
    assert result.format == "tsv"
    assert lab.rows() == [{"a": "1,5", "b": 2}]


def test_a_given_delimiter_wins(lab: Lab) -> None:
    lab.ingest("table.csv", b"a;b,c\n1;2,3\n", delimiter="semicolon")
    assert lab.rows() == [{"a": 1, "b,c": "2,3"}]


def test_a_header_is_detected(lab: Lab) -> None:
    result = lab.ingest("h.csv", b"id,price\n1,2.5\n2,3.5\n")
    assert result.details["header"] is True
    assert lab.rows() == [{"id": 1, "price": 2.5}, {"id": 2, "price": 3.5}]


def test_a_file_without_header_gets_numbered_column_names(lab: Lab) -> None:
    result = lab.ingest("h.csv", b"1,2.5\n2,3.5\n")
    assert result.details["header"] is False
    assert result.warnings == []
    assert lab.rows() == [{"column_1": 1, "column_2": 2.5}, {"column_1": 2, "column_2": 3.5}]


def test_the_header_option_overrides_detection(lab: Lab) -> None:
    lab.ingest("h.csv", b"name,city\nann,paris\n", header=False)
    assert lab.rows() == [
        {"column_1": "name", "column_2": "city"},
        {"column_1": "ann", "column_2": "paris"},
    ]


def test_a_header_only_csv_is_a_valid_empty_dataset(lab: Lab) -> None:
    result = lab.ingest("h.csv", b"a,b,c\n")
    assert result.row_count == 0
    assert [c["name"] for c in result.columns] == ["a", "b", "c"]
    assert pq.read_metadata(lab.out).num_rows == 0


def test_duplicate_and_empty_column_names_are_renamed_with_warnings(lab: Lab) -> None:
    result = lab.ingest("names.csv", b"id,val,,val, name \n1,2,3,4,5\n")
    assert [c["name"] for c in result.columns] == ["id", "val", "column_3", "val_2", "name"]
    assert result.warnings == [
        'Column 3 had no name; it is called "column_3".',
        'Column 4 repeats the name "val"; it is called "val_2".',
        'Column 5 had spaces around its name; it is called "name".',
    ]
    assert lab.rows() == [{"id": 1, "val": 2, "column_3": 3, "val_2": 4, "name": 5}]


def test_lines_starting_with_hash_are_data_not_comments(lab: Lab) -> None:
    lab.ingest("tags.csv", b"tag,n\n#one,1\n#two,2\n")
    assert lab.rows() == [{"tag": "#one", "n": 1}, {"tag": "#two", "n": 2}]


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine(memory_limit="1GB", temp_dir=tmp_path_factory.mktemp("spill"))
    yield engine
    engine.close()


WORDS = st.text(alphabet="abcxyz ,;|\"'\n\té", min_size=0, max_size=12).map(lambda s: "w" + s)


TABLE_ROWS = st.lists(
    st.tuples(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        WORDS,
    ),
    min_size=1,
    max_size=30,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=TABLE_ROWS)
def test_csv_round_trip_of_int_float_text_tables(shared_engine: Engine, rows: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        raw = root / "t.csv"
        raw.write_bytes(csv_bytes([["i", "f", "t"], *[[i, repr(f), t] for i, f, t in rows]]))
        result = ingest(
            shared_engine, raw, "t.csv", root / "o.parquet", IngestOptions(), tmp_dir=root / "s"
        )
        assert [c["type"] for c in result.columns] == ["int", "float", "text"]
        back = pq.read_table(root / "o.parquet").to_pylist()
    assert [(r["i"], r["f"], r["t"]) for r in back] == [(i, f, t) for i, f, t in rows]
    assert all(not math.isnan(r["f"]) for r in back)
