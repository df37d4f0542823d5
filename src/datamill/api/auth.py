"""Sign in, sign out, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from datamill.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    ContextDep,
    CurrentUser,
    SessionDep,
)
from datamill.auth.login import sign_in
from datamill.auth.sessions import end_session
from datamill.schemas.users import LoginReply, LoginRequest, UserPublic

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", operation_id="login", summary="Sign in")
def login(
    body: LoginRequest, request: Request, response: Response, db: SessionDep, ctx: ContextDep
) -> LoginReply:
    """Check the password and set the session cookie. Failed tries are rate-limited."""
    address = request.client.host if request.client else "unknown"
    user, token, csrf = sign_in(db, ctx, body.username, body.password, address)
    db.commit()
    max_age = ctx.settings.session_days * 86400
    secure = ctx.settings.cookie_secure
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, samesite="lax", secure=secure)
    return LoginReply(user=UserPublic.model_validate(user), csrf_token=csrf)


@router.post("/logout", status_code=204, operation_id="logout", summary="Sign out")
def logout(
    request: Request, response: Response, user: CurrentUser, db: SessionDep, ctx: ContextDep
) -> None:
    """End this browser session (API tokens are revoked at /tokens)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        end_session(db, ctx.secret_key, cookie)
        db.commit()
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)


@router.get("/me", operation_id="me", summary="The signed-in user")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
