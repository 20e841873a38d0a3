"""The index at scale: the S3 JSON index's month shards (a write touches a few small objects
whatever the total), its migration from the single-object layout, concurrent writers, the
newest page in one request, and search that is correct on every backend and bounded where
there is no search engine (S3 JSON, DynamoDB)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meeting_storage import MeetingStorage, Settings
from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.index import IndexEntry, MeetingFilter, SearchText, s3json
from meeting_storage.index import dynamodb as dynamodb_index
from meeting_storage.index.dynamodb import create_table
from meeting_storage.index.s3json import S3JsonIndex, compact_entry, locator_of, month_of
from meeting_storage.ops.reindex import reindex
from meeting_storage.storage.aws import make_dynamodb_client
from meeting_storage.storage.blobs import BlobStore
from tests.conftest import new_table_name

START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def entry(n: int, *, per_month: int = 20, word: str = "") -> IndexEntry:
    """Meeting n; `per_month` meetings a month, so months hold the same number at any total."""
    month, index = divmod(n, per_month)
    at = START.replace(year=START.year + month // 12, month=month % 12 + 1) + timedelta(hours=index)
    record = MeetingRecord(
        meeting_id=f"meeting-{n:032x}",
        timestamp=at,
        filename=f"sync-{n}.m4a",
        title=f"Weekly sync {n}",
        action_items_count=1,
        open_action_items_count=n % 2,
        action_item_owners=("Carol",),
    )
    summary = f"The team reviewed item {n}." + (f" The {word} came up." if word else "")
    return IndexEntry(record, SearchText(summary=summary, action_items="Carol: notes"))


@dataclass
class Recorder:
    """Counts the requests and bytes an index makes on its blob store."""

    gets: list[str] = field(default_factory=list)
    puts: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, store: BlobStore) -> Recorder:
        get, put = store.get, store.put

        def recording_get(key: str) -> Any:
            with self.lock:
                self.gets.append(key)
            return get(key)

        def recording_put(key: str, data: bytes, content_type: str, **kwargs: Any) -> str:
            with self.lock:
                self.puts[key] = self.puts.get(key, 0) + len(data)
            return put(key, data, content_type, **kwargs)

        store.get = recording_get  # type: ignore[method-assign]
        store.put = recording_put  # type: ignore[method-assign]
        return self

    @staticmethod
    def detach(store: BlobStore) -> None:
        del store.get, store.put  # the class's methods again

    def clear(self) -> None:
        self.gets.clear()
        self.puts.clear()


def s3json_of(storage: MeetingStorage) -> S3JsonIndex:
    index = storage.index
    assert isinstance(index, S3JsonIndex)
    return index


def listed(index: Any, limit: int = 1000, **kwargs: Any) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = index.list(limit, cursor, **kwargs)
        seen += [r.meeting_id for r in page.meetings]
        cursor = page.next_cursor
        if cursor is None:
            return seen


# ----------------------------------------------------------------- the shard layout


def bytes_of_one_write(moto_storage: MeetingStorage, total: int) -> dict[str, int]:
    """Bytes written per object by storing the last of `total` meetings (100 a month)."""
    index = S3JsonIndex(moto_storage.documents)
    index.rebuild(entry(n, per_month=100) for n in range(total - 1))
    recorder = Recorder().attach(moto_storage.documents)
    newest = entry(total - 1, per_month=100)  # the newest month's 100th meeting
    index.put(newest.record, newest.text)
    recorder.detach(moto_storage.documents)
    return dict(recorder.puts)


def test_a_write_touches_a_locator_a_month_and_the_manifest_whatever_the_total(
    moto_storage: MeetingStorage,
) -> None:
    small = bytes_of_one_write(moto_storage, 500)
    large = bytes_of_one_write(moto_storage, 5000)
    record = entry(4999, per_month=100).record
    assert set(large) == {
        layout.index_ids_key(locator_of(record.meeting_id)),
        layout.index_month_key(month_of(record.timestamp)),
        layout.INDEX_KEY,
    }
    assert len(small) == 3
    # Ten times the meetings, about the same bytes: the month and the head are the same size;
    # only a locator (1/256 of the ids) and the manifest's list of months grow, slightly.
    assert sum(large.values()) < sum(small.values()) * 1.1
    records = (entry(n, per_month=100).record for n in range(5000))
    everything = sum(len(json.dumps(compact_entry(r))) for r in records)
    assert sum(large.values()) < everything / 10


def test_the_newest_page_is_one_request_and_pages_stay_at_most_three(
    moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = S3JsonIndex(moto_storage.documents)
    entries = [entry(n, per_month=60) for n in range(600)]
    index.rebuild(entries)
    newest = sorted(entries, key=lambda e: e.record.timestamp, reverse=True)
    recorder = Recorder().attach(moto_storage.documents)
    first = index.list(50)
    assert recorder.gets == [layout.INDEX_KEY]
    assert [r.meeting_id for r in first.meetings] == [e.record.meeting_id for e in newest[:50]]
    for page_number in range(2, 6):
        recorder.clear()
        assert first.next_cursor is not None
        first = index.list(50, first.next_cursor)
        assert len(recorder.gets) <= 3, recorder.gets
        start = (page_number - 1) * 50
        expected = [e.record.meeting_id for e in newest[start : start + 50]]
        assert [r.meeting_id for r in first.meetings] == expected
    # Deleting from the head refills it at the write: the first page stays one request.
    index.delete_many([e.record.meeting_id for e in newest[:20]])
    recorder.clear()
    after = index.list(50)
    assert recorder.gets == [layout.INDEX_KEY]
    assert [r.meeting_id for r in after.meetings] == [e.record.meeting_id for e in newest[20:70]]


def test_a_meeting_whose_date_changes_moves_month(moto_storage: MeetingStorage) -> None:
    index = S3JsonIndex(moto_storage.documents)
    index.rebuild(entry(n) for n in range(100))
    moved = entry(3)
    later = replace(moved.record, timestamp=datetime(2026, 6, 1, tzinfo=UTC), title="Moved")
    index.put(later, moved.text)
    assert index.get(moved.record.meeting_id) == later
    assert listed(index).count(moved.record.meeting_id) == 1
    assert index.list(1).meetings[0] == later
    old_month = moto_storage.documents.get(layout.index_month_key("2024-01")).data
    assert moved.record.meeting_id not in json.loads(old_month)["meetings"]
    manifest = json.loads(moto_storage.documents.get(layout.INDEX_KEY).data)
    assert manifest["shards"]["2024-01"]["count"] == 19
    assert manifest["shards"]["2026-06"]["count"] == 1
    assert index.delete(moved.record.meeting_id) is True
    assert index.get(moved.record.meeting_id) is None
    assert len(index.ids()) == 99
    assert "2026-06" not in json.loads(moto_storage.documents.get(layout.INDEX_KEY).data)["shards"]


# ----------------------------------------------------------------- from the single object


def write_single_object(store: BlobStore, entries: list[IndexEntry]) -> None:
    """The index as older versions wrote it: index/meetings.json + index/search.json."""
    listing = {e.record.meeting_id: compact_entry(e.record) for e in entries}
    texts = {e.record.meeting_id: {"s": e.text.summary, "a": e.text.action_items} for e in entries}
    for key, meetings in ((layout.INDEX_KEY, listing), (layout.SEARCH_INDEX_KEY, texts)):
        store.put(
            key, json.dumps({"version": 1, "meetings": meetings}).encode(), "application/json"
        )


def index_keys(store: BlobStore) -> set[str]:
    return {info.key for info in store.iter_objects(layout.INDEX_PREFIX)}


def test_the_single_object_index_is_split_on_the_first_write(storage: MeetingStorage) -> None:
    """Moto and SeaweedFS: read as it is, split by the first write, nothing lost."""
    entries = [entry(n, word="giraffe" if n == 7 else "") for n in range(150)]
    write_single_object(storage.documents, entries)
    index = s3json_of(storage)
    every = sorted((e.record for e in entries), key=lambda r: r.timestamp, reverse=True)
    assert [r.meeting_id for r in index.list(10).meetings] == [r.meeting_id for r in every[:10]]
    assert [r.meeting_id for r in index.list(5, search="giraffe").meetings] == [
        entries[7].record.meeting_id
    ]
    assert "one object" in index.check()
    result = storage.process("Alice: The first meeting after the upgrade.")
    keys = index_keys(storage.documents)
    assert layout.SEARCH_INDEX_KEY not in keys
    assert {layout.index_month_key(m) for m in ("2024-01", "2024-08")} <= keys
    assert index.ids() == {e.record.meeting_id for e in entries} | {result.record.meeting_id}
    assert listed(index, 40) == [result.record.meeting_id] + [r.meeting_id for r in every]
    found = index.list(5, search="giraffe")
    assert [r.meeting_id for r in found.meetings] == [entries[7].record.meeting_id]
    assert "**giraffe**" in found.snippets[entries[7].record.meeting_id]
    assert index.get(entries[100].record.meeting_id) == entries[100].record
    assert "in 9 months" in index.check()


def test_reindex_splits_the_single_object_and_repeating_it_changes_nothing(
    moto_storage: MeetingStorage,
) -> None:
    results = [moto_storage.process(f"Alice: Meeting number {n} decided things.") for n in range(3)]
    records = [r.record for r in results]
    write_single_object(moto_storage.documents, [IndexEntry(r) for r in records])
    for key in index_keys(moto_storage.documents) - {layout.INDEX_KEY, layout.SEARCH_INDEX_KEY}:
        moto_storage.documents.delete([key])
    assert reindex(moto_storage).indexed == 3
    first = {
        key: moto_storage.documents.get(key).data for key in index_keys(moto_storage.documents)
    }
    assert layout.SEARCH_INDEX_KEY not in first
    assert reindex(moto_storage, restart=True).indexed == 3
    newest = sorted(records, key=lambda r: (r.timestamp, r.meeting_id), reverse=True)
    assert listed(moto_storage.index) == [r.meeting_id for r in newest]
    assert set(first) == index_keys(moto_storage.documents)


def test_concurrent_first_writers_split_once_and_lose_nothing(
    seaweed_storage: MeetingStorage,
) -> None:
    """On SeaweedFS: moto's objects are not safe to overwrite from many threads at once."""
    storage = seaweed_storage
    entries = [entry(n) for n in range(60)]
    write_single_object(storage.documents, entries)
    fresh = [entry(1000 + n) for n in range(8)]

    def write(item: IndexEntry) -> None:
        S3JsonIndex(storage.documents).put(item.record, item.text)  # each its own writer

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, fresh))
    index = S3JsonIndex(storage.documents)
    assert index.ids() == {e.record.meeting_id for e in entries + fresh}
    manifest = json.loads(storage.documents.get(layout.INDEX_KEY).data)
    assert sum(s["count"] for s in manifest["shards"].values()) == 68


