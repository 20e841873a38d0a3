"""The index at 1,000 / 10,000 / 100,000 meetings: what a write costs and how fast search is.

Writes (S3 JSON index on the embedded SeaweedFS server): the index is seeded through the
package (`rebuild`, one meeting an hour up to now, so every size has the same number of
meetings a month), then

- one `process` (a pasted transcript): bytes written to the index and in all, and its time;
- 20 `process` calls at once (20 threads, each its own `MeetingStorage`): wall time, and
  that all 20 are listed afterwards;

next to the baseline of the single-object layout of earlier versions, whose every write
rewrote `index/meetings.json` and `index/search.json` whole (their size, computed from the
same entries).

Search: the same meetings with transcripts of realistic length (`--words`, default 3,000
words, about a 20-minute meeting; filler plus the words of the meeting's topic) in SQLite
(FTS5) and PostgreSQL (tsvector + GIN), and with their summaries in the S3 JSON index. The
first page (50) of: a rare word (in 1% of the summaries), a topic word (in the titles,
summaries and transcripts of 1 in 8 meetings), two words said in 1 in 8 transcripts but in
no title or summary, and a word said in most transcripts and no title or summary (the
slowest kind: every meeting that contains it is sorted by date); median of 5 runs.

`make bench-scale` runs every size; `python -m bench.scale_index --meetings 1000 10000` a
part of it, `--only writes` or `--only search` one table.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from meeting_storage import MeetingStorage, Settings
from meeting_storage.core.models import MeetingRecord
from meeting_storage.index import IndexEntry, SearchText
from meeting_storage.index.s3json import compact_entry
from meeting_storage.storage.embedded import EmbeddedS3
from tests.servers import PostgresServer

KEY, SECRET = "bench-key", "bench-secret"
SIZES = (1_000, 10_000, 100_000)
CONCURRENT = 20
PAGE = 50
RARE = "giraffe"
TOPICS = ["roadmap", "budget", "hiring", "launch", "retro", "security", "pricing", "support"]
SAMPLE_TEXT = (
    "Alice: We decided to ship on Friday.\nBob: I will write the release notes by Thursday.\n"
    "Carol: The installer must support offline machines."
)
# Spoken filler every meeting uses, and words each topic brings (a budget meeting talks of
# invoices and vendors): transcripts are bursty, as real ones are, not drawn from one bag.
_GENERAL = (
    "the a we to and of is that it for on this be with as have so I you they will do not "
    "but can what about just think need know get go one some would like there more time "
    "then make should because really also right well okay yeah so team week number"
).split()
_TOPIC_WORDS = {
    "roadmap": "milestone quarter feature priority backlog epic dependency estimate",
    "budget": "invoice vendor spend forecast contract approval finance headcount",
    "hiring": "candidate interview offer recruiter onboarding referral salary panel",
    "launch": "announcement campaign press checklist rollout beta waitlist landing",
    "retro": "went wrong improve blameless incident postmortem action learning",
    "security": "vulnerability patch audit encryption credential phishing firewall token",
    "pricing": "discount tier margin competitor churn upsell annual seat",
    "support": "ticket escalation customer backlog sla response refund complaint",
}
COMMON = "customer"  # a support word, said in every topic's meetings too (below)
TOPIC = "budget"  # a topic: in the titles and summaries of 1 in 8 meetings
TRANSCRIPT_ONLY = "invoice vendor"  # said in budget meetings, never in a title or summary


def _sentences(topic: str, count: int, rng: random.Random) -> list[str]:
    """Spoken-like sentences: filler, some of the topic's words, now and then a customer."""
    speakers = ["Alice", "Bob", "Carol", "Dave", "Erin"]
    topical = _TOPIC_WORDS[topic].split()
    sentences = []
    for _ in range(count):
        words = rng.choices(_GENERAL, k=rng.randint(8, 14)) + rng.choices(topical, k=2)
        if rng.random() < 0.05:
            words.append(COMMON)
        rng.shuffle(words)
        sentences.append(f"{rng.choice(speakers)}: " + " ".join(words) + ".")
    return sentences


def sentence_pools() -> dict[str, list[str]]:
    rng = random.Random(1)
    return {topic: _sentences(topic, 300, rng) for topic in TOPICS}


