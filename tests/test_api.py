"""The REST API with FastAPI's TestClient against moto: every endpoint, every error path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import anyio
import boto3
import pytest
from botocore.config import Config
from fastapi.testclient import TestClient
from starlette.types import Message

from meeting_storage import ConfigurationError, ConflictError, MeetingStorage, Settings
from meeting_storage.api.app import create_app
from meeting_storage.api.auth import check_bind_address, is_loopback_host
from meeting_storage.api.routes.costs import ArchiveClass
from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.costs.pricing import ARCHIVE_CLASSES
from meeting_storage.ops.cost_review import cost_report
from tests.conftest import SAMPLE_TRANSCRIPT, SECRET_KEY, wav_bytes, wav_header_then
from tests.s3json_layout import one_index_key
from tests.test_cli import run

TOKEN = "test-api-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_client(storage: MeetingStorage, **overrides: Any) -> TestClient:
    settings = replace(storage.settings, api_token=TOKEN, **overrides)
    service = MeetingStorage(settings) if overrides else storage
    app = create_app(lambda: service, settings=settings)
    return TestClient(app, headers=AUTH, raise_server_exceptions=False)


@pytest.fixture
def client(moto_storage: MeetingStorage) -> Iterator[TestClient]:
    with make_client(moto_storage) as test_client:
        yield test_client


def keys_in(storage: MeetingStorage) -> set[str]:
    """Every key but the audit trail's, with the S3 JSON index's objects (manifest, months,
    locators) as one."""
    return {
        one_index_key(info.key)
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return body


def upload_wav(client: TestClient, name: str = "Weekly sync.wav") -> dict[str, Any]:
    response = client.post("/api/meetings/upload", files={"file": (name, wav_bytes(), "audio/wav")})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def process(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post(
        "/api/meeting/process", json={"text": SAMPLE_TRANSCRIPT, "wait": True, **fields}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- health and auth


def test_health_needs_no_token_and_touches_no_storage(moto_storage: MeetingStorage) -> None:
    def no_storage() -> MeetingStorage:
        raise AssertionError("liveness must not open the storage")

    settings = replace(moto_storage.settings, api_token=TOKEN)
    with TestClient(create_app(no_storage, settings=settings)) as anonymous:
        response = anonymous.get("/api/health")
    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["status"] == "ok"


def test_readiness_runs_the_doctor_checks_and_hides_details_without_a_token(
    client: TestClient,
) -> None:
    anonymous = client.get("/api/health/ready", headers={"Authorization": ""})
    assert anonymous.status_code == 200
    body = anonymous.json()
    assert body["ready"] is True and body["success"] is True
    names = [check["name"] for check in body["checks"]]
    assert names[:5] == ["configuration", "index backend", "analysis", "bucket", "region"]
    assert "leftovers" not in names  # the per-meeting checks are not part of readiness
    assert all(check["message"] is None for check in body["checks"])
    detailed = client.get("/api/health/ready").json()
    assert all(check["message"] for check in detailed["checks"])


def test_readiness_is_503_when_the_bucket_is_missing(moto_storage: MeetingStorage) -> None:
    missing = replace(moto_storage.settings, bucket="no-such-bucket-here")
    with make_client(MeetingStorage(missing)) as test_client:
        response = test_client.get("/api/health/ready")
    body = assert_error(response, 503, "backend_unavailable")
    assert body["ready"] is False
    (bucket,) = [check for check in body["checks"] if check["name"] == "bucket"]
    assert bucket["status"] == "fail"


PROTECTED = [
    ("POST", "/api/meeting/process"),
    ("GET", "/api/meetings"),
    ("GET", "/api/meetings/meeting-0123456789abcdef0123456789abcdef"),
    ("DELETE", "/api/meetings/meeting-0123456789abcdef0123456789abcdef"),
    ("POST", "/api/meetings/upload-url"),
    ("POST", "/api/meetings/upload"),
    ("GET", "/api/costs"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"],
)
def test_every_endpoint_but_health_requires_the_token(
    moto_storage: MeetingStorage, method: str, path: str, authorization: str | None
) -> None:
    with make_client(moto_storage) as test_client:
        test_client.headers.pop("Authorization")
        headers = {"Authorization": authorization} if authorization is not None else {}
        response = test_client.request(method, path, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert keys_in(moto_storage) == set()


def test_the_app_refuses_to_exist_without_a_token(moto_settings: Settings) -> None:
    with pytest.raises(ConfigurationError, match="API_TOKEN"):
        create_app(settings=moto_settings)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.org", False),
    ],
)
def test_serving_beyond_loopback_needs_a_token(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
    check_bind_address(host, TOKEN)
    if loopback:
        check_bind_address(host, None)
    else:
        with pytest.raises(ConfigurationError, match="without API_TOKEN"):
            check_bind_address(host, None)


def test_serve_command_refuses_a_public_address_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("S3_BUCKET_NAME", "some-bucket")
    assert main(["serve", "--host", "0.0.0.0", "--json"]) == 1
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["code"] == "configuration" and "API_TOKEN" in error["message"]


def test_api_token_setting_is_validated() -> None:
    with pytest.raises(ConfigurationError, match="API_TOKEN must be at least 16"):
        Settings.from_mapping({"S3_BUCKET_NAME": "some-bucket", "API_TOKEN": "short"})
    with pytest.raises(ConfigurationError, match="API_TOKEN"):
        Settings.from_mapping({"S3_BUCKET_NAME": "some-bucket", "API_TOKEN": "été" * 10})
    settings = Settings.from_mapping(
        {"S3_BUCKET_NAME": "some-bucket", "API_TOKEN": TOKEN, "API_MAX_BODY_MB": "2"}
    )
    assert settings.api_token == TOKEN and settings.api_max_body_bytes == 2 * 1024 * 1024
    assert TOKEN not in repr(settings)


# ---------------------------------------------------------------------- process


def test_process_stores_the_meeting_with_the_design_document_shape(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    uploaded = upload_wav(client)
    body = process(
        client,
        audio_s3_key=uploaded["audio_s3_key"],
        filename="Meeting.m4a",
        title="Launch",
        tags=["remote"],
    )
    assert body["success"] is True and body["stored"] is True
    assert layout.MEETING_ID_RE.fullmatch(body["meeting_id"])
    assert {"summary", "action_items", "decisions", "participants"} <= set(body["meeting_summary"])
    assert {"MUST", "SHOULD"} <= {r["priority"] for r in body["requirements"]}
    assert body["audio_s3_key"] == uploaded["audio_s3_key"]
    record = moto_storage.get_record(body["meeting_id"])
    assert record.filename == "Meeting.m4a" and record.title == "Launch"
    assert record.tags == ("remote",) and record.content_type == "audio/wav"


def test_process_with_store_false_only_returns_the_analysis(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    body = process(client, store=False)
    assert body["meeting_id"] is None and body["stored"] is False
    assert body["meeting_summary"]["action_items"]
    assert keys_in(moto_storage) == set()


def test_process_keeps_the_requested_meeting_time(client: TestClient) -> None:
    body = process(client, recorded_at="2026-01-15T09:30:00+01:00")
    meeting = client.get(f"/api/meetings/{body['meeting_id']}").json()["meeting"]
    assert meeting["metadata"]["timestamp"] == "2026-01-15T08:30:00+00:00"
    naive = process(client, recorded_at="2026-01-16T09:30:00")
    meeting = client.get(f"/api/meetings/{naive['meeting_id']}").json()["meeting"]
    assert meeting["metadata"]["timestamp"] == "2026-01-16T09:30:00+00:00"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({}, 422, "invalid_input"),
        ({"text": ""}, 422, "invalid_input"),
        ({"text": "   \n  "}, 400, "invalid_input"),
        ({"text": "a\x00b"}, 400, "invalid_input"),
        ({"text": "\ud800 lone surrogate"}, 422, "invalid_input"),
        ({"text": "Alice: hi", "title": "\udfff"}, 422, "invalid_input"),
        ({"text": "Alice: hi", "store": "yes"}, 422, "invalid_input"),
        ({"text": "Alice: hi", "recorded_at": 1700000000}, 422, "invalid_input"),
        ({"text": "Alice: hi", "recorded_at": "0001-01-01T00:00:00+01:00"}, 400, "invalid_input"),
        ({"text": "Alice: hi", "audio_s3_key": "transcriptions/../x.wav"}, 400, "invalid_input"),
        ({"text": "Alice: hi", "audio_s3_key": f"meetings/{'0' * 32}_gone.wav"}, 404, "not_found"),
    ],
)
def test_process_refuses_bad_requests(
    client: TestClient,
    moto_storage: MeetingStorage,
    payload: dict[str, Any],
    status: int,
    code: str,
) -> None:
    # Sent as ASCII JSON so lone surrogates travel as \\ud800 escapes, as any client may send.
    response = client.post(
        "/api/meeting/process",
        content=json.dumps(payload),
        headers={"Content-Type": "application/json"},
    )
    body = assert_error(response, status, code)
    if status == 422:
        assert body["details"] and all({"loc", "message"} <= set(d) for d in body["details"])
    assert keys_in(moto_storage) == set()


def test_process_refuses_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post(
        "/api/meeting/process", content=b"text=hello", headers={"Content-Type": "text/plain"}
    )
    assert_error(response, 422, "invalid_input")
    broken = client.post(
        "/api/meeting/process", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert_error(broken, 422, "invalid_input")


def test_process_checks_a_recording_uploaded_straight_to_s3(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    """A presigned upload bypasses the server, so `process` sniffs and measures it."""
    not_audio = layout.new_audio_key("notes.wav")
    moto_storage.audio._client.put_object(
        Bucket=moto_storage.settings.bucket, Key=not_audio, Body=b"%PDF-1.7\n" + bytes(100)
    )
    response = client.post(
        "/api/meeting/process", json={"text": "Alice: hi", "audio_s3_key": not_audio}
    )
    assert_error(response, 415, "unsupported_media_type")
    empty = layout.new_audio_key("empty.wav")
    moto_storage.audio._client.put_object(Bucket=moto_storage.settings.bucket, Key=empty, Body=b"")
    response = client.post(
        "/api/meeting/process", json={"text": "Alice: hi", "audio_s3_key": empty}
    )
    assert_error(response, 400, "invalid_input")

    with make_client(moto_storage, max_upload_bytes=1024 * 1024) as small:
        large = layout.new_audio_key("long.wav")
        moto_storage.audio._client.put_object(
            Bucket=moto_storage.settings.bucket, Key=large, Body=wav_header_then(1024 * 1024 + 1)
        )
        response = small.post(
            "/api/meeting/process", json={"text": "Alice: hi", "audio_s3_key": large}
        )
        assert_error(response, 413, "file_too_large")
    assert moto_storage.list_meetings().meetings == []


def test_a_conflict_is_409(
    client: TestClient, moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_put = moto_storage.documents.put

    def put(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.endswith("/" + layout.METADATA_FILE):
            raise ConflictError(f"s3://bucket/{key} was changed by someone else; retry.")
        return original_put(key, *args, **kwargs)

    monkeypatch.setattr(moto_storage.documents, "put", put)
    assert_error(client.post("/api/meeting/process", json={"text": "Bob: hi"}), 409, "conflict")
    assert keys_in(moto_storage) == set()  # the meeting's files were removed again


def test_a_failed_index_write_keeps_the_meeting_and_warns(
    client: TestClient, moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def conflict(*args: Any, **kwargs: Any) -> Any:
        raise ConflictError("s3://bucket/index/meetings.json was changed by someone else; retry.")

    monkeypatch.setattr(moto_storage.index, "put", conflict)
    response = client.post(
        "/api/meeting/process", json={"text": "Bob: I will write it up.", "wait": True}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["indexed"] is False and "doctor --fix" in body["index_warning"]
    assert set(layout.meeting_file_keys(body["meeting_id"])) <= keys_in(moto_storage)


def test_an_unreachable_backend_is_503(moto_storage: MeetingStorage) -> None:
    settings = replace(moto_storage.settings, s3_endpoint_url="http://127.0.0.1:9", api_token=TOKEN)
    offline = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.region,
        aws_access_key_id="key",
        aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    service = MeetingStorage(settings, s3_client=offline)
    with TestClient(create_app(lambda: service, settings=settings), headers=AUTH) as test_client:
        assert_error(test_client.get("/api/meetings"), 503, "backend_unavailable")
        assert_error(test_client.get("/api/health/ready"), 503, "backend_unavailable")


def test_a_configuration_error_opening_the_storage_is_503(moto_storage: MeetingStorage) -> None:
    def broken() -> MeetingStorage:
        raise ConfigurationError("S3_BUCKET_NAME not configured")

    settings = replace(moto_storage.settings, api_token=TOKEN)
    with TestClient(create_app(broken, settings=settings), headers=AUTH) as test_client:
        body = assert_error(test_client.get("/api/meetings"), 503, "configuration")
    assert "S3_BUCKET_NAME" in body["error"]["message"]


def test_an_unexpected_error_is_500_without_a_traceback(
    client: TestClient, moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(moto_storage, "list_meetings", crash)
    body = assert_error(client.get("/api/meetings"), 500, "internal_error")
    assert "secret internal detail" not in json.dumps(body)


# ---------------------------------------------------------------------- list


def test_list_pages_searches_and_filters_by_date(client: TestClient) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [
        process(
            client,
            title=f"Retro {n}" if n % 2 else f"Planning {n}",
            recorded_at=(start + timedelta(days=n)).isoformat(),
        )["meeting_id"]
        for n in range(5)
    ]
    newest_first = list(reversed(ids))
    first = client.get("/api/meetings", params={"limit": 2}).json()
    assert first["success"] is True and first["count"] == 2
    assert [m["meeting_id"] for m in first["meetings"]] == newest_first[:2]
    assert {"meeting_id", "timestamp", "filename", "action_items_count"} <= set(
        first["meetings"][0]
    )
    second = client.get("/api/meetings", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [m["meeting_id"] for m in second.json()["meetings"]] == newest_first[2:4]
    everything = client.get("/api/meetings").json()
    assert everything["count"] == 5 and everything["next_cursor"] is None
    found = client.get("/api/meetings", params={"search": "retro"}).json()
    assert {m["meeting_id"] for m in found["meetings"]} == {ids[1], ids[3]}

    window = {"since": "2026-01-02", "until": "2026-01-04T00:00:00Z"}
    dated = client.get("/api/meetings", params=window).json()
    assert [m["meeting_id"] for m in dated["meetings"]] == [ids[2], ids[1]]
    paged = client.get("/api/meetings", params={**window, "limit": 1}).json()
    assert [m["meeting_id"] for m in paged["meetings"]] == [ids[2]]
    rest = client.get(
        "/api/meetings", params={**window, "limit": 1, "cursor": paged["next_cursor"]}
    ).json()
    assert [m["meeting_id"] for m in rest["meetings"]] == [ids[1]]
    since_only = client.get("/api/meetings", params={"since": "2026-01-04T00:00:00+00:00"})
    assert [m["meeting_id"] for m in since_only.json()["meetings"]] == [ids[4], ids[3]]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": 0}, 422),
        ({"limit": 1001}, 422),
        ({"limit": "many"}, 422),
        ({"cursor": "not-a-cursor"}, 400),
        ({"since": "yesterday"}, 422),
        ({"since": "1700000000"}, 422),
        ({"since": "2026-02-01", "until": "2026-01-01"}, 400),
    ],
)
def test_list_refuses_bad_parameters(
    client: TestClient, params: dict[str, Any], status: int
) -> None:
    assert_error(client.get("/api/meetings", params=params), status, "invalid_input")


# ---------------------------------------------------------------------- show and delete


def test_show_returns_the_whole_meeting_with_a_presigned_audio_url(client: TestClient) -> None:
    uploaded = upload_wav(client)
    meeting_id = process(client, audio_s3_key=uploaded["audio_s3_key"])["meeting_id"]
    response = client.get(f"/api/meetings/{meeting_id}")
    assert response.status_code == 200
    meeting = response.json()["meeting"]
    assert set(meeting) >= {
        "meeting_id",
        "transcription",
        "summary",
        "requirements",
        "metadata",
        "audio_url",
    }
    assert meeting["transcription"] == SAMPLE_TRANSCRIPT.strip()
    assert meeting["metadata"]["audio_s3_key"] == uploaded["audio_s3_key"]
    assert (
        "X-Amz-Signature=" in meeting["audio_url"] and "X-Amz-Expires=3600" in meeting["audio_url"]
    )
    assert SECRET_KEY not in response.text
    short = client.get(f"/api/meetings/{meeting_id}", params={"expires_in": 60}).json()
    assert "X-Amz-Expires=60" in short["meeting"]["audio_url"]
    assert_error(
        client.get(f"/api/meetings/{meeting_id}", params={"expires_in": 0}), 422, "invalid_input"
    )


def test_show_and_delete_answer_404_for_unknown_or_malformed_ids(client: TestClient) -> None:
    unknown = "meeting-0123456789abcdef0123456789abcdef"
    assert_error(client.get(f"/api/meetings/{unknown}"), 404, "not_found")
    assert_error(client.delete(f"/api/meetings/{unknown}"), 404, "not_found")
    for malformed in ("MEETING-1", "meeting-..%2F..%2Findex", "x" * 300):
        assert_error(client.get(f"/api/meetings/{malformed}"), 404, "not_found")
        assert_error(client.delete(f"/api/meetings/{malformed}"), 404, "not_found")


def test_delete_removes_every_file_and_reports_it(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    uploaded = upload_wav(client)
    meeting_id = process(client, audio_s3_key=uploaded["audio_s3_key"])["meeting_id"]
    response = client.delete(f"/api/meetings/{meeting_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["meeting_id"] == meeting_id
    assert set(body["deleted"]) == {uploaded["audio_s3_key"], *layout.meeting_file_keys(meeting_id)}
    assert body["index_entry_removed"] is True and body["recoverable"] is False
    assert keys_in(moto_storage) == {layout.INDEX_KEY}
    assert_error(client.delete(f"/api/meetings/{meeting_id}"), 404, "not_found")
    assert_error(client.get(f"/api/meetings/{meeting_id}"), 404, "not_found")


def test_delete_finishes_an_interrupted_delete(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    meeting_id = process(client)["meeting_id"]
    moto_storage.documents.delete([layout.meeting_file_key(meeting_id, layout.SUMMARY_FILE)])
    moto_storage.index.delete(meeting_id)
    response = client.delete(f"/api/meetings/{meeting_id}")
    assert response.status_code == 200
    assert layout.metadata_key(meeting_id) in response.json()["deleted"]
    assert keys_in(moto_storage) == {layout.INDEX_KEY}


def test_undeclared_methods_and_paths(client: TestClient) -> None:
    response = client.put("/api/meetings/meeting-0123456789abcdef0123456789abcdef")
    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == {"GET", "DELETE"}
    wrong = client.get("/api/meetings/upload-url")
    assert_error(wrong, 405, "method_not_allowed")
    assert wrong.headers["Allow"] == "POST"
    assert_error(client.get("/api/nothing-here"), 404, "not_found")


# ---------------------------------------------------------------------- getting audio in


def test_upload_url_presigns_a_post_policy_for_a_new_audio_key(client: TestClient) -> None:
    response = client.post(
        "/api/meetings/upload-url",
        json={"filename": "../../Board meeting.m4a", "content_type": "audio/x-m4a"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["method"] == "POST" and body["headers"] == {}
    assert layout.is_audio_key(body["audio_s3_key"])
    assert body["audio_s3_key"].endswith("_Board meeting.m4a")
    assert body["fields"]["key"] == body["audio_s3_key"]
    assert body["fields"]["Content-Type"] == body["content_type"] == "audio/mp4"
    assert {"policy", "x-amz-signature", "x-amz-credential"} <= set(body["fields"])
    policy = json.loads(__import__("base64").b64decode(body["fields"]["policy"]))
    assert ["content-length-range", 1, 500 * 1024 * 1024] in policy["conditions"]
    assert body["max_bytes"] == 500 * 1024 * 1024 and body["min_bytes"] == 1
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC)
    assert SECRET_KEY not in response.text


def test_upload_url_presigns_a_put_with_type_and_size_signed(client: TestClient) -> None:
    response = client.post(
        "/api/meetings/upload-url",
        json={
            "filename": "standup",
            "content_type": "audio/wav",
            "size": 8044,
            "method": "PUT",
            "expires_in": 600,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["method"] == "PUT" and body["fields"] == {}
    assert body["filename"] == "standup.wav"  # the extension of the declared type is added
    assert body["headers"] == {"Content-Type": "audio/wav", "Content-Length": "8044"}
    assert "X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost" in body["url"]
    assert "X-Amz-Expires=600" in body["url"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"filename": "a.pdf", "content_type": "application/pdf"}, 415, "unsupported_media_type"),
        (
            {"filename": "a.wav", "content_type": "audio/wav", "size": 600 * 1024 * 1024},
            413,
            "file_too_large",
        ),
        ({"filename": "a.wav", "content_type": "audio/wav", "method": "PUT"}, 400, "invalid_input"),
        ({"filename": "a.wav", "content_type": "audio/wav", "size": 0}, 422, "invalid_input"),
        ({"filename": "a.wav", "content_type": "audio/wav", "size": "12"}, 422, "invalid_input"),
        ({"filename": "a.wav", "content_type": "audio/wav", "method": "GET"}, 422, "invalid_input"),
        ({"filename": "", "content_type": "audio/wav"}, 422, "invalid_input"),
        ({"content_type": "audio/wav"}, 422, "invalid_input"),
        (
            {"filename": "a.wav", "content_type": "audio/wav", "expires_in": 604801},
            422,
            "invalid_input",
        ),
    ],
)
def test_upload_url_refuses_bad_requests(
    client: TestClient, payload: dict[str, Any], status: int, code: str
) -> None:
    assert_error(client.post("/api/meetings/upload-url", json=payload), status, code)


def test_multipart_upload_streams_a_recording_to_s3(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    body = upload_wav(client, "../Team sync.wav")
    assert body["success"] is True and body["size"] == len(wav_bytes())
    assert body["content_type"] == "audio/wav" and body["filename"] == "Team sync.wav"
    assert moto_storage.audio.get(body["audio_s3_key"]).data == wav_bytes()
    renamed = client.post(
        "/api/meetings/upload",
        params={"filename": "Renamed.wav"},
        data={"note": "fields before the file are skipped"},
        files={"file": ("x.bin", wav_bytes(), "application/octet-stream")},
    ).json()
    assert renamed["audio_s3_key"].endswith("_Renamed.wav")


def test_multipart_upload_refuses_what_is_not_a_recording(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    pdf = client.post("/api/meetings/upload", files={"file": ("a.wav", b"%PDF-1.7\n" + bytes(99))})
    assert_error(pdf, 415, "unsupported_media_type")
    empty = client.post("/api/meetings/upload", files={"file": ("a.wav", b"")})
    assert_error(empty, 400, "invalid_input")
    no_file = client.post("/api/meetings/upload", files={"other": ("a.wav", wav_bytes())})
    assert_error(no_file, 400, "invalid_input")
    as_json = client.post("/api/meetings/upload", json={"file": "x"})
    assert_error(as_json, 415, "unsupported_media_type")
    truncated = client.post(
        "/api/meetings/upload",
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        + wav_bytes()[:2000],
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert_error(truncated, 400, "invalid_input")
    assert keys_in(moto_storage) == set()


def test_multipart_upload_over_max_upload_mb_is_413(moto_storage: MeetingStorage) -> None:
    data = wav_header_then(1024 * 1024 + 10)
    with make_client(moto_storage, max_upload_bytes=1024 * 1024) as small:
        response = small.post("/api/meetings/upload", files={"file": ("long.wav", data)})
        assert_error(response, 413, "file_too_large")
        declared = small.post(
            "/api/meetings/upload",
            content=b"x" * 10,
            headers={
                "Content-Type": "multipart/form-data; boundary=b",
                "Content-Length": str(3 * 1024 * 1024),
            },
        )
        assert_error(declared, 413, "file_too_large")
    assert keys_in(moto_storage) == set()


def test_json_bodies_over_the_limit_are_refused_before_they_are_read(
    moto_storage: MeetingStorage,
) -> None:
    payload = json.dumps({"text": "Alice: " + "word " * 1000}).encode()
    with make_client(moto_storage, api_max_body_bytes=1024) as small:
        declared = small.post(
            "/api/meeting/process", content=payload, headers={"Content-Type": "application/json"}
        )
        assert_error(declared, 413, "file_too_large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
            yield from (payload[n : n + 500] for n in range(0, len(payload), 500))

        chunked = small.post(
            "/api/meeting/process", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert_error(chunked, 413, "file_too_large")
    assert keys_in(moto_storage) == set()


# ---------------------------------------------------------------------- costs


def without_measured_at(data: dict[str, Any]) -> dict[str, Any]:
    """A cost review without the one figure that differs between two calls: when it was
    measured."""
    footprint = {k: v for k, v in data["footprint"].items() if k != "measured_at"}
    return {**{k: v for k, v in data.items() if k != "success"}, "footprint": footprint}


def test_costs_answer_with_the_cost_review_of_cost_json(
    client: TestClient, moto_storage: MeetingStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    uploaded = upload_wav(client)
    processed = process(client, audio_s3_key=uploaded["audio_s3_key"])
    response = client.get("/api/costs")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    footprint = body["footprint"]
    assert footprint["by_prefix"]["meetings/"] == {"objects": 1, "bytes": len(wav_bytes())}
    assert footprint["by_prefix"]["transcriptions/"]["objects"] == 4
    assert footprint["by_prefix"]["index/"]["objects"] == 4  # manifest, month, locator, totals
    # The meetings' prefixes (the audit trail's few small objects are not a meeting's).
    stored = {
        info.key: info.size
        for info in moto_storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }
    # The recording, four documents and the index's four objects (totals included).
    assert footprint["object_count"] == len(stored) == 1 + 4 + 4
    assert footprint["total_bytes"] == sum(stored.values())
    assert footprint["meeting_count"] == 1 and "meetings" not in footprint

    report = cost_report(moto_storage)
    assert [(item["name"], item["usd"]) for item in body["monthly"]["items"]] == [
        (item.name, float(item.usd)) for item in report.monthly.items
    ]
    assert "S3 Standard storage" in [item["name"] for item in body["monthly"]["items"]]
    assert body["monthly"]["total_usd"] == float(report.monthly.total_usd) > 0
    assert without_measured_at(body) == without_measured_at(report.to_dict(meetings=False))
    assert len(body["projection"]) == 12 and body["projection"][0]["month"] == 1

    # The same review as the CLI's, but for the per-meeting rows, which are asked for.
    _, cli = run(capsys, moto_storage, "cost")
    cli_meetings = cli["footprint"].pop("meetings")
    assert without_measured_at(body) == without_measured_at(cli)
    listed = client.get("/api/costs", params={"meetings": "true"}).json()["footprint"]["meetings"]
    assert listed == cli_meetings
    assert [m["meeting_id"] for m in listed] == [processed["meeting_id"]]
    assert listed[0]["audio_bytes"] == len(wav_bytes())


def test_costs_what_if_query(client: TestClient) -> None:
    params = {"meetings_per_month": 1000, "transcribe": "true", "average_minutes": 45}
    response = client.get("/api/costs", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["usage"]["meetings_per_month"] == 1000 and body["usage"]["transcribe"] is True
    first = {item["name"]: item for item in body["projection"][0]["items"]}
    transcribe = first["Amazon Transcribe (standard batch)"]
    # 1,000 meetings x 45 minutes at $0.024 a minute.
    assert transcribe["quantity"] == 45_000 and transcribe["unit_price_usd"] == 0.024
    assert transcribe["usd"] == 1080.0 and transcribe["category"] == "processing"
    plain = client.get("/api/costs", params={"months": 3}).json()
    assert len(plain["projection"]) == 3 and plain["usage"]["transcribe"] is False
    names = {item["name"] for month in plain["projection"] for item in month["items"]}
    assert "Amazon Transcribe (standard batch)" not in names


def test_costs_query_mirrors_every_cost_option(
    client: TestClient, moto_storage: MeetingStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    usage = {
        "meetings_per_month": 7,
        "average_minutes": 12.5,
        "average_audio_mb": 3.25,
        "average_documents_kb": 64.0,
        "lifecycle": True,
        "archive_days": 30,
        "archive_storage_class": "DEEP_ARCHIVE",
        "retention_days": 400,
        "dynamodb": True,
        "transcribe": True,
        "bedrock": True,
        "bedrock_model_id": "anthropic.claude-3-haiku-20240307-v1:0",
        "plays_per_meeting": 2.0,
        "listings_per_month": 10,
    }
    response = client.get("/api/costs", params={**usage, "months": 5})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {name: body["usage"][name] for name in usage} == usage
    assert len(body["projection"]) == 5
    assert "DynamoDB on-demand writes" in {i["name"] for i in body["projection"][0]["items"]}
    options = [
        "--months=5",
        "--meetings-per-month=7",
        "--minutes=12.5",
        "--audio-mb=3.25",
        "--documents-kb=64",
        "--lifecycle",
        "--archive-days=30",
        "--archive-class=DEEP_ARCHIVE",
        "--retention-days=400",
        "--dynamodb",
        "--transcribe",
        "--bedrock",
        "--bedrock-model=anthropic.claude-3-haiku-20240307-v1:0",
        "--plays-per-meeting=2",
        "--listings-per-month=10",
    ]
    _, cli = run(capsys, moto_storage, "cost", *options)
    cli["footprint"].pop("meetings")
    assert without_measured_at(body) == without_measured_at(cli)

    forever = client.get("/api/costs", params={"lifecycle": "true", "keep_forever": "true"})
    assert forever.status_code == 200 and forever.json()["usage"]["retention_days"] is None
    off = client.get("/api/costs", params={"lifecycle": "false", "dynamodb": "false"}).json()
    assert off["usage"]["lifecycle"] is False and off["usage"]["dynamodb"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"months": 0},
        {"months": 121},
        {"meetings_per_month": -1},
        {"meetings_per_month": 1_000_001},
        {"average_minutes": -1},
        {"average_audio_mb": "lots"},
        {"average_audio_mb": 1e7},
        {"plays_per_meeting": "nan"},
        {"average_documents_kb": "inf"},
        {"archive_days": 1.5},
        {"retention_days": -5},
        {"retention_days": 0},
        {"archive_days": 36_501},
        {"archive_storage_class": "ONEZONE_IA"},
        {"transcribe": "perhaps"},
        {"bedrock_model_id": ""},
        {"meetings": "all"},
    ],
    ids=lambda params: "-".join(f"{k}={v}" for k, v in params.items()),
)
def test_costs_refuse_bad_what_if_values(client: TestClient, params: dict[str, Any]) -> None:
    body = assert_error(client.get("/api/costs", params=params), 422, "invalid_input")
    (name,) = params
    assert body["details"][0]["loc"] == ["query", name]
    assert name in body["error"]["message"]


def test_costs_refuse_a_retention_and_keep_forever_together(client: TestClient) -> None:
    """The CLI's options are mutually exclusive; the schema cannot say so, hence 400."""
    both = client.get("/api/costs", params={"retention_days": 30, "keep_forever": "true"})
    body = assert_error(both, 400, "invalid_input")
    assert "retention_days" in body["error"]["message"]
    assert "keep_forever" in body["error"]["message"]
    # The old estimate's parameters are gone, and refused rather than ignored.
    old = assert_error(
        client.get("/api/costs", params={"puts_per_month": 10}), 400, "invalid_input"
    )
    assert "puts_per_month" in old["error"]["message"]


