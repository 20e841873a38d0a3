"""Request bodies are size-limited before they are read: one limit for every endpoint, a
larger one for the multipart upload (a recording of up to MAX_UPLOAD_MB)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meeting_storage.api.errors import error_response

# Room for the multipart boundaries and part headers around an upload of MAX_UPLOAD_MB.
MULTIPART_OVERHEAD = 1024 * 1024


class RequestTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"The request body is larger than {limit // (1024 * 1024)} MB; for recordings use "
            "POST /api/meetings/upload-url and upload straight to S3.",
        )


class BodySizeLimit:
    """Refuse request bodies over a limit: at once when Content-Length says so, else while
    the body is read (chunked requests), before any handler sees more than the limit."""

    def __init__(self, app: ASGIApp, *, default: int, per_path: dict[str, int]) -> None:
        self.app = app
        self.default = default
        self.per_path = per_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.default)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            error = RequestTooLarge(limit)
            response = error_response(413, "file_too_large", error.detail)
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestTooLarge(limit)
            return message

        await self.app(scope, limited, send)
