"""Every failure answers the same envelope: `{"success": false, "error": {"code", "message"}}`
with the HTTP status the error carries (`MeetingStorageError.http_status`) and the same codes
as the CLI. A bug is a 500 `internal_error` with a request id, its traceback logged once."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meeting_storage.core.errors import InternalError, MeetingStorageError

logger = logging.getLogger(__name__)

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_STATUS_CODES = {
    400: "invalid_input",
    401: "unauthorized",
    403: "access_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "file_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    503: "backend_unavailable",
}


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str


class ErrorResponse(BaseModel):
    success: Literal[False] = False
    error: ErrorDetail
    details: list[dict[str, Any]] | None = Field(
        default=None, description="for 422: which fields were wrong, and why"
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of an endpoint's error statuses, each the envelope."""
    return {
        status: {"model": ErrorResponse, "description": _STATUS_CODES.get(status, "error")}
        for status in statuses
    }


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"success": False, "error": {"code": code, "message": message}}
    body.update(extra)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, headers=headers)


async def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MeetingStorageError)
    if isinstance(exc, InternalError):  # a bug the package caught and named
        return internal_error_response(request.scope, exc)
    return error_response(exc.http_status, exc.code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(d['loc'])}: {d['message']}" for d in details[:5])
    return error_response(
        422, "invalid_input", f"Invalid request: {summary or 'malformed'}.", details=details
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Each method of a path is its own route; Allow must name them all, not the first.
        allowed = {
            method
            for method in HTTP_METHODS
            if any(
                route.matches({**request.scope, "method": method})[0] == Match.FULL
                for route in request.app.router.routes
            )
        }
        headers["Allow"] = ", ".join(sorted(allowed))
    return error_response(exc.status_code, code, str(exc.detail), headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return internal_error_response(request.scope, exc)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def internal_error_response(scope: Scope, exc: BaseException) -> JSONResponse:
    """A bug's answer: 500 `internal_error` and a request id (the client's X-Request-ID when
    it sent a plain one) in the body and header; the traceback is logged under that id only."""
    sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
    request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex
    logger.error(
        "internal_error request_id=%s in %s %s",
        request_id,
        scope.get("method"),
        scope.get("path"),
        exc_info=exc,
    )
    message = (
        f"Unexpected server error; the server log has the details under request id {request_id}."
    )
    return error_response(
        500,
        InternalError.code,
        message,
        headers={"X-Request-ID": request_id},
        request_id=request_id,
    )


class InternalErrors:
    """The outermost boundary: an exception nobody handled becomes the 500 above, logged
    once, instead of reaching the server (which would log it again, without the id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # the API's top-level boundary: a bug, answered as one
            if started:
                raise  # too late for an error body; the server closes the connection
            await internal_error_response(scope, exc)(scope, receive, send)


def add_error_handlers(app: FastAPI) -> None:
    """Answer the package's errors, bad requests, HTTP errors and bugs with the envelope."""
    app.add_exception_handler(MeetingStorageError, _storage_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
