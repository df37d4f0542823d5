"""API tokens of the calling user: create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from datamill.api.deps import ContextDep, CurrentUser, SessionDep
from datamill.api.params import Limit, Offset
from datamill.auth.sessions import create_token, list_tokens, revoke_token
from datamill.schemas.common import ListReply
from datamill.schemas.tokens import TokenCreate, TokenCreated, TokenPublic

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.post("", status_code=201, operation_id="create_token", summary="Create an API token")
def create(body: TokenCreate, user: CurrentUser, db: SessionDep, ctx: ContextDep) -> TokenCreated:
    token, row = create_token(db, ctx.secret_key, user, body.name)
    db.commit()
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=token)


@router.get("", operation_id="list_tokens", summary="List your API tokens")
def list_(
    user: CurrentUser, db: SessionDep, offset: Offset = 0, limit: Limit = 50
) -> ListReply[TokenPublic]:
    rows, total = list_tokens(db, user, offset, limit)
    return ListReply(data=[TokenPublic.model_validate(r) for r in rows], count=total)


@router.delete(
    "/{token_id}", status_code=204, operation_id="revoke_token", summary="Revoke an API token"
)
def revoke(token_id: str, user: CurrentUser, db: SessionDep) -> None:
    revoke_token(db, user, token_id)
    db.commit()
