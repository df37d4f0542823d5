"""API tokens of the calling user: create (shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from datamill.api.deps import ContextDep, CurrentUser, SessionDep
from datamill.auth.sessions import create_token, list_tokens, revoke_token
from datamill.schemas.common import ListReply
from datamill.schemas.tokens import TokenCreate, TokenCreated, TokenPublic

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.post("", status_code=201, operation_id="create_token")
def create(body: TokenCreate, user: CurrentUser, db: SessionDep, ctx: ContextDep) -> TokenCreated:
    token, row = create_token(db, ctx.secret_key, user, body.name)
    db.commit()
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=token)


@router.get("", operation_id="list_tokens")
def list_(user: CurrentUser, db: SessionDep) -> ListReply[TokenPublic]:
    rows = list_tokens(db, user)
    return ListReply(data=[TokenPublic.model_validate(r) for r in rows], count=len(rows))


@router.delete("/{token_id}", status_code=204, operation_id="revoke_token")
def revoke(token_id: str, user: CurrentUser, db: SessionDep) -> None:
    revoke_token(db, user, token_id)
    db.commit()
