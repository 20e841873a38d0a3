"""Browser uploads straight to S3: the presigned POST the Upload page asks for, the check of
the stored object's first bytes (a wrong one is removed), and the bucket's CORS rule for the
dashboard (`bucket cors`, `bucket harden`, doctor, the embedded server) on moto and SeaweedFS."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import requests

from meeting_storage import MeetingStorage
from meeting_storage.core.errors import FileTooLargeError, UnsupportedMediaTypeError
from meeting_storage.core.models import STATUS_COMPLETE
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.hardening import set_dashboard_cors
from meeting_storage.storage.bucket import DASHBOARD_CORS_ID, with_dashboard_rule
from meeting_storage.storage.embedded import EmbeddedS3
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, new_bucket_name, raw_seaweed_client, wav_bytes
from tests.test_cli import run
from ui.upload import direct_limit_mb, direct_upload_mode, parse_browser_event

ORIGIN = "http://localhost:8501"


def post(upload: Any, data: bytes) -> requests.Response:
    """What the browser's picker does: the policy's fields, then the file last."""
    return requests.post(upload.url, data=upload.fields, files={"file": ("x", data)}, timeout=30)


@pytest.mark.seaweedfs
def test_a_browser_upload_lands_in_s3_and_becomes_a_meeting(
    seaweed_storage: MeetingStorage,
) -> None:
    recording = wav_bytes(2.0)
    upload = seaweed_storage.create_browser_upload("Team sync.wav", len(recording))
    assert upload.method == "POST" and upload.content_type == "audio/wav"
    assert upload.min_bytes == upload.max_bytes == len(recording)
    assert post(upload, recording).status_code in {200, 204}
    size, content_type = seaweed_storage.check_uploaded_audio(upload.audio_s3_key)
    assert (size, content_type) == (len(recording), "audio/wav")
    result = seaweed_storage.process(SAMPLE_TRANSCRIPT, audio_s3_key=upload.audio_s3_key)
    assert result.record.status == STATUS_COMPLETE
    assert result.record.audio_s3_key == upload.audio_s3_key
    assert seaweed_storage.audio.content_sha256(upload.audio_s3_key)


def test_a_stored_object_that_is_not_a_recording_is_removed_and_reported(
    storage: MeetingStorage,
) -> None:
    text = b"These are meeting notes, not a recording." * 10
    upload = storage.create_browser_upload("notes.wav", len(text))
    assert post(upload, text).status_code in {200, 204}
    assert storage.audio.head(upload.audio_s3_key) is not None
    with pytest.raises(UnsupportedMediaTypeError, match="It was removed from the bucket"):
        storage.check_uploaded_audio(upload.audio_s3_key)
    assert storage.audio.head(upload.audio_s3_key) is None
    assert list(storage.audio.iter_objects("meetings/")) == []


@pytest.mark.seaweedfs
def test_s3_refuses_a_size_other_than_the_signed_one(seaweed_storage: MeetingStorage) -> None:
    upload = seaweed_storage.create_browser_upload("sync.wav", 100)  # moto does not check
    assert post(upload, wav_bytes(1.0)).status_code >= 400
    assert seaweed_storage.audio.head(upload.audio_s3_key) is None


def test_limits_of_a_browser_upload(moto_storage: MeetingStorage) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="accepted recordings"):
        moto_storage.create_browser_upload("notes.txt", 10)
    with pytest.raises(FileTooLargeError, match="MAX_UPLOAD_MB"):
        moto_storage.create_browser_upload("long.wav", moto_storage.settings.max_upload_bytes + 1)
    huge = MeetingStorage(dataclasses.replace(moto_storage.settings, max_upload_bytes=20 * 1024**3))
    with pytest.raises(FileTooLargeError, match="5 GB"):
        huge.create_browser_upload("long.wav", 5 * 1024**3 + 1)
    assert direct_limit_mb(20 * 1024) == 5 * 1024 and direct_limit_mb(500) == 500


def test_which_endpoints_a_browser_is_trusted_to_reach() -> None:
    assert direct_upload_mode("auto", None) == (True, "")
    assert direct_upload_mode("auto", "http://127.0.0.1:8333")[0] is True
    assert direct_upload_mode("auto", "https://s3.example.com")[0] is True
    server_only, why = direct_upload_mode("auto", "http://seaweedfs:8333")
    assert server_only is False and "only the dashboard server can resolve" in why
    assert direct_upload_mode("true", "http://seaweedfs:8333")[0] is True
    assert direct_upload_mode("false", None)[0] is False


def test_what_the_picker_reports_is_parsed_defensively() -> None:
    event = parse_browser_event({"event": "uploaded", "id": "1", "key": "meetings/x", "size": 3})
    assert event is not None and event.key == "meetings/x" and event.size == 3
    assert parse_browser_event(None) is None
    assert parse_browser_event({"event": "evil", "id": "1"}) is None
    assert parse_browser_event({"event": "picked", "id": 7}) is None
    network = parse_browser_event({"event": "error", "id": "2", "kind": "network"})
    assert network is not None and "bucket cors" in network.describe_error()


def test_cors_rules_are_set_read_and_kept_on_both_servers(storage: MeetingStorage) -> None:
    bucket = storage.bucket
    assert bucket.cors_rules() == []
    other = {"AllowedOrigins": ["https://other.example"], "AllowedMethods": ["GET"]}
    bucket.put_cors_rules([other])
    report = set_dashboard_cors(bucket, (ORIGIN,))
    assert report.supported and report.applied and report.missing == (ORIGIN,)
    rules = bucket.cors_rules()
    assert len(rules) == 2
    ours = next(rule for rule in rules if rule.get("ID") == DASHBOARD_CORS_ID)
    assert ours["AllowedOrigins"] == [ORIGIN]
    assert {"POST", "PUT", "GET"} <= set(ours["AllowedMethods"])
    assert any(rule["AllowedOrigins"] == ["https://other.example"] for rule in rules)
    again = set_dashboard_cors(bucket, (ORIGIN,))
    assert again.applied is False and again.missing == ()
    wider = set_dashboard_cors(bucket, ("https://meetings.example.com",))
    ours = next(rule for rule in wider.rules if rule.get("ID") == DASHBOARD_CORS_ID)
    assert ours["AllowedOrigins"] == ["http://localhost:8501", "https://meetings.example.com"]
    bucket.put_cors_rules([])
    assert bucket.cors_rules() == []


def test_bucket_cors_command_and_doctor(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    before = {check.name: check for check in run_doctor(moto_storage).checks}["cors"]
    assert before.status == "warn" and before.fix == "python -m meeting_storage bucket cors"
    _, dry = run(capsys, moto_storage, "bucket", "cors", "--dry-run")
    assert dry["applied"] is False and set(dry["missing"]) == set(
        moto_storage.settings.dashboard_origins
    )
    assert moto_storage.bucket.cors_rules() == []
    _, done = run(capsys, moto_storage, "bucket", "cors", "--origin", "https://m.example.com")
    assert done["applied"] is True and done["origins"] == ["https://m.example.com"]
    _, done = run(capsys, moto_storage, "bucket", "cors")
    assert done["applied"] is True
    after = {check.name: check for check in run_doctor(moto_storage).checks}["cors"]
    assert after.status == "ok", after
    status, bad = run(capsys, moto_storage, "bucket", "cors", "--origin", "localhost:8501/x")
    assert status != 0 and bad["error"]["code"] == "invalid_input"
    off = MeetingStorage(dataclasses.replace(moto_storage.settings, direct_uploads="false"))
    assert {c.name: c for c in run_doctor(off).checks}["cors"].status == "ok"


@pytest.mark.seaweedfs
def test_the_embedded_server_gets_the_rule_and_enforces_it_on_objects(
    seaweedfs: EmbeddedS3,
) -> None:
    bucket = new_bucket_name()
    seaweedfs.ensure_bucket(bucket, REGION, cors_origins=[ORIGIN])
    client = raw_seaweed_client(seaweedfs)
    rules = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert [rule["AllowedOrigins"] for rule in rules] == [[ORIGIN]]
    # Run again with another port (make run on a busy 8501): the rule widens.
    seaweedfs.ensure_bucket(bucket, REGION, cors_origins=["http://localhost:8502"])
    rules = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == [ORIGIN, "http://localhost:8502"]

    def preflight(origin: str) -> requests.Response:
        return requests.options(
            f"{seaweedfs.endpoint_url}/{bucket}/meetings/x.wav",
            headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
            timeout=10,
        )

    allowed = preflight(ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight("http://elsewhere.example").status_code == 403
    assert with_dashboard_rule(rules, [ORIGIN]) == rules
