"""One backoff loop: its attempts and delays, and the three callers that use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meeting_storage.core.errors import (
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
)
from meeting_storage.core.retry import DEFAULT_BACKOFF, Backoff, retrying
from meeting_storage.index import dynamodb, s3json
from meeting_storage.index.dynamodb import DynamoDbIndex
from meeting_storage.index.s3json import S3JsonIndex
from meeting_storage.storage.blobs import LocalBlobStore


class Flaky:
    """Fails `failures` times with `error`, then answers "ok"."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


def test_delays_double_up_to_the_cap_with_the_jitter_given() -> None:
    waits: list[float] = []
    flaky = Flaky(4, ConflictError("lost the race"))
    backoff = Backoff(base_delay=1.0, max_delay=3.0, jitter=(1.0, 1.0))
    assert retrying(flaky, attempts=5, backoff=backoff, sleep=waits.append) == "ok"
    assert flaky.calls == 5
    assert waits == [1.0, 2.0, 3.0, 3.0]


def test_the_last_failure_is_raised_after_the_attempts_without_a_final_wait() -> None:
    waits: list[float] = []
    flaky = Flaky(10, BackendUnavailableError("down"))
    with pytest.raises(BackendUnavailableError, match="down"):
        retrying(flaky, attempts=3, sleep=waits.append)
    assert flaky.calls == 3 and len(waits) == 2


def test_errors_not_worth_a_retry_fail_at_once() -> None:
    waits: list[float] = []
    flaky = Flaky(1, ConfigurationError("no table"))
    with pytest.raises(ConfigurationError):
        retrying(flaky, sleep=waits.append)
    assert flaky.calls == 1 and waits == []

    only_conflicts = Flaky(1, BackendUnavailableError("down"))
    with pytest.raises(BackendUnavailableError):
        retrying(only_conflicts, retry_on=(ConflictError,), sleep=waits.append)
    assert only_conflicts.calls == 1


def test_the_jitter_spreads_each_delay_between_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("meeting_storage.core.retry.random.random", lambda: 0.0)
    assert [DEFAULT_BACKOFF.delay(n) for n in range(3)] == pytest.approx([0.1, 0.2, 0.4])
    monkeypatch.setattr("meeting_storage.core.retry.random.random", lambda: 1.0)
    assert [DEFAULT_BACKOFF.delay(n) for n in range(3)] == pytest.approx([0.3, 0.6, 1.2])


def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr("meeting_storage.core.retry.time.sleep", waits.append)
    monkeypatch.setattr("meeting_storage.core.retry.random.random", lambda: 1.0)
    return waits


def test_the_s3_json_index_retries_a_lost_race_with_its_own_backoff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits = recorded_sleeps(monkeypatch)
    store = LocalBlobStore(tmp_path)
    index = S3JsonIndex(store)
    writes: list[str] = []

    def always_conflicting(*args: Any, **kwargs: Any) -> str:
        writes.append(args[0])
        raise ConflictError("changed by another writer")

    monkeypatch.setattr(store, "put", always_conflicting)
    with pytest.raises(ConflictError, match=f"kept changing under {s3json.MAX_ATTEMPTS}"):
        index.rebuild([])
    assert len(writes) == s3json.MAX_ATTEMPTS
    expected = [min(1.0, 0.02 * 2**n) for n in range(s3json.MAX_ATTEMPTS - 1)]
    assert waits == pytest.approx(expected)


class UnprocessingClient:
    """A DynamoDB client whose BatchWriteItem never processes anything (throttled)."""

    def __init__(self) -> None:
        self.batches = 0

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.batches += 1
        return {"UnprocessedItems": RequestItems}


def test_the_dynamodb_index_resends_unprocessed_writes_with_its_own_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits = recorded_sleeps(monkeypatch)
    client = UnprocessingClient()
    index = DynamoDbIndex(client, "meeting-metadata")  # type: ignore[arg-type]
    with pytest.raises(BackendUnavailableError, match="kept throttling"):
        index.delete_many(["a", "b"])
    assert client.batches == dynamodb.BATCH_ATTEMPTS
    expected = [min(2.0, 0.05 * 2**n) for n in range(dynamodb.BATCH_ATTEMPTS - 1)]
    assert waits == pytest.approx(expected)
