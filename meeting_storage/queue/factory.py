"""The configured job queue (QUEUE_BACKEND)."""

from __future__ import annotations

from meeting_storage.core.errors import ConfigurationError
from meeting_storage.core.settings import Settings
from meeting_storage.queue import JobQueue
from meeting_storage.queue.local import LocalQueue, queue_db_path
from meeting_storage.queue.sqs import SqsQueue, make_sqs_client


def make_queue(settings: Settings) -> JobQueue:
    if settings.queue_backend == "sqs":
        if not settings.queue_url:
            raise ConfigurationError("QUEUE_BACKEND=sqs needs QUEUE_URL (see `queue create`).")
        return SqsQueue(
            make_sqs_client(settings), settings.queue_url, max_receives=settings.job_max_attempts
        )
    return LocalQueue(
        queue_db_path(settings.local_data_dir), max_receives=settings.job_max_attempts
    )
