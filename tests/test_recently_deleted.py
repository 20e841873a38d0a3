"""Versioned buckets: a deleted meeting is listed as recently deleted and can be restored
(its delete markers removed); `delete --purge` removes it for good. Run on moto and SeaweedFS."""

from __future__ import annotations

import io

import pytest
import requests

from meeting_storage import ConfigurationError, InvalidInputError, MeetingStorage, NotFoundError
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT, STATUS_COMPLETE
from tests.conftest import SAMPLE_TRANSCRIPT, s3_client_for, wav_bytes
from tests.test_cli import run


def versioned(storage: MeetingStorage) -> MeetingStorage:
    s3_client_for(storage).put_bucket_versioning(
        Bucket=storage.settings.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return storage


def test_a_deleted_meeting_is_listed_and_restored(storage: MeetingStorage) -> None:
    versioned(storage)
    audio = wav_bytes()
    kept = storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(audio), audio_filename="a.wav")
    gone = storage.process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(audio),
        audio_filename="b.wav",
        title="Budget review",
    )
    assert storage.recently_deleted() == []
    storage.delete_meeting(gone.record.meeting_id)

    deleted = storage.recently_deleted()
    assert [d.record.meeting_id for d in deleted] == [gone.record.meeting_id]
    assert deleted[0].record.title == "Budget review"
    assert deleted[0].to_dict()["audio_s3_key"] == gone.record.audio_s3_key

    restored = storage.undelete(gone.record.meeting_id)
    assert restored.status == STATUS_COMPLETE
    assert {r.meeting_id for r in storage.list_meetings().meetings} == {
        kept.record.meeting_id,
        gone.record.meeting_id,
    }
    meeting = storage.get_meeting(gone.record.meeting_id)
    assert meeting.transcription == SAMPLE_TRANSCRIPT.strip()
    assert meeting.summary == gone.summary
    assert meeting.audio_url is not None
    if storage.settings.s3_endpoint_url:  # a real server: the restored audio plays
        assert requests.get(meeting.audio_url, timeout=10).content == audio
    assert storage.recently_deleted() == []
    with pytest.raises(InvalidInputError, match="not deleted"):
        storage.undelete(gone.record.meeting_id)


def test_a_purged_meeting_cannot_be_restored(storage: MeetingStorage) -> None:
    versioned(storage)
    gone = storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()))
    storage.delete_meeting(gone.record.meeting_id, purge=True)
    assert storage.recently_deleted() == []
    with pytest.raises(NotFoundError, match="cannot be restored"):
        storage.undelete(gone.record.meeting_id)


def test_the_status_before_the_delete_comes_back(moto_storage: MeetingStorage) -> None:
    versioned(moto_storage)
    waiting = moto_storage.process(None, audio_file=io.BytesIO(wav_bytes()))
    moto_storage.delete_meeting(waiting.record.meeting_id)
    assert moto_storage.undelete(waiting.record.meeting_id).status == STATUS_AWAITING_TRANSCRIPT


def test_the_window_limits_the_listing(moto_storage: MeetingStorage) -> None:
    versioned(moto_storage)
    gone = moto_storage.process(SAMPLE_TRANSCRIPT)
    moto_storage.delete_meeting(gone.record.meeting_id)
    assert len(moto_storage.recently_deleted(1)) == 1
    with pytest.raises(InvalidInputError):
        moto_storage.recently_deleted(0)


def test_without_versioning_nothing_can_be_restored(moto_storage: MeetingStorage) -> None:
    with pytest.raises(ConfigurationError, match="bucket harden"):
        moto_storage.recently_deleted()
    with pytest.raises(ConfigurationError):
        moto_storage.undelete("meeting-0")


def test_cli_deleted_and_undelete(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    versioned(moto_storage)
    gone = moto_storage.process(SAMPLE_TRANSCRIPT, title="Retro")
    run(capsys, moto_storage, "delete", gone.record.meeting_id, "--yes")
    _, listed = run(capsys, moto_storage, "deleted")
    assert listed["count"] == 1
    assert listed["meetings"][0]["meeting_id"] == gone.record.meeting_id
    assert listed["meetings"][0]["title"] == "Retro"
    _, restored = run(capsys, moto_storage, "undelete", gone.record.meeting_id)
    assert restored["meeting_id"] == gone.record.meeting_id
    assert restored["meeting"]["status"] == STATUS_COMPLETE
    _, listed = run(capsys, moto_storage, "deleted", "--days", "7")
    assert listed["count"] == 0
