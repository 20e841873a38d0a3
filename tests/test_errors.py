"""Expected failures become typed errors through one table; a bug surfaces as a bug.

The translation table is checked with botocore's own exceptions (no server needed); the
boundaries (CLI, REST API) with a TypeError injected where a blob is read, and with an
endpoint where nothing listens.
"""

from __future__ import annotations

import errno
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ProfileNotFound,
    ReadTimeoutError,
)
from fastapi.testclient import TestClient
from sqlalchemy import exc as sa_exc

from meeting_storage import MeetingStorage
from meeting_storage.api.app import create_app
from meeting_storage.cli.main import main
from meeting_storage.core.errors import (
    ERROR_TABLE,
    InternalError,
    MeetingStorageError,
    translate_boto_error,
    translate_database_error,
    translate_dynamodb_error,
    translate_os_error,
    translate_transcribe_error,
)
from meeting_storage.storage.embedded import free_port

TOKEN = "test-api-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def client_error(code: str, status: int = 400, message: str = "it went wrong") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "SomeOperation")


def s3(exc: BaseException, key: str | None = "meetings/a.wav") -> MeetingStorageError:
    return translate_boto_error(exc, bucket="my-meetings", key=key, action="read")


# ---------------------------------------------------------------- the table


@pytest.mark.parametrize(
    ("exc", "key", "code", "says"),
    [
        (client_error("AccessDenied", 403), "meetings/a.wav", "access_denied", "s3:GetObject"),
        (client_error("Forbidden", 403), None, "access_denied", "bucket policy"),
        (client_error("SomethingNew", 403), "k", "access_denied", "Access Denied"),
        (client_error("InvalidAccessKeyId", 403), "k", "access_denied", "were rejected"),
        (client_error("NoSuchKey", 404), "meetings/a.wav", "not_found", "does not exist"),
        (client_error("404", 404), "meetings/a.wav", "not_found", "s3://my-meetings/meetings"),
        (client_error("NoSuchBucket", 404), "meetings/a.wav", "configuration", "S3_BUCKET_NAME"),
        (client_error("404", 404), None, "configuration", "S3_BUCKET_NAME"),
        (client_error("PermanentRedirect", 301), None, "configuration", "AWS_REGION"),
        (client_error("PreconditionFailed", 412), "k", "conflict", "retry"),
        (client_error("SomethingNew", 409), "k", "conflict", "retry"),
        (client_error("NotImplemented", 501), None, "not_supported", "Amazon S3 does"),
        (client_error("SomethingNew", 405), None, "not_supported", "Amazon S3 does"),
        (client_error("SlowDown", 503), "k", "backend_unavailable", "throttling (SlowDown)"),
        (client_error("", 502), "k", "backend_unavailable", "throttling (502)"),
        (client_error("SomethingNew", 400), "k", "backend_unavailable", "S3 refused"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            "k",
            "backend_unavailable",
            "AWS_ENDPOINT_URL",
        ),
        (ReadTimeoutError(endpoint_url="http://x"), "k", "backend_unavailable", "Cannot reach"),
        (NoCredentialsError(), "k", "configuration", "AWS_ACCESS_KEY_ID"),
        (ProfileNotFound(profile="work"), "k", "configuration", "AWS_PROFILE"),
        (ParamValidationError(report="Invalid bucket name"), None, "invalid_input", "malformed"),
    ],
)
def test_s3_errors_translate_through_the_table(
    exc: BaseException, key: str | None, code: str, says: str
) -> None:
    error = s3(exc, key)
    assert error.code == code
    assert says in error.message


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        (client_error("ResourceNotFoundException"), "configuration", "create-table"),
        (client_error("AccessDeniedException"), "access_denied", "dynamodb:PutItem"),
        (client_error("SomethingNew", 403), "access_denied", "dynamodb:Query"),
        (client_error("UnrecognizedClientException"), "access_denied", "rejected"),
        (client_error("ConditionalCheckFailedException"), "conflict", "retry"),
        (client_error("ProvisionedThroughputExceededException"), "backend_unavailable", "retry"),
        (client_error("SomethingNew", 500), "backend_unavailable", "throttling (SomethingNew)"),
        (client_error("ValidationException"), "invalid_input", "refused"),
        (client_error("SomethingNew"), "backend_unavailable", "refused"),
        (
            EndpointConnectionError(endpoint_url="http://x"),
            "backend_unavailable",
            "AWS_ENDPOINT_URL_DYNAMODB",
        ),
        (NoCredentialsError(), "configuration", "AWS_ACCESS_KEY_ID"),
    ],
)
def test_dynamodb_errors_translate_through_the_table(
    exc: BaseException, code: str, says: str
) -> None:
    error = translate_dynamodb_error(exc, table="meeting-metadata", action="read from")
    assert error.code == code
    assert says in error.message


def test_a_missing_table_names_its_region() -> None:
    error = translate_dynamodb_error(
        client_error("ResourceNotFoundException"), table="meetings", region="eu-west-1"
    )
    assert "'meetings' does not exist in eu-west-1" in error.message


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        (client_error("AccessDeniedException"), "access_denied", "TRANSCRIBER=whisper"),
        (client_error("ThrottlingException"), "backend_unavailable", "busy"),
        (
            client_error("BadRequestException", message="Unsupported media format"),
            "unsupported_media_type",
            "cannot read the recording",
        ),
        (
            client_error("BadRequestException", message="Bad language code"),
            "configuration",
            "TRANSCRIBE_LANGUAGE",
        ),
        (client_error("BadRequestException"), "transcription_failed", "refused"),
        (client_error("SomethingNew"), "transcription_failed", "SomethingNew"),
        (NoCredentialsError(), "configuration", "AWS Transcribe"),
        (EndpointConnectionError(endpoint_url="http://x"), "backend_unavailable", "Cannot reach"),
    ],
)
def test_transcribe_errors_translate_through_the_table(
    exc: BaseException, code: str, says: str
) -> None:
    error = translate_transcribe_error(exc, action="start a transcription job")
    assert error.code == code
    assert says in error.message


