"""The job queue: one small protocol, two backends (local SQLite through huey's storage, and
Amazon SQS). A message is a small JSON object; delivery is at least once, so whoever does the
work must be idempotent (meeting_storage/service/jobs.py is).

A received message is invisible to other workers for a visibility timeout, which the worker
extends while it works (`extend`); a worker that dies lets it reappear. `release` makes it
visible again after a delay (retry with backoff, or a worker shutting down), `ack` removes it,
and a message received more than `max_receives` times goes to the dead-letter queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    """One received message: its body, how many times it has been received (1 the first
    time), and the backend's handle to acknowledge, extend or release it."""

    body: dict[str, Any]
    receive_count: int
    handle: str
    message_id: str = ""


@dataclass(frozen=True)
class QueueCounts:
    """Messages waiting (or delayed), being worked on, and on the dead-letter queue."""

    waiting: int
    in_flight: int
    dead: int
    notes: tuple[str, ...] = field(default_factory=tuple)


class JobQueue(Protocol):
    """What a worker and the service need from a queue."""

    max_receives: int

    def describe(self) -> str:
        """Where the queue is, for messages."""
        ...

    def send(self, body: dict[str, Any], delay_seconds: int = 0) -> None: ...

    def receive(self, visibility_timeout: int, wait_seconds: float = 0) -> Delivery | None:
        """The next visible message, hidden from others for `visibility_timeout` seconds."""
        ...

    def extend(self, delivery: Delivery, visibility_timeout: int) -> bool:
        """Keep the message hidden for `visibility_timeout` more seconds; False when the
        lease was lost (it reappeared and another worker may have it)."""
        ...

    def release(self, delivery: Delivery, delay_seconds: int = 0) -> None:
        """Make the message visible again after `delay_seconds`."""
        ...

    def ack(self, delivery: Delivery) -> None:
        """The work is done: remove the message."""
        ...

    def dead_letter(self, delivery: Delivery) -> None:
        """Move the message to the dead-letter queue (its work failed for good)."""
        ...

    def counts(self) -> QueueCounts: ...

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The bodies on the dead-letter queue (a look, without removing them)."""
        ...
