"""User accounts: repository functions over an open session (they flush, the caller commits)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from datamill.auth.passwords import hash_password
from datamill.db.models import Session as SignIn
from datamill.db.models import User
from datamill.problems import Conflict, Invalid, NotFound, field_error

Role = Literal["admin", "member"]
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.match(username):
        raise Invalid(
            "A username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            errors=[field_error(["body", "username"], "invalid username")],
        )
    return username


def create_user(db: Session, username: str, password: str, role: Role = "member") -> User:
    check_username(username)
    if get_by_username(db, username) is not None:
        raise Conflict(f"A user named {username!r} already exists.")
    user = User(username=username, password_hash=hash_password(password), role=role)
    db.add(user)
    db.flush()
    return user


def get_by_username(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def require_by_username(db: Session, username: str) -> User:
    user = get_by_username(db, username)
    if user is None:
        raise NotFound(f"There is no user named {username!r}.")
    return user


def list_users(db: Session, offset: int = 0, limit: int = 100) -> tuple[Sequence[User], int]:
    total = db.scalar(select(func.count()).select_from(User)) or 0
    users = db.scalars(select(User).order_by(User.username).offset(offset).limit(limit)).all()
    return users, total


def _active_admins(db: Session) -> int:
    query = select(func.count()).select_from(User)
    return db.scalar(query.where(User.role == "admin", User.disabled.is_(False))) or 0


def update_user(
    db: Session,
    user: User,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    password: str | None = None,
) -> User:
    """Change a user's role, access or password. The last active admin stays one: nobody could
    manage users or register tasks any more.

    Two admins demoting each other at once must not both succeed: the active admins' rows are
    locked first (PostgreSQL), the change is written, and the admins are counted again after it
    (on SQLite the write itself holds the database's lock until the commit)."""
    admins = select(User.id).where(User.role == "admin", User.disabled.is_(False))
    db.execute(admins.with_for_update()).all()
    if password is not None:
        set_password(db, user, password)
    if role is not None:
        user.role = role
    if disabled is not None:
        user.disabled = disabled
        if disabled:
            _sign_out_everywhere(db, user)
    db.flush()
    if _active_admins(db) == 0:
        raise Conflict(
            f"{user.username} is the only active admin. Make another user an admin first."
        )
    return user


def set_password(db: Session, user: User, password: str) -> None:
    """Change the password and end every browser session of the user (API tokens stay)."""
    user.password_hash = hash_password(password)
    _sign_out_everywhere(db, user)
    db.flush()


def _sign_out_everywhere(db: Session, user: User) -> None:
    """End every browser session of ``user`` (API tokens are revoked on their own)."""
    db.execute(delete(SignIn).where(SignIn.user_id == user.id))
