"""Browser sign-in sessions and API tokens: creation, lookup and revocation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from datamill.auth.bearer import TOKEN_PREFIX, new_token, token_hash
from datamill.db.models import ApiToken, User, looks_like_id, utcnow
from datamill.db.models import Session as SignIn
from datamill.problems import Invalid, NotFound, field_error

TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def start_session(db: Session, secret_key: str, user: User, days: int) -> tuple[str, SignIn]:
    """A new session for ``user``; returns the cookie value (shown once) and the stored row."""
    token = new_token()
    row = SignIn(
        token_hash=token_hash(secret_key, token),
        user_id=user.id,
        csrf_token=new_token(),
        expires_at=utcnow() + timedelta(days=days),
    )
    db.add(row)
    db.flush()
    return token, row


def find_session(db: Session, secret_key: str, token: str) -> SignIn | None:
    row = db.get(SignIn, token_hash(secret_key, token))
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def end_session(db: Session, secret_key: str, token: str) -> None:
    db.execute(delete(SignIn).where(SignIn.token_hash == token_hash(secret_key, token)))


def create_token(db: Session, secret_key: str, user: User, name: str) -> tuple[str, ApiToken]:
    """A new API token for ``user``; the plain token is returned here and never again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid(
            "A token needs a name of 1 to 100 characters.",
            errors=[field_error(["body", "name"], "1 to 100 characters")],
        )
    token = new_token(TOKEN_PREFIX)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(secret_key, token),
        prefix=token[: len(TOKEN_PREFIX) + 4],
    )
    db.add(row)
    db.flush()
    return token, row


_TOKEN_USER = (
    select(User, ApiToken.id, ApiToken.last_used_at)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("hash"))
)
"""Built once: every request made with a token runs it."""


def token_user(db: Session, secret_key: str, token: str) -> User | None:
    """The user an API token signs in, or None for a token unknown or revoked.

    Read with the user in one statement (every API call made with a token comes here first);
    a token not used for ``TOKEN_TOUCH_INTERVAL`` gets its ``last_used_at`` set, so the list of
    tokens can tell the ones in use without a write per request.
    """
    found = db.execute(_TOKEN_USER, {"hash": token_hash(secret_key, token)}).first()
    if found is None:
        return None
    user, token_id, last_used_at = found
    now = utcnow()
    if last_used_at is None or now - last_used_at > TOKEN_TOUCH_INTERVAL:
        db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        db.commit()
    return user


def list_tokens(
    db: Session, user: User, offset: int = 0, limit: int = 100
) -> tuple[Sequence[ApiToken], int]:
    mine = ApiToken.user_id == user.id
    total = db.scalar(select(func.count()).select_from(ApiToken).where(mine)) or 0
    query = select(ApiToken).where(mine).order_by(ApiToken.created_at, ApiToken.id)
    return db.scalars(query.offset(offset).limit(limit)).all(), total


def revoke_token(db: Session, user: User, token_id: str) -> None:
    row = db.get(ApiToken, token_id) if looks_like_id(token_id) else None
    if row is None or row.user_id != user.id:
        raise NotFound(f"You have no API token with id {token_id!r}.")
    db.delete(row)
    db.flush()
