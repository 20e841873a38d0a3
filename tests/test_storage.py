"""The storage promises, run against moto and against a real SeaweedFS server."""

from __future__ import annotations

import io
import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from meeting_storage import (
    ConflictError,
    FileTooLargeError,
    InvalidInputError,
    MeetingStorage,
    NotFoundError,
    UnsupportedMediaTypeError,
)
from meeting_storage.core import layout
from meeting_storage.index.s3json import locator_of, month_of
from meeting_storage.service.facade import MeetingStorage as _Service
from tests.conftest import SAMPLE_TRANSCRIPT, s3_client_for, wav_bytes, wav_header_then
from tests.s3json_layout import one_index_key


def keys_in(storage: MeetingStorage) -> set[str]:
    """Every key but the audit trail's, with the S3 JSON index's objects (manifest, months,
    locators) as one."""
    return {
        one_index_key(info.key)
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def test_process_stores_the_exact_layout(storage: MeetingStorage) -> None:
    result = storage.process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes()),
        audio_filename="Weekly sync.wav",
        title="Launch planning",
    )
    meeting_id = result.record.meeting_id
    assert layout.MEETING_ID_RE.fullmatch(meeting_id)
    audio_key = result.record.audio_s3_key
    assert audio_key is not None
    assert layout.is_audio_key(audio_key) and audio_key.endswith("_Weekly sync.wav")
    expected = {
        audio_key,
        f"transcriptions/{meeting_id}/transcription.txt",
        f"transcriptions/{meeting_id}/summary.json",
        f"transcriptions/{meeting_id}/requirements.json",
        f"transcriptions/{meeting_id}/metadata.json",
        layout.INDEX_KEY,
    }
    assert keys_in(storage) == expected

    metadata = json.loads(storage.documents.get(layout.metadata_key(meeting_id)).data)
    for field in (
        "meeting_id",
        "audio_s3_key",
        "timestamp",
        "filename",
        "action_items_count",
        "requirements_count",
        "extraction_method",
        "bedrock_used",
    ):
        assert field in metadata
    assert metadata["audio_s3_key"] == audio_key
    assert datetime.fromisoformat(metadata["timestamp"]).utcoffset() == timedelta(0)
    assert metadata["content_type"] == "audio/wav"
    assert metadata["audio_size"] == len(wav_bytes())
    summary = json.loads(storage.documents.get(f"transcriptions/{meeting_id}/summary.json").data)
    assert summary["summary"]
    assert metadata["action_items_count"] == len(summary["action_items"]) >= 2
    assert all({"text", "owner", "due"} <= set(item) for item in summary["action_items"])
    requirements = json.loads(
        storage.documents.get(f"transcriptions/{meeting_id}/requirements.json").data
    )
    assert metadata["requirements_count"] == len(requirements) >= 2
    assert {"MUST", "SHOULD"} <= {r["priority"] for r in requirements}
    head = storage.audio.head(audio_key)
    assert head is not None and head.content_type == "audio/wav"


def test_list_show_and_delete_round_trip(storage: MeetingStorage) -> None:
    first = storage.process("Alice: We decided to ship on Monday after the final review.")
    second = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="b.wav"
    )
    page = storage.list_meetings()
    assert [r.meeting_id for r in page.meetings] == [
        r.meeting_id
        for r in sorted(
            [first.record, second.record], key=lambda r: (r.timestamp, r.meeting_id), reverse=True
        )
    ]
    meeting = storage.get_meeting(second.record.meeting_id)
    assert meeting.transcription == SAMPLE_TRANSCRIPT.strip()
    assert meeting.summary.action_items == second.summary.action_items
    assert meeting.requirements == second.requirements
    assert meeting.audio_url is not None and "X-Amz-Signature=" in meeting.audio_url

    report = storage.delete_meeting(second.record.meeting_id)
    assert set(report.deleted) == {
        second.record.audio_s3_key,
        *layout.meeting_file_keys(second.record.meeting_id),
    }
    assert report.index_entry_removed
    assert [r.meeting_id for r in storage.list_meetings().meetings] == [first.record.meeting_id]
    assert keys_in(storage) == {
        *layout.meeting_file_keys(first.record.meeting_id),
        layout.INDEX_KEY,
    }
    with pytest.raises(NotFoundError):
        storage.get_meeting(second.record.meeting_id)
    with pytest.raises(NotFoundError):
        storage.delete_meeting(second.record.meeting_id)


