"""The audit trail and personal API tokens (administrators only: the service refuses others
with 403)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query

from meeting_storage.api.dependencies import Storage, token_router
from meeting_storage.api.errors import error_responses
from meeting_storage.api.schemas.access import (
    AuditResponse,
    TokenCreatedResponse,
    TokenCreateRequest,
    TokenListResponse,
    TokenResponse,
)
from meeting_storage.api.schemas.fields import UtcDatetime
from meeting_storage.core.layout import MAX_MEETING_ID_LENGTH, MEETING_ID_RE

router = token_router()


@router.get(
    "/audit",
    response_model=AuditResponse,
    tags=["access"],
    summary="The audit trail, newest first",
    responses=error_responses(403, 422, 503),
)
def audit_events(
    storage: Storage,
    since: Annotated[UtcDatetime | None, Query(description="events at or after this time")] = None,
    meeting_id: Annotated[
        str | None, Query(pattern=MEETING_ID_RE.pattern, max_length=MAX_MEETING_ID_LENGTH)
    ] = None,
    actor: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    events = storage.audit_events(since, meeting_id, actor, limit=limit)
    return {"success": True, "events": [event.to_dict() for event in events]}


@router.post(
    "/tokens",
    response_model=TokenCreatedResponse,
    tags=["access"],
    summary="Create a personal API token (shown once)",
    responses=error_responses(403, 422, 503),
)
def create_token(body: TokenCreateRequest, storage: Storage) -> dict[str, Any]:
    created = storage.create_token(
        body.email, body.role, name=body.name, expires_days=body.expires_days
    )
    return {"success": True, **created.to_dict()}


@router.get(
    "/tokens",
    response_model=TokenListResponse,
    tags=["access"],
    summary="Every personal API token, without secrets",
    responses=error_responses(403, 503),
)
def list_tokens(storage: Storage) -> dict[str, Any]:
    return {"success": True, "tokens": [token.to_dict() for token in storage.list_tokens()]}


@router.delete(
    "/tokens/{token_id}",
    response_model=TokenResponse,
    tags=["access"],
    summary="Revoke a personal API token",
    responses=error_responses(403, 404, 422, 503),
)
def revoke_token(
    token_id: Annotated[str, Path(pattern=r"^tok-[0-9a-f]{16}$")], storage: Storage
) -> dict[str, Any]:
    return {"success": True, "token": storage.revoke_token(token_id).to_dict()}
