"""Pipelines, runs, workers and the admin pages in the browser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App, Person
from tests.e2e.pages import make_dataset, sign_in

DEDUPE = """name: {name}
description: Drop duplicate rows of a table.
inputs:
  table:
    kind: table
steps:
  dedupe:
    task: op-drop-duplicates
    with: {{table: "${{inputs.table}}"}}
  fill:
    task: op-fill-constant
    with: {{table: "${{steps.dedupe.outputs.table}}", column: score, value: "0"}}
outputs:
  result: "${{steps.fill.outputs.table}}"
"""

SLEEPER_TASK = """name: {name}
kind: command
command: [sleep, "60"]
timeout: 120
"""
SLEEPER = """name: {name}
steps:
  nap:
    task: {task}
"""


def api(served: App, who: Person) -> httpx.Client:
    return httpx.Client(
        base_url=f"{served.url}/api/v1", headers={"Authorization": f"Bearer {who.token}"}
    )


def save_pipeline(served: App, who: Person, text: str) -> None:
    with api(served, who) as client:
        yaml = {"Content-Type": "application/yaml"}
        reply = client.post("/pipelines", content=text, headers=yaml)
        assert reply.status_code == 201, reply.text


def test_a_pipeline_runs_from_its_form_and_its_states_go_live_to_succeeded(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    make_dataset(served, who, "dupes", "name,score\nAda,1\nAda,1\nBob,\n")
    save_pipeline(served, who, DEDUPE.format(name=f"dedupe-{who.username}"))
    sign_in(page, who)
    page.get_by_role("link", name="Pipelines").click()
    page.get_by_role("link", name=f"dedupe-{who.username}").click()
    expect(page.get_by_role("img", name="Steps")).to_be_visible()
    page.get_by_label("table (table)").select_option(label=f"dupes ({who.username})")
    shots(page, "pipeline-run-form")
    page.get_by_role("button", name=f"Run dedupe-{who.username}").click()

    expect(page.get_by_role("heading", name=f"dedupe-{who.username} v1")).to_be_visible()
    expect(page.locator(".page-head .state-badge")).to_have_text("succeeded", timeout=60_000)
    expect(page.get_by_role("button", name="fill: succeeded")).to_be_visible()
    expect(page.get_by_role("cell", name="table").first).to_be_visible()
    shots(page, "run-succeeded")

    page.get_by_role("button", name="Open as dataset").last.click()
    expect(page.get_by_text("2 rows")).to_be_visible()
    shots(page, "artifact-as-dataset")

    page.get_by_role("link", name="Runs").click()
    expect(page.get_by_role("link", name=f"dedupe-{who.username} v1")).to_be_visible()
    shots(page, "runs")


def test_a_long_run_is_cancelled_from_its_page(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    admin, who = person("admin", "admin"), person()
    task = f"nap-{who.username}"
    with api(served, admin) as client:
        reply = client.post(
            "/tasks",
            content=SLEEPER_TASK.format(name=task),
            headers={"Content-Type": "application/yaml"},
        )
        assert reply.status_code == 201, reply.text
    save_pipeline(served, who, SLEEPER.format(name=f"sleeper-{who.username}", task=task))
    sign_in(page, who)
    page.goto(f"/pipelines/sleeper-{who.username}")
    page.get_by_role("button", name=f"Run sleeper-{who.username}").click()
    expect(page.locator(".page-head .state-badge")).to_have_text("running", timeout=30_000)
    expect(page.get_by_role("button", name="nap: running")).to_be_visible()
    page.get_by_role("link", name="Workers").click()
    expect(page.get_by_role("link", name="nap")).to_be_visible()
    shots(page, "workers-busy")
    page.go_back()
    page.get_by_role("button", name="Cancel run").click()
    expect(page.locator(".page-head .state-badge")).to_have_text("cancelled", timeout=30_000)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    shots(page, "run-cancelled")


def test_the_spec_editor_marks_each_problem_on_its_line(
    page: Page, person: Callable[..., Person], shots: Callable[[Page, str], Path]
) -> None:
    sign_in(page, person())
    page.get_by_role("link", name="Pipelines").click()
    page.get_by_role("button", name="New pipeline").click()
    editor = page.get_by_label("Pipeline spec (YAML)")
    editor.fill("name: broken\nsteps:\n  first:\n    task: no-such-task\n")
    page.get_by_role("button", name="Check").click()
    problems = page.get_by_role("list", name="Problems")
    expect(problems).to_contain_text("line 4")
    expect(problems).to_contain_text("no-such-task")
    shots(page, "spec-problems")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_role("alert")).to_be_visible()


def test_a_member_sees_no_admin_pages_and_an_admin_manages_users(
    page: Page,
    person: Callable[..., Person],
    new_context: Callable[[], object],
    shots: Callable[[Page, str], Path],
) -> None:
    member = person()
    sign_in(page, member)
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto("/admin/users")
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible()

    admin = person("admin", "admin")
    other = new_context().new_page()  # type: ignore[attr-defined]
    sign_in(other, admin)
    other.get_by_role("link", name="Admin").click()
    expect(other.get_by_role("cell", name=member.username)).to_be_visible()
    form = other.get_by_role("form", name="New user")
    form.get_by_label("Username").fill(f"new{member.username}")
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Create user").click()
    expect(form).to_contain_text("8 characters")
    form.get_by_label("Password").fill("a long enough one")
    form.get_by_role("button", name="Create user").click()
    expect(other.get_by_role("cell", name=f"new{member.username}")).to_be_visible()
    shots(other, "admin-users")
    row = other.locator("tr", has=other.get_by_role("cell", name=member.username, exact=True))
    row.get_by_role("button", name="Disable").click()
    expect(row).to_contain_text("disabled")
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    other.get_by_role("tab", name="Tasks").click()
    expect(other.get_by_role("button", name="New task")).to_be_visible()
    shots(other, "admin-tasks")
