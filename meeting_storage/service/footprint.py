"""What the bucket holds, measured: a paginated listing per prefix (ListObjectsV2), and
ListObjectVersions for noncurrent versions in a versioned bucket. The summing up is pure and
lives with the cost model (meeting_storage/costs/footprint.py). The pages read the same
figures from the running totals instead (meeting_storage/index/aggregates.py), in a constant
number of requests: `from_totals` and `usage_from_totals`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord, PrefixUsage, StorageFootprint
from meeting_storage.costs.footprint import Footprint, Tally, summarize
from meeting_storage.costs.stored import CohortTotal, StoredMeeting, StoredTotals
from meeting_storage.index import aggregates
from meeting_storage.storage.blobs import BlobStore, ObjectInfo, S3BlobStore

FOOTPRINT_WINDOW_DAYS = 30
RECENT_DAYS = 90  # the cost review reads these meetings one by one, the rest as totals


@dataclass(frozen=True)
class StoredSummary:
    """The home page's figures: meetings, objects and bytes, and when they were last checked
    against a listing (`counted`: from the running totals, not a listing)."""

    meetings: int
    usage: StorageFootprint
    reconciled_at: datetime | None
    counted: bool


def prefix_usage(audio: S3BlobStore, documents: BlobStore, now: datetime) -> StorageFootprint:
    """Objects and bytes under meetings/, transcriptions/ and index/, by storage class, and how
    many were written in the FOOTPRINT_WINDOW_DAYS days before `now`."""
    recent = now - timedelta(days=FOOTPRINT_WINDOW_DAYS)
    usages = []
    for store, prefix in (
        (audio, layout.AUDIO_PREFIX),
        (documents, layout.TRANSCRIPTIONS_PREFIX),
        (documents, layout.INDEX_PREFIX),
    ):
        objects = size = written = 0
        by_class: dict[str, int] = {}
        for info in store.iter_objects(prefix):
            objects += 1
            size += info.size
            by_class[info.storage_class] = by_class.get(info.storage_class, 0) + info.size
            if info.last_modified is not None and info.last_modified >= recent:
                written += 1
        usages.append(
            PrefixUsage(
                prefix=prefix,
                location=store.location,
                objects=objects,
                bytes=size,
                bytes_by_class=by_class,
                written_recently=written,
            )
        )
    return StorageFootprint(measured_at=now, window_days=FOOTPRINT_WINDOW_DAYS, prefixes=usages)


def _listing(audio: S3BlobStore, documents: BlobStore) -> Iterator[ObjectInfo]:
    yield from audio.iter_objects(layout.AUDIO_PREFIX)
    yield from documents.iter_objects(layout.TRANSCRIPTIONS_PREFIX)
    yield from documents.iter_objects(layout.INDEX_PREFIX)


def noncurrent_versions(audio: S3BlobStore, *, documents_in_s3: bool) -> Tally:
    """Bytes kept by versioning that no current object shows (deleted or replaced)."""
    tally = Tally()
    prefixes = layout.PREFIXES if documents_in_s3 else (layout.AUDIO_PREFIX,)
    for prefix in prefixes:
        for version in audio.iter_versions(prefix):
            if not version.is_latest and not version.delete_marker:
                tally = tally.plus(version.size)
    return tally


def measure(
    audio: S3BlobStore,
    documents: BlobStore,
    records: Iterable[MeetingRecord],
    *,
    versioned: bool,
) -> Footprint:
    """List the bucket (and the documents' store) and summarise it."""
    noncurrent = (
        noncurrent_versions(audio, documents_in_s3=documents is audio) if versioned else None
    )
    return summarize(
        _listing(audio, documents),
        records,
        noncurrent=noncurrent,
        documents_in_s3=documents is audio,
    )


# ---------------------------------------------------------------------- from the totals


def reconciled_at(counters: Mapping[str, int]) -> datetime | None:
    """When the totals were last checked against a listing or an S3 Inventory report."""
    stamp = counters.get(aggregates.RECONCILED_AT)
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def stored_totals(counters: Mapping[str, int], *, recent_complete: bool = True) -> StoredTotals:
    cohorts: dict[tuple[str, str], dict[str, int]] = {}
    for name, value in counters.items():
        parts = aggregates.parse_key(name)
        if parts[0] == "cohort" and len(parts) == 4:
            cohorts.setdefault((parts[1], parts[2]), {})[parts[3]] = value
    return StoredTotals(
        meetings=counters.get(aggregates.MEETINGS, 0),
        audio_meetings=counters.get(aggregates.AUDIO_MEETINGS, 0),
        audio_bytes=counters.get(aggregates.AUDIO_BYTES, 0),
        document_bytes=counters.get(aggregates.DOCUMENT_BYTES, 0),
        timed_meetings=counters.get(aggregates.TIMED_MEETINGS, 0),
        timed_seconds=counters.get(aggregates.TIMED_MS, 0) / 1000,
        cohorts=tuple(
            CohortTotal(
                month=month,
                storage_class=storage_class,
                meetings=values.get("meetings", 0),
                audio_bytes=values.get("audio_bytes", 0),
                document_bytes=values.get("document_bytes", 0),
            )
            for (month, storage_class), values in sorted(cohorts.items())
        ),
        recent_complete=recent_complete,
    )


def _tallies(counters: Mapping[str, int], kind: str) -> dict[str, Tally]:
    found: dict[str, list[int]] = {}
    for name, value in counters.items():
        parts = aggregates.parse_key(name)
        if parts[0] == kind and len(parts) == 3 and parts[2] in {"bytes", "objects"}:
            pair = found.setdefault(parts[1], [0, 0])
            pair[0 if parts[2] == "bytes" else 1] += value
    return {name: Tally(bytes=b, objects=o) for name, (b, o) in sorted(found.items())}


def stored_meeting(record: MeetingRecord) -> StoredMeeting:
    """One meeting's figures from its record (the sizes written in it), without a listing."""
    audio = record.audio_size or 0 if record.audio_s3_key else 0
    return StoredMeeting(
        meeting_id=record.meeting_id,
        title=record.display_title,
        timestamp=record.timestamp,
        audio_bytes=audio,
        document_bytes=record.document_bytes or 0,
        audio_storage_class=aggregates.STANDARD if record.audio_s3_key else None,
        audio_seconds=record.duration_seconds,
        processing_cost_usd=record.processing_cost_usd,
        transcribed_seconds=record.transcribed_seconds,
        bedrock_model_id=record.bedrock_model_id,
        bedrock_input_tokens=record.bedrock_input_tokens or 0,
        bedrock_output_tokens=record.bedrock_output_tokens or 0,
    )


def from_totals(
    counters: Mapping[str, int],
    recent: Iterable[MeetingRecord],
    *,
    recent_complete: bool,
    documents_in_s3: bool,
    now: datetime,
) -> Footprint:
    """The footprint as the running totals keep it, with the recent meetings one by one."""
    by_prefix = {prefix: Tally() for prefix in layout.PREFIXES}
    by_prefix.update(_tallies(counters, "prefix"))
    noncurrent = (
        Tally(
            bytes=counters.get(aggregates.NONCURRENT_BYTES, 0),
            objects=counters.get(aggregates.NONCURRENT_OBJECTS, 0),
        )
        if counters.get(aggregates.VERSIONED)
        else None
    )
    meetings = sorted(
        (stored_meeting(r) for r in recent),
        key=lambda m: (m.timestamp, m.meeting_id),
        reverse=True,
    )
    return Footprint(
        by_prefix=by_prefix,
        by_storage_class=_tallies(counters, "class"),
        meetings=tuple(meetings),
        noncurrent=noncurrent,
        documents_in_s3=documents_in_s3,
        measured_at=now,
        totals=stored_totals(counters, recent_complete=recent_complete),
        reconciled_at=reconciled_at(counters),
        from_inventory=bool(counters.get(aggregates.RECONCILED_FROM_INVENTORY)),
    )


def usage_from_totals(
    counters: Mapping[str, int], *, now: datetime, locations: Mapping[str, str]
) -> StorageFootprint:
    """The home page's figures (objects and bytes by prefix and class) from the totals."""
    prefixes = _tallies(counters, "prefix")
    usages = [
        PrefixUsage(
            prefix=prefix,
            location=locations.get(prefix, ""),
            objects=prefixes.get(prefix, Tally()).objects,
            bytes=prefixes.get(prefix, Tally()).bytes,
        )
        for prefix in (*layout.PREFIXES, *(p for p in prefixes if p not in layout.PREFIXES))
    ]
    return StorageFootprint(measured_at=now, window_days=FOOTPRINT_WINDOW_DAYS, prefixes=usages)
