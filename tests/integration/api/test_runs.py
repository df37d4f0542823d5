"""Submitting runs: 202 and the first dispatch, every refusal listed in one 422, fair use, a
pipeline broken by a later task change, and nothing left behind by a refused submission."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from datamill.context import AppContext
from datamill.db.models import Run, RunStep
from datamill.runs.orchestrator import ACTIVE_RUN_STATES
from tests.fixtures.datasets import upload
from tests.fixtures.runs import GOOD_DATA, GOOD_TABLE, TAKE_ALL, submit
from tests.fixtures.users import Account

CHECKED_FILES = {"data": ("data.csv", GOOD_DATA), "table": ("prices.csv", GOOD_TABLE)}


def run_count(ctx: AppContext) -> int:
    with ctx.sessions() as db:
        return db.scalar(select(func.count()).select_from(Run)) or 0


def leftovers(ctx: AppContext) -> list[Path]:
    """Files a submission may have written: run inputs, staging and temporary files."""
    data = ctx.settings.data_dir
    found = [p for p in (data / "inputs").rglob("*")] if (data / "inputs").exists() else []
    return found + [p for p in ctx.settings.tmp_dir.iterdir() if not p.name.startswith("duckdb")]


def error_locs(reply: dict[str, Any]) -> list[list[Any]]:
    return [e["loc"] for e in reply["errors"]]


def test_submission_answers_202_with_the_run_and_dispatches_its_first_step(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    response = alice_client.post("/api/v1/pipelines/nothing/runs", json={})
    assert response.status_code == 202, response.text
    reply = response.json()
    assert reply["state"] == "queued"
    assert response.headers["location"] == reply["url"] == f"/api/v1/runs/{reply['run_id']}"
    with ctx.sessions() as db:
        run = db.get(Run, reply["run_id"])
        assert run is not None and run.params == {} and run.inputs == {}
        step = db.scalar(select(RunStep).where(RunStep.run_id == run.id))
        assert step is not None
        assert (step.name, step.state, step.attempt) == ("only", "queued", 1)
        assert step.queued_at is not None  # dispatched


def test_multipart_submission_stores_files_and_ingests_tables_under_the_run(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    reply = submit(
        alice_client,
        "checked",
        files=CHECKED_FILES,
        form={"params": {"k": 2}, "inputs": {"code": "ABC"}},
    )
    run = alice_client.get(reply["url"]).json()
    prefix = f"inputs/{reply['run_id']}"
    assert run["inputs"] == {
        "data": f"{prefix}/data.csv",
        "table": f"{prefix}/table.parquet",
        "code": "ABC",
    }
    assert run["params"] == {"k": 2, "mode": "a"}
    data_dir = ctx.settings.data_dir
    assert (data_dir / run["inputs"]["data"]).read_bytes() == GOOD_DATA
    assert (data_dir / run["inputs"]["table"]).read_bytes()[:4] == b"PAR1"
    assert [p for p in ctx.settings.tmp_dir.iterdir() if p.name.startswith("run-inputs")] == []


def test_a_table_input_can_be_a_dataset_the_caller_can_read(
    alice_client: TestClient,
    run_pipelines: list[str],
    make_user: Any,
    client_for: Any,
) -> None:
    dataset = upload(alice_client, GOOD_TABLE, "prices.csv")
    form = {"params": {"k": 1}, "inputs": {"code": "XYZ", "table": {"dataset": dataset["id"]}}}
    reply = submit(alice_client, "checked", files={"data": CHECKED_FILES["data"]}, form=form)
    run = alice_client.get(reply["url"]).json()
    revision = dataset["head_revision"]["id"]
    assert run["inputs"]["table"] == f"revisions/{dataset['id']}/{revision}.parquet"

    bob = client_for(make_user("bob"))
    refused = submit(bob, "checked", files={"data": CHECKED_FILES["data"]}, form=form, expect=422)
    assert refused["errors"] == [
        {
            "loc": ["inputs", "table"],
            "msg": f"there is no dataset '{dataset['id']}' that you can read",
        }
    ]


def test_every_failing_parameter_input_and_validator_is_listed_at_once(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    files = {
        "data": ("data.txt", b"x" * 200),
        "table": ("prices.csv", b"price,town\nabc,Oslo\n"),
    }
    form = {"params": {"mode": "c", "extra": 1}, "inputs": {"code": "abc", "other": 1}}
    reply = submit(alice_client, "checked", files=files, form=form, expect=422)
    assert reply["type"] == "urn:datamill:problem:invalid"
    messages = {tuple(e["loc"]): e["msg"] for e in reply["errors"]}
    assert messages.pop(("params", "k")) == "field required"
    assert ("params", "mode") in messages and messages.pop(
        ("params", "extra")
    ) == "unknown parameter"
    assert messages.pop(("inputs", "other")) == "unknown input"
    data = messages.pop(("inputs", "data"))
    assert "expected a file ending in .csv" in data and "larger than 100 bytes" in data
    assert messages.pop(("inputs", "code")) == "does not match [A-Z]{3}"
    table = [e["msg"] for e in reply["errors"] if e["loc"] == ["inputs", "table"]]
    assert table == [
        "column 'price' is text, expected float",
        "missing column 'city' (text)",
        "1 rows, expected at least 2",
    ]
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []


def test_missing_and_ill_typed_values_are_refused(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    reply = submit(alice_client, "checked", {"params": {"k": "two"}}, expect=422)
    assert error_locs(reply) == [
        ["params", "k"],
        ["inputs", "data"],
        ["inputs", "table"],
        ["inputs", "code"],
    ]
    assert all(e["msg"] == "field required" for e in reply["errors"][1:])
    shape = submit(alice_client, "checked", {"params": [1], "inputs": {}}, expect=422)
    assert error_locs(shape) == [["params"]]
    kinds = submit(
        alice_client,
        "checked",
        {"params": {"k": 1}, "inputs": {"data": "a.csv", "table": "t", "code": 5}},
        expect=422,
    )
    assert {tuple(e["loc"]): e["msg"] for e in kinds["errors"]} == {
        ("inputs", "data"): "a file input is uploaded as a multipart part named 'data'",
        ("inputs", "table"): 'expected {"dataset": "<id>"}, or the table uploaded as a '
        "multipart part named 'table'",
        ("inputs", "code"): "expected text matching [A-Z]{3}",
    }
    assert run_count(ctx) == 0


def test_a_file_that_is_not_a_table_is_refused_as_a_table_input(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    files = {"data": CHECKED_FILES["data"], "table": ("empty.csv", b"")}
    form = {"params": {"k": 1}, "inputs": {"code": "ABC"}}
    reply = submit(alice_client, "checked", files=files, form=form, expect=422)
    assert error_locs(reply) == [["inputs", "table"]]
    assert reply["errors"][0]["msg"].startswith("cannot be read as a table: ")
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []


def test_a_task_validator_runs_the_task_on_the_input(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    refused = submit(
        alice_client, "copy-then-fail", files={"text": ("t.txt", b"xyz\n")}, expect=422
    )
    assert error_locs(refused) == [["inputs", "text"]]
    assert refused["errors"][0]["msg"].startswith(
        "refused by the validator task 'has-a': exit status 1"
    )
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []
    accepted = submit(alice_client, "copy-then-fail", files={"text": ("t.txt", b"abc\n")})
    assert alice_client.get(accepted["url"]).json()["state"] == "queued"


def test_a_member_at_the_limit_gets_429_and_an_admin_does_not(
    alice_client: TestClient,
    admin_client: TestClient,
    run_pipelines: list[str],
    ctx: AppContext,
) -> None:
    limit = ctx.settings.max_active_runs
    with ctx.sessions() as db:
        alice_runs = db.scalar(select(func.count()).select_from(Run)) or 0
    assert alice_runs == 0
    for _ in range(limit):
        submit(alice_client, "nothing")
    response = alice_client.post("/api/v1/pipelines/nothing/runs", json={})
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) > 0
    assert f"({limit})" in response.json()["detail"]
    # Fair use comes before reading the body: an upload is refused without being stored.
    big = alice_client.post(
        "/api/v1/pipelines/checked/runs", files={"data": ("d.csv", b"x" * 10_000)}
    )
    assert big.status_code == 429
    assert leftovers(ctx) == []
    for _ in range(2):
        submit(admin_client, "nothing")
    assert run_count(ctx) == limit + 2


def test_concurrent_submissions_cannot_pass_the_limit_together(
    alice: Account,
    alice_client: TestClient,
    client_for: Callable[[Account | None], TestClient],
    run_pipelines: list[str],
    ctx: AppContext,
) -> None:
    """Eight submissions at once for the last free slot: each passes the early check (no lock),
    and the check just before the run is created lets exactly one through."""
    limit = ctx.settings.max_active_runs
    for _ in range(limit - 1):
        submit(alice_client, "nothing")
    clients = [client_for(alice) for _ in range(8)]
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []

    def race(client: TestClient) -> None:
        barrier.wait()
        codes.append(client.post("/api/v1/pipelines/nothing/runs", json={}).status_code)

    threads = [threading.Thread(target=race, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(codes) == [202] + [429] * 7
    with ctx.sessions() as db:
        active = db.scalar(
            select(func.count())
            .select_from(Run)
            .where(Run.owner_id == alice.id, Run.state.in_(ACTIVE_RUN_STATES))
        )
    assert active == limit


def test_an_unknown_pipeline_or_version_is_404(
    alice_client: TestClient, run_pipelines: list[str]
) -> None:
    assert alice_client.post("/api/v1/pipelines/nowhere/runs", json={}).status_code == 404
    missing = alice_client.post("/api/v1/pipelines/nothing/runs", json={"version": 7})
    assert missing.status_code == 404
    assert "no version 7" in missing.json()["detail"]
    assert submit(alice_client, "nothing", {"version": 1})["state"] == "queued"


def test_a_pipeline_broken_by_a_later_task_change_is_409_naming_the_step(
    alice_client: TestClient, admin_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    changed = {**TAKE_ALL, "inputs": {"f": {"kind": "file"}}}
    response = admin_client.put("/api/v1/tasks/take-all", json=changed)
    assert response.status_code == 200, response.text
    files = CHECKED_FILES
    form = {"params": {"k": 1}, "inputs": {"code": "ABC"}}
    reply = submit(alice_client, "checked", files=files, form=form, expect=409)
    assert "steps.use.with.t" in reply["detail"]
    assert ["pipeline", "steps", "use", "with", "t"] in error_locs(reply)
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []


def test_bad_bodies_are_refused_precisely(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    url = "/api/v1/pipelines/nothing/runs"
    not_json = alice_client.post(url, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422
    assert error_locs(not_json.json()) == [["body"]]
    extra = alice_client.post(url, json={"parameters": {}})
    assert error_locs(extra.json()) == [["parameters"]]
    bad_field = alice_client.post(url, data={"params": "{"}, files={"x": ("x", b"1")})
    assert bad_field.status_code == 422
    assert error_locs(bad_field.json()) == [["params"]]
    odd_name = alice_client.post(url, files={"../etc": ("x", b"1")})
    assert odd_name.status_code == 422
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []


def test_inputs_sent_the_wrong_way_are_named(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    files = {**CHECKED_FILES, "code": ("code.txt", b"ABC")}
    form = {"params": {"k": 1}, "inputs": {"data": "again"}}
    reply = submit(alice_client, "checked", files=files, form=form, expect=422)
    assert {tuple(e["loc"]): e["msg"] for e in reply["errors"]} == {
        ("inputs", "data"): "sent twice: as a file and in the inputs field",
        ("inputs", "code"): "a value input is sent as JSON in the inputs field, not as a file",
    }
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []


def test_uploads_beyond_the_limit_are_cut_off_and_leave_nothing(
    alice_client: TestClient, run_pipelines: list[str], ctx: AppContext
) -> None:
    limit = ctx.settings.max_upload_bytes
    files = {
        "data": ("d.csv", b"x" * (limit // 2 + 1)),
        "table": ("t.csv", b"y" * (limit // 2 + 1)),
    }
    response = alice_client.post("/api/v1/pipelines/checked/runs", files=files)
    assert response.status_code == 413
    assert run_count(ctx) == 0
    assert leftovers(ctx) == []
