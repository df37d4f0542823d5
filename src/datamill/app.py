"""The FastAPI application factory: ``uvicorn --factory datamill.app:create_app``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from datamill import __version__, redaction
from datamill.api import (
    auth,
    datasets,
    events,
    facets,
    health,
    operations,
    pipelines,
    runs,
    tasks,
    tokens,
    users,
    workers,
)
from datamill.api.docs import install_docs
from datamill.api.limits import BodyLimit
from datamill.api.webapp import app_page, install_webapp, wants_app
from datamill.config import Settings
from datamill.context import AppContext
from datamill.datasets.sweep import sweep_orphans
from datamill.db.migrate import upgrade
from datamill.problems import PROBLEM_JSON, Invalid, Problem, ServerError, problem_for_status

log = logging.getLogger("datamill")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redaction.install()
        ctx = AppContext.open(settings)
        upgrade(settings, ctx.db_engine)
        with ctx.sessions() as db:
            sweep_orphans(db, settings)
        ctx.start_runs()
        app.state.ctx = ctx
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(
        title="Datamill",
        version=__version__,
        description="A self-hosted web lab for data. Every error is `application/problem+json`.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    for router in (health.router, auth.router, tokens.router, datasets.router):
        app.include_router(router, prefix="/api/v1")
    app.include_router(tasks.router, prefix="/api/v1")
    app.include_router(pipelines.router, prefix="/api/v1")
    app.include_router(runs.router, prefix="/api/v1")
    app.include_router(operations.router, prefix="/api/v1")
    app.include_router(facets.router, prefix="/api/v1")
    app.include_router(events.router, prefix="/api/v1")
    app.include_router(workers.router, prefix="/api/v1")
    app.include_router(users.router, prefix="/api/v1")
    app.add_middleware(BodyLimit)
    install_docs(app, "/api/openapi.json")
    install_webapp(app)
    _install_error_handlers(app)
    return app


def _problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body(), status_code=problem.status, headers=problem.headers, media_type=PROBLEM_JSON
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(_request: Request, exc: Problem) -> JSONResponse:
        return _problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors)
        return _problem_response(Invalid(f"Some fields are invalid: {fields}.", errors=errors))

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and wants_app(request):
            try:
                return app_page(request)  # a client-side route of the browser app
            except Problem as not_built:
                return _problem_response(not_built)
        problem = problem_for_status(exc.status_code, str(exc.detail))
        problem.headers.update(exc.headers or {})
        return _problem_response(problem)

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _problem_response(
            ServerError("Something went wrong on the server; the error has been logged.")
        )
