"""Every dataset endpoint x {anonymous, other member, shared reader, owner, admin}."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.datasets import SMALL_CSV, upload
from tests.fixtures.users import Account

READ = "read"
WRITE = "write"

# (method, path template, kind, json body)
ENDPOINTS: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/datasets/{id}", READ, None),
    ("GET", "/api/v1/datasets/{id}/rows", READ, None),
    ("GET", "/api/v1/datasets/{id}/profile", READ, None),
    ("GET", "/api/v1/datasets/{id}/revisions", READ, None),
    ("GET", "/api/v1/datasets/{id}/revisions/{rev}", READ, None),
    ("GET", "/api/v1/datasets/{id}/revisions/{rev}/rows", READ, None),
    ("GET", "/api/v1/datasets/{id}/revisions/{rev}/profile", READ, None),
    ("GET", "/api/v1/datasets/{id}/export?format=csv", READ, None),
    ("PATCH", "/api/v1/datasets/{id}", WRITE, {"description": "changed"}),
    ("DELETE", "/api/v1/datasets/{id}", WRITE, None),
]

EXPECTED = {
    ("anonymous", READ): 401,
    ("anonymous", WRITE): 401,
    ("other", READ): 404,
    ("other", WRITE): 404,
    ("reader", READ): 200,
    ("reader", WRITE): 403,
    ("owner", READ): 200,
    ("owner", WRITE): 200,
    ("admin", READ): 200,
    ("admin", WRITE): 200,
}


@pytest.fixture
def world(
    make_user: Callable[..., Account], client_for: Callable[[Account | None], TestClient]
) -> dict[str, Any]:
    owner, other, reader = make_user("owner"), make_user("other"), make_user("reader")
    admin = make_user("root", "admin")
    owner_client = client_for(owner)
    dataset = upload(owner_client, SMALL_CSV, "shared.csv")
    reply = owner_client.patch(
        f"/api/v1/datasets/{dataset['id']}", json={"sharing": {"users": ["reader"]}}
    )
    assert reply.status_code == 200, reply.text
    clients = {
        "anonymous": client_for(None),
        "other": client_for(other),
        "reader": client_for(reader),
        "owner": owner_client,
        "admin": client_for(admin),
    }
    return {"dataset": dataset, "clients": clients}


@pytest.mark.parametrize("role", ["anonymous", "other", "reader", "owner", "admin"])
@pytest.mark.parametrize(("method", "template", "kind", "body"), ENDPOINTS)
def test_dataset_endpoint_answers_each_role_as_the_sharing_rules_say(
    world: dict[str, Any],
    role: str,
    method: str,
    template: str,
    kind: str,
    body: dict[str, Any] | None,
) -> None:
    dataset = world["dataset"]
    path = template.format(id=dataset["id"], rev=dataset["head_revision"]["id"])
    response = world["clients"][role].request(method, path, json=body)
    expected = EXPECTED[(role, kind)]
    if expected == 200 and method == "DELETE":
        expected = 204
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"


def test_dataset_list_shows_each_user_only_what_they_may_read(world: dict[str, Any]) -> None:
    seen = {
        role: world["clients"][role].get("/api/v1/datasets").json()
        for role in ("other", "reader", "owner", "admin")
    }
    assert seen["other"]["count"] == 0
    assert [d["name"] for d in seen["reader"]["data"]] == ["shared"]
    assert seen["owner"]["count"] == 1
    assert seen["admin"]["count"] == 1
    assert world["clients"]["anonymous"].get("/api/v1/datasets").status_code == 401


def test_sharing_with_everyone_lets_every_signed_in_user_read_but_not_write(
    world: dict[str, Any],
) -> None:
    dataset_id = world["dataset"]["id"]
    owner = world["clients"]["owner"]
    reply = owner.patch(f"/api/v1/datasets/{dataset_id}", json={"sharing": {"everyone": True}})
    assert reply.json()["sharing"] == {"everyone": True, "users": []}
    other = world["clients"]["other"]
    assert other.get(f"/api/v1/datasets/{dataset_id}/rows").status_code == 200
    assert other.patch(f"/api/v1/datasets/{dataset_id}", json={"name": "x"}).status_code == 403
    assert world["clients"]["anonymous"].get(f"/api/v1/datasets/{dataset_id}").status_code == 401


def test_sharing_with_an_unknown_user_is_refused_and_changes_nothing(
    world: dict[str, Any],
) -> None:
    dataset_id = world["dataset"]["id"]
    owner = world["clients"]["owner"]
    reply = owner.patch(
        f"/api/v1/datasets/{dataset_id}",
        json={"description": "new", "sharing": {"users": ["reader", "nobody"]}},
    )
    assert reply.status_code == 422
    assert reply.json()["errors"] == [
        {"loc": ["body", "sharing", "users", 1], "msg": "unknown user"}
    ]
    after = owner.get(f"/api/v1/datasets/{dataset_id}").json()
    assert after["description"] == ""
    assert after["sharing"]["users"] == ["reader"]


def test_a_revision_of_another_dataset_is_not_reachable_through_mine(
    world: dict[str, Any],
) -> None:
    owner = world["clients"]["owner"]
    mine = upload(owner, SMALL_CSV, "mine.csv")
    theirs = world["dataset"]["head_revision"]["id"]
    response = owner.get(f"/api/v1/datasets/{mine['id']}/revisions/{theirs}/rows")
    assert response.status_code == 404
