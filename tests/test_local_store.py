"""STORE_IN_S3=false (documents in a local folder), SKIP_LOCAL_STORAGE=false (local copies of
uploads), and the local blob store's promises, which match S3's."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from meeting_storage import (
    ConflictError,
    FileTooLargeError,
    InvalidInputError,
    MeetingStorage,
    NotFoundError,
    Settings,
)
from meeting_storage.core import layout
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.reindex import reindex
from meeting_storage.storage.blobs import BlobStore, LocalBlobStore, S3BlobStore
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, wav_bytes, wav_header_then


def bucket_keys(settings: Settings) -> set[str]:
    """The bucket's keys but the audit trail's (it lives in the bucket in every mode)."""
    answer = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=settings.bucket)
    keys = {item["Key"] for item in answer.get("Contents", [])}
    return {key for key in keys if not key.startswith(layout.AUDIT_PREFIX)}


def local_files(root: Path) -> set[str]:
    """Every file under root, as a key, without the store's own hidden files."""
    if not root.exists():
        return set()
    return {
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    }


@pytest.fixture
def local_docs(moto_settings: Settings) -> MeetingStorage:
    return MeetingStorage(replace(moto_settings, store_in_s3=False))


# ---------------------------------------------------------------- STORE_IN_S3=false


def test_documents_and_index_live_in_the_local_folder(local_docs: MeetingStorage) -> None:
    settings = local_docs.settings
    audio = wav_bytes()
    result = local_docs.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(audio), audio_filename="Standup.wav"
    )
    meeting_id = result.record.meeting_id
    audio_key = result.record.audio_s3_key
    assert audio_key is not None and layout.is_audio_key(audio_key)

    root = settings.local_data_dir
    assert local_files(root) == {
        *layout.meeting_file_keys(meeting_id),
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
    }
    assert bucket_keys(settings) == {audio_key}  # only the recording is in the bucket
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.get_object(Bucket=settings.bucket, Key=audio_key)["Body"].read() == audio

    metadata = json.loads((root / layout.metadata_key(meeting_id)).read_text(encoding="utf-8"))
    assert metadata["meeting_id"] == meeting_id
    assert metadata["audio_s3_key"] == audio_key
    transcript = (root / layout.meeting_file_key(meeting_id, layout.TRANSCRIPTION_FILE)).read_text(
        encoding="utf-8"
    )
    assert transcript == SAMPLE_TRANSCRIPT.strip()
    index = json.loads((root / layout.INDEX_KEY).read_text(encoding="utf-8"))
    assert set(index["meetings"]) == {meeting_id}
    assert not settings.uploads_dir.exists()  # SKIP_LOCAL_STORAGE=true keeps no copy


def test_list_show_and_delete_with_local_documents(local_docs: MeetingStorage) -> None:
    first = local_docs.process("Alice: We decided to ship the beta on Monday morning.")
    second = local_docs.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="b.wav"
    )
    listed = [r.meeting_id for r in local_docs.list_meetings().meetings]
    assert set(listed) == {first.record.meeting_id, second.record.meeting_id}

    meeting = local_docs.get_meeting(second.record.meeting_id)
    assert meeting.transcription == SAMPLE_TRANSCRIPT.strip()
    assert meeting.summary.action_items == second.summary.action_items
    assert meeting.requirements == second.requirements
    assert meeting.audio_url is not None and "X-Amz-Signature=" in meeting.audio_url

    report = local_docs.delete_meeting(second.record.meeting_id)
    assert set(report.deleted) == {
        second.record.audio_s3_key,
        *layout.meeting_file_keys(second.record.meeting_id),
    }
    assert report.index_entry_removed
    root = local_docs.settings.local_data_dir
    assert local_files(root) == {
        *layout.meeting_file_keys(first.record.meeting_id),
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
    }
    assert not (root / layout.meeting_prefix(second.record.meeting_id)).exists()
    assert bucket_keys(local_docs.settings) == set()
    assert [r.meeting_id for r in local_docs.list_meetings().meetings] == [first.record.meeting_id]
    with pytest.raises(NotFoundError):
        local_docs.get_meeting(second.record.meeting_id)
    with pytest.raises(NotFoundError):
        local_docs.delete_meeting(second.record.meeting_id)


