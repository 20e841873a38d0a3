"""Date-bounded listing over the index's own pages, and the storage footprint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meeting_storage import InvalidInputError, MeetingStorage
from meeting_storage.core import layout
from tests.conftest import SAMPLE_TRANSCRIPT

START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def ten_days(moto_storage: MeetingStorage) -> list[str]:
    return [
        moto_storage.process(
            f"Alice: Day {n} review.", recorded_at=START + timedelta(days=n)
        ).record.meeting_id
        for n in range(10)
    ]


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_date_bounds_page_correctly_whatever_the_scan_size(
    moto_storage: MeetingStorage,
    ten_days: list[str],
    limit: int,
) -> None:
    since, until = START + timedelta(days=2), START + timedelta(days=8)
    expected = list(reversed(ten_days[2:8]))
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = moto_storage.list_meetings(limit, cursor, since=since, until=until)
        assert len(page.meetings) <= limit
        seen += [record.meeting_id for record in page.meetings]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_date_bounds_combine_with_search(moto_storage: MeetingStorage) -> None:
    for n, title in enumerate(["Retro", "Planning", "Retro"]):
        moto_storage.process(SAMPLE_TRANSCRIPT, title=title, recorded_at=START + timedelta(days=n))
    page = moto_storage.list_meetings(search="retro", since=START + timedelta(hours=1))
    assert [r.title for r in page.meetings] == ["Retro"]
    with pytest.raises(InvalidInputError, match="start date must be before"):
        moto_storage.list_meetings(since=START, until=START)


def test_footprint_counts_every_prefix(moto_storage: MeetingStorage) -> None:
    moto_storage.process(SAMPLE_TRANSCRIPT)
    footprint = moto_storage.footprint()
    usage = {u.prefix: u for u in footprint.prefixes}
    assert set(usage) == {layout.AUDIO_PREFIX, layout.TRANSCRIPTIONS_PREFIX, layout.INDEX_PREFIX}
    assert usage[layout.AUDIO_PREFIX].objects == 0
    assert usage[layout.TRANSCRIPTIONS_PREFIX].objects == 4
    # The locator, the month, the manifest and the totals (index/aggregates.json).
    assert usage[layout.INDEX_PREFIX].objects == 4
    total = sum(
        info.size
        for info in moto_storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    )
    assert footprint.bytes_by_class == {"STANDARD": total}
    assert footprint.written_recently == 4 + 4  # four documents, four index objects
    later = moto_storage.footprint(now=datetime.now(UTC) + timedelta(days=31))
    assert later.written_recently == 0
