"""The browser app on the benchmark table: first rows painted, jumps to the middle, JavaScript.

    .venv/bin/python bench/ui.py [--rows 10000000] [--tries 20] [--keep]

The table of ``bench/datasets.py`` is uploaded to a served Datamill; the system Chromium
(headless, through Playwright) opens its workspace. Measured, 20 tries each:

- **first rows**: from opening the workspace's address in a fresh browser context (nothing
  cached) to the first rows painted in the grid. Target: within 1.5 s.
- **jump**: from setting the grid's scroll position to a random place in the table (the
  scrollbar dragged there) to the rows of that place painted. Target: p95 within 300 ms.
- **JavaScript**: the bytes of JavaScript the first page downloads, gzip as sent. Target: at
  most 600 KB.

Baselines, measured in the same run from the same browser: the same page of rows fetched with
``fetch()`` and parsed, from a page of the app's origin — the API alone, without the app.
A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import httpx
from harness import PASSWORD, USER, benchmark_table, server, timed, upload
from playwright.sync_api import Browser, Page, sync_playwright
from reporting import line, pct

HERE = Path(__file__).resolve().parent
WORK = HERE / ".data"
CHROMIUM = "/usr/bin/chromium"
PAINTED = ".grid-body .grid-row:not(.loading)"

# Scroll the grid to a fraction of its height, then wait (in the page, by animation frames) until
# the rows drawn at the top are loaded and are the ones of that place; the time in milliseconds.
JUMP = """async ([fraction, expected]) => {
  const grid = document.querySelector('.grid');
  const start = performance.now();
  grid.scrollTop = fraction * (grid.scrollHeight - grid.clientHeight);
  return await new Promise((resolve) => {
    const check = () => {
      const rows = [...document.querySelectorAll('.grid-body .grid-row')].slice(0, 15);
      const first = rows[0]?.querySelector('.rownum')?.textContent?.replace(/,/g, '');
      const there = first && Math.abs(Number(first) - 1 - expected) <= 2;
      if (there && rows.length && rows.every((row) => !row.classList.contains('loading'))) {
        resolve(performance.now() - start);
      } else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
}"""

FETCH = """async (url) => {
  const start = performance.now();
  const reply = await fetch(url);
  await reply.json();
  return performance.now() - start;
}"""


def signed_in_state(browser: Browser, url: str) -> dict[str, Any]:
    context = browser.new_context(base_url=url)
    page = context.new_page()
    page.goto("/")
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("text=Datasets")
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


def first_rows(browser: Browser, url: str, state: dict[str, Any], path: str) -> tuple[float, int]:
    """Seconds to the first rows painted in a fresh context, and the gzip bytes of JS fetched."""
    context = browser.new_context(base_url=url, storage_state=state)  # type: ignore[arg-type]
    page = context.new_page()
    scripts: list[int] = []

    def on_response(response: Any) -> None:
        if response.url.endswith(".js"):
            scripts.append(int(response.headers.get("content-length", "0")))

    page.on("response", on_response)
    elapsed, _ = timed(lambda: (page.goto(path), page.wait_for_selector(PAINTED)))
    context.close()
    return elapsed, sum(scripts)


def api_fetch(page: Page, url: str) -> float:
    return float(page.evaluate(FETCH, url)) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV for reruns")
    args = parser.parse_args()
    csv = benchmark_table(WORK, args.rows)
    data_dir = WORK / "ui"
    shutil.rmtree(data_dir, ignore_errors=True)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, Chromium headless")
    print(f"{args.rows:,} rows; each figure beside its baseline, measured in this run\n")
    rng = random.Random(42)
    with server(data_dir, DATAMILL_WORKERS="0") as (handle, _watcher):
        url, token = handle.split("|")
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        dataset = upload(client, csv)
        head = dataset["head_revision"]
        rows_url = f"/api/v1/datasets/{dataset['id']}/revisions/{head['id']}/rows?limit=100"
        workspace = f"/datasets/{dataset['id']}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
            )
            state = signed_in_state(browser, url)
            first_rows(browser, url, state, workspace)  # the server's first read of the file
            painted, shipped = [], 0
            for _ in range(args.tries):
                seconds, shipped = first_rows(browser, url, state, workspace)
                painted.append(seconds)
            context = browser.new_context(
                base_url=url, storage_state=state, viewport={"width": 1400, "height": 860}
            )  # type: ignore[arg-type]
            page = context.new_page()
            page.goto(workspace)
            page.wait_for_selector(PAINTED)
            api_first = [api_fetch(page, f"{url}{rows_url}&offset=0") for _ in range(args.tries)]
            shown = page.evaluate(
                "() => Math.ceil(document.querySelector('.grid-body').clientHeight / 28)"
            )
            jumps, api_jumps = [], []
            for _ in range(args.tries):
                fraction = rng.uniform(0.05, 0.95)
                expected = int(fraction * (args.rows - int(shown) + 1))
                jumps.append(float(page.evaluate(JUMP, [fraction, expected])) / 1000)
                offset = expected // 100 * 100
                api_jumps.append(api_fetch(page, f"{url}{rows_url}&offset={offset}"))
            context.close()
            browser.close()
    line("first rows painted, p50", pct(painted, 0.5), pct(api_first, 0.5))
    line("first rows painted, p95", pct(painted, 0.95), pct(api_first, 0.95), "ms", "(<= 1.5 s)")
    line("jump to a random place, p50", pct(jumps, 0.5), pct(api_jumps, 0.5))
    line("jump to a random place, p95", pct(jumps, 0.95), pct(api_jumps, 0.95), "ms", "(<= 300)")
    print(
        f"  JavaScript for the first page, gzip: {shipped / 1024:,.1f} KB "
        f"(budget 600 KB: {shipped / 1024 / 600:.2f} of it)"
    )
    if not args.keep:
        csv.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
