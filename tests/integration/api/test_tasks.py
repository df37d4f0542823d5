"""Registering, reading, replacing and deleting tasks through the API: admins write, all read."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.pipelines import JSON, YAML, post_spec
from tests.fixtures.users import Account
from tests.unit.pipelines.specimens import DROP_DUPLICATES, SAVE_FILE

SORT_LINES = """\
# Sorts the lines of a text file.
name: sort-lines
kind: command
command: [sort, -o, outputs/sorted.txt, "{inputs.text}"]
inputs:  {text: {kind: file}}
outputs: {sorted: {kind: file, path: outputs/sorted.txt}}
queue: default
env: {LC_ALL: C}
timeout: 60
retries: 2
"""

SORT_LINES_JSON: dict[str, Any] = {
    "name": "sort-lines",
    "kind": "command",
    "command": ["sort", "-r", "-o", "outputs/sorted.txt", "{inputs.text}"],
    "inputs": {"text": {"kind": "file"}},
    "outputs": {"sorted": {"kind": "file", "path": "outputs/sorted.txt"}},
}


def test_an_admin_creates_reads_replaces_and_deletes_a_task(admin_client: TestClient) -> None:
    created = post_spec(admin_client, "/api/v1/tasks", SORT_LINES)
    assert created["name"] == "sort-lines"
    assert (created["kind"], created["queue"], created["created_by"]) == (
        "command",
        "default",
        "root",
    )
    assert created["spec"]["timeout"] == 60
    assert created["spec"]["params"] == {"type": "object", "properties": {}}
    assert created["source"] == SORT_LINES  # kept verbatim, comment included
    assert created["created_at"].endswith("Z")

    read = admin_client.get("/api/v1/tasks/sort-lines").json()
    assert read == created

    replaced = admin_client.put(
        "/api/v1/tasks/sort-lines", content=json.dumps(SORT_LINES_JSON), headers=JSON
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.json()
    assert body["spec"]["command"][1] == "-r"
    assert body["spec"]["timeout"] == 3600  # replaced as a whole: defaults again
    assert body["id"] == created["id"]
    assert body["warnings"] == []

    assert admin_client.delete("/api/v1/tasks/sort-lines").status_code == 204
    missing = admin_client.get("/api/v1/tasks/sort-lines")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_task_sent_as_yaml_or_as_json_is_the_same_task(admin_client: TestClient) -> None:
    as_yaml = post_spec(admin_client, "/api/v1/tasks", SORT_LINES)
    admin_client.delete("/api/v1/tasks/sort-lines")
    as_json = post_spec(admin_client, "/api/v1/tasks", as_yaml["spec"])
    assert as_json["spec"] == as_yaml["spec"]
    assert json.loads(as_json["source"]) == as_yaml["spec"]


@pytest.mark.parametrize("content_type", ["text/yaml", "application/x-yaml", None])
def test_yaml_is_accepted_under_its_usual_media_types(
    admin_client: TestClient, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = admin_client.post("/api/v1/tasks", content=SORT_LINES.encode(), headers=headers)
    assert response.status_code == 201, response.text


def test_tasks_are_listed_by_name_and_paginated(
    admin_client: TestClient, registered_tasks: list[str]
) -> None:
    page = admin_client.get("/api/v1/tasks", params={"limit": 2}).json()
    assert page["count"] == 4
    assert [task["name"] for task in page["data"]] == ["check-prices", "drop-duplicates"]
    assert "source" not in page["data"][0]
    rest = admin_client.get("/api/v1/tasks", params={"offset": 2}).json()
    assert [task["name"] for task in rest["data"]] == ["flag-outliers", "save-file"]


TASK_WRITES: list[tuple[str, str]] = [
    ("POST", "/api/v1/tasks"),
    ("PUT", "/api/v1/tasks/drop-duplicates"),
    ("DELETE", "/api/v1/tasks/drop-duplicates"),
]
TASK_READS = ["/api/v1/tasks", "/api/v1/tasks/drop-duplicates"]


@pytest.mark.parametrize(("method", "path"), TASK_WRITES)
def test_a_member_gets_403_on_every_task_write(
    alice_client: TestClient, registered_tasks: list[str], method: str, path: str
) -> None:
    response = alice_client.request(method, path, content=DROP_DUPLICATES.encode(), headers=YAML)
    assert response.status_code == 403, response.text
    assert response.json()["detail"] == "Only administrators may do this."


@pytest.mark.parametrize("path", TASK_READS)
def test_a_member_reads_tasks(
    alice_client: TestClient, registered_tasks: list[str], path: str
) -> None:
    assert alice_client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"), [*TASK_WRITES, *(("GET", path) for path in TASK_READS)]
)
def test_anonymous_callers_get_401_on_every_task_endpoint(
    client_for: Callable[[Account | None], TestClient],
    registered_tasks: list[str],
    method: str,
    path: str,
) -> None:
    anonymous = client_for(None)
    response = anonymous.request(method, path, content=b"not even a spec", headers=YAML)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_a_member_cannot_register_a_task_even_with_a_broken_body(
    alice_client: TestClient,
) -> None:
    response = alice_client.post("/api/v1/tasks", content=b"kind: [", headers=YAML)
    assert response.status_code == 403


def test_a_task_spec_with_errors_is_422_with_each_problem_under_body(
    admin_client: TestClient,
) -> None:
    spec = (
        "name: Bad Name\nkind: command\ncommand: sort -o out.txt in.txt\ntimeout: 0\ncolour: red\n"
    )
    body = post_spec(admin_client, "/api/v1/tasks", spec, expect=422)
    assert body["type"] == "urn:datamill:problem:invalid-spec"
    assert sorted(e["loc"] for e in body["errors"]) == [
        ["body", "colour"],
        ["body", "command"],
        ["body", "name"],
        ["body", "timeout"],
    ]
    assert body["detail"].startswith("The task is invalid: ")
    assert admin_client.get("/api/v1/tasks").json()["count"] == 0


def test_unreadable_yaml_is_422_saying_where(admin_client: TestClient) -> None:
    body = post_spec(admin_client, "/api/v1/tasks", "name: x\nkind: [python\n", expect=422)
    assert body["errors"][0]["loc"] == ["body"]
    assert "line 3" in body["errors"][0]["msg"]


def test_registering_a_task_twice_is_409(
    admin_client: TestClient, registered_tasks: list[str]
) -> None:
    body = post_spec(admin_client, "/api/v1/tasks", SAVE_FILE, expect=409)
    assert "PUT /api/v1/tasks/save-file" in body["detail"]


def test_replacing_a_task_with_a_spec_of_another_name_is_422(
    admin_client: TestClient, registered_tasks: list[str]
) -> None:
    response = admin_client.put(
        "/api/v1/tasks/save-file", content=SORT_LINES.encode(), headers=YAML
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": ["body", "name"], "msg": "expected 'save-file'"}]
    assert admin_client.get("/api/v1/tasks/sort-lines").status_code == 404


def test_replacing_or_deleting_an_unknown_task_is_404(admin_client: TestClient) -> None:
    put = admin_client.put("/api/v1/tasks/sort-lines", content=SORT_LINES.encode(), headers=YAML)
    assert put.status_code == 404
    assert admin_client.delete("/api/v1/tasks/sort-lines").status_code == 404


def test_nul_bytes_and_oversized_names_are_422_not_500(admin_client: TestClient) -> None:
    for name in ("a%00b", "x" * 65, "Upper", "a\nb".replace("\n", "%0A")):
        response = admin_client.get(f"/api/v1/tasks/{name}")
        assert response.status_code == 422, name
        assert response.json()["errors"][0]["loc"] == ["path", "name"]
    raw_nul = admin_client.post("/api/v1/tasks", content=b"name: a\x00b\n", headers=YAML)
    assert raw_nul.status_code == 422
    escaped = SORT_LINES.replace("name: sort-lines", 'name: "sort\\0lines"')
    assert post_spec(admin_client, "/api/v1/tasks", escaped, expect=422)["errors"][0]["loc"] == [
        "body",
        "name",
    ]
    long_name = SORT_LINES.replace("sort-lines", "s" * 1000)
    assert post_spec(admin_client, "/api/v1/tasks", long_name, expect=422)["errors"] == [
        {
            "loc": ["body", "name"],
            "msg": "expected a lowercase name: a letter, then up to 63 letters, digits, '-' or '_'",
        }
    ]


def test_a_description_with_an_escaped_nul_is_stored_and_read_back(
    admin_client: TestClient,
) -> None:
    spec = SORT_LINES + 'description: "a\\0b"\n'
    created = post_spec(admin_client, "/api/v1/tasks", spec)
    assert admin_client.get("/api/v1/tasks/sort-lines").json()["description"] == "a\x00b"
    assert created["description"] == "a\x00b"


def test_bodies_that_are_not_utf8_text_or_not_a_spec_media_type_are_refused(
    admin_client: TestClient,
) -> None:
    latin1 = admin_client.post("/api/v1/tasks", content="name: café".encode("latin-1"))
    assert latin1.status_code == 422
    assert latin1.json()["errors"] == [{"loc": ["body"], "msg": "not UTF-8 text"}]
    form = admin_client.post("/api/v1/tasks", data={"name": "x"})
    assert form.status_code == 415


def test_a_spec_over_one_megabyte_is_413(admin_client: TestClient) -> None:
    huge = SORT_LINES + "description: " + "x" * (1024 * 1024) + "\n"
    response = admin_client.post("/api/v1/tasks", content=huge.encode(), headers=YAML)
    assert response.status_code == 413