def test_costs_do_not_bill_documents_kept_on_disk(moto_storage: MeetingStorage) -> None:
    with make_client(moto_storage, store_in_s3=False) as local:
        uploaded = upload_wav(local)
        process(local, audio_s3_key=uploaded["audio_s3_key"])
        response = local.get("/api/costs")
    assert response.status_code == 200, response.text
    body = response.json()
    by_class = body["footprint"]["by_storage_class"]
    # Four documents, three index objects and index/aggregates.json, on disk.
    assert by_class["LOCAL"]["objects"] == 4 + 3 + 1
    assert by_class["LOCAL"]["bytes"] > 0
    assert by_class["STANDARD"] == {"objects": 1, "bytes": len(wav_bytes())}  # the recording
    storage_items = [i for i in body["monthly"]["items"] if i["category"] == "storage"]
    assert [i["name"] for i in storage_items] == ["S3 Standard storage"]
    assert storage_items[0]["quantity"] == pytest.approx(len(wav_bytes()) / 1024**3)
    assert any("STORE_IN_S3=false" in note for note in body["monthly"]["notes"])


def test_the_archive_classes_of_the_query_are_the_lifecycle_policys() -> None:
    assert get_args(ArchiveClass) == ARCHIVE_CLASSES


# ---------------------------------------------------------------------- the OpenAPI document


