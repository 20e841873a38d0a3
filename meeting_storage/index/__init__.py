"""The metadata index: a small protocol that every backend (S3 JSON, later DynamoDB and SQL) meets.

The index is a fast listing of meetings; S3's metadata.json files stay the source of truth,
and `rebuild` recreates any index from them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from ..errors import InvalidInputError
from ..models import MeetingPage, MeetingRecord, parse_timestamp

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


class MeetingIndex(Protocol):
    name: str

    def put(self, record: MeetingRecord) -> None:
        """Insert or replace the entry for record.meeting_id."""
        ...

    def get(self, meeting_id: str) -> MeetingRecord | None: ...

    def delete(self, meeting_id: str) -> bool:
        """Remove the entry; True if there was one."""
        ...

    def list(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, search: str | None = None
    ) -> MeetingPage:
        """Newest first (timestamp, then meeting id, descending); `cursor` continues a page."""
        ...

    def ids(self) -> set[str]:
        """Every indexed meeting id (for drift checks)."""
        ...

    def rebuild(self, records: Iterable[MeetingRecord]) -> int:
        """Replace the whole index with these records; return how many were indexed."""
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
    raw = json.dumps([record.timestamp.isoformat(), record.meeting_id]).encode()
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


def matches_search(record: MeetingRecord, search: str | None) -> bool:
    """Case-insensitive match of every word against title, file name, id and tags."""
    if not search:
        return True
    haystack = " ".join(
        [record.title, record.filename, record.meeting_id, record.extraction_method, *record.tags]
    ).casefold()
    return all(word in haystack for word in search.casefold().split())


def page_of(
    records: Iterable[MeetingRecord], limit: int, cursor: str | None, search: str | None
) -> MeetingPage:
    """Newest-first page over in-memory records: the shared paging rule of every backend."""
    limit = validate_limit(limit)
    ordered = sorted((r for r in records if matches_search(r, search)), key=sort_key, reverse=True)
    if cursor:
        after = decode_cursor(cursor)
        ordered = [r for r in ordered if sort_key(r) < after]
    page = ordered[:limit]
    next_cursor = encode_cursor(page[-1]) if len(ordered) > limit else None
    return MeetingPage(meetings=page, next_cursor=next_cursor)
