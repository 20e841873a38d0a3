"""The metadata index: a small protocol that every backend meets (S3 JSON, DynamoDB, SQL).

The index is a fast listing and search of meetings; S3's metadata.json files stay the
source of truth, and `reindex` (or `rebuild`) recreates any index from them. Every backend
passes the same contract tests (tests/test_index_contract.py).

Listing is newest first (timestamp, then meeting id, descending) with an opaque cursor.
Searching matches every word; backends with `full_text = True` (SQLite FTS5, PostgreSQL
tsvector) also look in transcripts and requirements and rank the results, the others look
in metadata, summaries and action items and say so in `MeetingPage.search_note`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.models import MeetingPage, MeetingRecord, parse_timestamp
from meeting_storage.index.document import IndexEntry, SearchText, as_entries, as_entry
from meeting_storage.index.query import (
    NO_FILTER,
    MeetingFilter,
    best_snippet,
    matches_words,
    search_words,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "NO_FILTER",
    "IndexEntry",
    "MeetingFilter",
    "MeetingIndex",
    "SearchText",
    "as_entries",
    "as_entry",
]


class MeetingIndex(Protocol):
    name: str
    # True when search covers transcripts and requirements and results are ranked.
    full_text: bool

    def put(self, record: MeetingRecord, text: SearchText | None = None) -> None:
        """Insert or replace the entry for record.meeting_id (with its search text)."""
        ...

    def put_many(self, entries: Iterable[IndexEntry]) -> int:
        """Insert or replace many entries in as few requests as the backend allows."""
        ...

    def get(self, meeting_id: str) -> MeetingRecord | None: ...

    def delete(self, meeting_id: str) -> bool:
        """Remove the entry; True if there was one."""
        ...

    def delete_many(self, meeting_ids: Iterable[str]) -> int:
        """Remove these entries; return how many there were (or were asked for)."""
        ...

    def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        search: str | None = None,
        filters: MeetingFilter | None = None,
    ) -> MeetingPage:
        """Newest first (timestamp, then meeting id, descending); `cursor` continues a page.
        With `search`, only meetings containing every word (ranked first when full_text)."""
        ...

    def ids(self) -> set[str]:
        """Every indexed meeting id (for drift checks)."""
        ...

    def rebuild(self, entries: Iterable[IndexEntry | MeetingRecord]) -> int:
        """Replace the whole index with these entries; return how many were indexed."""
        ...

    def check(self) -> str:
        """Raise a MeetingStorageError unless the backend is usable; else describe it."""
        ...

    def describe(self) -> str:
        """Where the index lives, for messages (no secrets)."""
        ...


def validate_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(
            f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}."
        )
    return limit


def sort_key(record: MeetingRecord) -> tuple[datetime, str]:
    return (record.timestamp, record.meeting_id)


def encode_cursor(record: MeetingRecord) -> str:
    return encode_position(record.timestamp, record.meeting_id)


def encode_position(timestamp: datetime, meeting_id: str = "") -> str:
    """A cursor that continues just before (timestamp, meeting_id): a page that stopped at a
    boundary rather than at a meeting (the S3 JSON index's bounded search) hands one out."""
    raw = json.dumps([timestamp.isoformat(), meeting_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        timestamp, meeting_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return parse_timestamp(str(timestamp)), str(meeting_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            "The cursor is not one this store handed out; start again without it."
        ) from exc


def encode_offset_cursor(offset: int, search: str) -> str:
    """A cursor for ranked search results: the offset, tied to the search it belongs to."""
    raw = json.dumps({"o": offset, "q": _search_digest(search)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_offset_cursor(cursor: str, search: str) -> int:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        same = data["q"] == _search_digest(search)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInputError(
            "The cursor is not one this search handed out; start again without it."
        ) from exc
    if not same or offset < 0:
        raise InvalidInputError("The cursor belongs to a different search; start again without it.")
    return offset


def _search_digest(search: str) -> str:
    return hashlib.sha256(" ".join(search_words(search)).encode()).hexdigest()[:12]


def page_of(
    records: Iterable[MeetingRecord],
    limit: int,
    cursor: str | None,
    search: str | None = None,
    filters: MeetingFilter | None = None,
    *,
    haystacks: dict[str, str] | None = None,
    texts: dict[str, SearchText] | None = None,
) -> MeetingPage:
    """Newest-first page over in-memory records: the shared paging rule of the backends that
    have no query engine. `haystacks` maps an id to the text a search looks in (default:
    the record's metadata); `texts` feeds the snippets."""
    from meeting_storage.index.query import metadata_text

    limit = validate_limit(limit)
    filters = filters or NO_FILTER
    words = search_words(search)
    selected = [r for r in records if filters.matches(r)]
    if words:
        selected = [
            r
            for r in selected
            if matches_words((haystacks or {}).get(r.meeting_id) or metadata_text(r), words)
        ]
    ordered = sorted(selected, key=sort_key, reverse=True)
    if cursor:
        after = decode_cursor(cursor)
        ordered = [r for r in ordered if sort_key(r) < after]
    page = ordered[:limit]
    next_cursor = encode_cursor(page[-1]) if len(ordered) > limit else None
    snippets = (
        {r.meeting_id: best_snippet(r, (texts or {}).get(r.meeting_id), words) for r in page}
        if words
        else {}
    )
    return MeetingPage(meetings=page, next_cursor=next_cursor, snippets=snippets)
