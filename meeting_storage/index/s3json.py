"""The S3 JSON index: one compact object in the bucket, updated with optimistic concurrency.

Listing costs one GET however many meetings there are (instead of one GET per
metadata.json). Writers read the object with its ETag and write it back with If-Match
(If-None-Match when it does not exist yet); a writer that loses the race re-reads and
retries, so concurrent uploads never drop each other's entries.

Search reads a second object, index/search.json, with each meeting's summary and action
items (kept out of the listing object so listing stays small). It is a scan of every
meeting in memory: slower than a database, and transcripts are not searched.
"""

from __future__ import annotations

import heapq
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import UTC
from typing import Any, TypeVar

from meeting_storage.core.errors import ConflictError, InvalidInputError, NotFoundError
from meeting_storage.core.layout import INDEX_KEY, SEARCH_INDEX_KEY
from meeting_storage.core.models import MeetingPage, MeetingRecord, parse_timestamp
from meeting_storage.core.retry import Backoff, retrying
from meeting_storage.index import (
    DEFAULT_LIMIT,
    decode_cursor,
    encode_cursor,
    page_of,
    validate_limit,
)
from meeting_storage.index.document import IndexEntry, SearchText, as_entries
from meeting_storage.index.query import MeetingFilter, compact_search_text, search_words
from meeting_storage.storage.blobs import BlobStore

