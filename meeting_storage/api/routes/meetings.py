"""The meeting and recording endpoints: process a transcript, list, get and delete meetings,
presign an upload to S3 or stream one through the server."""

from __future__ import annotations

import io
from typing import Annotated, Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
from fastapi import Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect

from meeting_storage.api.dependencies import API_PREFIX, Storage, token_router
from meeting_storage.api.errors import error_responses
from meeting_storage.api.limits import RequestTooLarge
from meeting_storage.api.multipart import FILE_FIELD, MultipartFileReader
from meeting_storage.api.schemas.fields import UtcDatetime
from meeting_storage.api.schemas.meetings import (
    DeleteResponse,
    MeetingListResponse,
    MeetingResponse,
    ProcessRequest,
    ProcessResponse,
    QueuedResponse,
    UploadResponse,
    UploadUrlRequest,
    UploadUrlResponse,
)
from meeting_storage.core.analysis import requirements_to_json
from meeting_storage.core.errors import FileTooLargeError, InvalidInputError, JobFailedError
from meeting_storage.core.layout import MAX_MEETING_ID_LENGTH, MEETING_ID_RE
from meeting_storage.core.models import STATUS_FAILED, UploadedAudio
from meeting_storage.core.settings import MAX_PRESIGN_SECONDS
from meeting_storage.index import DEFAULT_LIMIT, MAX_LIMIT
from meeting_storage.index.query import MeetingFilter
from meeting_storage.service.worker import wait_for_meeting

UPLOAD_PATH = f"{API_PREFIX}/meetings/upload"
STREAM_BUFFER = 64 * 1024


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


router = token_router()


@router.post(
    "/meeting/process",
    response_model=ProcessResponse,
    tags=["meetings"],
    summary="Store a meeting and queue its analysis (202), or wait for it (200)",
    responses={
        202: {"model": QueuedResponse, "description": "stored and queued"},
        **error_responses(400, 404, 409, 413, 415, 422, 502, 503),
    },
)
def process_meeting(body: ProcessRequest, storage: Storage) -> Any:
    """Store the meeting (with the recording at `audio_s3_key`, if given) as `queued` and
    answer 202 at once: a worker extracts the summary, action items, decisions and
    requirements of `text`; GET /api/meetings/{id} shows its status. With `"wait": true` the
    answer (200) comes when the analysis is stored. With `"store": false` only the analysis
    is returned and nothing is stored."""
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
    submitted = storage.submit_meeting(
        body.text,
        audio_s3_key=body.audio_s3_key,
        filename=body.filename,
        title=body.title,
        tags=body.tags,
        recorded_at=body.recorded_at,
        kind=body.kind,
    )
    if not body.wait:
        return JSONResponse(
            {"success": True, "stored": True, **submitted.to_dict()}, status_code=202
        )
    record = wait_for_meeting(storage, submitted.record.meeting_id)
    if record.status == STATUS_FAILED:
        raise JobFailedError(
            f"Meeting {record.meeting_id} failed at {record.failed_step}: {record.failure_reason}"
        )
    result = storage.result_of(record, submitted.index_warning)
    return {"success": True, "stored": True, **result.to_dict()}


@router.get(
    "/meetings",
    response_model=MeetingListResponse,
    tags=["meetings"],
    summary="List meetings, newest first",
    responses=error_responses(400, 422, 503),
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
    uploaded_by: Annotated[
        str | None, Query(max_length=320, description="only meetings this person stored")
    ] = None,
) -> dict[str, Any]:
    filters = MeetingFilter(uploaded_by=uploaded_by.strip() or None) if uploaded_by else None
    page = storage.list_meetings(limit, cursor, search, filters, since=since, until=until)
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
    responses=error_responses(400, 413, 415, 422, 503),
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
    responses=error_responses(400, 413, 415, 422, 503),
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
    responses=error_responses(400, 404, 422, 503),
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
    responses=error_responses(400, 404, 409, 422, 503),
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