def test_metadata_is_written_last_and_never_overwritten(moto_storage: MeetingStorage) -> None:
    order: list[str] = []
    original_put = moto_storage.documents.put

    def recording_put(key: str, data: bytes, content_type: str, **kwargs: object) -> str:
        order.append(key)
        return original_put(key, data, content_type, **kwargs)  # type: ignore[arg-type]

    moto_storage.documents.put = recording_put  # type: ignore[method-assign]
    result = moto_storage.process(SAMPLE_TRANSCRIPT)
    meeting_keys = [k for k in order if k.startswith("transcriptions/")]
    assert meeting_keys[-1] == layout.metadata_key(result.record.meeting_id)
    # The index entries come after the meeting exists: where it is, its month, the manifest,
    # then the store's totals (index/aggregates.json); the audit event of the whole change
    # comes last.
    record = result.record
    assert order[-5:-1] == [
        layout.index_ids_key(locator_of(record.meeting_id)),
        layout.index_month_key(month_of(record.timestamp)),
        layout.INDEX_KEY,
        layout.AGGREGATES_KEY,
    ]
    assert order[-1].startswith(layout.AUDIT_PREFIX)
    with pytest.raises(ConflictError):
        original_put(
            layout.metadata_key(result.record.meeting_id),
            b"{}",
            "application/json",
            if_none_match=True,
        )


def test_list_pages_with_a_cursor_and_searches(storage: MeetingStorage) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for n in range(5):
        result = storage.process(
            f"Alice: Topic number {n} was discussed at length today.",
            title=f"Retro {n}" if n % 2 else f"Planning {n}",
            recorded_at=start + timedelta(days=n),
        )
        ids.append(result.record.meeting_id)
    newest_first = list(reversed(ids))
    first = storage.list_meetings(limit=2)
    assert [r.meeting_id for r in first.meetings] == newest_first[:2]
    assert first.next_cursor
    second = storage.list_meetings(limit=2, cursor=first.next_cursor)
    assert [r.meeting_id for r in second.meetings] == newest_first[2:4]
    third = storage.list_meetings(limit=2, cursor=second.next_cursor)
    assert [r.meeting_id for r in third.meetings] == newest_first[4:]
    assert third.next_cursor is None
    found = storage.list_meetings(search="retro")
    assert {r.meeting_id for r in found.meetings} == {ids[1], ids[3]}
    with pytest.raises(InvalidInputError):
        storage.list_meetings(cursor="not-a-cursor")
    with pytest.raises(InvalidInputError):
        storage.list_meetings(limit=0)


def test_concurrent_processes_all_get_listed(seaweed_storage: MeetingStorage) -> None:
    """The index uses ETag conditional writes: racing writers never drop each other's entries.

    Run on the real server only: moto's in-memory objects are not safe under threads.
    """
    storage = seaweed_storage
    errors: list[BaseException] = []
    stored: list[str] = []

    def worker(n: int) -> None:
        try:
            # Each thread has its own client, as separate processes would.
            service = _Service(storage.settings)
            stored.append(
                service.process(f"Bob: Meeting {n} will review the roadmap.").record.meeting_id
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    listed = {r.meeting_id for r in storage.list_meetings(limit=100).meetings}
    assert listed == set(stored) and len(stored) == 8


def test_index_writer_that_loses_the_race_retries(storage: MeetingStorage) -> None:
    """A competing write between our read and our conditional write must not be lost."""
    from meeting_storage.index.s3json import S3JsonIndex

    index = storage.index
    assert isinstance(index, S3JsonIndex)
    rival = S3JsonIndex(storage.documents)
    storage.process("Alice: The first meeting sets up the index object.")
    original_read = index._listing.read
    reads = []

    def read_then_rival_writes() -> Any:
        result = original_read()
        if not reads:
            rival.put(rival_record)
        reads.append(1)
        return result

    first = storage.list_meetings().meetings[0]
    rival_record = replace(first, meeting_id="meeting-rival1", title="rival")
    index._listing.read = read_then_rival_writes  # type: ignore[method-assign]
    mine = storage.process("Bob: My meeting must be listed next to the rival one.")
    assert len(reads) >= 2  # the first conditional write lost and was retried
    listed = {r.meeting_id for r in storage.list_meetings().meetings}
    assert listed == {first.meeting_id, "meeting-rival1", mine.record.meeting_id}


def test_upload_then_process_by_key(storage: MeetingStorage) -> None:
    uploaded = storage.upload_audio(io.BytesIO(wav_bytes()), "../../etc/Board meeting.wav")
    assert uploaded.audio_s3_key.startswith("meetings/")
    assert uploaded.audio_s3_key.endswith("_Board meeting.wav")
    result = storage.process(SAMPLE_TRANSCRIPT, audio_s3_key=uploaded.audio_s3_key)
    assert result.record.filename == "Board meeting.wav"
    assert result.record.audio_size == uploaded.size
    with pytest.raises(NotFoundError):
        storage.process(SAMPLE_TRANSCRIPT, audio_s3_key="meetings/" + "0" * 32 + "_missing.wav")
    with pytest.raises(InvalidInputError):
        storage.process(SAMPLE_TRANSCRIPT, audio_s3_key="transcriptions/../meetings/x.wav")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", InvalidInputError),
        (b"%PDF-1.7\n" + bytes(100), UnsupportedMediaTypeError),
        (b"just some text pretending to be audio", UnsupportedMediaTypeError),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), UnsupportedMediaTypeError),
    ],
)
def test_bad_audio_is_refused_before_anything_is_stored(
    storage: MeetingStorage, data: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        storage.upload_audio(io.BytesIO(data), "meeting.mp3")
    with pytest.raises(error):
        storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(data), audio_filename="x.m4a")
    assert keys_in(storage) == set()


