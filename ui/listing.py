"""Paging through the index with filters the index does not have (a date range). No streamlit.

The index lists newest first in pages joined by cursors. A dashboard page may need records
from several index pages (when a date range skips some), so a position is the cursor of an
index page plus how many of its records were already shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from meeting_storage import MeetingPage, MeetingRecord

Fetch = Callable[[int, str | None], MeetingPage]


@dataclass(frozen=True)
class Position:
    cursor: str | None = None
    skip: int = 0


@dataclass(frozen=True)
class ListingPage:
    records: list[MeetingRecord] = field(default_factory=list)
    next: Position | None = None
    index_pages_read: int = 0


def collect_page(
    fetch: Fetch,
    size: int,
    start: Position | None = None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int | None = None,
) -> ListingPage:
    """Up to `size` records, newest first, with since <= timestamp < until.

    Without a date range this is one index page of `size` records (batch = size). With one,
    it reads index pages of `batch` records until the page is full or the records are older
    than `since` (everything after them is older still).
    """
    batch = batch or size
    start = start or Position()
    cursor, skip = start.cursor, start.skip
    found: list[MeetingRecord] = []
    reads = 0
    while True:
        page = fetch(batch, cursor)
        reads += 1
        items = page.meetings
        for number in range(skip, len(items)):
            record = items[number]
            if until is not None and record.timestamp >= until:
                continue
            if since is not None and record.timestamp < since:
                return ListingPage(found, None, reads)
            found.append(record)
            if len(found) == size:
                if number + 1 < len(items):
                    following: Position | None = Position(cursor, number + 1)
                elif page.next_cursor:
                    following = Position(page.next_cursor, 0)
                else:
                    following = None
                return ListingPage(found, following, reads)
        if not page.next_cursor:
            return ListingPage(found, None, reads)
        cursor, skip = page.next_cursor, 0
