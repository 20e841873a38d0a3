"""The job queue's contract, once per backend: the local SQLite queue (huey's storage) and
SQS (a moto server in its own process)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from meeting_storage.core.settings import Settings
from meeting_storage.queue import JobQueue
from meeting_storage.queue.local import LocalQueue
from meeting_storage.queue.sqs import SqsQueue, create_queue_pair, make_sqs_client
from tests.conftest import ACCESS_KEY, REGION, SECRET_KEY

QueueFactory = Callable[[int], JobQueue]


def sqs_settings(endpoint: str, tmp_path: Path) -> Settings:
    return Settings(
        bucket="unused-bucket",
        region=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        local_data_dir=tmp_path / "local",
        queue_backend="sqs",
        sqs_endpoint_url=endpoint,
    )


def new_sqs_queue(endpoint: str, tmp_path: Path, max_receives: int) -> SqsQueue:
    client = make_sqs_client(sqs_settings(endpoint, tmp_path))
    created = create_queue_pair(
        client, f"jobs-{uuid.uuid4().hex[:12]}", max_receives=max_receives, visibility=30
    )
    return SqsQueue(client, created["queue_url"], max_receives=max_receives)


@pytest.fixture(params=["local", "sqs"])
def new_queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueFactory]:
    if request.param == "local":
        yield lambda receives: LocalQueue(
            tmp_path / f"{uuid.uuid4().hex}.sqlite3", max_receives=receives
        )
    else:
        endpoint = request.getfixturevalue("sqs_endpoint")
        yield lambda receives: new_sqs_queue(endpoint, tmp_path, receives)


def test_a_message_is_received_once_and_acknowledged(new_queue: QueueFactory) -> None:
    queue = new_queue(3)
    queue.send({"kind": "process", "meeting_id": "meeting-1"})
    delivery = queue.receive(30)
    assert delivery is not None
    assert delivery.body == {"kind": "process", "meeting_id": "meeting-1"}
    assert delivery.receive_count == 1
    assert queue.receive(30) is None  # hidden while in flight
    queue.ack(delivery)
    counts = queue.counts()
    assert (counts.waiting, counts.in_flight, counts.dead) == (0, 0, 0)


def test_an_unacknowledged_message_comes_back_after_its_visibility_timeout(
    new_queue: QueueFactory,
) -> None:
    queue = new_queue(3)
    queue.send({"n": 1})
    first = queue.receive(1)
    assert first is not None
    assert queue.receive(1) is None
    time.sleep(1.6)
    again = queue.receive(30)
    assert again is not None and again.body == {"n": 1}
    assert again.receive_count == 2


def test_extending_keeps_a_message_hidden(new_queue: QueueFactory) -> None:
    queue = new_queue(3)
    queue.send({"n": 2})
    delivery = queue.receive(2)
    assert delivery is not None
    time.sleep(1)
    assert queue.extend(delivery, 4)
    time.sleep(1.6)  # past the first timeout, within the extended one
    assert queue.receive(30) is None
    queue.ack(delivery)


def test_release_makes_a_message_visible_again(new_queue: QueueFactory) -> None:
    queue = new_queue(3)
    queue.send({"n": 3})
    delivery = queue.receive(30)
    assert delivery is not None
    queue.release(delivery, 0)
    again = queue.receive(30)
    assert again is not None and again.body == {"n": 3} and again.receive_count == 2


def test_a_delayed_message_waits(new_queue: QueueFactory) -> None:
    queue = new_queue(3)
    queue.send({"n": 4}, delay_seconds=2)
    assert queue.receive(30) is None
    time.sleep(2.5)
    delivery = queue.receive(30, wait_seconds=1)
    assert delivery is not None and delivery.body == {"n": 4}


def test_dead_letters_leave_the_queue_and_can_be_seen(new_queue: QueueFactory) -> None:
    queue = new_queue(3)
    queue.send({"kind": "process", "meeting_id": "meeting-poison"})
    queue.send({"kind": "process", "meeting_id": "meeting-fine"})
    first = queue.receive(30)
    assert first is not None and first.body["meeting_id"] == "meeting-poison"
    queue.dead_letter(first)
    second = queue.receive(30)
    assert second is not None and second.body["meeting_id"] == "meeting-fine"
    queue.ack(second)
    assert queue.receive(30) is None
    assert queue.counts().dead == 1
    assert queue.dead_letters() == [{"kind": "process", "meeting_id": "meeting-poison"}]


def test_a_message_received_too_often_goes_to_the_dead_letter_queue(
    new_queue: QueueFactory,
) -> None:
    """Workers that die on a message (never acknowledging it) do not loop for ever."""
    queue = new_queue(2)
    queue.send({"n": 5})
    for _ in range(2):
        assert queue.receive(1) is not None
        time.sleep(1.6)
    assert queue.receive(1) is None
    assert queue.counts().dead == 1
