"""Reconciling the running totals with what the bucket really holds.

The totals (meeting_storage/index/aggregates.py) change with every write the product makes;
what it does not make is invisible to them: noncurrent versions, the index objects, storage
classes changed by lifecycle rules, files removed outside the product, objects under other
prefixes. The reconciliation counts it from a listing of the product's prefixes (its IAM
policy lets it list no other), or from the newest Amazon S3 Inventory report when
S3_INVENTORY_PREFIX is set, which also counts every other prefix; it joins it with
the index's entries, compares the result with the totals, and with `fix` writes it,
stamped with the date of the listing or report ("as of ..."). It runs from `doctor`
(report), `doctor --fix`, `reindex` and `footprint reconcile` (repair), never in a page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.index import aggregates
from meeting_storage.index.aggregates import Counters
from meeting_storage.storage.inventory import InventoryObject, read_report

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

SOURCE_LISTING = "listing"
SOURCE_INVENTORY = "inventory"


@dataclass(frozen=True)
class Drift:
    name: str
    recorded: int
    actual: int

    def to_dict(self) -> dict[str, Any]:
        return {"counter": self.name, "recorded": self.recorded, "actual": self.actual}


@dataclass(frozen=True)
class Reconciliation:
    """What the totals said, what the bucket holds, and whether the totals were repaired."""

    source: str  # SOURCE_LISTING or SOURCE_INVENTORY
    as_of: datetime
    actual: Counters
    recorded: Counters
    drift: list[Drift] = field(default_factory=list)
    repaired: bool = False

    @property
    def other_objects(self) -> int:
        """Objects the product did not write: other prefixes and noncurrent versions."""
        return self.actual.get(
            aggregates.prefix_key(aggregates.OTHER, "objects"), 0
        ) + self.actual.get(aggregates.NONCURRENT_OBJECTS, 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.astimezone(UTC).isoformat(),
            "meetings": self.actual.get(aggregates.MEETINGS, 0),
            "other_prefix_objects": self.actual.get(
                aggregates.prefix_key(aggregates.OTHER, "objects"), 0
            ),
            "noncurrent_objects": self.actual.get(aggregates.NONCURRENT_OBJECTS, 0),
            "drift": [d.to_dict() for d in self.drift],
            "repaired": self.repaired,
        }


def checked(name: str) -> bool:
    """Counters whose drift is a fault: those every product write keeps current (not what
    only the reconciliation counts: index objects, classes, other prefixes, versions)."""
    parts = aggregates.parse_key(name)
    if name in aggregates.RECONCILIATION_ONLY or parts[0] == "class":
        return False
    return not (
        parts[0] == "prefix"
        and parts[1]
        not in {
            layout.AUDIO_PREFIX,
            layout.TRANSCRIPTIONS_PREFIX,
        }
    )


def drift_between(recorded: Mapping[str, int], actual: Mapping[str, int]) -> list[Drift]:
    names = sorted(n for n in {*recorded, *actual} if checked(n))
    return [
        Drift(n, recorded.get(n, 0), actual.get(n, 0))
        for n in names
        if recorded.get(n, 0) != actual.get(n, 0)
    ]


def count_objects(
    current: Iterable[Any],
    records: Iterable[MeetingRecord],
    *,
    noncurrent: Iterable[Any] | None,
) -> Counters:
    """The totals as the product keeps them, counted from objects (anything with key, size
    and storage_class: a listing or an Inventory report's rows) and the index's records."""
    counts: Counters = {}

    def add(name: str, value: int) -> None:
        if value:
            counts[name] = counts.get(name, 0) + value

    audio: dict[str, tuple[int, str]] = {}
    documents: dict[str, int] = {}
    for info in current:
        prefix = next((p for p in layout.PREFIXES if info.key.startswith(p)), aggregates.OTHER)
        add(aggregates.prefix_key(prefix, "objects"), 1)
        add(aggregates.prefix_key(prefix, "bytes"), info.size)
        add(aggregates.class_key(info.storage_class, "objects"), 1)
        add(aggregates.class_key(info.storage_class, "bytes"), info.size)
        if prefix == layout.AUDIO_PREFIX:
            audio[info.key] = (info.size, info.storage_class)
        elif prefix == layout.TRANSCRIPTIONS_PREFIX:
            meeting_id = layout.meeting_id_from_key(info.key)
            if meeting_id is not None:
                documents[meeting_id] = documents.get(meeting_id, 0) + info.size
    for record in records:
        size, storage_class = audio.get(record.audio_s3_key or "", (0, aggregates.STANDARD))
        if not record.audio_s3_key:
            size = 0
        document_bytes = documents.get(record.meeting_id, 0)
        add(aggregates.MEETINGS, 1)
        if size:
            add(aggregates.AUDIO_MEETINGS, 1)
            add(aggregates.AUDIO_BYTES, size)
        add(aggregates.DOCUMENT_BYTES, document_bytes)
        if record.duration_seconds:
            add(aggregates.TIMED_MEETINGS, 1)
            add(aggregates.TIMED_MS, round(record.duration_seconds * 1000))
        month = record.timestamp.strftime("%Y-%m")
        add(aggregates.cohort_key(month, storage_class, "meetings"), 1)
        add(aggregates.cohort_key(month, storage_class, "audio_bytes"), size)
        add(aggregates.cohort_key(month, storage_class, "document_bytes"), document_bytes)
    if noncurrent is not None:
        counts[aggregates.VERSIONED] = 1
        for version in noncurrent:
            add(aggregates.NONCURRENT_OBJECTS, 1)
            add(aggregates.NONCURRENT_BYTES, version.size)
    return counts


def _from_inventory(
    storage: MeetingStorage, records: list[MeetingRecord]
) -> tuple[Counters, datetime]:
    assert storage.inventory_location is not None
    store, prefix = storage.inventory_location
    report = read_report(store, prefix)
    rows: list[InventoryObject] = [row for row in report.objects if not row.delete_marker]
    current = [row for row in rows if row.is_latest]
    versioned = any(not row.is_latest for row in rows) or storage.audio.versioning_status() not in {
        "Disabled"
    }
    noncurrent = [row for row in rows if not row.is_latest] if versioned else None
    counts = count_objects(current, records, noncurrent=noncurrent)
    counts[aggregates.RECONCILED_FROM_INVENTORY] = 1
    return counts, report.created_at


def _from_listing(storage: MeetingStorage, records: list[MeetingRecord]) -> Counters:
    """A listing of the product's prefixes (what its IAM policy lets it list: objects under
    other prefixes are counted from an S3 Inventory report only)."""
    audio, documents = storage.audio, storage.documents
    current = [
        *audio.iter_objects(layout.AUDIO_PREFIX),
        *documents.iter_objects(layout.TRANSCRIPTIONS_PREFIX),
        *documents.iter_objects(layout.INDEX_PREFIX),
    ]
    noncurrent = None
    if audio.versioning_status() != "Disabled":
        prefixes = layout.PREFIXES if storage.settings.store_in_s3 else (layout.AUDIO_PREFIX,)
        noncurrent = [
            version
            for prefix in prefixes
            for version in audio.iter_versions(prefix)
            if not version.is_latest and not version.delete_marker
        ]
    return count_objects(current, records, noncurrent=noncurrent)


def measure(storage: MeetingStorage, now: datetime | None = None) -> tuple[Counters, str, datetime]:
    """(the counters, where they come from, as of when)."""
    records = [r for r in storage.index_entries()]
    if storage.inventory_location is not None:
        counts, as_of = _from_inventory(storage, records)
        source = SOURCE_INVENTORY
    else:
        counts = _from_listing(storage, records)
        as_of = now or datetime.now(UTC)
        source = SOURCE_LISTING
    counts[aggregates.RECONCILED_AT] = int(as_of.timestamp())
    return counts, source, as_of


def reconcile(
    storage: MeetingStorage, *, fix: bool = True, now: datetime | None = None
) -> Reconciliation:
    """Compare the totals with the bucket (listing or Inventory); with `fix`, replace them."""
    actual, source, as_of = measure(storage, now)
    recorded = storage.aggregates.read()
    drift = drift_between(recorded, actual)
    if fix:
        storage.aggregates.replace(actual)
    return Reconciliation(
        source=source,
        as_of=as_of,
        actual=actual,
        recorded=recorded,
        drift=drift,
        repaired=fix,
    )
