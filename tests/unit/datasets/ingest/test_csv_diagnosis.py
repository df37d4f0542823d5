"""A CSV DuckDB refuses is re-read in Python to name the line that breaks it, and why."""

from __future__ import annotations

from datamill.datasets.sniff import SAMPLE_BYTES
from datamill.problems import Invalid
from tests.unit.datasets.ingest.files import (
    Lab,
    numbered_lines,
)


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


def test_a_long_line_after_the_first_is_found_by_the_diagnostic(lab: Lab) -> None:
    data = b"a,b\n1,2\n3," + b"y" * (3 * 1024 * 1024) + b"\n5,6\n"
    assert lab.fails(Invalid, "long.csv", data) == "Line 3 is 3.0 MB long; the limit is 2.0 MB."


def test_an_unterminated_quote_names_the_line_where_it_opens(lab: Lab) -> None:
    data = b'a,b\n1,"two\n3,4\n5,6\n'
    assert (
        lab.fails(Invalid, "quotes.csv", data)
        == "Line 2 opens a quoted field that is never closed."
    )
