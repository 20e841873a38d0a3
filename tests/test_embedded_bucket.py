"""The bucket `make run` gets: the embedded SeaweedFS server creates it versioned and with
SSE-S3 default encryption, on a real SeaweedFS server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from meeting_storage import MeetingStorage
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.storage.embedded import EmbeddedS3
from tests.conftest import (
    REGION,
    app_test,
    drop_bucket,
    make_settings,
    new_bucket_name,
    raw_seaweed_client,
    table_with,
    use_dashboard_settings,
    wav_bytes,
)

pytestmark = pytest.mark.seaweedfs


@pytest.fixture
def created(seaweedfs: EmbeddedS3) -> Iterator[str]:
    """A bucket the embedded server has just created, as `make run` does; yields its name."""
    bucket = new_bucket_name()
    seaweedfs.ensure_bucket(bucket, REGION)
    yield bucket
    drop_bucket(raw_seaweed_client(seaweedfs), bucket)


def test_a_new_bucket_is_versioned_and_encrypted(seaweedfs: EmbeddedS3, created: str) -> None:
    s3 = raw_seaweed_client(seaweedfs)
    assert s3.get_bucket_versioning(Bucket=created)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=created)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    stored = s3.put_object(Bucket=created, Key="notes.txt", Body=b"minutes")
    assert stored["ServerSideEncryption"] == "AES256"
    assert stored["VersionId"] not in {None, "", "null"}
    head = s3.head_object(Bucket=created, Key="notes.txt")
    assert head["ServerSideEncryption"] == "AES256"


def test_an_existing_bucket_is_left_as_it_is(seaweedfs: EmbeddedS3) -> None:
    bucket = new_bucket_name()
    seaweedfs.ensure_bucket(bucket, REGION, versioned_and_encrypted=False)
    try:
        seaweedfs.ensure_bucket(bucket, REGION)
        s3 = raw_seaweed_client(seaweedfs)
        assert s3.get_bucket_versioning(Bucket=bucket).get("Status") is None
        assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    finally:
        drop_bucket(raw_seaweed_client(seaweedfs), bucket)


def test_doctor_finds_versioning_and_encryption_on_and_meetings_round_trip(
    seaweedfs: EmbeddedS3, created: str, tmp_path: Path
) -> None:
    storage = MeetingStorage(
        make_settings(created, tmp_path, s3_endpoint_url=seaweedfs.endpoint_url)
    )
    checks = {check.name: check for check in run_doctor(storage).checks}
    assert checks["versioning"].status == "ok", checks["versioning"]
    assert checks["encryption"].status == "ok", checks["encryption"]

    # Encrypted at rest, the recording still plays from its presigned URL.
    audio = wav_bytes()
    result = storage.process(
        "Alice: Hello.", audio_file=io.BytesIO(audio), audio_filename="Stand-up.wav"
    )
    meeting = storage.get_meeting(result.record.meeting_id)
    assert meeting.audio_url is not None
    response = requests.get(meeting.audio_url, timeout=30)
    assert response.status_code == 200 and response.content == audio


def test_the_home_page_finds_versioning_and_encryption_ok(
    seaweedfs: EmbeddedS3,
    created: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> None:
    settings = make_settings(created, tmp_path, s3_endpoint_url=seaweedfs.endpoint_url)
    use_dashboard_settings(settings, monkeypatch)
    at = app_test().run()
    assert not at.exception
    findings = table_with(at, "To fix")
    states = dict(zip(findings["Setting"], findings["Status"], strict=True))
    assert states["Versioning"] == states["Default encryption"] == "ok"
