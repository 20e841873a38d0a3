"""The store's running totals: bytes and objects by prefix and storage class, meetings, and
the cohorts the cost projection starts from, kept current on every write and delete.

The totals are flat counters (name -> whole number), so every backend can add to them
atomically: the S3 JSON backend keeps them in one small object written with its ETag
(`index/aggregates.json`, retried when another writer won), SQLite and PostgreSQL in a
table updated with `value = value + :delta` in one transaction, DynamoDB in one item updated
with `ADD`. A meeting's share is computed from its record alone (`contribution`), which
holds the sizes of what was written, so a write adds the difference between the new and the
old record, and a delete subtracts the old one.

What the product does not write itself (other prefixes, noncurrent versions, the index
objects, storage classes changed by lifecycle rules) is counted by the reconciliation
(meeting_storage/ops/reconcile.py), which replaces every counter and stamps its date.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from meeting_storage.core import layout
from meeting_storage.core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    translate_database_error,
)
from meeting_storage.core.models import MeetingRecord
from meeting_storage.core.retry import Backoff, retrying
from meeting_storage.index import MeetingIndex
from meeting_storage.storage.blobs import BlobStore

if TYPE_CHECKING:
    from meeting_storage.index.dynamodb import DynamoDbIndex
    from meeting_storage.index.sql import SqlIndex

Counters = dict[str, int]

STANDARD = "STANDARD"
LOCAL = "LOCAL"
OTHER = "other"  # objects under no prefix the product writes
MEETINGS = "meetings"
AUDIO_MEETINGS = "audio:meetings"
AUDIO_BYTES = "audio:bytes"
DOCUMENT_BYTES = "documents:bytes"
TIMED_MEETINGS = "timed:meetings"
TIMED_MS = "timed:ms"
# Set by the reconciliation only.
RECONCILED_AT = "reconciled:at"  # Unix seconds of the listing or the Inventory report
RECONCILED_FROM_INVENTORY = "reconciled:inventory"  # 1: from an S3 Inventory report
NONCURRENT_BYTES = "noncurrent:bytes"
NONCURRENT_OBJECTS = "noncurrent:objects"
VERSIONED = "versioned"  # 1: the reconciliation counted noncurrent versions
RECONCILIATION_ONLY = (
    RECONCILED_AT,
    RECONCILED_FROM_INVENTORY,
    NONCURRENT_BYTES,
    NONCURRENT_OBJECTS,
    VERSIONED,
)

MAX_ATTEMPTS = 12
RACE_BACKOFF = Backoff(base_delay=0.02, max_delay=1.0)


def documents_class_of(store: BlobStore) -> str:
    """The storage class a store's documents count under: LOCAL for a local folder."""
    return STANDARD if store.location.startswith("s3://") else LOCAL


def prefix_key(prefix: str, what: str) -> str:
    """`what` ("bytes" or "objects") under `prefix` (a layout prefix or OTHER)."""
    return f"prefix:{prefix}:{what}"


def class_key(storage_class: str, what: str) -> str:
    return f"class:{storage_class}:{what}"


def cohort_key(month: str, storage_class: str, what: str) -> str:
    """`what` ("meetings", "audio_bytes", "document_bytes") of the meetings of `month`
    (YYYY-MM) whose audio is in `storage_class` (STANDARD when there is none)."""
    return f"cohort:{month}:{storage_class}:{what}"


def parse_key(name: str) -> tuple[str, ...]:
    """A counter's name split into its parts (the prefix part may contain no ':')."""
    return tuple(name.split(":"))


def contribution(record: MeetingRecord, *, documents_class: str = STANDARD) -> Counters:
    """What one listed meeting adds to the counters, from the sizes its record holds."""
    counts: Counters = {MEETINGS: 1}

    def add(name: str, value: int) -> None:
        if value:
            counts[name] = counts.get(name, 0) + value

    audio = record.audio_size or 0 if record.audio_s3_key else 0
    if record.audio_s3_key and layout.is_audio_key(record.audio_s3_key):
        add(prefix_key(layout.AUDIO_PREFIX, "objects"), 1)
        add(prefix_key(layout.AUDIO_PREFIX, "bytes"), audio)
        add(class_key(STANDARD, "objects"), 1)
        add(class_key(STANDARD, "bytes"), audio)
    documents = record.document_bytes or 0
    add(prefix_key(layout.TRANSCRIPTIONS_PREFIX, "objects"), record.document_objects or 0)
    add(prefix_key(layout.TRANSCRIPTIONS_PREFIX, "bytes"), documents)
    add(class_key(documents_class, "objects"), record.document_objects or 0)
    add(class_key(documents_class, "bytes"), documents)
    if audio:
        add(AUDIO_MEETINGS, 1)
        add(AUDIO_BYTES, audio)
    add(DOCUMENT_BYTES, documents)
    if record.duration_seconds:
        add(TIMED_MEETINGS, 1)
        add(TIMED_MS, round(record.duration_seconds * 1000))
    month = record.timestamp.strftime("%Y-%m")
    add(cohort_key(month, STANDARD, "meetings"), 1)
    add(cohort_key(month, STANDARD, "audio_bytes"), audio)
    add(cohort_key(month, STANDARD, "document_bytes"), documents)
    return counts


