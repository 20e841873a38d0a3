"""The models of the health endpoints: liveness and the doctor's readiness checks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class HealthResponse(BaseModel):
    success: Literal[True] = True
    status: Literal["ok"] = "ok"
    version: str


class CheckOut(BaseModel):
    name: str
    status: Literal["ok", "warn", "fail"]
    message: str | None = Field(default=None, description="with a valid token only")
    fix: str | None = Field(default=None, description="with a valid token only")


class ReadyResponse(BaseModel):
    success: bool
    ready: bool
    checks: list[CheckOut]
