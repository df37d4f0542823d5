"""Reading and steering runs: lists and details as each user may see them, cancel and retry,
step logs (followed while the step runs), artifact downloads and artifacts kept as datasets."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from datamill.context import AppContext
from datamill.db.models import Artifact, Worker, utcnow
from datamill.runs import machine
from datamill.runs.orchestrator import apply
from tests.fixtures.runs import submit
from tests.fixtures.users import Account


@pytest.fixture
def bob_client(make_user: Any, client_for: Any) -> TestClient:
    client: TestClient = client_for(make_user("bob"))
    return client


@pytest.fixture
def alice_run(alice_client: TestClient, run_pipelines: list[str]) -> str:
    run_id: str = submit(alice_client, "nothing")["run_id"]
    return run_id


def add_worker(ctx: AppContext) -> str:
    with ctx.sessions() as db:
        worker = Worker(hostname="box", pid=4242, queues=["default"], state="busy")
        db.add(worker)
        db.commit()
        return worker.id


def transition(ctx: AppContext, run_id: str, change: Any, *args: Any) -> None:
    with ctx.sessions() as db:
        outcome = apply(db, run_id, change, *args, now=utcnow())
        assert outcome.applied
        db.commit()


def step_dir(ctx: AppContext, run_id: str, step: str = "only", attempt: int = 1) -> Path:
    path = ctx.settings.data_dir / "work" / run_id / step / str(attempt)
    path.mkdir(parents=True, exist_ok=True)
    return path


def add_artifact(ctx: AppContext, run_id: str, name: str, kind: str, path: Path) -> str:
    with ctx.sessions() as db:
        relative = path.relative_to(ctx.settings.data_dir).as_posix()
        size = path.stat().st_size if path.exists() else 0
        row = Artifact(
            run_id=run_id, step_name="only", name=name, kind=kind, path=relative, size_bytes=size
        )
        db.add(row)
        db.commit()
        return row.id


def test_a_run_reads_with_its_steps_and_their_dependencies(
    alice_client: TestClient, alice_run: str, alice: Account
) -> None:
    run = alice_client.get(f"/api/v1/runs/{alice_run}").json()
    assert run["id"] == alice_run
    assert (run["pipeline"], run["version"], run["owner"], run["state"]) == (
        "nothing",
        1,
        alice.username,
        "queued",
    )
    assert run["outputs"] == {} and run["artifacts"] == [] and run["error"] is None
    assert run["created_at"].endswith("Z") and run["finished_at"] is None
    (step,) = run["steps"]
    assert step["name"] == "only" and step["task"] == "noop"
    assert (step["state"], step["attempt"], step["max_attempts"]) == ("queued", 1, 1)
    assert step["queue"] == "default" and step["worker"] is None and step["depends_on"] == []
    assert step["queued_at"] is not None and step["started_at"] is None


def test_outputs_and_workers_appear_as_steps_succeed(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    reply = submit(alice_client, "copy-then-fail", files={"text": ("t.txt", b"abc\n")})
    run_id = reply["run_id"]
    worker = add_worker(ctx)
    transition(ctx, run_id, machine.started, "copy", 1, worker)
    running = alice_client.get(reply["url"]).json()
    copy = next(s for s in running["steps"] if s["name"] == "copy")
    assert copy["worker"] == {"id": worker, "hostname": "box", "pid": 4242}
    assert running["state"] == "running" and running["outputs"] == {}
    stored = f"work/{run_id}/copy/1/outputs/copy.txt"
    transition(ctx, run_id, machine.succeeded, "copy", 1, {"copy": stored})
    run = alice_client.get(reply["url"]).json()
    assert run["outputs"] == {"copied": stored}
    after = next(s for s in run["steps"] if s["name"] == "after")
    assert after["depends_on"] == ["copy"] and after["state"] == "queued"
    assert [s["name"] for s in run["steps"]] == ["copy", "after"]


def test_members_see_only_their_runs_and_admins_see_all(
    alice_client: TestClient,
    bob_client: TestClient,
    admin_client: TestClient,
    alice_run: str,
) -> None:
    bob_run = submit(bob_client, "nothing")["run_id"]
    submit(alice_client, "nothing")
    alice_list = alice_client.get("/api/v1/runs").json()
    assert alice_list["count"] == 2
    assert alice_list["data"][-1]["id"] == alice_run  # newest first
    assert alice_client.get("/api/v1/runs", params={"owner": "bob"}).json()["count"] == 0
    assert bob_client.get("/api/v1/runs").json()["count"] == 1
    assert admin_client.get("/api/v1/runs").json()["count"] == 3
    by_bob = admin_client.get("/api/v1/runs", params={"owner": "bob"}).json()
    assert [r["id"] for r in by_bob["data"]] == [bob_run]
    page = admin_client.get("/api/v1/runs", params={"offset": 1, "limit": 1}).json()
    assert page["count"] == 3 and len(page["data"]) == 1
    assert admin_client.get(f"/api/v1/runs/{alice_run}").status_code == 200
    for method, path in [
        ("GET", ""),
        ("POST", "/cancel"),
        ("POST", "/retry"),
        ("GET", "/steps/only/log"),
        ("GET", "/artifacts/00000000-0000-0000-0000-000000000000"),
    ]:
        response = bob_client.request(method, f"/api/v1/runs/{alice_run}{path}")
        assert response.status_code == 404, (method, path)
        assert "that you can see" in response.json()["detail"]
    assert alice_client.get("/api/v1/runs/not-an-id").status_code == 404


def test_lists_filter_by_pipeline_and_state(
    alice_client: TestClient, run_pipelines: list[str], alice_run: str
) -> None:
    assert alice_client.post(f"/api/v1/runs/{alice_run}/cancel").status_code == 202
    submit(alice_client, "nothing")
    cancelled = alice_client.get("/api/v1/runs", params={"state": "cancelled"}).json()
    assert [r["id"] for r in cancelled["data"]] == [alice_run]
    assert alice_client.get("/api/v1/runs", params={"pipeline": "nothing"}).json()["count"] == 2
    assert alice_client.get("/api/v1/runs", params={"pipeline": "checked"}).json()["count"] == 0
    assert alice_client.get("/api/v1/runs", params={"state": "lost"}).status_code == 422


def test_cancel_then_retry_and_the_409s_between(
    alice_client: TestClient, alice_run: str, ctx: AppContext
) -> None:
    url = f"/api/v1/runs/{alice_run}"
    cancelled = alice_client.post(f"{url}/cancel")
    assert cancelled.status_code == 202
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["steps"][0]["state"] == "cancelled"
    again = alice_client.post(f"{url}/cancel")
    assert again.status_code == 409
    assert "already been cancelled" in again.json()["detail"]
    retried = alice_client.post(f"{url}/retry")
    assert retried.status_code == 202
    assert retried.json()["state"] == "queued"
    step = retried.json()["steps"][0]
    assert (step["state"], step["attempt"]) == ("queued", 2)
    nothing = alice_client.post(f"{url}/retry")
    assert nothing.status_code == 409
    assert "nothing to retry" in nothing.json()["detail"]


def test_cancelling_a_finished_run_is_409(
    alice_client: TestClient, alice_run: str, ctx: AppContext
) -> None:
    worker = add_worker(ctx)
    transition(ctx, alice_run, machine.started, "only", 1, worker)
    transition(ctx, alice_run, machine.succeeded, "only", 1, {})
    response = alice_client.post(f"/api/v1/runs/{alice_run}/cancel")
    assert response.status_code == 409
    assert response.json()["detail"] == "The run has already succeeded; there is nothing to cancel."


def test_a_step_log_is_read_by_attempt(
    alice_client: TestClient, alice_run: str, ctx: AppContext
) -> None:
    url = f"/api/v1/runs/{alice_run}/steps/only/log"
    missing = alice_client.get(url)
    assert missing.status_code == 404
    assert "wrote no log yet" in missing.json()["detail"]
    (step_dir(ctx, alice_run) / "log.txt").write_bytes(b"hello\nworld\n")
    response = alice_client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "hello\nworld\n"
    assert alice_client.get(url, params={"attempt": 1}).text == "hello\nworld\n"
    later = alice_client.get(url, params={"attempt": 2})
    assert later.status_code == 404 and "no attempt 2" in later.json()["detail"]
    unknown = alice_client.get(f"/api/v1/runs/{alice_run}/steps/other/log")
    assert unknown.status_code == 404 and "has no step 'other'" in unknown.json()["detail"]
    hostile = alice_client.get(f"/api/v1/runs/{alice_run}/steps/..%2F..%2Fetc/log")
    assert hostile.status_code in {404, 422}


def test_following_a_log_streams_until_the_step_finishes(
    alice_client: TestClient, alice_run: str, ctx: AppContext
) -> None:
    worker = add_worker(ctx)
    transition(ctx, alice_run, machine.started, "only", 1, worker)
    log = step_dir(ctx, alice_run) / "log.txt"
    log.write_bytes(b"first\n")
    received: list[bytes] = []

    def follow() -> None:
        url = f"/api/v1/runs/{alice_run}/steps/only/log"
        with alice_client.stream("GET", url, params={"follow": "true"}) as response:
            assert response.status_code == 200
            received.extend(response.iter_bytes())

    reader = threading.Thread(target=follow)
    reader.start()
    deadline = time.monotonic() + 10
    while b"".join(received) != b"first\n" and time.monotonic() < deadline:
        time.sleep(0.05)
    with log.open("ab") as handle:
        handle.write(b"second\n")
    time.sleep(0.6)
    assert reader.is_alive()  # still following: the step runs
    with log.open("ab") as handle:
        handle.write(b"last\n")
    transition(ctx, alice_run, machine.succeeded, "only", 1, {})
    reader.join(10)
    assert not reader.is_alive()
    assert b"".join(received) == b"first\nsecond\nlast\n"


def test_artifacts_download_under_a_readable_name(
    alice_client: TestClient, alice_run: str, ctx: AppContext
) -> None:
    path = step_dir(ctx, alice_run) / "outputs" / "report.txt"
    path.parent.mkdir()
    path.write_bytes(b"the report\n")
    artifact = add_artifact(ctx, alice_run, "report", "file", path)
    run = alice_client.get(f"/api/v1/runs/{alice_run}").json()
    assert run["artifacts"] == [
        {"id": artifact, "step": "only", "name": "report", "kind": "file", "size_bytes": 11}
    ]
    response = alice_client.get(f"/api/v1/runs/{alice_run}/artifacts/{artifact}")
    assert response.status_code == 200
    assert response.content == b"the report\n"
    assert 'filename="only-report.txt"' in response.headers["content-disposition"]
    escaping = add_artifact(ctx, alice_run, "escape", "file", ctx.settings.data_dir / "../x")
    assert alice_client.get(f"/api/v1/runs/{alice_run}/artifacts/{escaping}").status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert alice_client.get(f"/api/v1/runs/{alice_run}/artifacts/{unknown}").status_code == 404


def test_a_table_artifact_becomes_a_dataset_of_the_caller(
    alice_client: TestClient, alice_run: str, ctx: AppContext, alice: Account
) -> None:
    outputs = step_dir(ctx, alice_run) / "outputs"
    outputs.mkdir()
    table = outputs / "table.parquet"
    duckdb.sql(
        f"COPY (SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) t(id, label)) "
        f"TO '{table}' (FORMAT parquet)"
    )
    artifact = add_artifact(ctx, alice_run, "table", "table", table)
    url = f"/api/v1/runs/{alice_run}/artifacts/{artifact}/dataset"
    response = alice_client.post(url, json={"name": "Kept table"})
    assert response.status_code == 201, response.text
    dataset = response.json()
    assert (dataset["name"], dataset["owner"]) == ("Kept table", alice.username)
    assert dataset["head_revision"]["row_count"] == 3
    rows = alice_client.get(f"/api/v1/datasets/{dataset['id']}/rows").json()
    assert rows["rows"] == [[1, "a"], [2, "b"], [3, "c"]]
    unnamed = alice_client.post(url, json={})
    assert unnamed.status_code == 201 and unnamed.json()["name"] == "table"

    text = outputs / "notes.txt"
    text.write_text("notes")
    note = add_artifact(ctx, alice_run, "notes", "file", text)
    refused = alice_client.post(f"/api/v1/runs/{alice_run}/artifacts/{note}/dataset", json={})
    assert refused.status_code == 422
    assert "not a table" in refused.json()["detail"]
