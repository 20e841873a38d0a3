"""The models of the meeting and recording endpoints: process, list, get, delete, upload."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from meeting_storage.api.schemas.fields import JSON_INTEGER, Text, Timestamp, UtcDatetime
from meeting_storage.core.settings import MAX_PRESIGN_SECONDS


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
    kind: Text | None = Field(
        default=None,
        max_length=40,
        description="stand-up, retro, planning, 1:1, customer call, interview or other; "
        "shapes the summary's sections (default: detected)",
    )
    store: StrictBool = Field(
        default=True,
        description="false: only return the analysis, store nothing (no meeting_id)",
    )
    wait: StrictBool = Field(
        default=False,
        description="true: wait for the meeting's job and answer 200 with the analysis; "
        "false (default): answer 202 with the queued meeting at once",
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


class QueuedResponse(BaseModel):
    """A meeting stored and queued: a worker processes it; GET /api/meetings/{id} tells how far."""

    success: Literal[True] = True
    meeting_id: str
    stored: Literal[True] = True
    status: str = Field(description="queued (or failed when the job could not be queued)")
    progress: float | None = None
    failure_reason: str | None = None
    failed_step: str | None = None
    job_attempts: int = 0
    queued_at: str | None = None
    audio_s3_key: str | None = None
    indexed: bool = True
    index_warning: str | None = None


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
