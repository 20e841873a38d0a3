"""The S3 JSON index: small JSON objects in the bucket, updated with optimistic concurrency.

Layout (every object written with its ETag: If-Match, or If-None-Match when new):

- `index/meetings.json`, the manifest: each month's entry count and revision, and the
  newest `HEAD_SIZE` entries whole ("the head"). The newest page of the Meetings page and
  `list` is one GET of this object, however many meetings there are.
- `index/months/YYYY-MM.json`, one shard per month of meeting dates: the month's compact
  entries and their search text (summary, action items).
- `index/ids/XX.json`, 256 locator shards (by a hash of the meeting id): which month each
  meeting is in, so that `get`, `delete` and a changed meeting date touch one month.

A write touches one locator, one month (two when the date moved) and the manifest: its
size depends on how many meetings a month holds, not on the total. Each object is
read-modify-written with If-Match; a writer that loses the race re-reads and retries
(core/retry.py), so concurrent uploads never drop each other's entries. Steps are
idempotent: a retried or repeated write completes what a failed one started.

Older versions kept everything in `index/meetings.json` (+ `index/search.json`). Reads
still understand that layout; the first write (or `reindex`) splits it into months,
committing with If-Match on the old object, so nothing written meanwhile is lost.

Search and filters read month shards newest first, in parallel, until the page is full,
and at most SCAN_MEETINGS meetings (SCAN_MONTHS shards) per request: past that the page
says how far back it looked and its cursor continues further back. Transcripts are not
searched; the SQL backends search them, ranked.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

from meeting_storage.core import layout
from meeting_storage.core.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_storage.core.layout import INDEX_KEY, SEARCH_INDEX_KEY
from meeting_storage.core.models import MeetingPage, MeetingRecord, parse_timestamp
from meeting_storage.core.retry import Backoff, retrying
from meeting_storage.index import (
    DEFAULT_LIMIT,
    decode_cursor,
    encode_cursor,
    encode_position,
    page_of,
    validate_limit,
)
from meeting_storage.index.document import IndexEntry, SearchText, as_entries
from meeting_storage.index.query import (
    NO_FILTER,
    MeetingFilter,
    best_snippet,
    compact_search_text,
    matches_words,
    search_words,
)
from meeting_storage.storage.blobs import BlobStore

INDEX_FORMAT_VERSION = 2
MAX_ATTEMPTS = 12
# A writer that lost the race waits up to 20 ms, 40 ms, ... 1 s (full jitter) and tries again.
RACE_BACKOFF = Backoff(base_delay=0.02, max_delay=1.0)
# The newest entries kept whole in the manifest: the first page (50) plus one to know there
# is a next page, with room for meetings deleted since the head was last refilled.
HEAD_SIZE = 64
LOCATOR_SHARDS = 256
READ_WORKERS = 8
# One search or filtered page reads at most this much; the cursor continues further back.
SCAN_MEETINGS = 20_000
SCAN_MONTHS = 36
SEARCH_NOTE = (
    "The S3 JSON index searches titles, file names, tags, summaries and action items (not "
    "transcripts or requirements) by reading its month shards, newest first, at most "
    f"{SCAN_MEETINGS:,} meetings per page; use INDEX_BACKEND=sqlite or postgres for ranked "
    "full-text search of any number of meetings."
)

Entries = dict[str, Any]
T = TypeVar("T")
# What to_dict() writes for a UTC time: these strings sort in time order.
_CANONICAL_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")
_DEFAULTS = {
    f.name: f.default
    for f in fields(MeetingRecord)
    if f.name not in {"meeting_id", "timestamp", "filename", "open_action_items_count"}
}


def compact_entry(record: MeetingRecord) -> dict[str, Any]:
    """The record without fields at their defaults: the index objects stay small."""
    data = record.to_dict()
    return {
        key: value
        for key, value in data.items()
        if not (key in _DEFAULTS and (value == _DEFAULTS[key] or value in (None, [], "")))
    }


def _time_key(value: Any) -> str:
    text = str(value)
    if _CANONICAL_TIME.match(text):
        return text
    return parse_timestamp(text).astimezone(UTC).isoformat()


def _entry_key(meeting_id: str, entry: Any) -> tuple[str, str]:
    return (_time_key(entry["timestamp"]), meeting_id)


def month_of(timestamp: datetime) -> str:
    return timestamp.astimezone(UTC).strftime("%Y-%m")


def _month_start(month: str) -> datetime:
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=UTC)


def _month_end(month: str) -> datetime:
    start = _month_start(month)
    return (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )


def locator_of(meeting_id: str) -> str:
    digest = hashlib.sha256(meeting_id.encode()).digest()
    return f"{digest[0] % LOCATOR_SHARDS:02x}"


def _text_value(text: SearchText) -> dict[str, str]:
    return {k: v for k, v in (("s", text.summary), ("a", text.action_items)) if v}


def _parallel(function: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(READ_WORKERS, len(items))) as pool:
        return list(pool.map(function, items))


class _JsonDocument:
    """One JSON object under optimistic concurrency."""

    def __init__(self, store: BlobStore, key: str) -> None:
        self.store = store
        self.key = key

    def read(self) -> tuple[Entries, str | None]:
        try:
            blob = self.store.get(self.key)
        except NotFoundError:
            return {}, None
        try:
            data = json.loads(blob.data)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise self.damaged(exc) from exc
        return data, blob.etag

    def damaged(self, exc: Exception | str) -> InvalidInputError:
        return InvalidInputError(
            f"The index object {self.store.location}/{self.key} is damaged ({exc}); "
            "run `python -m meeting_storage reindex` to rebuild it from metadata.json files."
        )

    def write(self, document: Entries, etag: str | None) -> None:
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        self.store.put(
            self.key, data, "application/json", if_none_match=etag is None, if_match=etag
        )

    def update(self, change: Callable[[Entries], bool]) -> bool:
        """Apply `change` under optimistic concurrency; `change` returns False for "nothing to write"."""

        def attempt() -> bool:
            # Re-read on every try: another writer won, so re-apply on fresh data.
            document, etag = self.read()
            if not change(document):
                return False
            self.write(document, etag)
            return True

        return self.racing(attempt)

    def replace(self, document: Entries) -> None:
        """Overwrite the object without reading it (it may be damaged); the ETag condition
        still refuses to overwrite a concurrent change."""

        def attempt() -> None:
            current = self.store.head(self.key)
            self.write(document, current.etag if current is not None else None)

        self.racing(attempt)

    def racing(self, attempt: Callable[[], T]) -> T:
        try:
            return retrying(
                attempt, attempts=MAX_ATTEMPTS, backoff=RACE_BACKOFF, retry_on=(ConflictError,)
            )
        except ConflictError as exc:
            raise ConflictError(
                f"The index {self.store.location}/{self.key} kept changing under "
                f"{MAX_ATTEMPTS} attempts; try again."
            ) from exc


@dataclass
class _Manifest:
    """index/meetings.json as read: the split layout, or the single-object one (`legacy`)."""

    shards: dict[str, dict[str, int]] = field(default_factory=dict)
    head: Entries = field(default_factory=dict)
    head_all: bool = True  # the head holds every entry
    legacy: Entries | None = None  # the old layout's {id: entry}

    @property
    def total(self) -> int:
        if self.legacy is not None:
            return len(self.legacy)
        return sum(int(s.get("count", 0)) for s in self.shards.values())

    def to_json(self) -> Entries:
        return {
            "version": INDEX_FORMAT_VERSION,
            "shards": dict(sorted(self.shards.items())),
            "head_all": self.head_all,
            "head": dict(sorted(self.head.items())),
        }


def _manifest_of(document: Entries, where: _JsonDocument) -> _Manifest:
    if not document:
        return _Manifest()
    if "shards" not in document:
        legacy = document.get("meetings", {})
        if not isinstance(legacy, dict):
            raise where.damaged("'meetings' is not an object")
        return _Manifest(legacy=legacy)
    shards, head = document.get("shards"), document.get("head", {})
    if not isinstance(shards, dict) or not isinstance(head, dict):
        raise where.damaged("'shards' or 'head' is not an object")
    return _Manifest(shards=shards, head=head, head_all=bool(document.get("head_all", True)))


def _top(entries: Entries, size: int) -> Entries:
    keyed = heapq.nlargest(size, ((_entry_key(mid, e), mid) for mid, e in entries.items()))
    return {mid: entries[mid] for _, mid in keyed}


class _SingleObjectLayout(Exception):
    """The manifest is still the single object of earlier versions: split it first."""


@dataclass
class _ShardWrite:
    """What a month shard holds after a write: the manifest records it (newest rev wins)."""

    month: str
    rev: int
    count: int
    removed: set[str] = field(default_factory=set)


class S3JsonIndex:
    name = "s3json"
    full_text = False

    def __init__(
        self, store: BlobStore, key: str = INDEX_KEY, search_key: str = SEARCH_INDEX_KEY
    ) -> None:
        self.store = store
        self.key = key
        self.search_key = search_key
        self._listing = _JsonDocument(store, key)
        self._search = _JsonDocument(store, search_key)

    def describe(self) -> str:
        return f"S3 JSON index {self.store.location}/{self.key}"

    def check(self) -> str:
        manifest = self._manifest()
        if manifest.legacy is not None:
            self._legacy_records(manifest.legacy)
            return (
                f"{self.describe()} with {manifest.total} entries (one object; the next write "
                "splits it into months)"
            )
        return f"{self.describe()} with {manifest.total} entries in {len(manifest.shards)} months"

    # ----------------------------------------------------------------- objects

    def _manifest(self) -> _Manifest:
        document, _ = self._listing.read()
        return _manifest_of(document, self._listing)

    def _month(self, month: str) -> _JsonDocument:
        return _JsonDocument(self.store, layout.index_month_key(month))

    def _locator(self, bucket: str) -> _JsonDocument:
        return _JsonDocument(self.store, layout.index_ids_key(bucket))

    def _read_month(self, month: str) -> tuple[Entries, Entries]:
        """A month's {id: entry} and {id: search text}."""
        document = self._month(month)
        data, _ = document.read()
        meetings, texts = data.get("meetings", {}), data.get("text", {})
        if not isinstance(meetings, dict) or not isinstance(texts, dict):
            raise document.damaged("'meetings' or 'text' is not an object")
        return meetings, texts

    def _legacy_records(self, raw: Entries) -> dict[str, MeetingRecord]:
        try:
            return {mid: MeetingRecord.from_dict(entry) for mid, entry in raw.items()}
        except (InvalidInputError, AttributeError, TypeError) as exc:
            raise self._listing.damaged(exc) from exc

    def _record(self, entry: Any, where: _JsonDocument) -> MeetingRecord:
        try:
            return MeetingRecord.from_dict(entry)
        except (InvalidInputError, AttributeError, TypeError, KeyError) as exc:
            raise where.damaged(exc) from exc

    # ----------------------------------------------------------------- writing

    def put(self, record: MeetingRecord, text: SearchText | None = None) -> None:
        self.put_many([IndexEntry(record, text or SearchText())])

    def put_many(self, entries: Iterable[IndexEntry]) -> int:
        fresh = {e.record.meeting_id: e for e in as_entries(entries)}
        if not fresh:
            return 0
        months = {mid: month_of(e.record.timestamp) for mid, e in fresh.items()}
        # 1. The locators first: they say where each meeting was before (a changed date).
        moved_from = self._relocate(months)
        # 2. The months: add the entries, and remove them from a month they left.
        touched = sorted(set(months.values()) | set(moved_from.values()))

        def write_month(month: str) -> _ShardWrite:
            arriving = {mid: e for mid, e in fresh.items() if months[mid] == month}
            leaving = {mid for mid, old in moved_from.items() if old == month}
            return self._update_month(month, arriving, leaving)

        written = _parallel(write_month, touched)
        # 3. The manifest: month counts and the head.
        arriving_head = {mid: compact_entry(e.record) for mid, e in fresh.items()}
        try:
            self._update_manifest(written, set(fresh), arriving_head)
        except _SingleObjectLayout:
            # The first write since an upgrade: split the old object (which merges its entries
            # into the months just written), then record these entries in the new manifest.
            self._split_single_object()
            self._update_manifest(written, set(fresh), arriving_head)
        return len(fresh)

    def _relocate(self, months: Mapping[str, str | None]) -> dict[str, str]:
        """Point each id at its new month (None: forget it); return ids' previous months
        where they differ."""
        by_bucket: dict[str, list[str]] = {}
        for mid in months:
            by_bucket.setdefault(locator_of(mid), []).append(mid)
        previous: dict[str, str] = {}

        def update(bucket: str) -> None:
            def change(document: Entries) -> bool:
                ids = document.setdefault("ids", {})
                if not isinstance(ids, dict):
                    ids = document["ids"] = {}
                document["version"] = INDEX_FORMAT_VERSION
                changed = False
                for mid in by_bucket[bucket]:
                    old, new = ids.get(mid), months[mid]
                    if isinstance(old, str) and old != new:
                        previous[mid] = old
                    if old != new:
                        changed = True
                        if new is None:
                            ids.pop(mid, None)
                        else:
                            ids[mid] = new
                return changed

            self._locator(bucket).update(change)

        _parallel(update, sorted(by_bucket))
        return previous

    def _update_month(
        self, month: str, arriving: dict[str, IndexEntry], leaving: set[str]
    ) -> _ShardWrite:
        result = _ShardWrite(month, 0, 0)

        def change(document: Entries) -> bool:
            meetings = document.setdefault("meetings", {})
            texts = document.setdefault("text", {})
            if not isinstance(meetings, dict) or not isinstance(texts, dict):
                raise self._month(month).damaged("'meetings' or 'text' is not an object")
            result.removed = {mid for mid in leaving if mid in meetings}
            for mid in leaving:
                meetings.pop(mid, None)
                texts.pop(mid, None)
            for mid, entry in arriving.items():
                meetings[mid] = compact_entry(entry.record)
                value = _text_value(entry.text)
                if value:
                    texts[mid] = value
                else:
                    texts.pop(mid, None)
            document.update(version=INDEX_FORMAT_VERSION, month=month)
            result.rev = int(document.get("rev", 0)) + 1
            result.count = len(meetings)
            document["rev"] = result.rev
            return bool(arriving or result.removed)

        if not self._month(month).update(change):
            result.rev = 0  # nothing changed: the manifest keeps what it has
        return result

    def _update_manifest(
        self, written: Sequence[_ShardWrite], ids: set[str], arriving: Entries
    ) -> None:
        def change(document: Entries) -> bool:
            manifest = _manifest_of(document, self._listing)
            if manifest.legacy is not None:
                raise _SingleObjectLayout
            for shard in written:
                known = manifest.shards.get(shard.month, {})
                if shard.rev and shard.rev > int(known.get("rev", 0)):
                    manifest.shards[shard.month] = {"count": shard.count, "rev": shard.rev}
            manifest.shards = {m: s for m, s in manifest.shards.items() if s.get("count")}
            self._merge_head(manifest, ids, arriving)
            document.clear()
            document.update(manifest.to_json())
            return True

        self._listing.update(change)

    def _merge_head(self, manifest: _Manifest, ids: set[str], arriving: Entries) -> None:
        """Keep the head the newest entries: every entry outside it is older than all in it."""
        head = manifest.head
        floor = (
            None
            if manifest.head_all or not head
            else min(_entry_key(m, e) for m, e in head.items())
        )
        for mid in ids:
            head.pop(mid, None)
        for mid, entry in arriving.items():
            if floor is None and not manifest.head_all:
                break  # an empty head that is not everything: refilled below
            if floor is None or _entry_key(mid, entry) >= floor:
                head[mid] = entry
        if len(head) > HEAD_SIZE:
            manifest.head = _top(head, HEAD_SIZE)
            manifest.head_all = False
        if not manifest.head_all and len(manifest.head) < HEAD_SIZE:
            self._refill_head(manifest)

    def _refill_head(self, manifest: _Manifest) -> None:
        """Rebuild the head from the newest months (a deleted or moved entry left it short)."""
        months = sorted(manifest.shards, reverse=True)
        collected: Entries = {}
        read = 0
        while read < len(months) and len(collected) < HEAD_SIZE:
            batch = self._batch(months[read:], manifest, HEAD_SIZE - len(collected))
            for meetings, _ in _parallel(self._read_month, batch):
                collected.update(meetings)
            read += len(batch)
        manifest.head = _top(collected, HEAD_SIZE)
        manifest.head_all = read >= len(months) and len(collected) <= HEAD_SIZE

    @staticmethod
    def _batch(months: Sequence[str], manifest: _Manifest, wanted: int) -> list[str]:
        """The next months to read in parallel: enough (by their counts) for `wanted` entries."""
        batch: list[str] = []
        count = 0
        for month in months[:READ_WORKERS]:
            batch.append(month)
            count += int(manifest.shards.get(month, {}).get("count", 0))
            if count >= wanted:
                break
        return batch

    def delete(self, meeting_id: str) -> bool:
        return self.delete_many([meeting_id]) == 1

    def delete_many(self, meeting_ids: Iterable[str]) -> int:
        wanted = set(meeting_ids)
        if not wanted:
            return 0
        manifest = self._manifest()
        if manifest.legacy is not None:
            self._split_single_object()
            manifest = self._manifest()
        located = self._relocate(dict.fromkeys(wanted))
        # An entry the locators lost is still found by its month in the head.
        for mid in wanted:
            entry = manifest.head.get(mid)
            if mid not in located and isinstance(entry, dict):
                located[mid] = month_of(parse_timestamp(str(entry["timestamp"])))

        def write_month(month: str) -> _ShardWrite:
            return self._update_month(month, {}, {m for m, old in located.items() if old == month})

        written = _parallel(write_month, sorted(set(located.values())))
        self._update_manifest(written, wanted, {})
        return len(set().union(*(w.removed for w in written))) if written else 0

    def rebuild(self, entries: Iterable[IndexEntry | MeetingRecord]) -> int:
        """Replace every index object whole, without parsing the old ones, so a damaged
        index is repaired too; objects of months and locators no longer needed are removed."""
        fresh = {e.record.meeting_id: e for e in as_entries(entries)}
        months: dict[str, dict[str, IndexEntry]] = {}
        buckets: dict[str, dict[str, str]] = {}
        for mid, entry in fresh.items():
            month = month_of(entry.record.timestamp)
            months.setdefault(month, {})[mid] = entry
            buckets.setdefault(locator_of(mid), {})[mid] = month

        def write_month(month: str) -> None:
            arriving = months[month]
            texts = {mid: _text_value(e.text) for mid, e in arriving.items()}
            self._month(month).replace(
                {
                    "version": INDEX_FORMAT_VERSION,
                    "month": month,
                    "rev": 1,
                    "meetings": {
                        mid: compact_entry(e.record) for mid, e in sorted(arriving.items())
                    },
                    "text": {mid: value for mid, value in sorted(texts.items()) if value},
                }
            )

        def write_locator(bucket: str) -> None:
            ids = dict(sorted(buckets[bucket].items()))
            self._locator(bucket).replace({"version": INDEX_FORMAT_VERSION, "ids": ids})

        _parallel(write_month, sorted(months))
        _parallel(write_locator, sorted(buckets))
        compact = {mid: compact_entry(e.record) for mid, e in fresh.items()}
        manifest = _Manifest(
            shards={m: {"count": len(v), "rev": 1} for m, v in months.items()},
            head=_top(compact, HEAD_SIZE),
            head_all=len(compact) <= HEAD_SIZE,
        )
        self._listing.replace(manifest.to_json())
        keep = {layout.index_month_key(m) for m in months} | {
            layout.index_ids_key(b) for b in buckets
        }
        stale = [
            info.key
            for prefix in (layout.INDEX_MONTHS_PREFIX, layout.INDEX_IDS_PREFIX)
            for info in self.store.iter_objects(prefix)
            if info.key not in keep
        ]
        if self.store.head(self.search_key) is not None:
            stale.append(self.search_key)  # the single-object layout's search text
        if stale:
            self.store.delete(stale)
        return len(fresh)

    def _split_single_object(self) -> None:
        """Split an index in the single-object layout into months: write the months and
        locators (merging with what is there), then commit the manifest with If-Match on
        the old object, so a change made meanwhile sends us round again."""

        def attempt() -> bool:
            document, etag = self._listing.read()
            manifest = _manifest_of(document, self._listing)
            if manifest.legacy is None:
                return False
            legacy = manifest.legacy
            records = self._legacy_records(legacy)
            raw_texts, _ = self._search.read()
            texts = raw_texts.get("meetings", {}) if isinstance(raw_texts, dict) else {}
            entries = {
                mid: IndexEntry(
                    record,
                    SearchText(
                        summary=str((texts.get(mid) or {}).get("s", "")),
                        action_items=str((texts.get(mid) or {}).get("a", "")),
                    ),
                )
                for mid, record in records.items()
            }
            months = {mid: month_of(r.timestamp) for mid, r in records.items()}
            self._relocate(dict(months))
            written = _parallel(
                lambda month: self._update_month(
                    month, {m: e for m, e in entries.items() if months[m] == month}, set()
                ),
                sorted(set(months.values())),
            )
            split = _Manifest(
                shards={w.month: {"count": w.count, "rev": w.rev} for w in written if w.count},
                head=_top(legacy, HEAD_SIZE),
                head_all=len(legacy) <= HEAD_SIZE,
            )
            self._listing.write(split.to_json(), etag)
            return True

        if self._listing.racing(attempt) and self.store.head(self.search_key) is not None:
            self.store.delete([self.search_key])

    # ----------------------------------------------------------------- reading

    def get(self, meeting_id: str) -> MeetingRecord | None:
        manifest = self._manifest()
        if manifest.legacy is not None:
            entry = manifest.legacy.get(meeting_id)
            return None if entry is None else self._record(entry, self._listing)
        if meeting_id in manifest.head:
            return self._record(manifest.head[meeting_id], self._listing)
        locator = self._locator(locator_of(meeting_id))
        ids, _ = locator.read()
        month = (ids.get("ids") or {}).get(meeting_id)
        if not isinstance(month, str):
            return None
        meetings, _ = self._read_month(month)
        entry = meetings.get(meeting_id)
        return None if entry is None else self._record(entry, self._month(month))

    def ids(self) -> set[str]:
        manifest = self._manifest()
        if manifest.legacy is not None:
            return set(manifest.legacy)
        if manifest.head_all:
            return set(manifest.head)
        found: set[str] = set()
        for meetings, _ in _parallel(self._read_month, sorted(manifest.shards)):
            found.update(meetings)
        return found

    def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        search: str | None = None,
        filters: MeetingFilter | None = None,
    ) -> MeetingPage:
        limit = validate_limit(limit)
        manifest = self._manifest()
        if manifest.legacy is not None:
            return self._legacy_list(manifest.legacy, limit, cursor, search, filters)
        words = search_words(search)
        filters = filters or NO_FILTER
        if not words and filters.is_empty:
            page = self._from_head(manifest, limit, cursor)
            if page is not None:
                return page
        return self._walk(manifest, limit, cursor, words, filters)

    def _from_head(self, manifest: _Manifest, limit: int, cursor: str | None) -> MeetingPage | None:
        """The page from the manifest alone, when the head holds all of it."""
        try:
            keyed = [_entry_key(mid, e) for mid, e in manifest.head.items()]
        except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
            raise self._listing.damaged(exc) from exc
        if cursor:
            at, after_id = decode_cursor(cursor)
            after = (at.astimezone(UTC).isoformat(), after_id)
            keyed = [key for key in keyed if key < after]
        if len(keyed) <= limit and not manifest.head_all:
            return None
        top = heapq.nlargest(limit + 1, keyed)
        records = [self._record(manifest.head[mid], self._listing) for _, mid in top[:limit]]
        next_cursor = encode_cursor(records[-1]) if len(top) > limit else None
        return MeetingPage(meetings=records, next_cursor=next_cursor)

    def _walk(
        self,
        manifest: _Manifest,
        limit: int,
        cursor: str | None,
        words: Sequence[str],
        filters: MeetingFilter,
    ) -> MeetingPage:
        """Read months newest first until the page is full; a search or filter reads at most
        SCAN_MEETINGS meetings (SCAN_MONTHS months), then hands out a cursor to go on."""
        after: tuple[str, str] | None = None
        months = sorted(manifest.shards, reverse=True)
        if cursor:
            at, after_id = decode_cursor(cursor)
            after = (at.astimezone(UTC).isoformat(), after_id)
            # A month starting at the cursor can only hold later meetings, unless they tie on
            # time with a smaller id (a boundary cursor has no id: that month is done).
            months = [
                m for m in months if _month_start(m) < at or (_month_start(m) == at and after_id)
            ]
        if filters.date_from is not None:
            months = [m for m in months if _month_end(m) > filters.date_from]
        if filters.date_to is not None:
            months = [m for m in months if _month_start(m) < filters.date_to]
        bounded = bool(words) or not filters.is_empty
        found: list[tuple[tuple[str, str], MeetingRecord | Entries]] = []
        texts: dict[str, SearchText] = {}
        read = scanned = 0
        while read < len(months) and len(found) <= limit:
            if bounded and read and (scanned >= SCAN_MEETINGS or read >= SCAN_MONTHS):
                break
            wanted = SCAN_MEETINGS if bounded else limit + 1 - len(found)
            batch = self._batch(months[read:], manifest, wanted)
            if bounded:
                batch = batch[: max(1, SCAN_MONTHS - read)]
            for month, (meetings, month_texts) in zip(
                batch, _parallel(self._read_month, batch), strict=True
            ):
                where = self._month(month)
                scanned += len(meetings)
                for mid, entry in meetings.items():
                    try:
                        key = _entry_key(mid, entry)
                    except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
                        raise where.damaged(exc) from exc
                    if after is not None and key >= after:
                        continue
                    if not bounded:
                        found.append((key, entry))
                        continue
                    record = self._record(entry, where)
                    if not filters.matches(record):
                        continue
                    if words:
                        raw = month_texts.get(mid) or {}
                        text = SearchText(
                            summary=str(raw.get("s", "")), action_items=str(raw.get("a", ""))
                        )
                        if not matches_words(compact_search_text(record, text), words):
                            continue
                        texts[mid] = text
                    found.append((key, record))
            read += len(batch)
        found.sort(key=lambda item: item[0], reverse=True)
        page = [
            item if isinstance(item, MeetingRecord) else self._record(item, self._listing)
            for _, item in found[:limit]
        ]
        next_cursor = encode_cursor(page[-1]) if len(found) > limit else None
        note = SEARCH_NOTE if words else ""
        if next_cursor is None and read < len(months):
            # Stopped by the bound, not by the end: go on from the last month read.
            boundary = _month_start(months[read - 1])
            next_cursor = encode_position(boundary)
            note = (
                f"Searched meetings back to {boundary:%B %Y} ({scanned:,} read); ask for the "
                "next page to search earlier ones. " + (SEARCH_NOTE if words else "")
            ).strip()
        snippets = (
            {r.meeting_id: best_snippet(r, texts.get(r.meeting_id), list(words)) for r in page}
            if words
            else {}
        )
        return MeetingPage(
            meetings=page, next_cursor=next_cursor, snippets=snippets, search_note=note or None
        )

    def _legacy_list(
        self,
        raw: Entries,
        limit: int,
        cursor: str | None,
        search: str | None,
        filters: MeetingFilter | None,
    ) -> MeetingPage:
        """Listing an index still in the single-object layout (until its next write)."""
        records = self._legacy_records(raw)
        words = search_words(search)
        if not words:
            return page_of(records.values(), limit, cursor, None, filters)
        document, _ = self._search.read()
        stored = document.get("meetings", {})
        texts = {
            mid: SearchText(summary=str(v.get("s", "")), action_items=str(v.get("a", "")))
            for mid, v in (stored.items() if isinstance(stored, dict) else [])
            if isinstance(v, dict)
        }
        haystacks = {
            mid: compact_search_text(record, texts.get(mid, SearchText()))
            for mid, record in records.items()
        }
        page = page_of(
            records.values(), limit, cursor, search, filters, haystacks=haystacks, texts=texts
        )
        return MeetingPage(
            meetings=page.meetings,
            next_cursor=page.next_cursor,
            snippets=page.snippets,
            search_note=SEARCH_NOTE,
        )
