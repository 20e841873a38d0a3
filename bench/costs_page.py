"""The Costs page with many meetings: time to render it, and what it reads.

Seeds a moto bucket with N meetings (the index, plus a recording and the four documents of
each, as `process` writes them) and renders the Costs page in Streamlit's AppTest: the first
render with caches cleared (it lists the whole bucket and the index), and a rerun after a
what-if input changes (the listing is cached; the cost model runs again). Prints wall time
(median of a few runs) and S3 requests. Run with `make bench`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.dashboard_env import median_render, moto_dashboard

SIZES = (1_000, 5_000)
REPEATS = 3
BUCKET = "bench-costs"


def seed(storage: Any, count: int) -> None:
    from meeting_storage import MeetingRecord
    from meeting_storage.core import layout

    start = datetime.now(UTC) - timedelta(days=365)
    records = []
    for n in range(count):
        meeting_id = f"meeting-bench{n:06d}"
        audio_key = f"{layout.AUDIO_PREFIX}{n:032x}_meeting-{n}.m4a"
        record = MeetingRecord(
            meeting_id=meeting_id,
            timestamp=start + timedelta(hours=n * 365 * 24 // count),
            filename=f"meeting-{n}.m4a",
            audio_s3_key=audio_key,
            title=f"Weekly sync {n}",
            audio_size=1_000 + n,
            duration_seconds=1800.0 + n,
        )
        storage.audio.put(audio_key, b"a" * (1_000 + n), "audio/mp4")
        for name in layout.MEETING_FILES:
            key = layout.meeting_file_key(meeting_id, name)
            storage.audio.put(key, b"{}" * 200, "application/json")
        records.append(record)
    storage.index.rebuild(records)


def render(action: str) -> tuple[float, int]:
    """Milliseconds to render the Costs page after `action`, and S3 requests made."""

    def prepare(at: Any) -> None:
        if action == "what-if change":
            at.run()  # the first render, now cached as it would be
            widget = next(w for w in at.number_input if w.label == "Meetings per month")
            widget.set_value(500)

    def check(at: Any) -> None:
        assert any(m.label == "Next 12 months" for m in at.metric)

    return median_render("pages/4_Costs.py", prepare, check, repeats=REPEATS, timeout=300)


def main() -> None:
    import streamlit as st

    with moto_dashboard(BUCKET):
        from ui import service

        print(f"Costs page in AppTest on moto; median of {REPEATS} runs\n")
        header = (
            f"{'meetings':>8} | {'objects':>7} | {'render':<15} | {'ms':>6} | {'S3 requests':>11}"
        )
        print(header)
        print("-" * len(header))
        for size in SIZES:
            st.cache_resource.clear()
            storage = service.get_storage()
            seed(storage, size)  # the index is rebuilt with exactly `size` meetings
            objects = sum(1 for _ in storage.audio.iter_objects(""))
            for action in ("first (cold)", "what-if change"):
                ms, requests = render(action)
                print(f"{size:>8,} | {objects:>7,} | {action:<15} | {ms:>6.0f} | {requests:>11}")


if __name__ == "__main__":
    main()
