"""Ingest: every supported upload becomes a normalised Parquet file, or a precise problem.

Every input is generated here. Each failure case checks the status class, that the message names
the problem (and the line), and that neither ``out`` nor a temporary file is left behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datamill.datasets import ingest as ingest_module
from datamill.datasets.engine import Engine
from datamill.datasets.ingest import ROW_GROUP_SIZE, IngestOptions, IngestResult, ingest
from datamill.datasets.sniff import SAMPLE_BYTES
from datamill.problems import Invalid, Problem, UnsupportedMediaType

# --- fixtures ----------------------------------------------------------------------------------


@dataclass
class Lab:
    """One engine, one upload folder, one ``out`` and one scratch folder per test."""

    engine: Engine
    root: Path

    @property
    def out(self) -> Path:
        return self.root / "revision.parquet"

    @property
    def scratch(self) -> Path:
        return self.root / "scratch"

    def upload(self, name: str, data: bytes) -> Path:
        path = self.root / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def ingest(self, name: str, data: bytes, **options: Any) -> IngestResult:
        raw = self.upload(name, data)
        result = ingest(
            self.engine, raw, name, self.out, IngestOptions(**options), tmp_dir=self.scratch
        )
        assert self.out.exists()
        assert self.scratch_files() == []
        return result

    def fails(self, kind: type[Problem], name: str, data: bytes, **options: Any) -> str:
        """Ingest must raise exactly ``kind`` and leave nothing behind; returns the detail."""
        raw = self.upload(name, data)
        with pytest.raises(Problem) as caught:
            ingest(self.engine, raw, name, self.out, IngestOptions(**options), tmp_dir=self.scratch)
        assert type(caught.value) is kind, caught.value.detail
        assert not self.out.exists()
        assert self.scratch_files() == []
        return caught.value.detail

    def scratch_files(self) -> list[str]:
        return sorted(p.name for p in self.scratch.iterdir()) if self.scratch.exists() else []

    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = pq.read_table(self.out).to_pylist()
        return rows

    def schema(self) -> dict[str, pa.DataType]:
        return {field.name: field.type for field in pq.read_schema(self.out)}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    engine = Engine(memory_limit="1GB", temp_dir=tmp_path / "spill")
    yield Lab(engine, tmp_path)
    engine.close()


def csv_bytes(rows: list[list[Any]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def numbered_lines(count: int, start: int = 0) -> bytes:
    """``count`` lines of ``i,i*2,name_i`` — a body long enough to pass any sample."""
    return "".join(f"{i},{i * 2},name_{i}\n" for i in range(start, start + count)).encode()


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\r\n"])
def test_an_empty_or_blank_file_is_invalid(lab: Lab, data: bytes) -> None:
    assert lab.fails(Invalid, "empty.csv", data) == "The file is empty."


@pytest.mark.parametrize("name", ["empty.json", "empty.parquet", "empty.xlsx"])
def test_an_empty_file_is_invalid_whatever_its_extension(lab: Lab, name: str) -> None:
    assert lab.fails(Invalid, name, b"") == "The file is empty."


def test_binary_junk_named_csv_is_not_a_text_file(lab: Lab) -> None:
    detail = lab.fails(Invalid, "data.csv", bytes(range(256)) * 64)
    assert "does not look like a text file" in detail


def test_a_ragged_row_names_its_line_and_field_counts(lab: Lab) -> None:
    detail = lab.fails(Invalid, "ragged.csv", b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n")
    assert detail == "Line 3 has 4 fields; the header has 3."


def test_a_ragged_row_far_past_duckdbs_sample_is_found_by_the_diagnostic(lab: Lab) -> None:
    data = b"a,b,c\n" + numbered_lines(50_000) + b"1,2\n" + numbered_lines(10)
    detail = lab.fails(Invalid, "ragged.csv", data)
    assert detail == "Line 50002 has 2 fields; the header has 3."


def test_a_ragged_row_without_header_is_compared_with_the_first_line(lab: Lab) -> None:
    detail = lab.fails(Invalid, "ragged.csv", b"1,2\n3,4\n5,6,7\n", header=False)
    assert detail == "Line 3 has 3 fields; the first line has 2."


def test_invalid_utf8_after_the_sniff_sample_names_line_byte_and_column(lab: Lab) -> None:
    head = b"name,n\n" + b"abcdefghij,1\n" * (SAMPLE_BYTES // 13 + 100)
    lines_before = head.count(b"\n")
    data = head + b"caf\xe9,2\n" + b"ok,3\n"
    assert len(head) > SAMPLE_BYTES
    detail = lab.fails(Invalid, "accents.csv", data)
    assert detail.startswith(f"Line {lines_before + 1} is not valid UTF-8 (byte 0xe9 at column 4).")


def test_bytes_invalid_for_the_declared_encoding_name_the_line(lab: Lab) -> None:
    data = "name\nplain\nZoë\n".encode()
    detail = lab.fails(Invalid, "names.csv", data, encoding="ascii")
    assert detail.startswith("Line 3 is not valid ASCII (byte 0xc3 at column 3).")


def test_a_10_mb_single_line_is_refused_with_its_size(lab: Lab) -> None:
    data = b"x" * (10 * 1024 * 1024) + b"\n"
    detail = lab.fails(Invalid, "long.csv", data)
    assert detail == "Line 1 is 10.0 MB long; the limit is 2.0 MB."


def test_a_long_line_after_the_first_is_found_by_the_diagnostic(lab: Lab) -> None:
    data = b"a,b\n1,2\n3," + b"y" * (3 * 1024 * 1024) + b"\n5,6\n"
    assert lab.fails(Invalid, "long.csv", data) == "Line 3 is 3.0 MB long; the limit is 2.0 MB."


def test_an_unterminated_quote_names_the_line_where_it_opens(lab: Lab) -> None:
    data = b'a,b\n1,"two\n3,4\n5,6\n'
    assert (
        lab.fails(Invalid, "quotes.csv", data)
        == "Line 2 opens a quoted field that is never closed."
    )


@pytest.mark.parametrize("name", ["old.xls", "tool.exe"])
def test_unsupported_types_are_415_listing_what_is_supported(lab: Lab, name: str) -> None:
    detail = lab.fails(UnsupportedMediaType, name, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    assert "Datamill reads CSV" in detail and "Parquet" in detail


def test_xls_is_told_to_save_as_xlsx(lab: Lab) -> None:
    detail = lab.fails(UnsupportedMediaType, "old.xls", b"\xd0\xcf\x11\xe0" + bytes(512))
    assert "save it as .xlsx" in detail


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
    monkeypatch.setattr(ingest_module, "XLSX_MAX_UNPACKED", 1000)
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


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_a_truncated_parquet_file_is_invalid(lab: Lab) -> None:
    data = parquet_bytes(pa.table({"a": list(range(1000))}))
    detail = lab.fails(Invalid, "cut.parquet", data[: len(data) // 2])
    assert detail.startswith("The Parquet file is damaged")


def test_a_parquet_file_with_corrupt_pages_is_invalid(lab: Lab) -> None:
    data = bytearray(parquet_bytes(pa.table({"a": [f"value {i}" for i in range(1000)]})))
    data[8:400] = bytes(392)
    detail = lab.fails(Invalid, "corrupt.parquet", bytes(data))
    assert detail.startswith("The Parquet file is damaged")


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


def test_bad_options_are_invalid(lab: Lab) -> None:
    assert "not an encoding" in lab.fails(Invalid, "a.csv", b"a\n1\n", encoding="klingon")
    assert "delimiter must be one character" in lab.fails(
        Invalid, "a.csv", b"a\n1\n", delimiter="::"
    )


# --- CSV successes -----------------------------------------------------------------------------

ACCENTED = [["name", "city", "n"], ["Zoë", "Köln", "1"], ["André", "São Paulo", "2"]]


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (csv_bytes(ACCENTED), "utf-8"),
        (b"\xef\xbb\xbf" + csv_bytes(ACCENTED), "utf-8-sig"),
        (csv_bytes(ACCENTED, encoding="utf-16"), "utf-16"),
        (csv_bytes(ACCENTED, encoding="latin-1"), "cp1252"),
    ],
)
def test_text_encodings_are_detected_and_read(lab: Lab, encoded: bytes, encoding: str) -> None:
    result = lab.ingest("people.csv", encoded)
    assert result.details["encoding"] == encoding
    assert [c["name"] for c in result.columns] == ["name", "city", "n"]
    assert lab.rows() == [
        {"name": "Zoë", "city": "Köln", "n": 1},
        {"name": "André", "city": "São Paulo", "n": 2},
    ]


def test_cp1252_specials_and_undefined_bytes_are_kept(lab: Lab) -> None:
    data = "item,price\ncoffee,3 €\n“quoted”,4 €\n".encode("cp1252") + b"odd\x81,5\n"
    lab.ingest("prices.csv", data)
    assert [row["price"] for row in lab.rows()] == ["3 €", "4 €", "5"]
    assert lab.rows()[2]["item"] == "odd\x81"


def test_a_named_encoding_overrides_detection(lab: Lab) -> None:
    data = "name\nÃ©\n".encode("latin-1")  # valid UTF-8 bytes that mean "Ã©" in Latin-1
    result = lab.ingest("names.csv", data, encoding="latin-1")
    assert lab.rows() == [{"name": "Ã©"}]
    assert result.details["encoding"] == "iso8859-1"


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


TYPED = (
    b"i,f,b,d,t,s,mixed,tz\n"
    b"1,1.5,true,2024-01-31,2024-01-31 10:20:30,hello,1,2024-01-31T10:00:00+02:00\n"
    b"-2,2,false,2024-02-29,2024-02-29T23:59:59,world,x,2024-01-31T10:00:00Z\n"
    b",,,,,,,\n"
)


def test_each_type_is_inferred_and_stored_as_its_storage_type(lab: Lab) -> None:
    result = lab.ingest("typed.csv", TYPED)
    assert {c["name"]: c["type"] for c in result.columns} == {
        "i": "int",
        "f": "float",
        "b": "bool",
        "d": "date",
        "t": "timestamp",
        "s": "text",
        "mixed": "text",
        "tz": "timestamp",
    }
    schema = lab.schema()
    assert schema["i"] == pa.int64() and schema["f"] == pa.float64()
    assert schema["b"] == pa.bool_() and schema["d"] == pa.date32()
    assert schema["t"] == pa.timestamp("us") and schema["tz"] == pa.timestamp("us")
    assert schema["s"] == pa.string() and schema["mixed"] == pa.string()
    first, second, empty = lab.rows()
    assert first["t"] == dt.datetime(2024, 1, 31, 10, 20, 30)
    assert first["tz"] == dt.datetime(2024, 1, 31, 8, 0)
    assert second == {
        "i": -2,
        "f": 2.0,
        "b": False,
        "d": dt.date(2024, 2, 29),
        "t": dt.datetime(2024, 2, 29, 23, 59, 59),
        "s": "world",
        "mixed": "x",
        "tz": dt.datetime(2024, 1, 31, 10, 0),
    }
    assert set(empty.values()) == {None}


def test_a_late_type_change_makes_the_column_text_with_a_warning(lab: Lab) -> None:
    lines = [f"{i},{i}" for i in range(1, 40_001)]
    lines[29_999] = "30000,n/a"  # row 30,000 is on line 30,001
    result = lab.ingest("late.csv", ("id,count\n" + "\n".join(lines) + "\n").encode())
    assert {c["name"]: c["type"] for c in result.columns} == {"id": "int", "count": "text"}
    assert result.warnings == [
        'Column "count" is stored as text: it looked like int, but line 30001 holds "n/a".'
    ]
    assert result.row_count == 40_000
    assert lab.rows()[29_999] == {"id": 30_000, "count": "n/a"}


def test_lines_starting_with_hash_are_data_not_comments(lab: Lab) -> None:
    lab.ingest("tags.csv", b"tag,n\n#one,1\n#two,2\n")
    assert lab.rows() == [{"tag": "#one", "n": 1}, {"tag": "#two", "n": 2}]


def test_row_groups_never_exceed_row_group_size(lab: Lab) -> None:
    data = b"a,b,c\n" + numbered_lines(350_000)
    result = lab.ingest("many.csv", data)
    metadata = pq.read_metadata(lab.out)
    sizes = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
    assert result.row_count == sum(sizes) == 350_000
    assert len(sizes) >= 4 and max(sizes) <= ROW_GROUP_SIZE
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_a_transcoded_file_leaves_no_scratch_file_behind(lab: Lab) -> None:
    lab.ingest(
        "wide.csv", b"\xff\xfe" + (b"a,b,c\n" + numbered_lines(2000)).decode().encode("utf-16-le")
    )
    assert lab.scratch_files() == []


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


# --- Excel -------------------------------------------------------------------------------------


def workbook_bytes(rows: list[list[Any]], *, extra_sheet: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        other = book.create_sheet(extra_sheet)
        other.append(["other"])
        other.append(["value"])
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


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


# --- JSON --------------------------------------------------------------------------------------

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


# --- Parquet -----------------------------------------------------------------------------------


def test_parquet_types_are_normalised(lab: Lab) -> None:
    paris = dt.timezone(dt.timedelta(hours=2))
    table = pa.table(
        {
            "dec": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(10, 2)),
            "i32": pa.array([1, -2], pa.int32()),
            "f32": pa.array([1.1, 2.5], pa.float32()),
            "tz": pa.array(
                [dt.datetime(2024, 1, 1, 10, 0, tzinfo=paris), None], pa.timestamp("us", tz="UTC")
            ),
            "ns": pa.array([0, 1_000_000_000], pa.timestamp("ns")),
            "nested": pa.array([{"x": 1}, {"x": 2}]),
            "label": pa.array(["a", "b"]).dictionary_encode(),
        }
    )
    result = lab.ingest("typed.parquet", parquet_bytes(table))
    assert {c["name"]: c["type"] for c in result.columns} == {
        "dec": "float",
        "i32": "int",
        "f32": "float",
        "tz": "timestamp",
        "ns": "timestamp",
        "nested": "text",
        "label": "text",
    }
    schema = lab.schema()
    assert schema["dec"] == pa.float64() and schema["i32"] == pa.int64()
    assert schema["f32"] == pa.float64() and schema["tz"] == pa.timestamp("us")
    assert lab.rows()[0] == {
        "dec": 1.25,
        "i32": 1,
        "f32": 1.1,
        "tz": dt.datetime(2024, 1, 1, 8, 0),
        "ns": dt.datetime(1970, 1, 1),
        "nested": '{"x":1}',
        "label": "a",
    }


def test_parquet_column_names_are_cleaned(lab: Lab) -> None:
    table = pa.Table.from_arrays(
        [pa.array([1]), pa.array([2]), pa.array([3])], names=["a", "a", ""]
    )
    result = lab.ingest("dups.parquet", parquet_bytes(table))
    assert [c["name"] for c in result.columns] == ["a", "a_2", "column_3"]
    assert lab.rows() == [{"a": 1, "a_2": 2, "column_3": 3}]
    assert len(result.warnings) == 2


def test_parquet_is_rewritten_in_bounded_row_groups(lab: Lab) -> None:
    table = pa.table({"n": pa.array(range(250_000), pa.int32())})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=250_000)
    result = lab.ingest("big.parquet", sink.getvalue())
    metadata = pq.read_metadata(lab.out)
    assert result.row_count == 250_000
    assert all(
        metadata.row_group(i).num_rows <= ROW_GROUP_SIZE for i in range(metadata.num_row_groups)
    )
