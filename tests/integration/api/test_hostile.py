"""Hostile and malformed requests get a precise 4xx, never a 500, and hold no resources."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datamill.context import AppContext
from tests.fixtures.datasets import SMALL_CSV, upload
from tests.fixtures.users import PASSWORD, Account


def test_nul_characters_are_refused_not_crashing_the_database(
    client: TestClient, alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    login = client.post("/api/v1/auth/login", json={"username": "a\u0000b", "password": "x" * 9})
    assert login.status_code == 422
    assert alice_client.get("/api/v1/datasets/%00").status_code == 404
    assert alice_client.get(f"/api/v1/datasets/{uploaded['id']}/revisions/%00").status_code == 404
    assert alice_client.delete("/api/v1/tokens/%00").status_code == 404
    assert alice_client.post("/api/v1/tokens", json={"name": "t\u0000"}).status_code == 422
    url = f"/api/v1/datasets/{uploaded['id']}"
    assert alice_client.patch(url, json={"description": "a\u0000"}).status_code == 422
    shared = alice_client.patch(url, json={"sharing": {"users": ["b\u0000"]}})
    assert shared.status_code == 422
    named = upload(alice_client, SMALL_CSV, "a.csv", expect=422, name="ab\x00c")
    assert "control characters" in named["detail"]


def test_non_uuid_ids_are_404_without_a_lookup(alice_client: TestClient) -> None:
    for path in ("/api/v1/datasets/abc", "/api/v1/datasets/..%2f..%2fetc"):
        response = alice_client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_offsets_beyond_any_table_are_422(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    for path in ("/api/v1/datasets", "/api/v1/tokens", f"/api/v1/datasets/{uploaded['id']}/rows"):
        response = alice_client.get(path, params={"offset": 2**63})
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["loc"] == ["query", "offset"]


def test_an_over_long_multipart_boundary_is_422_and_leaves_nothing(
    alice_client: TestClient, ctx: AppContext
) -> None:
    boundary = "b" * 5000
    disposition = 'Content-Disposition: form-data; name="file"; filename="a.csv"'
    body = f"--{boundary}\r\n{disposition}\r\n\r\na\n1\n\r\n--{boundary}--\r\n"
    response = alice_client.post(
        "/api/v1/datasets",
        content=body.encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 422
    assert "boundary" in response.json()["detail"]
    assert list(ctx.settings.tmp_dir.glob("*.tmp")) == []


def test_a_form_with_too_many_parts_is_422(alice_client: TestClient) -> None:
    fields = {f"extra{i}": "x" for i in range(20)}
    response = alice_client.post(
        "/api/v1/datasets", data=fields, files={"file": ("a.csv", b"a\n1\n")}
    )
    assert response.status_code == 422
    assert "parts" in response.json()["detail"]


def test_json_bodies_over_one_megabyte_are_413(alice_client: TestClient) -> None:
    response = alice_client.post("/api/v1/tokens", json={"name": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_patch_refuses_nulls_blank_names_unknown_fields_and_huge_metadata(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}"
    cases: list[dict[str, Any]] = [
        {"name": "   "},
        {"name": None},
        {"metadata": None},
        {"colour": "blue"},
        {"metadata": {"blob": "x" * 70_000}},
    ]
    for body in cases:
        response = alice_client.patch(url, json=body)
        assert response.status_code == 422, body
    assert alice_client.get(url).json()["name"] == "fruit"


def test_unknown_routes_and_methods_are_typed_problems(alice_client: TestClient) -> None:
    missing = alice_client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:datamill:problem:not-found"
    wrong = alice_client.put("/api/v1/tokens")
    assert wrong.status_code == 405
    assert wrong.json()["type"] == "urn:datamill:problem:method-not-allowed"


def test_401_says_how_to_authenticate(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_concurrent_wrong_passwords_cannot_outrun_the_limit(app: FastAPI, alice: Account) -> None:
    def attempt(_: int) -> int:
        other = TestClient(app)  # not entered: the app's lifespan already runs
        body = {"username": "alice", "password": "wrong-password"}
        return other.post("/api/v1/auth/login", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert statuses.count(401) == 3  # the test settings allow 3 failures
    assert statuses.count(429) == 13


def test_changing_a_password_ends_the_users_sessions(
    client: TestClient, alice: Account, ctx: AppContext
) -> None:
    from datamill.auth.users import require_by_username, set_password

    client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert client.get("/api/v1/auth/me").status_code == 200
    with ctx.sessions() as db:
        set_password(db, require_by_username(db, "alice"), "a-new-password")
        db.commit()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_stalled_upload_holds_no_database_connection(
    app: FastAPI, ctx: AppContext, alice: Account
) -> None:
    """A slow client must not starve everyone else of pooled connections."""

    async def scenario() -> tuple[int, int]:
        stalled = asyncio.Event()
        resume = asyncio.Event()

        async def body() -> AsyncIterator[bytes]:
            yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            stalled.set()
            await resume.wait()
            yield b"a\n1\n\r\n--b--\r\n"

        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {alice.token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            sending = asyncio.create_task(
                http.post(
                    "/api/v1/datasets",
                    content=body(),
                    headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
                )
            )
            await stalled.wait()
            await asyncio.sleep(0.2)
            held = ctx.db_engine.pool.checkedout()  # type: ignore[attr-defined]
            resume.set()
            reply = await sending
        return held, reply.status_code

    held, status = asyncio.run(scenario())
    assert held == 0
    assert status == 201


def test_sort_and_filter_lists_nested_too_deep_are_422(
    alice_client: TestClient, uploaded: dict[str, Any]
) -> None:
    deep = "[" * 1000 + "]" * 1000
    url = f"/api/v1/datasets/{uploaded['id']}/rows"
    assert alice_client.get(url, params={"filter": deep}).status_code == 422
    assert alice_client.get(url, params={"sort": deep}).status_code == 422


def test_hostile_filter_values_are_422(alice_client: TestClient, uploaded: dict[str, Any]) -> None:
    url = f"/api/v1/datasets/{uploaded['id']}/rows"
    values: list[tuple[str, Any]] = [("price", 10**400), ("when", "0001-01-01T00:00:00+01:00")]
    for column, value in values:
        filters = json.dumps([{"column": column, "op": "eq", "value": value}])
        assert alice_client.get(url, params={"filter": filters}).status_code == 422


def test_an_export_of_another_datasets_revision_is_404(
    alice_client: TestClient,
    client_for: Callable[[Account | None], TestClient],
    make_user: Callable[..., Account],
) -> None:
    mine = upload(alice_client, SMALL_CSV, "mine.csv")
    bob_client = client_for(make_user("bob"))
    theirs = upload(bob_client, SMALL_CSV, "theirs.csv")["head_revision"]["id"]
    response = alice_client.get(
        f"/api/v1/datasets/{mine['id']}/export", params={"revision": theirs}
    )
    assert response.status_code == 404
