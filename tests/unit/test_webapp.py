"""Serving the browser app: client-side routes, cached and precompressed assets, API 404s kept."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from datamill import openapi
from datamill.api.webapp import ASSET_CACHE, _asset, install_webapp
from datamill.app import _install_error_handlers
from datamill.problems import NotFound

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"


@pytest.fixture
def static(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "app-1.js").write_text("console.log('app')")
    (tmp_path / "assets" / "app-1.js.gz").write_bytes(gzip.compress(b"console.log('app')"))
    (tmp_path / "secret.txt").write_text("not an asset")
    return tmp_path


def served(static: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    install_webapp(app, static)
    _install_error_handlers(app)
    return TestClient(app)


@pytest.mark.parametrize("route", ["/", "/datasets", "/datasets/abc/history", "/runs?state=failed"])
def test_every_client_side_route_gets_the_app_uncached(static: Path, route: str) -> None:
    reply = served(static).get(route)
    assert reply.status_code == 200
    assert reply.text.startswith("<!doctype html>")
    assert reply.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in reply.headers["content-security-policy"]


@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
@pytest.mark.parametrize("route", ["/api/v1/nothing", "/api", "/api/v2/datasets"])
def test_an_unknown_api_path_stays_a_problem_not_the_app(
    static: Path, route: str, method: str
) -> None:
    reply = served(static).request(method, route)
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


def test_a_known_api_path_with_the_wrong_method_is_still_405(static: Path) -> None:
    reply = served(static).post("/api/v1/health")
    assert reply.status_code == 405
    assert reply.headers["content-type"] == "application/problem+json"


def test_only_a_browser_get_gets_the_app(static: Path) -> None:
    assert served(static).post("/datasets").status_code == 404
    assert served(static).get("/assets/missing.js").headers["content-type"] == (
        "application/problem+json"
    )


def test_assets_are_cached_for_good_and_sent_gzipped_to_browsers_that_accept_it(
    static: Path,
) -> None:
    client = served(static)
    packed = client.get("/assets/app-1.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["cache-control"] == ASSET_CACHE
    assert packed.headers["content-type"].startswith("text/javascript")
    assert packed.text == "console.log('app')"  # httpx decodes it
    plain = client.get("/assets/app-1.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == "console.log('app')"


@pytest.mark.parametrize("name", ["..%2Fsecret.txt", "%2E%2E%2Fsecret.txt", "missing.js"])
def test_an_asset_path_cannot_leave_the_assets_folder(static: Path, name: str) -> None:
    reply = served(static).get(f"/assets/{name}")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("name", ["../secret.txt", "../../etc/passwd", "/etc/passwd", "a\\b", ""])
def test_an_asset_name_that_leaves_the_folder_is_refused_before_any_read(
    static: Path, name: str
) -> None:
    """HTTP clients collapse ``..`` before sending; the route must refuse it all the same."""
    with pytest.raises(NotFound):
        _asset(static, name)


def test_a_missing_build_says_how_to_build_it(tmp_path: Path) -> None:
    reply = served(tmp_path).get("/datasets")
    assert reply.status_code == 503
    assert "make run" in reply.json()["detail"]


def test_the_typed_clients_openapi_document_matches_the_api() -> None:
    committed = (FRONTEND / "openapi.json").read_text()
    assert committed == openapi.render(openapi.document()), (
        "frontend/openapi.json is stale: run `make api-client` and commit it"
    )