INDEX_FORMAT_VERSION = 1
MAX_ATTEMPTS = 12
# A writer that lost the race waits up to 20 ms, 40 ms, ... 1 s (full jitter) and tries again.
RACE_BACKOFF = Backoff(base_delay=0.02, max_delay=1.0)
SEARCH_NOTE = (
    "The S3 JSON index searches titles, file names, tags, summaries and action items (not "
    "transcripts or requirements) by reading every entry, which is slower than a database; "
    "use INDEX_BACKEND=sqlite or postgres for ranked full-text search."
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
    """The record without fields at their defaults: the listing object stays small."""
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


class _JsonDocument:
    """One JSON object {"version", "meetings": {id: value}} under optimistic concurrency."""

    def __init__(self, store: BlobStore, key: str) -> None:
        self.store = store
        self.key = key

    def read(self) -> tuple[Entries, str | None]:
        try:
            blob = self.store.get(self.key)
        except NotFoundError:
            return {}, None
        try:
            meetings = json.loads(blob.data).get("meetings", {})
            if not isinstance(meetings, dict):
                raise ValueError("'meetings' is not an object")
        except (ValueError, AttributeError) as exc:
            raise self.damaged(exc) from exc
        return meetings, blob.etag

    def damaged(self, exc: Exception) -> InvalidInputError:
        return InvalidInputError(
            f"The index object {self.store.location}/{self.key} is damaged ({exc}); "
            "run `python -m meeting_storage reindex` to rebuild it from metadata.json files."
        )

    def _write(self, entries: Entries, etag: str | None) -> None:
        document = {"version": INDEX_FORMAT_VERSION, "meetings": dict(sorted(entries.items()))}
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        self.store.put(
            self.key, data, "application/json", if_none_match=etag is None, if_match=etag
        )

    def update(self, change: Callable[[Entries], bool]) -> bool:
        """Apply `change` under optimistic concurrency; `change` returns False for "nothing to write"."""

        def attempt() -> bool:
            # Re-read on every try: another writer won, so re-apply on fresh data.
            entries, etag = self.read()
            if not change(entries):
                return False
            self._write(entries, etag)
            return True

        return self._racing(attempt)

    def replace(self, entries: Entries) -> None:
        """Overwrite the object without reading it (it may be damaged); the ETag condition
        still refuses to overwrite a concurrent change."""

        def attempt() -> None:
            current = self.store.head(self.key)
            self._write(entries, current.etag if current is not None else None)

        self._racing(attempt)

    def _racing(self, attempt: Callable[[], T]) -> T:
        try:
            return retrying(
                attempt, attempts=MAX_ATTEMPTS, backoff=RACE_BACKOFF, retry_on=(ConflictError,)
            )
        except ConflictError as exc:
            raise ConflictError(
                f"The index {self.store.location}/{self.key} kept changing under "
                f"{MAX_ATTEMPTS} attempts; try again."
            ) from exc


def _text_value(text: SearchText) -> dict[str, str]:
    return {k: v for k, v in (("s", text.summary), ("a", text.action_items)) if v}


class S3JsonIndex:
    name = "s3json"
    full_text = False

    def __init__(
        self, store: BlobStore, key: str = INDEX_KEY, search_key: str = SEARCH_INDEX_KEY
    ) -> None:
        self.store = store
        self.key = key
        self._listing = _JsonDocument(store, key)
        self._search = _JsonDocument(store, search_key)

    def describe(self) -> str:
        return f"S3 JSON index {self.store.location}/{self.key}"

    def check(self) -> str:
        entries = self._records()
        return f"{self.describe()} with {len(entries)} entries"

    def _records(self) -> dict[str, MeetingRecord]:
        raw, _ = self._listing.read()
        try:
            return {mid: MeetingRecord.from_dict(entry) for mid, entry in raw.items()}
        except InvalidInputError as exc:
            raise self._listing.damaged(exc) from exc

    def put(self, record: MeetingRecord, text: SearchText | None = None) -> None:
        self.put_many([IndexEntry(record, text or SearchText())])

    def put_many(self, entries: Iterable[IndexEntry]) -> int:
        fresh = as_entries(entries)
        if not fresh:
            return 0

        def listing(current: Entries) -> bool:
            current.update({e.record.meeting_id: compact_entry(e.record) for e in fresh})
            return True

        def search(current: Entries) -> bool:
            for entry in fresh:
                value = _text_value(entry.text)
                if value:
                    current[entry.record.meeting_id] = value
                else:
                    current.pop(entry.record.meeting_id, None)
            return True

        # The listing first: the meeting is listed as soon as it can be, and a failed search
        # update only makes its summary unsearchable until the next reindex.
        self._listing.update(listing)
        self._search.update(search)
        return len(fresh)

    def get(self, meeting_id: str) -> MeetingRecord | None:
        raw, _ = self._listing.read()
        entry = raw.get(meeting_id)
        return None if entry is None else MeetingRecord.from_dict(entry)

    def delete(self, meeting_id: str) -> bool:
        return self.delete_many([meeting_id]) == 1

    def delete_many(self, meeting_ids: Iterable[str]) -> int:
        wanted = set(meeting_ids)
        removed: list[str] = []

        def listing(current: Entries) -> bool:
            removed[:] = [mid for mid in wanted if mid in current]
            for mid in removed:
                del current[mid]
            return bool(removed)

        def search(current: Entries) -> bool:
            present = [mid for mid in wanted if mid in current]
            for mid in present:
                del current[mid]
            return bool(present)

        if not wanted:
            return 0
        self._listing.update(listing)
        self._search.update(search)
        return len(removed)

    def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        search: str | None = None,
        filters: MeetingFilter | None = None,
    ) -> MeetingPage:
        if not search_words(search) and (filters is None or filters.is_empty):
            return self._newest(limit, cursor)
        records = self._records()
        if not search_words(search):
            return page_of(records.values(), limit, cursor, None, filters)
        raw, _ = self._search.read()
        texts = {
            mid: SearchText(summary=str(v.get("s", "")), action_items=str(v.get("a", "")))
            for mid, v in raw.items()
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

    def _newest(self, limit: int, cursor: str | None) -> MeetingPage:
        """The plain listing, fast: order by the raw time strings and build records for
        the page only (parsing every entry into a record would dominate at 10,000)."""
        limit = validate_limit(limit)
        raw, _ = self._listing.read()
        try:
            keyed = ((_time_key(entry["timestamp"]), mid) for mid, entry in raw.items())
            if cursor:
                at, after_id = decode_cursor(cursor)
                after = (at.astimezone(UTC).isoformat(), after_id)
                keyed = (key for key in keyed if key < after)
            top = heapq.nlargest(limit + 1, keyed)
            records = [MeetingRecord.from_dict(raw[mid]) for _, mid in top[:limit]]
        except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
            raise self._listing.damaged(exc) from exc
        next_cursor = encode_cursor(records[-1]) if len(top) > limit else None
        return MeetingPage(meetings=records, next_cursor=next_cursor)

    def ids(self) -> set[str]:
        raw, _ = self._listing.read()
        return set(raw)

    def rebuild(self, entries: Iterable[IndexEntry | MeetingRecord]) -> int:
        """Replace both index objects whole, without parsing the old ones, so a damaged
        index is repaired too."""
        fresh = {e.record.meeting_id: e for e in as_entries(entries)}
        self._listing.replace({mid: compact_entry(e.record) for mid, e in fresh.items()})
        search: Entries = {}
        for mid, entry in fresh.items():
            value = _text_value(entry.text)
            if value:
                search[mid] = value
        self._search.replace(search)
        return len(fresh)
