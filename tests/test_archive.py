"""Archived recordings: `show` says so and offers a restore; `restore-audio` asks for one
(RestoreObject with tier and days) and shows its progress; Glacier Instant Retrieval plays."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest

from meeting_storage import InvalidInputError, MeetingStorage
from meeting_storage.costs.pricing import GIB, prices_for
from meeting_storage.storage import archive
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, wav_bytes
from tests.test_cli import assert_error, run


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def store(storage: MeetingStorage) -> tuple[str, str]:
    result = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="call.wav"
    )
    assert result.record.audio_s3_key is not None
    return result.record.meeting_id, result.record.audio_s3_key


def move_to(storage: MeetingStorage, key: str, storage_class: str) -> None:
    """What the lifecycle rule does after `archive_days`."""
    bucket = storage.settings.bucket
    s3().copy_object(
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key},
        StorageClass=storage_class,
        MetadataDirective="COPY",
    )


def test_restore_header_parsing() -> None:
    assert archive.parse_restore_header(None) == ("not_requested", None)
    assert archive.parse_restore_header('ongoing-request="true"') == ("in_progress", None)
    state, until = archive.parse_restore_header(
        'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"'
    )
    assert state == "restored" and until == datetime(2012, 12, 21, tzinfo=UTC)
    assert archive.archive_status("GLACIER_IR", None).playable
    assert archive.archive_status("STANDARD", None).restore == "not_needed"
    in_progress = archive.archive_status("DEEP_ARCHIVE", 'ongoing-request="true"')
    assert not in_progress.playable
    reason = archive.describe(in_progress)
    assert reason is not None and "in progress" in reason


def test_restore_requests_are_checked() -> None:
    assert archive.restore_request("GLACIER", 7, "Bulk") == {
        "Days": 7,
        "GlacierJobParameters": {"Tier": "Bulk"},
    }
    with pytest.raises(InvalidInputError, match="Expedited"):
        archive.restore_request("DEEP_ARCHIVE", 7, "Expedited")
    with pytest.raises(InvalidInputError, match="nothing to restore"):
        archive.restore_request("STANDARD", 7, "Standard")
    with pytest.raises(InvalidInputError, match="days"):
        archive.restore_request("GLACIER", 0, "Standard")
    with pytest.raises(InvalidInputError, match="tier"):
        archive.restore_request("GLACIER", 1, "Fast")


def test_restore_cost() -> None:
    prices = prices_for("us-east-1")
    # 10 GB at the Standard tier: $0.01/GB + $0.05 per 1,000 requests.
    assert archive.restore_cost(prices, "GLACIER", "Standard", 10 * GIB) == Decimal(
        "0.1"
    ) + Decimal("0.00005")
    assert archive.restore_cost(prices, "GLACIER", "Bulk", 10 * GIB) == 0


def test_archived_audio_is_not_played_and_can_be_restored(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    meeting_id, key = store(moto_storage)
    move_to(moto_storage, key, "GLACIER")

    _, shown = run(capsys, moto_storage, "show", meeting_id)
    meeting = shown["meeting"]
    assert meeting["audio_url"] is None
    assert "archived in S3 Glacier Flexible Retrieval" in meeting["audio_unavailable_reason"]
    assert "restore-audio" in meeting["audio_unavailable_reason"]
    assert meeting["audio_archive"] == {
        "storage_class": "GLACIER",
        "archived": True,
        "restore": "not_requested",
        "restored_until": None,
        "playable": False,
    }

    _, restored = run(
        capsys, moto_storage, "restore-audio", meeting_id, "--tier", "Bulk", "--days", "3"
    )
    assert restored["requested"] is True
    assert (restored["tier"], restored["days"]) == ("Bulk", 3)
    assert restored["estimated_cost_usd"] == 0  # Bulk retrievals from Glacier are free
    # moto finishes restores at once; S3 takes hours (restore "in_progress" meanwhile).
    assert restored["archive"]["restore"] == "restored"

    _, shown = run(capsys, moto_storage, "show", meeting_id)
    assert shown["meeting"]["audio_url"] is not None
    assert shown["meeting"]["audio_archive"]["playable"] is True
    assert shown["meeting"]["audio_archive"]["restored_until"] is not None


def test_a_restore_in_progress_is_shown(
    moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting_id, key = store(moto_storage)
    move_to(moto_storage, key, "DEEP_ARCHIVE")
    original = moto_storage.audio.head

    def head(name: str) -> Any:
        info = original(name)
        if info is not None and name == key:
            from dataclasses import replace

            return replace(info, restore='ongoing-request="true"')
        return info

    monkeypatch.setattr(moto_storage.audio, "head", head)
    meeting = moto_storage.get_meeting(meeting_id)
    assert meeting.audio_url is None
    assert meeting.audio_archive is not None and meeting.audio_archive.restore == "in_progress"
    assert "in progress" in (meeting.audio_unavailable_reason or "")


def test_glacier_instant_retrieval_plays_normally(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    meeting_id, key = store(moto_storage)
    move_to(moto_storage, key, "GLACIER_IR")
    meeting = moto_storage.get_meeting(meeting_id)
    assert meeting.audio_url is not None and meeting.audio_unavailable_reason is None
    assert meeting.audio_archive is not None
    assert (meeting.audio_archive.storage_class, meeting.audio_archive.archived) == (
        "GLACIER_IR",
        False,
    )
    message = assert_error(run(capsys, moto_storage, "restore-audio", meeting_id), "invalid_input")
    assert "plays without a restore" in message


def test_restore_audio_of_a_transcript_only_meeting_is_not_found(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    meeting_id = moto_storage.process(SAMPLE_TRANSCRIPT).record.meeting_id
    assert_error(run(capsys, moto_storage, "restore-audio", meeting_id), "not_found")
