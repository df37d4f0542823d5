"""Admins manage accounts over the API: create, change role, disable, reset a password."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from datamill.auth.users import create_user, update_user
from datamill.db.models import User
from datamill.problems import Conflict
from tests.fixtures.users import PASSWORD, Account


def test_an_admin_creates_a_member_who_can_then_sign_in(
    admin_client: TestClient, client: TestClient
) -> None:
    reply = admin_client.post(
        "/api/v1/users", json={"username": "grace", "password": "long enough pw"}
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["role"] == "member"
    assert "password" not in reply.text
    login = {"username": "grace", "password": "long enough pw"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    listed = admin_client.get("/api/v1/users").json()
    assert "grace" in [user["username"] for user in listed["data"]]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/users"), ("post", "/api/v1/users"), ("patch", "/api/v1/users/root")],
)
def test_a_member_may_not_list_create_or_change_users(
    admin: Account, alice_client: TestClient, method: str, path: str
) -> None:
    body = {"username": "mallory", "password": "long enough pw", "role": "admin"}
    reply = alice_client.request(method, path, json=body if method != "get" else None)
    assert reply.status_code == 403
    assert reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "Bad Name", "password": "long enough pw"}, "username"),
        ({"username": "shorty", "password": "short"}, "password"),
        ({"username": "x" * 65, "password": "long enough pw"}, "username"),
        ({"username": "eve", "password": "long enough pw", "role": "owner"}, "role"),
        ({"username": "eve", "password": "long enough pw", "extra": 1}, "extra"),
    ],
)
def test_a_bad_new_user_is_422_naming_the_field_and_creates_nothing(
    admin_client: TestClient, body: dict[str, object], field: str
) -> None:
    reply = admin_client.post("/api/v1/users", json=body)
    assert reply.status_code == 422, reply.text
    assert field in [str(part) for error in reply.json()["errors"] for part in error["loc"]]
    assert admin_client.get("/api/v1/users").json()["count"] == 1  # the admin alone


def test_a_taken_username_is_409(admin_client: TestClient, alice: Account) -> None:
    body = {"username": "alice", "password": "long enough pw"}
    assert admin_client.post("/api/v1/users", json=body).status_code == 409


def test_disabling_ends_sessions_and_refuses_tokens_until_enabled_again(
    admin_client: TestClient,
    alice: Account,
    alice_client: TestClient,
    client: TestClient,
) -> None:
    login = {"username": "alice", "password": PASSWORD}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    reply = admin_client.patch("/api/v1/users/alice", json={"disabled": True})
    assert reply.status_code == 200
    assert reply.json()["disabled"] is True
    assert client.get("/api/v1/auth/me").status_code == 401
    assert alice_client.get("/api/v1/auth/me").status_code == 401
    assert admin_client.patch("/api/v1/users/alice", json={"disabled": False}).status_code == 200
    assert alice_client.get("/api/v1/auth/me").status_code == 200


def test_a_member_made_admin_may_manage_users(
    admin_client: TestClient, alice_client: TestClient
) -> None:
    assert admin_client.patch("/api/v1/users/alice", json={"role": "admin"}).status_code == 200
    assert alice_client.get("/api/v1/users").status_code == 200


@pytest.mark.parametrize("change", [{"role": "member"}, {"disabled": True}])
def test_the_last_active_admin_cannot_be_demoted_or_disabled(
    admin_client: TestClient, make_user: Callable[..., Account], change: dict[str, object]
) -> None:
    reply = admin_client.patch("/api/v1/users/root", json=change)
    assert reply.status_code == 409
    assert "only active admin" in reply.json()["detail"]
    make_user("second", "admin")
    assert admin_client.patch("/api/v1/users/root", json=change).status_code == 200


def test_a_password_reset_signs_the_user_out_and_takes_the_new_password(
    admin_client: TestClient, alice: Account, client: TestClient
) -> None:
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "alice", "password": PASSWORD}
        ).status_code
        == 200
    )
    reply = admin_client.patch("/api/v1/users/alice", json={"password": "a new long one"})
    assert reply.status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 401
    new = {"username": "alice", "password": "a new long one"}
    assert client.post("/api/v1/auth/login", json=new).status_code == 200


def test_changing_an_unknown_user_is_404(admin_client: TestClient) -> None:
    assert admin_client.patch("/api/v1/users/nobody", json={"role": "admin"}).status_code == 404


def test_a_disabled_admin_does_not_count_as_the_other_active_admin(
    admin_client: TestClient, make_user: Callable[..., Account]
) -> None:
    make_user("second", "admin")
    assert admin_client.patch("/api/v1/users/second", json={"disabled": True}).status_code == 200
    assert admin_client.patch("/api/v1/users/root", json={"role": "member"}).status_code == 409


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as db:
        ann = create_user(db, "ann", PASSWORD, "admin").id
        ben = create_user(db, "ben", PASSWORD, "admin").id
        db.commit()
    outcome: list[BaseException | None] = []

    def demote_ann() -> None:
        with sessions() as db:
            try:
                update_user(db, db.get_one(User, ann), role="member")
                db.commit()
                outcome.append(None)
            except Conflict as refused:
                outcome.append(refused)

    with sessions() as first:
        update_user(first, first.get_one(User, ben), role="member")  # not committed yet
        racer = threading.Thread(target=demote_ann)
        racer.start()
        time.sleep(0.5)  # the racer is now waiting on the first change's lock
        first.commit()
    racer.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
    with sessions() as db:
        assert db.get_one(User, ann).role == "admin"
