"""Format detection: the extension says what the user meant, the first bytes what the file is."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datamill.datasets.formats import detect_format, extension
from datamill.problems import Invalid, UnsupportedMediaType


def write(tmp_path: Path, data: bytes, name: str = "upload.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2]}), sink)
    return sink.getvalue()


def zip_bytes(*members: str) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        for member in members:
            archive.writestr(member, "<x/>")
    return sink.getvalue()


WORKBOOK = zip_bytes("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("a.csv", b"a,b\n1,2\n", "csv"),
        ("a.txt", b"a,b\n1,2\n", "csv"),
        ("a.tsv", b"a\tb\n1\t2\n", "tsv"),
        ("a.tab", b"a\tb\n1\t2\n", "tsv"),
        ("a.xlsx", WORKBOOK, "xlsx"),
        ("a.json", b'[{"a": 1}]', "json"),
        ("a.jsonl", b'{"a": 1}\n', "json"),
        ("a.ndjson", b'{"a": 1}\n', "json"),
        ("a.parquet", parquet_bytes(), "parquet"),
        ("a.pq", parquet_bytes(), "parquet"),
        ("A.CSV", b"a\n1\n", "csv"),
    ],
)
def test_each_supported_extension_maps_to_its_format(
    tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    assert detect_format(write(tmp_path, data), name) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (parquet_bytes(), "parquet"),
        (WORKBOOK, "xlsx"),
        (b'  [{"a": 1}]', "json"),
        (b'{"a": 1}\n{"a": 2}\n', "json"),
        ("\ufeff[]".encode(), "json"),
        (b"a,b\n1,2\n", "csv"),
        ("a;b\né;2\n".encode("utf-16"), "csv"),
    ],
)
def test_a_name_without_extension_is_recognised_by_content(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    assert detect_format(write(tmp_path, data), "upload") == expected


@pytest.mark.parametrize(("data", "expected"), [(parquet_bytes(), "parquet"), (WORKBOOK, "xlsx")])
def test_a_binary_table_named_csv_is_read_as_what_it_is(
    tmp_path: Path, data: bytes, expected: str
) -> None:
    assert detect_format(write(tmp_path, data), "export.csv") == expected


def test_an_old_workbook_named_csv_is_refused_with_advice(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(UnsupportedMediaType, match=r"save it as \.xlsx"):
        detect_format(path, "export.csv")


def test_an_unknown_extension_is_recognised_by_content(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path, b"x|y\n1|2\n"), "export.dat") == "csv"


def test_xls_is_refused_with_advice_to_save_as_xlsx(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(UnsupportedMediaType) as caught:
        detect_format(path, "budget.xls")
    assert "save it as .xlsx" in caught.value.detail
    assert "Parquet" in caught.value.detail and "CSV" in caught.value.detail


@pytest.mark.parametrize("name", ["setup.exe", "photo.png", "sheet.ods", "survey.sav", "a.tar.gz"])
def test_known_unsupported_types_are_refused_with_the_supported_list(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        detect_format(write(tmp_path, b"MZ" + bytes(100)), name)
    assert f'"{name}"' in caught.value.detail
    assert "Excel (.xlsx)" in caught.value.detail


def test_an_old_xls_workbook_without_extension_is_refused_by_its_signature(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(UnsupportedMediaType, match=r"save it as \.xlsx"):
        detect_format(path, "upload")


def test_binary_content_without_extension_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType, match="binary data"):
        detect_format(write(tmp_path, bytes(range(256)) * 4), "upload")


def test_a_zip_that_is_not_a_workbook_is_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedMediaType, match="zip archive"):
        detect_format(write(tmp_path, zip_bytes("data.csv")), "upload")


def test_an_xlsx_name_on_a_non_zip_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="not an Excel workbook"):
        detect_format(write(tmp_path, b"a,b\n1,2\n"), "report.xlsx")


def test_a_parquet_name_without_the_par1_signature_is_invalid(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match='does not start with "PAR1"'):
        detect_format(write(tmp_path, b"a,b\n1,2\n"), "data.parquet")


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("data.CSV", ".csv"),
        ("C:\\Users\\me\\data.tsv", ".tsv"),
        ("dir/sub/data.json", ".json"),
        ("data", ""),
        (".hidden", ""),
        ("archive.tar.gz", ".gz"),
    ],
)
def test_extension_ignores_case_and_any_client_path(filename: str, expected: str) -> None:
    assert extension(filename) == expected
