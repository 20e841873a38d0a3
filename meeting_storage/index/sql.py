"""The SQL index: SQLite (a file under the data folder) or PostgreSQL, with full-text search.

Why SQLAlchemy 2 Core (and not plain sqlite3 + psycopg): the two databases share one schema
and every query except the full-text part, and Core compiles the same statements for both
(parameter styles, `LIMIT/OFFSET`, type handling), gives a connection pool and parses
DATABASE_URL. We use Core only (no ORM): statements map one-to-one to round trips, which is
what the benchmark counts. PostgreSQL is reached through psycopg 3.

Search: SQLite FTS5 (porter stemming, bm25 ranking, `snippet()`), PostgreSQL `tsvector`
with a GIN index (english stemming, `ts_rank_cd`, `ts_headline`). Both look in titles, file
names, summaries, decisions, action items, requirements and transcripts, match every word,
rank the results and wrap matched words in ** in the snippet.

Reads run without a transaction (one statement = one round trip); writes replace a
meeting's rows in one transaction (SQLite takes the write lock up front, BEGIN IMMEDIATE,
so concurrent writers wait instead of failing).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from meeting_storage.core.errors import (
    ConfigurationError,
    translate_database_error,
    translate_os_error,
)
from meeting_storage.core.models import MeetingPage, MeetingRecord
from meeting_storage.index import (
    DEFAULT_LIMIT,
    decode_cursor,
    decode_offset_cursor,
    encode_cursor,
    encode_offset_cursor,
    validate_limit,
)
from meeting_storage.index.document import IndexEntry, SearchText, as_entries
from meeting_storage.index.query import (
    NO_FILTER,
    MeetingFilter,
    owner_key,
    search_words,
    uploader_key,
)
from meeting_storage.index.sql_schema import (
    LATEST_VERSION,
    SQLITE_BM25_WEIGHTS,
    TS_CONFIG,
    current_version,
    meeting_owners,
    meeting_search,
    meetings,
    migrate,
)

CHUNK = 500
_SNIPPET_WORDS = 16


def engine_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = engine_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # unparsable, or a port that is not a number
        raise ConfigurationError(f"DATABASE_URL is not a database URL ({exc}).") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise translate_os_error(
                    exc, path=folder, action="create the folder of the SQLite index"
                ) from exc
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_transactions(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigurationError(
            f"DATABASE_URL uses {parsed.get_backend_name()!r}; the SQL index supports sqlite and "
            "postgresql."
        )
    return create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "application_name": "meeting-storage"},
    )


def _sqlite_transactions(engine: Engine) -> None:
    """Let us issue BEGIN ourselves: IMMEDIATE for writes (waits on the lock instead of
    failing on upgrade), none for reads (each statement is its own snapshot)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("index_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class SqlIndex:
    full_text = True

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        self.dialect = self.engine.dialect.name  # "sqlite" or "postgresql"
        self.name = "sqlite" if self.dialect == "sqlite" else "postgres"
        self._where = self.engine.url.render_as_string(hide_password=True)
        if self.dialect == "sqlite":
            self._reader: Engine = self.engine
        else:
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._writer = self.engine.execution_options(index_write=True)
        self._migrated = False
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- plumbing

    def describe(self) -> str:
        return f"{'SQLite' if self.dialect == 'sqlite' else 'PostgreSQL'} index {self._where}"

    def close(self) -> None:
        self.engine.dispose()

    def _ensure_schema(self) -> None:
        if self._migrated:
            return
        with self._lock:
            if self._migrated:
                return
            try:
                with self._writer.begin() as conn:
                    migrate(conn)
            except SQLAlchemyError as exc:
                raise translate_database_error(exc, where=self._where, action="migrate") from exc
            self._migrated = True

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self._ensure_schema()
        try:
            with self._reader.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise translate_database_error(exc, where=self._where, action="read") from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        self._ensure_schema()
        try:
            with self._writer.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise translate_database_error(exc, where=self._where, action="write") from exc

    def check(self) -> str:
        self._ensure_schema()
        with self._read() as conn:
            version = current_version(conn)
            count = conn.execute(select(func.count()).select_from(meetings)).scalar_one()
        if version < LATEST_VERSION:  # pragma: no cover - migrate() just ran
            raise ConfigurationError(
                f"{self.describe()} is at schema {version}, not {LATEST_VERSION}."
            )
        return f"{self.describe()} (schema v{version}) with {count} entries"

    # ----------------------------------------------------------------- writing

    def put(self, record: MeetingRecord, text: SearchText | None = None) -> None:
        self.put_many([IndexEntry(record, text or SearchText())])

    def put_many(self, entries: Iterable[IndexEntry]) -> int:
        fresh = list({e.record.meeting_id: e for e in as_entries(entries)}.values())
        for start in range(0, len(fresh), CHUNK):
            chunk = fresh[start : start + CHUNK]
            with self._write() as conn:
                self._remove(conn, [e.record.meeting_id for e in chunk])
                self._insert(conn, chunk)
        return len(fresh)

    def delete(self, meeting_id: str) -> bool:
        return self.delete_many([meeting_id]) == 1

    def delete_many(self, meeting_ids: Iterable[str]) -> int:
        wanted = sorted(set(meeting_ids))
        removed = 0
        for start in range(0, len(wanted), CHUNK):
            with self._write() as conn:
                removed += self._remove(conn, wanted[start : start + CHUNK])
        return removed

    def rebuild(self, entries: Iterable[IndexEntry | MeetingRecord]) -> int:
        fresh = list({e.record.meeting_id: e for e in as_entries(entries)}.values())
        with self._write() as conn:  # one transaction: readers see the old or the new index
            conn.execute(delete(meeting_search))
            conn.execute(delete(meeting_owners))
            conn.execute(delete(meetings))
            for start in range(0, len(fresh), CHUNK):
                self._insert(conn, fresh[start : start + CHUNK])
        return len(fresh)

    def _remove(self, conn: Connection, ids: Sequence[str]) -> int:
        if not ids:
            return 0
        if self.dialect == "sqlite":
            # The FTS table's meeting_id is not indexed: find its rows by the meetings rowid.
            conn.execute(
                text(
                    "DELETE FROM meeting_search WHERE rowid IN "
                    "(SELECT rowid FROM meetings WHERE meeting_id IN :ids)"
                ).bindparams(_expanding("ids")),
                {"ids": list(ids)},
            )
        else:
            conn.execute(delete(meeting_search).where(meeting_search.c.meeting_id.in_(ids)))
        conn.execute(delete(meeting_owners).where(meeting_owners.c.meeting_id.in_(ids)))
        result = conn.execute(delete(meetings).where(meetings.c.meeting_id.in_(ids)))
        return int(result.rowcount or 0)

    def _insert(self, conn: Connection, entries: Sequence[IndexEntry]) -> None:
        if not entries:
            return
        conn.execute(meetings.insert(), [_meeting_row(e.record) for e in entries])
        owners = [
            {"meeting_id": e.record.meeting_id, "owner_key": key}
            for e in entries
            for key in sorted({owner_key(o)[:200] for o in e.record.action_item_owners})
        ]
        if owners:
            conn.execute(meeting_owners.insert(), owners)
        rows = [_search_row(e) for e in entries]
        if self.dialect == "sqlite":
            found = conn.execute(
                text("SELECT meeting_id, rowid FROM meetings WHERE meeting_id IN :ids").bindparams(
                    _expanding("ids")
                ),
                {"ids": [r["meeting_id"] for r in rows]},
            )
            rowids = {str(mid): int(rowid) for mid, rowid in found}
            conn.execute(
                text(
                    "INSERT INTO meeting_search (rowid, meeting_id, title, filename, summary, "
                    "action_items, requirements, transcript) VALUES (:rowid, :meeting_id, :title, "
                    ":filename, :summary, :action_items, :requirements, :transcript)"
                ),
                [{**r, "rowid": rowids[r["meeting_id"]]} for r in rows],
            )
        else:
            conn.execute(meeting_search.insert(), rows)

    # ----------------------------------------------------------------- reading

    def get(self, meeting_id: str) -> MeetingRecord | None:
        with self._read() as conn:
            raw = conn.execute(
                select(meetings.c.record).where(meetings.c.meeting_id == meeting_id)
            ).scalar_one_or_none()
        return None if raw is None else MeetingRecord.from_dict(json.loads(raw))

    def ids(self) -> set[str]:
        with self._read() as conn:
            return set(conn.execute(select(meetings.c.meeting_id)).scalars())

    def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        search: str | None = None,
        filters: MeetingFilter | None = None,
    ) -> MeetingPage:
        limit = validate_limit(limit)
        conditions = _filter_conditions(filters or NO_FILTER)
        words = search_words(search)
        if words:
            return self._search(words, search or "", limit, cursor, conditions)
        if cursor:
            at, after_id = decode_cursor(cursor)
            at = at.astimezone(UTC)
            conditions.append(
                or_(
                    meetings.c.recorded_at < at,
                    and_(meetings.c.recorded_at == at, meetings.c.meeting_id < after_id),
                )
            )
        statement = (
            select(meetings.c.record)
            .where(*conditions)
            .order_by(meetings.c.recorded_at.desc(), meetings.c.meeting_id.desc())
            .limit(limit + 1)
        )
        with self._read() as conn:
            rows = list(conn.execute(statement).scalars())
        records = [MeetingRecord.from_dict(json.loads(raw)) for raw in rows[:limit]]
        next_cursor = encode_cursor(records[-1]) if len(rows) > limit else None
        return MeetingPage(meetings=records, next_cursor=next_cursor)

    def _search(
        self,
        words: Sequence[str],
        search: str,
        limit: int,
        cursor: str | None,
        conditions: Sequence[ColumnElement[bool]],
    ) -> MeetingPage:
        offset = decode_offset_cursor(cursor, search) if cursor else 0
        if self.dialect == "sqlite":
            statement = _sqlite_search(words, conditions, limit, offset)
        else:
            statement = _postgres_search(words, conditions, limit, offset)
        with self._read() as conn:
            rows = [tuple(row) for row in conn.execute(statement)]
        records = [MeetingRecord.from_dict(json.loads(raw)) for raw, _, _ in rows[:limit]]
        snippets = {
            record.meeting_id: str(snip or "").strip()
            for record, (_, _, snip) in zip(records, rows, strict=False)
        }
        more = len(rows) > limit
        return MeetingPage(
            meetings=records,
            next_cursor=encode_offset_cursor(offset + limit, search) if more else None,
            snippets=snippets,
            ranked=True,
        )


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def _meeting_row(record: MeetingRecord) -> dict[str, Any]:
    return {
        "meeting_id": record.meeting_id,
        "recorded_at": record.timestamp.astimezone(UTC),
        "filename": record.filename,
        "title": record.title,
        "extraction_method": record.extraction_method,
        "action_items_count": record.action_items_count,
        "open_action_items_count": record.open_action_items_count,
        "requirements_count": record.requirements_count,
        "record": json.dumps(record.to_dict(), ensure_ascii=False, separators=(",", ":")),
        "uploaded_by": uploader_key(record.uploaded_by)[:320],
    }


