"""Two API processes sharing PostgreSQL, the data directory and Redis events: a WebSocket client
on each receives the events of a run submitted through one of them (the issue's test).

The processes are real servers (``datamill serve``) and the clients real WebSocket clients
(``websockets``). Only the first process has a worker pool: every event of the run is published
there, and reaches the second process through Redis alone.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from datamill.auth.sessions import create_token
from datamill.auth.users import create_user
from datamill.config import Settings
from datamill.db.engine import make_engine, make_session_factory
from datamill.db.migrate import upgrade
from tests.fixtures.db import TEST_SECRET, make_settings
from tests.fixtures.servers import Server
from tests.integration.events.event_runs import ECHO, PIPELINE

EVENTS_DB = 11
"""The Redis database (and so the channel, ``datamill:events:11``) of this test's servers."""
RUN_SECONDS = 60.0


@pytest.fixture
def servers(
    tmp_path: Path, postgres_url: str, redis_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, Server]]:
    """Process A with one pool worker and process B with none, on one database and Redis."""
    events_url = redis_url.rsplit("/", 1)[0] + f"/{EVENTS_DB}"
    env = {
        "DATAMILL_DATA_DIR": str(tmp_path / "data"),
        "DATAMILL_DATABASE_URL": postgres_url,
        "DATAMILL_SECRET_KEY": TEST_SECRET,
        "DATAMILL_EVENTS_URL": events_url,
        "DATAMILL_TICK_SECONDS": "0.5",
    }
    settings = make_settings(tmp_path / "data", postgres_url)
    engine = make_engine(settings)
    upgrade(settings, engine)  # so that the two servers start together on a migrated schema
    engine.dispose()
    started = [
        Server("A", {**env, "DATAMILL_WORKERS": "1"}, tmp_path),
        Server("B", {**env, "DATAMILL_WORKERS": "0"}, tmp_path),
    ]
    first, second = started
    try:
        first.wait_healthy()
        second.wait_healthy()
        yield first, second
    finally:
        for server in started:
            server.stop()
        report = getattr(request.node, "rep_call", None)  # set by conftest.py
        if report is None or report.failed:
            for server in started:
                sys.stderr.write(f"--- log of server {server.name} ---\n{server.output()}\n")


def seed(settings: Settings) -> tuple[str, str]:
    """An admin and alice, each with an API token: alice's and the admin's tokens."""
    engine = make_engine(settings)
    try:
        with make_session_factory(engine)() as db:
            admin = create_user(db, "root", "password-123", "admin")
            alice = create_user(db, "alice", "password-123")
            admin_token, _ = create_token(db, TEST_SECRET, admin, "test")
            alice_token, _ = create_token(db, TEST_SECRET, alice, "test")
            db.commit()
            return alice_token, admin_token
    finally:
        engine.dispose()


async def greeted(url: str, token: str) -> ClientConnection:
    socket_url = url.replace("http://", "ws://") + "/api/v1/events"
    query = f"?token={token}&types=run.updated,step.updated"
    connection = await connect(socket_url + query, open_timeout=10)
    greeting = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert greeting["type"] == "subscribed", greeting
    return connection


async def run_events(connection: ClientConnection) -> list[dict[str, Any]]:
    """The run and step events received until a run has ended (the test submits one)."""
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(RUN_SECONDS):
        while True:
            event = json.loads(await connection.recv())
            events.append(event)
            ended = event["data"]["state"] in ("succeeded", "failed", "cancelled")
            if event["type"] == "run.updated" and ended:
                return events


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    return [(e["type"], e["data"].get("step"), e["data"]["state"]) for e in events]


def test_both_api_processes_deliver_the_events_of_a_run_submitted_through_one(
    servers: tuple[Server, Server], tmp_path: Path, postgres_url: str
) -> None:
    first, second = servers
    alice_token, admin_token = seed(make_settings(tmp_path / "data", postgres_url))
    admin = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=first.url, headers=admin, timeout=30) as http:
        assert http.post("/api/v1/tasks", json=ECHO).status_code == 201
        yaml = {"Content-Type": "application/yaml"}
        assert http.post("/api/v1/pipelines", content=PIPELINE, headers=yaml).status_code == 201

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
        on_first = await greeted(first.url, alice_token)
        on_second = await greeted(second.url, alice_token)
        try:
            watch_first = asyncio.create_task(run_events(on_first))
            watch_second = asyncio.create_task(run_events(on_second))
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
                reply = await http.post(
                    "/api/v1/pipelines/two-echoes/runs",
                    json={"params": {}, "inputs": {}},
                    headers={"Authorization": f"Bearer {alice_token}"},
                )
            assert reply.status_code == 202, reply.text
            return await watch_first, await watch_second, reply.json()["run_id"]
        finally:
            await on_first.close()
            await on_second.close()

    here, there, run_id = asyncio.run(scenario())
    assert summary(here) == summary(there)
    assert here == there  # the same messages, timestamps included
    assert ("run.updated", None, "succeeded") in summary(there)
    for step in ("first", "second"):
        assert ("step.updated", step, "running") in summary(there)
        assert ("step.updated", step, "succeeded") in summary(there)
    assert all(event["id"] == event["data"]["run_id"] == run_id for event in there)
