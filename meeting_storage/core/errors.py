"""One exception hierarchy for every failure, and one table that translates library errors to it.

The CLI, the dashboard and the REST API all render these objects: `code` is a stable
machine-readable word, `message` says what went wrong and what to do about it, and
`http_status` is the status the REST API answers with.

Code that talks to AWS, a database or the disk catches that library's own errors (botocore's
ClientError and BotoCoreError, SQLAlchemy's, OSError) and translates them through
`ERROR_TABLE`; anything else is a bug and reaches the user as `InternalError`.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

logger = logging.getLogger(__name__)

S3_ACTIONS_NEEDED = "s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket"
DYNAMODB_ACTIONS_NEEDED = (
    "dynamodb:PutItem, dynamodb:GetItem, dynamodb:DeleteItem, dynamodb:Query, "
    "dynamodb:BatchWriteItem, dynamodb:DescribeTable"
)
DYNAMODB_THROTTLING = (
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
)
TRANSCRIBE_ACTIONS = "transcribe:StartTranscriptionJob and transcribe:GetTranscriptionJob"


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


class ForbiddenError(MeetingStorageError):
    """The acting person's role does not allow this (see core/access.py)."""

    code = "forbidden"
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


class NotSupportedError(MeetingStorageError):
    """The S3-compatible server does not implement this feature (Amazon S3 does)."""

    code = "not_supported"
    http_status = 501


class InternalError(MeetingStorageError):
    """An exception nobody planned for: a bug in the package, not a problem with the input,
    the settings or a backend. Its traceback goes to the log, never to the user."""

    code = "internal_error"
    http_status = 500

    @classmethod
    def of(cls, exc: BaseException) -> InternalError:
        """The user's one line about a bug (its type, never its text: that may hold secrets)."""
        return cls(
            f"Unexpected {type(exc).__name__}: a bug in meeting-storage, not a problem with "
            "your input or settings; please report it with the traceback from the log."
        )


class JobFailedError(MeetingStorageError):
    """A meeting's job failed for good (after JOB_MAX_ATTEMPTS): the meeting is stored as
    failed with the reason and the step; retry it once the cause is fixed."""

    code = "job_failed"
    http_status = 502


# ------------------------------------------------------------------ the translation table


@dataclass(frozen=True)
class Translation:
    """What a library error becomes: one of our errors, with a message saying what to do.
    The message is a template filled from the failure's context ({where}, {action}, {code}...)."""

    error: type[MeetingStorageError]
    message: str

    def build(self, context: dict[str, Any]) -> MeetingStorageError:
        return self.error(self.message.format(**context))


# Words for failures without an error code of their own (raised by the SDK before any answer,
# by a database driver or by the disk), next to the services' own error codes.
UNREACHABLE = "unreachable"
NO_CREDENTIALS = "no_credentials"
REFUSED = "refused"  # the service's row for an error code nobody listed
S3_BUCKET_MISSING = "NoSuchBucket"
S3_OBJECT_MISSING = ("NoSuchKey", "404", "NotFound")
S3_PRECONDITION = ("PreconditionFailed", "ConditionalRequestConflict")
S3_NOT_IMPLEMENTED = ("NotImplemented", "MethodNotAllowed")
_TABLE_MISSING = (
    "DynamoDB table not found: {table!r} does not exist{in_region} or is not visible with these "
    "credentials. Create it with `python -m meeting_storage dynamodb create-table` (or the "
    "CloudFormation snippet in the README; needs dynamodb:CreateTable), or set "
    "USE_DYNAMODB=false (and INDEX_BACKEND=s3json) to use the S3 JSON index."
)

