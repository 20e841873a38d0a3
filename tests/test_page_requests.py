"""The home and Costs pages read a constant number of S3 and index requests, whatever the
number of meetings: the running totals, one index page, and the bucket's cached set-up."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meeting_storage import MeetingStorage
from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.index import aggregates
from tests import operation_recorder
from tests.conftest import app_test

MAX_REQUESTS = 10


def seed(storage: MeetingStorage, count: int) -> None:
    """`count` meetings in the index and the totals (no objects: the pages must not list)."""
    now = datetime.now(UTC)
    records = [
        MeetingRecord(
            meeting_id=f"meeting-seed{n:06d}",
            timestamp=now - timedelta(hours=n * 7),
            filename=f"sync-{n}.m4a",
            audio_s3_key=f"{layout.AUDIO_PREFIX}{n:032x}_sync-{n}.m4a",
            title=f"Sync {n}",
            audio_size=20_000_000 + n,
            duration_seconds=1800.0,
            document_bytes=40_000,
            document_objects=4,
        )
        for n in range(count)
    ]
    storage.index.put_many(records)
    counters = aggregates.total(records)
    counters[aggregates.RECONCILED_AT] = int(now.timestamp())
    storage.aggregates.replace(counters)


def requests_of(at: Any, page: str | None = None) -> Counter[str]:
    with operation_recorder.capture() as calls:
        if page is not None:
            at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return Counter(f"{call.service}:{call.operation}" for call in calls)


@pytest.mark.parametrize("count", [50, 2_000])
def test_home_and_costs_pages_make_a_bounded_number_of_requests(
    dashboard: MeetingStorage, count: int
) -> None:
    seed(dashboard, count)
    at = app_test()
    home = requests_of(at)
    assert sum(home.values()) <= MAX_REQUESTS, home
    assert "s3:ListObjectsV2" not in home
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Meetings"] == f"{count:,}"
    assert any("checked against a listing of the bucket as of" in c.value for c in at.caption)

    costs = requests_of(at, "pages/4_Costs.py")
    assert sum(costs.values()) <= MAX_REQUESTS, costs
    assert "s3:ListObjectsV2" not in costs
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Meetings"] == f"{count:,}"
