"""boto3 client factory: the one place that decides endpoint, region, credentials, retries and signing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import boto3.exceptions
import s3transfer.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from meeting_storage.core.errors import translate_boto_error, translate_dynamodb_error
from meeting_storage.core.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_transcribe import TranscribeServiceClient

# What an AWS call raises when the call itself, not our code, failed: an error answer
# (ClientError), no answer (BotoCoreError: unreachable, no credentials, ...), or a transfer
# that gave up (boto3's S3UploadFailedError, s3transfer's RetriesExceededError). Code that
# calls AWS catches these and translates them (core/errors.py); anything else is a bug.
AWS_ERRORS: tuple[type[Exception], ...] = (
    ClientError,
    BotoCoreError,
    boto3.exceptions.Boto3Error,
    s3transfer.exceptions.RetriesExceededError,
    s3transfer.exceptions.S3UploadFailedError,
)
MIB = 1024 * 1024
# Streams (an upload arriving through the API or the dashboard server, a pipe) go up in
# 16 MiB parts above 16 MiB: few requests for typical recordings, and far below the
# 10,000-part limit up to 160 GB. A stream is read into memory part by part, so one part is
# read and sent at a time: s3transfer's defaults (ten parts in memory, several in flight)
# made a server's memory grow by over 100 MB per upload, and the client's own connection is
# usually the slower side anyway.
TRANSFER_CONFIG = TransferConfig(
    multipart_threshold=16 * MIB,
    multipart_chunksize=16 * MIB,
    max_concurrency=1,
    use_threads=True,
)
# boto3's constructor does not take this s3transfer setting, so it is set afterwards.
TRANSFER_CONFIG.max_in_memory_upload_chunks = 1
# A file on disk is read part by part as each is sent (nothing is buffered in memory), so
# uploading by path can use as many connections as boto3's own default.
PATH_TRANSFER_CONFIG = TransferConfig(
    multipart_threshold=16 * MIB,
    multipart_chunksize=16 * MIB,
    max_concurrency=10,
    use_threads=True,
)


def client_config(settings: Settings) -> Config:
    options: dict[str, Any] = {
        "signature_version": "s3v4",
        "retries": {"mode": "standard", "max_attempts": 4},
        "connect_timeout": 5,
        "read_timeout": 60,
        "s3": {"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
    }
    if settings.s3_endpoint_url:
        # S3-compatible servers do not all accept the newer default CRC checksums.
        options["request_checksum_calculation"] = "when_required"
        options["response_checksum_validation"] = "when_required"
    return Config(**options)


def make_session(settings: Settings) -> boto3.session.Session:
    return boto3.session.Session(
        profile_name=settings.aws_profile,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=settings.aws_secret_access_key,
        aws_session_token=settings.aws_session_token,
        region_name=settings.region,
    )


def make_s3_client(settings: Settings, session: boto3.session.Session | None = None) -> S3Client:
    """An S3 client for the configured endpoint (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL)."""
    try:
        session = session or make_session(settings)
        client: S3Client = session.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            config=client_config(settings),
        )
    except AWS_ERRORS as exc:
        raise translate_boto_error(exc, bucket=settings.bucket, action="connect to") from exc
    return client


def dynamodb_config() -> Config:
    return Config(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        read_timeout=30,
    )


def make_dynamodb_client(
    settings: Settings, session: boto3.session.Session | None = None
) -> DynamoDBClient:
    """A DynamoDB client for AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else AWS."""
    try:
        session = session or make_session(settings)
        client: DynamoDBClient = session.client(
            "dynamodb",
            endpoint_url=settings.dynamodb_endpoint_url,
            config=dynamodb_config(),
        )
    except AWS_ERRORS as exc:
        raise translate_dynamodb_error(
            exc, table=settings.dynamodb_table_name, action="connect to"
        ) from exc
    return client


def _service_config(read_timeout: int) -> Config:
    return Config(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=5,
        read_timeout=read_timeout,
    )


def make_transcribe_client(
    settings: Settings, session: boto3.session.Session | None = None
) -> TranscribeServiceClient:
    """An Amazon Transcribe client (AWS_ENDPOINT_URL_TRANSCRIBE, else AWS_ENDPOINT_URL)."""
    try:
        session = session or make_session(settings)
        client: TranscribeServiceClient = session.client(
            "transcribe",
            endpoint_url=settings.transcribe_endpoint_url,
            config=_service_config(read_timeout=30),
        )
    except AWS_ERRORS as exc:
        raise translate_boto_error(exc, bucket=settings.bucket, action="connect to") from exc
    return client


def make_bedrock_runtime_client(
    settings: Settings, session: boto3.session.Session | None = None
) -> BedrockRuntimeClient:
    """A Bedrock runtime client in BEDROCK_REGION (else AWS_REGION).

    The endpoint is AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else AWS_ENDPOINT_URL. Model answers
    for a long chunk can take a minute, hence the longer read timeout.
    """
    try:
        session = session or make_session(settings)
        client: BedrockRuntimeClient = session.client(
            "bedrock-runtime",
            region_name=settings.bedrock_region or settings.region,
            endpoint_url=settings.bedrock_endpoint_url,
            config=_service_config(read_timeout=120),
        )
    except AWS_ERRORS as exc:
        raise translate_boto_error(exc, bucket=settings.bucket, action="connect to") from exc
    return client
