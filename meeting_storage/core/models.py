"""The values the public API takes and returns."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from meeting_storage.core.analysis import Requirement, Summary, requirements_to_json
from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.layout import validate_meeting_id

METADATA_SCHEMA_VERSION = 1
STATUS_COMPLETE = "complete"
STATUS_DELETING = "deleting"
STATUS_AWAITING_TRANSCRIPT = "awaiting_transcript"
# A stored recording's work (transcription, extraction, indexing) is a job done by workers:
# queued -> transcribing -> analysing -> complete (or awaiting_transcript), or failed.
STATUS_QUEUED = "queued"
STATUS_TRANSCRIBING = "transcribing"
STATUS_ANALYSING = "analysing"
STATUS_FAILED = "failed"
IN_FLIGHT_STATUSES = (STATUS_QUEUED, STATUS_TRANSCRIBING, STATUS_ANALYSING)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # older records wrote naive times; they were UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class MeetingRecord:
    """What metadata.json holds and what the index lists."""

    meeting_id: str
    timestamp: datetime
    filename: str
    audio_s3_key: str | None = None
    action_items_count: int = 0
    requirements_count: int = 0
    # Action items not marked done, and who owns them (for the index's filters).
    open_action_items_count: int = 0
    action_item_owners: tuple[str, ...] = ()
    extraction_method: str = "rule_based"
    bedrock_used: bool = False
    title: str = ""
    tags: tuple[str, ...] = ()
    audio_size: int | None = None
    content_type: str | None = None
    duration_seconds: float | None = None
    transcript_chars: int = 0
    status: str = STATUS_COMPLETE
    # "aws_transcribe" or "whisper" when the transcript came from the recording.
    transcribed_by: str | None = None
    # What the user should know about how this meeting was analysed (or why it was not).
    notes: tuple[str, ...] = ()
    schema_version: int = METADATA_SCHEMA_VERSION
    # What storing and analysing the meeting cost when it was processed (USD, written as a
    # decimal string, as AWS billing data is), and the SHA-256 of the recording's bytes, which
    # `migrate` uses to skip recordings already stored. Older records have neither.
    processing_cost_usd: Decimal | None = None
    audio_sha256: str | None = None
    # What went into processing_cost_usd besides S3 requests, so it can be checked by hand:
    # the seconds of recording Amazon Transcribe transcribed (only when it did; it bills whole
    # seconds, at least 15 a job), and the Bedrock model and the tokens of every call made for
    # this meeting (only when Bedrock was called, also if its answer was then not used).
    transcribed_seconds: float | None = None
    bedrock_model_id: str | None = None
    bedrock_input_tokens: int | None = None
    bedrock_output_tokens: int | None = None
    # The bytes and objects of the meeting's files under transcriptions/{id}/, metadata.json
    # included, as written: what the store's aggregates add up (older records have none).
    document_bytes: int | None = None
    document_objects: int | None = None
    # The meeting's kind (stand-up, retro, ...: analysis/kinds.py), chosen at upload or
    # detected; and the names given to its speakers, {label in the original transcript: name}.
    kind: str | None = None
    speaker_names: dict[str, str] = field(default_factory=dict, hash=False)
    # Who stored the meeting: the signed-in address, the API token's owner, or "local" (the
    # CLI). Older records have none and count as the local operator's.
    uploaded_by: str | None = None
    # The job that processes a stored recording: when it was queued, how far it is (0 to 1),
    # how many times a worker started it, and why and at which step it failed. A transcript
    # given with the recording waits in the meeting's folder under `transcript_source`.
    queued_at: datetime | None = None
    progress: float | None = None
    job_attempts: int = 0
    failure_reason: str | None = None
    failed_step: str | None = None
    transcript_source: str | None = None

    @property
    def in_flight(self) -> bool:
        """True while a worker still has to (finish) processing it."""
        return self.status in IN_FLIGHT_STATUSES

    @property
    def display_title(self) -> str:
        return self.title or self.filename

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["timestamp"] = self.timestamp.astimezone(UTC).isoformat()
        data["tags"] = list(self.tags)
        data["notes"] = list(self.notes)
        data["action_item_owners"] = list(self.action_item_owners)
        data["speaker_names"] = dict(self.speaker_names)
        if self.processing_cost_usd is not None:
            data["processing_cost_usd"] = str(self.processing_cost_usd)
        if self.queued_at is not None:
            data["queued_at"] = self.queued_at.astimezone(UTC).isoformat()
        return data

    @classmethod
    def from_dict(cls, data: Any) -> MeetingRecord:
        if not isinstance(data, dict):
            raise InvalidInputError("metadata.json is not a JSON object.")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        try:
            values["meeting_id"] = validate_meeting_id(str(values["meeting_id"]))
            values["timestamp"] = parse_timestamp(str(values["timestamp"]))
            values["filename"] = str(values.get("filename") or "")
            values["tags"] = tuple(str(tag) for tag in values.get("tags") or ())
            values["notes"] = tuple(str(note) for note in values.get("notes") or ())
            values["action_item_owners"] = tuple(
                str(owner) for owner in values.get("action_item_owners") or ()
            )
            for name in ("action_items_count", "requirements_count", "transcript_chars"):
                values[name] = int(values.get(name) or 0)
            # Records written before open items were counted: nothing could be marked done yet.
            open_count = values.get("open_action_items_count")
            values["open_action_items_count"] = (
                values["action_items_count"] if open_count is None else int(open_count)
            )
            values["bedrock_used"] = bool(values.get("bedrock_used", False))
            if values.get("processing_cost_usd") is not None:
                values["processing_cost_usd"] = Decimal(str(values["processing_cost_usd"]))
            if values.get("transcribed_seconds") is not None:
                values["transcribed_seconds"] = float(values["transcribed_seconds"])
            if values.get("bedrock_model_id") is not None:
                values["bedrock_model_id"] = str(values["bedrock_model_id"])
            if values.get("kind") is not None:
                values["kind"] = str(values["kind"])
            names = values.get("speaker_names") or {}
            values["speaker_names"] = (
                {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
            )
            values["uploaded_by"] = (
                str(values["uploaded_by"]) if values.get("uploaded_by") else None
            )
            for name in (
                "bedrock_input_tokens",
                "bedrock_output_tokens",
                "document_bytes",
                "document_objects",
                "audio_size",
            ):
                if values.get(name) is not None:
                    values[name] = int(values[name])
            if values.get("queued_at") is not None:
                values["queued_at"] = parse_timestamp(str(values["queued_at"]))
            if values.get("progress") is not None:
                values["progress"] = float(values["progress"])
            values["job_attempts"] = int(values.get("job_attempts") or 0)
            return cls(**values)
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise InvalidInputError(f"metadata.json is malformed: {exc}") from exc


@dataclass(frozen=True)
class MeetingPage:
    """One page of a listing or a search.

    `snippets` maps a meeting id to a short extract of the matching text with the matched
    words between ** markers (search only). `search_note` says how the search was done when
    it is limited (for example: no transcripts, or a scan instead of an index).
    """

    meetings: list[MeetingRecord]
    next_cursor: str | None = None
    snippets: dict[str, str] = field(default_factory=dict)
    search_note: str | None = None
    ranked: bool = False


@dataclass(frozen=True)
class UploadedAudio:
    audio_s3_key: str
    filename: str
    size: int
    content_type: str
    local_copy: str | None = None
    sha256: str | None = None
    duration_seconds: float | None = None


@dataclass(frozen=True)
class ArchiveStatus:
    """Where a recording's bytes are, and whether it can be played now.

    `restore` is "not_needed" (a class that plays directly: Standard, Standard-IA, Glacier
    Instant Retrieval), "not_requested", "in_progress" or "restored" (a temporary copy,
    playable until `restored_until`).
    """

    storage_class: str
    archived: bool
    restore: str
    restored_until: datetime | None = None

    @property
    def playable(self) -> bool:
        return not self.archived or self.restore == "restored"

    def to_dict(self) -> dict[str, Any]:
        return {
            "storage_class": self.storage_class,
            "archived": self.archived,
            "restore": self.restore,
            "restored_until": self.restored_until.isoformat() if self.restored_until else None,
            "playable": self.playable,
        }


@dataclass(frozen=True)
class Meeting:
    """A whole meeting as `show` returns it."""

    record: MeetingRecord
    transcription: str
    summary: Summary
    requirements: tuple[Requirement, ...]
    audio_url: str | None
    audio_unavailable_reason: str | None = None
    audio_archive: ArchiveStatus | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.record.meeting_id,
            "transcription": self.transcription,
            "summary": self.summary.to_json(),
            "requirements": requirements_to_json(self.requirements),
            "metadata": self.record.to_dict(),
            "audio_url": self.audio_url,
            "audio_unavailable_reason": self.audio_unavailable_reason,
            "audio_archive": self.audio_archive.to_dict() if self.audio_archive else None,
        }


@dataclass(frozen=True)
class ProcessResult:
    record: MeetingRecord
    summary: Summary
    requirements: tuple[Requirement, ...]
    # Set when the meeting is stored but its index entry could not be written (after retries).
    index_warning: str | None = None

    @property
    def indexed(self) -> bool:
        return self.index_warning is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "meeting_id": self.record.meeting_id,
            "meeting_summary": self.summary.to_json(),
            "requirements": requirements_to_json(self.requirements),
            "audio_s3_key": self.record.audio_s3_key,
            "extraction_method": self.record.extraction_method,
            "bedrock_used": self.record.bedrock_used,
            "status": self.record.status,
            "transcribed_by": self.record.transcribed_by,
            "notes": list(self.record.notes),
            "indexed": self.indexed,
        }
        if self.index_warning:
            data["index_warning"] = self.index_warning
        return data


@dataclass(frozen=True)
class DeletionReport:
    meeting_id: str
    deleted: list[str]
    index_entry_removed: bool
    purged: bool = False
    versioned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id,
            "deleted": self.deleted,
            "index_entry_removed": self.index_entry_removed,
            "purged": self.purged,
            "recoverable": self.versioned and not self.purged,
        }


@dataclass(frozen=True)
class DeletedMeeting:
    """A meeting deleted from a versioned bucket whose versions are still there to restore."""

    record: MeetingRecord
    deleted_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.record.meeting_id,
            "title": self.record.display_title,
            "timestamp": self.record.timestamp.astimezone(UTC).isoformat(),
            "deleted_at": self.deleted_at.astimezone(UTC).isoformat(),
            "audio_s3_key": self.record.audio_s3_key,
        }


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    message: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class Repair:
    """One thing `doctor --fix` did."""

    action: str  # "finish_delete" | "remove_leftovers" | "unlist_missing" | "index_missing"
    meeting_ids: list[str]
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "meeting_ids": self.meeting_ids, "message": self.message}


@dataclass(frozen=True)
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    repairs: list[Repair] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checks": [check.to_dict() for check in self.checks],
            "repairs": [repair.to_dict() for repair in self.repairs],
        }


@dataclass(frozen=True)
class PresignedUpload:
    """Where and how a client uploads a recording straight to S3.

    POST: send `fields` as form fields, then the file as the last field named "file".
    PUT: send the file as the body with exactly `headers`.
    """

    audio_s3_key: str
    filename: str
    method: str
    url: str
    content_type: str
    min_bytes: int
    max_bytes: int
    expires_at: datetime
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "audio_s3_key": self.audio_s3_key,
            "filename": self.filename,
            "method": self.method,
            "url": self.url,
            "fields": self.fields,
            "headers": self.headers,
            "content_type": self.content_type,
            "min_bytes": self.min_bytes,
            "max_bytes": self.max_bytes,
            "expires_at": self.expires_at.astimezone(UTC).isoformat(),
        }


@dataclass(frozen=True)
class PrefixUsage:
    """What is stored under one prefix, from a full listing."""

    prefix: str
    location: str
    objects: int = 0
    bytes: int = 0
    bytes_by_class: dict[str, int] = field(default_factory=dict)
    written_recently: int = 0  # objects last written within the footprint's window

    def to_dict(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "location": self.location,
            "objects": self.objects,
            "bytes": self.bytes,
            "bytes_by_class": dict(self.bytes_by_class),
            "written_recently": self.written_recently,
        }


@dataclass(frozen=True)
class StorageFootprint:
    measured_at: datetime
    window_days: int
    prefixes: list[PrefixUsage] = field(default_factory=list)

    @property
    def bytes_by_class(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for usage in self.prefixes:
            for storage_class, size in usage.bytes_by_class.items():
                total[storage_class] = total.get(storage_class, 0) + size
        return total

    @property
    def written_recently(self) -> int:
        return sum(usage.written_recently for usage in self.prefixes)

    @property
    def total_bytes(self) -> int:
        return sum(usage.bytes for usage in self.prefixes)

    @property
    def total_objects(self) -> int:
        return sum(usage.objects for usage in self.prefixes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "measured_at": self.measured_at.astimezone(UTC).isoformat(),
            "window_days": self.window_days,
            "objects": sum(usage.objects for usage in self.prefixes),
            "bytes": sum(usage.bytes for usage in self.prefixes),
            "prefixes": [usage.to_dict() for usage in self.prefixes],
        }
