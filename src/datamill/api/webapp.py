"""The browser app at ``/``: built assets, and ``index.html`` for every client-side route.

The build (``make frontend``) writes ``static/`` with hashed asset names, each with a ``.gz``
beside it: assets are cached for a year and sent precompressed, and ``index.html`` is never
cached, so a new build is picked up on the next page load. Paths under ``/api`` are never
answered with the app: an unknown API path stays a problem+json 404, a known one called with
the wrong method a 405.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from datamill.problems import NotFound, Problem
from datamill.storage.files import UnsafePathError, resolve_inside

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSET_CACHE = "public, max-age=31536000, immutable"
# React sets styles through the DOM, never inline <style>; the favicon is a data: URL.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


class NotBuilt(Problem):
    status, title, slug = 503, "Browser app not built", "app-not-built"


def _asset(static: Path, name: str) -> Path:
    """The asset file for a request path, refusing anything that leaves ``assets/``."""
    try:
        path = resolve_inside(static / "assets", name)
    except (UnsafePathError, ValueError):  # ValueError: a NUL byte in the name
        path = None
    if path is None or not path.is_file():
        raise NotFound(f"There is no asset named {name!r}.")
    return path


def _accepts_gzip(request: Request) -> bool:
    encodings = request.headers.get("accept-encoding", "")
    return any(part.split(";")[0].strip() == "gzip" for part in encodings.split(","))


def install_webapp(app: FastAPI, static: Path = STATIC_DIR) -> None:
    """The assets route; every other unknown path that a browser GETs outside ``/api`` gets
    ``index.html`` from the app's 404 handler (``app_page``), so that API paths keep their
    problem+json 404s and 405s, whatever the method."""
    app.state.static_dir = static

    @app.get("/assets/{name:path}", include_in_schema=False)
    def asset(name: str, request: Request) -> Response:
        path = _asset(static, name)
        headers = {"Cache-Control": ASSET_CACHE, "Vary": "Accept-Encoding"}
        media = TYPES.get(path.suffix)
        packed = path.with_name(path.name + ".gz")
        if media and packed.is_file() and _accepts_gzip(request):
            headers["Content-Encoding"] = "gzip"
            return FileResponse(packed, media_type=media, headers=headers)
        return FileResponse(path, media_type=media, headers=headers)


def wants_app(request: Request) -> bool:
    """A browser asking for a page of the app: a GET outside the API that no route answered."""
    path = request.url.path
    served = getattr(request.app.state, "static_dir", None) is not None
    api = path == "/api" or path.startswith(("/api/", "/assets/"))
    return served and request.method in ("GET", "HEAD") and not api


def app_page(request: Request) -> Response:
    """``index.html``, never cached, under a strict content security policy."""
    page = request.app.state.static_dir / "index.html"
    if not page.is_file():
        raise NotBuilt(
            "The browser app has not been built. Run `make run`, which builds it, "
            "or use the API at /api/docs."
        )
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
    return FileResponse(page, media_type="text/html", headers=headers)
