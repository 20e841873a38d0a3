"""QUEUE_BACKEND=local: a durable queue in one SQLite file under LOCAL_DATA_DIR, in huey's
storage (its task, schedule and key-value tables, WAL journal, exclusive transactions), so
several worker processes on this machine share it.

A received message moves, in the same transaction, from huey's task table to its schedule
table, due at the end of its visibility timeout: a worker that dies leaves it there and it
becomes visible again when due, as on SQS. Extending a lease moves the due time; ack deletes
the row. Delayed messages (backoff) are scheduled the same way. Dead letters go to huey's
key-value table under `dead:`.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huey.storage import SqliteStorage

from meeting_storage.queue import Delivery, QueueCounts

QUEUE_NAME = "meeting-jobs"
DEAD_PREFIX = "dead:"


def queue_db_path(local_data_dir: Path) -> Path:
    return local_data_dir / "queue.sqlite3"


class LocalQueue:
    """A JobQueue in a SQLite file (huey's SqliteStorage)."""

    def __init__(self, path: Path, *, max_receives: int = 3) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_receives = max_receives
        self._storage = SqliteStorage(name=QUEUE_NAME, filename=str(path), timeout=30)

    def describe(self) -> str:
        return f"local queue {self.path}"

    def send(self, body: dict[str, Any], delay_seconds: int = 0) -> None:
        envelope = _envelope(body, receives=0)
        if delay_seconds > 0:
            due = datetime.fromtimestamp(time.time() + delay_seconds, UTC)
            self._storage.add_to_schedule(envelope, due)
        else:
            self._storage.enqueue(envelope)

    def receive(self, visibility_timeout: int, wait_seconds: float = 0) -> Delivery | None:
        deadline = time.monotonic() + wait_seconds
        while True:
            delivery = self._receive_once(visibility_timeout)
            if delivery is not None or time.monotonic() >= deadline:
                return delivery
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _receive_once(self, visibility_timeout: int) -> Delivery | None:
        now = time.time()
        with self._storage.db(commit=True) as curs:
            # Due schedule rows (delayed messages, expired leases) become visible again.
            curs.execute(
                "select id, data from schedule where queue = ? and timestamp <= ? "
                "order by timestamp, id",
                (QUEUE_NAME, now),
            )
            for row_id, data in curs.fetchall():
                curs.execute("delete from schedule where id = ?", (row_id,))
                curs.execute(
                    "insert into task (queue, data, priority) values (?, ?, 0)",
                    (QUEUE_NAME, data),
                )
            while True:
                curs.execute(
                    "select id, data from task where queue = ? order by priority desc, id limit 1",
                    (QUEUE_NAME,),
                )
                row = curs.fetchone()
                if row is None:
                    return None
                curs.execute("delete from task where id = ?", (row[0],))
                envelope = json.loads(bytes(row[1]))
                envelope["receives"] = int(envelope.get("receives", 0)) + 1
                if envelope["receives"] > self.max_receives:
                    # Like SQS's redrive policy: received too often (workers died on it).
                    curs.execute(
                        "insert or replace into kv (queue, key, value) values (?, ?, ?)",
                        (QUEUE_NAME, DEAD_PREFIX + envelope["id"], _bytes(envelope)),
                    )
                    continue
                curs.execute(
                    "insert into schedule (queue, data, timestamp) values (?, ?, ?)",
                    (QUEUE_NAME, _bytes(envelope), now + visibility_timeout),
                )
                lease = curs.lastrowid
                return Delivery(
                    body=envelope["body"],
                    receive_count=envelope["receives"],
                    handle=str(lease),
                    message_id=envelope["id"],
                )

    def _move(self, delivery: Delivery, due: float) -> bool:
        with self._storage.db(commit=True) as curs:
            curs.execute(
                "update schedule set timestamp = ? where id = ? and queue = ?",
                (due, int(delivery.handle), QUEUE_NAME),
            )
            return bool(curs.rowcount == 1)

    def extend(self, delivery: Delivery, visibility_timeout: int) -> bool:
        return self._move(delivery, time.time() + visibility_timeout)

    def release(self, delivery: Delivery, delay_seconds: int = 0) -> None:
        self._move(delivery, time.time() + delay_seconds)

    def ack(self, delivery: Delivery) -> None:
        self._storage.sql(
            "delete from schedule where id = ? and queue = ?",
            (int(delivery.handle), QUEUE_NAME),
            commit=True,
        )

    def dead_letter(self, delivery: Delivery) -> None:
        envelope = {
            "id": delivery.message_id,
            "body": delivery.body,
            "receives": delivery.receive_count,
        }
        with self._storage.db(commit=True) as curs:
            curs.execute(
                "delete from schedule where id = ? and queue = ?",
                (int(delivery.handle), QUEUE_NAME),
            )
            curs.execute(
                "insert or replace into kv (queue, key, value) values (?, ?, ?)",
                (QUEUE_NAME, DEAD_PREFIX + delivery.message_id, _bytes(envelope)),
            )

    def counts(self) -> QueueCounts:
        now = time.time()
        rows = self._storage.sql(
            "select "
            "(select count(*) from task where queue = ?), "
            "(select count(*) from schedule where queue = ? and timestamp > ?), "
            "(select count(*) from schedule where queue = ? and timestamp <= ?), "
            "(select count(*) from kv where queue = ? and key like 'dead:%')",
            (QUEUE_NAME, QUEUE_NAME, now, QUEUE_NAME, now, QUEUE_NAME),
            results=True,
        )
        waiting, hidden, due, dead = rows[0]
        # Hidden rows are leases and delayed messages alike; huey's schedule does not tell
        # them apart, so "in flight" counts both.
        return QueueCounts(waiting=waiting + due, in_flight=hidden, dead=dead)

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._storage.sql(
            "select value from kv where queue = ? and key like 'dead:%' limit ?",
            (QUEUE_NAME, limit),
            results=True,
        )
        return [json.loads(bytes(value))["body"] for (value,) in rows]

    def close(self) -> None:
        self._storage.close()


def _envelope(body: dict[str, Any], *, receives: int) -> bytes:
    return _bytes({"id": uuid.uuid4().hex, "body": body, "receives": receives})


def _bytes(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode()
