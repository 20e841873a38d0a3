"""The REST API (FastAPI): the design document's endpoints over the same `MeetingStorage`.

Route handlers are thin: validate the request, call one service method, shape the JSON. Every
failure is `{"success": false, "error": {"code", "message"}}` with the HTTP status the error
carries (`MeetingStorageError.http_status`), the same codes as the CLI. Every endpoint but
health requires `Authorization: Bearer <API_TOKEN>`. Request bodies are size-limited before
they are read; the multipart upload streams its file to S3 as it arrives.

Run it with `python -m meeting_storage serve` (or `make api`); the OpenAPI document is at
/openapi.json and browsable at /docs.
"""

from __future__ import annotations

import hmac
import inspect
import io
import ipaddress
import logging
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from meeting_storage.api.multipart import FILE_FIELD, MultipartFileReader
from meeting_storage.core.analysis import requirements_to_json
from meeting_storage.core.errors import (
    ConfigurationError,
    FileTooLargeError,
    InternalError,
    InvalidInputError,
    MeetingStorageError,
    UnauthorizedError,
)
from meeting_storage.core.layout import MAX_MEETING_ID_LENGTH, MEETING_ID_RE
from meeting_storage.core.models import UploadedAudio
from meeting_storage.core.settings import MAX_PRESIGN_SECONDS, Settings, load_settings
from meeting_storage.costs import line_items, whatif
from meeting_storage.index import DEFAULT_LIMIT, MAX_LIMIT
from meeting_storage.ops import cost_review, doctor
from meeting_storage.service.facade import MeetingStorage, open_storage

logger = logging.getLogger(__name__)

API_PREFIX = "/api"
UPLOAD_PATH = f"{API_PREFIX}/meetings/upload"
# Room for the multipart boundaries and part headers around an upload of MAX_UPLOAD_MB.
MULTIPART_OVERHEAD = 1024 * 1024
STREAM_BUFFER = 64 * 1024
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
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

StorageFactory = Callable[[], MeetingStorage]


# ---------------------------------------------------------------------- wire models


def _utf8_text(value: str) -> str:
    """Refuse lone surrogates (valid JSON escapes, but not text that can be stored)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def _iso_only(value: Any) -> Any:
    """Date-times as ISO 8601 text only: no numbers read as Unix time by accident."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date-time such as 2026-01-15T09:30:00Z")
    return value


def _json_integer(value: Any) -> Any:
    """A JSON integer (6795 or 6795.0), not a string or a boolean that merely converts to one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


def _utc(value: datetime) -> datetime:
    """An aware UTC datetime; times without a zone are taken as UTC."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is out of range once converted to UTC") from exc


Text = Annotated[str, AfterValidator(_utf8_text)]
# After the constraints in Annotated[...], so that they stay in the JSON schema.
JSON_INTEGER = BeforeValidator(_json_integer)
UtcDatetime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_utc)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class MeetingIdConvertor(Convertor[str]):
    """Routes /meetings/{meeting_id} only for ids, so /meetings/upload-url is never one."""

    regex = MEETING_ID_RE.pattern.removeprefix("^").removesuffix("$")

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("meeting_id", MeetingIdConvertor())
MeetingId = Annotated[
    str,
    Path(
        pattern=MEETING_ID_RE.pattern,
        max_length=MAX_MEETING_ID_LENGTH,
        examples=["meeting-3f2a9c0d4b5e6f708192a3b4c5d6e7f8"],
    ),
]


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str


class ErrorResponse(BaseModel):
    success: Literal[False] = False
    error: ErrorDetail
    details: list[dict[str, Any]] | None = Field(
        default=None, description="for 422: which fields were wrong, and why"
    )