def test_the_openapi_document_describes_every_endpoint(client: TestClient) -> None:
    document = client.get("/openapi.json", headers={"Authorization": ""}).json()
    paths = document["paths"]
    assert set(paths) == {
        "/api/health",
        "/api/health/ready",
        "/api/meeting/process",
        "/api/meetings",
        "/api/meetings/upload-url",
        "/api/meetings/upload",
        "/api/meetings/{meeting_id}",
        "/api/meetings/{meeting_id}/speakers",
        "/api/meetings/{meeting_id}/speakers/rename",
        "/api/costs",
        "/api/audit",
        "/api/tokens",
        "/api/tokens/{token_id}",
    }
    assert "security" not in paths["/api/health"]["get"]
    assert paths["/api/meetings"]["get"]["security"] == [{"HTTPBearer": []}]
    upload = paths["/api/meetings/upload"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert client.get("/docs", headers={"Authorization": ""}).status_code == 200


def test_the_upload_is_streamed_not_buffered(moto_storage: MeetingStorage) -> None:
    """At the ASGI level (TestClient reads whole bodies first): a recording goes to S3 while
    its body arrives, and a file that is not audio is refused after its first chunks."""
    settings = replace(moto_storage.settings, api_token=TOKEN)
    app = create_app(lambda: moto_storage, settings=settings)
    chunk = 64 * 1024

    def call(payload: bytes) -> tuple[int, dict[str, Any], int, int]:
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        pieces = [head + payload[:chunk]]
        pieces += [payload[n : n + chunk] for n in range(chunk, len(payload), chunk)]
        pieces.append(b"\r\n--b--\r\n")
        pulled = 0
        sent: list[Message] = []

        async def receive() -> Message:
            nonlocal pulled
            pulled += 1
            if pulled <= len(pieces):
                return {
                    "type": "http.request",
                    "body": pieces[pulled - 1],
                    "more_body": pulled < len(pieces),
                }
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/api/meetings/upload",
            "raw_path": b"/api/meetings/upload",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"content-type", b"multipart/form-data; boundary=b"),
                (b"authorization", f"Bearer {TOKEN}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        anyio.run(app, scope, receive, send)
        status = sent[0]["status"]
        body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
        return status, body, pulled, len(pieces)

    status, body, pulled, total = call(b"%PDF-1.7\n" + bytes(40 * chunk))
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    assert pulled <= 2 < total  # refused after the first chunk, the rest never read
    audio = wav_header_then(20 * 1024 * 1024)  # above the 16 MiB multipart threshold
    status, body, pulled, total = call(audio)
    assert status == 200, body
    assert pulled == total and body["size"] == len(audio)
    info = moto_storage.audio.head(body["audio_s3_key"])
    assert info is not None and info.size == len(audio) and "-" in info.etag  # multipart


def test_unknown_query_parameters_are_refused(client: TestClient) -> None:
    body = assert_error(
        client.get("/api/meetings", params={"serach": "budget"}), 400, "invalid_input"
    )
    assert "serach" in body["error"]["message"] and "search" in body["error"]["message"]
    assert client.get("/api/meetings", params={"search": "budget"}).status_code == 200
    assert_error(client.get("/api/costs", params={"": "null"}), 400, "invalid_input")


def test_process_answers_202_with_the_queued_meeting(
    client: TestClient, moto_storage: MeetingStorage
) -> None:
    response = client.post("/api/meeting/process", json={"text": SAMPLE_TRANSCRIPT})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["status"] == "queued" and queued["stored"] is True
    meeting_id = queued["meeting_id"]
    shown = client.get(f"/api/meetings/{meeting_id}").json()["meeting"]["metadata"]
    assert shown["status"] == "queued" and shown["progress"] == 0.0
    assert moto_storage.run_job(meeting_id) == "complete"
    done = client.get(f"/api/meetings/{meeting_id}").json()["meeting"]
    assert done["metadata"]["status"] == "complete" and done["summary"]["action_items"]
