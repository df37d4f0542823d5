"""Take the user guide's screenshots (``make docs-screenshots``): the demo, served on a free port,
driven through the pages in the system Chromium, each page written to ``docs/images/``.

Run it again after changing a page, and look at the pictures before committing them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
PASSWORD = "screenshots-demo"
VIEWPORT = {"width": 1360, "height": 780}


def _datamill(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "datamill", *args],
        env=env, input=stdin, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(400)  # let live updates and transitions settle
    page.screenshot(path=str(IMAGES / f"{name}.png"))
    print(f"docs/images/{name}.png")


def _pages(url: str, token: str) -> None:
    api = httpx.Client(base_url=f"{url}/api/v1", headers={"Authorization": f"Bearer {token}"})
    sales = next(d for d in api.get("/datasets").json()["data"] if d["name"] == "Coffee shop sales")
    for op, params in [
        ("trim-whitespace", {"columns": ["city"]}),
        ("drop-duplicates", {"columns": ["order_id"]}),
    ]:
        run = api.post(f"/datasets/{sales['id']}/operations", json={"op": op, "params": params})
        run.raise_for_status()
        while api.get(f"/runs/{run.json()['run_id']}").json()["state"] in ("queued", "running"):
            time.sleep(0.2)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(base_url=url, viewport=VIEWPORT)  # type: ignore[arg-type]
        page.goto("/")
        page.get_by_label("Username").fill("demo")
        page.get_by_label("Password").fill(PASSWORD)
        _shoot(page, "sign-in")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("link", name="Coffee shop sales")).to_be_visible()
        _shoot(page, "datasets")

        page.get_by_role("link", name="Coffee shop sales").click()
        expect(page.locator(".grid-body .grid-row").first).to_be_visible()
        page.get_by_role("button", name="History").click()
        expect(page.get_by_role("complementary", name="History")).to_contain_text("Drop duplicates")
        _shoot(page, "workspace")
        page.get_by_role("button", name="Clean").click()
        page.get_by_role("button", name="Fill statistic").click()
        form = page.get_by_role("form", name="Fill statistic")
        form.get_by_label("Column *").select_option("quantity")
        form.get_by_label("Statistic *").select_option("median")
        _shoot(page, "operation")
        page.get_by_role("button", name="Close operations").click()
        page.get_by_role("button", name="Facets").click()
        page.get_by_label("Facet column").select_option("city")
        _shoot(page, "facets")
        page.get_by_role("button", name="Close facets").click()
        page.get_by_role("button", name="Chart").click()
        page.get_by_label("Chart kind").select_option("bars")
        page.get_by_label("X column").select_option("product")
        page.wait_for_timeout(600)
        _shoot(page, "chart")

        page.goto("/pipelines/coffee-report")
        page.get_by_label("sales (table)").select_option(label="Coffee shop sales (demo)")
        _shoot(page, "pipeline")
        page.get_by_role("button", name="Run coffee-report").click()
        expect(page.locator(".page-head .state-badge")).to_have_text("succeeded", timeout=60_000)
        _shoot(page, "run")
        page.goto("/workers")
        expect(page.get_by_role("heading", name="Workers")).to_be_visible()
        _shoot(page, "workers")
        page.goto("/admin/users")
        expect(page.get_by_role("form", name="New user")).to_be_visible()
        _shoot(page, "admin")
        browser.close()


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "DATAMILL_DATA_DIR": data, "DATAMILL_WORKERS": "2"}
        _datamill(env, "demo")
        _datamill(env, "user", "set-password", "demo", "--password-stdin", stdin=PASSWORD + "\n")
        token = _datamill(env, "token", "create", "demo", "--name", "screenshots")
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "datamill", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/api/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            _pages(url, token)
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
