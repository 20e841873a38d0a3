"""Choose the index backend from settings: the one place that maps INDEX_BACKEND to a class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..blobs import BlobStore
from ..errors import ConfigurationError
from ..settings import Settings
from . import MeetingIndex

if TYPE_CHECKING:
    import boto3


def make_index(
    settings: Settings, documents: BlobStore, *, session: boto3.session.Session | None = None
) -> MeetingIndex:
    """The configured index. Backends import their drivers only when chosen."""
    backend = settings.index_backend
    if backend == "s3json":
        from .s3json import S3JsonIndex

        return S3JsonIndex(documents)
    if backend == "dynamodb":
        from ..aws import make_dynamodb_client
        from .dynamodb import DynamoDbIndex

        return DynamoDbIndex(
            make_dynamodb_client(settings, session),
            settings.dynamodb_table_name,
            region=settings.region,
        )
    if backend in {"sqlite", "postgres"}:
        from .sql import SqlIndex

        return SqlIndex(settings.resolved_database_url)
    raise ConfigurationError(f"INDEX_BACKEND {backend!r} is not available.")