class ProcessRequest(BaseModel):
    text: Text = Field(min_length=1, description="the meeting's transcript")
    audio_s3_key: Text | None = Field(
        default=None,
        max_length=1100,
        description="a recording already uploaded (upload-url or upload): meetings/{uuid}_{name}",
    )
    filename: Text | None = Field(default=None, max_length=1024, description="display file name")
    title: Text = Field(default="", max_length=1000)
    tags: list[Annotated[Text, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    recorded_at: UtcDatetime | None = Field(
        default=None, description="when the meeting took place (default: now); UTC if no zone"
    )
    store: StrictBool = Field(
        default=True,
        description="false: only return the analysis, store nothing (no meeting_id)",
    )


class MeetingRecordOut(BaseModel):
    """A meeting's metadata.json (the listing entry); more fields may appear."""

    model_config = ConfigDict(extra="allow")

    meeting_id: str
    timestamp: Timestamp
    filename: str
    audio_s3_key: str | None = None
    action_items_count: int
    requirements_count: int
    extraction_method: str
    bedrock_used: bool
    title: str = ""
    tags: list[str] = Field(default_factory=list)
    audio_size: int | None = None
    content_type: str | None = None
    status: str


class ProcessResponse(BaseModel):
    success: Literal[True] = True
    meeting_id: str | None = Field(description="null when store was false")
    stored: bool
    meeting_summary: dict[str, Any]
    requirements: list[dict[str, Any]]
    audio_s3_key: str | None = None
    extraction_method: str
    bedrock_used: bool
    indexed: bool = Field(
        default=True, description="false when the meeting is stored but not listed yet"
    )
    index_warning: str | None = Field(
        default=None, description="why the meeting is not listed yet, and how to list it"
    )


class MeetingListResponse(BaseModel):
    success: Literal[True] = True
    meetings: list[MeetingRecordOut]
    count: int
    next_cursor: str | None = Field(description="pass as cursor for the next page; null at the end")


class MeetingOut(BaseModel):
    meeting_id: str
    transcription: str
    summary: dict[str, Any]
    requirements: list[dict[str, Any]]
    metadata: MeetingRecordOut
    audio_url: str | None = Field(description="presigned GET URL of the recording")
    audio_unavailable_reason: str | None = None


class MeetingResponse(BaseModel):
    success: Literal[True] = True
    meeting: MeetingOut


class DeleteResponse(BaseModel):
    success: Literal[True] = True
    meeting_id: str
    deleted: list[str]
    index_entry_removed: bool
    purged: bool
    recoverable: bool


class UploadUrlRequest(BaseModel):
    filename: Text = Field(min_length=1, max_length=1024, examples=["Weekly sync.m4a"])
    content_type: str = Field(max_length=200, examples=["audio/mp4"])
    size: Annotated[int, Field(ge=1), JSON_INTEGER] | None = Field(
        default=None, description="bytes; required for PUT"
    )
    method: Literal["POST", "PUT"] = "POST"
    expires_in: Annotated[int, Field(ge=1, le=MAX_PRESIGN_SECONDS), JSON_INTEGER] | None = Field(
        default=None,
        description="seconds the upload URL stays valid (default PRESIGNED_URL_EXPIRY)",
    )


class UploadUrlResponse(BaseModel):
    success: Literal[True] = True
    audio_s3_key: str
    filename: str
    method: Literal["POST", "PUT"]
    url: str
    fields: dict[str, str] = Field(description="POST: form fields to send before the file")
    headers: dict[str, str] = Field(description="PUT: headers to send with the file")
    content_type: str
    min_bytes: int
    max_bytes: int
    expires_at: Timestamp


class UploadResponse(BaseModel):
    success: Literal[True] = True
    audio_s3_key: str
    filename: str
    size: int
    content_type: str


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


class TallyOut(BaseModel):
    bytes: int
    objects: int


class MeetingFootprintOut(BaseModel):
    meeting_id: str
    title: str
    timestamp: Timestamp
    audio_minutes: float | None
    audio_bytes: int
    document_bytes: int
    stored_bytes: int
    audio_storage_class: str | None = Field(description="null: no recording in S3")
    processing_cost_usd: float | None = Field(description="as recorded in metadata.json")
    transcribed_seconds: float | None = Field(
        description="audio seconds Amazon Transcribe transcribed; null: it did not"
    )
    bedrock_model_id: str | None = Field(description="null: Bedrock was not called")
    bedrock_input_tokens: int
    bedrock_output_tokens: int


class FootprintOut(BaseModel):
    total_bytes: int
    object_count: int
    by_prefix: dict[str, TallyOut] = Field(
        description="meetings/ (recordings), transcriptions/, index/ and other"
    )
    by_storage_class: dict[str, TallyOut] = Field(
        description="S3 storage classes, and LOCAL for documents kept on disk (STORE_IN_S3=false)"
    )
    noncurrent_versions: TallyOut | None = Field(
        description="deleted or replaced objects kept by versioning; null: not versioned"
    )
    meeting_count: int
    measured_at: Timestamp
    meetings: list[MeetingFootprintOut] = Field(
        default_factory=list,
        description="per meeting, newest first; present only with ?meetings=true",
    )


class BedrockPriceOut(BaseModel):
    input: float
    output: float


class PricesOut(BaseModel):
    """The dated list-price table the estimate uses (USD)."""

    region: str
    bedrock_region: str = Field(description="the region whose Bedrock prices are used")
    date: str = Field(json_schema_extra={"format": "date"})
    currency: str
    sources: list[str]
    storage_per_gb_month: dict[str, float]
    put_per_1k_requests: float
    get_per_1k_requests: float
    transition_per_1k_requests: dict[str, float]
    transfer_out_per_gb: float
    transfer_out_free_gb: float
    dynamodb_write_per_million: float
    dynamodb_read_per_million: float
    dynamodb_storage_per_gb_month: float
    transcribe_per_minute: float
    bedrock_per_1k_tokens: dict[str, BedrockPriceOut] = Field(description="by model id")
    notes: list[str]


class UsageOut(BaseModel):
    """The what-if inputs of the projection: the bucket's recent history and set-up, with any
    query parameter applied."""

    meetings_per_month: int
    average_minutes: float
    average_audio_mb: float
    average_documents_kb: float
    lifecycle: bool
    archive_days: int | None
    archive_storage_class: str
    retention_days: int | None = Field(description="null: meetings are kept forever")
    dynamodb: bool
    transcribe: bool
    bedrock: bool
    bedrock_model_id: str
    plays_per_meeting: float
    views_per_meeting: float
    listings_per_month: int


COST_CATEGORIES = ", ".join(
    (
        line_items.STORAGE,
        line_items.REQUESTS,
        line_items.LIFECYCLE,
        line_items.TRANSFER,
        line_items.PROCESSING,
        line_items.INDEX,
    )
)


class LineItemOut(BaseModel):
    """usd is quantity x unit_price_usd (exact in Decimal; floats here are rounded)."""

    name: str = Field(examples=["S3 Standard storage"])
    category: str = Field(description=f"one of: {COST_CATEGORIES}")
    quantity: float
    unit: str = Field(examples=["GB-month"])
    unit_price_usd: float
    usd: float


class EstimateOut(BaseModel):
    total_usd: float
    items: list[LineItemOut]
    notes: list[str]


class ProjectedMonthOut(BaseModel):
    month: int = Field(description="1 is the current month")
    meetings_stored: int
    stored_gb: dict[str, float] = Field(description="by storage class")
    total_usd: float
    by_category: dict[str, float]
    items: list[LineItemOut]


class LifecycleMonthOut(BaseModel):
    month: int
    with_lifecycle_usd: float
    without_lifecycle_usd: float


class LifecycleComparisonOut(BaseModel):
    months: int
    with_lifecycle_usd: float
    without_lifecycle_usd: float
    savings_usd: float
    by_month: list[LifecycleMonthOut]


class CostsResponse(BaseModel):
    """The cost review of `python -m meeting_storage cost --json`."""

    success: Literal[True] = True
    prices: PricesOut
    footprint: FootprintOut
    usage: UsageOut
    monthly: EstimateOut = Field(description="this calendar month, line by line")
    projection: list[ProjectedMonthOut]
    projection_total_usd: float
    lifecycle_comparison: LifecycleComparisonOut
    notes: list[str]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": ErrorResponse, "description": _STATUS_CODES.get(status, "error")}
        for status in statuses
    }


UPLOAD_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "the recording (m4a, mp3, wav, ogg, webm, mp4, flac)",
                        }
                    },
                }
            }
        },
    }
}