def test_oversize_upload_is_refused_and_cleaned_up(storage: MeetingStorage) -> None:
    from dataclasses import replace

    small = _Service(replace(storage.settings, max_upload_bytes=1024 * 1024))
    data = wav_header_then(1024 * 1024 + 10)
    with pytest.raises(FileTooLargeError):  # size known up front
        small.upload_audio(io.BytesIO(data), "long.wav", size=len(data))
    with pytest.raises(FileTooLargeError):  # size found while streaming
        small.upload_audio(io.BytesIO(data), "long.wav")
    assert keys_in(storage) == set()


def test_large_upload_streams_in_parts(storage: MeetingStorage) -> None:
    """Above the multipart threshold the file goes up in parts and arrives intact."""
    data = wav_header_then(17 * 1024 * 1024)
    uploaded = storage.upload_audio(io.BytesIO(data), "all-hands.wav")
    assert uploaded.size == len(data)
    info = storage.audio.head(uploaded.audio_s3_key)
    assert info is not None and info.size == len(data)
    assert "-" in info.etag  # multipart ETags end in -<number of parts>


def test_seaweedfs_presigned_url_plays_and_names_the_file(seaweed_storage: MeetingStorage) -> None:
    audio = wav_bytes()
    result = seaweed_storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(audio), audio_filename="Sprint review.wav"
    )
    url = seaweed_storage.presign_audio(result.record.meeting_id)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == audio
    assert response.headers["Content-Type"] == "audio/wav"
    assert 'filename="Sprint review.wav"' in response.headers["Content-Disposition"]
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert requests.get(tampered, timeout=10).status_code == 403


def test_seaweedfs_presigned_url_expires(seaweed_storage: MeetingStorage) -> None:
    import time

    result = seaweed_storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav"
    )
    url = seaweed_storage.presign_audio(result.record.meeting_id, expires_in=1)
    time.sleep(2.5)
    assert requests.get(url, timeout=10).status_code == 403
    with pytest.raises(InvalidInputError):
        seaweed_storage.presign_audio(result.record.meeting_id, expires_in=0)


def test_versioned_bucket_delete_is_recoverable_and_purge_is_not(storage: MeetingStorage) -> None:
    client = s3_client_for(storage)
    client.put_bucket_versioning(
        Bucket=storage.settings.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    kept = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav"
    )
    gone = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="b.wav"
    )

    def versions(prefix: str) -> int:
        answer = client.list_object_versions(Bucket=storage.settings.bucket, Prefix=prefix)
        return len(answer.get("Versions", [])) + len(answer.get("DeleteMarkers", []))

    soft = storage.delete_meeting(kept.record.meeting_id)
    assert soft.to_dict()["recoverable"] is True
    assert versions(f"transcriptions/{kept.record.meeting_id}/") > 0  # old versions remain
    assert versions(kept.record.audio_s3_key or "") > 0
    hard = storage.delete_meeting(gone.record.meeting_id, purge=True)
    assert hard.purged and hard.to_dict()["recoverable"] is False
    assert versions(f"transcriptions/{gone.record.meeting_id}/") == 0
    assert versions(gone.record.audio_s3_key or "") == 0
    assert storage.list_meetings().meetings == []


def test_recording_without_transcript_waits_for_one(storage: MeetingStorage) -> None:
    from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT, STATUS_COMPLETE

    stored = storage.process(None, audio_file=io.BytesIO(wav_bytes()), audio_filename="call.wav")
    meeting_id = stored.record.meeting_id
    assert stored.record.status == STATUS_AWAITING_TRANSCRIPT
    assert stored.record.action_items_count == 0
    listed = storage.list_meetings().meetings
    assert [(r.meeting_id, r.status) for r in listed] == [(meeting_id, STATUS_AWAITING_TRANSCRIPT)]
    assert set(layout.meeting_file_keys(meeting_id)) <= keys_in(storage)

    done = storage.attach_transcript(meeting_id, SAMPLE_TRANSCRIPT)
    assert done.record.status == STATUS_COMPLETE
    assert done.record.action_items_count == len(done.summary.action_items) > 0
    assert done.record.audio_s3_key == stored.record.audio_s3_key
    meeting = storage.get_meeting(meeting_id)
    assert meeting.transcription == SAMPLE_TRANSCRIPT.strip()
    assert meeting.record.status == STATUS_COMPLETE
    assert storage.list_meetings().meetings[0].action_items_count == done.record.action_items_count
    with pytest.raises(NotFoundError):
        storage.attach_transcript("meeting-0000", SAMPLE_TRANSCRIPT)
    with pytest.raises(InvalidInputError):
        storage.process(None)
