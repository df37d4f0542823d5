"""Sign-in sessions, CSRF, rate limiting, API tokens and password storage."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from datamill.context import AppContext
from datamill.db.models import ApiToken, User
from tests.fixtures.users import PASSWORD, Account


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    csrf: str = response.json()["csrf_token"]
    return csrf


def test_login_sets_an_httponly_samesite_cookie_that_identifies_the_user(
    client: TestClient, alice: Account
) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    cookie = next(h for h in response.headers.get_list("set-cookie") if "datamill_session" in h)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert client.get("/api/v1/auth/me").json()["username"] == "alice"


def test_logout_ends_the_session(client: TestClient, alice: Account) -> None:
    csrf = login(client, "alice")
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 401


def test_wrong_password_is_401_without_saying_which_part_was_wrong(
    client: TestClient, alice: Account
) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "alice", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"username": "bob", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Wrong username or password."


def test_failed_logins_are_rate_limited_per_user_and_address(
    client: TestClient, make_user: Callable[..., Account]
) -> None:
    make_user("alice")
    make_user("bob")
    for _ in range(3):  # the test settings allow 3 failures
        client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-one"})
    blocked = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    assert "alice" in blocked.json()["detail"]
    login(client, "bob")  # another user from the same address is not affected


def test_cookie_authenticated_writes_need_the_csrf_header(
    client: TestClient, alice: Account
) -> None:
    csrf = login(client, "alice")
    without = client.post("/api/v1/tokens", json={"name": "x"})
    assert without.status_code == 403
    assert "X-CSRF-Token" in without.json()["detail"]
    wrong = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "bad"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_bearer_token_writes_need_no_csrf_header(alice_client: TestClient) -> None:
    assert alice_client.post("/api/v1/tokens", json={"name": "script"}).status_code == 201


def test_tokens_are_shown_once_listed_without_secret_and_revocable(
    alice_client: TestClient, client_for: Callable[[Account | None], TestClient], alice: Account
) -> None:
    created = alice_client.post("/api/v1/tokens", json={"name": "notebook"}).json()
    assert created["token"].startswith("dm_")
    listed = alice_client.get("/api/v1/tokens").json()
    assert listed["count"] == 2
    assert all("token" not in item for item in listed["data"])
    fresh = TestClient(alice_client.app, headers={"Authorization": f"Bearer {created['token']}"})
    assert fresh.get("/api/v1/auth/me").status_code == 200
    assert alice_client.delete(f"/api/v1/tokens/{created['id']}").status_code == 204
    revoked = fresh.get("/api/v1/auth/me")
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["detail"]


def test_a_token_shows_when_it_was_last_used(alice_client: TestClient) -> None:
    created = alice_client.post("/api/v1/tokens", json={"name": "cron"}).json()
    assert created["last_used_at"] is None
    fresh = TestClient(alice_client.app, headers={"Authorization": f"Bearer {created['token']}"})
    assert fresh.get("/api/v1/auth/me").json()["username"] == "alice"
    listed = {item["id"]: item for item in alice_client.get("/api/v1/tokens").json()["data"]}
    assert listed[created["id"]]["last_used_at"] is not None


def test_a_user_cannot_revoke_someone_elses_token(
    alice_client: TestClient, make_user: Callable[..., Account], ctx: AppContext
) -> None:
    make_user("bob")
    with ctx.sessions() as db:
        bob_token = db.scalars(
            select(ApiToken).join(User, User.id == ApiToken.user_id).where(User.username == "bob")
        ).one()
    assert alice_client.delete(f"/api/v1/tokens/{bob_token.id}").status_code == 404


def test_passwords_are_stored_as_argon2id_and_tokens_only_as_hashes(
    ctx: AppContext, alice: Account
) -> None:
    with ctx.sessions() as db:
        user = db.scalars(select(User).where(User.username == "alice")).one()
        tokens = db.scalars(select(ApiToken)).all()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert all(alice.token not in t.token_hash for t in tokens)


def test_a_malformed_authorization_header_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    assert response.json()["detail"] == "The Authorization header must be 'Bearer <token>'."


def test_a_disabled_account_can_neither_sign_in_nor_use_its_tokens(
    client: TestClient, alice: Account, alice_client: TestClient, ctx: AppContext
) -> None:
    with ctx.sessions() as db:
        db.scalars(select(User).where(User.username == "alice")).one().disabled = True
        db.commit()
    assert alice_client.get("/api/v1/auth/me").status_code == 401
    response = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 401
