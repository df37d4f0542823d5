"""The entry point: an empty upload whatever its name, and file types refused before any reader."""

from __future__ import annotations

import pytest

from datamill.problems import Invalid, UnsupportedMediaType
from tests.unit.datasets.ingest.files import (
    Lab,
)


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\r\n"])
def test_an_empty_or_blank_file_is_invalid(lab: Lab, data: bytes) -> None:
    assert lab.fails(Invalid, "empty.csv", data) == "The file is empty."


@pytest.mark.parametrize("name", ["empty.json", "empty.parquet", "empty.xlsx"])
def test_an_empty_file_is_invalid_whatever_its_extension(lab: Lab, name: str) -> None:
    assert lab.fails(Invalid, name, b"") == "The file is empty."


@pytest.mark.parametrize("name", ["old.xls", "tool.exe"])
def test_unsupported_types_are_415_listing_what_is_supported(lab: Lab, name: str) -> None:
    detail = lab.fails(UnsupportedMediaType, name, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))
    assert "Datamill reads CSV" in detail and "Parquet" in detail


def test_xls_is_told_to_save_as_xlsx(lab: Lab) -> None:
    detail = lab.fails(UnsupportedMediaType, "old.xls", b"\xd0\xcf\x11\xe0" + bytes(512))
    assert "save it as .xlsx" in detail