def _words_of(value: str) -> str:
    """File names split into words ("q3-review.m4a" -> "q3 review m4a") for the tokenizers."""
    return " ".join(re.findall(r"\w+", value))


def _search_row(entry: IndexEntry) -> dict[str, Any]:
    record, text_ = entry.record, entry.text
    title = " ".join([record.title, *record.tags]).strip()
    return {
        "meeting_id": record.meeting_id,
        "title": title,
        "filename": f"{record.filename} {_words_of(record.filename)}".strip(),
        "summary": text_.summary,
        "action_items": " ".join([text_.action_items, *record.action_item_owners]).strip(),
        "requirements": text_.requirements,
        "transcript": text_.transcript,
    }


def _filter_conditions(filters: MeetingFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        conditions.append(meetings.c.recorded_at >= filters.date_from.astimezone(UTC))
    if filters.date_to is not None:
        conditions.append(meetings.c.recorded_at < filters.date_to.astimezone(UTC))
    if filters.has_open_action_items is True:
        conditions.append(meetings.c.open_action_items_count > 0)
    elif filters.has_open_action_items is False:
        conditions.append(meetings.c.open_action_items_count == 0)
    if filters.extraction_method:
        conditions.append(meetings.c.extraction_method == filters.extraction_method)
    if filters.uploader_key:
        conditions.append(meetings.c.uploaded_by == filters.uploader_key)
    if filters.owner_key:
        conditions.append(
            exists().where(
                meeting_owners.c.meeting_id == meetings.c.meeting_id,
                meeting_owners.c.owner_key == filters.owner_key,
            )
        )
    return conditions


def _sqlite_search(
    words: Sequence[str], conditions: Sequence[ColumnElement[bool]], limit: int, offset: int
) -> Any:
    query = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    rank: ColumnElement[Any] = literal_column(f"bm25(meeting_search, {SQLITE_BM25_WEIGHTS})")
    snip: ColumnElement[Any] = literal_column(
        f"snippet(meeting_search, -1, '**', '**', '…', {_SNIPPET_WORDS})"
    )
    return (
        select(meetings.c.record, rank.label("rank"), snip.label("snippet"))
        .select_from(
            meetings.join(
                meeting_search,
                literal_column("meeting_search.rowid") == literal_column("meetings.rowid"),
            )
        )
        .where(text("meeting_search MATCH :query").bindparams(query=query), *conditions)
        .order_by(rank, meetings.c.recorded_at.desc(), meetings.c.meeting_id.desc())
        .limit(limit + 1)
        .offset(offset)
    )


def _postgres_search(
    words: Sequence[str], conditions: Sequence[ColumnElement[bool]], limit: int, offset: int
) -> Any:
    config: ColumnElement[Any] = literal_column(f"'{TS_CONFIG}'::regconfig")
    query = func.plainto_tsquery(config, " ".join(words))
    document: ColumnElement[Any] = literal_column("meeting_search.document")
    rank = func.ts_rank_cd(document, query)
    ranked = (
        select(
            meetings.c.meeting_id,
            meetings.c.record,
            meetings.c.recorded_at,
            rank.label("rank"),
        )
        .select_from(
            meetings.join(meeting_search, meeting_search.c.meeting_id == meetings.c.meeting_id)
        )
        .where(document.op("@@")(query), *conditions)
        .order_by(rank.desc(), meetings.c.recorded_at.desc(), meetings.c.meeting_id.desc())
        .limit(limit + 1)
        .offset(offset)
        .subquery("ranked")
    )
    # Headlines only for the page's rows: ts_headline re-parses the text, so it is costly.
    body = func.concat_ws(
        " … ",
        *(
            func.nullif(column, "")
            for column in (
                meeting_search.c.title,
                meeting_search.c.summary,
                meeting_search.c.action_items,
                meeting_search.c.requirements,
                func.left(meeting_search.c.transcript, 100_000),
            )
        ),
    )
    options = (
        f"StartSel=**, StopSel=**, MaxWords={_SNIPPET_WORDS + 8}, MinWords=8, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    headline = func.ts_headline(config, body, query, options)
    return (
        select(ranked.c.record, ranked.c.rank, headline.label("snippet"))
        .select_from(
            ranked.join(meeting_search, meeting_search.c.meeting_id == ranked.c.meeting_id)
        )
        .order_by(ranked.c.rank.desc(), ranked.c.recorded_at.desc(), ranked.c.meeting_id.desc())
    )