@pytest.mark.parametrize(
    ("detail", "code"),
    [
        ('password authentication failed for user "me"', "access_denied"),
        ('database "meetings" does not exist', "configuration"),
        ("database is locked", "conflict"),
        ("unable to open database file", "configuration"),
        ("connection refused", "backend_unavailable"),
    ],
)
def test_database_errors_translate_through_the_table(detail: str, code: str) -> None:
    exc = sa_exc.OperationalError("SELECT 1", {}, Exception(detail))
    error = translate_database_error(exc, where="sqlite:///index.db", action="read")
    assert error.code == code
    assert detail in error.message


@pytest.mark.parametrize(
    ("exc", "code", "says"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file"), "not_found", "does not exist"),
        (PermissionError(errno.EACCES, "Permission denied"), "access_denied", "LOCAL_DATA_DIR"),
        (OSError(errno.ENOSPC, "No space left on device"), "backend_unavailable", "free some"),
        (OSError(errno.EIO, "Input/output error"), "backend_unavailable", "Input/output"),
    ],
)
def test_file_errors_translate_through_the_table(exc: OSError, code: str, says: str) -> None:
    error = translate_os_error(exc, path=Path("/data/index.json"), action="write")
    assert error.code == code
    assert says in error.message and "/data/index.json" in error.message


def test_every_row_of_the_table_has_a_message_that_fills_in() -> None:
    context = {
        "where": "s3://b/k",
        "action": "read",
        "bucket": "b",
        "table": "t",
        "in_region": "",
        "code": "Code",
        "exc": "the library's message",
        "detail": "the driver's message",
    }
    for (service, code), translation in ERROR_TABLE.items():
        error = translation.build(context)
        assert isinstance(error, MeetingStorageError), (service, code)
        assert error.message and "{" not in error.message, (service, code)
        assert error.code != "internal_error", (service, code)


def test_an_exception_no_library_raised_is_a_logged_bug(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="meeting_storage"):
        error = s3(TypeError("'NoneType' object is not subscriptable"))
        database = translate_database_error(KeyError("x"), where="sqlite://")
    assert isinstance(error, InternalError) and isinstance(database, InternalError)
    assert error.code == "internal_error" and error.http_status == 500
    assert "TypeError" in error.message and "not subscriptable" not in error.message
    assert any(record.exc_info for record in caplog.records)


def test_an_already_typed_error_passes_through() -> None:
    error = InternalError("as it was")
    assert s3(error) is error
    assert translate_dynamodb_error(error, table="t") is error


# ---------------------------------------------------------------- the boundaries


def broken_blob_reads(storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside a blob read: the S3 client call raises a TypeError."""

    def get_object(**kwargs: Any) -> Any:
        raise TypeError("get_object() got an unexpected keyword argument 'Secret'")

    monkeypatch.setattr(storage.audio._client, "get_object", get_object)


def test_a_bug_in_a_blob_read_is_an_internal_error_in_the_cli(
    moto_storage: MeetingStorage,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    broken_blob_reads(moto_storage, monkeypatch)

    status = main(["list", "--json"], storage=moto_storage)
    out, err = capsys.readouterr()
    assert status == 1
    data = json.loads(out)
    assert data["success"] is False
    assert data["error"]["code"] == "internal_error"
    assert "TypeError" in data["error"]["message"]
    assert "Traceback" not in out + err

    status = main(["list"], storage=moto_storage)
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert err.startswith("error: internal_error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    logs = list(tmp_path.glob("meeting-storage-*-errors.log"))
    assert len(logs) == 1
    assert "Traceback" in logs[0].read_text() and "unexpected keyword" in logs[0].read_text()


def test_a_bug_in_a_blob_read_is_a_500_with_a_request_id_in_the_api(
    moto_storage: MeetingStorage,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = replace(moto_storage.settings, api_token=TOKEN)
    app = create_app(lambda: moto_storage, settings=settings)
    broken_blob_reads(moto_storage, monkeypatch)
    # Raising server exceptions would let a bug through the app: it must not get that far.
    with (
        TestClient(app, headers=AUTH) as client,
        caplog.at_level(logging.ERROR, logger="meeting_storage"),
    ):
        response = client.get("/api/meetings")
        given = client.get("/api/meetings", headers={"X-Request-ID": "proxy-42"})
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "internal_error"
    request_id = body["request_id"]
    assert request_id and response.headers["X-Request-ID"] == request_id
    assert request_id in body["error"]["message"]
    assert "unexpected keyword" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert given.status_code == 500 and given.headers["X-Request-ID"] == "proxy-42"
    assert given.json()["request_id"] == "proxy-42"


def test_an_unreachable_endpoint_is_still_backend_unavailable(
    moto_storage: MeetingStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # bound and released: nothing listens on it
    settings = replace(moto_storage.settings, s3_endpoint_url=f"http://127.0.0.1:{port}")
    status = main(["list", "--json"], storage=MeetingStorage(settings))
    data = json.loads(capsys.readouterr().out)
    assert status == 1
    assert data["error"]["code"] == "backend_unavailable"
    assert f"127.0.0.1:{port}" in data["error"]["message"]

    api_settings = replace(settings, api_token=TOKEN)
    unreachable = MeetingStorage(api_settings)
    with TestClient(create_app(lambda: unreachable, settings=api_settings), headers=AUTH) as c:
        response = c.get("/api/meetings")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "backend_unavailable"
