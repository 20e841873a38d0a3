"""Listing and search with every index backend, side by side with the naive S3 scan.

Seeds N meetings' metadata.json into a real SeaweedFS server and the same meetings into
each index backend (S3 JSON on SeaweedFS, DynamoDB on dynalite, SQLite, PostgreSQL; bulk
`rebuild`, not N `process` calls), then measures, for each backend:

- list the newest 50 meetings (the first page);
- list page 20 (50 per page; the 19 pages before it are fetched untimed for the cursor);
- search a word that is in 1% of the summaries (first page of results);
- store one meeting (`process`: four S3 PUTs, metadata.json, the index write);

as the median wall time of several runs and the number of requests each took (S3 and
DynamoDB API calls counted on the boto3 clients, SQL statements on the SQLAlchemy engine).
The baseline is the naive scan: list the transcriptions/ prefix and GET every
metadata.json. Only metadata.json is seeded, so the baseline's LIST is four times shorter
than in a real bucket: the ratios are conservative.

Run with `make bench` (needs the npm dynalite and Debian's postgresql, as the tests do).
`python -m bench.list_index --meetings 1000` for a quicker run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from meeting_storage import MeetingStorage, Settings
from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.index import IndexEntry, SearchText
from meeting_storage.index.dynamodb import create_table
from meeting_storage.storage.aws import make_dynamodb_client
from meeting_storage.storage.embedded import EmbeddedS3
from tests.servers import PostgresServer, dynalite

KEY, SECRET = "bench-key", "bench-secret"
PAGE = 50
TARGET_PAGE = 20
SEARCH_WORD = "giraffe"
SAMPLE_TEXT = (
    "Alice: We decided to ship on Friday.\nBob: I will write the release notes by Thursday.\n"
    "Carol: The installer must support offline machines."
)
TOPICS = ["roadmap", "budget", "hiring", "launch", "retro", "security", "pricing", "support"]


@dataclass
class Row:
    backend: str
    first_ms: float
    first_requests: int
    page20_ms: float
    page20_requests: int
    search_ms: float
    search_requests: int
    store_ms: float
    store_requests: int
    search_note: str = ""


def make_entry(n: int, start: datetime) -> IndexEntry:
    topic = TOPICS[n % len(TOPICS)]
    owner = ["Alice", "Bob", "Carol", "Dave"][n % 4]
    record = MeetingRecord(
        meeting_id=f"meeting-{n:032x}",
        timestamp=start + timedelta(minutes=n),
        filename=f"{topic}-{n}.m4a",
        audio_s3_key=f"meetings/{n:032x}_{topic}-{n}.m4a",
        title=f"{topic.title()} sync {n}",
        tags=(topic,),
        action_items_count=2,
        open_action_items_count=n % 3 == 0,
        requirements_count=1,
        action_item_owners=(owner,),
        transcript_chars=900,
    )
    special = f" The {SEARCH_WORD} project came up." if n % 100 == 7 else ""
    text = SearchText(
        summary=f"The team discussed the {topic} plan for week {n % 52}.{special}",
        action_items=f"{owner}: follow up on the {topic} numbers\nBob: book the next review",
        requirements=f"The {topic} report must be ready before the review.",
        transcript=(
            f"Alice: Let us start with the {topic} update. " * 6
            + f"Bob: I will follow up on item {n}. " * 6
        ),
    )
    return IndexEntry(record, text)


def seed_metadata(storage: MeetingStorage, entries: list[IndexEntry]) -> None:
    def put(entry: IndexEntry) -> None:
        storage.documents.put(
            layout.metadata_key(entry.record.meeting_id),
            json.dumps(entry.record.to_dict()).encode(),
            "application/json",
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, entries))


class RequestCounter:
    """Counts S3 and DynamoDB API calls and SQL statements while active."""

    def __init__(self, storage: MeetingStorage) -> None:
        self.calls: Counter[str] = Counter()
        self.active = False
        storage.audio._client.meta.events.register("before-call.s3.*", self._api)
        client = getattr(storage.index, "_client", None)  # the DynamoDB backend's
        if client is not None:
            client.meta.events.register("before-call.dynamodb.*", self._api)
        engine = getattr(storage.index, "engine", None)
        if engine is not None:
            from sqlalchemy import event

            event.listen(engine, "before_cursor_execute", self._sql)

    def _api(self, model: Any, **_: Any) -> None:
        if self.active:
            self.calls[model.name] += 1

    def _sql(self, *args: Any, **_: Any) -> None:
        if self.active:
            self.calls["sql"] += 1

    def measure(self, action: Callable[[], object], repeats: int) -> tuple[float, int, Any]:
        times = []
        requests = 0
        result: Any = None
        for _ in range(repeats):
            self.calls.clear()
            self.active = True
            started = time.perf_counter()
            result = action()
            times.append(time.perf_counter() - started)
            self.active = False
            requests = sum(self.calls.values())
        return statistics.median(times) * 1000, requests, result


def naive_scan(storage: MeetingStorage, search: str | None = None) -> list[MeetingRecord]:
    """Listing without an index: LIST transcriptions/, GET every metadata.json, sort."""
    records = storage.iter_records()
    if search:
        records = (r for r in records if search in r.display_title.casefold())
    return sorted(records, key=lambda r: (r.timestamp, r.meeting_id), reverse=True)[:PAGE]


def page_cursor(storage: MeetingStorage, page: int) -> str | None:
    cursor = None
    for _ in range(page - 1):
        cursor = storage.list_meetings(limit=PAGE, cursor=cursor).next_cursor
    return cursor


@contextmanager
def servers(keep: ExitStack) -> Iterator[tuple[EmbeddedS3, str, PostgresServer]]:
    folder = Path(keep.enter_context(tempfile.TemporaryDirectory()))
    s3 = keep.enter_context(EmbeddedS3(folder / "s3", access_key=KEY, secret_key=SECRET))
    s3.ensure_bucket("warmup", timeout=90)
    dynamo = keep.enter_context(dynalite())
    postgres = PostgresServer().start()
    keep.callback(postgres.stop)
    yield s3, dynamo, postgres


def run(count: int, repeats: int) -> list[Row]:
    rows: list[Row] = []
    with ExitStack() as keep, servers(keep) as (s3, dynamo, postgres):
        folder = Path(keep.enter_context(tempfile.TemporaryDirectory()))
        bucket = f"bench-{count}"
        s3.ensure_bucket(
            bucket, versioned_and_encrypted=False
        )  # as the README tables were measured
        base = Settings(
            bucket=bucket,
            s3_endpoint_url=s3.endpoint_url,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            local_data_dir=folder,
        )
        start = datetime(2025, 1, 1, tzinfo=UTC)
        entries = [make_entry(n, start) for n in range(count)]
        print(f"seeding {count} metadata.json files into SeaweedFS ...", flush=True)
        seed_metadata(MeetingStorage(base), entries)

        backends = {
            "s3json (SeaweedFS)": base,
            "dynamodb (dynalite)": replace(
                base,
                index_backend="dynamodb",
                use_dynamodb=True,
                dynamodb_endpoint_url=dynamo,
                dynamodb_table_name="bench-meetings",
            ),
            "sqlite": replace(base, index_backend="sqlite"),
            "postgres": replace(
                base, index_backend="postgres", database_url=postgres.create_database("bench")
            ),
        }
        naive_storage = MeetingStorage(base)
        counter = RequestCounter(naive_storage)
        print("naive scan ...", flush=True)
        scan_ms, scan_requests, _ = counter.measure(lambda: naive_scan(naive_storage), 2)
        search_ms, search_requests, _ = counter.measure(
            lambda: naive_scan(naive_storage, "roadmap"), 1
        )
        rows.append(
            Row(
                "naive scan (S3)",
                scan_ms,
                scan_requests,
                scan_ms,
                scan_requests,
                search_ms,
                search_requests,
                float("nan"),
                0,
                "titles only",
            )
        )
        for label, settings in backends.items():
            print(f"{label}: seeding the index ...", flush=True)
            if settings.index_backend == "dynamodb":
                create_table(make_dynamodb_client(settings), settings.dynamodb_table_name)
            storage = MeetingStorage(settings)
            storage.index.rebuild(entries)
            storage.list_meetings(limit=1)  # connect, migrate, warm caches
            counter = RequestCounter(storage)
            first_ms, first_requests, _ = counter.measure(
                lambda s=storage: s.list_meetings(limit=PAGE), repeats
            )
            cursor = page_cursor(storage, TARGET_PAGE)
            page_ms, page_requests, page = counter.measure(
                lambda s=storage, c=cursor: s.list_meetings(limit=PAGE, cursor=c), repeats
            )
            expected_first = entries[-(TARGET_PAGE - 1) * PAGE - 1].record.meeting_id
            assert page.meetings[0].meeting_id == expected_first, "page 20 is wrong"
            found_ms, found_requests, found = counter.measure(
                lambda s=storage: s.list_meetings(limit=PAGE, search=SEARCH_WORD), repeats
            )
            assert len(found.meetings) == min(PAGE, count // 100), len(found.meetings)
            store_ms, store_requests, _ = counter.measure(
                lambda s=storage: s.process(SAMPLE_TEXT), repeats
            )
            rows.append(
                Row(
                    label,
                    first_ms,
                    first_requests,
                    page_ms,
                    page_requests,
                    found_ms,
                    found_requests,
                    store_ms,
                    store_requests,
                    "full text, ranked" if storage.index.full_text else "metadata + summaries",
                )
            )
            close = getattr(storage.index, "close", None)
            if close is not None:
                close()
    return rows


def table(rows: list[Row], count: int) -> str:
    naive = rows[0]

    def cell(ms: float, requests: int, baseline: float | None) -> str:
        if ms != ms:  # nan
            return "–"
        ratio = f" ({baseline / ms:,.0f}×)" if baseline is not None else ""
        return f"{ms:,.1f} ms / {requests}{ratio}"

    lines = [
        f"{count:,} meetings; median time / requests (× faster than the naive scan)",
        "",
        "| backend | newest 50 | page 20 | search a word | store one meeting | search covers |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        is_naive = row is naive
        lines.append(
            f"| {row.backend} "
            f"| {cell(row.first_ms, row.first_requests, None if is_naive else naive.first_ms)} "
            f"| {cell(row.page20_ms, row.page20_requests, None if is_naive else naive.page20_ms)} "
            f"| {cell(row.search_ms, row.search_requests, None if is_naive else naive.search_ms)} "
            f"| {cell(row.store_ms, row.store_requests, None)} "
            f"| {row.search_note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = run(args.meetings, args.repeats)
    print()
    print(table(rows, args.meetings))
    failures = [
        row.backend
        for row in rows[1:]
        if row.first_requests > 3 or rows[0].first_ms / row.first_ms < 50
    ]
    if failures and args.meetings >= 10_000:
        print(f"\nbelow target (≤3 requests, ≥50× faster for the first page): {failures}")


if __name__ == "__main__":
    main()
