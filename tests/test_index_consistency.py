"""Index and S3 stay consistent, with every backend: write order, failed index writes,
resumable reindex, drift found and repaired by doctor, interrupted deletes."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meeting_storage import BackendUnavailableError, MeetingStorage, NotFoundError
from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.core.models import STATUS_DELETING
from meeting_storage.index import MeetingFilter
from meeting_storage.ops.doctor import repair, run_doctor
from meeting_storage.ops.reindex import checkpoint_path, reindex
from tests.conftest import SAMPLE_TRANSCRIPT, wav_bytes

ELEPHANT = "Alice: The elephant in the room is the migration budget.\nBob: I will write it up."


def listed(storage: MeetingStorage, **kwargs: Any) -> list[str]:
    return [r.meeting_id for r in storage.list_meetings(limit=100, **kwargs).meetings]


def checks(storage: MeetingStorage) -> dict[str, str]:
    return {c.name: c.status for c in run_doctor(storage).checks}


def test_process_list_search_and_delete(indexed_storage: MeetingStorage) -> None:
    storage = indexed_storage
    earlier = datetime.now(UTC) - timedelta(hours=1)
    plain = storage.process(
        "Alice: We decided to ship on Monday.", title="Release", recorded_at=earlier
    )
    rich = storage.process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes()),
        audio_filename="launch.wav",
        title="Launch planning",
    )
    assert plain.indexed and rich.indexed
    assert listed(storage) == [rich.record.meeting_id, plain.record.meeting_id]
    assert storage.index.get(rich.record.meeting_id) == rich.record
    assert rich.record.action_item_owners  # owners from the summary, for the owner filter
    assert listed(storage, search="launch planning") == [rich.record.meeting_id]
    # "finance" is only in an action item (Carol will send the budget to finance).
    assert listed(storage, search="finance") == [rich.record.meeting_id]
    owner = rich.record.action_item_owners[0]
    assert listed(storage, filters=MeetingFilter(owner=owner.upper())) == [rich.record.meeting_id]
    page = storage.search_meetings("launch")
    assert "**" in page.snippets[rich.record.meeting_id]

    storage.delete_meeting(rich.record.meeting_id)
    assert listed(storage) == [plain.record.meeting_id]
    assert storage.index.get(rich.record.meeting_id) is None
    assert listed(storage, search="launch") == []
    assert checks(storage)["index"] == "ok"


def test_transcript_search_depends_on_the_backend(indexed_storage: MeetingStorage) -> None:
    stored = indexed_storage.process(ELEPHANT)
    indexed_storage.process("Alice: Nothing about animals here, just plans.")
    page = indexed_storage.list_meetings(search="elephant")
    if indexed_storage.index.full_text:
        assert [r.meeting_id for r in page.meetings] == [stored.record.meeting_id]
        assert page.search_note is None
    else:
        assert page.search_note and "transcripts" in page.search_note


def test_failed_index_write_keeps_the_meeting_and_doctor_lists_it(
    indexed_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = indexed_storage
    attempts: list[str] = []

    def broken_put(record: Any, text: Any = None) -> None:
        attempts.append(record.meeting_id)
        raise BackendUnavailableError("the index is down")

    monkeypatch.setattr(storage.index, "put", broken_put)
    monkeypatch.setattr("meeting_storage.core.retry.random.random", lambda: 0.0)
    result = storage.process(SAMPLE_TRANSCRIPT, title="Unlisted for now")
    monkeypatch.undo()
    meeting_id = result.record.meeting_id
    assert len(attempts) == 3  # retried before reporting
    assert not result.indexed and result.index_warning
    assert "doctor --fix" in result.index_warning
    assert result.to_dict()["indexed"] is False
    # Stored in full (S3 is the source of truth) but not listed: never listed without files.
    assert storage.get_meeting(meeting_id).transcription
    assert listed(storage) == []
    assert checks(storage)["index"] == "warn"

    report = run_doctor(storage, fix=True)
    # Listed in bulk: the store's totals are counted again too.
    assert [r.action for r in report.repairs] == ["index_missing", "reconcile_totals"]
    assert listed(storage) == [meeting_id]
    assert listed(storage, search="unlisted") == [meeting_id]
    assert {c.name: c.status for c in report.checks}["index"] == "ok"


def test_index_failure_before_metadata_still_rolls_back(
    indexed_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the meeting's files are written leaves nothing behind."""
    storage = indexed_storage
    original = storage.documents.put

    def failing_put(key: str, data: bytes, content_type: str, **kwargs: Any) -> str:
        if key.endswith(layout.METADATA_FILE):
            raise BackendUnavailableError("S3 is down")
        return original(key, data, content_type, **kwargs)

    monkeypatch.setattr(storage.documents, "put", failing_put)
    with pytest.raises(BackendUnavailableError):
        storage.process(SAMPLE_TRANSCRIPT)
    monkeypatch.undo()
    assert list(storage.documents.iter_objects(layout.TRANSCRIPTIONS_PREFIX)) == []
    assert storage.index.ids() == set()


