"""Liveness and readiness: can we reach the database and write to the data directory?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from datamill import __version__
from datamill.api.deps import ContextDep
from datamill.health import check_database, check_storage
from datamill.schemas.health import Health

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    operation_id="health",
    summary="Health of the database and storage",
    responses={503: {"model": Health}},
)
def health(ctx: ContextDep) -> JSONResponse:
    """200 when the database answers and the data directory is writable, else 503."""
    report = Health(
        status="ok",
        version=__version__,
        database=check_database(ctx.db_engine),
        storage=check_storage(ctx.settings),
    )
    healthy = report.database.ok and report.storage.ok
    report.status = "ok" if healthy else "unavailable"
    return JSONResponse(report.model_dump(), status_code=200 if healthy else 503)