def difference(
    new: MeetingRecord | None, old: MeetingRecord | None, *, documents_class: str = STANDARD
) -> Counters:
    """The change of the counters when `old` (None: not listed) becomes `new` (None: gone)."""
    delta: Counters = {}
    for record, sign in ((new, 1), (old, -1)):
        if record is None:
            continue
        for name, value in contribution(record, documents_class=documents_class).items():
            delta[name] = delta.get(name, 0) + sign * value
    return {name: value for name, value in delta.items() if value}


def total(records: Iterable[MeetingRecord], *, documents_class: str = STANDARD) -> Counters:
    """The counters of these meetings together (a reindex starts from them)."""
    counts: Counters = {}
    for record in records:
        for name, value in contribution(record, documents_class=documents_class).items():
            counts[name] = counts.get(name, 0) + value
    return counts


def merged(counters: Mapping[str, int], delta: Mapping[str, int]) -> Counters:
    result = dict(counters)
    for name, value in delta.items():
        result[name] = result.get(name, 0) + value
    return {name: value for name, value in result.items() if value}


class AggregateStore(Protocol):
    """Where one index backend keeps the counters."""

    def read(self) -> Counters:
        """Every counter (missing ones are 0); {} before the first write."""
        ...

    def add(self, delta: Mapping[str, int]) -> None:
        """Add `delta` atomically: concurrent writers never lose each other's changes."""
        ...

    def replace(self, counters: Mapping[str, int]) -> None:
        """Set every counter (the reconciliation); counters not given become 0."""
        ...

    def describe(self) -> str: ...


# ---------------------------------------------------------------------- S3 JSON


