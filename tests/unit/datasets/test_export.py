"""Exports in every format: round trips, view order, limits, and temporary files cleaned up."""

from __future__ import annotations

import csv
import gc
import io
import json
import math
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datamill.datasets import export as export_module
from datamill.datasets.engine import Engine
from datamill.datasets.export import export
from datamill.datasets.query import columns_of
from datamill.datasets.values import to_records
from datamill.datasets.view import View, parse_view
from datamill.problems import Invalid

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("val", pa.float64()),
        ("ok", pa.bool_()),
        ("day", pa.date32()),
        ("at", pa.timestamp("us")),
        ("name", pa.string()),
    ]
)
COLUMNS = columns_of(SCHEMA)
ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "val": 1.5,
        "ok": True,
        "day": date(2024, 1, 31),
        "at": datetime(2024, 1, 31, 12),
        "name": "plain",
    },
    {
        "id": 2,
        "val": math.nan,
        "ok": False,
        "day": None,
        "at": datetime(2024, 2, 1, 0, 0, 0, 250),
        "name": 'comma, "quote"\nnewline',
    },
    {"id": 3, "val": math.inf, "ok": None, "day": date(1850, 5, 6), "at": None, "name": ""},
    {
        "id": 4,
        "val": -math.inf,
        "ok": True,
        "day": date(2024, 3, 1),
        "at": datetime(2024, 3, 1),
        "name": None,
    },
    {
        "id": None,
        "val": None,
        "ok": False,
        "day": date(2024, 3, 2),
        "at": datetime(2024, 3, 2),
        "name": "Zoë 日本\x07",
    },
    {
        "id": 2**62,
        "val": -0.25,
        "ok": True,
        "day": date(2024, 3, 3),
        "at": datetime(2024, 3, 3),
        "name": "b",
    },
]
SORTED = parse_view(
    '[{"column": "id", "desc": true}]', '[{"column": "ok", "op": "not_null"}]', None, COLUMNS
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = Engine("256MB", tmp_path_factory.mktemp("spill"), threads=2)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "t.parquet"
    pq.write_table(pa.Table.from_pylist(ROWS, schema=SCHEMA), path, row_group_size=4)
    return path


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The directory exports write their temporary files to; every test checks it ends empty."""
    return tmp_path / "scratch"


def body(engine: Engine, path: Path, view: View, fmt: str, scratch: Path) -> bytes:
    result = export(engine, path, COLUMNS, view, fmt, tmp_dir=scratch)
    data = b"".join(result.chunks)
    assert list(scratch.glob("*")) == [] if scratch.exists() else True
    return data


def expected_rows(view: View) -> list[dict[str, Any]]:
    if view == SORTED:
        kept = [row for row in ROWS if row["ok"] is not None]
        return sorted(kept, key=lambda row: (row["id"] is None, -(row["id"] or 0)))
    return ROWS


def grid_text(row: dict[str, Any]) -> list[str]:
    """A row as CSV text: the grid's encoding, with nulls as empty fields."""
    encoded = to_records(pa.Table.from_pylist([row], schema=SCHEMA))[0]
    return [
        "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
        for v in encoded.values()
    ]


@pytest.mark.parametrize("view", [View(), SORTED], ids=["identity", "sorted"])
def test_csv_has_a_header_and_the_grids_values_in_view_order(
    engine: Engine, table: Path, scratch: Path, view: View
) -> None:
    text = body(engine, table, view, "csv", scratch).decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed[0] == SCHEMA.names
    assert parsed[1:] == [grid_text(row) for row in expected_rows(view)]


def test_csv_is_rfc_4180_crlf_quoting_only_where_needed(
    engine: Engine, table: Path, scratch: Path
) -> None:
    text = body(engine, table, View(), "csv", scratch).decode("utf-8")
    assert text.startswith(
        "id,val,ok,day,at,name\r\n1,1.5,true,2024-01-31,2024-01-31T12:00:00,plain\r\n"
    )
    assert '"comma, ""quote""\nnewline"' in text
    assert ",NaN," in text and ",Infinity," in text and ",-Infinity," in text
    assert '\r\n3,Infinity,,1850-05-06,,""\r\n' in text  # null is empty, empty text is ""


@pytest.mark.parametrize("view", [View(), SORTED], ids=["identity", "sorted"])
def test_json_is_an_array_of_records_encoded_like_the_grid(
    engine: Engine, table: Path, scratch: Path, view: View
) -> None:
    data = body(engine, table, view, "json", scratch)
    expected = to_records(pa.Table.from_pylist(expected_rows(view), schema=SCHEMA))
    assert json.loads(data) == expected


def test_identity_parquet_is_the_revision_file_itself(
    engine: Engine, table: Path, scratch: Path
) -> None:
    result = export(engine, table, COLUMNS, View(), "parquet", tmp_dir=scratch)
    assert b"".join(result.chunks) == table.read_bytes()
    assert table.exists()
    assert (result.media_type, result.extension) == ("application/vnd.apache.parquet", "parquet")


def test_a_view_exports_to_parquet_with_its_rows_and_types(
    engine: Engine, table: Path, scratch: Path
) -> None:
    data = body(engine, table, SORTED, "parquet", scratch)
    exported = pq.read_table(pa.BufferReader(data))
    assert exported.schema.names == SCHEMA.names and exported.schema.types == SCHEMA.types
    assert json.dumps(to_records(exported)) == json.dumps(
        to_records(pa.Table.from_pylist(expected_rows(SORTED), schema=SCHEMA))
    )


def test_a_subset_of_columns_never_sends_the_whole_revision(
    engine: Engine, table: Path, scratch: Path
) -> None:
    result = export(engine, table, COLUMNS[:2], View(), "parquet", tmp_dir=scratch)
    assert pq.read_table(pa.BufferReader(b"".join(result.chunks))).schema.names == ["id", "val"]


def test_xlsx_keeps_dates_and_numbers_and_text_where_excel_would_lose_information(
    engine: Engine, table: Path, scratch: Path
) -> None:
    data = body(engine, table, View(), "xlsx", scratch)
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == SCHEMA.names
    assert rows[1] == [1, 1.5, True, datetime(2024, 1, 31), datetime(2024, 1, 31, 12), "plain"]
    assert rows[2][1] == "NaN" and rows[3][1] == "Infinity" and rows[4][1] == "-Infinity"
    assert rows[3][3] == "1850-05-06"  # before Excel's calendar
    assert rows[5][5] == "Zoë 日本"  # control character dropped
    assert rows[6][0] == str(2**62)  # more digits than Excel keeps
    assert len(rows) == len(ROWS) + 1


def test_xlsx_of_a_view_follows_its_order(engine: Engine, table: Path, scratch: Path) -> None:
    data = body(engine, table, SORTED, "xlsx", scratch)
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet is not None
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [str(2**62), 4, 2, 1, None]


def test_xlsx_refuses_more_rows_than_a_sheet_holds_and_suggests_other_formats(
    engine: Engine, table: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "EXCEL_MAX_ROWS", 5)
    with pytest.raises(Invalid) as caught:
        export(engine, table, COLUMNS, View(), "xlsx", tmp_dir=scratch)
    assert "csv or parquet" in caught.value.detail and "6 rows" in caught.value.detail
    assert export(engine, table, COLUMNS, SORTED, "xlsx", tmp_dir=scratch).chunks is not None


def test_an_unknown_format_is_invalid_and_names_the_parameter(engine: Engine, table: Path) -> None:
    with pytest.raises(Invalid) as caught:
        export(engine, table, COLUMNS, View(), "docx")
    assert caught.value.errors == [
        {"loc": ["query", "format"], "msg": "expected one of csv, json, parquet, xlsx"}
    ]


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "xlsx"])
def test_an_empty_table_exports_a_valid_empty_file(
    engine: Engine, tmp_path: Path, scratch: Path, fmt: str
) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(SCHEMA.empty_table(), path)
    data = body(engine, path, SORTED, fmt, scratch)
    if fmt == "csv":
        assert data.decode().splitlines() == [",".join(SCHEMA.names)]
    elif fmt == "json":
        assert json.loads(data) == []
    elif fmt == "parquet":
        assert pq.read_table(pa.BufferReader(data)).num_rows == 0
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
        assert sheet is not None and len(list(sheet.iter_rows())) == 1


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "xlsx"])
def test_temporary_files_go_when_the_client_stops_reading(
    engine: Engine, table: Path, scratch: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "CHUNK_BYTES", 16)
    result = export(engine, table, COLUMNS, SORTED, fmt, tmp_dir=scratch)
    assert len(list(scratch.glob("*"))) == 1
    next(result.chunks)
    result.chunks.close()  # type: ignore[attr-defined]
    assert list(scratch.glob("*")) == []


