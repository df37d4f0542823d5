"""Bad uploads get a precise 4xx and leave no file and no row behind."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from datamill.context import AppContext
from datamill.db.models import Dataset, Revision
from tests.fixtures.datasets import upload


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.fixture
def nothing_left_behind(ctx: AppContext):  # type: ignore[no-untyped-def]
    yield
    with ctx.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Dataset)) == 0
        assert db.scalar(select(func.count()).select_from(Revision)) == 0
    assert files_under(ctx.settings.revisions_dir) == []
    assert [p for p in ctx.settings.tmp_dir.glob("*") if p.is_file()] == []


def detail_of(client: TestClient, content: bytes, filename: str, status: int, **fields: str) -> str:
    body = upload(client, content, filename, expect=status, **fields)
    assert body["status"] == status
    return str(body["detail"])


pytestmark = pytest.mark.usefixtures("nothing_left_behind")


def test_an_empty_file_is_refused(alice_client: TestClient) -> None:
    assert "empty" in detail_of(alice_client, b"", "empty.csv", 422)


def test_binary_junk_named_csv_is_refused(alice_client: TestClient) -> None:
    junk = os.urandom(4096).replace(b"\n", b"\x00") + b"\x00" * 64
    assert "text" in detail_of(alice_client, junk, "junk.csv", 422)


def test_ragged_rows_are_refused_naming_the_line(alice_client: TestClient) -> None:
    content = b"a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n"
    detail = detail_of(alice_client, content, "ragged.csv", 422)
    assert "Line 3" in detail


def test_invalid_bytes_for_the_encoding_are_refused_naming_the_line(
    alice_client: TestClient,
) -> None:
    content = b"name,city\nAnna,Oslo\nJos\xe9,Bergen\n"
    detail = detail_of(alice_client, content, "people.csv", 422, encoding="utf-8")
    assert "Line 3" in detail
    assert "UTF-8" in detail


def test_a_10_mb_single_line_is_refused(alice_client: TestClient) -> None:
    content = b"a,b\n1," + b"x" * (10 * 1024 * 1024) + b"\n"
    detail = detail_of(alice_client, content, "long.csv", 422)
    assert "Line 2" in detail
    assert "MB" in detail


def test_a_file_over_the_size_limit_is_413(alice_client: TestClient) -> None:
    content = b"a\n" + b"1\n" * (11 * 1024 * 1024)  # 22 MB against a 20 MB limit
    assert "upload limit" in detail_of(alice_client, content, "big.csv", 413)


def test_an_unsupported_type_is_415_listing_what_is_supported(alice_client: TestClient) -> None:
    detail = detail_of(alice_client, b"MZ\x90\x00" + b"\x00" * 100, "tool.exe", 415)
    assert "CSV" in detail
    assert ".xlsx" in detail_of(alice_client, b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old.xls", 415)


def test_an_xlsx_zip_bomb_is_refused(alice_client: TestClient) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (200 * 1024 * 1024))
    detail = detail_of(alice_client, buffer.getvalue(), "bomb.xlsx", 422)
    assert "compress" in detail or "bomb" in detail


def test_an_upload_without_a_file_part_is_422(alice_client: TestClient) -> None:
    response = alice_client.post(
        "/api/v1/datasets", data={"name": "x"}, files={"other": ("a", b"1")}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "file"]


def test_an_upload_that_is_not_multipart_is_422(alice_client: TestClient) -> None:
    response = alice_client.post("/api/v1/datasets", json={"file": "a,b\n1,2\n"})
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["detail"]


def test_anonymous_upload_is_401_and_stores_nothing(client: TestClient) -> None:
    response = client.post("/api/v1/datasets", files={"file": ("a.csv", b"a\n1\n")})
    assert response.status_code == 401


def test_duplicate_and_empty_column_names_are_renamed_and_said_so(
    alice_client: TestClient, ctx: AppContext
) -> None:
    body = upload(alice_client, b"id,val,,val\n1,2,x,3\n", "dups.csv")
    names = [c["name"] for c in body["head_revision"]["columns"]]
    assert names == ["id", "val", "column_3", "val_2"]
    assert len(body["warnings"]) == 2
    assert any("column_3" in w for w in body["warnings"])
    assert any("val_2" in w for w in body["warnings"])
    alice_client.delete(f"/api/v1/datasets/{body['id']}")  # leave nothing for the fixture
