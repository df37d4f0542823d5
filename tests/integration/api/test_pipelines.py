"""Saving pipelines (every save a version), reading, checking and their interface, over the API."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.fixtures.pipelines import JSON, YAML, post_spec
from tests.fixtures.users import Account
from tests.unit.pipelines.specimens import CLEAN_AND_FLAG_JSON, CLEAN_AND_FLAG_YAML, FLAG_OUTLIERS

PIPELINES = "/api/v1/pipelines"


def test_saving_a_pipeline_makes_version_1_then_2_and_lists_the_versions(
    alice_client: TestClient, saved_pipeline: dict[str, Any], pipeline_document: dict[str, Any]
) -> None:
    assert saved_pipeline["name"] == "clean-and-flag"
    assert saved_pipeline["latest_version"] == 1
    assert saved_pipeline["owner"] == "alice"
    assert saved_pipeline["source"] == CLEAN_AND_FLAG_YAML
    assert saved_pipeline["spec"]["steps"]["flag"]["with"]["k"] == "${params.k}"

    pipeline_document["description"] = "Second take"
    second = post_spec(alice_client, PIPELINES, pipeline_document)
    assert second["latest_version"] == 2
    assert second["id"] == saved_pipeline["id"]
    assert second["description"] == "Second take"

    versions = alice_client.get(f"{PIPELINES}/clean-and-flag/versions").json()
    assert versions["count"] == 2
    assert [(v["version"], v["description"]) for v in versions["data"]] == [
        (2, "Second take"),
        (1, ""),
    ]
    assert versions["data"][0]["created_by"] == "alice"
    first = alice_client.get(f"{PIPELINES}/clean-and-flag/versions/1").json()
    assert (first["pipeline"], first["version"]) == ("clean-and-flag", 1)
    assert first["source"] == CLEAN_AND_FLAG_YAML
    assert first["spec"] == saved_pipeline["spec"]


def test_get_answers_the_latest_version_with_its_spec(
    alice_client: TestClient, saved_pipeline: dict[str, Any]
) -> None:
    post_spec(alice_client, PIPELINES, CLEAN_AND_FLAG_JSON)
    latest = alice_client.get(f"{PIPELINES}/clean-and-flag").json()
    assert latest["latest_version"] == 2
    assert latest["source"] == CLEAN_AND_FLAG_JSON
    assert latest["spec"] == saved_pipeline["spec"]  # the same pipeline in the other syntax


def test_pipelines_are_readable_by_every_signed_in_user(
    saved_pipeline: dict[str, Any],
    make_user: Callable[..., Account],
    client_for: Callable[[Account | None], TestClient],
) -> None:
    bob = client_for(make_user("bob"))
    for path in ("", "/clean-and-flag", "/clean-and-flag/versions", "/clean-and-flag/versions/1"):
        assert bob.get(f"{PIPELINES}{path}").status_code == 200, path
    assert bob.get(f"{PIPELINES}/clean-and-flag/interface").status_code == 200
    listed = bob.get(PIPELINES).json()
    assert listed["count"] == 1
    assert listed["data"][0]["owner"] == "alice"
    assert "spec" not in listed["data"][0]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PIPELINES),
        ("POST", PIPELINES),
        ("POST", f"{PIPELINES}/check"),
        ("GET", f"{PIPELINES}/clean-and-flag"),
        ("GET", f"{PIPELINES}/clean-and-flag/versions"),
        ("GET", f"{PIPELINES}/clean-and-flag/versions/1"),
        ("GET", f"{PIPELINES}/clean-and-flag/interface"),
    ],
)
def test_anonymous_callers_get_401_on_every_pipeline_endpoint(
    saved_pipeline: dict[str, Any],
    client_for: Callable[[Account | None], TestClient],
    method: str,
    path: str,
) -> None:
    response = client_for(None).request(
        method, path, content=CLEAN_AND_FLAG_YAML.encode(), headers=YAML
    )
    assert response.status_code == 401


def test_another_member_cannot_add_a_version_to_my_pipeline(
    saved_pipeline: dict[str, Any],
    make_user: Callable[..., Account],
    client_for: Callable[[Account | None], TestClient],
    alice_client: TestClient,
) -> None:
    bob = client_for(make_user("bob"))
    refused = post_spec(bob, PIPELINES, CLEAN_AND_FLAG_YAML, expect=403)
    assert "belongs to alice" in refused["detail"]
    assert alice_client.get(f"{PIPELINES}/clean-and-flag").json()["latest_version"] == 1


def test_an_admin_adds_a_version_to_anyones_pipeline(
    saved_pipeline: dict[str, Any], admin_client: TestClient
) -> None:
    saved = post_spec(admin_client, PIPELINES, CLEAN_AND_FLAG_YAML)
    assert (saved["latest_version"], saved["owner"]) == (2, "alice")
    versions = admin_client.get(f"{PIPELINES}/clean-and-flag/versions").json()["data"]
    assert [v["created_by"] for v in versions] == ["root", "alice"]


def test_check_reports_every_error_with_its_path_and_saves_nothing(
    alice_client: TestClient, registered_tasks: list[str], pipeline_document: dict[str, Any]
) -> None:
    steps = pipeline_document["steps"]
    steps["dedupe"]["depends_on"] = ["flag"]  # a cycle: flag already needs dedupe
    steps["flag"]["with"]["table"] = "${steps.dedupe.outputs.tables}"  # dangling reference
    del steps["flag"]["with"]["k"]  # a missing required parameter
    steps["extra"] = {"task": "no-such-task"}
    response = alice_client.post(
        f"{PIPELINES}/check", content=json.dumps(pipeline_document), headers=JSON
    )
    assert response.status_code == 200
    reply = response.json()
    assert reply["ok"] is False
    assert reply["errors"] == [
        {
            "loc": ["steps", "flag", "with", "table"],
            "msg": "step 'dedupe' has no output 'tables' (task 'drop-duplicates' has: table)",
        },
        {
            "loc": ["steps", "flag", "with", "k"],
            "msg": "missing parameter 'k' of task 'flag-outliers'",
        },
        {"loc": ["steps", "extra", "task"], "msg": "unknown task 'no-such-task'"},
        {
            "loc": ["steps", "dedupe", "depends_on"],
            "msg": "the steps depend on each other in a cycle: dedupe -> flag -> dedupe "
            "(through depends_on or references; each needs the next)",
        },
    ]
    assert alice_client.get(PIPELINES).json()["count"] == 0


def test_check_of_a_good_pipeline_is_ok_in_yaml_and_in_json(
    alice_client: TestClient, registered_tasks: list[str]
) -> None:
    for text in (CLEAN_AND_FLAG_YAML, CLEAN_AND_FLAG_JSON):
        reply = alice_client.post(f"{PIPELINES}/check", content=text.encode(), headers=YAML)
        assert reply.json() == {"ok": True, "errors": []}
    assert alice_client.get(PIPELINES).json()["count"] == 0


def test_check_of_text_that_is_no_pipeline_says_why(alice_client: TestClient) -> None:
    unreadable = alice_client.post(f"{PIPELINES}/check", content=b"steps: [", headers=YAML)
    assert unreadable.status_code == 200
    assert unreadable.json()["ok"] is False
    assert unreadable.json()["errors"][0]["loc"] == []
    shapeless = alice_client.post(f"{PIPELINES}/check", content=b"name: x\n", headers=YAML)
    assert shapeless.json()["errors"] == [{"loc": ["steps"], "msg": "field required"}]


def test_saving_a_pipeline_that_does_not_check_is_422_with_every_error_under_body(
    alice_client: TestClient, registered_tasks: list[str], pipeline_document: dict[str, Any]
) -> None:
    pipeline_document["steps"]["flag"]["task"] = "flag-outlier"
    pipeline_document["outputs"]["count"] = "${steps.nowhere.outputs.count}"
    body = post_spec(alice_client, PIPELINES, pipeline_document, expect=422)
    assert body["type"] == "urn:datamill:problem:invalid-spec"
    assert body["errors"] == [
        {"loc": ["body", "steps", "flag", "task"], "msg": "unknown task 'flag-outlier'"},
        {"loc": ["body", "outputs", "count"], "msg": "unknown step 'nowhere'"},
    ]
    assert body["detail"].startswith("The pipeline is invalid: steps.flag.task: unknown task")
    assert alice_client.get(f"{PIPELINES}/clean-and-flag").status_code == 404


def test_a_pipeline_that_cannot_be_parsed_is_422_under_body(alice_client: TestClient) -> None:
    body = post_spec(alice_client, PIPELINES, "name: Bad\nsteps: {}\n", expect=422)
    assert sorted(e["loc"] for e in body["errors"]) == [["body", "name"], ["body", "steps"]]


def test_the_interface_lists_inputs_and_params_with_their_defaults(
    alice_client: TestClient, saved_pipeline: dict[str, Any]
) -> None:
    reply = alice_client.get(f"{PIPELINES}/clean-and-flag/interface").json()
    assert reply == {
        "pipeline": "clean-and-flag",
        "version": 1,
        "inputs": {
            "table": {
                "kind": "table",
                "description": "",
                "validators": [
                    {"kind": "columns", "required": {"price": "float", "city": "text"}},
                    {"kind": "rows", "min": 1},
                ],
            }
        },
        "params": {
            "type": "object",
            "properties": {"k": {"type": "number", "default": 3, "minimum": 0}},
            "required": [],
            "additionalProperties": False,
        },
    }


def test_deleting_a_task_the_latest_version_uses_is_409_naming_the_pipeline(
    admin_client: TestClient,
    alice_client: TestClient,
    saved_pipeline: dict[str, Any],
    pipeline_document: dict[str, Any],
) -> None:
    response = admin_client.delete("/api/v1/tasks/flag-outliers")
    assert response.status_code == 409
    assert "'clean-and-flag'" in response.json()["detail"]
    assert admin_client.get("/api/v1/tasks/flag-outliers").status_code == 200

    del pipeline_document["steps"]["flag"]
    pipeline_document["outputs"] = {"result": "${steps.dedupe.outputs.table}"}
    post_spec(alice_client, PIPELINES, pipeline_document)  # version 2 no longer uses it
    assert admin_client.delete("/api/v1/tasks/flag-outliers").status_code == 204


def test_a_task_used_as_an_input_validator_cannot_be_deleted(
    admin_client: TestClient,
    alice_client: TestClient,
    pipeline_document: dict[str, Any],
    registered_tasks: list[str],
) -> None:
    validators = pipeline_document["inputs"]["table"]["validators"]
    validators.append({"kind": "task", "task": "check-prices"})
    post_spec(alice_client, PIPELINES, pipeline_document)
    assert admin_client.delete("/api/v1/tasks/check-prices").status_code == 409


def test_replacing_a_task_warns_about_the_pipelines_it_breaks(
    admin_client: TestClient, saved_pipeline: dict[str, Any]
) -> None:
    without_k = FLAG_OUTLIERS.replace("k: {type: number, minimum: 0}", "z: {type: number}")
    without_k = without_k.replace("required: [k, column]", "required: [z, column]")
    response = admin_client.put(
        "/api/v1/tasks/flag-outliers", content=without_k.encode(), headers=YAML
    )
    assert response.status_code == 200, response.text
    (warning,) = response.json()["warnings"]
    assert warning.startswith("pipeline 'clean-and-flag' (version 1) no longer checks: ")
    assert "steps.flag.with" in warning


def test_unknown_pipelines_and_versions_are_404_and_bad_numbers_422(
    alice_client: TestClient, saved_pipeline: dict[str, Any]
) -> None:
    assert alice_client.get(f"{PIPELINES}/nothing").status_code == 404
    assert alice_client.get(f"{PIPELINES}/nothing/interface").status_code == 404
    assert alice_client.get(f"{PIPELINES}/clean-and-flag/versions/7").status_code == 404
    for bad in ("0", "-1", str(2**40), "one"):
        response = alice_client.get(f"{PIPELINES}/clean-and-flag/versions/{bad}")
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["loc"] == ["path", "version"]


def test_nul_bytes_and_oversized_names_are_422_not_500(
    alice_client: TestClient, registered_tasks: list[str]
) -> None:
    for name in ("a%00b", "p" * 65):
        for tail in ("", "/versions", "/interface"):
            response = alice_client.get(f"{PIPELINES}/{name}{tail}")
            assert response.status_code == 422, (name, tail)
    nul = CLEAN_AND_FLAG_YAML.replace("name: clean-and-flag", 'name: "clean\\0flag"')
    body = post_spec(alice_client, PIPELINES, nul, expect=422)
    assert body["errors"][0]["loc"] == ["body", "name"]
    long_name = CLEAN_AND_FLAG_YAML.replace("name: clean-and-flag", f"name: {'c' * 500}")
    assert post_spec(alice_client, PIPELINES, long_name, expect=422)["errors"][0]["loc"] == [
        "body",
        "name",
    ]
    raw = alice_client.post(f"{PIPELINES}/check", content=b"name: a\x00\n", headers=YAML)
    assert raw.status_code == 422


def test_pipeline_list_is_paginated_by_name(
    alice_client: TestClient, registered_tasks: list[str], pipeline_document: dict[str, Any]
) -> None:
    for name in ("gamma", "alpha", "beta"):
        pipeline_document["name"] = name
        post_spec(alice_client, PIPELINES, pipeline_document)
    page = alice_client.get(PIPELINES, params={"limit": 2}).json()
    assert page["count"] == 3
    assert [p["name"] for p in page["data"]] == ["alpha", "beta"]
    assert page["data"][0]["latest_version"] == 1


def test_concurrent_saves_of_one_pipeline_each_make_their_own_version(
    app: FastAPI, alice: Account, saved_pipeline: dict[str, Any]
) -> None:
    def save(_: int) -> int:
        other = TestClient(app, headers={"Authorization": f"Bearer {alice.token}"})
        reply = other.post(PIPELINES, content=CLEAN_AND_FLAG_YAML.encode(), headers=YAML)
        assert reply.status_code == 201, reply.text
        version: int = reply.json()["latest_version"]
        return version

    with ThreadPoolExecutor(6) as pool:
        versions = sorted(pool.map(save, range(6)))
    assert versions == [2, 3, 4, 5, 6, 7]