def test_reindex_rebuilds_and_resumes(
    indexed_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = indexed_storage
    stored = [
        storage.process(
            f"Alice: Topic {n} was discussed today.\nBob: I will review topic {n} tomorrow.",
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n),
        ).record.meeting_id
        for n in range(5)
    ]
    storage.process(ELEPHANT)
    expected = listed(storage)
    storage.index.rebuild([])  # an empty index, as after switching backend
    assert listed(storage) == []

    import meeting_storage.ops.reindex as reindex_module

    calls = {"n": 0}
    original = storage.index.put_many

    def crash_on_second_page(entries: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise BackendUnavailableError("connection lost")
        return original(entries)

    monkeypatch.setattr(storage.index, "put_many", crash_on_second_page)
    monkeypatch.setattr(reindex_module, "PAGE_SIZE", 2)
    with pytest.raises(BackendUnavailableError):
        reindex(storage)
    assert checkpoint_path(storage).exists()
    partial = storage.index.ids()
    assert len(partial) == 2
    monkeypatch.setattr(storage.index, "put_many", original)

    progress: list[tuple[int, int]] = []
    report = reindex(storage, progress=lambda done, total: progress.append((done, total)))
    assert report.resumed_after is not None
    assert report.indexed == 6 and report.total == 6
    assert progress[0] == (2, 6) and progress[-1] == (6, 6)  # continued after the first page
    assert not checkpoint_path(storage).exists()
    assert listed(storage) == expected
    if storage.index.full_text:  # transcripts were read back from S3
        assert len(listed(storage, search="elephant")) == 1
    assert set(stored) <= storage.index.ids()

    # A fresh run (no checkpoint) also drops entries whose meeting is gone.
    storage.index.put(replace(storage.index.get(stored[0]), meeting_id="meeting-0badc0de"))  # type: ignore[arg-type]
    again = reindex(storage, restart=True)
    assert again.removed == 1 and again.resumed_after is None
    assert "meeting-0badc0de" not in storage.index.ids()


def test_doctor_reports_drift_both_ways_and_fixes_it(indexed_storage: MeetingStorage) -> None:
    storage = indexed_storage
    kept = storage.process(SAMPLE_TRANSCRIPT, title="Kept").record
    unlisted = storage.process(ELEPHANT, title="Unlisted").record
    storage.index.delete(unlisted.meeting_id)  # in S3 but not indexed
    ghost = replace(kept, meeting_id="meeting-00000000000000000000000000000999")
    storage.index.put(ghost)  # indexed but missing in S3

    report = run_doctor(storage)
    index_check = next(c for c in report.checks if c.name == "index")
    assert index_check.status == "fail" and not report.healthy
    assert "1 indexed but missing in S3" in index_check.message
    assert "1 in S3 but not indexed" in index_check.message
    assert "(2 entries)" in index_check.message and "(2 meetings)" in index_check.message

    fixed = run_doctor(storage, fix=True)
    assert {r.action for r in fixed.repairs} == {"unlist_missing", "index_missing"}
    assert fixed.healthy
    assert set(listed(storage)) == {kept.meeting_id, unlisted.meeting_id}
    assert run_doctor(storage, fix=True).repairs == []  # nothing left to do


def test_crash_during_delete_is_repaired_by_doctor(
    indexed_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = indexed_storage
    doomed = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="d.wav"
    ).record
    other = storage.process(ELEPHANT).record

    def crash(keys: Any, **kwargs: Any) -> list[str]:
        raise BackendUnavailableError("crashed after unlisting")

    monkeypatch.setattr(storage.documents, "delete", crash)
    monkeypatch.setattr(storage.audio, "delete", crash)
    with pytest.raises(BackendUnavailableError):
        storage.delete_meeting(doomed.meeting_id)
    monkeypatch.undo()
    # Unlisted already, files still there, metadata marked: never a listed meeting without files.
    assert listed(storage) == [other.meeting_id]
    metadata = json.loads(storage.documents.get(layout.metadata_key(doomed.meeting_id)).data)
    assert metadata["status"] == STATUS_DELETING
    with pytest.raises(NotFoundError):
        storage.get_meeting(doomed.meeting_id)
    assert checks(storage)["interrupted deletes"] == "warn"

    report = run_doctor(storage, fix=True)
    assert [r.action for r in report.repairs] == ["finish_delete"]
    assert not list(storage.documents.iter_objects(layout.meeting_prefix(doomed.meeting_id)))
    assert storage.audio.head(doomed.audio_s3_key or "") is None
    assert "interrupted deletes" not in {c.name for c in report.checks}
    assert listed(storage) == [other.meeting_id]


def test_doctor_fix_removes_only_old_leftovers(indexed_storage: MeetingStorage) -> None:
    storage = indexed_storage
    leftover = "meeting-" + "a" * 32
    storage.documents.put(
        layout.meeting_file_key(leftover, layout.TRANSCRIPTION_FILE), b"half", "text/plain"
    )
    # Younger than the grace period (maybe still being written): kept, and counted in the
    # store's totals, as every stored byte is.
    assert [r.action for r in repair(storage)] == ["reconcile_totals"]
    later = datetime.now(UTC) + timedelta(hours=2)
    repairs = repair(storage, now=later)
    assert [r.action for r in repairs] == ["remove_leftovers", "reconcile_totals"]
    assert not list(storage.documents.iter_objects(layout.meeting_prefix(leftover)))


def test_cli_list_search_and_filters(
    indexed_storage: MeetingStorage, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = indexed_storage
    storage.process(SAMPLE_TRANSCRIPT, title="Remote control launch")
    storage.process("Alice: We decided nothing today at all.", title="Quiet one")
    assert main(["list", "--search", "remote control", "--json"], storage=storage) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["count"] == 1 and "**" in out["meetings"][0]["snippet"]
    assert out["ranked"] == storage.index.full_text
    assert (out["search_note"] is None) == storage.index.full_text
    assert main(["list", "--search", "remote"], storage=storage) == 0
    human = capsys.readouterr().out
    assert "Remote control launch" in human and "**" not in human  # markers off a terminal
    assert main(["list", "--open-actions", "--json"], storage=storage) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 1
    today = datetime.now(UTC).date().isoformat()
    assert main(["list", "--from", today, "--to", today, "--json"], storage=storage) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 2
    assert (
        main(["list", "--from", "2020-01-01", "--to", "2020-01-31", "--json"], storage=storage) == 0
    )
    assert json.loads(capsys.readouterr().out)["count"] == 0
    assert main(["list", "--from", "yesterday", "--json"], storage=storage) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "invalid_input"
    assert main(["doctor", "--fix", "--json"], storage=storage) == 0
    assert json.loads(capsys.readouterr().out)["repairs"] == []
    assert main(["reindex", "--json"], storage=storage) == 0
    assert json.loads(capsys.readouterr().out)["indexed"] == 2


@pytest.mark.parametrize(
    "backend_settings",
    [
        "dynamodb-moto",
        pytest.param("dynamodb-dynalite", marks=pytest.mark.dynalite),
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
def test_concurrent_writers_all_get_listed(indexed_storage: MeetingStorage) -> None:
    """Separate services (as separate processes would be) storing at once: none is lost."""
    import threading

    errors: list[BaseException] = []
    stored: list[str] = []

    def worker(n: int) -> None:
        try:
            service = MeetingStorage(indexed_storage.settings)
            result = service.process(f"Bob: Meeting {n} will review the roadmap.")
            assert result.indexed, result.index_warning
            stored.append(result.record.meeting_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert set(listed(indexed_storage)) == set(stored) and len(stored) == 6