# ---------------------------------------------------------------------- plumbing


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
            response = _error_response(413, "file_too_large", error.detail)
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


class _StorageProvider:
    """Opens the storage service on first use (so a bad setting is a 503, not a crash)."""

    def __init__(self, factory: StorageFactory) -> None:
        self._factory = factory
        self._storage: MeetingStorage | None = None
        self._lock = threading.Lock()

    def __call__(self) -> MeetingStorage:
        with self._lock:
            if self._storage is None:
                self._storage = self._factory()
            return self._storage


def get_storage(request: Request) -> MeetingStorage:
    """The dependency every route gets its MeetingStorage from (override it in tests)."""
    provider: _StorageProvider = request.app.state.storage_provider
    return provider()


_bearer = HTTPBearer(
    auto_error=False,
    description="The server's API_TOKEN (printed at start when it generated one).",
)


def _token_ok(request: Request, token: str | None) -> bool:
    expected: str = request.app.state.api_token
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if not _token_ok(request, credentials.credentials if credentials else None):
        raise UnauthorizedError(
            "Missing or wrong bearer token: send `Authorization: Bearer <API_TOKEN>`."
        )


def optional_token(request: Request) -> bool:
    """True for a request with the right bearer token (read directly: the endpoints that use
    this are public, so the OpenAPI document must not declare a security requirement)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and _token_ok(request, token.strip() or None)


def _query_names(dependant: Any) -> set[str]:
    """Every query parameter an endpoint declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters the endpoint does not take, instead of silently ignoring a
    misspelt filter (`?serach=`) and answering as if none was given."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise InvalidInputError(
            f"Unknown query parameter(s): {', '.join(repr(u) for u in unknown)}; "
            f"this endpoint takes: {takes}."
        )


