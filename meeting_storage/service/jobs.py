"""Processing off the request path: a stored recording is a `queued` meeting at once, and its
work (transcription when there is no transcript, extraction, indexing) is a job on the queue
(meeting_storage/queue) that `worker` processes do (service/worker.py).

Submitting writes the recording, the transcript given with it (transcript-source.txt), then
metadata.json with If-None-Match and `status: "queued"` (the meeting now exists and is
listed with its status), then sends the job. A crash before metadata.json removes what the
call wrote, as `process` does.

Running a job is idempotent, because delivery is at least once: it reads metadata.json and
does nothing for a meeting that is gone, being deleted, complete or failed; every status
change is a conditional write (If-Match on the ETag it read), so a meeting deleted meanwhile
(or a second worker on the same meeting) makes it stop without writing; the documents are
written before metadata.json, which is written last, so a job cut off anywhere is simply
run again from the start and ends with one complete meeting and one index entry.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO, Any

from meeting_storage.analysis import Transcript, parse_transcript
from meeting_storage.analysis.kinds import extract_with_kind, normalise_kind
from meeting_storage.analysis.transcribe import TRANSCRIBER_AWS, StoredAudio
from meeting_storage.core import layout
from meeting_storage.core.errors import (
    ConflictError,
    InvalidInputError,
    MeetingStorageError,
    NotFoundError,
)
from meeting_storage.core.models import (
    STATUS_ANALYSING,
    STATUS_AWAITING_TRANSCRIPT,
    STATUS_COMPLETE,
    STATUS_DELETING,
    STATUS_FAILED,
    STATUS_QUEUED,
    STATUS_TRANSCRIBING,
    MeetingRecord,
    ProcessResult,
    utc_now,
)
from meeting_storage.index.document import search_text_of, with_action_item_facts
from meeting_storage.queue import JobQueue
from meeting_storage.queue.factory import make_queue
from meeting_storage.queue.sqs import SqsQueue
from meeting_storage.service.documents import StoredRecord, analysis_bytes, with_sizes
from meeting_storage.service.processing import (
    AWAITING_EXTRACTION,
    MeetingProcessing,
    _user_text,
    _with_extraction,
    _with_model_usage,
)
from meeting_storage.storage.blobs import BlobStore
from meeting_storage.storage.bucket import BucketConfiguration

log = logging.getLogger(__name__)

JOB_KIND = "process"
# The job's steps as a failed meeting names them, and the progress each one starts at.
STEP_QUEUE = "queue"
STEP_TRANSCRIPTION = "transcription"
STEP_EXTRACTION = "extraction"
STEP_SAVING = "saving"
STEP_PROGRESS = {STEP_TRANSCRIPTION: 0.05, STEP_EXTRACTION: 0.8, STEP_SAVING: 0.95}
# Retry after JOB_RETRY_DELAY (10 s), then twice as long each time, at most 5 minutes.
BACKOFF_MAX = 300
OUTCOME_COMPLETE = "complete"  # done (complete, or stored awaiting a transcript)
OUTCOME_DONE_BEFORE = "done_before"  # a redelivered message whose work was already done
OUTCOME_CANCELLED = "cancelled"  # the meeting was deleted: nothing written
OUTCOME_LOST = "lost"  # another worker changed the meeting first: leave it to that one
OUTCOME_RETRY = "retry"  # failed this time; the message comes back after a backoff
OUTCOME_FAILED = "failed"  # failed for good: the meeting says why, the message is dead

ProgressCallback = Callable[[float], None]


class JobCancelled(Exception):
    """The meeting was deleted (or taken by another worker) while its job ran."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


@dataclass(frozen=True)
class SubmitResult:
    """A meeting stored and queued: its record and, when the index refused it, why."""

    record: MeetingRecord
    index_warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"meeting_id": self.record.meeting_id, **status_of(self.record)}
        data["audio_s3_key"] = self.record.audio_s3_key
        data["indexed"] = self.index_warning is None
        if self.index_warning:
            data["index_warning"] = self.index_warning
        return data


def status_of(record: MeetingRecord) -> dict[str, Any]:
    """What a face shows of a meeting's job: its status, progress, and why it failed."""
    return {
        "status": record.status,
        "progress": record.progress,
        "failure_reason": record.failure_reason,
        "failed_step": record.failed_step,
        "job_attempts": record.job_attempts,
        "queued_at": record.queued_at.isoformat() if record.queued_at else None,
    }


def job_body(meeting_id: str) -> dict[str, Any]:
    return {"kind": JOB_KIND, "meeting_id": meeting_id}


