"""Dependencies shared by every route: the database session, who is calling, and access checks.

Authentication happens in exactly one place, :func:`optional_user`: an ``Authorization: Bearer``
API token, or the session cookie — and then, for writes, the CSRF header must match the session.
Dataset access goes through :func:`dataset_for_read` / :func:`dataset_for_write`.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from datamill.auth import permissions
from datamill.auth.sessions import find_session, token_user
from datamill.context import AppContext
from datamill.datasets import catalog
from datamill.db.models import Dataset, User, looks_like_id
from datamill.problems import Forbidden, NotFound, Unauthorized

SESSION_COOKIE = "datamill_session"
CSRF_COOKIE = "datamill_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that do no I/O are coroutines: FastAPI runs a plain function in its thread pool,
# and a hop there and back costs more than their whole work.


async def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_ctx)]


async def get_db(ctx: ContextDep) -> AsyncIterator[Session]:
    """The request's session. Making one does no I/O, nor does closing one that holds no
    connection (routes and dependencies end their reads with :func:`release`); only a session
    still in a transaction is closed in the thread pool, as its rollback talks to the database."""
    db = ctx.sessions()
    try:
        yield db
    finally:
        if db.in_transaction():
            await run_in_threadpool(db.close)
        else:
            db.close()


# Closed when the route function returns, before a streamed reply is sent: a slow download must
# not hold a database connection.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def release(db: Session) -> None:
    """End the read transaction so that no pooled connection is held during long work.

    Sessions keep loaded objects after commit (``expire_on_commit=False``), so the caller goes
    on using them; the next query simply checks a connection out again.
    """
    db.commit()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    return value.strip()


def _user_from_token(db: Session, ctx: AppContext, token: str) -> User:
    user = token_user(db, ctx.secret_key, token)
    if user is None:
        raise Unauthorized("The API token is not valid (unknown or revoked).")
    return user


def _user_from_cookie(request: Request, db: Session, ctx: AppContext, token: str) -> User | None:
    session = find_session(db, ctx.secret_key, token)
    if session is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER) or ""
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise Forbidden(
                f"Cookie-authenticated writes need the {CSRF_HEADER} header "
                "from the sign-in reply (it is missing or wrong)."
            )
    return db.get(User, session.user_id)


# Declared so that the OpenAPI document (and its "Authorize" button) knows about tokens; the
# header itself is parsed by ``_bearer`` so that a malformed one is an error, not anonymous.
bearer_scheme = HTTPBearer(
    auto_error=False, description="An API token: create one with POST /api/v1/tokens."
)


def optional_user(
    request: Request,
    db: SessionDep,
    ctx: ContextDep,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
) -> User | None:
    token = _bearer(request)
    if token is not None:
        user: User | None = _user_from_token(db, ctx, token)
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        user = _user_from_cookie(request, db, ctx, cookie) if cookie else None
    if user is not None and user.disabled:
        raise Unauthorized("This account is disabled.")
    release(db)
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthorized("Sign in, or send an API token as 'Authorization: Bearer <token>'.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Only administrators may do this.")
    return user


AdminUser = Annotated[User, Depends(admin_user)]


def dataset_for_read(dataset_id: str, user: CurrentUser, db: SessionDep) -> Dataset:
    """The dataset, if the caller may read it; otherwise 404, so its existence does not leak."""
    dataset = catalog.get_dataset(db, dataset_id) if looks_like_id(dataset_id) else None
    if dataset is None or not permissions.can_read(user, dataset):
        raise NotFound(f"There is no dataset {dataset_id!r} that you can see.")
    release(db)
    return dataset


def dataset_for_write(dataset_id: str, user: CurrentUser, db: SessionDep) -> Dataset:
    dataset = dataset_for_read(dataset_id, user, db)
    if not permissions.can_write(user, dataset):
        raise Forbidden("This dataset is shared with you read-only; only its owner can change it.")
    return dataset


DatasetForRead = Annotated[Dataset, Depends(dataset_for_read)]
DatasetForWrite = Annotated[Dataset, Depends(dataset_for_write)]