def test_temporary_files_go_when_a_stream_is_dropped_unread(
    engine: Engine, table: Path, scratch: Path
) -> None:
    result = export(engine, table, COLUMNS, SORTED, "csv", tmp_dir=scratch)
    assert len(list(scratch.glob("*"))) == 1
    del result
    gc.collect()
    assert list(scratch.glob("*")) == []


def test_large_exports_stream_in_many_chunks(engine: Engine, tmp_path: Path, scratch: Path) -> None:
    path = tmp_path / "big.parquet"
    rows = pa.table({"n": pa.array(range(300_000), pa.int64())})
    pq.write_table(rows, path)
    chunks = list(
        export(engine, path, [{"name": "n", "type": "int"}], View(), "csv", tmp_dir=scratch).chunks
    )
    assert len(chunks) > 1 and max(len(chunk) for chunk in chunks) <= export_module.CHUNK_BYTES
    assert b"".join(chunks).count(b"\r\n") == 300_001


# -- formulas and cleanup --------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil","x")', "=1+", "@SUM(1)", "=A1:", "+1", "-2"]


def test_xlsx_writes_text_that_looks_like_a_formula_as_a_plain_string(
    engine: Engine, tmp_path: Path, scratch: Path
) -> None:
    path = tmp_path / "formulas.parquet"
    pq.write_table(pa.table({"=1+": pa.array(FORMULAS, pa.string())}), path)
    columns = columns_of(pq.read_schema(path))
    result = export(engine, path, columns, View(), "xlsx", tmp_dir=scratch)
    data = b"".join(result.chunks)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = [row[0] for row in sheet.iter_rows()]
    assert [(cell.value, cell.data_type) for cell in cells] == [
        (text, "s") for text in ["=1+", *FORMULAS]
    ]


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "xlsx"])
def test_cleanup_deletes_the_temporary_file_of_a_stream_left_half_read(
    engine: Engine, table: Path, scratch: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_module, "CHUNK_BYTES", 16)
    result = export(engine, table, COLUMNS, SORTED, fmt, tmp_dir=scratch)
    next(result.chunks)
    assert len(list(scratch.glob("*"))) == 1
    result.cleanup()
    assert list(scratch.glob("*")) == []
    result.cleanup()  # idempotent
    assert list(result.chunks) == []


def test_cleanup_of_the_revision_file_itself_keeps_it(
    engine: Engine, table: Path, scratch: Path
) -> None:
    result = export(engine, table, COLUMNS, View(), "parquet", tmp_dir=scratch)
    next(result.chunks)
    result.cleanup()
    result.cleanup()
    assert table.exists() and pq.read_table(table).num_rows == len(ROWS)
