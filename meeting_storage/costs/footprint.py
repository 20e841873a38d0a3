"""What the bucket actually holds: bytes and objects by prefix and storage class, and per meeting.

`summarize` is pure: it folds object listings and meeting records into a `Footprint`. The
service lists the bucket and calls it (meeting_storage/service/footprint.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.costs.stored import BucketContents, StoredMeeting, StoredTotals

OTHER_PREFIX = "other"


class ListedObject(Protocol):
    """An object as a bucket listing shows it."""

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
class Footprint:
    by_prefix: dict[str, Tally]
    by_storage_class: dict[str, Tally]
    meetings: tuple[StoredMeeting, ...] = ()
    noncurrent: Tally | None = None  # None: the bucket is not versioned
    documents_in_s3: bool = True  # False: STORE_IN_S3=false keeps them on local disk
    measured_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # From the running totals: every meeting added up, `meetings` being only the recent ones.
    totals: StoredTotals | None = None
    # When the figures were last checked against a listing or an S3 Inventory report.
    reconciled_at: datetime | None = None
    from_inventory: bool = False

    @property
    def meeting_count(self) -> int:
        return self.totals.meetings if self.totals is not None else len(self.meetings)

    @property
    def total_bytes(self) -> int:
        return sum(tally.bytes for tally in self.by_prefix.values())

    @property
    def object_count(self) -> int:
        return sum(tally.objects for tally in self.by_prefix.values())

    def contents(self) -> BucketContents:
        """The figures the cost arithmetic needs."""
        return BucketContents(
            bytes_by_class={name: t.bytes for name, t in self.by_storage_class.items()},
            objects_by_class={name: t.objects for name, t in self.by_storage_class.items()},
            noncurrent_bytes=self.noncurrent.bytes if self.noncurrent else 0,
            meetings=self.meetings,
            documents_in_s3=self.documents_in_s3,
            totals=self.totals,
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
            "meeting_count": self.meeting_count,
            "measured_at": self.measured_at.astimezone(UTC).isoformat(),
        }
        if self.totals is not None:
            data["reconciled_at"] = (
                self.reconciled_at.astimezone(UTC).isoformat() if self.reconciled_at else None
            )
            data["reconciled_from"] = "inventory" if self.from_inventory else "listing"
        if meetings:
            data["meetings"] = [m.to_dict() for m in self.meetings]
        return data


def _prefix_of(key: str) -> str:
    for prefix in layout.PREFIXES:
        if key.startswith(prefix):
            return prefix
    return OTHER_PREFIX


def summarize(
    objects: Iterable[ListedObject],
    records: Iterable[MeetingRecord],
    *,
    noncurrent: Tally | None = None,
    measured_at: datetime | None = None,
    documents_in_s3: bool = True,
) -> Footprint:
    """Fold a listing and the meetings' records into totals and per-meeting figures."""
    by_prefix: dict[str, Tally] = {prefix: Tally() for prefix in layout.PREFIXES}
    by_class: dict[str, Tally] = {}
    audio: dict[str, ListedObject] = {}
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
            StoredMeeting(
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
