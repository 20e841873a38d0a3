"""The index contract: every backend passes the same tests.

Backends: the S3 JSON index on moto and on SeaweedFS, DynamoDB on moto and on dynalite,
SQLite, and PostgreSQL. What differs is declared by the backend (`full_text`): full-text
backends also find words in transcripts and requirements and rank results; the others
say what they searched in `search_note`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from meeting_storage import InvalidInputError, MeetingStorage, Settings
from meeting_storage.core.models import MeetingRecord
from meeting_storage.index import IndexEntry, MeetingFilter, MeetingIndex, SearchText
from meeting_storage.index.query import HIGHLIGHT

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def index(indexed_storage: MeetingStorage) -> Iterator[MeetingIndex]:
    yield indexed_storage.index


def record(n: int, **changes: object) -> MeetingRecord:
    base = MeetingRecord(
        meeting_id=f"meeting-{n:032x}",
        timestamp=START + timedelta(hours=n),
        filename=f"sync-{n}.m4a",
        title=f"Weekly sync {n}",
        action_items_count=2,
        open_action_items_count=n % 2,
        action_item_owners=("Carol",) if n % 3 == 0 else ("Dave",),
        extraction_method="bedrock" if n == 4 else "rule_based",
        tags=("team",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def entry(n: int, **changes: object) -> IndexEntry:
    return IndexEntry(
        record(n, **changes),
        SearchText(
            summary=f"The team reviewed item {n} of the plan.",
            action_items=f"Carol: send the notes for item {n}",
            requirements="The device must survive a drop test." if n == 2 else "",
            transcript="Bob: the giraffe budget was approved." if n == 5 else "Bob: nothing new.",
        ),
    )


def ids_of(page_records: list[MeetingRecord]) -> list[str]:
    return [r.meeting_id for r in page_records]


def walk(index: MeetingIndex, limit: int, **kwargs: object) -> list[str]:
    """Every id a listing returns, page by page."""
    seen: list[str] = []
    cursor = None
    for _ in range(50):
        page = index.list(limit, cursor, **kwargs)  # type: ignore[arg-type]
        assert len(page.meetings) <= limit
        seen += ids_of(page.meetings)
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def test_put_get_round_trip(index: MeetingIndex) -> None:
    original = record(
        1,
        duration_seconds=1234.5,
        audio_size=98765,
        content_type="audio/mp4",
        processing_cost_usd=Decimal("0.5377608"),
        transcribed_seconds=1234.5,
        bedrock_model_id="anthropic.claude-3-haiku-20240307-v1:0",
        bedrock_input_tokens=4915,
        bedrock_output_tokens=812,
    )
    index.put(original, SearchText(summary="hello"))
    assert index.get(original.meeting_id) == original
    assert index.get(record(2).meeting_id) is None
    changed = replace(original, title="Renamed")
    index.put(changed)  # put replaces
    assert index.get(original.meeting_id) == changed
    assert ids_of(index.list().meetings) == [original.meeting_id]


def test_newest_first_with_cursor(index: MeetingIndex) -> None:
    entries = [entry(n) for n in range(7)]
    # Two meetings at the same moment: the id breaks the tie, descending.
    entries.append(IndexEntry(record(3, meeting_id="meeting-" + "f" * 32)))
    assert index.put_many(entries) == 8
    expected = [
        e.record.meeting_id
        for e in sorted(
            entries, key=lambda e: (e.record.timestamp, e.record.meeting_id), reverse=True
        )
    ]
    assert ids_of(index.list(limit=50).meetings) == expected
    first = index.list(limit=3)
    assert ids_of(first.meetings) == expected[:3] and first.next_cursor
    assert walk(index, 3) == expected
    assert walk(index, 4) == expected  # an exact multiple ends without an empty page
    assert walk(index, 1) == expected
    with pytest.raises(InvalidInputError):
        index.list(cursor="not-a-cursor")
    with pytest.raises(InvalidInputError):
        index.list(limit=0)


def test_delete_ids_and_rebuild(index: MeetingIndex) -> None:
    index.put_many([entry(n) for n in range(5)])
    assert index.ids() == {record(n).meeting_id for n in range(5)}
    assert index.delete(record(1).meeting_id) is True
    assert index.delete(record(1).meeting_id) is False
    index.delete_many([record(2).meeting_id, record(3).meeting_id])
    assert index.ids() == {record(0).meeting_id, record(4).meeting_id}
    assert set(ids_of(index.list(search="item").meetings)) == {
        record(0).meeting_id,
        record(4).meeting_id,
    }
    assert index.rebuild([entry(7), record(8)]) == 2
    assert index.ids() == {record(7).meeting_id, record(8).meeting_id}
    assert index.get(record(0).meeting_id) is None
    assert index.rebuild([]) == 0
    assert index.ids() == set()


def test_many_entries_in_batches(index: MeetingIndex) -> None:
    index.put_many([IndexEntry(record(n)) for n in range(60)])
    assert len(index.ids()) == 60
    assert walk(index, 25) == [record(n).meeting_id for n in reversed(range(60))]
    assert index.delete_many([record(n).meeting_id for n in range(30)]) >= 30
    assert len(index.ids()) == 30


def test_filters(index: MeetingIndex) -> None:
    index.put_many([entry(n) for n in range(8)])

    def listed(**filters: object) -> list[int]:
        page = index.list(limit=100, filters=MeetingFilter(**filters))  # type: ignore[arg-type]
        return sorted(int(r.meeting_id.removeprefix("meeting-"), 16) for r in page.meetings)

    assert listed(date_from=START + timedelta(hours=2), date_to=START + timedelta(hours=5)) == [
        2,
        3,
        4,
    ]
    assert listed(date_from=START + timedelta(hours=6)) == [6, 7]
    assert listed(date_to=START + timedelta(hours=1)) == [0]
    assert listed(has_open_action_items=True) == [1, 3, 5, 7]
    assert listed(has_open_action_items=False) == [0, 2, 4, 6]
    assert listed(extraction_method="bedrock") == [4]
    assert listed(owner="carol") == [0, 3, 6]
    assert listed(owner=" CAROL ", has_open_action_items=True) == [3]
    assert listed(owner="nobody") == []
    paged = walk(index, 2, filters=MeetingFilter(owner="Dave"))
    assert paged == [record(n).meeting_id for n in (7, 5, 4, 2, 1)]
    with pytest.raises(InvalidInputError):
        MeetingFilter(date_from=START, date_to=START)


def test_search_metadata_summaries_and_action_items(index: MeetingIndex) -> None:
    index.put_many([entry(n) for n in range(6)])
    index.put(record(9, title="Quarterly roadmap", action_item_owners=()))  # no search text

    def found(words: str, **kwargs: object) -> set[str]:
        page = index.list(limit=100, search=words, **kwargs)  # type: ignore[arg-type]
        assert (page.search_note is None) == index.full_text
        assert page.ranked == index.full_text
        for meeting_id in ids_of(page.meetings):
            assert HIGHLIGHT in page.snippets[meeting_id], page.snippets
        return set(ids_of(page.meetings))

    assert found("roadmap") == {record(9).meeting_id}
    assert found("ROADMAP quarterly") == {record(9).meeting_id}
    assert found("reviewed") == {record(n).meeting_id for n in range(6)}  # summaries
    assert found("notes item 3") == {record(3).meeting_id}  # action items
    assert found("sync", filters=MeetingFilter(owner="carol")) == {
        record(0).meeting_id,
        record(3).meeting_id,
    }
    assert found("zebra") == set()
    # Transcripts and requirements only with a full-text engine.
    assert found("giraffe") == ({record(5).meeting_id} if index.full_text else set())
    assert found("drop test") == ({record(2).meeting_id} if index.full_text else set())
    snippet = index.list(search="roadmap").snippets[record(9).meeting_id]
    assert f"{HIGHLIGHT}roadmap{HIGHLIGHT}" in snippet.lower()


def test_search_pages_without_repeats(index: MeetingIndex) -> None:
    index.put_many([entry(n) for n in range(7)])
    everything = set(ids_of(index.list(limit=100, search="reviewed").meetings))
    assert len(everything) == 7
    paged = walk(index, 3, search="reviewed")
    assert len(paged) == 7 and set(paged) == everything
    first = index.list(limit=3, search="reviewed")
    if index.full_text:  # a ranked page's cursor belongs to its search
        with pytest.raises(InvalidInputError):
            index.list(limit=3, search="plan", cursor=first.next_cursor)


def test_search_order_is_ranked_or_newest_first(index: MeetingIndex) -> None:
    """Full-text backends rank title matches first; the others return matches newest first
    and say that their search is limited (transcripts are not searched)."""
    index.put(record(1, title="Budget review"), SearchText(transcript="we met"))
    index.put(record(2, title="Standup"), SearchText(transcript="later the budget came up"))
    index.put(record(3, title="Retro"), SearchText(summary="The budget is fine."))
    page = index.list(search="budget")
    if index.full_text:
        assert ids_of(page.meetings) == [record(n).meeting_id for n in (1, 3, 2)]
        assert "budget" in page.snippets[record(2).meeting_id].lower()
    else:
        assert ids_of(page.meetings) == [record(n).meeting_id for n in (3, 1)]
        assert page.search_note


def test_check_describes_the_backend(index: MeetingIndex, backend_settings: Settings) -> None:
    assert index.name == backend_settings.index_backend
    assert index.check()
    assert "password" not in index.describe()