Storage = Annotated[MeetingStorage, Depends(get_storage)]


def _error_response(
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
        return _internal_error_response(request.scope, exc)
    return _error_response(exc.http_status, exc.code, exc.message)


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
    return _error_response(
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
    return _error_response(exc.status_code, code, str(exc.detail), headers=headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error_response(request.scope, exc)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _internal_error_response(scope: Scope, exc: BaseException) -> JSONResponse:
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
    return _error_response(
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
            await _internal_error_response(scope, exc)(scope, receive, send)


def _package_version() -> str:
    try:
        return version("meeting-storage")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


# ---------------------------------------------------------------------- routes

# Every endpoint refuses unknown query parameters with 400.
public = APIRouter(
    prefix=API_PREFIX,
    tags=["health"],
    dependencies=[Depends(reject_unknown_query)],
    responses=_errors(400),
)
router = APIRouter(
    prefix=API_PREFIX,
    dependencies=[Depends(require_token), Depends(reject_unknown_query)],
    responses=_errors(400, 401),
)


@public.get("/health", response_model=HealthResponse, summary="Liveness")
def health() -> dict[str, Any]:
    """The server is up. No token needed, no storage touched."""
    return {"success": True, "status": "ok", "version": _package_version()}


@public.get(
    "/health/ready",
    response_model=ReadyResponse,
    summary="Readiness (doctor checks)",
    responses={503: {"model": ReadyResponse, "description": "a check failed"}},
)
def ready(storage: Storage, authenticated: Annotated[bool, Depends(optional_token)]) -> Any:
    """The doctor's configuration, bucket, region, versioning and encryption checks (not the
    per-meeting ones). 503 when one fails. Messages and fixes only with a valid token."""
    report = doctor.run_doctor(storage, contents=False)
    checks = [
        {
            "name": check.name,
            "status": check.status,
            "message": check.message if authenticated else None,
            "fix": check.fix if authenticated else None,
        }
        for check in report.checks
    ]
    body = {"success": report.healthy, "ready": report.healthy, "checks": checks}
    if report.healthy:
        return body
    failed = ", ".join(check.name for check in report.checks if check.status == "fail")
    body["error"] = {"code": "backend_unavailable", "message": f"Not ready: {failed} failed."}
    return JSONResponse(body, status_code=503)


@router.post(
    "/meeting/process",
    response_model=ProcessResponse,
    tags=["meetings"],
    summary="Analyse a transcript and store the meeting",
    responses=_errors(400, 404, 409, 413, 415, 422, 503),
)
def process_meeting(body: ProcessRequest, storage: Storage) -> dict[str, Any]:
    """Extract the summary, action items, decisions and requirements of `text`, and store the
    whole meeting (with the recording at `audio_s3_key`, if given). With `"store": false` only
    the analysis is returned and nothing is stored."""
    if not body.store:
        extraction = storage.analyse(body.text)
        return {
            "success": True,
            "meeting_id": None,
            "stored": False,
            "meeting_summary": extraction.summary.to_json(),
            "requirements": requirements_to_json(extraction.requirements),
            "audio_s3_key": None,
            "extraction_method": extraction.method,
            "bedrock_used": extraction.bedrock_used,
        }
    result = storage.process(
        body.text,
        audio_s3_key=body.audio_s3_key,
        filename=body.filename,
        title=body.title,
        tags=body.tags,
        recorded_at=body.recorded_at,
    )
    return {"success": True, "stored": True, **result.to_dict()}


@router.get(
    "/meetings",
    response_model=MeetingListResponse,
    tags=["meetings"],
    summary="List meetings, newest first",
    responses=_errors(400, 422, 503),
)
def list_meetings(
    storage: Storage,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    search: Annotated[str | None, Query(max_length=500)] = None,
    since: Annotated[
        UtcDatetime | None, Query(description="meetings at or after this time (UTC if no zone)")
    ] = None,
    until: Annotated[
        UtcDatetime | None, Query(description="meetings before this time (UTC if no zone)")
    ] = None,
) -> dict[str, Any]:
    page = storage.list_meetings(limit, cursor, search, since=since, until=until)
    meetings = [record.to_dict() for record in page.meetings]
    return {
        "success": True,
        "meetings": meetings,
        "count": len(meetings),
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/meetings/upload-url",
    response_model=UploadUrlResponse,
    tags=["recordings"],
    summary="Presign an upload straight to S3",
    responses=_errors(400, 413, 415, 422, 503),
)
def create_upload_url(body: UploadUrlRequest, storage: Storage) -> dict[str, Any]:
    """A presigned POST policy (default) or PUT URL for `meetings/{uuid}_{filename}`. S3 itself
    refuses another key, another Content-Type or a size over MAX_UPLOAD_MB (POST: any size up
    to it, or exactly `size`; PUT: exactly `size`). Then call /api/meeting/process with the
    returned `audio_s3_key`."""
    upload = storage.create_upload(
        body.filename,
        body.content_type,
        size=body.size,
        method=body.method,
        expires_in=body.expires_in,
    )
    return {"success": True, **upload.to_dict()}


@router.post(
    "/meetings/upload",
    response_model=UploadResponse,
    tags=["recordings"],
    summary="Upload a small recording through the server",
    openapi_extra=UPLOAD_REQUEST_BODY,
    responses=_errors(400, 413, 415, 422, 503),
)
async def upload_recording(
    request: Request,
    storage: Storage,
    filename: Annotated[
        str | None, Query(max_length=1024, description="store under this name instead")
    ] = None,
) -> dict[str, Any]:
    """multipart/form-data with the recording in a field named `file`. It is streamed on to
    S3 as it arrives (checked by its magic bytes, at most MAX_UPLOAD_MB). For large recordings
    prefer /api/meetings/upload-url, which does not pass through this server."""
    token = anyio.lowlevel.current_token()
    body = request.stream()

    async def read_chunk() -> bytes | None:
        try:
            return await body.__anext__()
        except StopAsyncIteration:
            return None

    def next_chunk() -> bytes | None:
        try:
            return anyio.from_thread.run(read_chunk, token=token)
        except ClientDisconnect as exc:
            raise InvalidInputError("The client stopped sending the upload.") from exc
        except RequestTooLarge as exc:
            raise FileTooLargeError(str(exc.detail)) from exc

    reader = MultipartFileReader(request.headers.get("content-type", ""), next_chunk)

    def upload() -> UploadedAudio:
        name = reader.open()
        return storage.upload_audio(io.BufferedReader(reader, STREAM_BUFFER), filename or name)

    uploaded = await anyio.to_thread.run_sync(upload)
    return {
        "success": True,
        "audio_s3_key": uploaded.audio_s3_key,
        "filename": uploaded.filename,
        "size": uploaded.size,
        "content_type": uploaded.content_type,
    }


@router.get(
    "/meetings/{meeting_id:meeting_id}",
    response_model=MeetingResponse,
    tags=["meetings"],
    summary="One meeting with a presigned audio URL",
    responses=_errors(400, 404, 422, 503),
)
def get_meeting(
    meeting_id: MeetingId,
    storage: Storage,
    expires_in: Annotated[
        int | None, Query(ge=1, le=MAX_PRESIGN_SECONDS, description="audio URL lifetime (s)")
    ] = None,
) -> dict[str, Any]:
    meeting = storage.get_meeting(meeting_id)
    data = meeting.to_dict()
    if expires_in is not None and meeting.audio_url:
        data["audio_url"] = storage.presign_audio(meeting_id, expires_in)
    return {"success": True, "meeting": data}


@router.delete(
    "/meetings/{meeting_id:meeting_id}",
    response_model=DeleteResponse,
    tags=["meetings"],
    summary="Delete a meeting and all its files",
    responses=_errors(400, 404, 409, 422, 503),
)
def delete_meeting(
    meeting_id: MeetingId,
    storage: Storage,
    purge: Annotated[
        bool, Query(description="in a versioned bucket, also remove every old version")
    ] = False,
) -> dict[str, Any]:
    """Removes the recording, every transcription file and the index entry. 404 for a meeting
    that does not exist; an interrupted delete is finished by calling it again."""
    report = storage.delete_meeting(meeting_id, purge=purge)
    return {"success": True, **report.to_dict()}


def _what_if_parameter(spec: whatif.WhatIfInput) -> inspect.Parameter:
    """The query parameter of one declared what-if input, with its bounds. Usage inputs are
    optional (None: the bucket's value stays); the others default as declared."""
    value_type: Any
    query: Any
    other = whatif.conflicting(spec.name)
    description = f"{spec.help} (not with {other})" if other else spec.help
    if spec.kind in (whatif.Kind.COUNT, whatif.Kind.DAYS):
        value_type = int
        query = Query(ge=spec.minimum, le=spec.maximum, description=description)
    elif spec.kind is whatif.Kind.AMOUNT:
        value_type = float
        query = Query(ge=spec.minimum, le=spec.maximum, description=description)
    elif spec.kind is whatif.Kind.FLAG:
        value_type, query = bool, Query(description=description)
    elif spec.kind is whatif.Kind.CHOICE:
        value_type, query = Literal[spec.choices], Query(description=description)
    else:
        value_type = str
        query = Query(min_length=1, max_length=spec.maximum, description=description)
    if spec.name in whatif.USAGE_INPUT:
        value_type, default = value_type | None, None
    else:
        default = spec.default
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[value_type, query],
    )


def _what_if_parameters() -> list[inspect.Parameter]:
    """months, then the usage inputs in their declared order, keep_forever after the one it
    excludes."""
    parameters = [_what_if_parameter(whatif.MONTHS)]
    for spec in whatif.USAGE_INPUTS:
        parameters.append(_what_if_parameter(spec))
        if spec.name == whatif.KEEP_FOREVER.excludes:
            parameters.append(_what_if_parameter(whatif.KEEP_FOREVER))
    return parameters


class WhatIfQuery:
    """GET /costs's what-if query parameters, one per declared input (costs.whatif). FastAPI
    reads them, with their bounds, from this dependency's signature; the values come back
    as given (None: not given)."""

    __signature__ = inspect.Signature(_what_if_parameters())

    def __call__(self, **values: Any) -> dict[str, Any]:
        return values


# The archive classes of the query, as the declaration lists them (a test checks they are
# the lifecycle policy's).
ArchiveClass: Any = Literal[whatif.USAGE_INPUT["archive_storage_class"].choices]


@router.get(
    "/costs",
    response_model=CostsResponse,
    response_model_exclude_unset=True,
    tags=["costs"],
    summary="Footprint, this month's cost and a projection, line by line",
    responses=_errors(400, 422, 503),
)
def costs(
    storage: Storage,
    what_if: Annotated[dict[str, Any], Depends(WhatIfQuery())],
    meetings: Annotated[
        bool, Query(description="include footprint.meetings, one entry per stored meeting")
    ] = False,
) -> dict[str, Any]:
    """What `python -m meeting_storage cost --json` prints: the price table, what is stored,
    this calendar month's cost line by line, a month-by-month projection, and the projection
    with and without the lifecycle policy. The what-if inputs default to the bucket's recent
    history and set-up (its lifecycle policy, index backend, transcriber and extractor); each
    query parameter overrides one. 400 when both retention_days and keep_forever are given."""
    values = dict(what_if)
    months = whatif.check_months(values.pop(whatif.MONTHS.name))
    keep_forever = values.pop(whatif.KEEP_FOREVER.name)
    overrides = whatif.usage_overrides(values, keep_forever=keep_forever)
    report = cost_review.cost_report(storage, months=months, **overrides)
    return {"success": True, **report.to_dict(meetings=meetings)}


# ---------------------------------------------------------------------- the app


def create_app(
    storage_factory: StorageFactory | None = None, *, settings: Settings | None = None
) -> FastAPI:
    """The ASGI app. `settings` default to the environment and .env; the storage service is
    opened from them on first use unless `storage_factory` provides it."""
    settings = settings or load_settings()
    if not settings.api_token:
        raise ConfigurationError(
            "API_TOKEN not configured: every endpoint but health needs a bearer token. Set "
            "API_TOKEN in .env or the environment (`python -m meeting_storage serve` generates "
            "one for a loopback address)."
        )
    resolved = settings
    # /docs and /redoc serve Swagger UI and ReDoc from the package, not a CDN, so they work offline.
    app = FastAPIOffline(
        title="meeting-storage",
        version=_package_version(),
        description=(
            "Store meeting recordings, transcripts, summaries and requirements in Amazon S3. "
            "Every endpoint but /api/health requires `Authorization: Bearer <API_TOKEN>` "
            "(use Authorize). Errors are `{success: false, error: {code, message}}`."
        ),
    )
    app.state.api_token = settings.api_token
    app.state.storage_provider = _StorageProvider(
        storage_factory or (lambda: open_storage(resolved))
    )
    app.add_exception_handler(MeetingStorageError, _storage_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(public)
    app.include_router(router)
    app.add_middleware(
        BodySizeLimit,
        default=settings.api_max_body_bytes,
        per_path={UPLOAD_PATH: settings.max_upload_bytes + MULTIPART_OVERHEAD},
    )
    app.add_middleware(InternalErrors)
    return app


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(host: str, token: str | None) -> None:
    """The server never listens beyond this machine without a configured API_TOKEN."""
    if token is None and not is_loopback_host(host):
        raise ConfigurationError(
            f"Refusing to serve on {host} without API_TOKEN: anyone who can reach it could read "
            "and delete meetings. Set API_TOKEN in .env or the environment, or serve on "
            "127.0.0.1."
        )
