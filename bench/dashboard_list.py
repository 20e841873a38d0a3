"""The Meetings page with many meetings: time to render its first page, and what it reads.

Seeds the index of a moto bucket with N meetings (one `rebuild`, no per-meeting files, as
the page must never read them) and renders the page in Streamlit's AppTest: the first page,
the next page (the first one cached), a date range far in the past, and a search. Prints
wall time (median of a few runs, caches cleared before each) and S3 requests.
Run with `make bench`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.dashboard_env import median_render, moto_dashboard

SIZES = (1_000, 10_000)
REPEATS = 3
BUCKET = "bench-dashboard"


def seed(storage: Any, count: int) -> None:
    from meeting_storage import MeetingRecord

    start = datetime(2024, 1, 1, tzinfo=UTC)
    storage.index.rebuild(
        MeetingRecord(
            meeting_id=f"meeting-bench{n:06d}",
            timestamp=start + timedelta(hours=n),
            filename=f"meeting-{n}.m4a",
            title=f"Weekly sync {n}",
            action_items_count=n % 5,
            audio_size=40_000_000 + n,
            duration_seconds=1800.0 + n,
        )
        for n in range(count)
    )


def render(action: str) -> tuple[float, int]:
    """Milliseconds to render the Meetings page after `action`, and S3 requests made."""

    def prepare(at: Any) -> None:
        if action == "date range":
            at.session_state["meetings_dates"] = (date(2024, 1, 2), date(2024, 1, 3))
        if action == "search":
            at.session_state["meetings_search"] = "sync 42"
        if action == "next page":
            at.run()  # the first page, now cached as it would be
            next(b for b in at.button if b.label == "Older →").click()

    def check(at: Any) -> None:
        assert len(at.dataframe[0].value) > 0

    return median_render("pages/2_Meetings.py", prepare, check, repeats=REPEATS, timeout=120)


def main() -> None:
    import streamlit as st

    with moto_dashboard(BUCKET):
        from ui import service

        print(f"Meetings page in AppTest on moto; median of {REPEATS} runs, caches cleared\n")
        header = f"{'meetings':>8} | {'page':<10} | {'render ms':>9} | {'S3 requests':>11}"
        print(header)
        print("-" * len(header))
        for size in SIZES:
            st.cache_resource.clear()
            seed(service.get_storage(), size)
            for action in ("first page", "next page", "date range", "search"):
                ms, requests = render(action)
                print(f"{size:>8,} | {action:<10} | {ms:>9.0f} | {requests:>11}")


if __name__ == "__main__":
    main()
