"""What an index entry holds beyond metadata.json: the text that search looks in.

metadata.json stays small (it is read once per meeting by scans and `reindex`); the text a
search needs (summary, action items, requirements, transcript) is assembled here from the
meeting's other files, by `process` when it stores a meeting and by `reindex` from S3.
Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from meeting_storage.core.models import MeetingRecord

# PostgreSQL's tsvector holds at most 1 MB; an hour-long meeting is some 60,000 characters.
MAX_TRANSCRIPT_CHARS = 400_000
_DONE_STATES = {"done", "closed", "completed", "complete", "resolved"}


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


def is_open(item: Mapping[str, Any]) -> bool:
    """An action item is open unless it is marked done (`done: true` or a closed status)."""
    if item.get("done") is True:
        return False
    return str(item.get("status") or "").strip().lower() not in _DONE_STATES


def action_items_of(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = summary.get("action_items") if isinstance(summary, Mapping) else None
    return [item for item in items or [] if isinstance(item, Mapping)]


def owners_of(items: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """Distinct owners in order of first appearance."""
    seen: dict[str, str] = {}
    for item in items:
        owner = str(item.get("owner") or "").strip()
        if owner and owner.casefold() not in seen:
            seen[owner.casefold()] = owner
    return tuple(seen.values())


def with_action_item_facts(record: MeetingRecord, summary: Mapping[str, Any]) -> MeetingRecord:
    """The record with its open-item count and owners taken from summary.json (the source)."""
    items = action_items_of(summary)
    if not items and record.action_items_count:
        return record  # summary.json unreadable or missing: keep what metadata.json says
    return replace(
        record,
        open_action_items_count=sum(1 for item in items if is_open(item)),
        action_item_owners=owners_of(items),
    )


def search_text_of(
    summary: Mapping[str, Any] | None = None,
    requirements: Sequence[Any] | None = None,
    transcript: str = "",
) -> SearchText:
    """Flatten summary.json, requirements.json and the transcript into searchable text."""
    summary = summary if isinstance(summary, Mapping) else {}
    parts = [str(summary.get("summary") or "")]
    for decision in summary.get("decisions") or []:
        parts.append(
            str(decision.get("text", "")) if isinstance(decision, Mapping) else str(decision)
        )
    actions = []
    for item in action_items_of(summary):
        owner = str(item.get("owner") or "").strip()
        text = str(item.get("text") or "").strip()
        actions.append(f"{owner}: {text}" if owner else text)
    reqs = []
    for item in requirements or []:
        reqs.append(str(item.get("text", "")) if isinstance(item, Mapping) else str(item))
    return SearchText(
        summary="\n".join(p for p in parts if p.strip()),
        action_items="\n".join(a for a in actions if a),
        requirements="\n".join(r for r in reqs if r.strip()),
        transcript=transcript[:MAX_TRANSCRIPT_CHARS],
    )
