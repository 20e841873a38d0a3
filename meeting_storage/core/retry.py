"""Retrying a call that failed for a reason that may pass (throttling, a lost race, a blip).

The one backoff loop of the package: the service retries index writes with it, the S3 JSON
index re-applies a change that lost a race, and the DynamoDB index resends the writes a batch
left unprocessed. Each passes its own attempts, delays and what counts as worth a retry.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from meeting_storage.core.errors import BackendUnavailableError, ConflictError

T = TypeVar("T")
RETRYABLE: tuple[type[Exception], ...] = (BackendUnavailableError, ConflictError)


@dataclass(frozen=True)
class Backoff:
    """The wait after failed try n (from 0): `base_delay` x 2^n, at most `max_delay`, times a
    random factor between `jitter` low and high, so that writers who collided spread out."""

    base_delay: float
    max_delay: float = math.inf
    jitter: tuple[float, float] = (0.0, 1.0)

    def delay(self, attempt: int) -> float:
        low, high = self.jitter
        factor = low + (high - low) * random.random()  # noqa: S311 - spreading, not secrecy
        return min(self.max_delay, self.base_delay * 2.0**attempt) * factor


# Around 0.2 s, 0.4 s, ...: a blip of the backend, worth a short wait.
DEFAULT_BACKOFF = Backoff(base_delay=0.2, jitter=(0.5, 1.5))


def retrying(
    operation: Callable[[], T],
    *,
    attempts: int = 3,
    backoff: Backoff = DEFAULT_BACKOFF,
    retry_on: tuple[type[Exception], ...] = RETRYABLE,
    sleep: Callable[[float], None] | None = None,
    asked_wait: Callable[[Exception], float | None] | None = None,
) -> T:
    """Call `operation` up to `attempts` times, waiting as `backoff` says between tries; the
    last failure is raised. Errors that retrying cannot fix (bad input, a missing table,
    access denied: anything not in `retry_on`) fail at once. `asked_wait` reads the wait a
    failure asks for (an HTTP Retry-After), waited instead when longer, at most `max_delay`."""
    wait = sleep or time.sleep
    for attempt in range(attempts - 1):
        try:
            return operation()
        except retry_on as exc:
            delay = backoff.delay(attempt)
            asked = asked_wait(exc) if asked_wait is not None else None
            if asked is not None and asked > delay:
                delay = min(asked, backoff.max_delay)
            wait(delay)
    return operation()