def test_reindex_and_doctor_with_local_documents(local_docs: MeetingStorage) -> None:
    record = local_docs.process(SAMPLE_TRANSCRIPT).record
    (local_docs.settings.local_data_dir / layout.INDEX_KEY).unlink()
    assert local_docs.list_meetings().meetings == []
    assert reindex(local_docs).indexed == 1
    assert [r.meeting_id for r in local_docs.list_meetings().meetings] == [record.meeting_id]
    report = run_doctor(local_docs)
    assert report.healthy
    assert str(local_docs.settings.local_data_dir.resolve()) in report.checks[0].message


# ---------------------------------------------------------------- SKIP_LOCAL_STORAGE=false


@pytest.mark.parametrize("store_in_s3", [True, False])
def test_upload_keeps_a_local_copy_that_delete_removes(
    moto_settings: Settings, store_in_s3: bool
) -> None:
    settings = replace(moto_settings, store_in_s3=store_in_s3, skip_local_storage=False)
    storage = MeetingStorage(settings)
    audio = wav_bytes(1.0)
    result = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(audio), audio_filename="Weekly sync.wav"
    )
    key = result.record.audio_s3_key
    assert key is not None
    copy = settings.local_data_dir / "uploads" / key.removeprefix("meetings/")
    assert copy.name.endswith("_Weekly sync.wav")
    assert copy.read_bytes() == audio
    assert list(settings.uploads_dir.iterdir()) == [copy]
    assert key in bucket_keys(settings)

    report = storage.delete_meeting(result.record.meeting_id)
    assert str(copy) in report.deleted
    assert not copy.exists()
    assert key not in bucket_keys(settings)


def test_upload_audio_reports_its_local_copy(moto_settings: Settings) -> None:
    storage = MeetingStorage(replace(moto_settings, skip_local_storage=False))
    audio = wav_bytes()
    uploaded = storage.upload_audio(io.BytesIO(audio), "../../Board.wav")
    assert uploaded.local_copy is not None
    copy = Path(uploaded.local_copy)
    assert copy.parent == storage.settings.uploads_dir
    assert copy.name == uploaded.audio_s3_key.removeprefix("meetings/")
    assert copy.read_bytes() == audio and uploaded.size == len(audio)


def test_local_copy_of_a_long_accented_name(moto_settings: Settings) -> None:
    """The copy is named {uuid}_{name}; file systems refuse names over 255 bytes."""
    storage = MeetingStorage(replace(moto_settings, skip_local_storage=False))
    uploaded = storage.upload_audio(io.BytesIO(wav_bytes()), "Réunion " + "é" * 500 + ".wav")
    assert uploaded.local_copy is not None
    assert Path(uploaded.local_copy).read_bytes() == wav_bytes()
    assert uploaded.filename.startswith("Réunion é") and uploaded.filename.endswith(".wav")


def test_refused_upload_leaves_no_local_copy(moto_settings: Settings) -> None:
    settings = replace(moto_settings, skip_local_storage=False, max_upload_bytes=1024 * 1024)
    storage = MeetingStorage(settings)
    with pytest.raises(FileTooLargeError):
        storage.upload_audio(io.BytesIO(wav_header_then(1024 * 1024 + 1)), "long.wav")
    assert local_files(settings.uploads_dir) == set()
    assert bucket_keys(settings) == set()


# ---------------------------------------------------------------- LocalBlobStore


@pytest.mark.parametrize(
    "key",
    ["../x", "../../etc/passwd", "a/../../x", "/etc/passwd", "transcriptions/../../x", "", "."],
)
def test_local_store_refuses_keys_outside_its_root(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "root")
    with pytest.raises(ValueError, match="escapes"):
        store.put(key, b"data", "text/plain")
    with pytest.raises(ValueError, match="escapes"):
        store.get(key)
    with pytest.raises(ValueError, match="escapes"):
        store.delete([key])
    assert not (tmp_path / "x").exists()
    assert {p.name for p in tmp_path.rglob("*") if p.is_file()} <= {".lock"}