# ----------------------------------------------------------------- concurrent writers


def test_concurrent_writers_and_deleters_lose_nothing(seaweed_storage: MeetingStorage) -> None:
    storage = seaweed_storage
    index = S3JsonIndex(storage.documents)
    index.rebuild(entry(n) for n in range(100))
    doomed = [entry(n).record.meeting_id for n in range(90, 100)]  # in the head
    fresh = [entry(200 + n) for n in range(16)]  # a newer month: 2024-11

    def work(job: IndexEntry | str) -> None:
        writer = S3JsonIndex(storage.documents)  # each its own writer
        if isinstance(job, str):
            writer.delete(job)
        else:
            writer.put(job.record, job.text)

    jobs: list[IndexEntry | str] = [*fresh, *doomed]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, jobs))
    expected = {entry(n).record.meeting_id for n in range(90)} | {
        e.record.meeting_id for e in fresh
    }
    assert index.ids() == expected
    assert set(listed(index, 50)) == expected
    manifest = json.loads(storage.documents.get(layout.INDEX_KEY).data)
    assert sum(s["count"] for s in manifest["shards"].values()) == len(expected)
    times = {e.record.meeting_id: e.record.timestamp for e in [entry(n) for n in range(90)] + fresh}
    newest = sorted(expected, key=lambda mid: times[mid], reverse=True)
    assert [r.meeting_id for r in index.list(50).meetings] == newest[:50]


