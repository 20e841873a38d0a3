"""Bad input and broken backends get a clear, typed error, and nothing stored is lost.

Tests whose outcome depends on the S3 server take the `storage` fixture (moto and SeaweedFS);
failures are simulated by wrapping one method of the service at one precise step.
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from meeting_storage import (
    AccessDeniedError,
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    MeetingStorage,
    NotFoundError,
)
from meeting_storage.analysis import Extraction
from meeting_storage.core import layout
from meeting_storage.core.models import MeetingRecord
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.reindex import reindex
from meeting_storage.storage.embedded import free_port
from tests.conftest import SAMPLE_TRANSCRIPT, make_settings, new_bucket_name, wav_bytes

AUDIO_KEY_RE = re.compile(r"^meetings/(?P<hex>[0-9a-f]{32})_(?P<name>.*)$", re.DOTALL)


class SimulatedFailure(Exception):
    """Stands in for a crash, a network error or a full disk at one precise step."""


def keys_in(storage: MeetingStorage) -> set[str]:
    """Every key but the audit trail's (every attempt, failed ones too, is recorded there)."""
    return {
        info.key
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def listed_ids(storage: MeetingStorage) -> list[str]:
    return [r.meeting_id for r in storage.list_meetings(limit=1000).meetings]


INDEX_KEYS = {layout.INDEX_KEY, layout.SEARCH_INDEX_KEY, layout.AGGREGATES_KEY}


def checks_by_name(storage: MeetingStorage) -> dict[str, Any]:
    return {check.name: check for check in run_doctor(storage).checks}


def process_sample(storage: MeetingStorage, name: str = "Weekly sync.wav") -> Any:
    return storage.process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes()),
        audio_filename=name,
        title="Weekly sync",
    )


# ---------------------------------------------------------------- process is all or nothing


class FailingExtractor:
    def __init__(self, on_call: Callable[[], None]) -> None:
        self.on_call = on_call

    def extract(self, text: str) -> Extraction:
        self.on_call()
        raise SimulatedFailure("the extractor crashed")


FAILURE_POINTS = ["extractor", "second-document", "metadata"]
INDEX_FAILURE_POINTS = ["index", "index-after-write"]


def arm_failure(
    storage: MeetingStorage, point: str, patch: pytest.MonkeyPatch, seen: list[set[str]]
) -> MeetingStorage:
    """Make `process` fail at `point`; `seen` receives the bucket's keys at that moment."""

    def snapshot() -> None:
        seen.append(keys_in(storage))

    if point == "extractor":
        return MeetingStorage(storage.settings, extractor=FailingExtractor(snapshot))

    if point in {"second-document", "metadata"}:
        original_put = storage.documents.put
        documents: list[str] = []

        def put(key: str, data: bytes, content_type: str, **kwargs: Any) -> str:
            if key.startswith(layout.TRANSCRIPTIONS_PREFIX):
                documents.append(key)
                if (point == "second-document" and len(documents) == 2) or (
                    point == "metadata" and key.endswith("/" + layout.METADATA_FILE)
                ):
                    snapshot()
                    raise SimulatedFailure(f"writing {key} failed")
            return original_put(key, data, content_type, **kwargs)

        patch.setattr(storage.documents, "put", put)
        return storage

    original_index_put = storage.index.put

    def index_put(record: MeetingRecord, text: Any = None) -> None:
        if point == "index-after-write":
            # The write reached S3 but the reply was lost (a read timeout, say).
            original_index_put(record, text)
        snapshot()
        raise SimulatedFailure("writing the index failed")

    patch.setattr(storage.index, "put", index_put)
    return storage