# fmt: off
_ROWS: list[tuple[str, str | tuple[str, ...], type[MeetingStorageError], str]] = [
    # service, its error codes, what they become, what to tell the user.
    # "aws": any AWS service, for what the SDK says before an answer; a service's own row wins.
    ("aws", NO_CREDENTIALS, ConfigurationError,
     "No AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
     "AWS_PROFILE, in the environment or in .env."),
    ("aws", "profile_not_found", ConfigurationError,
     "{exc}. Fix AWS_PROFILE or remove it from .env."),
    ("aws", "credentials_unavailable", ConfigurationError,
     "The AWS credentials could not be loaded ({exc}). Refresh them (`aws sso login` for an "
     "SSO profile) or fix AWS_PROFILE."),
    ("aws", "no_region", ConfigurationError,
     "No AWS region is configured ({exc}); set AWS_REGION."),
    ("aws", "malformed_request", InvalidInputError,
     "The request to {action} {where} is malformed ({exc}); check the names in the settings "
     "(S3_BUCKET_NAME, DYNAMODB_TABLE_NAME)."),
    ("aws", "sdk_failure", BackendUnavailableError,
     "The AWS SDK failed to {action} {where} ({exc}); retry in a moment, and check the "
     "endpoint settings if it keeps failing."),

    ("s3", S3_BUCKET_MISSING, ConfigurationError,
     "Bucket {bucket!r} does not exist or is not visible with these credentials. "
     "Check S3_BUCKET_NAME and AWS_REGION, or create the bucket."),
    ("s3", S3_OBJECT_MISSING, NotFoundError, "{where} does not exist."),
    ("s3", ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"),
     AccessDeniedError,
     "Access Denied: the AWS credentials were rejected ({code}). Check "
     "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE."),
    ("s3", ("AccessDenied", "AllAccessDisabled", "403", "Forbidden"), AccessDeniedError,
     "Access Denied while trying to {action} {where}. The credentials need " + S3_ACTIONS_NEEDED
     + " on arn:aws:s3:::{bucket} and arn:aws:s3:::{bucket}/*; also check the bucket policy "
     "allows your role or user."),
    ("s3", ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraint"),
     ConfigurationError,
     "Bucket {bucket!r} is in a different region than AWS_REGION ({code}). "
     "Set AWS_REGION to the bucket's region."),
    ("s3", S3_PRECONDITION, ConflictError,
     "{where} was changed by someone else at the same time; retry."),
    ("s3", S3_NOT_IMPLEMENTED, NotSupportedError,
     "The S3 server does not support the request to {action} {where} ({code}); Amazon S3 "
     "does. Run this against a real bucket, or skip it on this server."),
    ("s3", ("SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"),
     BackendUnavailableError,
     "S3 is unavailable or throttling ({code}) while trying to {action} {where}; retry in a "
     "moment."),
    ("s3", UNREACHABLE, BackendUnavailableError,
     "Cannot reach the S3 endpoint ({exc}). Check AWS_ENDPOINT_URL and your network; "
     "for the embedded server run `make run` first."),
    ("s3", REFUSED, BackendUnavailableError, "S3 refused to {action} {where}: {code} {exc}"),

    ("dynamodb", "ResourceNotFoundException", ConfigurationError, _TABLE_MISSING),
    ("dynamodb", ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredToken"),
     AccessDeniedError,
     "Access Denied: DynamoDB rejected the AWS credentials ({code}). Check "
     "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE."),
    ("dynamodb", ("AccessDeniedException", "AccessDenied"), AccessDeniedError,
     "Access Denied while trying to {action} the DynamoDB table {table!r}. The credentials "
     "need " + DYNAMODB_ACTIONS_NEEDED + " on the table and its indexes "
     "(arn:aws:dynamodb:*:*:table/{table} and .../index/*)."),
    ("dynamodb", ("ConditionalCheckFailedException", "TransactionConflictException"),
     ConflictError, "The DynamoDB item changed at the same time; retry ({code})."),
    ("dynamodb", DYNAMODB_THROTTLING, BackendUnavailableError,
     "DynamoDB is unavailable or throttling ({code}) while trying to {action} table {table!r}; "
     "retry in a moment."),
    ("dynamodb", "ValidationException", InvalidInputError,
     "DynamoDB refused to {action} table {table!r}: {exc}"),
    ("dynamodb", UNREACHABLE, BackendUnavailableError,
     "Cannot reach the DynamoDB endpoint ({exc}). Check AWS_ENDPOINT_URL_DYNAMODB (or "
     "AWS_ENDPOINT_URL) and your network."),
    ("dynamodb", REFUSED, BackendUnavailableError,
     "DynamoDB refused to {action} table {table!r}: {code} {exc}"),

    ("transcribe", ("AccessDeniedException", "AccessDenied", "UnrecognizedClientException"),
     AccessDeniedError,
     "Access Denied: AWS Transcribe refused to {action} ({code}). The credentials need "
     + TRANSCRIBE_ACTIONS + "; or set TRANSCRIBER=whisper or none."),
    ("transcribe", ("LimitExceededException", "ThrottlingException", "InternalFailureException"),
     BackendUnavailableError,
     "AWS Transcribe is busy ({code}) and could not {action}; try again later."),
    ("transcribe", "BadRequestException:media", UnsupportedMediaTypeError,
     "AWS Transcribe cannot read the recording: {exc}"),
    ("transcribe", "BadRequestException:language", ConfigurationError,
     "{exc}. Check TRANSCRIBE_LANGUAGE."),
    ("transcribe", "BadRequestException", TranscriptionError,
     "AWS Transcribe refused to {action}: {exc}"),
    ("transcribe", NO_CREDENTIALS, ConfigurationError,
     "No AWS credentials found for AWS Transcribe. Set AWS_PROFILE (or keys), or set "
     "TRANSCRIBER=whisper or none."),
    ("transcribe", (UNREACHABLE, "sdk_failure"), BackendUnavailableError,
     "Cannot reach AWS Transcribe to {action}: {exc}"),
    ("transcribe", REFUSED, TranscriptionError,
     "AWS Transcribe could not {action}: {code} {exc}"),

    # The SQL index: SQLAlchemy over sqlite3 or psycopg.
    ("database", "bad_url", ConfigurationError,
     "DATABASE_URL is not usable ({detail}); fix DATABASE_URL."),
    ("database", "login_refused", AccessDeniedError,
     "Access Denied: the database at {where} refused the login ({detail}). Fix the user and "
     "password in DATABASE_URL."),
    ("database", "database_missing", ConfigurationError,
     "The database in DATABASE_URL does not exist ({detail}); create it (createdb NAME) or "
     "fix DATABASE_URL."),
    ("database", "busy", ConflictError, "The index database {where} is busy ({detail}); retry."),
    ("database", "cannot_open", ConfigurationError,
     "Cannot open the SQLite index {where} ({detail}); check that its folder is writable, or "
     "set DATABASE_URL."),
    ("database", UNREACHABLE, BackendUnavailableError,
     "Cannot reach the index database at {where} ({detail}). Start the database or fix "
     "DATABASE_URL."),
    ("database", "integrity", ConflictError,
     "The index database {where} refused a write ({detail}); retry."),
    ("database", REFUSED, BackendUnavailableError,
     "The index database at {where} failed to {action} ({detail})."),

    # Files on this machine (STORE_IN_S3=false keeps the bucket's keys under LOCAL_DATA_DIR).
    ("file", "FileNotFoundError", NotFoundError, "{where} does not exist."),
    ("file", "PermissionError", AccessDeniedError,
     "Permission denied while trying to {action} {where}; let this user read and write the "
     "folder, or set LOCAL_DATA_DIR to one it can."),
    ("file", "no_space", BackendUnavailableError,
     "No space left on the disk to {action} {where}; free some space and retry."),
    ("file", REFUSED, BackendUnavailableError, "Cannot {action} {where}: {exc}"),
]
# fmt: on

