"""The worker loop: receive a job, keep its message hidden while working on it (a heartbeat
thread extends the visibility timeout every third of it), then acknowledge it, give it back
after a backoff, or move it to the dead-letter queue (see service/jobs.py for the outcomes).

Messages are this package's jobs ({"kind": "process", "meeting_id": ...}) or S3 event
notifications for recordings under meetings/ (they become queued meetings and jobs).

Stopping: `stop` (an Event) ends the loop after the current job; `WorkerInterrupted`,
raised in the loop's thread (a second SIGTERM, see cli/worker.py), gives the current job back
to the queue (visible again at once) before it propagates.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from meeting_storage.core.errors import BackendUnavailableError, MeetingStorageError
from meeting_storage.core.models import MeetingRecord
from meeting_storage.queue import Delivery, JobQueue
from meeting_storage.service.jobs import (
    JOB_KIND,
    OUTCOME_CANCELLED,
    OUTCOME_COMPLETE,
    OUTCOME_DONE_BEFORE,
    OUTCOME_FAILED,
    OUTCOME_LOST,
    OUTCOME_RETRY,
    MeetingJobs,
    backoff_seconds,
)

log = logging.getLogger(__name__)

OUTCOME_EVENT = "event"  # an S3 event turned into a queued meeting
OUTCOME_UNREADABLE = "unreadable"  # neither a job nor an S3 event: dead-lettered
OnOutcome = Callable[[str, str], None]


class WorkerInterrupted(BaseException):
    """Stop now: the current job goes back to the queue."""


@dataclass
class WorkerStats:
    """How many messages ended how, by outcome."""

    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


class Heartbeat:
    """Extends a message's visibility timeout while its job runs."""

    def __init__(self, queue: JobQueue, delivery: Delivery, visibility: int) -> None:
        self._queue = queue
        self._delivery = delivery
        self._visibility = visibility
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stopped.wait(max(1.0, self._visibility / 3)):
            try:
                if not self._queue.extend(self._delivery, self._visibility):
                    log.warning("Lost the lease of %s", self._delivery.body)
                    return
            except MeetingStorageError as exc:  # try again at the next beat
                log.warning("Could not extend the job's visibility: %s", exc.message)


def uploaded_keys(body: dict[str, Any]) -> list[str]:
    """The object keys of an S3 event notification's ObjectCreated records."""
    keys = []
    for record in body.get("Records") or []:
        if not isinstance(record, dict) or not str(record.get("eventName", "")).startswith(
            "ObjectCreated"
        ):
            continue
        key = ((record.get("s3") or {}).get("object") or {}).get("key")
        if isinstance(key, str):
            keys.append(unquote_plus(key))
    return keys


def handle(jobs: MeetingJobs, queue: JobQueue, delivery: Delivery) -> str:
    """Do one message's work and settle the message; return the outcome."""
    body = delivery.body
    if body.get("Event") == "s3:TestEvent":  # sent once when a notification is set up
        queue.ack(delivery)
        return OUTCOME_DONE_BEFORE
    if "Records" in body:
        for key in uploaded_keys(body):
            try:
                jobs.submit_uploaded(key)
            except MeetingStorageError as exc:  # a recording refused (size, content): say so
                log.warning("The uploaded object %s was not queued: %s", key, exc.message)
        queue.ack(delivery)
        return OUTCOME_EVENT
    meeting_id = body.get("meeting_id")
    if body.get("kind") != JOB_KIND or not isinstance(meeting_id, str):
        log.warning("Moved an unreadable message to the dead-letter queue: %.200s", body)
        queue.dead_letter(delivery)
        return OUTCOME_UNREADABLE
    final = delivery.receive_count >= queue.max_receives
    visibility = jobs.settings.job_visibility_timeout
    try:
        with Heartbeat(queue, delivery, visibility):
            outcome = jobs.run_job(meeting_id, attempt=delivery.receive_count, final=final)
    except WorkerInterrupted:
        queue.release(delivery, 0)
        raise
    if outcome in (OUTCOME_COMPLETE, OUTCOME_DONE_BEFORE, OUTCOME_CANCELLED, OUTCOME_LOST):
        # LOST: another worker holds the meeting (and its own message); this copy is spare.
        queue.ack(delivery)
    elif outcome == OUTCOME_RETRY:
        queue.release(
            delivery, backoff_seconds(delivery.receive_count, jobs.settings.job_retry_delay)
        )
    elif outcome == OUTCOME_FAILED:
        queue.dead_letter(delivery)
    return outcome


def work_once(
    jobs: MeetingJobs, queue: JobQueue, *, wait_seconds: float = 0
) -> tuple[str, str] | None:
    """Take at most one message and handle it; (meeting or event, outcome), or None when
    the queue had nothing within `wait_seconds`."""
    delivery = queue.receive(jobs.settings.job_visibility_timeout, wait_seconds)
    if delivery is None:
        return None
    outcome = handle(jobs, queue, delivery)
    return str(delivery.body.get("meeting_id", "event")), outcome


def run_worker(
    jobs: MeetingJobs,
    stop: threading.Event,
    *,
    queue: JobQueue | None = None,
    max_jobs: int | None = None,
    exit_when_empty: bool = False,
    on_outcome: OnOutcome | None = None,
    poll_seconds: float = 5,
) -> WorkerStats:
    """Work the queue until `stop` is set (or `max_jobs` messages, or an empty queue)."""
    queue = queue or jobs.queue
    stats = WorkerStats()
    while not stop.is_set():
        if max_jobs is not None and stats.handled >= max_jobs:
            break
        try:
            done = work_once(jobs, queue, wait_seconds=0 if exit_when_empty else poll_seconds)
        except MeetingStorageError as exc:  # the queue or the bucket is unreachable: wait
            log.warning("The worker could not take a job: %s", exc.message)
            stop.wait(poll_seconds)
            continue
        if done is None:
            if exit_when_empty:
                break
            continue
        stats.count(done[1])
        if on_outcome is not None:
            on_outcome(*done)
    return stats


def wait_for_meeting(
    jobs: MeetingJobs,
    meeting_id: str,
    *,
    work: bool = True,
    timeout: float | None = None,
    on_status: Callable[[MeetingRecord], None] | None = None,
    poll_seconds: float = 0.5,
) -> MeetingRecord:
    """Wait until the meeting's job is over (complete, awaiting a transcript or failed) and
    return its record. With `work`, this process works the queue while it waits (so a
    command waiting with no worker running still finishes); `timeout` raises
    BackendUnavailableError when the job is still in flight after that many seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    seen: tuple[str, float | None] | None = None
    while True:
        record = jobs.get_record(meeting_id)
        if on_status is not None and (record.status, record.progress) != seen:
            seen = (record.status, record.progress)
            on_status(record)
        if not record.in_flight:
            return record
        if deadline is not None and time.monotonic() >= deadline:
            raise BackendUnavailableError(
                f"Meeting {meeting_id} is still {record.status} after {timeout:.0f} s; no worker "
                "took its job. Start one with `python -m meeting_storage worker`."
            )
        if not work or work_once(jobs, jobs.queue, wait_seconds=0) is None:
            time.sleep(poll_seconds)
