"""Encodings: detected or named, transcoded to UTF-8, bad bytes located, non-text codecs refused."""

from __future__ import annotations

import pytest

from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
    csv_bytes,
    numbered_lines,
)


def test_bytes_invalid_for_the_declared_encoding_name_the_line(lab: Lab) -> None:
    data = "name\nplain\nZoë\n".encode()
    detail = lab.fails(Invalid, "names.csv", data, encoding="ascii")
    assert detail.startswith("Line 3 is not valid ASCII (byte 0xc3 at column 3).")


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


def test_a_transcoded_file_leaves_no_scratch_file_behind(lab: Lab) -> None:
    lab.ingest(
        "wide.csv", b"\xff\xfe" + (b"a,b,c\n" + numbered_lines(2000)).decode().encode("utf-16-le")
    )
    assert lab.scratch_files() == []


NOT_TEXT_ENCODINGS = [
    "base64",
    "rot13",
    "hex",
    "zlib",
    "bz2",
    "uu",
    "quopri",
    "idna",
    "punycode",
    "undefined",
]


@pytest.mark.parametrize("encoding", NOT_TEXT_ENCODINGS)
@pytest.mark.parametrize(("name", "data"), [("a.csv", b"a,b\n1,2\n"), ("a.json", b'[{"a": 1}]')])
def test_a_codec_that_is_not_a_text_encoding_is_refused(
    lab: Lab, encoding: str, name: str, data: bytes
) -> None:
    detail = lab.fails(Invalid, name, data, encoding=encoding)
    assert detail.startswith(f'"{encoding}" is not a text encoding')
