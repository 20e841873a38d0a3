"""Meetings as jobs: submitting stores a queued meeting at once; workers take it through its
statuses, retry failures, drop deleted meetings, and survive being killed (SIGKILL) at any
point without losing or duplicating anything. On SeaweedFS, with each queue backend."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from meeting_storage import MeetingStorage, Settings
from meeting_storage.analysis import Transcript, parse_transcript
from meeting_storage.analysis.transcribe import StoredAudio
from meeting_storage.core import layout
from meeting_storage.core.errors import TranscriptionError
from meeting_storage.core.models import MeetingRecord
from meeting_storage.queue.local import LocalQueue, queue_db_path
from meeting_storage.queue.sqs import create_queue_pair, make_sqs_client
from meeting_storage.service import jobs
from meeting_storage.service.worker import run_worker, wait_for_meeting, work_once
from tests.conftest import SAMPLE_TRANSCRIPT, settings_environment, wav_bytes

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["local", "sqs"])
def job_settings(request: pytest.FixtureRequest, seaweed_settings: Settings) -> Iterator[Settings]:
    """SeaweedFS storage with the local queue, or with a new SQS queue pair on moto."""
    settings = replace(seaweed_settings, job_retry_delay=0, job_visibility_timeout=30)
    if request.param == "sqs":
        endpoint = request.getfixturevalue("sqs_endpoint")
        settings = replace(settings, queue_backend="sqs", sqs_endpoint_url=endpoint)
        created = create_queue_pair(
            make_sqs_client(settings),
            f"jobs-{uuid.uuid4().hex[:12]}",
            max_receives=settings.job_max_attempts,
            visibility=30,
        )
        settings = replace(settings, queue_url=created["queue_url"])
    yield settings


def statuses_written(storage: MeetingStorage) -> list[str]:
    """Record the status of every metadata.json write."""
    written: list[str] = []
    original = storage.meeting_documents.write_record

    def recording(record: MeetingRecord, **kwargs: Any) -> str:
        etag = original(record, **kwargs)
        written.append(record.status)
        return etag

    storage.meeting_documents.write_record = recording  # type: ignore[method-assign]
    return written


class SlowTranscriber:
    """Stands in for Whisper (which the storage tests do not load): a fixed transcript."""

    name = "whisper"

    def transcribe(self, audio: StoredAudio) -> Transcript:
        return parse_transcript(SAMPLE_TRANSCRIPT)


class UndecodableTranscriber:
    """What a transcriber does with a recording it cannot decode."""

    name = "whisper"

    def transcribe(self, audio: StoredAudio) -> Transcript:
        raise TranscriptionError("The recording could not be decoded (invalid data).")


def test_a_submitted_meeting_is_listed_queued_at_once(job_settings: Settings) -> None:
    storage = MeetingStorage(job_settings)
    submitted = storage.submit_meeting(SAMPLE_TRANSCRIPT, title="Weekly sync")
    record = storage.get_record(submitted.record.meeting_id)
    assert record.status == "queued" and record.progress == 0.0
    assert record.queued_at is not None
    listed = storage.list_meetings().meetings
    assert [(m.meeting_id, m.status) for m in listed] == [(record.meeting_id, "queued")]
    assert storage.queue.counts().waiting == 1
    # Nothing analysed yet: only the source transcript and metadata.json are stored.
    names = {
        info.key.rsplit("/", 1)[1] for info in storage.meeting_documents.files(record.meeting_id)
    }
    assert names == {layout.SOURCE_TRANSCRIPT_FILE, layout.METADATA_FILE}


def test_a_worker_takes_a_meeting_through_its_statuses(job_settings: Settings) -> None:
    storage = MeetingStorage(job_settings, transcriber=SlowTranscriber())
    submitted = storage.submit_meeting(
        None, audio_file=__import__("io").BytesIO(wav_bytes()), audio_filename="sync.wav"
    )
    written = statuses_written(storage)
    assert work_once(storage, storage.queue) == (submitted.record.meeting_id, jobs.OUTCOME_COMPLETE)
    assert written[0] == "transcribing"
    assert "analysing" in written and written[-1] == "complete"
    assert written.index("transcribing") < written.index("analysing")
    record = storage.get_record(submitted.record.meeting_id)
    assert record.status == "complete" and record.progress == 1.0
    assert record.transcribed_by == "whisper" and record.action_items_count > 0
    assert storage.index.get(record.meeting_id).status == "complete"  # type: ignore[union-attr]
    counts = storage.queue.counts()
    assert (counts.waiting, counts.in_flight, counts.dead) == (0, 0, 0)
    assert work_once(storage, storage.queue) is None


def test_a_redelivered_job_changes_nothing(job_settings: Settings) -> None:
    storage = MeetingStorage(job_settings)
    submitted = storage.submit_meeting(SAMPLE_TRANSCRIPT)
    meeting_id = submitted.record.meeting_id
    assert storage.run_job(meeting_id) == jobs.OUTCOME_COMPLETE
    before = storage.meeting_documents.read_stored(meeting_id)
    assert storage.run_job(meeting_id) == jobs.OUTCOME_DONE_BEFORE
    after = storage.meeting_documents.read_stored(meeting_id)
    assert before is not None and after is not None and before.etag == after.etag
    assert storage.index.ids() == {meeting_id}


def test_a_poisoned_job_fails_after_its_attempts_without_blocking_the_queue(
    job_settings: Settings,
) -> None:
    storage = MeetingStorage(job_settings, transcriber=UndecodableTranscriber())
    poisoned = storage.submit_meeting(
        None, audio_file=__import__("io").BytesIO(wav_bytes()), audio_filename="broken.wav"
    ).record.meeting_id
    fine = storage.submit_meeting(SAMPLE_TRANSCRIPT).record.meeting_id
    stop = threading.Event()
    outcomes: list[tuple[str, str]] = []
    stats = run_worker(
        storage, stop, exit_when_empty=True, on_outcome=lambda m, o: outcomes.append((m, o))
    )
    assert (poisoned, jobs.OUTCOME_RETRY) in outcomes
    assert (fine, jobs.OUTCOME_COMPLETE) in outcomes
    assert stats.outcomes[jobs.OUTCOME_FAILED] == 1
    assert stats.outcomes[jobs.OUTCOME_RETRY] == job_settings.job_max_attempts - 1
    record = storage.get_record(poisoned)
    assert record.status == "failed" and record.failed_step == "transcription"
    assert "could not be decoded" in (record.failure_reason or "")
    assert record.job_attempts == job_settings.job_max_attempts
    assert storage.index.get(poisoned).status == "failed"  # type: ignore[union-attr]
    assert storage.queue.dead_letters() == [jobs.job_body(poisoned)]
    # Retry queues it again from the start.
    retried = storage.retry_meeting(poisoned)
    assert retried.status == "queued" and retried.failure_reason is None
    assert storage.queue.counts().waiting == 1


def test_deleting_a_queued_meeting_cancels_its_job(job_settings: Settings) -> None:
    storage = MeetingStorage(job_settings)
    meeting_id = storage.submit_meeting(SAMPLE_TRANSCRIPT).record.meeting_id
    storage.delete_meeting(meeting_id)
    assert work_once(storage, storage.queue) == (meeting_id, jobs.OUTCOME_CANCELLED)
    assert list(storage.meeting_documents.files(meeting_id)) == []
    assert storage.index.ids() == set()
    assert storage.queue.counts().waiting == 0


def test_deleting_a_running_meeting_stops_its_job_without_writing(job_settings: Settings) -> None:
    storage = MeetingStorage(job_settings)
    meeting_id = storage.submit_meeting(SAMPLE_TRANSCRIPT).record.meeting_id
    original = storage.extractor.extract

    def extract_then_delete(transcript: Transcript) -> Any:
        extraction = original(transcript)
        MeetingStorage(job_settings).delete_meeting(meeting_id)  # another face deletes it
        return extraction

    storage.extractor.extract = extract_then_delete  # type: ignore[method-assign]
    assert storage.run_job(meeting_id) == jobs.OUTCOME_CANCELLED
    assert list(storage.meeting_documents.files(meeting_id)) == []
    assert storage.index.ids() == set()


def test_waiting_works_the_queue_when_no_worker_runs(job_settings: Settings) -> None:
    storage = MeetingStorage(job_settings)
    meeting_id = storage.submit_meeting(SAMPLE_TRANSCRIPT).record.meeting_id
    seen: list[str] = []
    record = wait_for_meeting(storage, meeting_id, on_status=lambda r: seen.append(r.status))
    assert record.status == "complete"
    assert seen[0] == "queued" and seen[-1] == "complete"


# ---------------------------------------------------------------- killed workers


def worker_environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QUEUE_", "JOB_"))}
    env.update(settings_environment(settings))
    env["QUEUE_BACKEND"] = settings.queue_backend
    env["JOB_VISIBILITY_TIMEOUT"] = str(settings.job_visibility_timeout)
    env["JOB_RETRY_DELAY"] = "0"
    if settings.queue_url:
        env["QUEUE_URL"] = settings.queue_url
    if settings.sqs_endpoint_url:
        env["AWS_ENDPOINT_URL_SQS"] = settings.sqs_endpoint_url
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def start_worker(settings: Settings, tmp_path: Path, **extra: str) -> subprocess.Popen[bytes]:
    log = (tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "meeting_storage", "worker", "--max-jobs", "1"],
        env=worker_environment(settings, **extra),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize(
    ("pause", "status"), [("extraction", "analysing"), ("saving", "analysing")]
)
def test_a_worker_killed_midway_loses_and_duplicates_nothing(
    job_settings: Settings, tmp_path: Path, pause: str, status: str
) -> None:
    """SIGKILL during a slow step, and just before the metadata write (the analysis files
    written, metadata.json not yet): another worker takes the job after the visibility
    timeout and the meeting ends complete once, with one index entry."""
    settings = replace(job_settings, job_visibility_timeout=5)
    storage = MeetingStorage(settings)
    meeting_id = storage.submit_meeting(SAMPLE_TRANSCRIPT, title="Killed").record.meeting_id
    first = start_worker(settings, tmp_path, JOB_PAUSE=f"{pause}:60")
    expected_progress = jobs.STEP_PROGRESS["saving" if pause == "saving" else "extraction"]

    def paused() -> bool:
        record = storage.get_record(meeting_id)
        return record.status == status and record.progress == expected_progress

    try:
        wait_until(paused, 60, f"the worker to reach {pause}")
        if pause == "saving":
            time.sleep(0.5)  # the pause starts after the analysis files are written
            names = {i.key.rsplit("/", 1)[1] for i in storage.meeting_documents.files(meeting_id)}
            assert layout.SUMMARY_FILE in names
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert storage.get_record(meeting_id).status == status  # cut off, not complete
    second = start_worker(settings, tmp_path)
    try:
        assert second.wait(timeout=90) == 0
    finally:
        if second.poll() is None:
            second.kill()
    record = storage.get_record(meeting_id)
    assert record.status == "complete" and record.title == "Killed"
    assert record.job_attempts == 2
    assert storage.index.ids() == {meeting_id}
    names = sorted(i.key.rsplit("/", 1)[1] for i in storage.meeting_documents.files(meeting_id))
    assert names == sorted(layout.MEETING_FILES)
    counts = storage.queue.counts()
    assert (counts.waiting, counts.in_flight, counts.dead) == (0, 0, 0)


def test_sigterm_finishes_the_current_job_then_exits(
    job_settings: Settings, tmp_path: Path
) -> None:
    storage = MeetingStorage(job_settings)
    meeting_id = storage.submit_meeting(SAMPLE_TRANSCRIPT).record.meeting_id
    worker = subprocess.Popen(
        [sys.executable, "-m", "meeting_storage", "worker"],
        env=worker_environment(job_settings, JOB_PAUSE="extraction:3"),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: storage.get_record(meeting_id).status == "analysing", 60, "the job")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert storage.get_record(meeting_id).status == "complete"
    assert storage.queue.counts().in_flight == 0


def test_the_local_queue_lives_under_local_data_dir(seaweed_settings: Settings) -> None:
    storage = MeetingStorage(seaweed_settings)
    assert isinstance(storage.queue, LocalQueue)
    assert storage.queue.path == queue_db_path(seaweed_settings.local_data_dir)


def test_doctor_lists_failed_meetings_and_fix_queues_them_again(job_settings: Settings) -> None:
    from meeting_storage.ops.doctor import run_doctor

    storage = MeetingStorage(job_settings, transcriber=UndecodableTranscriber())
    meeting_id = storage.submit_meeting(
        None, audio_file=__import__("io").BytesIO(wav_bytes()), audio_filename="broken.wav"
    ).record.meeting_id
    delivery = storage.queue.receive(30)
    assert delivery is not None
    storage.queue.ack(delivery)
    assert storage.run_job(meeting_id, final=True) == jobs.OUTCOME_FAILED
    checks = {c.name: c for c in run_doctor(storage).checks}
    assert checks["jobs"].status == "warn" and meeting_id in checks["jobs"].message
    assert "could not be decoded" in checks["jobs"].message
    assert "incomplete meetings" not in checks
    report = run_doctor(storage, fix=True)
    assert [r.meeting_ids for r in report.repairs if r.action == "requeue_jobs"] == [[meeting_id]]
    assert storage.get_record(meeting_id).status == "queued"
    assert storage.queue.counts().waiting == 1
    assert {c.name: c.status for c in report.checks}["jobs"] == "ok"


def test_an_s3_event_becomes_one_queued_meeting_even_when_redelivered(
    job_settings: Settings,
) -> None:
    """What the bucket's event notification sends for a recording uploaded by presigned URL."""
    from meeting_storage.service.worker import OUTCOME_EVENT

    storage = MeetingStorage(job_settings)
    key = layout.new_audio_key("Board meeting.wav")
    storage.audio.put(key, wav_bytes(), "audio/wav")
    event = {
        "Records": [
            {
                "eventName": "ObjectCreated:Post",
                "s3": {"object": {"key": key.replace(" ", "+")}},
            }
        ]
    }
    storage.queue.send(event)
    storage.queue.send(event)  # delivered twice
    stats = run_worker(storage, threading.Event(), exit_when_empty=True)
    assert stats.outcomes == {OUTCOME_EVENT: 2, jobs.OUTCOME_COMPLETE: 1}
    meeting_id = f"meeting-{layout.audio_key_uuid(key)}"
    assert storage.index.ids() == {meeting_id}
    record = storage.get_record(meeting_id)
    assert record.filename == "Board meeting.wav"
    assert record.status == "awaiting_transcript"  # TRANSCRIBER=none


