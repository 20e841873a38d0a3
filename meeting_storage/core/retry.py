"""Retrying a call that failed for a reason that may pass (throttling, a lost race, a blip)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from meeting_storage.core.errors import BackendUnavailableError, ConflictError

T = TypeVar("T")
RETRYABLE: tuple[type[Exception], ...] = (BackendUnavailableError, ConflictError)


def retrying(
    operation: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `operation` up to `attempts` times, backing off with jitter between tries;
    errors that retrying cannot fix (bad input, missing table, access denied) fail at once."""
    for attempt in range(attempts):
        try:
            return operation()
        except RETRYABLE:
            if attempt == attempts - 1:
                raise
            sleep(base_delay * 2**attempt * (0.5 + random.random()))  # noqa: S311
    raise AssertionError("unreachable")  # pragma: no cover
