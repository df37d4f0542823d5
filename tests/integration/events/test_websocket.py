"""``WS /api/v1/events`` in process, on every dialect: who is let in, who receives what, filters,
followed logs, dataset revisions, malformed requests and subscribers that fall behind."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from datamill.api import events as events_api
from datamill.context import AppContext
from datamill.db.models import ApiToken, utcnow
from datamill.events import bus as bus_module
from datamill.events.messages import Message
from datamill.executors.registry import UP, worker_message
from datamill.runs import machine
from datamill.runs.workdir import LOG_FILE, workdir_path
from tests.fixtures.users import PASSWORD, Account
from tests.integration.events.event_runs import advance, make_run, start_first_step

URL = "/api/v1/events"
WAIT_SECONDS = 10.0


def receive(ws: WebSocketTestSession, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
    """The next message, failing the test instead of hanging when none comes."""

    async def next_message() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    ws._raise_on_close(message)
    value: dict[str, Any] = json.loads(message["text"])
    return value


def closed_with(ws: WebSocketTestSession) -> int:
    """The close code the server ends the connection with (skipping messages before it)."""
    with pytest.raises(WebSocketDisconnect) as ended:
        for _ in range(10_000):
            receive(ws)
    return ended.value.code


@contextlib.contextmanager
def listening(
    client: TestClient, query: str = "", **options: Any
) -> Iterator[WebSocketTestSession]:
    """A connection past its ``subscribed`` greeting."""
    with client.websocket_connect(URL + query, **options) as ws:
        greeting = receive(ws)
        assert greeting["type"] == "subscribed", greeting
        yield ws


def publish_worker_event(ctx: AppContext) -> str:
    """A ``worker.updated`` event, which every signed-in user receives: a marker in the stream."""
    message = worker_message("marker-worker", 1, ["fast"], UP, utcnow())
    ctx.bus.publish(message)
    return message.id


def deliver(ctx: AppContext) -> Callable[..., None]:
    assert ctx.deliver is not None
    return ctx.deliver


@pytest.fixture
def bob(make_user: Callable[..., Account]) -> Account:
    return make_user("bob")


@pytest.fixture
def admin(make_user: Callable[..., Account]) -> Account:
    return make_user("root", "admin")


# -- who is let in ----------------------------------------------------------------------------


def test_an_anonymous_client_is_closed_with_4401(client: TestClient) -> None:
    with client.websocket_connect(URL) as ws:
        assert closed_with(ws) == 4401


def test_an_unknown_token_is_closed_with_4401(client: TestClient) -> None:
    with client.websocket_connect(URL + "?token=nope") as ws:
        assert closed_with(ws) == 4401
    with client.websocket_connect(URL, headers={"Authorization": "Bearer nope"}) as ws:
        assert closed_with(ws) == 4401


def test_a_token_in_the_query_or_the_header_signs_in(client: TestClient, alice: Account) -> None:
    with listening(client, f"?token={alice.token}"):
        pass
    with listening(client, headers={"Authorization": f"Bearer {alice.token}"}):
        pass


def test_the_session_cookie_signs_in_from_the_apps_own_origin_only(
    client: TestClient, alice: Account
) -> None:
    reply = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    with listening(client, headers={"Origin": "http://testserver"}):
        pass
    with client.websocket_connect(URL, headers={"Origin": "https://evil.example"}) as ws:
        assert closed_with(ws) == 4401


def test_revoking_the_token_ends_an_open_stream_with_4401(
    client: TestClient, ctx: AppContext, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_api, "RECHECK_SECONDS", 0.2)
    with listening(client, f"?token={alice.token}") as ws:
        with ctx.sessions() as db:
            db.execute(delete(ApiToken).where(ApiToken.user_id == alice.id))
            db.commit()
        assert closed_with(ws) == 4401


# -- who receives what ------------------------------------------------------------------------


def test_a_member_receives_the_events_of_her_runs_and_not_of_others(
    client: TestClient, ctx: AppContext, alice: Account, bob: Account
) -> None:
    with listening(client, f"?token={alice.token}") as ws:
        bobs, _ = make_run(ctx.sessions, bob.id)
        start_first_step(ctx.sessions, deliver(ctx), bobs)
        alices, _ = make_run(ctx.sessions, alice.id)
        start_first_step(ctx.sessions, deliver(ctx), alices)
        first, second = receive(ws), receive(ws)
    assert {first["type"], second["type"]} == {"run.updated", "step.updated"}
    assert first["id"] == second["id"] == alices
    step = first if first["type"] == "step.updated" else second
    assert step["data"]["run_id"] == alices
    assert step["data"]["step"] == "first" and step["data"]["state"] == "running"


def test_an_admin_receives_the_events_of_every_run(
    client: TestClient, ctx: AppContext, alice: Account, bob: Account, admin: Account
) -> None:
    with listening(client, f"?token={admin.token}&types=run.updated") as ws:
        for owner in (alice, bob):
            run_id, _ = make_run(ctx.sessions, owner.id)
            start_first_step(ctx.sessions, deliver(ctx), run_id)
            event = receive(ws)
            assert event["type"] == "run.updated" and event["id"] == run_id
            assert event["data"] == {"run_id": run_id, "state": "running"}


def test_the_owner_of_a_run_is_read_once_for_a_burst_of_its_events(
    client: TestClient, ctx: AppContext, app: Any, alice: Account
) -> None:
    run_id, _ = make_run(ctx.sessions, alice.id)
    with listening(client, f"?token={alice.token}") as ws:
        lookups = app.state.run_owners.lookups
        for number in range(50):
            ctx.bus.publish(
                Message("run.updated", run_id, "2026-01-01T00:00:00.000Z", {"n": number})
            )
        got = [receive(ws)["data"]["n"] for _ in range(50)]
    assert got == list(range(50))
    assert app.state.run_owners.lookups - lookups == 1


def test_worker_events_go_to_every_signed_in_user(
    client: TestClient, ctx: AppContext, alice: Account
) -> None:
    with listening(client, f"?token={alice.token}") as ws:
        worker = publish_worker_event(ctx)
        event = receive(ws)
    assert event["type"] == "worker.updated" and event["id"] == worker
    assert event["data"]["state"] == "up" and event["data"]["queues"] == ["fast"]


def test_an_upload_sends_the_new_revision_to_readers_of_the_dataset_only(
    client: TestClient,
    ctx: AppContext,
    alice: Account,
    bob: Account,
    client_for: Callable[[Account | None], TestClient],
) -> None:
    csv = io.BytesIO(b"city,price\nOslo,1.5\nLima,2\nPune,3\n")
    with (
        listening(client, f"?token={alice.token}") as alice_ws,
        listening(client, f"?token={bob.token}") as bob_ws,
    ):
        reply = client_for(alice).post("/api/v1/datasets", files={"file": ("prices.csv", csv)})
        assert reply.status_code == 201, reply.text
        dataset = reply.json()
        publish_worker_event(ctx)
        event = receive(alice_ws)
        assert receive(bob_ws)["type"] == "worker.updated"  # the revision was not sent to bob
    assert event["type"] == "dataset.revision" and event["id"] == dataset["id"]
    assert event["data"]["revision_id"] == dataset["head_revision"]["id"]
    assert event["data"]["number"] == 1 and event["data"]["rows"] == 3
    assert event["data"]["columns"] == [
        {"name": "city", "type": "text"},
        {"name": "price", "type": "float"},
    ]


# -- filters ----------------------------------------------------------------------------------


def test_query_filters_keep_only_the_events_asked_for(
    client: TestClient, ctx: AppContext, alice: Account
) -> None:
    wanted, _ = make_run(ctx.sessions, alice.id)
    other, _ = make_run(ctx.sessions, alice.id)
    with listening(client, f"?token={alice.token}&types=step.updated&run={wanted}") as ws:
        start_first_step(ctx.sessions, deliver(ctx), other)
        publish_worker_event(ctx)
        start_first_step(ctx.sessions, deliver(ctx), wanted)
        event = receive(ws)
    assert event["type"] == "step.updated" and event["id"] == wanted


def test_a_subscribe_request_changes_the_filters_and_is_acknowledged(
    client: TestClient, ctx: AppContext, alice: Account
) -> None:
    run_id, _ = make_run(ctx.sessions, alice.id)
    with listening(client, f"?token={alice.token}&types=worker.updated") as ws:
        ws.send_json({"subscribe": {"types": ["run.updated"], "runs": [run_id]}})
        ack = receive(ws)
        publish_worker_event(ctx)  # no longer wanted
        start_first_step(ctx.sessions, deliver(ctx), run_id)
        assert receive(ws)["type"] == "run.updated"
        ws.send_json({"subscribe": {"types": None}})
        assert receive(ws)["data"]["types"] is None
        publish_worker_event(ctx)
        assert receive(ws)["type"] == "worker.updated"
    assert ack["type"] == "subscribed"
    assert ack["data"] == {"types": ["run.updated"], "runs": [run_id], "datasets": None, "logs": []}


def test_a_bad_filter_in_the_query_is_explained_then_closed_with_4400(
    client: TestClient, alice: Account
) -> None:
    with client.websocket_connect(f"{URL}?token={alice.token}&types=run.finished") as ws:
        error = receive(ws)
        assert closed_with(ws) == 4400
    assert (
        error["type"] == "error" and "unknown event type 'run.finished'" in error["data"]["detail"]
    )


def test_a_malformed_request_gets_an_error_and_the_connection_stays(
    client: TestClient, ctx: AppContext, alice: Account
) -> None:
    with listening(client, f"?token={alice.token}") as ws:
        ws.send_text("garbage")
        garbage = receive(ws)
        ws.send_json({"subscribe": {"runs": ["x"]}})
        bad_id = receive(ws)
        ws.send_bytes(b"\x00\x01")
        binary = receive(ws)
        worker = publish_worker_event(ctx)  # the filters were left as they were
        assert receive(ws)["id"] == worker
    assert garbage["type"] == bad_id["type"] == binary["type"] == "error"
    assert "not JSON" in garbage["data"]["detail"]
    assert "not an id" in bad_id["data"]["detail"]
    assert "text frames" in binary["data"]["detail"]


# -- followed logs ----------------------------------------------------------------------------


def test_follow_log_streams_the_lines_appended_until_the_step_ends(
    client: TestClient, ctx: AppContext, alice: Account
) -> None:
    run_id, _ = make_run(ctx.sessions, alice.id)
    start_first_step(ctx.sessions, deliver(ctx), run_id)
    log = workdir_path(ctx.settings.data_dir, run_id, "first", 1) / LOG_FILE
    log.parent.mkdir(parents=True)
    log.write_text("line 1\n")
    query = f"?token={alice.token}&types=worker.updated"
    with listening(client, query) as ws:
        ws.send_json({"follow_log": {"run": run_id, "step": "first"}})
        assert receive(ws)["data"]["logs"] == [{"run": run_id, "step": "first"}]
        texts = [receive(ws)["data"]["text"]]
        with log.open("a") as handle:
            handle.write("line 2 — ünïcode\n")
        texts.append(receive(ws)["data"]["text"])
        with log.open("a") as handle:
            handle.write("line 3\n")
        advance(ctx.sessions, deliver(ctx), run_id, machine.succeeded, "first", 1, {})
        rest = [receive(ws)]
        while not rest[-1]["data"]["done"]:
            rest.append(receive(ws))
    assert texts == ["line 1\n", "line 2 — ünïcode\n"]
    assert "".join(m["data"]["text"] for m in rest) == "line 3\n"
    last = rest[-1]
    assert last["type"] == "step.log" and last["id"] == run_id
    assert last["data"]["step"] == "first" and last["data"]["attempt"] == 1


def test_follow_log_moves_to_the_next_attempt_after_a_retry(
    client: TestClient, ctx: AppContext, alice: Account
) -> None:
    run_id, _ = make_run(ctx.sessions, alice.id)
    worker = start_first_step(ctx.sessions, deliver(ctx), run_id)
    logs = [workdir_path(ctx.settings.data_dir, run_id, "first", n) / LOG_FILE for n in (1, 2)]
    logs[0].parent.mkdir(parents=True)
    logs[0].write_text("try 1\n")
    with listening(client, f"?token={alice.token}&types=worker.updated") as ws:
        ws.send_json({"follow_log": {"run": run_id, "step": "first"}})
        receive(ws)  # subscribed
        first = receive(ws)
        advance(ctx.sessions, deliver(ctx), run_id, machine.failed, "first", 1, "exit status 1")
        later = utcnow() + timedelta(seconds=5)  # past the backoff: attempt 2 is dispatched
        advance(ctx.sessions, deliver(ctx), run_id, machine.plan, now=later)
        started = advance(ctx.sessions, deliver(ctx), run_id, machine.started, "first", 2, worker)
        assert started.applied
        logs[1].parent.mkdir(parents=True)
        logs[1].write_text("try 2\n")
        second = receive(ws)
        advance(ctx.sessions, deliver(ctx), run_id, machine.succeeded, "first", 2, {})
        last = receive(ws)
    assert (first["data"]["attempt"], first["data"]["text"]) == (1, "try 1\n")
    assert (second["data"]["attempt"], second["data"]["text"]) == (2, "try 2\n")
    assert last["data"]["done"] and last["data"]["attempt"] == 2


def test_follow_log_of_a_run_one_cannot_see_is_an_error(
    client: TestClient, ctx: AppContext, alice: Account, bob: Account
) -> None:
    run_id, _ = make_run(ctx.sessions, bob.id)
    with listening(client, f"?token={alice.token}") as ws:
        ws.send_json({"follow_log": {"run": run_id, "step": "first"}})
        refused = receive(ws)
        ws.send_json({"unfollow_log": {"run": run_id, "step": "first"}})
        assert receive(ws)["data"]["logs"] == []
    assert refused["type"] == "error" and "there is no step 'first'" in refused["data"]["detail"]


# -- falling behind ---------------------------------------------------------------------------


def test_a_subscriber_that_falls_behind_is_closed_with_1013(
    client: TestClient, ctx: AppContext, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus_module, "QUEUE_SIZE", 5)
    with listening(client, f"?token={alice.token}") as ws:

        def burst() -> None:  # on the server's loop, so that it cannot read in between
            for _ in range(50):
                publish_worker_event(ctx)

        ws.portal.call(burst)
        assert closed_with(ws) == 1013