def test_local_store_refuses_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "transcriptions").symlink_to(outside, target_is_directory=True)
    store = LocalBlobStore(root)
    with pytest.raises(ValueError, match="escapes"):
        store.put("transcriptions/meeting-a/metadata.json", b"{}", "application/json")
    assert list(outside.iterdir()) == []


@pytest.fixture(params=["local", "s3"])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same conditional-write contract, on a folder and on (moto) S3."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    settings: Settings = request.getfixturevalue("moto_settings")
    client: Any = boto3.client("s3", region_name=REGION)
    return S3BlobStore(client, settings.bucket)


def test_blob_store_conditional_writes(blob_store: BlobStore) -> None:
    key = "transcriptions/meeting-abc/metadata.json"
    first = blob_store.put(key, b"one", "application/json", if_none_match=True)
    assert blob_store.get(key).data == b"one"
    assert blob_store.get(key).etag == first

    with pytest.raises(ConflictError):
        blob_store.put(key, b"two", "application/json", if_none_match=True)
    assert blob_store.get(key).data == b"one"  # the losing write changed nothing

    second = blob_store.put(key, b"two", "application/json", if_match=first)
    assert second != first
    assert blob_store.get(key).data == b"two"

    with pytest.raises(ConflictError):
        blob_store.put(key, b"three", "application/json", if_match=first)  # stale ETag
    assert blob_store.get(key).data == b"two"

    with pytest.raises(ConflictError):
        blob_store.put("index/missing.json", b"x", "application/json", if_match=first)
    assert blob_store.head("index/missing.json") is None

    blob_store.put(key, b"four", "application/json")  # unconditional write always wins
    assert blob_store.get(key).data == b"four"


def test_blob_store_read_list_and_delete(blob_store: BlobStore) -> None:
    keys = [
        "transcriptions/meeting-a/metadata.json",
        "transcriptions/meeting-a/summary.json",
        "transcriptions/meeting-b/metadata.json",
        "index/meetings.json",
    ]
    for n, key in enumerate(keys):
        blob_store.put(key, b"x" * (n + 1), "application/json")
    with pytest.raises(NotFoundError):
        blob_store.get("transcriptions/meeting-c/metadata.json")
    info = blob_store.head(keys[1])
    assert info is not None and info.size == 2 and info.last_modified is not None
    assert blob_store.head("transcriptions/meeting-c/metadata.json") is None

    listed = [i.key for i in blob_store.iter_objects("transcriptions/meeting-a/")]
    assert sorted(listed) == keys[:2]
    assert sorted(blob_store.iter_children("transcriptions/")) == [
        "transcriptions/meeting-a/",
        "transcriptions/meeting-b/",
    ]

    deleted = blob_store.delete([keys[0], keys[1], "transcriptions/meeting-a/never.json"])
    assert sorted(deleted) == keys[:2]
    assert [i.key for i in blob_store.iter_objects("transcriptions/meeting-a/")] == []
    assert sorted(blob_store.iter_children("transcriptions/")) == ["transcriptions/meeting-b/"]
    assert blob_store.delete([]) == []


@pytest.mark.parametrize(
    "extra",
    [{"title": "Launch \ud800 review"}, {"tags": ["ok", "\udc00"]}],
    ids=["title", "tag"],
)
def test_text_that_cannot_be_stored_is_refused_and_leaves_nothing(
    local_docs: MeetingStorage, extra: dict[str, Any]
) -> None:
    """A lone surrogate (json.loads accepts "\\ud800") cannot be written as UTF-8 JSON: the
    caller must get an InvalidInputError, not a UnicodeEncodeError, and no half meeting."""
    with pytest.raises(InvalidInputError):
        local_docs.process(
            SAMPLE_TRANSCRIPT,
            audio_file=io.BytesIO(wav_bytes()),
            audio_filename="a.wav",
            **extra,
        )
    assert local_files(local_docs.settings.local_data_dir) <= {
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
    }
    assert bucket_keys(local_docs.settings) == set()
    assert local_docs.list_meetings().meetings == []
