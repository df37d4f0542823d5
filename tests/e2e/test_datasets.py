"""Signing in, uploading, and exploring a dataset in the grid, as a person would in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import App, Person
from tests.e2e.pages import grid_rows, sign_in

CSV = (
    "city,population,country\n"
    "Lyon,522969,FR\nAbidjan,4707404,CI\nOslo,709037,NO\nQuito,2011388,EC\n"
)


def upload(page: Page, tmp_path: Path, name: str, text: str) -> None:
    source = tmp_path / f"{name}.csv"
    source.write_text(text)
    page.get_by_test_id("upload-input").set_input_files(str(source))
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_wrong_password_is_explained_and_right_one_signs_in(
    page: Page, person: Callable[..., Person], shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    page.goto("/")
    page.get_by_label("Username").fill(who.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    shots(page, "sign-in-refused")
    sign_in(page, who)
    expect(page.get_by_text("No datasets yet.")).to_be_visible()
    shots(page, "datasets-empty")
    page.get_by_role("button", name=who.username).click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_uploaded_csv_opens_in_the_grid_with_its_first_rows_and_sorts_from_the_header(
    page: Page, person: Callable[..., Person], shots: Callable[[Page, str], Path], tmp_path: Path
) -> None:
    sign_in(page, person())
    upload(page, tmp_path, "cities", CSV)
    expect(page.get_by_role("row", name="cities")).to_contain_text("4")
    shots(page, "datasets")
    page.get_by_role("link", name="cities", exact=True).click()
    expect(page.get_by_role("heading", name="cities")).to_be_visible()
    expect(page.locator(".grid-body .grid-row")).to_have_count(4)
    assert grid_rows(page)[0] == ["1", "Lyon", "522969", "FR"]
    assert [row[1] for row in grid_rows(page)] == ["Lyon", "Abidjan", "Oslo", "Quito"]
    shots(page, "workspace")

    page.get_by_role("button", name="population", exact=True).click()
    expect(page.locator(".grid-body .grid-row").first).to_contain_text("Lyon")
    expect(page.get_by_text("sorted by population ↑")).to_be_visible()
    page.get_by_role("button", name="population ↑").click()
    expect(page.locator(".grid-body .grid-row").first).to_contain_text("Abidjan")
    assert [row[1] for row in grid_rows(page)] == ["Abidjan", "Quito", "Oslo", "Lyon"]
    shots(page, "workspace-sorted")


def test_filter_from_a_header_narrows_the_rows_and_profile_opens(
    page: Page, person: Callable[..., Person], shots: Callable[[Page, str], Path], tmp_path: Path
) -> None:
    sign_in(page, person())
    upload(page, tmp_path, "filtered", CSV)
    page.get_by_role("link", name="filtered", exact=True).click()
    expect(page.locator(".grid-body .grid-row")).to_have_count(4)
    page.get_by_role("button", name="Filter population").click()
    page.get_by_label("Condition").select_option("gt")
    page.get_by_label("Value").fill("1000000")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.locator(".grid-body .grid-row")).to_have_count(2)
    expect(page.get_by_text("2 of 4 rows")).to_be_visible()
    page.locator(".head-bottom").nth(1).click()
    expect(page.get_by_role("complementary", name="Profile of population")).to_contain_text(
        "Maximum"
    )
    shots(page, "workspace-filtered")


def test_a_bad_upload_says_why_and_leaves_no_dataset(
    page: Page, person: Callable[..., Person], tmp_path: Path, served: App
) -> None:
    who = person()
    sign_in(page, who)
    bad = tmp_path / "notes.sav"
    bad.write_bytes(b"\x00\x01binary")
    page.get_by_test_id("upload-input").set_input_files(str(bad))
    expect(page.get_by_role("alert")).to_contain_text("SPSS files cannot be read")
    headers = {"Authorization": f"Bearer {who.token}"}
    listed = httpx.get(f"{served.url}/api/v1/datasets", headers=headers).json()
    assert listed["count"] == 0


def test_a_member_sees_neither_another_users_datasets_nor_a_direct_link_to_one(
    new_context: Callable[[], object],
    person: Callable[..., Person],
    served: App,
    shots: Callable[[Page, str], Path],
) -> None:
    owner, other = person(), person()
    reply = httpx.post(
        f"{served.url}/api/v1/datasets",
        headers={"Authorization": f"Bearer {owner.token}"},
        files={"file": ("private.csv", CSV.encode())},
        data={"name": "private-data"},
    )
    assert reply.status_code == 201, reply.text
    page = new_context().new_page()  # type: ignore[attr-defined]
    sign_in(page, other)
    expect(page.get_by_text("No datasets yet.")).to_be_visible()
    expect(page.get_by_text("private-data")).to_have_count(0)
    page.goto(f"/datasets/{reply.json()['id']}")
    expect(page.get_by_role("alert")).to_be_visible()
    shots(page, "no-access")


def test_an_api_token_is_shown_once_and_works_until_revoked(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    sign_in(page, who)
    page.get_by_role("button", name=who.username).click()
    page.get_by_role("menuitem", name="API tokens").click()
    page.get_by_label("Token name").fill("laptop CLI")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("new-token").inner_text()
    shots(page, "token-created")
    me = f"{served.url}/api/v1/auth/me"
    assert httpx.get(me, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    page.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    page.get_by_role("row", name="laptop CLI").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("row", name="laptop CLI")).to_have_count(0)
    assert httpx.get(me, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
