"""The models of the audit trail and personal token endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from meeting_storage.api.schemas.fields import Text


class AuditEventOut(BaseModel):
    at: str = Field(description="when (ISO 8601, UTC)")
    actor: str = Field(description="an address, `local` (the command line) or `api-token`")
    role: Literal["viewer", "editor", "admin"]
    via: Literal["dashboard", "api", "cli"]
    action: str = Field(examples=["meeting.delete"])
    meeting_id: str | None
    details: dict[str, Any]
    outcome: Literal["ok", "forbidden", "failed"]


class AuditResponse(BaseModel):
    success: Literal[True] = True
    events: list[AuditEventOut] = Field(description="newest first")


class TokenCreateRequest(BaseModel):
    email: Text = Field(min_length=3, max_length=320, examples=["alice@example.com"])
    role: Literal["viewer", "editor", "admin"]
    name: Text = Field(default="", max_length=100)
    expires_days: int | None = Field(default=90, ge=1, le=3650, description="null: never")


class TokenOut(BaseModel):
    token_id: str
    email: str
    role: Literal["viewer", "editor", "admin"]
    name: str
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None


class TokenCreatedResponse(BaseModel):
    success: Literal[True] = True
    token: str = Field(description="shown this once: only its hash is stored")
    token_id: str
    email: str
    role: Literal["viewer", "editor", "admin"]
    name: str
    expires_at: str | None


class TokenListResponse(BaseModel):
    success: Literal[True] = True
    tokens: list[TokenOut]


class TokenResponse(BaseModel):
    success: Literal[True] = True
    token: TokenOut