@pytest.mark.parametrize("point", FAILURE_POINTS)
def test_a_failed_process_leaves_nothing_and_a_retry_succeeds(
    storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    seen: list[set[str]] = []
    with monkeypatch.context() as patch:
        service = arm_failure(storage, point, patch, seen)
        with pytest.raises(SimulatedFailure):
            process_sample(service)

    # The failure happened half-way: something had been written that had to be undone.
    (at_failure,) = seen
    assert any(layout.is_audio_key(key) for key in at_failure)
    if point != "extractor":
        assert any(key.endswith("/" + layout.TRANSCRIPTION_FILE) for key in at_failure)
    if point == "second-document":
        assert not any(key.endswith("/" + layout.SUMMARY_FILE) for key in at_failure)

    assert storage.list_meetings().meetings == []
    assert keys_in(storage) <= INDEX_KEYS
    assert storage.index.ids() == set()
    checks = checks_by_name(storage)
    assert checks["leftovers"].status == "ok"
    assert checks["orphan audio"].status == "ok"
    assert checks["index"].status == "ok"

    result = process_sample(storage)
    meeting_id = result.record.meeting_id
    assert listed_ids(storage) == [meeting_id]
    assert keys_in(storage) == {
        result.record.audio_s3_key,
        *layout.meeting_file_keys(meeting_id),
        *INDEX_KEYS,
    }
    assert storage.get_meeting(meeting_id).transcription == SAMPLE_TRANSCRIPT.strip()


@pytest.mark.parametrize("point", INDEX_FAILURE_POINTS)
def test_a_failed_index_write_keeps_the_whole_meeting_and_says_how_to_list_it(
    storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    """S3 is the source of truth: once metadata.json is written the meeting is kept whole,
    never listed without its files, and `doctor --fix` lists it."""
    from meeting_storage.ops.doctor import repair

    seen: list[set[str]] = []
    with monkeypatch.context() as patch:
        service = arm_failure(storage, point, patch, seen)
        result = process_sample(service)
    meeting_id = result.record.meeting_id
    assert result.index_warning is not None
    assert "doctor --fix" in result.index_warning
    assert any(key == layout.metadata_key(meeting_id) for key in seen[0])
    # Every file of the meeting is there, listed or not.
    assert {result.record.audio_s3_key, *layout.meeting_file_keys(meeting_id)} <= keys_in(storage)
    assert storage.get_meeting(meeting_id).transcription == SAMPLE_TRANSCRIPT.strip()
    if point == "index":
        assert listed_ids(storage) == []
        assert checks_by_name(storage)["index"].status == "warn"
        repairs = repair(storage)
        assert [r.meeting_ids for r in repairs if r.action == "index_missing"] == [[meeting_id]]
    assert listed_ids(storage) == [meeting_id]
    assert checks_by_name(storage)["index"].status == "ok"


def test_a_failed_process_keeps_the_meetings_already_stored(
    moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = process_sample(moto_storage, "kept.wav")
    before = keys_in(moto_storage)
    seen: list[set[str]] = []
    with monkeypatch.context() as patch:
        arm_failure(moto_storage, "metadata", patch, seen)
        with pytest.raises(SimulatedFailure):
            process_sample(moto_storage, "lost.wav")
    assert keys_in(moto_storage) == before
    assert listed_ids(moto_storage) == [kept.record.meeting_id]
    assert moto_storage.get_meeting(kept.record.meeting_id).audio_url is not None


# ---------------------------------------------------------------- deletes finish when re-run


def test_an_interrupted_delete_is_finished_by_deleting_again(
    storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = process_sample(storage, "kept.wav")
    doomed = process_sample(storage, "doomed.wav")
    meeting_id = doomed.record.meeting_id
    audio_key = doomed.record.audio_s3_key
    assert audio_key is not None
    original_delete = storage.audio.delete
    index_at_failure: list[set[str]] = []

    def delete(keys: Any, *, purge: bool = False) -> list[str]:
        if audio_key in keys:
            index_at_failure.append(storage.index.ids())
            raise BackendUnavailableError("simulated: the connection dropped")
        return original_delete(keys, purge=purge)

    with monkeypatch.context() as patch:
        patch.setattr(storage.audio, "delete", delete)
        with pytest.raises(BackendUnavailableError):
            storage.delete_meeting(meeting_id)
    assert index_at_failure == [{kept.record.meeting_id}]  # the entry was already gone

    # Half deleted: not listed, not shown, and doctor says how to finish.
    assert listed_ids(storage) == [kept.record.meeting_id]
    with pytest.raises(NotFoundError):
        storage.get_meeting(meeting_id)
    assert {audio_key, layout.metadata_key(meeting_id)} <= keys_in(storage)
    checks = checks_by_name(storage)
    interrupted = checks["interrupted deletes"]
    assert interrupted.status == "warn"
    assert meeting_id in interrupted.message
    assert "delete MEETING_ID --yes" in interrupted.fix
    assert checks["index"].status == "ok"
    # Rebuilding the index does not bring a meeting that is being deleted back.
    assert reindex(storage).indexed == 1
    assert listed_ids(storage) == [kept.record.meeting_id]

    report = storage.delete_meeting(meeting_id)
    assert set(report.deleted) == {audio_key, *layout.meeting_file_keys(meeting_id)}
    assert keys_in(storage) == {
        kept.record.audio_s3_key,
        *layout.meeting_file_keys(kept.record.meeting_id),
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
        layout.AGGREGATES_KEY,
    }
    assert "interrupted deletes" not in checks_by_name(storage)
    with pytest.raises(NotFoundError):
        storage.delete_meeting(meeting_id)
    assert listed_ids(storage) == [kept.record.meeting_id]


# ---------------------------------------------------------------- broken configuration


def test_a_missing_bucket_is_a_configuration_error_naming_it(storage: MeetingStorage) -> None:
    settings = replace(storage.settings, bucket=new_bucket_name())
    missing = MeetingStorage(settings)
    calls: list[Callable[[], object]] = [
        missing.check_bucket,
        missing.list_meetings,
        lambda: missing.get_meeting(layout.new_meeting_id()),
        lambda: missing.delete_meeting(layout.new_meeting_id()),
    ]
    if not storage.settings.s3_endpoint_url:
        # SeaweedFS creates a missing bucket on the first PUT by an admin identity (like the
        # tests' one), so writes are only checked against moto, which behaves like AWS.
        calls += [
            lambda: missing.process(SAMPLE_TRANSCRIPT),
            lambda: missing.upload_audio(io.BytesIO(wav_bytes()), "a.wav"),
            lambda: missing.process(
                SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav"
            ),
        ]
    for call in calls:
        with pytest.raises(ConfigurationError) as raised:
            call()
        assert settings.bucket in raised.value.message
        assert "S3_BUCKET_NAME" in raised.value.message
    report = run_doctor(missing)
    assert not report.healthy
    bucket_check = next(check for check in report.checks if check.name == "bucket")
    assert bucket_check.status == "fail" and settings.bucket in bucket_check.message
    assert "S3_BUCKET_NAME" in bucket_check.fix
    # Nothing went to the bucket that does exist, and the missing one was not created.
    assert keys_in(storage) == set()
    with pytest.raises(ConfigurationError):
        missing.check_bucket()


@pytest.mark.seaweedfs
@pytest.mark.parametrize(
    "credentials",
    [
        {"aws_secret_access_key": "not-the-secret-key"},
        {"aws_access_key_id": "unknown-access-key"},
    ],
    ids=["wrong-secret", "unknown-key"],
)
def test_wrong_credentials_are_access_denied(
    seaweed_storage: MeetingStorage, credentials: dict[str, str]
) -> None:
    existing = process_sample(seaweed_storage)
    before = keys_in(seaweed_storage)
    denied = MeetingStorage(replace(seaweed_storage.settings, **credentials))
    calls: list[Callable[[], object]] = [
        denied.check_bucket,
        denied.list_meetings,
        lambda: denied.get_meeting(existing.record.meeting_id),
        lambda: denied.process(SAMPLE_TRANSCRIPT),
        lambda: denied.upload_audio(io.BytesIO(wav_bytes()), "a.wav"),
        lambda: denied.delete_meeting(existing.record.meeting_id),
    ]
    for call in calls:
        with pytest.raises(AccessDeniedError) as raised:
            call()
        assert "Access Denied" in raised.value.message
    assert keys_in(seaweed_storage) == before
    assert listed_ids(seaweed_storage) == [existing.record.meeting_id]


def test_an_unreachable_endpoint_is_backend_unavailable_quickly(tmp_path: Path) -> None:
    settings = make_settings(
        new_bucket_name(), tmp_path, s3_endpoint_url=f"http://127.0.0.1:{free_port()}"
    )
    unreachable = MeetingStorage(settings)
    calls: list[Callable[[], object]] = [
        unreachable.check_bucket,
        unreachable.list_meetings,
        lambda: unreachable.process(SAMPLE_TRANSCRIPT),
        lambda: unreachable.upload_audio(io.BytesIO(wav_bytes()), "a.wav"),
        lambda: unreachable.get_meeting(layout.new_meeting_id()),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError) as raised:
            call()
        assert time.monotonic() - started < 15
        assert "AWS_ENDPOINT_URL" in raised.value.message
    assert checks_by_name(unreachable)["bucket"].status == "fail"


# ---------------------------------------------------------------- hostile file names

HOSTILE_NAMES = [
    "../../etc/passwd.wav",
    "C:\\Users\\x\\..\\evil.wav",
    "..\\..\\windows\\system32\\evil.wav",
    "line\nbreak\r\nname.wav",
    "tab\tnul\x00esc\x1b[31mbell\x07.wav",
    "\u202egnp.wav",
    "zero\u200bwidth\ufeff.wav",
    "a" * 1000 + ".wav",
    "é" * 300 + ".wav",
    "....wav",
    ".hidden.wav",
    "..",
    ".",
    "",
    "/",
    "\\",
    "   ",
    "%2e%2e%2fsecret.wav",
    "Réunion d’équipe – 会议 🎙️.wav",
    "e\u0301te\u0301.wav",
    "a/b/../../c.wav",
    "name?.wav#fragment",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=[repr(n)[:40] for n in HOSTILE_NAMES])
def test_hostile_file_names_become_safe_keys(storage: MeetingStorage, name: str) -> None:
    audio = wav_bytes()
    uploaded = storage.upload_audio(io.BytesIO(audio), name)
    key = uploaded.audio_s3_key
    match = AUDIO_KEY_RE.fullmatch(key)
    assert match, key
    safe = match["name"]
    assert safe == uploaded.filename
    assert safe and safe.strip() == safe
    assert "/" not in safe and "\\" not in safe and ".." not in safe
    assert not safe.startswith(".")
    assert not [ch for ch in safe if unicodedata.category(ch).startswith("C")], repr(safe)
    assert len(safe) <= layout.MAX_FILENAME_LENGTH
    assert len(f"{match['hex']}_{safe}".encode()) <= 255  # the local copy's file name
    assert safe.endswith(".wav")  # the extension comes from the content
    assert layout.is_audio_key(key)
    assert layout.sanitize_filename(safe) == safe  # already safe: sanitising changes nothing
    assert storage.audio.get(key).data == audio
    assert keys_in(storage) == {key}

    result = storage.process(SAMPLE_TRANSCRIPT, audio_s3_key=key)
    assert result.record.filename == safe
    if storage.settings.s3_endpoint_url:  # a real server: the signed URL must still play
        url = storage.presign_audio(result.record.meeting_id)
        response = requests.get(url, timeout=10)
        assert response.status_code == 200 and response.content == audio


def test_hostile_names_keep_a_local_copy_inside_the_uploads_folder(
    moto_storage: MeetingStorage,
) -> None:
    local = MeetingStorage(replace(moto_storage.settings, skip_local_storage=False))
    audio = wav_bytes()
    uploads = local.settings.uploads_dir.resolve()
    for name in ["../../outside.wav", "é" * 300 + ".wav", "x" * 1000 + ".wav", "..\\up.wav"]:
        uploaded = local.upload_audio(io.BytesIO(audio), name)
        assert uploaded.local_copy is not None
        copy = Path(uploaded.local_copy).resolve()
        assert copy.parent == uploads
        assert copy.read_bytes() == audio
    assert not (uploads.parent.parent / "outside.wav").exists()


# ---------------------------------------------------------------- a damaged index

DAMAGED_INDEXES = [
    b"\x00garbage{",
    b"",
    b"not json at all",
    b"[]",
    b'"a string"',
    b'{"version": 1, "meetings": []}',
    b'{"version": 1, "meetings": null}',
    b'{"version": 1, "meetings": {"meeting-abc": {"meeting_id": "meeting-abc"}}}',
    b'{"version": 1, "meetings": {"meeting-abc": {"meeting_id": "../x", '
    b'"timestamp": "2025-01-01T00:00:00+00:00", "filename": "x"}}}',
    b'{"version": 1, "meetings": {"meeting-abc": {"meeting_id": "meeting-abc", '
    b'"timestamp": "yesterday", "filename": "x"}}}',
]


def store_two_and_damage_the_index(storage: MeetingStorage, garbage: bytes) -> list[str]:
    first = process_sample(storage, "first.wav")
    second = storage.process("Bob: We decided to move the launch to Monday.")
    storage.documents.put(layout.INDEX_KEY, garbage, "application/json")
    return [first.record.meeting_id, second.record.meeting_id]


@pytest.mark.parametrize("garbage", DAMAGED_INDEXES, ids=[repr(g)[:30] for g in DAMAGED_INDEXES])
def test_a_damaged_index_says_to_reindex_and_loses_nothing(
    storage: MeetingStorage, garbage: bytes
) -> None:
    ids = store_two_and_damage_the_index(storage, garbage)
    before = keys_in(storage)

    with pytest.raises(InvalidInputError) as raised:
        storage.list_meetings()
    assert "reindex" in raised.value.message
    assert layout.INDEX_KEY in raised.value.message
    # Storing a meeting cannot update the index: the meeting is kept whole and unlisted,
    # and the result says how to list it; the damaged object is left for reindex to replace.
    stored = storage.process(SAMPLE_TRANSCRIPT)
    assert stored.index_warning is None or "reindex" in stored.index_warning
    assert keys_in(storage) == before | set(layout.meeting_file_keys(stored.record.meeting_id))
    with pytest.raises(InvalidInputError):  # still damaged until reindex replaces it
        storage.list_meetings()
    report = run_doctor(storage)
    assert not report.healthy
    assert any("reindex" in check.message + check.fix for check in report.checks)
    # The meetings themselves are intact.
    assert storage.get_meeting(ids[0]).audio_url is not None
    assert storage.get_meeting(ids[1]).transcription.startswith("Bob:")


@pytest.mark.parametrize(
    "garbage",
    [b"\x00garbage{", b'{"version": 1, "meetings": []}'],
    ids=["not-json", "wrong-shape"],
)
def test_reindex_repairs_a_damaged_index(storage: MeetingStorage, garbage: bytes) -> None:
    ids = store_two_and_damage_the_index(storage, garbage)
    assert reindex(storage).indexed == 2
    assert sorted(listed_ids(storage)) == sorted(ids)
    assert checks_by_name(storage)["index"].status == "ok"
    assert run_doctor(storage).healthy
