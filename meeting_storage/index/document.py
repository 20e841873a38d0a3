"""What an index entry holds beyond metadata.json: the text that search looks in.

metadata.json stays small (it is read once per meeting by scans and `reindex`); the text a
search needs (summary, action items, requirements, transcript) is assembled here from the
meeting's other files, by `process` when it stores a meeting and by `reindex` from S3.
Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from meeting_storage.core.analysis import ActionItem, Requirement, Summary
from meeting_storage.core.models import MeetingRecord

# PostgreSQL's tsvector holds at most 1 MB; an hour-long meeting is some 60,000 characters.
MAX_TRANSCRIPT_CHARS = 400_000


@dataclass(frozen=True)
class SearchText:
    """The searchable text of a meeting, one field per source."""

    summary: str = ""
    action_items: str = ""
    requirements: str = ""
    transcript: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.summary or self.action_items or self.requirements or self.transcript)


@dataclass(frozen=True)
class IndexEntry:
    """A record plus its search text: what `put_many` and `rebuild` take."""

    record: MeetingRecord
    text: SearchText = field(default_factory=SearchText)


def as_entry(item: IndexEntry | MeetingRecord) -> IndexEntry:
    return item if isinstance(item, IndexEntry) else IndexEntry(item)


def as_entries(items: Iterable[IndexEntry | MeetingRecord]) -> list[IndexEntry]:
    return [as_entry(item) for item in items]


def owners_of(items: Sequence[ActionItem]) -> tuple[str, ...]:
    """Distinct owners in order of first appearance."""
    seen: dict[str, str] = {}
    for item in items:
        owner = (item.owner or "").strip()
        if owner and owner.casefold() not in seen:
            seen[owner.casefold()] = owner
    return tuple(seen.values())


def with_action_item_facts(record: MeetingRecord, summary: Summary) -> MeetingRecord:
    """The record with its open-item count and owners taken from summary.json (the source)."""
    items = summary.action_items
    if not items and record.action_items_count:
        return record  # summary.json unreadable or missing: keep what metadata.json says
    return replace(
        record,
        open_action_items_count=sum(1 for item in items if item.is_open),
        action_item_owners=owners_of(items),
    )


def search_text_of(
    summary: Summary | None = None,
    requirements: Sequence[Requirement] = (),
    transcript: str = "",
) -> SearchText:
    """Flatten summary.json, requirements.json and the transcript into searchable text."""
    summary = summary or Summary()
    parts = [summary.text, *(decision.text for decision in summary.decisions)]
    actions = []
    for item in summary.action_items:
        owner = (item.owner or "").strip()
        text = item.text.strip()
        actions.append(f"{owner}: {text}" if owner else text)
    return SearchText(
        summary="\n".join(p for p in parts if p.strip()),
        action_items="\n".join(a for a in actions if a),
        requirements="\n".join(r.text for r in requirements if r.text.strip()),
        transcript=transcript[:MAX_TRANSCRIPT_CHARS],
    )
