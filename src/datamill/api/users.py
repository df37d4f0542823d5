"""User accounts, for admins: list, create, change role, disable, reset a password."""

from __future__ import annotations

from fastapi import APIRouter

from datamill.api.deps import AdminUser, SessionDep
from datamill.api.params import Limit, Offset
from datamill.auth.users import create_user, list_users, require_by_username, update_user
from datamill.schemas.common import ListReply
from datamill.schemas.users import UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", operation_id="list_users", summary="List users (admins)")
def list_(
    admin: AdminUser, db: SessionDep, offset: Offset = 0, limit: Limit = 100
) -> ListReply[UserPublic]:
    users, total = list_users(db, offset, limit)
    return ListReply(data=[UserPublic.model_validate(u) for u in users], count=total)


@router.post("", status_code=201, operation_id="create_user", summary="Create a user (admins)")
def create(body: UserCreate, admin: AdminUser, db: SessionDep) -> UserPublic:
    user = create_user(db, body.username, body.password, body.role)
    db.commit()
    return UserPublic.model_validate(user)


@router.patch("/{username}", operation_id="update_user", summary="Change a user (admins)")
def update(username: str, body: UserUpdate, admin: AdminUser, db: SessionDep) -> UserPublic:
    """Role, disabled, password: only the fields sent change. 409 for the last active admin."""
    user = require_by_username(db, username)
    update_user(db, user, role=body.role, disabled=body.disabled, password=body.password)
    db.commit()
    return UserPublic.model_validate(user)
