"""The workspace beyond the grid: inline edits, row deletion, facets, ready views, clusters,
older revisions, comparisons and charts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import App, Person
from tests.e2e.pages import cell, grid_rows, make_dataset, open_dataset, open_new_dataset, sign_in

CITIES = (
    "city,sold,day\n"
    "Oslo,10,2025-01-01\noslo ,12,2025-01-02\nBergen,,2025-01-03\nOSLO,9,2025-01-04\n"
    "Bergen,30,2025-01-05\nTromsø,7,2025-01-06\n"
)


def rows_shown(page: Page) -> list[str]:
    """The first column of the rows drawn."""
    return [row[1] for row in grid_rows(page)]


def test_a_cell_edited_in_place_becomes_an_edit_cell_step(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    open_new_dataset(page, who, served, "edits", CITIES)
    page.get_by_role("button", name="sold", exact=True).click()  # sorted: positions differ
    expect(page.get_by_text("sorted by sold ↑")).to_be_visible()
    first = page.locator(".grid-body .grid-row").first
    expect(first).to_contain_text("Tromsø")
    first.locator(".cell").nth(1).dblclick()
    page.get_by_label("New value").fill("Tromso")
    shots(page, "editing")
    page.get_by_label("New value").press("Enter")
    expect(page.get_by_text("revision 2")).to_be_visible()
    page.get_by_role("button", name="Clear all").click()
    expect(page.locator(".grid-body .grid-row").nth(5)).to_contain_text("Tromso")
    assert cell(page, 5, 0) == "Tromso"


def test_rows_selected_in_a_filtered_view_are_deleted(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    open_new_dataset(page, who, served, "deletions", CITIES)
    page.get_by_role("button", name="Filter city").click()
    page.get_by_label("Condition").select_option("eq")
    page.get_by_label("Value").fill("Bergen")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(page.locator(".grid-body .grid-row")).to_have_count(2)
    numbers = page.locator(".grid-body .grid-row .rownum")
    assert numbers.all_inner_texts() == ["3", "5"]  # their places in the revision
    numbers.nth(0).click()
    numbers.nth(1).click(modifiers=["Shift"])
    region = page.get_by_role("region", name="Selected rows")
    expect(region).to_contain_text("2 selected")
    shots(page, "rows-selected")
    region.get_by_role("button", name="Delete rows").click()
    expect(page.get_by_text("revision 2")).to_be_visible()
    expect(page.locator(".grid-body .grid-row")).to_have_count(0)
    page.get_by_role("button", name="Clear all").click()
    expect(page.locator(".grid-body .grid-row")).to_have_count(4)
    assert rows_shown(page) == ["Oslo", "oslo", "OSLO", "Tromsø"]  # text as drawn, trimmed


def test_facets_filter_the_grid_and_ready_views_show_rows_with_nulls(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    open_new_dataset(page, who, served, "facets", CITIES)
    page.get_by_role("button", name="Facets").click()
    panel = page.get_by_role("complementary", name="Facets")
    panel.get_by_label("Facet column").select_option("city")
    panel.get_by_role("button", name="Bergen").click()
    expect(page.locator(".grid-body .grid-row")).to_have_count(2)
    expect(page.get_by_text("city is Bergen")).to_be_visible()
    panel.get_by_label("Facet column").select_option("sold")
    expect(panel.get_by_role("list", name="Histogram of sold")).to_be_visible()
    shots(page, "facets")
    page.get_by_role("button", name="Views ▾").click()
    page.get_by_role("menuitem", name="rows with an empty value").click()
    expect(page.get_by_text("showing rows with an empty value")).to_be_visible()
    expect(page.locator(".grid-body .grid-row")).to_have_count(1)
    assert page.locator(".grid-body .grid-row .rownum").inner_text() == "3"


def test_clusters_of_similar_values_merge_into_the_chosen_one(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    open_new_dataset(page, who, served, "clusters", CITIES)
    page.get_by_role("button", name="Cluster").click()
    dialog = page.get_by_role("dialog", name="Cluster and merge similar values")
    dialog.get_by_role("button", name="Find clusters").click()
    expect(dialog.get_by_text("“oslo ”")).to_be_visible()
    dialog.get_by_label("New value for cluster 1").fill("Oslo")
    shots(page, "clusters")
    dialog.get_by_role("button", name="Merge 1 cluster").click()
    expect(page.get_by_text("revision 2")).to_be_visible()
    expect(page.locator(".grid-body .grid-row").nth(1)).to_contain_text("Oslo")
    expect(page.locator(".grid-body .grid-row").nth(3)).to_contain_text("Oslo")
    assert rows_shown(page)[:4] == ["Oslo", "Oslo", "Bergen", "Oslo"]


def test_an_older_revision_opens_read_only_and_compares_with_the_head(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    open_new_dataset(page, who, served, "compared", CITIES)
    page.get_by_role("button", name="Clean").click()
    page.get_by_role("button", name="Fill constant").click()
    form = page.get_by_role("form", name="Fill constant")
    form.get_by_label("Column *").select_option("sold")
    form.get_by_label("Value").fill("0")
    form.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("revision 2")).to_be_visible()
    page.get_by_role("button", name="History").click()
    history = page.get_by_role("complementary", name="History")
    history.get_by_role("button", name="Compare with the shown revision").click()
    dialog = page.get_by_role("dialog", name="Revision 1 → revision 2")
    expect(dialog).to_contain_text("Cells changed in sold")
    shots(page, "compare")
    dialog.get_by_role("button", name="Close").click()
    history.get_by_role("button", name="Open read-only").click()
    expect(page.get_by_text("Viewing revision 1, read-only.")).to_be_visible()
    expect(page.locator(".grid-body .grid-row").nth(2)).to_contain_text("null")
    expect(page.get_by_role("button", name="Clean")).to_have_count(0)
    page.get_by_role("button", name="Back to the current revision").click()
    expect(page.locator(".grid-body .grid-row").nth(2)).not_to_contain_text("null")


def test_a_line_chart_of_two_columns_draws_and_downloads_as_png(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    open_new_dataset(page, who, served, "charted", CITIES)
    page.get_by_role("button", name="Chart").click()
    panel = page.get_by_role("complementary", name="Chart")
    panel.get_by_label("Chart kind").select_option("line")
    panel.get_by_label("X column").select_option("day")
    panel.get_by_label("Y column").select_option("sold")
    expect(panel.get_by_text("5 rows, all drawn.")).to_be_visible()
    shots(page, "chart")
    with page.expect_download() as download:
        panel.get_by_role("button", name="Download PNG").click()
    assert download.value.suggested_filename == "charted-line-day-sold.png"
    assert Path(download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_long_table_scrolls_inside_the_grid_and_a_jump_shows_that_place(
    page: Page, person: Callable[..., Person], served: App, shots: Callable[[Page, str], Path]
) -> None:
    who = person()
    text = "n,label\n" + "".join(f"{i},row {i}\n" for i in range(20_000))
    dataset_id = make_dataset(served, who, "long", text)
    sign_in(page, who)
    open_dataset(page, dataset_id)
    sizes = page.evaluate("() => [document.scrollingElement.scrollHeight, innerHeight]")
    assert sizes[0] == sizes[1]  # the window never scrolls: the grid does
    page.locator(".grid").evaluate("g => { g.scrollTop = (g.scrollHeight - g.clientHeight) / 2 }")
    first = page.locator(".grid-body .grid-row:not(.loading)").first
    expect(first).to_contain_text("row 99")  # rows 9,9xx fetched for that place
    number = int(first.locator(".rownum").inner_text().replace(",", ""))
    assert 9_900 <= number <= 10_000
    assert first.locator(".cell").nth(2).inner_text() == f"row {number - 1}"
    shots(page, "middle-of-a-long-table")


def first_number(page: Page) -> int:
    first = page.locator(".grid-body .grid-row:not(.loading)").first
    return int(first.locator(".rownum").inner_text().replace(",", ""))


def test_on_a_table_taller_than_the_scroll_cap_keys_wheel_and_go_to_row_move_by_rows(
    page: Page, person: Callable[..., Person], served: App
) -> None:
    """400,000 rows are 11 million pixels: one scroll pixel is more than a row there."""
    text = "n\n" + "\n".join(str(i) for i in range(400_000)) + "\n"
    open_new_dataset(page, person(), served, "tall", text)
    page.get_by_label("Go to row").fill("200000")
    page.get_by_label("Go to row").press("Enter")
    expect(page.locator(".grid-body .grid-row:not(.loading)").first).to_contain_text("199999")
    assert first_number(page) == 200_000
    grid = page.locator(".grid")
    grid.focus()
    page.keyboard.press("ArrowDown")
    expect(page.locator(".grid-body .grid-row .rownum").first).to_have_text("200,001")
    grid.hover()
    page.mouse.wheel(0, 28 * 3)
    expect(page.locator(".grid-body .grid-row .rownum").first).to_have_text("200,004")
    page.keyboard.press("End")
    expect(page.locator(".grid-body .grid-row:not(.loading)").last).to_contain_text("399999")
