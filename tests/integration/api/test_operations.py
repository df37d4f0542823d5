"""Cleaning operations through the API: queued as runs on a real worker, landing as revisions,
with history, undo and redo, edits of earlier steps, and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.datasets import SMALL_CSV, upload
from tests.fixtures.runs import wait_for_run
from tests.fixtures.users import Account


def finished(run: dict[str, Any]) -> bool:
    return run["state"] in ("succeeded", "failed", "cancelled")


def apply(
    client: TestClient, dataset: str, op: str, expect: int = 202, **params: Any
) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/datasets/{dataset}/operations", json={"op": op, "params": params}
    )
    assert response.status_code == expect, response.text
    reply: dict[str, Any] = response.json()
    return reply


def applied(client: TestClient, dataset: str, op: str, **params: Any) -> dict[str, Any]:
    """Apply and wait for the run to end; the run."""
    run_id = apply(client, dataset, op, **params)["run_id"]
    return wait_for_run(client, run_id, finished)


def rows(client: TestClient, dataset: str) -> list[list[Any]]:
    body: dict[str, Any] = client.get(f"/api/v1/datasets/{dataset}/rows").json()
    return list(body["rows"])


def history(client: TestClient, dataset: str) -> dict[str, Any]:
    reply: dict[str, Any] = client.get(f"/api/v1/datasets/{dataset}/history").json()
    return reply


@pytest.fixture
def fruit(pool_client: TestClient) -> str:
    return str(upload(pool_client, SMALL_CSV, "fruit.csv")["id"])


def test_the_catalogue_lists_every_operation_with_its_schema(pool_client: TestClient) -> None:
    body = pool_client.get("/api/v1/operations").json()
    names = {item["name"] for item in body["data"]}
    assert {"fill-constant", "drop-duplicates", "treat-outliers", "merge-clusters"} <= names
    assert body["count"] == len(body["data"]) >= 30
    fill = next(item for item in body["data"] if item["name"] == "fill-constant")
    assert fill["params"]["properties"]["column"]["x-column"]["new"] is False
    assert fill["family"] == "missing" and fill["example"]


def test_an_operation_lands_as_the_new_head_revision(pool_client: TestClient, fruit: str) -> None:
    run = applied(pool_client, fruit, "fill-constant", column="price", value=0)
    assert run["state"] == "succeeded", run
    assert run["dataset"] == fruit and run["pipeline"] is None
    dataset = pool_client.get(f"/api/v1/datasets/{fruit}").json()
    assert dataset["head_revision"]["number"] == 2
    assert dataset["head_revision"]["source"]["operation"] == "fill-constant"
    assert [row[2] for row in rows(pool_client, fruit)] == [1.5, 0.0, 3.25, 10.0]
    steps = history(pool_client, fruit)["steps"]
    assert [(s["position"], s["operation"]) for s in steps] == [(0, None), (1, "fill-constant")]
    assert steps[1]["params"] == {"column": "price", "value": 0}
    assert steps[1]["changes"]["filled"] == 1 and steps[1]["author"] == "boss"


def test_undo_and_redo_move_the_head_along_the_history(pool_client: TestClient, fruit: str) -> None:
    applied(pool_client, fruit, "delete-rows", rows=[0])
    applied(pool_client, fruit, "change-case", columns=["name"], case="upper")
    assert [r[1] for r in rows(pool_client, fruit)] == ["BANANA", "CHERRY", "DÜRÜM"]
    undone = pool_client.post(f"/api/v1/datasets/{fruit}/undo")
    assert undone.status_code == 200 and undone.json()["number"] == 2
    assert [r[1] for r in rows(pool_client, fruit)] == ["banana", "cherry", "Dürüm"]
    state = history(pool_client, fruit)
    assert (state["head"], state["can_undo"], state["can_redo"]) == (1, True, True)
    assert pool_client.post(f"/api/v1/datasets/{fruit}/redo").json()["number"] == 3
    assert pool_client.post(f"/api/v1/datasets/{fruit}/redo").status_code == 409
    pool_client.post(f"/api/v1/datasets/{fruit}/undo")
    pool_client.post(f"/api/v1/datasets/{fruit}/undo")
    nothing = pool_client.post(f"/api/v1/datasets/{fruit}/undo")
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["detail"]
    assert len(rows(pool_client, fruit)) == 4


def test_an_operation_after_an_undo_drops_the_redo_branch_until_purged(
    pool_client: TestClient, fruit: str
) -> None:
    applied(pool_client, fruit, "delete-rows", rows=[0])
    pool_client.post(f"/api/v1/datasets/{fruit}/undo")
    applied(pool_client, fruit, "delete-rows", rows=[3])
    state = history(pool_client, fruit)
    assert [s["operation"] for s in state["steps"]] == [None, "delete-rows"]
    assert state["steps"][1]["params"] == {"rows": [3]} and not state["can_redo"]
    revisions = pool_client.get(f"/api/v1/datasets/{fruit}/revisions").json()
    assert revisions["count"] == 3  # the dropped branch's revision is still there
    purged = pool_client.post(f"/api/v1/datasets/{fruit}/purge").json()
    assert purged == {"removed": 1}
    assert pool_client.get(f"/api/v1/datasets/{fruit}/revisions").json()["count"] == 2


def test_editing_a_step_marks_later_steps_stale_and_rerun_brings_them_back(
    pool_client: TestClient, fruit: str
) -> None:
    applied(pool_client, fruit, "fill-constant", column="price", value=0)
    applied(pool_client, fruit, "derive-column", name="double", expression="price * 2")
    edit = pool_client.put(
        f"/api/v1/datasets/{fruit}/history/1", json={"params": {"column": "price", "value": 100}}
    )
    assert edit.status_code == 202, edit.text
    assert wait_for_run(pool_client, edit.json()["run_id"], finished)["state"] == "succeeded"
    state = history(pool_client, fruit)
    assert state["head"] == 1 and state["steps"][2]["stale"] and not state["can_redo"]
    assert pool_client.post(f"/api/v1/datasets/{fruit}/redo").status_code == 409
    rerun = pool_client.post(f"/api/v1/datasets/{fruit}/history/rerun")
    assert rerun.status_code == 202, rerun.text
    assert wait_for_run(pool_client, rerun.json()["run_id"], finished)["state"] == "succeeded"
    state = history(pool_client, fruit)
    assert state["head"] == 2 and not state["steps"][2]["stale"]
    assert [r[-1] for r in rows(pool_client, fruit)] == [3.0, 200.0, 6.5, 20.0]
    again = pool_client.post(f"/api/v1/datasets/{fruit}/history/rerun")
    assert again.status_code == 409


def test_a_failing_operation_fails_its_run_and_leaves_no_revision(
    pool_client: TestClient, fruit: str, tmp_path: Path
) -> None:
    run = applied(pool_client, fruit, "change-type", column="name", to="int", strict=True)
    assert run["state"] == "failed"
    assert "cannot be read as int" in run["steps"][0]["error"]
    assert pool_client.get(f"/api/v1/datasets/{fruit}").json()["head_revision"]["number"] == 1
    files = list((tmp_path / "pool" / "revisions" / fruit).glob("*"))
    assert len(files) == 1  # the upload's file only, no temporary left


def test_stale_base_revision_is_a_409(pool_client: TestClient, fruit: str) -> None:
    first = pool_client.get(f"/api/v1/datasets/{fruit}").json()["head_revision"]["id"]
    applied(pool_client, fruit, "round", column="price")
    response = pool_client.post(
        f"/api/v1/datasets/{fruit}/operations",
        json={"op": "round", "params": {"column": "price"}, "base_revision": first},
    )
    assert response.status_code == 409
    assert "no longer the head" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (
            {"op": "fill-constant", "params": {"column": "nope", "value": 1}},
            ["body", "params", "column"],
        ),
        ({"op": "no-such-op"}, ["body", "op"]),
        ({"op": "round", "params": {"column": "name"}}, ["body", "params", "column"]),
        (
            {"op": "round", "params": {"column": "price", "digits": 99}},
            ["body", "params", "digits"],
        ),
        (
            {
                "op": "derive-column",
                "params": {"name": "x", "expression": "read_csv('/etc/passwd')"},
            },
            ["body", "params", "expression"],
        ),
        ({"op": "round", "params": {}, "extra": 1}, ["body", "extra"]),
    ],
)
def test_bad_operations_are_a_422_naming_the_field_and_queue_nothing(
    alice_client: TestClient, body: dict[str, Any], loc: list[Any]
) -> None:
    dataset = upload(alice_client, SMALL_CSV)["id"]
    response = alice_client.post(f"/api/v1/datasets/{dataset}/operations", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert loc in [error["loc"] for error in response.json()["errors"]]
    assert alice_client.get("/api/v1/runs").json()["count"] == 0


def test_a_second_operation_while_one_is_queued_is_a_409(alice_client: TestClient) -> None:
    dataset = upload(alice_client, SMALL_CSV)["id"]  # no worker here: the first stays queued
    apply(alice_client, dataset, "round", column="price")
    busy = apply(alice_client, dataset, "round", expect=409, column="price")
    assert "still running" in busy["detail"]
    assert alice_client.post(f"/api/v1/datasets/{dataset}/undo").status_code == 409


def test_only_the_owner_changes_a_dataset(
    alice_client: TestClient, client_for: Any, make_user: Any, client: TestClient
) -> None:
    dataset = upload(alice_client, SMALL_CSV)["id"]
    bob = client_for(make_user("bob"))
    assert apply(bob, dataset, "round", expect=404, column="price")["status"] == 404
    alice_client.patch(f"/api/v1/datasets/{dataset}", json={"sharing": {"users": ["bob"]}})
    assert apply(bob, dataset, "round", expect=403, column="price")["status"] == 403
    assert bob.get(f"/api/v1/datasets/{dataset}/history").status_code == 200
    assert bob.post(f"/api/v1/datasets/{dataset}/undo").status_code == 403
    anonymous = client.post(f"/api/v1/datasets/{dataset}/operations", json={"op": "round"})
    assert anonymous.status_code == 401


def test_clusters_preview_then_merge(pool_client: TestClient) -> None:
    csv = "city\nNew York\nnew york\nNew York \nBoston\nboston\nBoston\nParis\n"
    dataset = upload(pool_client, csv, "cities.csv")["id"]
    reply = pool_client.get(f"/api/v1/datasets/{dataset}/clusters", params={"column": "city"})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["distinct"] == 6 and body["method"] == "fingerprint"
    york, boston = body["clusters"]  # both of 3 rows: more distinct values first
    assert boston["rows"] == 3 and boston["suggestion"] == "Boston"
    assert boston["values"][0] == {"value": "Boston", "count": 2}
    assert {v["value"] for v in york["values"]} == {"New York", "new york", "New York "}
    chosen = [{"values": [v["value"] for v in c["values"]], "to": c["suggestion"]}
              for c in body["clusters"]]  # fmt: skip
    run = applied(pool_client, dataset, "merge-clusters", column="city", clusters=chosen)
    assert run["state"] == "succeeded"
    cities = sorted({row[0] for row in rows(pool_client, dataset)})
    assert len(cities) == 3 and "Boston" in cities and "Paris" in cities
    bad = pool_client.get(f"/api/v1/datasets/{dataset}/clusters", params={"column": "nope"})
    assert bad.status_code == 422
    assert (
        pool_client.get(
            f"/api/v1/datasets/{dataset}/clusters", params={"column": "city", "method": "soundex"}
        ).status_code
        == 422
    )


def test_facets_and_ready_views_follow_the_grid_view(alice_client: TestClient) -> None:
    csv = "city,price\nOslo,1\nRome,2\nOslo,\nOslo,1\nParis,1000\nRome,3\n"
    dataset = upload(alice_client, csv, "facets.csv")["id"]
    base = f"/api/v1/datasets/{dataset}"
    counts = alice_client.get(f"{base}/facets/values", params={"column": "city"}).json()
    assert counts["values"][0] == {"value": "Oslo", "count": 3}
    assert (counts["rows"], counts["nulls"], counts["distinct"]) == (6, 0, 3)
    cheap = '[{"column": "price", "op": "lt", "value": 3}]'
    filtered = alice_client.get(
        f"{base}/facets/values", params={"column": "city", "filter": cheap}
    ).json()
    assert filtered["rows"] == 3 and filtered["values"][0] == {"value": "Oslo", "count": 2}
    histogram = alice_client.get(
        f"{base}/facets/histogram", params={"column": "price", "bins": 2}
    ).json()
    assert [b["count"] for b in histogram["bins"]] == [4, 1] and histogram["nulls"] == 1
    nulls = alice_client.get(f"{base}/views/nulls").json()
    assert nulls["positions"] == [2] and nulls["total"] == 1
    dups = alice_client.get(f"{base}/views/duplicates", params={"columns": "city"}).json()
    assert dups["positions"] == [0, 2, 3, 1, 5] and dups["total"] == 5
    outliers = alice_client.get(f"{base}/views/outliers", params={"column": "price"}).json()
    assert outliers["positions"] == [4] and outliers["rows"] == [["Paris", 1000]]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("facets/values", {"column": "nope"}),
        ("facets/histogram", {"column": "city"}),
        ("facets/values", {"column": "city", "filter": "[{"}),
        ("views/outliers", {}),
        ("views/duplicates", {"columns": "nope"}),
        ("views/everything", {}),
        ("chart", {"x": "city", "y": "price"}),
        ("chart", {"x": "price", "y": "nope"}),
        ("chart", {"x": "price", "y": "price", "kind": "pie"}),
        ("chart", {"x": "price", "y": "price", "points": "1"}),
    ],
)
def test_bad_facet_requests_are_a_422(
    alice_client: TestClient, path: str, params: dict[str, str]
) -> None:
    dataset = upload(alice_client, "city,price\nOslo,1\n", "f.csv")["id"]
    response = alice_client.get(f"/api/v1/datasets/{dataset}/{path}", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_chart_points_follow_the_grid_view_and_stay_small(
    alice_client: TestClient,
    make_user: Callable[..., Account],
    client_for: Callable[[Account | None], TestClient],
) -> None:
    csv = "day,sold,shop\n" + "".join(
        f"2025-01-{d:02d},{d * 10},{'ab'[d % 2]}\n" for d in range(1, 29)
    )
    dataset = upload(alice_client, csv, "sales.csv")["id"]
    url = f"/api/v1/datasets/{dataset}/chart"
    shop = '[{"column": "shop", "op": "eq", "value": "a"}]'
    line = alice_client.get(url, params={"x": "day", "y": "sold", "kind": "line", "filter": shop})
    assert line.status_code == 200, line.text
    body = line.json()
    assert (body["total"], body["reduced"], body["x"]["type"]) == (14, False, "date")
    assert body["points"][:2] == [["2025-01-02", 20.0], ["2025-01-04", 40.0]]
    sampled = alice_client.get(url, params={"x": "sold", "y": "sold", "points": 5}).json()
    assert len(sampled["points"]) == 5 and sampled["reduced"] is True
    stranger = client_for(make_user("bob"))
    assert stranger.get(url, params={"x": "sold", "y": "sold"}).status_code == 404


def test_compare_two_revisions_of_a_dataset(pool_client: TestClient, fruit: str) -> None:
    first = pool_client.get(f"/api/v1/datasets/{fruit}").json()["head_revision"]["id"]
    applied(pool_client, fruit, "fill-constant", column="price", value=0)
    reply = pool_client.get(f"/api/v1/datasets/{fruit}/compare", params={"from": first})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert (body["match"], body["changed"], body["cells_changed"]) == (
        "position", 1, {"price": 1},
    )  # fmt: skip
    assert body["sample"]["changed"] == [
        {"at": 1, "cells": {"price": {"before": None, "after": 0.0}}}
    ]
    keyed = pool_client.get(
        f"/api/v1/datasets/{fruit}/compare", params={"from": first, "key": "nope"}
    )
    assert keyed.status_code == 422
    unknown = pool_client.get(f"/api/v1/datasets/{fruit}/compare", params={"from": "nope"})
    assert unknown.status_code == 404


def test_a_recipe_exported_from_one_dataset_replays_on_another(
    pool_client: TestClient, fruit: str
) -> None:
    assert pool_client.get(f"/api/v1/datasets/{fruit}/recipe").json()["steps"] == []
    applied(pool_client, fruit, "fill-constant", column="price", value=0)
    applied(pool_client, fruit, "change-case", columns=["name"], case="upper")
    applied(pool_client, fruit, "round", column="price")
    pool_client.post(f"/api/v1/datasets/{fruit}/undo")
    recipe = pool_client.get(f"/api/v1/datasets/{fruit}/recipe").json()
    assert recipe == {
        "datamill_recipe": 1,
        "dataset": "fruit",
        "steps": [
            {"op": "fill-constant", "params": {"column": "price", "value": 0}},
            {"op": "change-case", "params": {"columns": ["name"], "case": "upper"}},
        ],
    }
    other = upload(pool_client, "id,name,price\n9,kiwi,\n10,fig,2.5\n", "other.csv")["id"]
    reply = pool_client.post(f"/api/v1/datasets/{other}/recipe", json=recipe)
    assert reply.status_code == 202, reply.text
    assert wait_for_run(pool_client, reply.json()["run_id"], finished)["state"] == "succeeded"
    assert rows(pool_client, other) == [[9, "KIWI", 0.0], [10, "FIG", 2.5]]
    assert [s["operation"] for s in history(pool_client, other)["steps"]] == [
        None, "fill-constant", "change-case",
    ]  # fmt: skip


def test_a_replay_stops_at_the_first_failing_step_with_its_reason(
    pool_client: TestClient, fruit: str
) -> None:
    recipe = {
        "steps": [
            {"op": "delete-rows", "params": {"rows": [0]}},
            {"op": "change-type", "params": {"column": "name", "to": "int", "strict": True}},
            {"op": "round", "params": {"column": "price"}},
        ]
    }
    reply = pool_client.post(f"/api/v1/datasets/{fruit}/recipe", json=recipe)
    run = wait_for_run(pool_client, reply.json()["run_id"], finished)
    assert run["state"] == "failed"
    states = {s["name"]: s["state"] for s in run["steps"]}
    assert states == {"op_001": "succeeded", "op_002": "failed", "op_003": "upstream_failed"}
    assert "cannot be read as int" in run["steps"][1]["error"]
    assert history(pool_client, fruit)["head"] == 1  # the first step landed, nothing after


@pytest.mark.parametrize(
    ("recipe", "loc"),
    [
        ({"steps": []}, ["body"]),
        ({"steps": [{"op": "round", "params": {"column": "price"}}, {"op": "nope"}]},
         ["body", "steps", 1, "op"]),
        ({"steps": [{"op": "round", "params": {"column": "nope"}}]},
         ["body", "steps", 0, "params", "column"]),
        ({"steps": [{"op": "round", "params": {"column": "price"}},
                    {"op": "round", "params": {"digits": "x"}}]},
         ["body", "steps", 1, "params", "digits"]),
        ({"datamill_recipe": 2, "steps": [{"op": "round"}]}, ["body", "datamill_recipe"]),
    ],
)  # fmt: skip
def test_a_recipe_that_cannot_run_is_a_422_naming_the_step(
    alice_client: TestClient, recipe: dict[str, Any], loc: list[Any]
) -> None:
    dataset = upload(alice_client, SMALL_CSV)["id"]
    response = alice_client.post(f"/api/v1/datasets/{dataset}/recipe", json=recipe)
    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["errors"]]


def test_a_recipe_published_as_a_pipeline_cleans_a_new_upload(
    pool_client: TestClient, fruit: str
) -> None:
    applied(pool_client, fruit, "fill-constant", column="price", value=0)
    applied(pool_client, fruit, "change-case", columns=["name"], case="upper")
    reply = pool_client.post(
        f"/api/v1/datasets/{fruit}/recipe/pipeline", json={"name": "clean-fruit"}
    )
    assert reply.status_code == 201, reply.text
    spec = reply.json()["spec"]
    assert [s["task"] for s in spec["steps"].values()] == ["op-fill-constant", "op-change-case"]
    assert spec["outputs"] == {"table": "${steps.step_002.outputs.table}"}
    run = pool_client.post(
        "/api/v1/pipelines/clean-fruit/runs",
        files={"table": ("more.csv", b"id,name,price\n7,plum,\n8,fig,2\n")},
    )
    assert run.status_code == 202, run.text
    done = wait_for_run(pool_client, run.json()["run_id"], finished)
    assert done["state"] == "succeeded", done
    artifact = next(a for a in done["artifacts"] if a["step"] == "step_002")
    saved = pool_client.post(
        f"/api/v1/runs/{done['id']}/artifacts/{artifact['id']}/dataset", json={"name": "cleaned"}
    )
    assert saved.status_code == 201, saved.text
    assert rows(pool_client, saved.json()["id"]) == [[7, "PLUM", 0.0], [8, "FIG", 2.0]]


def test_publishing_needs_operations_and_a_name_of_ones_own(
    pool_client: TestClient, fruit: str, alice_client: TestClient
) -> None:
    empty = pool_client.post(f"/api/v1/datasets/{fruit}/recipe/pipeline", json={"name": "x"})
    assert empty.status_code == 422 and "no operation" in empty.json()["detail"]
    bad = pool_client.post(f"/api/v1/datasets/{fruit}/recipe/pipeline", json={"name": "Bad Name"})
    assert bad.status_code == 422


def test_a_registered_task_cannot_take_the_builtin_prefix(admin_client: TestClient) -> None:
    task = {"name": "op-mine", "kind": "command", "command": ["true"]}
    reply = admin_client.post("/api/v1/tasks", json=task)
    assert reply.status_code == 422
    assert "built-in operations" in reply.text


def test_the_new_revision_is_pushed_to_whoever_watches_the_dataset(
    pool_client: TestClient, fruit: str
) -> None:
    url = f"/api/v1/events?dataset={fruit}&types=dataset.revision"
    with pool_client.websocket_connect(url) as ws:
        assert ws.receive_json()["type"] == "subscribed"
        run_id = apply(pool_client, fruit, "round", column="price")["run_id"]
        event = ws.receive_json()
    assert event["type"] == "dataset.revision" and event["id"] == fruit
    assert event["data"]["run_id"] == run_id and event["data"]["number"] == 2
    assert {"name": "price", "type": "float"} in event["data"]["columns"]


def test_a_cancelled_operation_makes_no_revision_and_frees_the_dataset(
    pool_client: TestClient, fruit: str
) -> None:
    sleepy = {"name": "sleepy", "kind": "command", "command": ["sleep", "30"]}
    pool_client.post("/api/v1/tasks", json=sleepy).raise_for_status()
    pipeline = {"name": "hold", "steps": {"wait": {"task": "sleepy"}}}
    pool_client.post("/api/v1/pipelines", json=pipeline).raise_for_status()
    holding = pool_client.post("/api/v1/pipelines/hold/runs", json={}).json()["run_id"]
    wait_for_run(pool_client, holding, lambda r: r["state"] == "running")  # the one worker
    queued = apply(pool_client, fruit, "round", column="price")["run_id"]
    assert pool_client.post(f"/api/v1/runs/{queued}/cancel").status_code == 202
    assert wait_for_run(pool_client, queued, finished)["state"] == "cancelled"
    pool_client.post(f"/api/v1/runs/{holding}/cancel")
    assert history(pool_client, fruit)["head"] == 0
    assert history(pool_client, fruit)["running"] is None
    assert applied(pool_client, fruit, "round", column="price")["state"] == "succeeded"


def test_a_dataset_is_not_deleted_while_an_operation_is_queued(alice_client: TestClient) -> None:
    dataset = upload(alice_client, SMALL_CSV)["id"]  # no worker here: the operation waits
    apply(alice_client, dataset, "round", column="price")
    refused = alice_client.delete(f"/api/v1/datasets/{dataset}")
    assert refused.status_code == 409 and "still running" in refused.json()["detail"]


def test_a_step_after_a_stale_one_cannot_be_edited(pool_client: TestClient, fruit: str) -> None:
    applied(pool_client, fruit, "fill-constant", column="price", value=0)
    applied(pool_client, fruit, "round", column="price")
    applied(pool_client, fruit, "change-case", columns=["name"], case="upper")
    edit = pool_client.put(
        f"/api/v1/datasets/{fruit}/history/1", json={"params": {"column": "price", "value": 1}}
    )
    wait_for_run(pool_client, edit.json()["run_id"], finished)
    later = pool_client.put(
        f"/api/v1/datasets/{fruit}/history/3",
        json={"params": {"columns": ["name"], "case": "lower"}},
    )
    assert later.status_code == 409 and "re-run the stale steps" in later.json()["detail"]


def test_purge_keeps_a_revision_a_running_pipeline_reads(pool2_client: TestClient) -> None:
    fruit = str(upload(pool2_client, SMALL_CSV, "fruit.csv")["id"])
    applied(pool2_client, fruit, "round", column="price")
    take = {"name": "take", "kind": "command", "command": ["sleep", "30"],
            "inputs": {"t": {"kind": "table"}}}  # fmt: skip
    pool2_client.post("/api/v1/tasks", json=take).raise_for_status()
    spec = {"name": "read", "inputs": {"t": {"kind": "table"}},
            "steps": {"use": {"task": "take", "with": {"t": "${inputs.t}"}}}}  # fmt: skip
    pool2_client.post("/api/v1/pipelines", json=spec).raise_for_status()
    reading = pool2_client.post(
        "/api/v1/pipelines/read/runs", json={"inputs": {"t": {"dataset": fruit}}}
    ).json()["run_id"]  # reads the head's file, and runs for a while
    wait_for_run(pool2_client, reading, lambda r: r["state"] == "running")
    pool2_client.post(f"/api/v1/datasets/{fruit}/undo")
    applied(pool2_client, fruit, "change-case", columns=["name"], case="upper")
    assert pool2_client.post(f"/api/v1/datasets/{fruit}/purge").json() == {"removed": 0}
    pool2_client.post(f"/api/v1/runs/{reading}/cancel")
    wait_for_run(pool2_client, reading, finished)
    assert pool2_client.post(f"/api/v1/datasets/{fruit}/purge").json() == {"removed": 1}


def test_no_registered_task_takes_the_builtin_prefix(admin_client: TestClient) -> None:
    task = {"name": "op-fill-statistic", "kind": "operation", "operation": "fill-statistic"}
    assert admin_client.post("/api/v1/tasks", json=task).status_code == 422
