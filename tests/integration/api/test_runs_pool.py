"""Runs that really run: submitted over HTTP to an app with one local worker process."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.fixtures.runs import submit, wait_for_run

FINISHED = {"succeeded", "failed", "cancelled"}


def test_a_submitted_run_runs_to_success_on_the_worker(pool_client: TestClient) -> None:
    reply = submit(pool_client, "nothing")
    run = wait_for_run(pool_client, reply["run_id"], lambda r: r["state"] in FINISHED)
    assert run["state"] == "succeeded", run
    (step,) = run["steps"]
    assert step["state"] == "succeeded" and step["attempt"] == 1
    assert step["worker"] is not None and step["finished_at"] is not None
    assert run["finished_at"] is not None


def test_a_failed_step_is_retried_and_its_log_read(pool_client: TestClient) -> None:
    reply = submit(pool_client, "copy-then-fail", files={"text": ("t.txt", b"abc\n")})
    run = wait_for_run(pool_client, reply["run_id"], lambda r: r["state"] in FINISHED)
    assert run["state"] == "failed"
    steps = {s["name"]: s for s in run["steps"]}
    assert steps["copy"]["state"] == "succeeded" and steps["after"]["state"] == "failed"
    copied = run["outputs"]["copied"]
    assert copied.startswith(f"work/{run['id']}/copy/1/")
    log = pool_client.get(f"/api/v1/runs/{run['id']}/steps/copy/log", params={"follow": "true"})
    assert log.status_code == 200 and log.text == ""  # cp says nothing, and the step is over
    assert pool_client.post(f"/api/v1/runs/{run['id']}/cancel").status_code == 409
    retried = pool_client.post(f"/api/v1/runs/{run['id']}/retry")
    assert retried.status_code == 202
    again = wait_for_run(
        pool_client,
        run["id"],
        lambda r: r["state"] in FINISHED and r["steps"][1]["attempt"] == 2,
    )
    steps = {s["name"]: s for s in again["steps"]}
    assert steps["copy"]["attempt"] == 1  # succeeded steps are not run again
    assert (steps["after"]["state"], steps["after"]["attempt"]) == ("failed", 2)
    assert again["outputs"] == {"copied": copied}