# ----------------------------------------------------------------- search


def test_search_beyond_the_newest_page_on_every_backend(indexed_storage: MeetingStorage) -> None:
    index = indexed_storage.index
    entries = [entry(n, word="giraffe" if n % 37 == 5 else "") for n in range(400)]
    index.rebuild(entries)
    expected = [e.record for e in entries if "giraffe" in e.text.summary]
    found = listed(index, 3, search="giraffe")
    assert sorted(found) == sorted(r.meeting_id for r in expected)
    if not index.full_text:  # newest first, as the contract says
        newest = sorted(expected, key=lambda r: r.timestamp, reverse=True)
        assert found == [r.meeting_id for r in newest]
    in_range = listed(
        index,
        50,
        search="giraffe",
        filters=MeetingFilter(date_from=datetime(2024, 6, 1, tzinfo=UTC)),
    )
    assert sorted(in_range) == sorted(
        r.meeting_id for r in expected if r.timestamp >= datetime(2024, 6, 1, tzinfo=UTC)
    )


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(s3json, "SCAN_MEETINGS", 40)
    monkeypatch.setattr(s3json, "SCAN_MONTHS", 2)
    monkeypatch.setattr(s3json, "READ_WORKERS", 2)
    yield


@pytest.mark.usefixtures("small_bounds")
def test_s3json_search_reads_a_bounded_number_of_months_then_hands_a_cursor(
    moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = S3JsonIndex(moto_storage.documents)
    entries = [entry(n, word="okapi" if n == 3 else "") for n in range(200)]  # 10 months of 20
    index.rebuild(entries)
    recorder = Recorder().attach(moto_storage.documents)
    page = index.list(10, search="okapi")
    month_reads = [k for k in recorder.gets if k.startswith(layout.INDEX_MONTHS_PREFIX)]
    assert page.meetings == [] and len(month_reads) == 2
    assert page.next_cursor is not None
    assert page.search_note is not None and "back to September 2024" in page.search_note
    pages = 1
    cursor: str | None = page.next_cursor
    found: list[str] = []
    while cursor is not None:
        recorder.clear()
        page = index.list(10, cursor, search="okapi")
        assert len([k for k in recorder.gets if k.startswith(layout.INDEX_MONTHS_PREFIX)]) <= 2
        found += [r.meeting_id for r in page.meetings]
        cursor = page.next_cursor
        pages += 1
    assert found == [entries[3].record.meeting_id] and pages == 5


@pytest.fixture
def dynamodb_settings(moto_settings: Settings) -> Settings:
    settings = replace(
        moto_settings,
        index_backend="dynamodb",
        use_dynamodb=True,
        dynamodb_table_name=new_table_name(),
    )
    create_table(make_dynamodb_client(settings), settings.dynamodb_table_name)
    return settings


def test_dynamodb_search_reads_a_bounded_number_of_pages(
    dynamodb_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_index, "SCAN_PAGE_ITEMS", 20)
    monkeypatch.setattr(dynamodb_index, "SCAN_PAGES", 2)
    monkeypatch.setattr(dynamodb_index, "SCAN_MEETINGS", 40)
    storage = MeetingStorage(dynamodb_settings)
    entries = [entry(n, word="okapi" if n == 3 else "") for n in range(120)]
    storage.index.rebuild(entries)
    calls: list[str] = []
    storage.index._client.meta.events.register(  # type: ignore[attr-defined]
        "before-call.dynamodb.Query", lambda **_: calls.append("Query")
    )
    page = storage.index.list(10, search="okapi")
    assert page.meetings == [] and len(calls) == 2 and page.next_cursor is not None
    assert page.search_note is not None and "back to" in page.search_note
    found = listed(storage.index, 10, search="okapi")
    assert found == [entries[3].record.meeting_id]


# ----------------------------------------------------------------- SQL: headings, then transcripts


@pytest.fixture(params=["sqlite", "postgres"])
def sql_settings(request: pytest.FixtureRequest, moto_settings: Settings) -> Settings:
    if request.param == "sqlite":
        return replace(moto_settings, index_backend="sqlite")
    url = request.getfixturevalue("postgres_url")
    return replace(moto_settings, index_backend="postgres", database_url=url)


def test_sql_search_ranks_headings_first_and_migrates_an_existing_database(
    sql_settings: Settings,
) -> None:
    """A schema-1 database (transcripts and headings in one full-text index) gains the
    headings' own index on first use, filled from what it holds; search then ranks meetings
    whose heading matches before those that match only in their transcript."""
    from sqlalchemy import text

    from meeting_storage.index.sql import SqlIndex

    first = MeetingStorage(sql_settings).index
    assert isinstance(first, SqlIndex)
    entries = [entry(n) for n in range(30)]
    spoken = [
        replace(e, text=replace(e.text, transcript="Bob: the okapi budget was approved."))
        for e in entries[:10]
    ]
    titled = [
        IndexEntry(replace(e.record, title=f"Okapi review {n}"), e.text)
        for n, e in enumerate(entries[25:])
    ]
    first.rebuild([*spoken, *entries[10:25], *titled])
    with first.engine.begin() as conn:  # back to schema 1
        if first.dialect == "sqlite":
            conn.execute(text("DROP TABLE meeting_heading"))
        else:
            conn.execute(text("ALTER TABLE meeting_search DROP COLUMN heading"))
        conn.execute(text("DELETE FROM schema_version WHERE version = 3"))
    first.close()
    reopened = MeetingStorage(sql_settings).index
    assert isinstance(reopened, SqlIndex)
    assert "schema v3" in reopened.check()
    found = [r.meeting_id for r in reopened.list(50, search="okapi").meetings]
    headed = [e.record.meeting_id for e in titled]
    only_spoken = sorted(
        (e.record for e in spoken), key=lambda r: (r.timestamp, r.meeting_id), reverse=True
    )
    assert sorted(found[:5]) == sorted(headed)
    assert found[5:] == [r.meeting_id for r in only_spoken]
    page = reopened.list(3, search="okapi")
    walked = listed(reopened, 3, search="okapi")
    assert walked == found and page.ranked
    assert "**okapi**" in reopened.list(50, search="okapi").snippets[only_spoken[0].meeting_id]
    reopened.close()
