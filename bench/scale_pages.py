"""The dashboard's first pages at scale: home, Meetings and Costs at 1,000 to 100,000 meetings.

Seeds a moto bucket through the package, not the command line: the index entries in one
`put_many` and the running totals with `aggregates.replace` (no per-meeting objects: a page
that listed the bucket or read a meeting's files would show it in its requests), then
renders each page's first view in Streamlit's AppTest with every data cache cleared. Prints
wall time (median of a few runs), S3 requests, index requests (SQL statements; the S3 JSON
index's requests are S3 requests), bytes the render wrote, and the process's peak RSS.

Each size runs in its own process so the peak RSS is that size's. Index backends: SQLite
(a query per page) and the S3 JSON index (one object, read whole: see docs/benchmarks.md).

    python -m bench.scale_pages                       # the whole table (`make bench-scale`)
    python -m bench.scale_pages --sizes 1000 --backends sqlite
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.dashboard_env import ROOT, moto_dashboard

SIZES = (1_000, 10_000, 100_000)
BACKENDS = ("sqlite", "s3json")
REPEATS = 3
BUCKET = "bench-scale"
PAGES = (
    ("home", None, "Meetings"),
    ("Meetings", "pages/2_Meetings.py", None),
    ("Costs", "pages/4_Costs.py", "Next 12 months"),
)
HEADER = (
    f"{'backend':<7} | {'meetings':>8} | {'page':<8} | {'ms':>6} | {'S3 req':>6} | "
    f"{'index req':>9} | {'written':>7} | {'peak RSS':>8}"
)


def seed(storage: Any, count: int) -> float:
    """`count` meetings over the last three years in the index and the totals; seconds."""
    from meeting_storage import MeetingRecord
    from meeting_storage.core import layout
    from meeting_storage.index import aggregates

    started = time.perf_counter()
    now = datetime.now(UTC)
    step = timedelta(days=3 * 365) / count
    records = [
        MeetingRecord(
            meeting_id=f"meeting-scale{n:07d}",
            timestamp=now - step * n,
            filename=f"sync-{n}.m4a",
            audio_s3_key=f"{layout.AUDIO_PREFIX}{n:032x}_sync-{n}.m4a",
            title=f"Weekly sync {n}",
            action_items_count=n % 5,
            audio_size=30_000_000 + n,
            duration_seconds=1800.0 + n % 600,
            document_bytes=45_000 + n % 1000,
            document_objects=4,
        )
        for n in range(count)
    ]
    storage.index.put_many(records)
    counters = aggregates.total(records)
    counters[aggregates.RECONCILED_AT] = int(now.timestamp())
    storage.aggregates.replace(counters)
    return time.perf_counter() - started


@contextmanager
def counting(storage: Any) -> Iterator[Counter[str]]:
    """S3 requests, bytes written to S3 and SQL statements while the block runs."""
    counts: Counter[str] = Counter()
    client = storage.audio._client

    def s3_call(model: Any, params: Any, **_: Any) -> None:
        counts["s3"] += 1
        body = params.get("Body") if isinstance(params, dict) else None
        if isinstance(body, bytes | bytearray):
            counts["written"] += len(body)

    def statement(*_: Any, **__: Any) -> None:
        counts["index"] += 1

    client.meta.events.register("before-call.s3.*", s3_call)
    engine = getattr(storage.index, "engine", None)
    if engine is not None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", statement)
    try:
        yield counts
    finally:
        client.meta.events.unregister("before-call.s3.*", s3_call)
        if engine is not None:
            from sqlalchemy import event

            event.remove(engine, "before_cursor_execute", statement)


def render(storage: Any, page: str | None, metric: str | None) -> tuple[float, Counter[str]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    times = []
    counts: Counter[str] = Counter()
    for _ in range(REPEATS):
        st.cache_data.clear()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        if page is not None:
            at.switch_page(page)
        with counting(storage) as measured:
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        counts = measured  # one render's: the last
        assert not at.exception, at.exception
        if metric is not None:
            assert any(m.label == metric for m in at.metric), [m.label for m in at.metric]
        else:
            assert at.dataframe, "no table of meetings"
    return statistics.median(times) * 1000, counts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def one_size(backend: str, size: int) -> None:
    """Seed `size` meetings and print one row per page (run in a process of its own)."""
    with moto_dashboard(f"{BUCKET}-{backend}-{size}"):
        if backend == "sqlite":
            os.environ["INDEX_BACKEND"] = "sqlite"
        from ui import service

        storage = service.get_storage()
        seconds = seed(storage, size)
        print(f"# seeded {size:,} meetings ({backend}) in {seconds:.1f} s", file=sys.stderr)
        for name, page, metric in PAGES:
            ms, counts = render(storage, page, metric)
            print(
                f"{backend:<7} | {size:>8,} | {name:<8} | {ms:>6.0f} | {counts['s3']:>6} | "
                f"{counts['index']:>9} | {counts['written']:>7} | {peak_rss_mb():>6.0f} MB",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--one", nargs=2, metavar=("BACKEND", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_size(args.one[0], int(args.one[1]))
        return
    print(
        "First render of each page in AppTest on moto, data caches cleared; median of "
        f"{REPEATS} runs. Requests and bytes written are one render's.\n"
    )
    print(HEADER)
    print("-" * len(HEADER))
    for backend in args.backends:
        for size in args.sizes:
            subprocess.run(
                [sys.executable, "-m", "bench.scale_pages", "--one", backend, str(size)],
                check=True,
                cwd=ROOT,
            )


if __name__ == "__main__":
    main()