ERROR_TABLE: dict[tuple[str, str], Translation] = {
    (service, code): Translation(error, message)
    for service, codes, error, message in _ROWS
    for code in ((codes,) if isinstance(codes, str) else codes)
}
"""(service, error code or failure word) -> the package's error and what to tell the user."""


def translation_for(service: str, code: str) -> Translation:
    """The row for a service's error code: the service's own, else the one for any AWS
    service, else the service's row for codes nobody listed."""
    return (
        ERROR_TABLE.get((service, code))
        or ERROR_TABLE.get(("aws", code))
        or ERROR_TABLE[(service, REFUSED)]
    )


def bug(exc: BaseException, where: str) -> InternalError:
    """An exception no translation expects: log its traceback and call it a bug."""
    logger.error("Unexpected error while trying to %s", where, exc_info=exc)
    return InternalError.of(exc)


# ------------------------------------------------------------------ AWS


def client_error_code(exc: BaseException) -> str:
    """The error code of a botocore ClientError ("" for anything else)."""
    return _client_error_parts(exc)[0]


def _client_error_parts(exc: Any) -> tuple[str, int]:
    response = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code, status


def is_not_supported(exc: BaseException) -> bool:
    code, status = _client_error_parts(exc)
    return code in S3_NOT_IMPLEMENTED or status in {405, 501}


