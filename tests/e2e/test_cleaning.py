"""Cleaning in the browser: an operation from its generated form, live revisions, undo, export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import App, Person
from tests.e2e.pages import cell, make_dataset, open_dataset, open_new_dataset, sign_in

SCORES = "name,score\nAda,1\nBob,\nCyd,3\n"


def test_fill_missing_from_its_form_lands_live_and_undo_brings_the_old_values_back(
    page: Page,
    new_context: Callable[[], BrowserContext],
    person: Callable[..., Person],
    served: App,
    shots: Callable[[Page, str], Path],
) -> None:
    who = person()
    dataset_id = open_new_dataset(page, who, served, "scores", SCORES)
    assert cell(page, 1, 1) == "null"

    watcher = new_context().new_page()  # a second browser, same person, just watching
    sign_in(watcher, who)
    open_dataset(watcher, dataset_id)

    page.get_by_role("button", name="Clean").click()
    page.get_by_role("button", name="Fill statistic").click()
    form = page.get_by_role("form", name="Fill statistic")
    form.get_by_label("Column *").select_option("score")
    form.get_by_label("Statistic *").select_option("mean")
    shots(page, "operation-form")
    form.get_by_role("button", name="Apply").click()

    expect(page.get_by_role("status", name="Operation")).to_contain_text("Fill statistic")
    score = page.locator(".grid-body .grid-row").nth(1).locator(".cell").nth(2)
    expect(score).to_have_text("2")  # the mean of 1 and 3, where the null was
    expect(page.get_by_text("revision 2")).to_be_visible()
    expect(watcher.get_by_text("revision 2")).to_be_visible()  # no reload in the second browser
    expect(watcher.locator(".grid-body .grid-row").nth(1)).not_to_contain_text("null")
    shots(page, "operation-applied")
    shots(watcher, "second-browser")

    page.get_by_role("button", name="History").click()
    history = page.get_by_role("complementary", name="History")
    expect(history.get_by_text("Fill statistic")).to_be_visible()
    expect(history).to_contain_text(who.username)
    shots(page, "history")
    history.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("revision 1")).to_be_visible()
    expect(page.locator(".grid-body .grid-row").nth(1)).to_contain_text("null")
    expect(history.get_by_role("button", name="Redo")).to_be_enabled()
    history.get_by_role("button", name="Redo").click()
    expect(page.get_by_text("revision 2")).to_be_visible()


def test_the_exported_csv_is_the_grid_as_shown(
    page: Page, person: Callable[..., Person], served: App
) -> None:
    who = person()
    open_new_dataset(page, who, served, "exported", SCORES)
    page.get_by_role("button", name="score", exact=True).click()  # sort ascending
    expect(page.get_by_text("sorted by score ↑")).to_be_visible()
    page.get_by_role("button", name="Export ▾").click()
    with page.expect_download() as download:
        page.get_by_role("menuitem", name="CSV").click()
    text = Path(download.value.path()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name", "score"]
    assert [row[0] for row in rows[1:]] == ["Ada", "Cyd", "Bob"]  # nulls last, as in the grid
    shown = page.locator(".grid-body .grid-row")
    assert [shown.nth(i).locator(".cell").nth(1).inner_text() for i in range(3)] == [
        "Ada",
        "Cyd",
        "Bob",
    ]


def test_a_bad_parameter_is_shown_beside_its_field_and_nothing_runs(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    dataset_id = open_new_dataset(page, who, served, "bad-params", SCORES)
    page.get_by_role("button", name="Clean").click()
    page.get_by_role("searchbox", name="Find an operation").fill("round")
    page.get_by_role("button", name="Round").click()
    form = page.get_by_role("form", name="Round")
    form.get_by_role("button", name="Apply").click()
    expect(form.locator(".field-error").first).to_be_visible()
    shots(page, "operation-refused")
    runs = httpx.get(
        f"{served.url}/api/v1/runs",
        params={"dataset": dataset_id},
        headers={"Authorization": f"Bearer {who.token}"},
    ).json()
    assert runs["count"] == 0


def test_a_recipe_exported_from_one_dataset_replays_on_another(
    page: Page, person: Callable[..., Person], served: App
) -> None:
    who = person()
    headers = {"Authorization": f"Bearer {who.token}"}
    first = make_dataset(served, who, "recipe-source", SCORES)
    second = make_dataset(served, who, "recipe-target", "name,score\nEve,\nFay,10\n")
    reply = httpx.post(
        f"{served.url}/api/v1/datasets/{first}/operations",
        headers=headers,
        json={"op": "fill-constant", "params": {"column": "score", "value": "0"}},
    )
    assert reply.status_code == 202, reply.text
    sign_in(page, who)
    open_dataset(page, first)
    expect(page.get_by_text("revision 2")).to_be_visible()
    page.get_by_role("button", name="History").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export recipe").click()
    recipe = json.loads(Path(download.value.path()).read_text())
    assert [step["op"] for step in recipe["steps"]] == ["fill-constant"]

    open_dataset(page, second)
    page.get_by_role("button", name="History").click()
    page.get_by_test_id("recipe-input").set_input_files(str(download.value.path()))
    expect(page.get_by_text("revision 2")).to_be_visible()
    expect(page.locator(".grid-body .grid-row").first).to_contain_text("0")