def test_every_index_backend_lists_a_meetings_job_status(backend_settings: Settings) -> None:
    """queued, then failed with its reason and step, as each index backend lists it."""
    storage = MeetingStorage(backend_settings, transcriber=UndecodableTranscriber())
    meeting_id = storage.submit_meeting(
        None, audio_file=__import__("io").BytesIO(wav_bytes()), audio_filename="broken.wav"
    ).record.meeting_id
    (listed,) = storage.list_meetings().meetings
    assert listed.status == "queued" and listed.queued_at is not None
    assert storage.run_job(meeting_id, final=True) == jobs.OUTCOME_FAILED
    (listed,) = storage.list_meetings().meetings
    assert (listed.status, listed.failed_step) == ("failed", "transcription")
    assert "could not be decoded" in (listed.failure_reason or "")


def test_process_no_wait_returns_the_queued_meeting_and_wait_finishes_it(
    job_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from meeting_storage.cli.main import main

    storage = MeetingStorage(job_settings)
    assert (
        main(["process", "--text", SAMPLE_TRANSCRIPT, "--no-wait", "--json"], storage=storage) == 0
    )
    queued = json.loads(capsys.readouterr().out)
    assert queued["status"] == "queued" and "meeting_summary" not in queued
    assert storage.get_record(queued["meeting_id"]).status == "queued"
    # Waiting (the default) works the queue itself, with no worker running.
    assert main(["process", "--text", SAMPLE_TRANSCRIPT, "--json"], storage=storage) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["status"] == "complete" and done["meeting_summary"]["action_items"]
    assert storage.get_record(done["meeting_id"]).status == "complete"
    assert wait_for_meeting(storage, queued["meeting_id"]).status == "complete"
    assert storage.queue.counts().waiting == 0
