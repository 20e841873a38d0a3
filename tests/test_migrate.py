"""`migrate DIR`: importing an uploads/ folder, idempotent by content hash, resumable,
verified against S3 before anything local is deleted."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from meeting_storage import BackendUnavailableError, MeetingStorage
from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT, STATUS_COMPLETE
from meeting_storage.ops.migrate import expected_etag, find_candidates
from tests.conftest import SAMPLE_TRANSCRIPT, s3_client_for, wav_bytes, wav_header_then
from tests.test_cli import run

MTIME = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    (folder / "2024").mkdir(parents=True)
    (folder / "Stand-up.wav").write_bytes(wav_bytes(1.0))
    (folder / "Stand-up.txt").write_text(SAMPLE_TRANSCRIPT, encoding="utf-8")
    (folder / "call.wav").write_bytes(wav_bytes(2.0))
    (folder / "2024" / "Retro.WAV").write_bytes(wav_bytes(1.5))
    (folder / "notes.txt").write_text("Alice: no recording for this one.", encoding="utf-8")
    (folder / "agenda.pdf").write_bytes(b"%PDF-1.4")
    (folder / ".DS_Store").write_bytes(b"\x00\x01")
    for path in folder.rglob("*"):
        os.utime(path, (MTIME.timestamp(), MTIME.timestamp()))
    return folder


def by_path(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["path"]: item for item in items}


def test_candidates_pair_recordings_with_their_transcripts(uploads: Path) -> None:
    candidates, skipped = find_candidates(uploads)
    assert [(c.relative, c.transcript.name if c.transcript else None) for c in candidates] == [
        ("2024/Retro.WAV", None),
        ("Stand-up.wav", "Stand-up.txt"),
        ("call.wav", None),
    ]
    reasons = {item["path"]: item["reason"] for item in skipped}
    assert set(reasons) == {"agenda.pdf", "notes.txt"}  # hidden files are ignored
    assert "process --transcript" in reasons["notes.txt"]


def test_dry_run_stores_nothing(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, uploads: Path
) -> None:
    _, report = run(capsys, moto_storage, "migrate", str(uploads), "--dry-run")
    assert report["dry_run"] is True
    assert {item["action"] for item in report["imported"]} == {"would import"}
    assert len(report["imported"]) == 3
    assert moto_storage.list_meetings().meetings == []


def test_import_then_rerun_skips_everything(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, uploads: Path
) -> None:
    _, first = run(capsys, moto_storage, "migrate", str(uploads))
    assert set(first) >= {"success", "imported", "skipped", "failed"}
    assert first["failed"] == []
    imported = by_path(first["imported"])
    assert set(imported) == {"Stand-up.wav", "call.wav", "2024/Retro.WAV"}
    assert {item["path"] for item in first["skipped"]} == {"agenda.pdf", "notes.txt"}

    standup = moto_storage.get_meeting(imported["Stand-up.wav"]["meeting_id"])
    assert standup.record.title == "Stand-up"
    assert standup.record.timestamp == MTIME  # the recording's date, not the import's
    assert "imported" in standup.record.tags
    assert standup.transcription == SAMPLE_TRANSCRIPT.strip()
    assert standup.record.status == STATUS_COMPLETE
    assert standup.record.audio_sha256 == hashlib.sha256(wav_bytes(1.0)).hexdigest()
    call = moto_storage.get_record(imported["call.wav"]["meeting_id"])
    assert call.status == STATUS_AWAITING_TRANSCRIPT
    assert call.duration_seconds == 2.0

    _, second = run(capsys, moto_storage, "migrate", str(uploads))
    assert second["imported"] == []
    again = by_path(second["skipped"])
    assert again["Stand-up.wav"]["reason"] == "already stored"
    assert again["Stand-up.wav"]["meeting_id"] == imported["Stand-up.wav"]["meeting_id"]
    assert len(moto_storage.list_meetings().meetings) == 3


def test_a_transcript_added_later_is_attached(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, uploads: Path
) -> None:
    _, first = run(capsys, moto_storage, "migrate", str(uploads))
    (uploads / "call.txt").write_text(SAMPLE_TRANSCRIPT, encoding="utf-8")
    _, second = run(capsys, moto_storage, "migrate", str(uploads))
    attached = by_path(second["imported"])["call.wav"]
    assert attached["action"] == "transcript attached"
    record = moto_storage.get_record(attached["meeting_id"])
    assert record.status == STATUS_COMPLETE
    assert attached["meeting_id"] == by_path(first["imported"])["call.wav"]["meeting_id"]


def test_an_interrupted_run_resumes(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    uploads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = moto_storage.process
    calls: list[str] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["audio_filename"])
        if kwargs["audio_filename"] == "Stand-up.wav":
            raise BackendUnavailableError("S3 is throttling; retry in a moment.")
        if kwargs["audio_filename"] == "call.wav":
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(moto_storage, "process", flaky)
    status = main(["migrate", str(uploads), "--json"], storage=moto_storage)
    capsys.readouterr()
    assert status == 130  # interrupted at call.wav
    assert [r.filename for r in moto_storage.list_meetings().meetings] == ["Retro.wav"]

    monkeypatch.setattr(moto_storage, "process", original)
    status, report = run(capsys, moto_storage, "migrate", str(uploads))
    assert status == 0
    assert {item["path"] for item in report["imported"]} == {"Stand-up.wav", "call.wav"}
    assert by_path(report["skipped"])["2024/Retro.WAV"]["reason"] == "already stored"
    assert len(moto_storage.list_meetings().meetings) == 3


def test_a_failure_is_reported_and_the_rest_imported(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    uploads: Path,
) -> None:
    (uploads / "broken.wav").write_bytes(b"this is not audio at all")
    status, report = run(capsys, moto_storage, "migrate", str(uploads))
    assert status == 1 and report["success"] is True
    assert by_path(report["failed"])["broken.wav"]["error"]["code"] == "unsupported_media_type"
    assert len(report["imported"]) == 3


def test_verify_and_delete_local(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, uploads: Path
) -> None:
    run(capsys, moto_storage, "migrate", str(uploads))
    _, verified = run(capsys, moto_storage, "migrate", str(uploads), "--verify")
    results = by_path(verified["verified"])
    assert all(item["ok"] for item in results.values())
    assert results["Stand-up.wav"]["method"] == "size and ETag (MD5); transcript text equal"
    assert list(uploads.rglob("*.wav"))  # --verify alone deletes nothing

    _, deleted = run(capsys, moto_storage, "migrate", str(uploads), "--delete-local")
    assert sorted(deleted["deleted_local"]) == [
        "2024/Retro.WAV",
        "Stand-up.txt",
        "Stand-up.wav",
        "call.wav",
    ]
    left = sorted(p.name for p in uploads.rglob("*") if p.is_file())
    assert left == [".DS_Store", "agenda.pdf", "notes.txt"]


def test_nothing_is_deleted_that_does_not_verify(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, uploads: Path
) -> None:
    _, first = run(capsys, moto_storage, "migrate", str(uploads))
    call = by_path(first["imported"])["call.wav"]
    s3_client_for(moto_storage).put_object(
        Bucket=moto_storage.settings.bucket, Key=call["audio_s3_key"], Body=b"RIFF-damaged"
    )
    status, report = run(capsys, moto_storage, "migrate", str(uploads), "--delete-local")
    assert status == 1
    failed = by_path(report["verified"])["call.wav"]
    assert failed["ok"] is False and "size differs" in failed["problem"]
    assert (uploads / "call.wav").exists()
    assert not (uploads / "Stand-up.wav").exists()


def test_dry_run_delete_only_says_what_it_would_delete(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, uploads: Path
) -> None:
    run(capsys, moto_storage, "migrate", str(uploads))
    _, report = run(capsys, moto_storage, "migrate", str(uploads), "--delete-local", "--dry-run")
    assert len(report["deleted_local"]) == 4
    assert (uploads / "call.wav").exists()


def test_a_local_copy_of_a_stored_upload_is_recognised(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    """SKIP_LOCAL_STORAGE=false kept uploads/{uuid}_{name}; older records have no hash."""
    stored = moto_storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="old.wav"
    ).record
    moto_storage.index.put(replace(stored, audio_sha256=None))
    assert stored.audio_s3_key is not None
    folder = tmp_path / "copies"
    folder.mkdir()
    local = folder / stored.audio_s3_key.removeprefix(layout.AUDIO_PREFIX)
    local.write_bytes(wav_bytes())
    _, report = run(capsys, moto_storage, "migrate", str(folder))
    assert report["imported"] == []
    assert report["skipped"][0]["meeting_id"] == stored.meeting_id


def test_a_multipart_upload_verifies_by_its_etag(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    big = folder / "all-hands.wav"
    big.write_bytes(wav_header_then(17 * 1024 * 1024))
    assert expected_etag(big).endswith("-2")
    _, report = run(capsys, moto_storage, "migrate", str(folder), "--verify")
    assert report["verified"][0]["ok"] is True
    assert report["verified"][0]["method"].startswith("size and ETag")


def test_a_missing_folder_is_invalid_input(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    status, data = run(capsys, moto_storage, "migrate", str(tmp_path / "nope"))
    assert status == 1 and data["error"]["code"] == "invalid_input"


def test_progress_bar_on_a_terminal(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    uploads: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["migrate", str(uploads)], storage=moto_storage) == 0
    out, err = capsys.readouterr()
    assert "[" in err and "3/3" in err
    assert out.startswith("Imported 3, skipped 2, failed 0")


@pytest.mark.seaweedfs
def test_verify_on_a_real_server(
    capsys: pytest.CaptureFixture[str], seaweed_storage: MeetingStorage, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "small.wav").write_bytes(wav_bytes())
    (folder / "large.wav").write_bytes(wav_header_then(17 * 1024 * 1024))
    _, report = run(capsys, seaweed_storage, "migrate", str(folder), "--delete-local")
    assert len(report["imported"]) == 2
    assert all(item["ok"] for item in report["verified"]), report["verified"]
    assert sorted(report["deleted_local"]) == ["large.wav", "small.wav"]
    assert not any(folder.iterdir())