class ObjectAggregates:
    """The counters in one small JSON object beside the S3 JSON index, written with If-Match
    (If-None-Match for the first write) and re-read and re-applied when another writer won."""

    def __init__(self, store: BlobStore, key: str = layout.AGGREGATES_KEY) -> None:
        self.store = store
        self.key = key

    def describe(self) -> str:
        return f"{self.store.location}/{self.key}"

    def _read(self) -> tuple[Counters, str | None]:
        try:
            blob = self.store.get(self.key)
        except NotFoundError:
            return {}, None
        try:
            data = json.loads(blob.data)
            counters = {str(k): int(v) for k, v in data["counters"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInputError(
                f"The totals object {self.describe()} is damaged ({exc}); run "
                "`python -m meeting_storage footprint reconcile` to write it again."
            ) from exc
        return counters, blob.etag

    def read(self) -> Counters:
        return self._read()[0]

    def _write(self, counters: Mapping[str, int], etag: str | None) -> None:
        data = json.dumps({"version": 1, "counters": dict(sorted(counters.items()))}).encode()
        self.store.put(
            self.key, data, "application/json", if_none_match=etag is None, if_match=etag
        )

    def add(self, delta: Mapping[str, int]) -> None:
        if not delta:
            return

        def attempt() -> None:
            current, etag = self._read()
            self._write(merged(current, delta), etag)

        self._racing(attempt)

    def replace(self, counters: Mapping[str, int]) -> None:
        def attempt() -> None:
            current = self.store.head(self.key)
            self._write({k: v for k, v in counters.items() if v}, current.etag if current else None)

        self._racing(attempt)

    def _racing(self, attempt: Any) -> None:
        try:
            retrying(
                attempt, attempts=MAX_ATTEMPTS, backoff=RACE_BACKOFF, retry_on=(ConflictError,)
            )
        except ConflictError as exc:
            raise ConflictError(
                f"The totals {self.describe()} kept changing under {MAX_ATTEMPTS} attempts; "
                "try again."
            ) from exc


# ---------------------------------------------------------------------- SQL


class SqlAggregates:
    """The counters as rows (name, value) of `meeting_aggregates`, changed with one
    INSERT ... ON CONFLICT DO UPDATE SET value = value + excluded.value per counter, all in
    one transaction: atomic on SQLite and PostgreSQL alike."""

    def __init__(self, index: SqlIndex) -> None:
        from sqlalchemy import BigInteger, Column, MetaData, String, Table

        self.index = index
        self._metadata = MetaData()
        self.table = Table(
            "meeting_aggregates",
            self._metadata,
            Column("name", String(200), primary_key=True),
            Column("value", BigInteger, nullable=False),
        )
        self._writer = index.engine.execution_options(index_write=True)
        self._created = False
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"table meeting_aggregates of the {self.index.describe()}"

    def _translate(self, exc: Exception, action: str) -> Exception:
        where = self.index.engine.url.render_as_string(hide_password=True)
        return translate_database_error(exc, where=where, action=action)

    def _ensure_table(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        if self._created:
            return
        with self._lock:
            try:
                self._metadata.create_all(self._writer, checkfirst=True)
            except SQLAlchemyError as exc:
                raise self._translate(exc, "migrate") from exc
            self._created = True

    def read(self) -> Counters:
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        self._ensure_table()
        try:
            with self.index.engine.connect() as conn:
                rows = conn.execute(select(self.table.c.name, self.table.c.value)).all()
        except SQLAlchemyError as exc:
            raise self._translate(exc, "read") from exc
        return {str(name): int(value) for name, value in rows if value}

    def _upsert(self) -> Any:
        if self.index.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement: Any = pg_insert(self.table)
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(self.table)
        return statement.on_conflict_do_update(
            index_elements=[self.table.c.name],
            set_={"value": self.table.c.value + statement.excluded.value},
        )

    def add(self, delta: Mapping[str, int]) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        if not delta:
            return
        self._ensure_table()
        rows = [{"name": name, "value": value} for name, value in sorted(delta.items())]
        try:
            with self._writer.begin() as conn:
                conn.execute(self._upsert(), rows)
        except SQLAlchemyError as exc:
            raise self._translate(exc, "write") from exc

    def replace(self, counters: Mapping[str, int]) -> None:
        from sqlalchemy import delete, insert
        from sqlalchemy.exc import SQLAlchemyError

        self._ensure_table()
        rows = [{"name": k, "value": v} for k, v in sorted(counters.items()) if v]
        try:
            with self._writer.begin() as conn:
                conn.execute(delete(self.table))
                if rows:
                    conn.execute(insert(self.table), rows)
        except SQLAlchemyError as exc:
            raise self._translate(exc, "write") from exc


# ---------------------------------------------------------------------- DynamoDB

AGGREGATES_ITEM = "#aggregates"  # a meeting id no meeting can have; not in the listing GSI
_ADD_BATCH = 40  # counters per UpdateItem, well inside the 4 KB expression limit


class DynamoDbAggregates:
    """The counters as number attributes of one item (meeting_id "#aggregates", without
    `list_pk`, so the newest-first index never lists it), changed with `ADD`."""

    def __init__(self, index: DynamoDbIndex) -> None:
        self.index = index

    def describe(self) -> str:
        return f"item {AGGREGATES_ITEM} of the {self.index.describe()}"

    def read(self) -> Counters:
        return self.index.read_counters(AGGREGATES_ITEM)

    def add(self, delta: Mapping[str, int]) -> None:
        names = sorted(name for name, value in delta.items() if value)
        for start in range(0, len(names), _ADD_BATCH):
            self.index.add_counters(
                AGGREGATES_ITEM, {n: delta[n] for n in names[start : start + _ADD_BATCH]}
            )

    def replace(self, counters: Mapping[str, int]) -> None:
        self.index.put_counters(AGGREGATES_ITEM, {k: v for k, v in counters.items() if v})


# ---------------------------------------------------------------------- in memory


class MemoryAggregates:
    """Counters in memory: for an index backend without a home for them (tests' fakes)."""

    def __init__(self) -> None:
        self.counters: Counters = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "totals in memory"

    def read(self) -> Counters:
        return dict(self.counters)

    def add(self, delta: Mapping[str, int]) -> None:
        with self._lock:
            self.counters = merged(self.counters, delta)

    def replace(self, counters: Mapping[str, int]) -> None:
        with self._lock:
            self.counters = {k: v for k, v in counters.items() if v}


def aggregates_for(index: MeetingIndex) -> AggregateStore:
    """Where `index` keeps the counters: beside it, with the same write discipline."""
    from meeting_storage.index.dynamodb import DynamoDbIndex
    from meeting_storage.index.s3json import S3JsonIndex

    if isinstance(index, S3JsonIndex):
        return ObjectAggregates(index.store)
    if isinstance(index, DynamoDbIndex):
        return DynamoDbAggregates(index)
    if getattr(index, "name", "") in {"sqlite", "postgres"}:
        from meeting_storage.index.sql import SqlIndex

        if isinstance(index, SqlIndex):
            return SqlAggregates(index)
    return MemoryAggregates()