def make_entry(
    n: int, count: int, now: datetime, *, words: int = 0, pools: dict[str, list[str]] | None = None
) -> IndexEntry:
    topic = TOPICS[n % len(TOPICS)]
    owner = ["Alice", "Bob", "Carol", "Dave"][n % 4]
    record = MeetingRecord(
        meeting_id=f"meeting-{n:032x}",
        timestamp=now - timedelta(hours=count - n),
        filename=f"{topic}-{n}.m4a",
        audio_s3_key=f"meetings/{n:032x}_{topic}-{n}.m4a",
        title=f"{topic.title()} sync {n}",
        tags=(topic,),
        action_items_count=2,
        open_action_items_count=n % 3 == 0,
        requirements_count=1,
        action_item_owners=(owner,),
        transcript_chars=words * 6,
    )
    special = f" The {RARE} project came up." if n % 100 == 7 else ""
    transcript = ""
    if words and pools:
        rng = random.Random(n)
        transcript = "\n".join(rng.choices(pools[topic], k=words // 13))
    text = SearchText(
        summary=f"The team discussed the {topic} plan for week {n % 52}.{special}",
        action_items=f"{owner}: follow up on the {topic} numbers\nBob: book the next review",
        requirements=f"The {topic} report must be ready before the review.",
        transcript=transcript,
    )
    return IndexEntry(record, text)


class ByteCounter:
    """Bytes and requests written through a blob store (wraps its put)."""

    def __init__(self, store: Any) -> None:
        self.lock = threading.Lock()
        self.index_bytes = 0
        self.all_bytes = 0
        self.puts = 0
        original = store.put

        def counting_put(key: str, data: bytes, content_type: str, **kwargs: Any) -> str:
            with self.lock:
                self.puts += 1
                self.all_bytes += len(data)
                if key.startswith("index/"):
                    self.index_bytes += len(data)
            return str(original(key, data, content_type, **kwargs))

        store.put = counting_put

    def reset(self) -> None:
        self.index_bytes = self.all_bytes = self.puts = 0


@dataclass
class WriteRow:
    meetings: int
    index_bytes: float
    all_bytes: float
    single_object_bytes: int
    one_ms: float
    concurrent_ms: float
    concurrent_puts: int


def median_ms(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def single_object_bytes(entries: list[IndexEntry]) -> int:
    """What one write of the single-object layout rewrote: meetings.json + search.json."""
    import json

    listing = {e.record.meeting_id: compact_entry(e.record) for e in entries}
    texts = {e.record.meeting_id: {"s": e.text.summary, "a": e.text.action_items} for e in entries}
    sizes = [
        len(json.dumps({"version": 1, "meetings": m}, separators=(",", ":")).encode())
        for m in (listing, texts)
    ]
    return sum(sizes)


def measure_writes(s3: EmbeddedS3, folder: Path, count: int) -> WriteRow:
    bucket = f"scale-writes-{count}"
    s3.ensure_bucket(bucket, versioned_and_encrypted=False)
    settings = Settings(
        bucket=bucket,
        s3_endpoint_url=s3.endpoint_url,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        local_data_dir=folder / bucket,
    )
    now = datetime.now(UTC)
    entries = [make_entry(n, count, now) for n in range(count)]
    storage = MeetingStorage(settings)
    print(f"{count:,}: seeding the S3 JSON index ...", flush=True)
    storage.index.rebuild(entries)
    counter = ByteCounter(storage.documents)
    index_bytes, all_bytes, times = [], [], []
    for _ in range(5):
        counter.reset()
        started = time.perf_counter()
        storage.process(SAMPLE_TEXT)
        times.append(time.perf_counter() - started)
        index_bytes.append(counter.index_bytes)
        all_bytes.append(counter.all_bytes)
    writers = [MeetingStorage(settings) for _ in range(CONCURRENT)]
    counters = [ByteCounter(w.documents) for w in writers]
    print(f"{count:,}: {CONCURRENT} concurrent process calls ...", flush=True)
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        started = time.perf_counter()
        results = list(pool.map(lambda w: w.process(SAMPLE_TEXT), writers))
        concurrent_ms = (time.perf_counter() - started) * 1000
    listed = {r.meeting_id for r in storage.list_meetings(limit=PAGE).meetings}
    assert {r.record.meeting_id for r in results} <= listed, "a concurrent write was lost"
    return WriteRow(
        meetings=count,
        index_bytes=statistics.median(index_bytes),
        all_bytes=statistics.median(all_bytes),
        single_object_bytes=single_object_bytes(entries),
        one_ms=statistics.median(times) * 1000,
        concurrent_ms=concurrent_ms,
        concurrent_puts=sum(c.puts for c in counters),
    )


@dataclass
class SearchRow:
    meetings: int
    backend: str
    rare_ms: float
    topic_ms: float
    transcript_ms: float
    common_ms: float
    note: str


def seed_sql(storage: MeetingStorage, count: int, now: datetime, words: int) -> None:
    pools = sentence_pools()
    batch: list[IndexEntry] = []
    for n in range(count):
        batch.append(make_entry(n, count, now, words=words, pools=pools))
        if len(batch) == 500:
            storage.index.put_many(batch)
            batch = []
    if batch:
        storage.index.put_many(batch)


def measure_search(storage: MeetingStorage, count: int, label: str) -> SearchRow:
    def search(words: str) -> Callable[[], object]:
        return lambda: storage.list_meetings(limit=PAGE, search=words)

    rare = storage.list_meetings(limit=PAGE, search=RARE)
    expected = min(PAGE, count // 100)
    assert len(rare.meetings) == expected or rare.search_note, (label, len(rare.meetings))
    return SearchRow(
        meetings=count,
        backend=label,
        rare_ms=median_ms(search(RARE), 5),
        topic_ms=median_ms(search(TOPIC), 5),
        transcript_ms=median_ms(search(TRANSCRIPT_ONLY), 5),
        common_ms=median_ms(search(COMMON), 5),
        note=rare.search_note or "full text, ranked",
    )


def search_rows(
    s3: EmbeddedS3,
    postgres: PostgresServer | None,
    folder: Path,
    count: int,
    words: int,
    only: set[str],
) -> list[SearchRow]:
    now = datetime.now(UTC)
    base = Settings(
        bucket=f"scale-search-{count}",
        s3_endpoint_url=s3.endpoint_url,
        aws_access_key_id=KEY,
        aws_secret_access_key=SECRET,
        local_data_dir=folder / f"search-{count}",
    )
    s3.ensure_bucket(base.bucket, versioned_and_encrypted=False)
    rows = []
    backends = {"sqlite": replace(base, index_backend="sqlite")}
    if postgres is not None:
        url = postgres.create_database(f"s{count}")
        backends["postgres"] = replace(base, index_backend="postgres", database_url=url)
    backends = {k: v for k, v in backends.items() if k in only}
    for label, settings in backends.items():
        storage = MeetingStorage(settings)
        print(f"{count:,}: seeding {label} with {words:,}-word transcripts ...", flush=True)
        started = time.perf_counter()
        seed_sql(storage, count, now, words)
        print(f"  seeded in {time.perf_counter() - started:,.0f} s", flush=True)
        rows.append(measure_search(storage, count, label))
        close = getattr(storage.index, "close", None)
        if close is not None:
            close()
    if "s3json" in only:
        storage = MeetingStorage(base)
        print(f"{count:,}: seeding the S3 JSON index ...", flush=True)
        storage.index.rebuild(make_entry(n, count, now) for n in range(count))
        rows.append(measure_search(storage, count, "s3json (SeaweedFS)"))
    return rows


def write_table(rows: list[WriteRow]) -> str:
    lines = [
        "| meetings | index bytes per `process` | all bytes per `process` | single object "
        f"(before) | one `process` | {CONCURRENT} concurrent `process` |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.meetings:,} | {row.index_bytes / 1000:,.1f} KB | {row.all_bytes / 1000:,.1f} KB "
            f"| {row.single_object_bytes / 1000:,.1f} KB | {row.one_ms:,.0f} ms "
            f"| {row.concurrent_ms:,.0f} ms ({row.concurrent_puts} PUTs) |"
        )
    return "\n".join(lines)


def search_table(rows: list[SearchRow]) -> str:
    lines = [
        "| meetings | backend | rare word | topic word | two transcript words "
        "| word in most transcripts | search covers |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.meetings:,} | {row.backend} | {row.rare_ms:,.1f} ms | {row.topic_ms:,.1f} ms "
            f"| {row.transcript_ms:,.1f} ms | {row.common_ms:,.1f} ms | {row.note[:60]} |"
        )
    return "\n".join(lines)


@dataclass
class Servers:
    s3: EmbeddedS3
    postgres: PostgresServer | None


def servers(keep: ExitStack, folder: Path, postgres: bool) -> Servers:
    s3 = keep.enter_context(EmbeddedS3(folder / "s3", access_key=KEY, secret_key=SECRET))
    s3.ensure_bucket("warmup", timeout=90)
    server = None
    if postgres:
        server = PostgresServer().start()
        keep.callback(server.stop)
    return Servers(s3, server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--words", type=int, default=3_000, help="words per transcript")
    parser.add_argument("--only", choices=["writes", "search"])
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgres", "s3json"], help="for search"
    )
    args = parser.parse_args()
    writes: list[WriteRow] = []
    searches: list[SearchRow] = []
    with ExitStack() as keep:
        folder = Path(keep.enter_context(tempfile.TemporaryDirectory()))
        wants_postgres = args.only != "writes" and "postgres" in args.backends
        running = servers(keep, folder, postgres=wants_postgres)
        for count in args.meetings:
            if args.only != "search":
                writes.append(measure_writes(running.s3, folder, count))
                print(write_table(writes[-1:]), flush=True)
            if args.only != "writes":
                searches += search_rows(
                    running.s3, running.postgres, folder, count, args.words, set(args.backends)
                )
                print(search_table(searches[-3:]), flush=True)
    if writes:
        print("\nWrites with the S3 JSON index (SeaweedFS), median of 5; 20 at once: wall time\n")
        print(write_table(writes))
        flat = writes[-1].index_bytes <= writes[0].index_bytes * 1.5
        print(
            f"\nindex bytes per write flat from {writes[0].meetings:,} to "
            f"{writes[-1].meetings:,}: {'yes' if flat else 'NO'}"
        )
    if searches:
        print(f"\nSearch, first page of {PAGE}, median of 5 ({args.words:,}-word transcripts)\n")
        print(search_table(searches))
        slow = [
            r
            for r in searches
            if r.backend in {"sqlite", "postgres"}
            and max(r.rare_ms, r.topic_ms, r.transcript_ms) > 200
        ]
        if slow:
            print(f"\nabove 200 ms: {[(r.meetings, r.backend) for r in slow]}")


if __name__ == "__main__":
    main()
