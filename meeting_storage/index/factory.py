"""Choose the index backend from settings: the one place that maps INDEX_BACKEND to a class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meeting_storage.core.errors import ConfigurationError
from meeting_storage.core.settings import Settings
from meeting_storage.index import MeetingIndex
from meeting_storage.storage.blobs import BlobStore

if TYPE_CHECKING:
    import boto3


def make_index(
    settings: Settings, documents: BlobStore, *, session: boto3.session.Session | None = None
) -> MeetingIndex:
    """The configured index. Backends import their drivers only when chosen."""
    backend = settings.index_backend
    if backend == "s3json":
        from meeting_storage.index.s3json import S3JsonIndex

        return S3JsonIndex(documents)
    if backend == "dynamodb":
        from meeting_storage.index.dynamodb import DynamoDbIndex
        from meeting_storage.storage.aws import make_dynamodb_client

        return DynamoDbIndex(
            make_dynamodb_client(settings, session),
            settings.dynamodb_table_name,
            region=settings.region,
        )
    if backend in {"sqlite", "postgres"}:
        from meeting_storage.index.sql import SqlIndex

        return SqlIndex(settings.resolved_database_url)
    raise ConfigurationError(f"INDEX_BACKEND {backend!r} is not available.")
