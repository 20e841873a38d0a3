"""One exception hierarchy for every expected failure, and one translation of botocore errors.

The CLI, the dashboard and the REST API all render these objects: `code` is a stable
machine-readable word, `message` says what went wrong and what to do about it, and
`http_status` is the status the REST API answers with.
"""

from __future__ import annotations

from typing import Any, ClassVar

S3_ACTIONS_NEEDED = "s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket"
DYNAMODB_ACTIONS_NEEDED = (
    "dynamodb:PutItem, dynamodb:GetItem, dynamodb:DeleteItem, dynamodb:Query, "
    "dynamodb:BatchWriteItem, dynamodb:DescribeTable"
)
DYNAMODB_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


class MeetingStorageError(Exception):
    """Base class of every error the package raises on purpose."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 500
    exit_status: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class ConfigurationError(MeetingStorageError):
    code = "configuration"
    http_status = 503


class InvalidInputError(MeetingStorageError):
    code = "invalid_input"
    http_status = 400


class FileTooLargeError(InvalidInputError):
    code = "file_too_large"
    http_status = 413


class UnsupportedMediaTypeError(InvalidInputError):
    code = "unsupported_media_type"
    http_status = 415


class UnauthorizedError(MeetingStorageError):
    """A REST API request without the right bearer token (API_TOKEN)."""

    code = "unauthorized"
    http_status = 401


class NotFoundError(MeetingStorageError):
    code = "not_found"
    http_status = 404


class AccessDeniedError(MeetingStorageError):
    code = "access_denied"
    http_status = 403


class ConflictError(MeetingStorageError):
    code = "conflict"
    http_status = 409


class BackendUnavailableError(MeetingStorageError):
    code = "backend_unavailable"
    http_status = 503


class TranscriptionError(MeetingStorageError):
    """A transcriber could not turn the recording into text (the recording itself is kept)."""

    code = "transcription_failed"
    http_status = 502


def client_error_code(exc: BaseException) -> str:
    """The error code of a botocore ClientError ("" for anything else)."""
    return _client_error_parts(exc)[0]


class NotSupportedError(MeetingStorageError):
    """The S3-compatible server does not implement this feature (Amazon S3 does)."""

    code = "not_supported"
    http_status = 501


def is_not_supported(exc: BaseException) -> bool:
    code, status = _client_error_parts(exc)
    return code in {"NotImplemented", "MethodNotAllowed"} or status in {405, 501}


def _client_error_parts(exc: Any) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def is_precondition_failed(exc: BaseException) -> bool:
    """True for the answer S3 gives when a conditional write (If-Match/If-None-Match) loses."""
    code, status = _client_error_parts(exc)
    return code in {"PreconditionFailed", "ConditionalRequestConflict"} or status in {409, 412}


def is_missing_object(exc: BaseException) -> bool:
    code, status = _client_error_parts(exc)
    return code in {"NoSuchKey", "404", "NotFound"} or status == 404


def translate_boto_error(
    exc: BaseException, *, bucket: str, key: str | None = None, action: str = "access"
) -> MeetingStorageError:
    """Map a botocore/boto3 exception to the package's error with a message that says what to do."""
    # Imported here so that importing errors.py stays cheap for code that never touches AWS.
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
    )

    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"
    if isinstance(exc, MeetingStorageError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return ConfigurationError(
            "No AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
            "AWS_PROFILE, in the environment or in .env."
        )
    if isinstance(exc, ProfileNotFound):
        return ConfigurationError(f"{exc}. Fix AWS_PROFILE or remove it from .env.")
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return BackendUnavailableError(
            f"Cannot reach the S3 endpoint ({exc}). Check AWS_ENDPOINT_URL and your network; "
            "for the embedded server run `make run` first."
        )
    if isinstance(exc, ClientError):
        code, status = _client_error_parts(exc)
        if code in {"NoSuchBucket"} or (status == 404 and key is None):
            return ConfigurationError(
                f"Bucket {bucket!r} does not exist or is not visible with these credentials. "
                "Check S3_BUCKET_NAME and AWS_REGION, or create the bucket."
            )
        if code in {"NoSuchKey", "404", "NotFound"} or status == 404:
            return NotFoundError(f"{where} does not exist.")
        if code in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}:
            return AccessDeniedError(
                f"Access Denied: the AWS credentials were rejected ({code}). Check "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE."
            )
        if code in {"AccessDenied", "AllAccessDisabled", "403", "Forbidden"} or status == 403:
            return AccessDeniedError(
                f"Access Denied while trying to {action} {where}. The credentials need "
                f"{S3_ACTIONS_NEEDED} on arn:aws:s3:::{bucket} and arn:aws:s3:::{bucket}/*; "
                "also check the bucket policy allows your role or user."
            )
        if code in {
            "PermanentRedirect",
            "AuthorizationHeaderMalformed",
            "IllegalLocationConstraint",
        }:
            return ConfigurationError(
                f"Bucket {bucket!r} is in a different region than AWS_REGION ({code}). "
                "Set AWS_REGION to the bucket's region."
            )
        if is_precondition_failed(exc):
            return ConflictError(f"{where} was changed by someone else at the same time; retry.")
        if is_not_supported(exc):
            return NotSupportedError(
                f"The S3 server does not support the request to {action} {where} ({code or status}); "
                "Amazon S3 does. Run this against a real bucket, or skip it on this server."
            )
        if (
            code in {"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}
            or status >= 500
        ):
            return BackendUnavailableError(
                f"S3 is unavailable or throttling ({code or status}) while trying to {action} "
                f"{where}; retry in a moment."
            )
        return BackendUnavailableError(f"S3 refused to {action} {where}: {code or status} {exc}")
    return BackendUnavailableError(f"Unexpected error while trying to {action} {where}: {exc}")


def table_not_found_message(table: str, region: str | None = None) -> str:
    where = f" in {region}" if region else ""
    return (
        f"DynamoDB table not found: {table!r} does not exist{where} or is not visible with these "
        "credentials. Create it with `python -m meeting_storage dynamodb create-table` (or the "
        "CloudFormation snippet in the README; needs dynamodb:CreateTable), or set "
        "USE_DYNAMODB=false (and INDEX_BACKEND=s3json) to use the S3 JSON index."
    )


def translate_dynamodb_error(
    exc: BaseException, *, table: str, action: str = "access", region: str | None = None
) -> MeetingStorageError:
    """Map a botocore exception from DynamoDB to the package's error, saying what to do."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
    )

    if isinstance(exc, MeetingStorageError):
        return exc
    if isinstance(exc, NoCredentialsError | PartialCredentialsError | ProfileNotFound):
        return translate_boto_error(exc, bucket="", action=action)
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        return BackendUnavailableError(
            f"Cannot reach the DynamoDB endpoint ({exc}). Check AWS_ENDPOINT_URL_DYNAMODB (or "
            "AWS_ENDPOINT_URL) and your network."
        )
    if isinstance(exc, ClientError):
        code, status = _client_error_parts(exc)
        if code == "ResourceNotFoundException":
            return ConfigurationError(table_not_found_message(table, region))
        if code in {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredToken"}:
            return AccessDeniedError(
                f"Access Denied: DynamoDB rejected the AWS credentials ({code}). Check "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE."
            )
        if code in {"AccessDeniedException", "AccessDenied"} or status == 403:
            return AccessDeniedError(
                f"Access Denied while trying to {action} the DynamoDB table {table!r}. The "
                f"credentials need {DYNAMODB_ACTIONS_NEEDED} on the table and its indexes "
                f"(arn:aws:dynamodb:*:*:table/{table} and .../index/*)."
            )
        if code in {"ConditionalCheckFailedException", "TransactionConflictException"}:
            return ConflictError(f"The DynamoDB item changed at the same time; retry ({code}).")
        if code in DYNAMODB_THROTTLING or status >= 500:
            return BackendUnavailableError(
                f"DynamoDB is unavailable or throttling ({code or status}) while trying to "
                f"{action} table {table!r}; retry in a moment."
            )
        if code == "ValidationException":
            return InvalidInputError(f"DynamoDB refused to {action} table {table!r}: {exc}")
        return BackendUnavailableError(
            f"DynamoDB refused to {action} table {table!r}: {code or status} {exc}"
        )
    return BackendUnavailableError(
        f"Unexpected error while trying to {action} DynamoDB table {table!r}: {exc}"
    )


def translate_database_error(
    exc: BaseException, *, where: str, action: str = "use"
) -> MeetingStorageError:
    """Map a SQLAlchemy/driver exception to the package's error, saying what to do."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, MeetingStorageError):
        return exc
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else ""
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return ConfigurationError(f"DATABASE_URL is not usable ({detail}); fix DATABASE_URL.")
    if isinstance(exc, sa_exc.OperationalError):
        lowered = detail.lower()
        if "password authentication failed" in lowered or (
            "role" in lowered and "does not exist" in lowered
        ):
            return AccessDeniedError(
                f"Access Denied: the database at {where} refused the login ({detail}). Fix the "
                "user and password in DATABASE_URL."
            )
        if "database" in lowered and "does not exist" in lowered:
            return ConfigurationError(
                f"The database in DATABASE_URL does not exist ({detail}); create it "
                "(createdb NAME) or fix DATABASE_URL."
            )
        if "locked" in lowered or "busy" in lowered:
            return ConflictError(f"The index database {where} is busy ({detail}); retry.")
        if "unable to open database file" in lowered:
            return ConfigurationError(
                f"Cannot open the SQLite index {where} ({detail}); check that its folder is "
                "writable, or set DATABASE_URL."
            )
        return BackendUnavailableError(
            f"Cannot reach the index database at {where} ({detail}). Start the database or "
            "fix DATABASE_URL."
        )
    if isinstance(exc, sa_exc.IntegrityError):
        return ConflictError(f"The index database {where} refused a write ({detail}); retry.")
    if isinstance(exc, sa_exc.DBAPIError):
        return BackendUnavailableError(
            f"The index database at {where} failed to {action} ({detail})."
        )
    return BackendUnavailableError(
        f"Unexpected error while trying to {action} the index database at {where}: {exc}"
    )
