"""What the e2e tests do as a person would: sign in, make and open datasets, read the grid."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App, Person
from tests.fixtures.users import PASSWORD


def sign_in(page: Page, who: Person) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Datasets")).to_be_visible()


def make_dataset(served: App, who: Person, name: str, text: str) -> str:
    reply = httpx.post(
        f"{served.url}/api/v1/datasets",
        headers={"Authorization": f"Bearer {who.token}"},
        files={"file": (f"{name}.csv", text.encode())},
        data={"name": name},
    )
    assert reply.status_code == 201, reply.text
    dataset_id: str = reply.json()["id"]
    return dataset_id


def cell(page: Page, row: int, column: int) -> str:
    """The text of a grid cell (row and column from 0, the row number not counted)."""
    cells = page.locator(".grid-body .grid-row").nth(row).locator(".cell")
    return cells.nth(column + 1).inner_text()


def open_dataset(page: Page, dataset_id: str) -> None:
    page.goto(f"/datasets/{dataset_id}")
    expect(page.locator(".grid-body .grid-row").first).to_be_visible()


def grid_rows(page: Page) -> list[list[str]]:
    """The cells of the rows drawn in the grid (row number first)."""
    rows = page.locator(".grid-body .grid-row:not(.loading)")
    return [row.locator(".cell").all_inner_texts() for row in rows.all()]


def open_new_dataset(page: Page, who: Person, served: App, name: str, text: str) -> str:
    """Upload ``text`` as a CSV dataset of ``who`` (over the API), sign in, open its workspace."""
    dataset_id = make_dataset(served, who, name, text)
    sign_in(page, who)
    open_dataset(page, dataset_id)
    return dataset_id
