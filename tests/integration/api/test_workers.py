"""``GET /api/v1/workers``: every signed-in user sees the workers, their state, what each runs
(without the run and step of another member's run), and how many steps wait in each queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from datamill.context import AppContext
from datamill.db.models import Worker, utcnow
from datamill.executors.registry import mark_down
from tests.fixtures.users import Account
from tests.integration.events.event_runs import make_run, make_worker, start_first_step

URL = "/api/v1/workers"


def set_heartbeat(ctx: AppContext, worker_id: str, at: datetime) -> None:
    with ctx.sessions() as db:
        db.execute(update(Worker).where(Worker.id == worker_id).values(last_heartbeat_at=at))
        db.commit()


def stop(ctx: AppContext, worker_id: str, at: datetime) -> None:
    with ctx.sessions() as db:
        mark_down(db, [worker_id], at)
        db.commit()


def listed(client: TestClient, query: str = "") -> dict[str, Any]:
    reply = client.get(URL + query)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def states(body: dict[str, Any]) -> dict[str, str]:
    return {worker["id"]: worker["state"] for worker in body["data"]}


def test_signing_in_is_required(client: TestClient) -> None:
    reply = client.get(URL)
    assert reply.status_code == 401
    assert reply.headers["content-type"] == "application/problem+json"


def test_a_silent_worker_is_lost_and_long_stopped_workers_are_left_out_by_default(
    alice_client: TestClient, ctx: AppContext
) -> None:
    now = utcnow()
    timeout = ctx.settings.heartbeat_timeout_seconds
    up = make_worker(ctx.sessions)
    lost = make_worker(ctx.sessions)
    set_heartbeat(ctx, lost, now - timedelta(seconds=timeout + 5))
    down_recently = make_worker(ctx.sessions)
    stop(ctx, down_recently, now - timedelta(minutes=5))
    down_long_ago = make_worker(ctx.sessions)
    stop(ctx, down_long_ago, now - timedelta(hours=2))
    lost_long_ago = make_worker(ctx.sessions)
    set_heartbeat(ctx, lost_long_ago, now - timedelta(hours=3))

    default = listed(alice_client)
    assert states(default) == {up: "up", lost: "lost", down_recently: "down"}
    assert default["count"] == 3
    assert states(listed(alice_client, "?state=up")) == {up: "up"}
    assert states(listed(alice_client, "?state=lost")) == {lost: "lost", lost_long_ago: "lost"}
    assert states(listed(alice_client, "?state=down")) == {
        down_recently: "down",
        down_long_ago: "down",
    }
    worker = next(w for w in default["data"] if w["id"] == up)
    assert worker["pid"] > 0 and worker["hostname"] and worker["queues"] == ["fast"]
    assert worker["started_at"].endswith("Z") and worker["last_heartbeat_at"].endswith("Z")
    assert worker["running"] == []


def test_an_unknown_state_is_a_422_naming_the_parameter(alice_client: TestClient) -> None:
    reply = alice_client.get(URL + "?state=sleeping")
    assert reply.status_code == 422
    assert reply.json()["errors"][0]["loc"] == ["query", "state"]


def test_a_worker_names_the_step_it_runs_only_to_those_who_may_see_the_run(
    alice_client: TestClient,
    admin_client: TestClient,
    ctx: AppContext,
    alice: Account,
    make_user: Callable[..., Account],
    client_for: Callable[[Account | None], TestClient],
) -> None:
    run_id, _ = make_run(ctx.sessions, alice.id)
    assert ctx.deliver is not None
    worker = start_first_step(ctx.sessions, ctx.deliver, run_id)

    def running(client: TestClient) -> dict[str, Any]:
        body = listed(client, "?state=up")
        (step,) = next(w for w in body["data"] if w["id"] == worker)["running"]
        assert step["attempt"] == 1 and step["started_at"].endswith("Z")
        return {"run_id": step["run_id"], "step": step["step"]}

    assert running(alice_client) == {"run_id": run_id, "step": "first"}
    assert running(admin_client) == {"run_id": run_id, "step": "first"}
    bob_client = client_for(make_user("bob"))
    assert running(bob_client) == {"run_id": None, "step": None}
    assert run_id not in bob_client.get(URL).text


def test_queue_depth_counts_the_steps_dispatched_and_not_started(
    alice_client: TestClient, ctx: AppContext, alice: Account
) -> None:
    assert listed(alice_client)["queues"] == []
    for _ in range(3):
        make_run(ctx.sessions, alice.id)  # each dispatches its first step to "fast"
    assert listed(alice_client)["queues"] == [{"name": "fast", "depth": 3}]
    started, _ = make_run(ctx.sessions, alice.id)
    assert ctx.deliver is not None
    start_first_step(ctx.sessions, ctx.deliver, started)
    assert listed(alice_client)["queues"] == [{"name": "fast", "depth": 3}]


def test_queues_served_by_live_workers_are_listed_with_nothing_waiting(
    alice_client: TestClient, ctx: AppContext
) -> None:
    make_worker(ctx.sessions)
    assert listed(alice_client)["queues"] == [{"name": "fast", "depth": 0}]
