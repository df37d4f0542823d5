"""Sniffing a text table from a sample: encoding, binary junk, delimiter, header, column names."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datamill.datasets.sniff import (
    SAMPLE_BYTES,
    TEXT_ENCODINGS,
    Encoding,
    check_text,
    clean_names,
    decode_sample,
    detect_delimiter,
    detect_encoding,
    detect_header,
    named_encoding,
    parse_rows,
)
from datamill.problems import Invalid

TEXT = "name,city\nZoë,Köln\nAndré,São Paulo\n"


@pytest.mark.parametrize(
    ("data", "name", "codec", "bom"),
    [
        (codecs.BOM_UTF8 + TEXT.encode(), "utf-8-sig", "utf-8", 3),
        (TEXT.encode("utf-16"), "utf-16", "utf-16-le", 2),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16", "utf-16-be", 2),
        (TEXT.encode("utf-32"), "utf-32", "utf-32-le", 4),
        (TEXT.encode("utf-16-le"), "utf-16-le", "utf-16-le", 0),
        (TEXT.encode("utf-16-be"), "utf-16-be", "utf-16-be", 0),
        (TEXT.encode("utf-8"), "utf-8", "utf-8", 0),
        (b"plain,ascii\n1,2\n", "utf-8", "utf-8", 0),
        (TEXT.encode("cp1252") + "price €\n".encode("cp1252"), "cp1252", "cp1252", 0),
        (b"a,b\n\x81\xe9,2\n", "cp1252", "cp1252", 0),
    ],
)
def test_detect_encoding_reads_boms_nul_patterns_utf8_and_8bit(
    data: bytes, name: str, codec: str, bom: int
) -> None:
    assert detect_encoding(data, complete=True) == Encoding(name, codec, bom)


def test_a_multibyte_character_cut_by_the_sample_end_is_still_utf8() -> None:
    sample = ("x" * 10 + "é").encode()[:-1]
    assert detect_encoding(sample, complete=False).is_utf8
    assert not detect_encoding(sample, complete=True).is_utf8


def test_named_encoding_skips_a_bom_of_the_same_encoding() -> None:
    assert named_encoding("UTF8", codecs.BOM_UTF8 + b"a") == Encoding("utf-8-sig", "utf-8", 3)
    assert named_encoding("utf-16", TEXT.encode("utf-16-be")) == Encoding("utf-16", "utf-16-be")
    assert named_encoding("latin1", b"a").codec == "iso8859-1"


def test_named_encoding_refuses_an_unknown_name() -> None:
    with pytest.raises(Invalid, match='"klingon-8" is not an encoding'):
        named_encoding("klingon-8", b"a")


@pytest.mark.parametrize("name", ["utf-8\x00", "\x00", "utf_8\ud800"])
def test_named_encoding_refuses_a_name_with_a_nul_or_a_lone_surrogate(name: str) -> None:
    with pytest.raises(Invalid, match="is not an encoding"):
        named_encoding(name, b"a")


@pytest.mark.parametrize(
    "name",
    [
        *("base64", "rot13", "hex", "zlib", "bz2", "uu", "quopri", "idna", "punycode", "undefined"),
        *("unicode_escape", "raw_unicode_escape", "charmap", "base64_codec", "ROT-13"),
    ],
)
def test_named_encoding_refuses_a_codec_that_is_not_a_text_encoding(name: str) -> None:
    with pytest.raises(Invalid) as caught:
        named_encoding(name, b"a,b\n1,2\n")
    assert caught.value.status == 422
    assert caught.value.detail.startswith(f'"{name}" is not a text encoding')


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("latin1", "iso8859-1"),
        ("ISO-8859-15", "iso8859-15"),
        ("windows-1252", "cp1252"),
        ("cp1251", "cp1251"),
        ("mac-roman", "mac-roman"),
        ("koi8-r", "koi8-r"),
        ("sjis", "shift_jis"),
        ("euc-jp", "euc_jp"),
        ("gb18030", "gb18030"),
        ("big5", "big5"),
        ("utf-16-le", "utf-16-le"),
        ("UTF-32", "utf-32-le"),
    ],
)
def test_named_encoding_accepts_text_encodings_by_any_alias(name: str, codec: str) -> None:
    assert named_encoding(name, b"a").codec == codec


def test_every_allowed_encoding_is_a_canonical_python_text_codec() -> None:
    for name in TEXT_ENCODINGS:
        info = codecs.lookup(name)
        assert info.name == name and info._is_text_encoding, name


@pytest.mark.parametrize(
    "data", [b"a,b\n1,\x002\n", bytes(range(256)), b"\x01\x02\x03\x04" * 10 + b"a,b\n"]
)
def test_check_text_refuses_nul_bytes_and_control_characters(data: bytes) -> None:
    with pytest.raises(Invalid, match="does not look like a text file"):
        check_text(data, detect_encoding(data, complete=True))


@pytest.mark.parametrize("data", [TEXT.encode("utf-16"), TEXT.encode("utf-16-le"), b"a\tb\r\n"])
def test_check_text_accepts_text_including_utf16(data: bytes) -> None:
    check_text(data, detect_encoding(data, complete=True))


def test_decode_sample_drops_the_cut_last_line_and_the_bom() -> None:
    data = codecs.BOM_UTF8 + b"a,b\n1,2\n3,"
    encoding = detect_encoding(data, complete=False)
    assert decode_sample(data, encoding, complete=False) == "a,b\n1,2\n"
    assert decode_sample(data, encoding, complete=True) == "a,b\n1,2\n3,"


def test_sample_size_is_a_small_fixed_constant() -> None:
    assert SAMPLE_BYTES == 64 * 1024


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_detect_delimiter_finds_each_candidate(delimiter: str) -> None:
    rows = [["id", "name", "note"], ["1", "a b", "x"], ["2", "c", "y, z; w"]]
    text = "".join(delimiter.join(f'"{v}"' if "," in v else v for v in row) + "\n" for row in rows)
    assert detect_delimiter(text) == delimiter


def test_detect_delimiter_prefers_the_consistent_split_over_decimal_commas() -> None:
    assert detect_delimiter("price;qty\n1,5;2\n2,25;3\n3,0;4\n") == ";"


def test_detect_delimiter_ignores_delimiters_inside_quotes() -> None:
    assert detect_delimiter('a|b\n"x, y, z"|1\n"p, q"|2\n') == "|"


def test_a_single_column_file_gets_the_comma() -> None:
    assert detect_delimiter("value\n1\n2\n3\n") == ","


def test_parse_rows_skips_blank_lines_and_keeps_quoted_newlines() -> None:
    assert parse_rows('a,b\n\n1,"x\ny"\n', ",") == [["a", "b"], ["1", "x\ny"]]


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("id,price,when\n1,2.5,2024-01-01\n2,3,2024-01-02\n", True),
        ("1,2.5,2024-01-01\n2,3,2024-01-02\n", False),
        ("1,2,true\n3,4.5,false\n", False),
        ("name,city\nann,paris\nbob,rome\n", True),
        ("a,b,c\n", True),
        ("x,2024-01-01\ny,2024-01-02 10:00\n", False),
        ("2020,2021\n5,6\n", False),
        ("id,name\n1,\n2,bob\n", True),
    ],
)
def test_detect_header_unless_the_first_row_looks_like_the_data(text: str, header: bool) -> None:
    assert detect_header(parse_rows(text, ",")) is header


def test_clean_names_renames_empty_and_duplicate_names_with_warnings() -> None:
    names, warnings = clean_names(["id", " name ", "", "val", "val", "VAL", "val_2"])
    assert names == ["id", "name", "column_3", "val", "val_2", "VAL_3", "val_2_2"]
    assert warnings == [
        'Column 2 had spaces around its name; it is called "name".',
        'Column 3 had no name; it is called "column_3".',
        'Column 5 repeats the name "val"; it is called "val_2".',
        'Column 6 repeats the name "VAL"; it is called "VAL_3".',
        'Column 7 repeats the name "val_2"; it is called "val_2_2".',
    ]


def test_clean_names_leaves_good_names_alone() -> None:
    assert clean_names(["a", "b", "c d"]) == (["a", "b", "c d"], [])


@given(st.lists(st.sampled_from(["", " ", "a", "A", "a_2", "column_1", " b"]) | st.text()))
def test_clean_names_always_gives_unique_non_empty_stripped_names(raw: list[str]) -> None:
    names, warnings = clean_names(raw)
    assert len(names) == len(raw)
    assert all(name and name == name.strip() for name in names)
    assert len({name.lower() for name in names}) == len(names)
    assert len(warnings) >= sum(1 for old, new in zip(raw, names, strict=True) if old != new)