def is_precondition_failed(exc: BaseException) -> bool:
    """True for the answer S3 gives when a conditional write (If-Match/If-None-Match) loses."""
    code, status = _client_error_parts(exc)
    return code in S3_PRECONDITION or status in {409, 412}


def is_missing_object(exc: BaseException) -> bool:
    code, status = _client_error_parts(exc)
    return code in S3_OBJECT_MISSING or status == 404


def _sdk_word(exc: BaseException) -> str | None:
    """The table's word for a botocore error raised without an answer, None for an answer."""
    from botocore import exceptions as boto

    if isinstance(exc, boto.NoCredentialsError | boto.PartialCredentialsError):
        return NO_CREDENTIALS
    if isinstance(exc, boto.ProfileNotFound):
        return "profile_not_found"
    if isinstance(exc, boto.CredentialRetrievalError | boto.TokenRetrievalError | boto.SSOError):
        return "credentials_unavailable"
    if isinstance(exc, boto.NoRegionError):
        return "no_region"
    if isinstance(exc, boto.ConnectionError | boto.HTTPClientError):
        return UNREACHABLE
    if isinstance(exc, boto.ParamValidationError):
        return "malformed_request"
    if isinstance(exc, boto.BotoCoreError):
        return "sdk_failure"
    return None


def _aws_cause(exc: BaseException) -> BaseException | None:
    """The botocore error behind `exc`: itself, or the one a transfer wrapped (boto3's
    S3UploadFailedError, s3transfer's RetriesExceededError); None when there is none."""
    from botocore.exceptions import BotoCoreError, ClientError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found: bool = isinstance(current, ClientError | BotoCoreError)
        if found:
            return current
        last = getattr(current, "last_exception", None)
        current = last if isinstance(last, BaseException) else current.__cause__
    return None


def _translate_aws(
    exc: BaseException,
    service: str,
    context: dict[str, Any],
    *,
    statuses: dict[int, str],
    server_error: str,
    refine: Callable[[str, int, BaseException], str] | None = None,
) -> MeetingStorageError:
    """Look a botocore error up in the table. The answer's HTTP status stands in for an error
    code the table does not know (`statuses`, and `server_error` for any 5xx); `refine` lets a
    service read more into a code than the code itself says."""
    if isinstance(exc, MeetingStorageError):
        return exc
    cause = _aws_cause(exc)
    if cause is None:
        return bug(exc, f"{context['action']} {context['where']}")
    context = {"exc": cause, **context}
    word = _sdk_word(cause)
    if word is not None:
        return translation_for(service, word).build(context)
    code, status = _client_error_parts(cause)
    context["code"] = code or status
    if refine is not None:
        code = refine(code, status, cause)
    if (service, code) not in ERROR_TABLE:
        code = statuses.get(status) or (server_error if status >= 500 else REFUSED)
    return translation_for(service, code).build(context)


