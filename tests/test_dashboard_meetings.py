"""Meetings page: the table, search, date range, paging, opening a row, and 10,000 meetings."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from meeting_storage import MeetingRecord, MeetingStorage
from meeting_storage.core import layout
from tests.conftest import SAMPLE_TRANSCRIPT, app_test, unescape

MEETINGS = "pages/2_Meetings.py"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def seed(storage: MeetingStorage, count: int, *, with_files: bool = False) -> list[MeetingRecord]:
    """`count` meetings a day apart (newest last), indexed with one rebuild."""
    records = [
        MeetingRecord(
            meeting_id=f"meeting-{n:06d}",
            timestamp=START + timedelta(days=n),
            filename=f"recording-{n}.m4a",
            title=("Budget review" if n % 10 == 0 else "Weekly sync") + f" {n}",
            action_items_count=n % 5,
            requirements_count=n % 3,
            audio_size=1_000_000 + n,
            duration_seconds=1800.0 + n,
            action_item_owners=("Carol",) if n % 7 == 0 else ("Dave",),
        )
        for n in range(count)
    ]
    if with_files:
        for record in records:
            storage.documents.put(
                layout.metadata_key(record.meeting_id),
                json.dumps(record.to_dict()).encode(),
                "application/json",
            )
    storage.index.rebuild(records)
    return records


def open_meetings() -> Any:
    at = app_test().run()
    at.switch_page(MEETINGS).run()
    assert not at.exception
    return at


def shown(at: Any) -> list[str]:
    return list(at.dataframe[0].value["Title"]) if at.dataframe else []


def test_empty_store(dashboard: MeetingStorage) -> None:
    at = open_meetings()
    assert [i.value for i in at.info] == ["No meetings stored yet."]
    assert any(link.proto.label == "Upload a recording" for link in at.page_link)


def test_table_columns_newest_first(dashboard: MeetingStorage) -> None:
    seed(dashboard, 3)
    at = open_meetings()
    frame = at.dataframe[0].value
    assert list(frame["Title"]) == ["Weekly sync 2", "Weekly sync 1", "Budget review 0"]
    assert list(frame.columns) == [
        "Date",
        "Title",
        "Duration",
        "Actions",
        "Requirements",
        "Extraction",
        "Status",
        "Size",
        "Link",
        "Meeting id",
    ]
    # Typed columns, so a click on a header sorts by value (dates, durations, bytes).
    assert str(frame["Date"].dtype).startswith("datetime64")
    assert str(frame["Duration"].dtype).startswith("timedelta64")
    assert frame["Size"].tolist() == [1_000_002, 1_000_001, 1_000_000]
    assert frame["Link"].tolist()[0] == "Meeting?id=meeting-000002"
    assert "newest first" in at.caption[0].value


def test_search(dashboard: MeetingStorage) -> None:
    seed(dashboard, 30)
    at = open_meetings()
    at.text_input(key="meetings_search").input("budget").run()
    assert shown(at) == ["Budget review 20", "Budget review 10", "Budget review 0"]
    at.text_input(key="meetings_search").input("nothing-like-this").run()
    assert [i.value for i in at.info] == ["No meetings match these filters."]


def test_owner_filter(dashboard: MeetingStorage) -> None:
    seed(dashboard, 30)
    at = open_meetings()
    at.text_input(key="meetings_owner").input("carol").run()
    assert shown(at) == [
        f"{'Budget review' if n % 10 == 0 else 'Weekly sync'} {n}" for n in (28, 21, 14, 7, 0)
    ]


def test_search_shows_where_it_matched(dashboard: MeetingStorage) -> None:
    dashboard.process(SAMPLE_TRANSCRIPT, title="Launch plan")
    dashboard.process("Ann: We talked about the **office** party [link](http://x).", title="Party")
    at = open_meetings()
    at.text_input(key="meetings_search").input("batteries").run()
    frame = at.dataframe[0].value
    assert list(frame["Title"]) == ["Launch plan"]
    assert "rechargeable batteries" in frame["Match"][0] and "**" not in frame["Match"][0]
    assert any("summaries and action items" in unescape(c.value) for c in at.caption)
    at.text_input(key="meetings_search").input("office").run()
    # Shown as plain text in a table cell: the link stays text.
    assert "the office party [link](http://x)" in at.dataframe[0].value["Match"][0]


def test_date_range(dashboard: MeetingStorage) -> None:
    seed(dashboard, 30)
    at = open_meetings()
    at.date_input(key="meetings_dates").set_value((date(2026, 3, 5), date(2026, 3, 8))).run()
    assert shown(at) == [f"Weekly sync {n}" for n in (7, 6, 5, 4)]
    at.date_input(key="meetings_dates").set_value((date(2026, 3, 11),)).run()
    assert shown(at) == ["Budget review 10"]


def test_paging_older_and_newer(dashboard: MeetingStorage) -> None:
    seed(dashboard, 60)
    at = open_meetings()
    at.selectbox(key="meetings_page_size").set_value(25).run()
    assert len(shown(at)) == 25 and shown(at)[0] == "Weekly sync 59"
    older = lambda: next(b for b in at.button if b.label == "Older →")  # noqa: E731
    newer = lambda: next(b for b in at.button if b.label == "← Newer")  # noqa: E731
    assert newer().disabled
    older().click().run()
    assert shown(at)[0] == "Weekly sync 34" and "Meetings 26–50" in at.caption[0].value
    older().click().run()
    assert len(shown(at)) == 10 and shown(at)[-1] == "Budget review 0"
    assert older().disabled
    newer().click().run()
    assert shown(at)[0] == "Weekly sync 34"
    # Changing a filter starts again at page one.
    at.text_input(key="meetings_search").input("weekly").run()
    assert shown(at)[0] == "Weekly sync 59" and "Page 1" in [m.value for m in at.markdown]


def test_date_range_with_paging(dashboard: MeetingStorage) -> None:
    seed(dashboard, 80)
    at = open_meetings()
    at.selectbox(key="meetings_page_size").set_value(25).run()
    at.date_input(key="meetings_dates").set_value((date(2026, 3, 11), date(2026, 4, 19))).run()
    titles = shown(at)
    next(b for b in at.button if b.label == "Older →").click().run()
    titles += shown(at)
    assert [int(t.rsplit(" ", 1)[1]) for t in titles] == list(range(49, 9, -1))


def test_selecting_a_row_opens_the_meeting(dashboard: MeetingStorage) -> None:
    records = seed(dashboard, 3, with_files=True)
    at = open_meetings()
    at.session_state["meetings_table_1"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params == {"id": records[1].meeting_id}
    assert unescape(at.title[0].value) == records[1].title


def test_a_damaged_index_is_explained(dashboard: MeetingStorage) -> None:
    dashboard.documents.put(layout.INDEX_KEY, b"{not json", "application/json")
    at = open_meetings()
    (error,) = [unescape(e.value) for e in at.error]
    assert error.startswith("**Invalid input.**") and "reindex" in error


@pytest.mark.parametrize("count", [10_000])
def test_ten_thousand_meetings_render_the_first_page_from_the_index_alone(
    dashboard: MeetingStorage, count: int
) -> None:
    seed(dashboard, count)
    requests: list[tuple[str, str]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        requests.append((model.name, str(params.get("Key", ""))))

    dashboard.audio._client.meta.events.register("before-parameter-build.s3.*", record)
    at = app_test().run()
    requests.clear()
    started = time.perf_counter()
    at.switch_page(MEETINGS).run()
    elapsed = time.perf_counter() - started
    assert not at.exception
    assert len(shown(at)) == 50 and shown(at)[0] == f"Weekly sync {count - 1}"
    # One read of the index; no meeting's own files.
    assert requests == [("GetObject", layout.INDEX_KEY)]
    print(f"\nfirst render of the Meetings page with {count:,} meetings: {elapsed * 1000:.0f} ms")
    assert elapsed < 20
