"""What is stored, as the cost arithmetic reads it: one stored meeting's facts, and the
bucket's bytes and objects by storage class."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class StoredMeeting:
    """One stored meeting: its sizes, the storage class of its recording, and what its
    processing was billed for, as its metadata.json records it (None/0: not used)."""

    timestamp: datetime
    audio_bytes: int
    document_bytes: int
    audio_seconds: float | None = None
    processing_cost_usd: Decimal | None = None
    audio_storage_class: str | None = None  # None: no recording is stored
    transcribed_seconds: float | None = None
    bedrock_model_id: str | None = None
    bedrock_input_tokens: int = 0
    bedrock_output_tokens: int = 0
    meeting_id: str = field(default="", kw_only=True)
    title: str = field(default="", kw_only=True)

    @property
    def stored_bytes(self) -> int:
        return self.audio_bytes + self.document_bytes

    @property
    def audio_minutes(self) -> float | None:
        return None if self.audio_seconds is None else self.audio_seconds / 60

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id,
            "title": self.title,
            "timestamp": self.timestamp.astimezone(UTC).isoformat(),
            "audio_minutes": self.audio_minutes,
            "audio_bytes": self.audio_bytes,
            "document_bytes": self.document_bytes,
            "stored_bytes": self.stored_bytes,
            "audio_storage_class": self.audio_storage_class,
            "processing_cost_usd": (
                float(self.processing_cost_usd) if self.processing_cost_usd is not None else None
            ),
            "transcribed_seconds": self.transcribed_seconds,
            "bedrock_model_id": self.bedrock_model_id,
            "bedrock_input_tokens": self.bedrock_input_tokens,
            "bedrock_output_tokens": self.bedrock_output_tokens,
        }


@dataclass(frozen=True)
class CohortTotal:
    """The meetings of one calendar month whose audio is in one storage class."""

    month: str  # YYYY-MM
    storage_class: str
    meetings: int
    audio_bytes: int
    document_bytes: int


@dataclass(frozen=True)
class StoredTotals:
    """Every stored meeting, added up as the store's running totals keep them: what the cost
    arithmetic needs when only the recent meetings are read one by one."""

    meetings: int
    audio_meetings: int = 0
    audio_bytes: int = 0
    document_bytes: int = 0
    timed_meetings: int = 0
    timed_seconds: float = 0.0
    cohorts: tuple[CohortTotal, ...] = ()
    # True when the recent meetings read one by one are every meeting of the last 90 days.
    recent_complete: bool = True


@dataclass(frozen=True)
class BucketContents:
    """What is stored now: bytes and objects by storage class (current versions), plus
    noncurrent versions (deleted or overwritten objects kept by versioning)."""

    bytes_by_class: Mapping[str, int]
    objects_by_class: Mapping[str, int]
    noncurrent_bytes: int = 0
    meetings: tuple[StoredMeeting, ...] = field(default_factory=tuple)
    documents_in_s3: bool = True
    # Set when `meetings` holds only the recent meetings and the rest come from the totals.
    totals: StoredTotals | None = None

    @property
    def meeting_count(self) -> int:
        return self.totals.meetings if self.totals is not None else len(self.meetings)
