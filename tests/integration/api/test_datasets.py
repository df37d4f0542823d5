"""Upload, read, change and delete datasets through the API."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from datamill.context import AppContext
from tests.fixtures.datasets import SMALL_CSV, upload


def test_upload_returns_the_dataset_with_inferred_column_types(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    head = uploaded["head_revision"]
    assert uploaded["name"] == "fruit"
    assert uploaded["owner"] == "alice"
    assert head["number"] == 1
    assert head["row_count"] == 4
    assert head["columns"] == [
        {"name": "id", "type": "int"},
        {"name": "name", "type": "text"},
        {"name": "price", "type": "float"},
        {"name": "when", "type": "date"},
        {"name": "active", "type": "bool"},
    ]
    assert head["source"]["format"] == "csv"
    assert uploaded["created_at"].endswith("Z")


def test_upload_takes_an_explicit_name(alice_client: TestClient) -> None:
    assert upload(alice_client, SMALL_CSV, "x.csv", name="Fruit prices")["name"] == "Fruit prices"


def test_rows_come_back_as_arrays_in_column_order_with_the_total(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    body = alice_client.get(f"/api/v1/datasets/{uploaded['id']}/rows?limit=2").json()
    assert body["total"] == 4
    assert body["offset"] == 0
    assert body["rows"] == [
        [1, "apple", 1.5, "2024-01-02", True],
        [2, "banana", None, "2024-01-03", False],
    ]


def test_rows_sort_on_several_columns_and_filter(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    sort = json.dumps([{"column": "active", "desc": True}, {"column": "price", "desc": True}])
    filters = json.dumps([{"column": "price", "op": "not_null"}])
    body = alice_client.get(
        f"/api/v1/datasets/{uploaded['id']}/rows", params={"sort": sort, "filter": filters}
    ).json()
    assert [row[0] for row in body["rows"]] == [3, 1, 4]
    assert body["total"] == 3


def test_rows_search_text_columns_case_insensitively(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    body = alice_client.get(f"/api/v1/datasets/{uploaded['id']}/rows", params={"q": "DÜR"}).json()
    assert [row[1] for row in body["rows"]] == ["Dürüm"]


def test_unknown_sort_or_filter_columns_are_422_naming_them(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}/rows"
    bad_sort = alice_client.get(url, params={"sort": json.dumps([{"column": "nope"}])})
    assert bad_sort.status_code == 422
    assert bad_sort.json()["errors"][0]["loc"] == ["query", "sort", 0, "column"]
    assert "nope" in bad_sort.json()["detail"]
    bad_filter = alice_client.get(
        url, params={"filter": json.dumps([{"column": "ghost", "op": "eq", "value": 1}])}
    )
    assert bad_filter.status_code == 422
    assert bad_filter.json()["errors"][0]["loc"] == ["query", "filter", 0, "column"]


def test_negative_offset_and_oversized_limit_are_422(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}/rows"
    negative = alice_client.get(url, params={"offset": -1})
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["loc"] == ["query", "offset"]
    assert alice_client.get(url, params={"limit": 100_000}).status_code == 422


def test_profile_is_computed_once_and_kept_with_the_revision(
    alice_client: TestClient, uploaded: dict[str, Any], ctx: AppContext
) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}/profile"
    first = alice_client.get(url).json()
    price = next(c for c in first["columns"] if c["name"] == "price")
    assert price["nulls"] == 1
    assert price["min"] == 1.5
    assert price["max"] == 10
    assert len(price["histogram"]["counts"]) == 20
    from datamill.db.models import Revision

    with ctx.sessions() as db:
        stored = db.get(Revision, uploaded["head_revision"]["id"])
        assert stored is not None and stored.profile == first
    assert alice_client.get(url).json() == first


def test_revisions_are_listed_and_readable(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    listed = alice_client.get(f"/api/v1/datasets/{uploaded['id']}/revisions").json()
    assert listed["count"] == 1
    revision = listed["data"][0]
    rows = alice_client.get(
        f"/api/v1/datasets/{uploaded['id']}/revisions/{revision['id']}/rows"
    ).json()
    assert rows["total"] == 4


def test_patch_changes_only_the_fields_sent(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}"
    alice_client.patch(url, json={"description": "Prices at the market"})
    body = alice_client.patch(url, json={"metadata": {"source": "market"}}).json()
    assert body["description"] == "Prices at the market"
    assert body["metadata"] == {"source": "market"}
    assert body["name"] == "fruit"


def test_delete_removes_rows_and_files(
    alice_client: TestClient, uploaded: dict[str, Any], ctx: AppContext
) -> None:
    directory = ctx.settings.revisions_dir / uploaded["id"]
    assert directory.exists()
    assert alice_client.delete(f"/api/v1/datasets/{uploaded['id']}").status_code == 204
    assert not directory.exists()
    assert alice_client.get(f"/api/v1/datasets/{uploaded['id']}").status_code == 404


def test_revision_files_are_parquet_with_small_row_groups(
    uploaded: dict[str, Any], ctx: AppContext
) -> None:
    files = list((ctx.settings.revisions_dir / uploaded["id"]).glob("*.parquet"))
    assert len(files) == 1
    assert pq.ParquetFile(files[0]).metadata.num_rows == 4


def test_export_streams_every_format(alice_client: TestClient, uploaded: dict[str, Any]) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}/export"
    csv = alice_client.get(url, params={"format": "csv"})
    assert csv.status_code == 200
    assert csv.text.splitlines()[0] == "id,name,price,when,active"
    assert 'filename="fruit.csv"' in csv.headers["content-disposition"]
    parquet = alice_client.get(url, params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 4
    records = alice_client.get(url, params={"format": "json"}).json()
    assert records[3]["name"] == "Dürüm"
    xlsx = alice_client.get(url, params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert alice_client.get(url, params={"format": "docx"}).status_code == 422


def test_export_applies_the_view(alice_client: TestClient, uploaded: dict[str, Any]) -> None:
    filters = json.dumps([{"column": "price", "op": "gt", "value": 2}])
    csv = alice_client.get(
        f"/api/v1/datasets/{uploaded['id']}/export", params={"format": "csv", "filter": filters}
    )
    assert len(csv.text.splitlines()) == 3


def test_dataset_list_is_paginated_and_searchable(alice_client: TestClient) -> None:
    for name in ("alpha", "beta", "gamma"):
        upload(alice_client, SMALL_CSV, f"{name}.csv")
    page = alice_client.get("/api/v1/datasets", params={"limit": 2}).json()
    assert page["count"] == 3
    assert len(page["data"]) == 2
    found = alice_client.get("/api/v1/datasets", params={"q": "AMM"}).json()
    assert [d["name"] for d in found["data"]] == ["gamma"]


def test_delete_also_removes_the_datasets_cached_views(
    alice_client: TestClient, uploaded: dict[str, Any], ctx: AppContext
) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}"
    sort = json.dumps([{"column": "price", "desc": True}])
    for offset in (0, 1, 2):  # the second request waits for the materialised view
        assert alice_client.get(f"{url}/rows", params={"sort": sort, "offset": offset}).is_success
    cache = ctx.settings.cache_dir / "views"
    assert list(cache.glob("*.parquet"))
    assert alice_client.delete(url).status_code == 204
    assert list(cache.glob("*.parquet")) == []
