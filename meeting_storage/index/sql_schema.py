"""The SQL index's schema and its versioned migrations (SQLite and PostgreSQL).

One schema for both databases, described once with SQLAlchemy Core tables; only the
full-text part differs, because each engine has its own: an FTS5 virtual table in SQLite,
a generated, weighted `tsvector` column with a GIN index in PostgreSQL.

Migrations are ordered functions, applied automatically the first time the index is used
and recorded in `schema_version`, all in one transaction (PostgreSQL also takes an advisory
lock, SQLite a write lock, so two processes starting together migrate once). We chose this
over Alembic on purpose: Alembic's autogenerate understands neither FTS5 virtual tables nor
generated tsvector columns, so every migration would be hand-written anyway, and it would
add a script folder and an ini file to a package that is otherwise configured by one
environment variable. A new migration is a function appended to MIGRATIONS.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
)

metadata = MetaData()

meetings = Table(
    "meetings",
    metadata,
    Column("meeting_id", String(64), primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("filename", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("extraction_method", String(64), nullable=False),
    Column("action_items_count", Integer, nullable=False),
    Column("open_action_items_count", Integer, nullable=False),
    Column("requirements_count", Integer, nullable=False),
    # The whole MeetingRecord as JSON: `get` and `list` return exactly what was put.
    Column("record", Text, nullable=False),
    Index("ix_meetings_newest", "recorded_at", "meeting_id"),
    # Who stored the meeting (lower-cased; "local" for the CLI and older meetings).
    Column("uploaded_by", String(320), nullable=True),
    Index("ix_meetings_uploaded_by", "uploaded_by", "recorded_at"),
)

meeting_owners = Table(
    "meeting_owners",
    metadata,
    Column("meeting_id", String(64), primary_key=True),
    Column("owner_key", String(200), primary_key=True),
    Index("ix_meeting_owners_owner", "owner_key"),
)

# Same columns in both databases; PostgreSQL adds the generated `document` tsvector.
meeting_search = Table(
    "meeting_search",
    MetaData(),
    Column("meeting_id", String(64), primary_key=True),
    Column("title", Text),
    Column("filename", Text),
    Column("summary", Text),
    Column("action_items", Text),
    Column("requirements", Text),
    Column("transcript", Text),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# Relative weights of the searchable columns (title and file name count most).
SQLITE_BM25_WEIGHTS = "0.0, 10.0, 6.0, 4.0, 3.0, 2.0, 1.0"
TS_CONFIG = "english"

_SQLITE_FTS = """
CREATE VIRTUAL TABLE meeting_search USING fts5(
    meeting_id UNINDEXED, title, filename, summary, action_items, requirements, transcript,
    tokenize = 'porter unicode61 remove_diacritics 2'
)
"""

_POSTGRES_SEARCH = f"""
CREATE TABLE meeting_search (
    meeting_id varchar(64) PRIMARY KEY,
    title text, filename text, summary text, action_items text, requirements text,
    transcript text,
    document tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('{TS_CONFIG}', coalesce(title, '') || ' ' || coalesce(filename, '')), 'A')
        || setweight(to_tsvector('{TS_CONFIG}', coalesce(summary, '') || ' ' || coalesce(action_items, '')), 'B')
        || setweight(to_tsvector('{TS_CONFIG}', coalesce(requirements, '')), 'C')
        || setweight(to_tsvector('{TS_CONFIG}', coalesce(transcript, '')), 'D')
    ) STORED
)
"""


def _v1_initial(conn: Connection) -> None:
    metadata.create_all(conn, tables=[meetings, meeting_owners])
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_SQLITE_FTS)
    else:
        conn.exec_driver_sql(_POSTGRES_SEARCH)
        conn.exec_driver_sql(
            "CREATE INDEX ix_meeting_search_document ON meeting_search USING GIN (document)"
        )


def _v2_uploaded_by(conn: Connection) -> None:
    # A database created by this version's _v1_initial has the column already.
    if "uploaded_by" not in {c["name"] for c in inspect(conn).get_columns("meetings")}:
        conn.exec_driver_sql("ALTER TABLE meetings ADD COLUMN uploaded_by VARCHAR(320)")
    conn.exec_driver_sql("UPDATE meetings SET uploaded_by = 'local' WHERE uploaded_by IS NULL")
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_meetings_uploaded_by ON meetings (uploaded_by, recorded_at)"
    )


Migration = tuple[int, str, Callable[[Connection], None]]
MIGRATIONS: list[Migration] = [
    (1, "meetings, action item owners and full-text search", _v1_initial),
    (2, "who stored each meeting", _v2_uploaded_by),
]
LATEST_VERSION = MIGRATIONS[-1][0]
_ADVISORY_LOCK_KEY = 0x6D656574  # "meet"


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, schema_version.name):
        return 0
    return int(
        conn.execute(select(func.coalesce(func.max(schema_version.c.version), 0))).scalar_one()
    )


def migrate(conn: Connection) -> list[int]:
    """Apply the migrations this database lacks, inside the caller's transaction."""
    from meeting_storage.core.models import utc_now

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
    metadata.create_all(conn, tables=[schema_version])
    version = current_version(conn)
    applied = []
    for number, description, apply in MIGRATIONS:
        if number <= version:
            continue
        apply(conn)
        conn.execute(
            schema_version.insert().values(
                version=number, description=description, applied_at=utc_now()
            )
        )
        applied.append(number)
    return applied
