"""Listing cost: the S3 JSON index against reading every metadata.json, on a real SeaweedFS server.

Prints a table of wall time and S3 requests for listing the newest 50 meetings out of N,
and for storing one meeting (which includes the conditional index update).
Run with `make bench`.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from meeting_storage import MeetingStorage, Settings, layout
from meeting_storage.embedded import EmbeddedS3
from meeting_storage.models import MeetingRecord

SIZES = (100, 1000, 5000)
REPEATS = 5
KEY, SECRET = "bench-key", "bench-secret"
SAMPLE_TEXT = "Alice: We decided to ship on Friday. Bob will write the release notes."


def count_requests(storage: MeetingStorage) -> Counter[str]:
    calls: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    storage.audio.client.meta.events.register("before-call.s3.*", hook)
    return calls


def seed(storage: MeetingStorage, count: int) -> None:
    """Write `count` metadata.json files and index them in one rebuild (fast set-up)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records = []
    for n in range(count):
        record = MeetingRecord(
            meeting_id=f"meeting-bench{n:06d}",
            timestamp=start + timedelta(minutes=n),
            filename=f"meeting-{n}.m4a",
            title=f"Weekly sync {n}",
        )
        storage.documents.put(
            layout.metadata_key(record.meeting_id),
            json.dumps(record.to_dict()).encode(),
            "application/json",
        )
        records.append(record)
    storage.index.rebuild(records)


def measure(action: Callable[[], object], calls: Counter[str]) -> tuple[float, int]:
    times = []
    requests = 0
    for _ in range(REPEATS):
        calls.clear()
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
        requests = sum(calls.values())
    return statistics.median(times) * 1000, requests


def scan_newest(storage: MeetingStorage, limit: int = 50) -> list[MeetingRecord]:
    """What listing costs without an index: a GET per metadata.json."""
    return sorted(storage.iter_records(), key=lambda r: r.timestamp, reverse=True)[:limit]


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        EmbeddedS3(Path(folder), access_key=KEY, secret_key=SECRET) as server,
    ):
        print(f"SeaweedFS at {server.endpoint_url}; median of {REPEATS} runs\n")
        header = f"{'meetings':>8} | {'index list ms':>13} | {'reqs':>4} | {'scan list ms':>12} | {'reqs':>5} | {'process ms':>10} | {'reqs':>4} | {'index KiB':>9}"
        print(header)
        print("-" * len(header))
        for size in SIZES:
            bucket = f"bench-{size}"
            server.ensure_bucket(bucket)
            settings = Settings(
                bucket=bucket,
                s3_endpoint_url=server.endpoint_url,
                aws_access_key_id=KEY,
                aws_secret_access_key=SECRET,
            )
            storage = MeetingStorage(settings)
            seed(storage, size)
            calls = count_requests(storage)
            list_ms, list_reqs = measure(lambda s=storage: s.list_meetings(limit=50), calls)
            scan_ms, scan_reqs = measure(lambda s=storage: scan_newest(s), calls)
            process_ms, process_reqs = measure(lambda s=storage: s.process(SAMPLE_TEXT), calls)
            index_size = storage.documents.get(layout.INDEX_KEY).data
            print(
                f"{size:>8} | {list_ms:>13.1f} | {list_reqs:>4} | {scan_ms:>12.1f} | "
                f"{scan_reqs:>5} | {process_ms:>10.1f} | {process_reqs:>4} | "
                f"{len(index_size) / 1024:>9.0f}"
            )


if __name__ == "__main__":
    main()
