"""The browser app end to end: the system Chromium, driven by Playwright, against a real
``datamill serve`` (SQLite, local worker pool) started once for the e2e tests and stopped
after them, so that neither takes CPU from the tests that follow.

Under ``CI=true`` a missing Chromium fails the run; elsewhere these tests are skipped. Each test
writes its screenshots under ``test-output/e2e/<test>/``: look at them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from datamill.auth.sessions import create_token
from datamill.auth.users import Role, create_user
from datamill.db.engine import make_engine, make_session_factory
from datamill.db.migrate import upgrade
from tests.fixtures.db import TEST_SECRET, make_settings
from tests.fixtures.servers import Server
from tests.fixtures.users import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1400, "height": 860}
expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class Person:
    username: str
    token: str
    role: Role


@dataclass(frozen=True)
class App:
    server: Server
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium is required under CI=true and {CHROMIUM} is missing (make chromium)")
    pytest.skip(f"{CHROMIUM} is missing: `make chromium` installs it")


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("e2e")
    data = root / "data"
    settings = make_settings(data)
    engine = make_engine(settings)
    upgrade(settings, engine)
    engine.dispose()
    env = {
        "DATAMILL_DATA_DIR": str(data),
        "DATAMILL_SECRET_KEY": TEST_SECRET,
        "DATAMILL_WORKERS": "2",
        "DATAMILL_TICK_SECONDS": "0.5",
        "DATAMILL_COOKIE_SECURE": "false",
    }
    server = Server("e2e", env, root)
    try:
        server.wait_healthy()
        yield App(server, data)
    finally:
        server.stop()


@pytest.fixture
def person(served: App) -> Callable[..., Person]:
    """A new account on the served app (a unique name per call), with an API token."""
    settings = make_settings(served.data_dir)

    def make(role: Role = "member", prefix: str = "user") -> Person:
        username = f"{prefix}{uuid.uuid4().hex[:6]}"
        engine = make_engine(settings)
        try:
            with make_session_factory(engine)() as db:
                user = create_user(db, username, PASSWORD, role)
                token, _ = create_token(db, TEST_SECRET, user, "e2e")
                db.commit()
        finally:
            engine.dispose()
        return Person(username, token, role)

    return make


@pytest.fixture(scope="package")
def browser(chromium_path: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def new_context(browser: Browser, served: App) -> Iterator[Callable[[], BrowserContext]]:
    """Open browser contexts (separate cookie jars) on the app; all closed after the test."""
    opened: list[BrowserContext] = []

    def make() -> BrowserContext:
        context = browser.new_context(
            base_url=served.url,
            viewport=VIEWPORT,
            accept_downloads=True,  # type: ignore[arg-type]
        )
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context: Callable[[], BrowserContext]) -> Page:
    return new_context().new_page()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``shots(page, "name")`` saves a full-window PNG under the test's output directory."""
    folder = Path(request.config.rootpath) / "test-output" / "e2e" / request.node.name
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take