def translate_boto_error(
    exc: BaseException, *, bucket: str, key: str | None = None, action: str = "access"
) -> MeetingStorageError:
    """Map a botocore/boto3 exception from S3 to the package's error, saying what to do."""
    where = f"s3://{bucket}/{key}" if key else f"s3://{bucket}"

    def refine(code: str, status: int, _cause: BaseException) -> str:
        # Without a key, a 404 can only be about the bucket itself.
        return S3_BUCKET_MISSING if key is None and status == 404 else code

    statuses = {404: "NotFound", 403: "AccessDenied", 405: "NotImplemented", 501: "NotImplemented"}
    statuses |= {409: "PreconditionFailed", 412: "PreconditionFailed"}
    return _translate_aws(
        exc,
        "s3",
        {"bucket": bucket, "where": where, "action": action},
        statuses=statuses,
        server_error="ServiceUnavailable",
        refine=refine,
    )


def table_not_found_message(table: str, region: str | None = None) -> str:
    return _TABLE_MISSING.format(table=table, in_region=f" in {region}" if region else "")


def translate_dynamodb_error(
    exc: BaseException, *, table: str, action: str = "access", region: str | None = None
) -> MeetingStorageError:
    """Map a botocore exception from DynamoDB to the package's error, saying what to do."""
    context = {
        "table": table,
        "in_region": f" in {region}" if region else "",
        "where": f"the DynamoDB table {table!r}",
        "action": action,
    }
    return _translate_aws(
        exc,
        "dynamodb",
        context,
        statuses={403: "AccessDeniedException"},
        server_error="ServiceUnavailable",
    )


def translate_transcribe_error(exc: BaseException, *, action: str) -> MeetingStorageError:
    """Map a botocore exception from Amazon Transcribe to the package's error."""

    def refine(code: str, _status: int, cause: BaseException) -> str:
        # Transcribe says what it disliked about a request only in the message.
        lowered = str(cause).lower()
        if code == "BadRequestException" and ("format" in lowered or "media" in lowered):
            return f"{code}:media"
        if code == "BadRequestException" and "language" in lowered:
            return f"{code}:language"
        return code

    return _translate_aws(
        exc,
        "transcribe",
        {"where": "AWS Transcribe", "action": action},
        statuses={},
        server_error=REFUSED,
        refine=refine,
    )


# ------------------------------------------------------------------ databases and files


def translate_database_error(
    exc: BaseException, *, where: str, action: str = "use"
) -> MeetingStorageError:
    """Map a SQLAlchemy/driver exception to the package's error, saying what to do."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, MeetingStorageError):
        return exc
    # A driver's error, a URL SQLAlchemy cannot use, or a connection pool that stayed full.
    expected = sa_exc.DBAPIError | sa_exc.ArgumentError | sa_exc.NoSuchModuleError
    if not isinstance(exc, expected | sa_exc.TimeoutError):
        return bug(exc, f"{action} the index database at {where}")
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else ""
    lowered = detail.lower()
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        word = "bad_url"
    elif isinstance(exc, sa_exc.IntegrityError):
        word = "integrity"
    elif not isinstance(exc, sa_exc.OperationalError):
        word = REFUSED
    elif "password authentication failed" in lowered or (
        "role" in lowered and "does not exist" in lowered
    ):
        word = "login_refused"
    elif "database" in lowered and "does not exist" in lowered:
        word = "database_missing"
    elif "locked" in lowered or "busy" in lowered:
        word = "busy"
    elif "unable to open database file" in lowered:
        word = "cannot_open"
    else:
        word = UNREACHABLE
    context = {"where": where, "action": action, "detail": detail}
    return translation_for("database", word).build(context)


def translate_os_error(exc: OSError, *, path: object, action: str) -> MeetingStorageError:
    """Map a failure to read or write a file on this machine to the package's error."""
    word = type(exc).__name__  # FileNotFoundError, PermissionError
    if ("file", word) not in ERROR_TABLE:
        word = "no_space" if exc.errno in {errno.ENOSPC, errno.EDQUOT} else REFUSED
    context = {"where": path, "action": action, "exc": exc.strerror or exc}
    return translation_for("file", word).build(context)