def backoff_seconds(attempt: int, base: int) -> int:
    return int(min(BACKOFF_MAX, base * 2 ** max(0, attempt - 1)))


class _JobState:
    """The meeting's record as this job last wrote it, and the ETag to write it again."""

    def __init__(self, jobs: MeetingJobs, stored: StoredRecord, record: MeetingRecord) -> None:
        self.jobs = jobs
        self.record = record
        self.etag = stored.etag
        self.step = STEP_TRANSCRIPTION  # where a failure is reported to have happened

    def write(self, record: MeetingRecord, *, index: bool = True) -> str | None:
        try:
            self.etag = self.jobs.meeting_documents.write_record(record, if_match=self.etag)
        except ConflictError:
            raise JobCancelled(self.jobs._why_changed(record.meeting_id)) from None
        previous, self.record = self.record, record
        if not index:
            return None
        # While in flight there is nothing to search but the title, file name and tags.
        return self.jobs._list(record, search_text_of(), previous)

    def update(self, **changes: Any) -> None:
        """Write the record with `changes`; the index only hears of a new status (progress
        alone is read from metadata.json, which keeps index writes at one per step)."""
        changed = replace(self.record, **changes)
        self.write(changed, index=changed.status != self.record.status)


class MeetingJobs(MeetingProcessing):
    """Submitting meetings as jobs and running those jobs (the worker's part of the service)."""

    documents: BlobStore
    bucket: BucketConfiguration
    _queue: JobQueue | None = None

    @property
    def queue(self) -> JobQueue:
        """The configured job queue (QUEUE_BACKEND), made on first use."""
        if self._queue is None:
            self._queue = make_queue(self.settings)
        return self._queue

    @queue.setter
    def queue(self, value: JobQueue) -> None:
        self._queue = value

    # ----------------------------------------------------------------- submitting

    def submit_meeting(
        self,
        text: str | None,
        *,
        audio_s3_key: str | None = None,
        audio_file: IO[bytes] | None = None,
        audio_filename: str | None = None,
        filename: str | None = None,
        title: str = "",
        tags: Iterable[str] = (),
        recorded_at: datetime | None = None,
        transcript_filename: str | None = None,
        duration_seconds: float | None = None,
        meeting_id: str | None = None,
        kind: str | None = None,
    ) -> SubmitResult:
        """Store the recording (and the transcript given with it) as a `queued` meeting,
        listed at once, and queue the job that processes it. Bad input is refused here, before
        anything is stored: the transcript is parsed and the recording checked. `meeting_id`
        is given only for a recording announced by an S3 event (see `submit_uploaded`)."""
        if audio_file is not None and audio_s3_key is not None:
            raise InvalidInputError("Give either an audio file or an audio S3 key, not both.")
        if text is None and audio_file is None and audio_s3_key is None:
            raise InvalidInputError("Give a transcript, a recording, or both.")
        if text is not None:
            parse_transcript(text, transcript_filename)  # refused now, not in the worker
        kind = normalise_kind(kind)
        self.authorize("meeting.process")
        with self.audited("meeting.process", queued=True) as scope:
            result = self._submit_meeting(
                text,
                audio_s3_key=audio_s3_key,
                audio_file=audio_file,
                audio_filename=audio_filename,
                filename=filename,
                title=title,
                tags=tags,
                recorded_at=recorded_at,
                transcript_filename=transcript_filename,
                duration_seconds=duration_seconds,
                meeting_id=meeting_id,
                kind=kind,
            )
            scope.meeting_id = result.record.meeting_id
            scope.details.update(status=result.record.status, indexed=result.index_warning is None)
        return result

    def _submit_meeting(
        self,
        text: str | None,
        *,
        audio_s3_key: str | None,
        audio_file: IO[bytes] | None,
        audio_filename: str | None,
        filename: str | None,
        title: str,
        tags: Iterable[str],
        recorded_at: datetime | None,
        transcript_filename: str | None,
        duration_seconds: float | None,
        meeting_id: str | None,
        kind: str | None,
    ) -> SubmitResult:
        clean_title = _user_text(title, "title")[:200]
        clean_tags = tuple(t for t in (_user_text(tag, "tag")[:50] for tag in tags) if t)
        meeting_id = layout.validate_meeting_id(meeting_id or layout.new_meeting_id())
        written_audio: str | None = None
        written: list[str] = []
        audio_size: int | None = None
        content_type: str | None = None
        audio_sha256: str | None = None
        try:
            if audio_file is not None:
                uploaded = self._upload_audio(audio_file, audio_filename or filename or "recording")
                written_audio = audio_s3_key = uploaded.audio_s3_key
                audio_size, content_type = uploaded.size, uploaded.content_type
                audio_sha256 = uploaded.sha256
                if duration_seconds is None:
                    duration_seconds = uploaded.duration_seconds
            elif audio_s3_key is not None:
                audio_size, content_type = self._check_stored_audio(audio_s3_key)
            if filename:
                display_name = layout.sanitize_filename(filename)
            elif audio_s3_key:
                display_name = layout.filename_from_audio_key(audio_s3_key)
            else:
                display_name = layout.sanitize_filename(transcript_filename or "transcript.txt")
            if text is not None:
                key = layout.source_transcript_key(meeting_id)
                written.append(key)
                self.documents.put(key, text.encode(), "text/plain; charset=utf-8")
            now = utc_now()
            record = MeetingRecord(
                meeting_id=meeting_id,
                timestamp=recorded_at or now,
                filename=display_name,
                audio_s3_key=audio_s3_key,
                title=clean_title,
                tags=clean_tags,
                audio_size=audio_size,
                content_type=content_type,
                status=STATUS_QUEUED,
                duration_seconds=duration_seconds,
                audio_sha256=audio_sha256,
                queued_at=now,
                progress=0.0,
                transcript_source=(transcript_filename or "text") if text is not None else None,
                kind=kind,
                uploaded_by=self.principal.email.strip().lower(),
            )
            written.append(layout.metadata_key(meeting_id))
            self.meeting_documents.write_record(record, if_none_match=True)
        except BaseException:
            # Undo this call's writes so no half meeting remains; a retry starts clean.
            with contextlib.suppress(Exception):
                self.meeting_documents.delete_files(list(reversed(written)))
            if written_audio is not None:
                with contextlib.suppress(Exception):
                    self.audio.delete([written_audio])
                    self._remove_local_copy(written_audio)
            raise
        warning = self._list(record, search_text_of(None, (), ""))
        return SubmitResult(self._send_job(record), warning)

    def submit_uploaded(self, audio_s3_key: str) -> MeetingRecord | None:
        """The meeting of a recording an S3 event announced (ObjectCreated under meetings/):
        stored as queued under an id made from the key's UUID, so a redelivered event finds
        it instead of making a second meeting. None when the key is not a recording's."""
        match = layout.audio_key_uuid(audio_s3_key)
        if match is None:
            return None
        meeting_id = f"meeting-{match}"
        existing = self.meeting_documents.read_stored(meeting_id)
        if existing is not None and existing.record is not None:
            return existing.record
        try:
            return self.submit_meeting(
                None, audio_s3_key=audio_s3_key, meeting_id=meeting_id
            ).record
        except ConflictError:  # another worker took the same event at the same time
            return self.meeting_documents.read_record(meeting_id)

    def _send_job(self, record: MeetingRecord) -> MeetingRecord:
        """Queue the meeting's job; when the queue refuses, the meeting is marked failed at
        the `queue` step (Retry, or `doctor --fix`, queues it again)."""
        try:
            self.queue.send(job_body(record.meeting_id))
        except MeetingStorageError as exc:
            stored = self.meeting_documents.read_stored(record.meeting_id)
            if stored is None or stored.record is None:
                raise
            failed = replace(
                stored.record,
                status=STATUS_FAILED,
                failure_reason=f"Could not queue the job: {exc.message}",
                failed_step=STEP_QUEUE,
            )
            _JobState(self, stored, stored.record).write(failed)
            return failed
        return record

    def result_of(self, record: MeetingRecord, index_warning: str | None = None) -> ProcessResult:
        """What `process` returns, for a meeting whose job is over."""
        return ProcessResult(
            record=record,
            summary=self.meeting_documents.read_summary(record.meeting_id),
            requirements=self.meeting_documents.read_requirements(record.meeting_id),
            index_warning=index_warning,
        )

    def notify_on_upload(self) -> str:
        """Have the bucket send ObjectCreated events under meetings/ to the SQS queue, so a
        recording uploaded with a presigned URL is processed without a second call; return
        the queue's ARN."""
        queue = self.queue
        if not isinstance(queue, SqsQueue):
            raise InvalidInputError("S3 event notifications need QUEUE_BACKEND=sqs and QUEUE_URL.")
        queue.allow_bucket(self.settings.bucket)
        arn = queue.arn()
        self.bucket.notify_queue(arn, layout.AUDIO_PREFIX)
        return arn

    def retry_meeting(self, meeting_id: str) -> MeetingRecord:
        """Queue a failed (or stuck) meeting's job again, from the start."""
        stored = self.meeting_documents.read_stored(meeting_id)
        record = stored.record if stored is not None else None
        if (
            stored is None
            or record is None
            or record.status == STATUS_DELETING
            or not self.can_see(record)
        ):
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        if record.status != STATUS_FAILED and not record.in_flight:
            raise InvalidInputError(
                f"Meeting {meeting_id} is {record.status}; only a failed or queued meeting can "
                "be retried."
            )
        self.authorize("meeting.process", record)
        with self.audited("meeting.retry", meeting_id, was=record.status):
            return self._retry(stored, record)

    def _retry(self, stored: StoredRecord, record: MeetingRecord) -> MeetingRecord:
        queued = replace(
            record,
            status=STATUS_QUEUED,
            progress=0.0,
            failure_reason=None,
            failed_step=None,
            job_attempts=0,
            queued_at=utc_now(),
        )
        _JobState(self, stored, record).write(queued)
        return self._send_job(queued)

    # ----------------------------------------------------------------- running

    def get_record(self, meeting_id: str) -> MeetingRecord:
        """The meeting's record (the facade's reading, with its errors)."""
        raise NotImplementedError

    def _why_changed(self, meeting_id: str) -> str:
        stored = self.meeting_documents.read_stored(meeting_id)
        if stored is None or stored.record is None or stored.record.status == STATUS_DELETING:
            return OUTCOME_CANCELLED
        return OUTCOME_LOST

    def _pause(self, step: str) -> None:
        """The JOB_PAUSE test hook: wait before `step` (see core/settings.py)."""
        if self.settings.job_pause_step == step and self.settings.job_pause_seconds > 0:
            log.info("JOB_PAUSE: waiting %.1f s before %s", self.settings.job_pause_seconds, step)
            time.sleep(self.settings.job_pause_seconds)

    def run_job(self, meeting_id: str, *, attempt: int = 1, final: bool = True) -> str:
        """Process one queued meeting; return what became of it (an OUTCOME_*).

        `attempt` is how many times the job has been received; on the `final` attempt a
        failure marks the meeting failed (with the reason and the step) instead of leaving
        it for a retry.
        """
        layout.validate_meeting_id(meeting_id)
        stored = self.meeting_documents.read_stored(meeting_id)
        record = stored.record if stored is not None else None
        if stored is None or record is None or record.status == STATUS_DELETING:
            return OUTCOME_CANCELLED
        if not record.in_flight:
            return OUTCOME_DONE_BEFORE  # a redelivered message: the work is done (or failed)
        state = _JobState(self, stored, record)
        try:
            return self._run_steps(state, attempt)
        except JobCancelled as cancelled:
            return cancelled.outcome
        except Exception as exc:
            step = state.step
            if isinstance(exc, MeetingStorageError):
                reason = exc.message
            else:  # a bug, or a library's error: logged with its traceback
                log.exception("The job of %s failed at %s", meeting_id, step)
                reason = repr(exc)
            if not final:
                log.warning("The job of %s failed (attempt %d): %s", meeting_id, attempt, reason)
                with contextlib.suppress(JobCancelled, MeetingStorageError):
                    state.update(failure_reason=f"Attempt {attempt} failed: {reason}")
                return OUTCOME_RETRY
            try:
                state.update(
                    status=STATUS_FAILED,
                    failure_reason=reason,
                    failed_step=step,
                    progress=None,
                )
            except JobCancelled as cancelled:
                return cancelled.outcome
            return OUTCOME_FAILED

    def _run_steps(self, state: _JobState, attempt: int) -> str:
        record = state.record
        meeting_id = record.meeting_id
        transcript: Transcript | None = None
        if record.transcript_source is not None:
            source = self.documents.get(layout.source_transcript_key(meeting_id)).data
            name = None if record.transcript_source == "text" else record.transcript_source
            text = bytes(source).decode("utf-8")
            state.update(
                status=STATUS_ANALYSING,
                progress=STEP_PROGRESS[STEP_EXTRACTION],
                job_attempts=attempt,
            )
            state.step = STEP_EXTRACTION
            transcript = parse_transcript(text, name)
        notes: list[str] = []
        transcribed_by: str | None = None
        if transcript is None and record.audio_s3_key is not None:
            if self.transcriber is None:
                notes.append(
                    f"Stored without a transcript. {self.transcriber_choice} You can attach "
                    f"one with `attach-transcript {meeting_id} --transcript FILE`."
                )
            else:
                state.update(
                    status=STATUS_TRANSCRIBING,
                    progress=STEP_PROGRESS[STEP_TRANSCRIPTION],
                    job_attempts=attempt,
                )
                state.step = STEP_TRANSCRIPTION
                self._pause(STEP_TRANSCRIPTION)
                audio = StoredAudio(
                    meeting_id, record.audio_s3_key, record.content_type, record.audio_size
                )
                transcript = self._transcribe_with_progress(audio, state)
                transcribed_by = self.transcriber.name
        if state.record.status != STATUS_ANALYSING:
            state.update(
                status=STATUS_ANALYSING,
                progress=STEP_PROGRESS[STEP_EXTRACTION],
                job_attempts=attempt,
            )
        state.step = STEP_EXTRACTION
        self._pause(STEP_EXTRACTION)
        extraction = (
            extract_with_kind(
                self.extractor, transcript, record.kind, record.title, record.filename
            )
            if transcript is not None
            else AWAITING_EXTRACTION
        )
        notes += extraction.notes
        state.update(progress=STEP_PROGRESS[STEP_SAVING])
        state.step = STEP_SAVING
        duration = record.duration_seconds
        if duration is None and transcript is not None:
            duration = transcript.duration_seconds
        transcribed_seconds = None
        if transcribed_by == TRANSCRIBER_AWS:
            transcribed_seconds = duration if duration is not None else 0.0
        notes += self._cost_notes(extraction.model_usage)
        uploaded_bytes = record.audio_size if record.audio_sha256 else None
        final = replace(
            state.record,
            status=STATUS_COMPLETE if transcript is not None else STATUS_AWAITING_TRANSCRIPT,
            progress=1.0,
            failure_reason=None,
            failed_step=None,
            duration_seconds=duration,
            transcribed_by=transcribed_by,
            notes=tuple(notes),
            processing_cost_usd=self._processing_cost(
                uploaded_bytes, transcribed_seconds, extraction.model_usage
            ),
            transcribed_seconds=transcribed_seconds,
            transcript_source=None,  # now in transcription.txt; the source file goes below
            kind=extraction.summary.kind or record.kind,
        )
        final = _with_model_usage(final, extraction.model_usage)
        text = transcript.text if transcript is not None else ""
        final = _with_extraction(final, text, extraction)
        final = with_action_item_facts(final, extraction.summary)
        final = with_sizes(final, analysis_bytes(text, extraction))
        # A deleted meeting gets no documents: check just before writing them.
        if self._why_changed(meeting_id) == OUTCOME_CANCELLED:
            raise JobCancelled(OUTCOME_CANCELLED)
        self.meeting_documents.write_analysis(meeting_id, text, extraction)
        self._pause(STEP_SAVING)
        try:
            state.etag = self.meeting_documents.write_record(final, if_match=state.etag)
        except ConflictError:
            outcome = self._why_changed(meeting_id)
            if outcome == OUTCOME_CANCELLED:  # deleted meanwhile: remove what this job wrote
                with contextlib.suppress(Exception):
                    self.meeting_documents.delete_files(
                        [layout.meeting_file_key(meeting_id, n) for n in layout.MEETING_FILES[:3]]
                    )
            raise JobCancelled(outcome) from None
        previous, state.record = state.record, final
        self._list(
            final, search_text_of(extraction.summary, extraction.requirements, text), previous
        )
        if record.transcript_source is not None:
            with contextlib.suppress(Exception):  # a leftover copy harms nothing
                self.meeting_documents.delete_files([layout.source_transcript_key(meeting_id)])
        return OUTCOME_COMPLETE

    def _transcribe_with_progress(self, audio: StoredAudio, state: _JobState) -> Transcript:
        """Transcribe, recording the transcriber's progress (when it reports any) in the
        meeting's record, at most every 5 seconds."""
        assert self.transcriber is not None
        transcribe = self.transcriber.transcribe
        if "on_progress" not in inspect.signature(transcribe).parameters:
            return transcribe(audio)
        last = [0.0]
        start, span = STEP_PROGRESS[STEP_TRANSCRIPTION], STEP_PROGRESS[STEP_EXTRACTION]

        def on_progress(fraction: float) -> None:
            if time.monotonic() - last[0] < 5:
                return
            last[0] = time.monotonic()
            value = round(start + (span - start) * max(0.0, min(1.0, fraction)), 3)
            state.update(progress=value)

        return transcribe(audio, on_progress=on_progress)  # type: ignore[call-arg]
