"""What the bucket actually holds: bytes and objects by prefix and storage class, and per meeting.

`summarize` is pure: it folds object listings and meeting records into a `Footprint`. The
service lists the bucket and calls it (meeting_storage/service/footprint.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.costs.cost_model import BucketContents, StoredMeeting

OTHER_PREFIX = "other"


class ObjectInfo(Protocol):
    """What a footprint needs to know of a listed object."""

    @property
    def key(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def storage_class(self) -> str: ...


@dataclass(frozen=True)
class Tally:
    bytes: int = 0
    objects: int = 0

    def plus(self, size: int) -> Tally:
        return Tally(self.bytes + size, self.objects + 1)

    def to_dict(self) -> dict[str, int]:
        return {"bytes": self.bytes, "objects": self.objects}


@dataclass(frozen=True)
class MeetingFootprint:
    meeting_id: str
    title: str
    timestamp: datetime
    audio_bytes: int
    document_bytes: int
    audio_storage_class: str | None
    audio_seconds: float | None
    processing_cost_usd: Decimal | None
    # What processing was billed for, as recorded in metadata.json (None/0: not used).
    transcribed_seconds: float | None = None
    bedrock_model_id: str | None = None
    bedrock_input_tokens: int = 0
    bedrock_output_tokens: int = 0

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
class Footprint:
    by_prefix: dict[str, Tally]
    by_storage_class: dict[str, Tally]
    meetings: tuple[MeetingFootprint, ...] = ()
    noncurrent: Tally | None = None  # None: the bucket is not versioned
    documents_in_s3: bool = True  # False: STORE_IN_S3=false keeps them on local disk
    measured_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def total_bytes(self) -> int:
        return sum(tally.bytes for tally in self.by_prefix.values())

    @property
    def object_count(self) -> int:
        return sum(tally.objects for tally in self.by_prefix.values())

    def contents(self) -> BucketContents:
        """The figures the cost model needs."""
        return BucketContents(
            bytes_by_class={name: t.bytes for name, t in self.by_storage_class.items()},
            objects_by_class={name: t.objects for name, t in self.by_storage_class.items()},
            noncurrent_bytes=self.noncurrent.bytes if self.noncurrent else 0,
            meetings=tuple(
                StoredMeeting(
                    timestamp=m.timestamp,
                    audio_bytes=m.audio_bytes,
                    document_bytes=m.document_bytes,
                    audio_seconds=m.audio_seconds,
                    processing_cost_usd=m.processing_cost_usd,
                    audio_storage_class=m.audio_storage_class or "STANDARD",
                    transcribed_seconds=m.transcribed_seconds,
                    bedrock_model_id=m.bedrock_model_id,
                    bedrock_input_tokens=m.bedrock_input_tokens,
                    bedrock_output_tokens=m.bedrock_output_tokens,
                )
                for m in self.meetings
            ),
            documents_in_s3=self.documents_in_s3,
        )

    def to_dict(self, *, meetings: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "total_bytes": self.total_bytes,
            "object_count": self.object_count,
            "by_prefix": {name: tally.to_dict() for name, tally in self.by_prefix.items()},
            "by_storage_class": {
                name: tally.to_dict() for name, tally in self.by_storage_class.items()
            },
            "noncurrent_versions": self.noncurrent.to_dict() if self.noncurrent else None,
            "meeting_count": len(self.meetings),
            "measured_at": self.measured_at.astimezone(UTC).isoformat(),
        }
        if meetings:
            data["meetings"] = [m.to_dict() for m in self.meetings]
        return data


def _prefix_of(key: str) -> str:
    for prefix in layout.PREFIXES:
        if key.startswith(prefix):
            return prefix
    return OTHER_PREFIX


def summarize(
    objects: Iterable[ObjectInfo],
    records: Iterable[MeetingRecord],
    *,
    noncurrent: Tally | None = None,
    measured_at: datetime | None = None,
    documents_in_s3: bool = True,
) -> Footprint:
    """Fold a listing and the meetings' records into totals and per-meeting figures."""
    by_prefix: dict[str, Tally] = {prefix: Tally() for prefix in layout.PREFIXES}
    by_class: dict[str, Tally] = {}
    audio: dict[str, ObjectInfo] = {}
    documents: dict[str, int] = {}
    for info in objects:
        prefix = _prefix_of(info.key)
        by_prefix[prefix] = by_prefix.get(prefix, Tally()).plus(info.size)
        by_class[info.storage_class] = by_class.get(info.storage_class, Tally()).plus(info.size)
        if prefix == layout.AUDIO_PREFIX:
            audio[info.key] = info
        meeting_id = layout.meeting_id_from_key(info.key)
        if meeting_id is not None:
            documents[meeting_id] = documents.get(meeting_id, 0) + info.size
    meetings = []
    for record in records:
        stored_audio = audio.get(record.audio_s3_key or "")
        meetings.append(
            MeetingFootprint(
                meeting_id=record.meeting_id,
                title=record.display_title,
                timestamp=record.timestamp,
                audio_bytes=stored_audio.size if stored_audio else 0,
                document_bytes=documents.get(record.meeting_id, 0),
                audio_storage_class=stored_audio.storage_class if stored_audio else None,
                audio_seconds=record.duration_seconds,
                processing_cost_usd=record.processing_cost_usd,
                transcribed_seconds=record.transcribed_seconds,
                bedrock_model_id=record.bedrock_model_id,
                bedrock_input_tokens=record.bedrock_input_tokens or 0,
                bedrock_output_tokens=record.bedrock_output_tokens or 0,
            )
        )
    meetings.sort(key=lambda m: (m.timestamp, m.meeting_id), reverse=True)
    return Footprint(
        by_prefix=by_prefix,
        by_storage_class=dict(sorted(by_class.items())),
        meetings=tuple(meetings),
        noncurrent=noncurrent,
        documents_in_s3=documents_in_s3,
        measured_at=measured_at or datetime.now(UTC),
    )
