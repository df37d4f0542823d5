"""Signing in: rate limit, password check, session creation."""

from __future__ import annotations

from sqlalchemy.orm import Session

from datamill.auth.passwords import verify_password
from datamill.auth.sessions import start_session
from datamill.auth.users import USERNAME_PATTERN, get_by_username
from datamill.context import AppContext
from datamill.db.models import User
from datamill.problems import TooManyRequests, Unauthorized


def sign_in(
    db: Session, ctx: AppContext, username: str, password: str, address: str
) -> tuple[User, str, str]:
    """Return the user, the session cookie value and the CSRF token; raise 401 or 429."""
    wait = ctx.limiter.begin(username, address)
    if wait:
        raise TooManyRequests(
            f"Too many failed sign-ins for {username!r} or from this address; "
            f"try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    # A malformed name cannot exist: no lookup, but the same hashing time as a real check.
    user = get_by_username(db, username) if USERNAME_PATTERN.match(username) else None
    # argon2 uses 64 MiB per check: bound how many run at once.
    with ctx.password_checks:
        valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or user.disabled:
        raise Unauthorized("Wrong username or password.")
    ctx.limiter.succeed(username, address)
    token, session = start_session(db, ctx.secret_key, user, ctx.settings.session_days)
    return user, token, session.csrf_token
