"""Excel: damaged workbooks and zip bombs refused, sheets read with typed cells."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl
import pytest

from datamill.datasets.ingest import xlsx as xlsx_module
from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
    workbook_bytes,
)


def zip_bomb() -> bytes:
    """A workbook whose sheet is 200 MB of zeros, compressed to about 200 KB."""
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            zeros = bytes(1024 * 1024)
            for _ in range(200):
                member.write(zeros)
    return sink.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_unpacking(lab: Lab) -> None:
    data = zip_bomb()
    assert len(data) < 2 * 1024 * 1024
    detail = lab.fails(Invalid, "bomb.xlsx", data)
    assert "zip bomb" in detail and "xl/worksheets/sheet1.xml" in detail


def test_an_xlsx_that_unpacks_past_the_total_limit_is_refused(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx_module, "XLSX_MAX_UNPACKED", 1000)
    detail = lab.fails(Invalid, "big.xlsx", workbook_bytes([["a"], ["x" * 2000]]))
    assert "would unpack to" in detail and "zip bomb" in detail


def test_a_damaged_xlsx_is_invalid(lab: Lab) -> None:
    data = workbook_bytes([["a"], [1]])
    detail = lab.fails(Invalid, "broken.xlsx", data[: len(data) // 2])
    assert "workbook is damaged" in detail


def test_a_zip_that_is_not_a_workbook_is_invalid_when_named_xlsx(lab: Lab) -> None:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert "not an Excel workbook" in lab.fails(Invalid, "notes.xlsx", sink.getvalue())


def test_an_unknown_sheet_lists_the_sheets(lab: Lab) -> None:
    data = workbook_bytes([["a"], [1]], extra_sheet="Other")
    detail = lab.fails(Invalid, "book.xlsx", data, sheet="Missing")
    assert detail == 'The workbook has no sheet named "Missing"; its sheets are "Data", "Other".'


def test_an_empty_sheet_is_an_empty_file(lab: Lab) -> None:
    assert lab.fails(Invalid, "blank.xlsx", workbook_bytes([])) == "The file is empty."


def test_xlsx_numbers_dates_and_strings_are_typed(lab: Lab) -> None:
    rows: list[list[Any]] = [
        ["id", "price", "day", "at", "name", "ok"],
        [1, 2.5, dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 5), "alpha", True],
        [2, 3.0, dt.date(2024, 2, 3), dt.datetime(2024, 2, 3, 0, 0, 0), "beta, gamma", False],
        [],
        [3, None, None, None, 'say "hi"\nthere', None],
    ]
    result = lab.ingest("book.xlsx", workbook_bytes(rows))
    assert result.format == "xlsx" and result.details["sheet"] == "Data"
    assert {c["name"]: c["type"] for c in result.columns} == {
        "id": "int",
        "price": "float",
        "day": "date",
        "at": "timestamp",
        "name": "text",
        "ok": "bool",
    }
    assert lab.rows() == [
        {
            "id": 1,
            "price": 2.5,
            "day": dt.date(2024, 1, 2),
            "at": dt.datetime(2024, 1, 2, 3, 4, 5),
            "name": "alpha",
            "ok": True,
        },
        {
            "id": 2,
            "price": 3.0,
            "day": dt.date(2024, 2, 3),
            "at": dt.datetime(2024, 2, 3),
            "name": "beta, gamma",
            "ok": False,
        },
        {"id": 3, "price": None, "day": None, "at": None, "name": 'say "hi"\nthere', "ok": None},
    ]


def test_xlsx_reads_the_named_sheet(lab: Lab) -> None:
    result = lab.ingest(
        "book.xlsx", workbook_bytes([["a"], [1]], extra_sheet="Other"), sheet="Other"
    )
    assert result.details["sheet"] == "Other"
    assert lab.rows() == [{"other": "value"}]


def test_xlsx_column_names_are_cleaned_and_short_rows_padded(lab: Lab) -> None:
    rows: list[list[Any]] = [["id", None, "id"], [1, 2, 3], [4], [5, 6, 7, 8]]
    result = lab.ingest("book.xlsx", workbook_bytes(rows))
    assert [c["name"] for c in result.columns] == ["id", "column_2", "id_2", "column_4"]
    assert len(result.warnings) == 3
    assert lab.rows()[1] == {"id": 4, "column_2": None, "id_2": None, "column_4": None}


def test_xlsx_table_may_start_away_from_a1(lab: Lab) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["C3"], sheet["D3"], sheet["C4"], sheet["D4"], sheet["D6"] = "a", "b", 1, 2, 5
    sink = io.BytesIO()
    book.save(sink)
    result = lab.ingest("offset.xlsx", sink.getvalue())
    assert result.warnings == []
    assert lab.rows() == [{"a": 1, "b": 2}, {"a": None, "b": 5}]


def test_xlsx_late_type_change_warning_names_the_sheet_row(lab: Lab) -> None:
    rows: list[list[Any]] = [["n"], *[[i] for i in range(25_000)], [], ["oops"]]
    result = lab.ingest("book.xlsx", workbook_bytes(rows))
    assert result.columns == [{"name": "n", "type": "text"}]
    assert result.warnings == [
        'Column "n" is stored as text: it looked like int, but row 25003 holds "oops".'
    ]
