"""Listing filters, search words and highlighted snippets: pure functions shared by the backends.

Backends without a full-text engine (S3 JSON, DynamoDB) match every search word as a
case-insensitive substring of the metadata, summary and action items, and build a snippet
here; SQL backends use their own engines (FTS5, tsvector) and only share the filter rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.models import MeetingRecord, utc_now
from meeting_storage.index.document import SearchText

HIGHLIGHT = "**"  # matched words in snippets are wrapped in this marker (Markdown bold)
ELLIPSIS = "…"
SNIPPET_WORDS = 24
_WORD_RE = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class MeetingFilter:
    """Narrow a listing. `date_from` is inclusive and `date_to` exclusive (UTC)."""

    date_from: datetime | None = None
    date_to: datetime | None = None
    has_open_action_items: bool | None = None
    extraction_method: str | None = None
    owner: str | None = None
    # Who stored the meeting (an address, or "local"); compared case-insensitively.
    uploaded_by: str | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInputError(f"{name} must be a timezone-aware datetime.")
        if self.date_from and self.date_to and self.date_from >= self.date_to:
            raise InvalidInputError("The start date must be before the end date.")

    @property
    def is_empty(self) -> bool:
        return self == MeetingFilter()

    @property
    def uploader_key(self) -> str | None:
        return uploader_key(self.uploaded_by) if self.uploaded_by else None

    @property
    def owner_key(self) -> str | None:
        return owner_key(self.owner) if self.owner else None

    def matches(self, record: MeetingRecord) -> bool:
        if self.date_from is not None and record.timestamp < self.date_from:
            return False
        if self.date_to is not None and record.timestamp >= self.date_to:
            return False
        if self.has_open_action_items is not None and (
            (record.open_action_items_count > 0) != self.has_open_action_items
        ):
            return False
        if self.extraction_method and record.extraction_method != self.extraction_method:
            return False
        if self.uploaded_by and uploader_key(record.uploaded_by) != self.uploader_key:
            return False
        return not (
            self.owner and self.owner_key not in {owner_key(o) for o in record.action_item_owners}
        )


NO_FILTER = MeetingFilter()


def owner_key(owner: str) -> str:
    """How owners are compared: case- and space-insensitive."""
    return " ".join(owner.split()).casefold()


def uploader_key(uploaded_by: str | None) -> str:
    """How uploaders are compared: case-insensitive; a record without one is "local"'s."""
    return (uploaded_by or "local").strip().casefold()


def search_words(search: str | None) -> list[str]:
    """The words of a search, lower-cased; punctuation separates words and is ignored."""
    return [word.casefold() for word in _WORD_RE.findall(search or "")][:32]


def metadata_text(record: MeetingRecord) -> str:
    return " ".join(
        [
            record.title,
            record.filename,
            record.meeting_id,
            record.extraction_method,
            *record.tags,
            *record.action_item_owners,
        ]
    )


def compact_search_text(record: MeetingRecord, text: SearchText) -> str:
    """What the backends without full-text search look in: metadata, summary, action items."""
    return "\n".join(p for p in (metadata_text(record), text.summary, text.action_items) if p)


def matches_words(haystack: str, words: Iterable[str]) -> bool:
    folded = haystack.casefold()
    return all(word in folded for word in words)


def snippet(text: str, words: list[str], max_words: int = SNIPPET_WORDS) -> str:
    """A window of `text` around the first matched word, matches wrapped in HIGHLIGHT."""
    tokens = text.split()
    if not tokens:
        return ""
    hits = [i for i, token in enumerate(tokens) if any(w in token.casefold() for w in words)]
    first = hits[0] if hits else 0
    start = max(0, first - max_words // 3)
    window = tokens[start : start + max_words]
    shown = []
    for token in window:
        if any(w in token.casefold() for w in words):
            shown.append(f"{HIGHLIGHT}{token}{HIGHLIGHT}")
        else:
            shown.append(token)
    prefix = ELLIPSIS + " " if start > 0 else ""
    suffix = " " + ELLIPSIS if start + max_words < len(tokens) else ""
    return prefix + " ".join(shown) + suffix


def best_snippet(record: MeetingRecord, text: SearchText | None, words: list[str]) -> str:
    """The snippet from the first field that contains a search word (title first)."""
    fields = [record.display_title]
    if text is not None:
        fields += [text.summary, text.action_items, text.requirements, text.transcript]
    fields.append(metadata_text(record))
    for field_text in fields:
        if field_text and any(w in field_text.casefold() for w in words):
            return snippet(field_text, words)
    return snippet(record.display_title, words)


def parse_day(value: str, *, end: bool = False) -> datetime:
    """A date (YYYY-MM-DD) or ISO date-time for the CLI; `end` makes a bare date exclusive
    at the end of that day, so `--to 2026-01-31` includes the 31st."""
    from datetime import UTC, timedelta

    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(
            f"{value!r} is not a date; use YYYY-MM-DD or an ISO date-time."
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end and len(value.strip()) == 10:
        parsed += timedelta(days=1)
    if parsed.year > utc_now().year + 100:
        raise InvalidInputError(f"{value!r} is too far in the future.")
    return parsed.astimezone(UTC)
