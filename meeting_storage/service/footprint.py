"""What the bucket holds, measured: a paginated listing per prefix (ListObjectsV2), and
ListObjectVersions for noncurrent versions in a versioned bucket. The summing up is pure and
lives with the cost model (meeting_storage/costs/footprint.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord, PrefixUsage, StorageFootprint
from meeting_storage.costs.footprint import Footprint, Tally, summarize
from meeting_storage.storage.blobs import BlobStore, ObjectInfo, S3BlobStore

FOOTPRINT_WINDOW_DAYS = 30


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
