"""The facade the CLI, the dashboard and the REST API call: store, list, show, play, delete, check.

Write order makes a meeting appear atomically: audio, then transcription/summary/requirements,
then metadata.json with If-None-Match (the meeting now exists), then the index entry (the
meeting is now listed). Any failure before metadata.json removes what this call wrote. A
failed index write is retried and otherwise reported (`ProcessResult.index_warning`), and
the stored meeting is kept: it is complete in S3, `doctor --fix` or `reindex` lists it, and
rolling back could leave a listed meeting without files if the failed write had in fact
landed. Deletion runs the other way: mark metadata.json as deleting, drop the index entry
(no longer listed), delete the files, delete metadata.json last, so an interrupted delete is
finished by running it again (or by `doctor --fix`) and never loses what it needs to do so.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from meeting_storage.analysis import Extraction, Extractor, ModelUsage, Transcript, parse_transcript
from meeting_storage.analysis.backends import make_extractor, make_transcriber
from meeting_storage.analysis.extract import METHOD_BEDROCK
from meeting_storage.analysis.transcribe import TRANSCRIBER_AWS, StoredAudio, Transcriber
from meeting_storage.core import layout
from meeting_storage.core.analysis import Summary, requirements_from_json, requirements_to_json
from meeting_storage.core.errors import (
    BackendUnavailableError,
    ConfigurationError,
    FileTooLargeError,
    InvalidInputError,
    MeetingStorageError,
    NotFoundError,
    translate_boto_error,
)
from meeting_storage.core.models import (
    STATUS_AWAITING_TRANSCRIPT,
    STATUS_COMPLETE,
    STATUS_DELETING,
    ArchiveStatus,
    DeletedMeeting,
    DeletionReport,
    DoctorReport,
    Meeting,
    MeetingPage,
    MeetingRecord,
    PrefixUsage,
    PresignedUpload,
    ProcessResult,
    StorageFootprint,
    UploadedAudio,
    utc_now,
)
from meeting_storage.core.retry import retrying
from meeting_storage.core.settings import MAX_PRESIGN_SECONDS, Settings
from meeting_storage.costs.footprint import Footprint, measure
from meeting_storage.costs.history import cohorts_from_history, usage_from_history
from meeting_storage.costs.pricing import (
    ARCHIVED_CLASSES,
    DEFAULT_BEDROCK_MODEL,
    PriceTable,
    prices_for,
)
from meeting_storage.costs.processing import analysis_cost, audio_upload_requests, processing_cost
from meeting_storage.costs.projection import LifecycleComparison, compare_lifecycle
from meeting_storage.costs.review import CostReport, build_report
from meeting_storage.costs.usage import Usage
from meeting_storage.index import DEFAULT_LIMIT, MAX_LIMIT, MeetingIndex, validate_limit
from meeting_storage.index.document import SearchText, search_text_of, with_action_item_facts
from meeting_storage.index.factory import make_index
from meeting_storage.index.query import MeetingFilter
from meeting_storage.index.s3json import S3JsonIndex
from meeting_storage.ops import hardening, lifecycle, migrate
from meeting_storage.storage import archive
from meeting_storage.storage.aws import make_s3_client
from meeting_storage.storage.blobs import (
    BlobStore,
    LocalBlobStore,
    S3BlobStore,
    VersionInfo,
    content_disposition,
)
from meeting_storage.storage.media import (
    SNIFF_BYTES,
    SizeLimitedReader,
    declared_media,
    detect_media,
    duration_seconds,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from meeting_storage.ops.reindex import ReindexReport

READ_WORKERS = 8
INDEX_ATTEMPTS = 3
RECENTLY_DELETED_DAYS = lifecycle.DEFAULT_NONCURRENT_DAYS
UPLOAD_METHODS = ("POST", "PUT")
FOOTPRINT_WINDOW_DAYS = 30
Progress = Callable[[int, int], None]
# The steps `process` reports to its `on_step` callback, in order; a step that does not
# apply (no recording to upload, no transcript to analyse) is not reported.
PROCESS_STEPS = ("upload", "transcription", "extraction", "saving")
StepCallback = Callable[[str], None]


class MeetingStorage:
    def __init__(
        self,
        settings: Settings,
        *,
        s3_client: S3Client | None = None,
        index: MeetingIndex | None = None,
        extractor: Extractor | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        self.settings = settings
        self.audio = S3BlobStore(s3_client or make_s3_client(settings), settings.bucket)
        self.documents: BlobStore = (
            self.audio if settings.store_in_s3 else LocalBlobStore(settings.local_data_dir)
        )
        self.index: MeetingIndex = index or make_index(settings, self.documents)
        self.extractor: Extractor = extractor or make_extractor(settings)
        configured, self.transcriber_choice = make_transcriber(settings, self.audio)
        self.transcriber: Transcriber | None = transcriber or configured

    # ----------------------------------------------------------------- storing

    def upload_audio(
        self, fileobj: IO[bytes], filename: str, *, size: int | None = None
    ) -> UploadedAudio:
        """Check and stream a recording to meetings/{uuid}_{filename}; return its key."""
        safe_name = layout.sanitize_filename(filename)
        limit = self.settings.max_upload_bytes
        if size is not None and size > limit:
            raise FileTooLargeError(
                f"{filename!r} is larger than the {limit // (1024 * 1024)} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if size == 0:
            raise InvalidInputError(f"{filename!r} is empty; choose a recording with sound in it.")
        head = fileobj.read(SNIFF_BYTES)
        content_type, extension = detect_media(head, filename)
        if layout.file_extension(safe_name) not in {extension, *_same_family(extension)}:
            safe_name = layout.sanitize_filename(f"{safe_name}.{extension}")
        key = layout.new_audio_key(safe_name)
        local_path = self._local_copy_path(key)
        tee: IO[bytes] | None = None
        if local_path is not None:
            local_path.parent.mkdir(parents=True, exist_ok=True)
            tee = local_path.open("wb")
        reader = SizeLimitedReader(head, fileobj, limit, filename, tee=tee)
        try:
            self.audio.upload_stream(
                key,
                # Buffered so each read returns the full amount asked for: s3transfer decides
                # on multipart from the size of its first read.
                io.BufferedReader(reader, buffer_size=1024 * 1024),
                content_type,
                metadata={"original-filename": _ascii_header(safe_name)},
                content_disposition=content_disposition(safe_name),
            )
        except BaseException:
            if tee is not None:
                tee.close()
                local_path.unlink(missing_ok=True)  # type: ignore[union-attr]
            with contextlib.suppress(MeetingStorageError):
                self.audio.delete([key])
            raise
        if tee is not None:
            tee.close()
        return UploadedAudio(
            audio_s3_key=key,
            filename=safe_name,
            size=reader.count,
            content_type=content_type,
            local_copy=str(local_path) if local_path else None,
            sha256=reader.sha256,
            duration_seconds=duration_seconds(head, extension, reader.count),
        )

    def process(
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
        on_step: StepCallback | None = None,
    ) -> ProcessResult:
        """Analyse a transcript and store the whole meeting; all or nothing.

        The transcript may be plain text, WebVTT, SRT or AWS Transcribe JSON
        (`transcript_filename` helps tell which). With a recording but no transcript
        (`text=None`) the configured transcriber turns the recording into one; when there is
        none, or it fails, the meeting is stored with its audio, marked as awaiting a
        transcript, and `notes` says why; `attach_transcript` completes it later.
        metadata.json records the recording's length (`duration_seconds`, read from a WAV
        header, or the transcript's last timestamp), its SHA-256, and what processing cost:
        S3 requests, Amazon Transcribe for the recording's length when it transcribed it, and
        the Bedrock tokens the extraction used (see `_processing_cost`).
        `on_step` is called with each of PROCESS_STEPS as it starts (a step that does not
        happen is not reported).
        """

        def step(name: str) -> None:
            if on_step is not None:
                on_step(name)

        if audio_file is not None and audio_s3_key is not None:
            raise InvalidInputError("Give either an audio file or an audio S3 key, not both.")
        if text is None and audio_file is None and audio_s3_key is None:
            raise InvalidInputError("Give a transcript, a recording, or both.")
        transcript = parse_transcript(text, transcript_filename) if text is not None else None
        notes: list[str] = []
        transcribed_by: str | None = None
        written_audio: str | None = None
        written_documents: list[str] = []
        meeting_id = layout.new_meeting_id()
        try:
            audio_size: int | None = None
            content_type: str | None = None
            audio_sha256: str | None = None
            uploaded_bytes: int | None = None
            if audio_file is not None:
                step("upload")
                uploaded = self.upload_audio(audio_file, audio_filename or filename or "recording")
                written_audio = audio_s3_key = uploaded.audio_s3_key
                audio_size, content_type = uploaded.size, uploaded.content_type
                audio_sha256, uploaded_bytes = uploaded.sha256, uploaded.size
                if duration_seconds is None:
                    duration_seconds = uploaded.duration_seconds
            elif audio_s3_key is not None:
                audio_size, content_type = self._check_stored_audio(audio_s3_key)
            if filename:
                display_name = layout.sanitize_filename(filename)
            elif audio_s3_key:
                display_name = layout.filename_from_audio_key(audio_s3_key)
            else:
                display_name = "transcript.txt"
            if transcript is None and audio_s3_key is not None:
                audio = StoredAudio(meeting_id, audio_s3_key, content_type, audio_size)
                if self.transcriber is not None:
                    step("transcription")
                transcript, note = self._transcribe(audio)
                notes += [note] if note else []
                if transcript is not None and self.transcriber is not None:
                    transcribed_by = self.transcriber.name
            if transcript is not None:
                step("extraction")
            extraction = (
                self.extractor.extract(transcript)
                if transcript is not None
                else AWAITING_EXTRACTION
            )
            notes += extraction.notes
            step("saving")
            if duration_seconds is None and transcript is not None:
                duration_seconds = transcript.duration_seconds
            transcribed_seconds = None
            if transcribed_by == TRANSCRIBER_AWS:
                # An unknown length is billed as the minimum (0 seconds rounds up to it).
                transcribed_seconds = duration_seconds if duration_seconds is not None else 0.0
            notes += self._cost_notes(extraction.model_usage)
            record = MeetingRecord(
                meeting_id=meeting_id,
                timestamp=(recorded_at or utc_now()),
                filename=display_name,
                audio_s3_key=audio_s3_key,
                title=_user_text(title, "title")[:200],
                tags=tuple(t for t in (_user_text(tag, "tag")[:50] for tag in tags) if t),
                audio_size=audio_size,
                content_type=content_type,
                status=STATUS_COMPLETE if transcript is not None else STATUS_AWAITING_TRANSCRIPT,
                duration_seconds=duration_seconds,
                transcribed_by=transcribed_by,
                notes=tuple(notes),
                audio_sha256=audio_sha256,
                processing_cost_usd=self._processing_cost(
                    uploaded_bytes, transcribed_seconds, extraction.model_usage
                ),
                transcribed_seconds=transcribed_seconds,
            )
            record = _with_model_usage(record, extraction.model_usage)
            text = transcript.text if transcript is not None else ""
            record = _with_extraction(record, text, extraction)
            record = with_action_item_facts(record, extraction.summary)
            # Listed before writing so a failure half-way still removes what was written.
            written_documents += [
                layout.meeting_file_key(meeting_id, name) for name in layout.MEETING_FILES[:3]
            ]
            self._write_documents(meeting_id, text, extraction)
            metadata = layout.metadata_key(meeting_id)
            written_documents.append(metadata)
            self.documents.put(
                metadata, _json_bytes(record.to_dict()), "application/json", if_none_match=True
            )
        except BaseException:
            # Undo this call's writes so no half meeting remains; a retry starts clean.
            with contextlib.suppress(Exception):
                self.documents.delete(list(reversed(written_documents)))
            if written_audio is not None:
                with contextlib.suppress(Exception):
                    self.audio.delete([written_audio])
                    self._remove_local_copy(written_audio)
            raise
        # The meeting exists now; listing it is the last step (see the module docstring).
        search_text = search_text_of(extraction.summary, extraction.requirements, text)
        warning = self._list(record, search_text)
        return ProcessResult(
            record=record,
            summary=extraction.summary,
            requirements=extraction.requirements,
            index_warning=warning,
        )

    def _transcribe(self, audio: StoredAudio) -> tuple[Transcript | None, str | None]:
        """The recording's transcript, or None and a note saying why there is none.

        A failed transcription never loses the upload: the meeting is stored awaiting one.
        """
        attach = f"attach one with `attach-transcript {audio.meeting_id} --transcript FILE`"
        if self.transcriber is None:
            return None, f"Stored without a transcript. {self.transcriber_choice} You can {attach}."
        try:
            return self.transcriber.transcribe(audio), None
        except Exception as exc:  # whatever went wrong, the upload is kept
            reason = exc.message if isinstance(exc, MeetingStorageError) else repr(exc)
            return None, (
                f"Transcription ({self.transcriber.name}) failed: {reason} The recording is "
                f"stored; {attach}."
            )

    def attach_transcript(
        self, meeting_id: str, text: str, *, transcript_filename: str | None = None
    ) -> ProcessResult:
        """Give a stored meeting its transcript (or replace it) and re-run the extraction.

        The documents are rewritten first and metadata.json last with If-Match, so a
        concurrent change is refused (ConflictError) instead of silently overwritten. What
        this costs (the rewrite's S3 requests and any Bedrock tokens) is added to the
        meeting's recorded processing cost.
        """
        transcript = parse_transcript(text, transcript_filename)
        metadata = layout.metadata_key(meeting_id)
        blob = self._get_optional(metadata)
        current = _record_or_none(blob.data) if blob is not None else None
        if blob is None or current is None or current.status == STATUS_DELETING:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        extraction = self.extractor.extract(transcript)
        attach_cost = self._processing_cost(None, None, extraction.model_usage)
        completed = replace(
            current,
            status=STATUS_COMPLETE,
            transcribed_by=None,
            notes=(*extraction.notes, *self._cost_notes(extraction.model_usage)),
            duration_seconds=current.duration_seconds or transcript.duration_seconds,
            processing_cost_usd=self._stored_cost(current) + attach_cost,
        )
        completed = _with_model_usage(completed, extraction.model_usage)
        text = transcript.text
        record = _with_extraction(completed, text, extraction)
        record = with_action_item_facts(record, extraction.summary)
        self._write_documents(meeting_id, text, extraction)
        self.documents.put(
            metadata, _json_bytes(record.to_dict()), "application/json", if_match=blob.etag
        )
        warning = self._list(
            record, search_text_of(extraction.summary, extraction.requirements, text)
        )
        return ProcessResult(
            record=record,
            summary=extraction.summary,
            requirements=extraction.requirements,
            index_warning=warning,
        )

    def _list(self, record: MeetingRecord, search_text: SearchText) -> str | None:
        """Put the index entry, retrying; on failure the meeting stays stored and the returned
        warning says how to list it (never a listed meeting without its files)."""
        try:
            retrying(lambda: self.index.put(record, search_text), attempts=INDEX_ATTEMPTS)
        except Exception as exc:
            reason = exc.message if isinstance(exc, MeetingStorageError) else repr(exc)
            return (
                f"Meeting {record.meeting_id} is stored but not listed yet: the index "
                f"({self.index.describe()}) refused the entry {INDEX_ATTEMPTS} times ({reason}). "
                "Run `python -m meeting_storage doctor --fix` (or `reindex`) to list it."
            )
        return None

    def _write_documents(self, meeting_id: str, text: str, extraction: Extraction) -> list[str]:
        """Write transcription.txt, summary.json and requirements.json; return their keys."""
        files: list[tuple[str, bytes, str]] = [
            (layout.TRANSCRIPTION_FILE, text.encode(), "text/plain; charset=utf-8"),
            (layout.SUMMARY_FILE, _json_bytes(extraction.summary.to_json()), "application/json"),
            (
                layout.REQUIREMENTS_FILE,
                _json_bytes(requirements_to_json(extraction.requirements)),
                "application/json",
            ),
        ]
        written = []
        for name, data, kind in files:
            key = layout.meeting_file_key(meeting_id, name)
            written.append(key)
            self.documents.put(key, data, kind)
        return written

    @property
    def prices(self) -> PriceTable:
        """The price table of the bucket's region (us-east-1 prices for other regions), with
        Bedrock at the prices of the region it runs in (BEDROCK_REGION)."""
        table = prices_for(self.settings.region)
        if self.settings.bedrock_region and self.settings.bedrock_region != table.region:
            bedrock = self.bedrock_prices
            table = replace(
                table,
                bedrock=bedrock.bedrock,
                bedrock_region=bedrock.region,
                notes=(*table.notes, *(n for n in bedrock.notes if n not in table.notes)),
            )
        return table

    @property
    def bedrock_prices(self) -> PriceTable:
        """The price table of the region Bedrock runs in (BEDROCK_REGION, else the bucket's)."""
        return prices_for(self.settings.bedrock_region or self.settings.region)

    def _processing_cost(
        self,
        uploaded_bytes: int | None,
        transcribed_seconds: float | None,
        model_usage: ModelUsage | None,
    ) -> Decimal:
        """What storing and analysing a meeting costs: the S3 requests that write it (with
        `uploaded_bytes` of recording, or none), Amazon Transcribe for `transcribed_seconds`
        (None: it did not transcribe) and the Bedrock tokens of `model_usage`."""
        analysis = analysis_cost(
            self.prices,
            transcribed_seconds=transcribed_seconds,
            bedrock_model_id=model_usage.model_id if model_usage else None,
            input_tokens=model_usage.input_tokens if model_usage else 0,
            output_tokens=model_usage.output_tokens if model_usage else 0,
            bedrock_prices=self.bedrock_prices,
        )
        if not self.settings.store_in_s3:  # only the recording goes to S3
            if uploaded_bytes is None:
                return analysis
            puts = audio_upload_requests(uploaded_bytes)
            return puts * self.prices.s3["STANDARD"].put_per_1k / 1000 + analysis
        requests = processing_cost(
            self.prices,
            audio_bytes=uploaded_bytes,
            s3_index=isinstance(self.index, S3JsonIndex),
        )
        return requests + analysis

    def _stored_cost(self, record: MeetingRecord) -> Decimal:
        """The recorded processing cost; for a meeting stored before costs were recorded, the
        S3 requests that stored it (its recording, documents and index entry)."""
        if record.processing_cost_usd is not None:
            return record.processing_cost_usd
        return self._processing_cost(record.audio_size, None, None)

    def _cost_notes(self, model_usage: ModelUsage | None) -> list[str]:
        """A note when the recorded processing cost has to leave the Bedrock tokens out."""
        prices = self.bedrock_prices
        if model_usage is None or prices.bedrock_model(model_usage.model_id) is not None:
            return []
        return [
            f"The processing cost leaves out Bedrock: {model_usage.model_id} has no price in "
            f"the {prices.region} price table (meeting_storage/costs/pricing.py)."
        ]

    def analyse(self, text: str, filename: str | None = None) -> Extraction:
        """The analysis `process` stores, without storing anything."""
        return self.extractor.extract(parse_transcript(text, filename))

    def create_upload(
        self,
        filename: str,
        content_type: str,
        *,
        size: int | None = None,
        method: str = "POST",
        expires_in: int | None = None,
    ) -> PresignedUpload:
        """Presign an upload of one recording straight to meetings/{uuid}_{filename}.

        S3 enforces the key, the declared Content-Type and the size (a POST policy's
        content-length-range, or the Content-Length signed into a PUT URL); `process` checks
        the bytes themselves (magic bytes, MAX_UPLOAD_MB) before a meeting refers to them.
        """
        method = method.upper() if isinstance(method, str) else ""
        if method not in UPLOAD_METHODS:
            raise InvalidInputError(f"method must be one of {', '.join(UPLOAD_METHODS)}.")
        content_type, extension = declared_media(content_type)
        limit = self.settings.max_upload_bytes
        if size is not None and size < 1:
            raise InvalidInputError("size must be at least 1 byte; a recording cannot be empty.")
        if size is not None and size > limit:
            raise FileTooLargeError(
                f"{size} bytes is larger than the {self.settings.max_upload_mb} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if method == "PUT" and size is None:
            raise InvalidInputError(
                "A presigned PUT signs the exact Content-Length: give the file's size."
            )
        seconds = self._expiry(expires_in)
        safe_name = layout.sanitize_filename(filename)
        if layout.file_extension(safe_name) not in {extension, *_same_family(extension)}:
            safe_name = layout.sanitize_filename(f"{safe_name}.{extension}")
        key = layout.new_audio_key(safe_name)
        expires_at = utc_now() + timedelta(seconds=seconds)
        if method == "POST":
            low, high = (size, size) if size is not None else (1, limit)
            url, fields = self.audio.presign_post(
                key, seconds, content_type=content_type, min_bytes=low, max_bytes=high
            )
            return PresignedUpload(
                audio_s3_key=key,
                filename=safe_name,
                method=method,
                url=url,
                content_type=content_type,
                min_bytes=low,
                max_bytes=high,
                expires_at=expires_at,
                fields=fields,
            )
        assert size is not None
        url = self.audio.presign_put(key, seconds, content_type=content_type, size=size)
        return PresignedUpload(
            audio_s3_key=key,
            filename=safe_name,
            method=method,
            url=url,
            content_type=content_type,
            min_bytes=size,
            max_bytes=size,
            expires_at=expires_at,
            headers={"Content-Type": content_type, "Content-Length": str(size)},
        )

    def _check_stored_audio(self, audio_s3_key: str) -> tuple[int, str]:
        """Size and real content type of an uploaded recording a meeting is about to refer to.

        A recording uploaded with a presigned URL never passed through `upload_audio`, so its
        size and its first bytes are checked here the same way.
        """
        layout.validate_audio_key(audio_s3_key)
        info = self.audio.head(audio_s3_key)
        if info is None:
            raise NotFoundError(
                f"Audio {audio_s3_key!r} is not in s3://{self.settings.bucket}; upload it "
                "first with `upload` and pass the key it returns."
            )
        name = layout.filename_from_audio_key(audio_s3_key)
        if info.size > self.settings.max_upload_bytes:
            raise FileTooLargeError(
                f"{name!r} is larger than the {self.settings.max_upload_mb} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if info.size == 0:
            raise InvalidInputError(f"{name!r} is empty; upload a recording with sound in it.")
        if info.storage_class in ARCHIVED_CLASSES:
            return info.size, info.content_type or "application/octet-stream"
        content_type, _ = detect_media(self.audio.read_start(audio_s3_key, SNIFF_BYTES), name)
        return info.size, content_type

    # ----------------------------------------------------------------- reading

    def list_meetings(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        search: str | None = None,
        filters: MeetingFilter | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> MeetingPage:
        """Newest first, or ranked by relevance when searching a full-text index.

        `since` (inclusive) and `until` (exclusive) bound the meeting time; they are the
        index's own date filter, so every backend pages them with its own cursors.
        """
        if since is not None or until is not None:
            base = filters or MeetingFilter()
            filters = replace(
                base,
                date_from=since if since is not None else base.date_from,
                date_to=until if until is not None else base.date_to,
            )
        return self.index.list(
            validate_limit(limit), cursor, (search or "").strip() or None, filters
        )

    def search_meetings(
        self,
        search: str,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        filters: MeetingFilter | None = None,
    ) -> MeetingPage:
        """Meetings containing every word of `search`, with highlighted snippets."""
        if not (search or "").strip():
            raise InvalidInputError("Type a word to search for.")
        return self.list_meetings(limit, cursor, search, filters)

    def count_meetings(self) -> int:
        """How many meetings the index lists."""
        return len(self.index.ids())

    def get_record(self, meeting_id: str) -> MeetingRecord:
        """The meeting's metadata.json (the source of truth), or NotFoundError."""
        record = self._read_record(meeting_id)
        if record is None and self.index.get(meeting_id) is not None:
            raise NotFoundError(
                f"Meeting {meeting_id} is listed but no longer in the bucket (expired by the "
                "lifecycle policy, or deleted outside this tool); `doctor --fix` removes it from "
                "the list."
            )
        if record is None or record.status == STATUS_DELETING:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        return record

    def get_meeting(self, meeting_id: str) -> Meeting:
        record = self.get_record(meeting_id)
        with ThreadPoolExecutor(max_workers=3) as pool:
            transcript = pool.submit(self._read_document, meeting_id, layout.TRANSCRIPTION_FILE)
            summary = pool.submit(self._read_document, meeting_id, layout.SUMMARY_FILE)
            requirements = pool.submit(self._read_document, meeting_id, layout.REQUIREMENTS_FILE)
            transcription = transcript.result().decode("utf-8", "replace")
            summary_data = _json_or(summary.result(), {})
            requirements_data = _json_or(requirements.result(), [])
        audio_url, reason, archive = self._playable_url(record)
        return Meeting(
            record=record,
            transcription=transcription,
            summary=Summary.from_json(summary_data),
            requirements=requirements_from_json(requirements_data),
            audio_url=audio_url,
            audio_unavailable_reason=reason,
            audio_archive=archive,
        )

    def presign_audio(self, meeting_id: str, expires_in: int | None = None) -> str:
        """A time-limited GET URL for the meeting's audio that names the original file."""
        record = self.get_record(meeting_id)
        if not record.audio_s3_key:
            raise NotFoundError(f"Meeting {meeting_id} has no audio.")
        return self._presign(record, expires_in)

    def _expiry(self, expires_in: int | None) -> int:
        seconds = self.settings.presigned_url_expiry if expires_in is None else expires_in
        if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
            raise InvalidInputError(
                f"expires_in must be between 1 and {MAX_PRESIGN_SECONDS} seconds, not {seconds}."
            )
        return seconds

    def _presign(self, record: MeetingRecord, expires_in: int | None = None) -> str:
        seconds = self._expiry(expires_in)
        assert record.audio_s3_key is not None
        return self.audio.presign_get(
            record.audio_s3_key,
            seconds,
            download_name=record.filename,
            content_type=record.content_type,
        )

    def _playable_url(
        self, record: MeetingRecord
    ) -> tuple[str | None, str | None, ArchiveStatus | None]:
        """(presigned URL, why there is none, where the audio's bytes are)."""
        if not record.audio_s3_key:
            return None, "This meeting was stored from a transcript only; it has no audio.", None
        info = self.audio.head(record.audio_s3_key)
        if info is None:
            return (
                None,
                "The audio object is missing from the bucket (expired by the lifecycle policy, or "
                "deleted); run `doctor` for details.",
                None,
            )
        status = archive.archive_status(info.storage_class, info.restore)
        if not status.playable:
            return None, archive.describe(status, self.prices), status
        return self._presign(record), None, status

    # ----------------------------------------------------------------- deleting

    def delete_meeting(self, meeting_id: str, *, purge: bool = False) -> DeletionReport:
        """Remove the audio, every transcription file, local copies and the index entry."""
        layout.validate_meeting_id(meeting_id)
        metadata = layout.metadata_key(meeting_id)
        blob = self._get_optional(metadata)
        record: MeetingRecord | None = None
        if blob is not None:
            record = _record_or_none(blob.data)
            if record is not None and record.status != STATUS_DELETING:
                marked = replace(record, status=STATUS_DELETING)
                self.documents.put(
                    metadata, _json_bytes(marked.to_dict()), "application/json", if_match=blob.etag
                )
        indexed = retrying(lambda: self.index.get(meeting_id), attempts=INDEX_ATTEMPTS)
        record = record or indexed
        # Unlisted before any file goes: a failure here leaves every file in place.
        index_removed = retrying(lambda: self.index.delete(meeting_id), attempts=INDEX_ATTEMPTS)
        prefix = layout.meeting_prefix(meeting_id)
        document_keys = [info.key for info in self.documents.iter_objects(prefix)]
        versioned = self.settings.store_in_s3 and self.audio.versioning_status() != "Disabled"
        if purge and versioned:
            # Older versions and delete markers too, even when no current version is left.
            document_keys = sorted({*document_keys, *layout.meeting_file_keys(meeting_id)})
        if blob is None and not document_keys and indexed is None and not purge:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        deleted: list[str] = []
        if record is not None and record.audio_s3_key and layout.is_audio_key(record.audio_s3_key):
            deleted += self.audio.delete([record.audio_s3_key], purge=purge)
            deleted += self._remove_local_copy(record.audio_s3_key)
        others = [key for key in document_keys if key != metadata]
        deleted += self.documents.delete(others, purge=purge)
        if metadata in document_keys:
            deleted += self.documents.delete([metadata], purge=purge)
        if not deleted and not index_removed:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        return DeletionReport(
            meeting_id=meeting_id,
            deleted=deleted,
            index_entry_removed=index_removed,
            purged=purge,
            versioned=versioned,
        )

    # ----------------------------------------------------------------- maintenance

    def iter_records(self, progress: Progress | None = None) -> Iterator[MeetingRecord]:
        """Every meeting's metadata.json, read in parallel (GETs, one per meeting)."""
        keys = [
            info.key
            for info in self.documents.iter_objects(layout.TRANSCRIPTIONS_PREFIX)
            if info.key.endswith("/" + layout.METADATA_FILE)
            and layout.meeting_id_from_key(info.key) is not None
        ]
        done = 0
        with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
            for blob in pool.map(self._get_optional, keys):
                done += 1
                if progress is not None:
                    progress(done, len(keys))
                if blob is None:
                    continue
                record = _record_or_none(blob.data)
                if record is not None:
                    yield record

    def reindex(self, progress: Progress | None = None, *, restart: bool = False) -> ReindexReport:
        """Rebuild the index from the metadata.json files in S3, in pages, resumable."""
        from meeting_storage.ops.reindex import reindex

        return reindex(self, progress=progress, restart=restart)

    def doctor(self, *, fix: bool = False, contents: bool = True) -> DoctorReport:
        """Health checks; with `fix`, first repair drift between the index and S3;
        `contents=False` skips the checks that list every meeting (readiness probes)."""
        from meeting_storage.ops.doctor import repair, run_checks

        repairs = repair(self) if fix else []
        return DoctorReport(checks=list(run_checks(self, contents=contents)), repairs=repairs)

    def footprint(self, now: datetime | None = None) -> StorageFootprint:
        """Objects and bytes under meetings/, transcriptions/ and index/ (a paginated listing),
        by storage class, and how many were written in the last FOOTPRINT_WINDOW_DAYS days."""
        now = now or utc_now()
        recent = now - timedelta(days=FOOTPRINT_WINDOW_DAYS)
        usages = []
        for store, prefix in (
            (self.audio, layout.AUDIO_PREFIX),
            (self.documents, layout.TRANSCRIPTIONS_PREFIX),
            (self.documents, layout.INDEX_PREFIX),
        ):
            objects = size = written = 0
            by_class: dict[str, int] = {}
            for info in store.iter_objects(prefix):
                objects += 1
                size += info.size
                by_class[info.storage_class] = by_class.get(info.storage_class, 0) + info.size
                if info.last_modified is not None and info.last_modified >= recent:
                    written += 1
            usages.append(
                PrefixUsage(
                    prefix=prefix,
                    location=store.location,
                    objects=objects,
                    bytes=size,
                    bytes_by_class=by_class,
                    written_recently=written,
                )
            )
        return StorageFootprint(measured_at=now, window_days=FOOTPRINT_WINDOW_DAYS, prefixes=usages)

    def index_entries(self) -> Iterator[MeetingRecord]:
        """Every meeting the index lists (one page of MAX_LIMIT at a time)."""
        cursor: str | None = None
        while True:
            page = self.index.list(MAX_LIMIT, cursor)
            yield from page.meetings
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # ----------------------------------------------------------------- cost

    def detailed_footprint(self) -> Footprint:
        """What the cost review needs: bytes and objects by prefix and storage class, per
        meeting (joined with the index's records), and old versions in a versioned bucket."""
        versioned = self.audio.versioning_status() != "Disabled"
        return measure(self.audio, self.documents, list(self.index_entries()), versioned=versioned)

    def cost_report(
        self,
        *,
        months: int = 12,
        now: datetime | None = None,
        usage: Usage | None = None,
        **overrides: Any,
    ) -> CostReport:
        """This month's estimate and a projection. Without `usage`, the what-if inputs continue
        the bucket's recent history and its lifecycle policy; `overrides` replace any of them
        (keyword arguments named like `Usage` fields)."""
        now = now or datetime.now(UTC)
        measured = self.detailed_footprint()
        if usage is None:
            usage = usage_from_history(measured.contents(), now, self._default_usage())
        return build_report(self.prices, measured, replace(usage, **overrides), now, months)

    def lifecycle_savings(
        self, policy: lifecycle.LifecyclePolicy, *, months: int = 12
    ) -> LifecycleComparison:
        """What `policy` saves over `months` at the bucket's recent rate of meetings."""
        now = datetime.now(UTC)
        contents = self.detailed_footprint().contents()
        usage = replace(
            usage_from_history(contents, now, self._default_usage()),
            archive_days=policy.archive_days,
            archive_storage_class=policy.archive_storage_class,
            retention_days=policy.expire_days,
        )
        return compare_lifecycle(self.prices, usage, months, cohorts_from_history(contents, now))

    def _default_usage(self) -> Usage:
        try:
            policy = lifecycle.LifecyclePolicy.from_rules(self.lifecycle_rules())
        except MeetingStorageError:  # e.g. a server without lifecycle support
            policy = None
        return self.default_usage(policy)

    def default_usage(self, policy: lifecycle.LifecyclePolicy | None) -> Usage:
        """The design document's example, with this bucket's index backend, transcriber,
        extractor and lifecycle `policy` (None: the bucket has none)."""
        usage = Usage(
            dynamodb=self.settings.index_backend == "dynamodb",
            transcribe=self.transcriber is not None and self.transcriber.name == TRANSCRIBER_AWS,
            bedrock=self.extractor.method == METHOD_BEDROCK,
            bedrock_model_id=self.settings.bedrock_model_id or DEFAULT_BEDROCK_MODEL,
        )
        if policy is None:
            return usage
        return replace(
            usage,
            lifecycle=True,
            archive_days=policy.archive_days,
            archive_storage_class=policy.archive_storage_class,
            retention_days=policy.expire_days,
        )

    # ----------------------------------------------------------------- lifecycle and hardening

    def lifecycle_rules(self) -> list[dict[str, Any]]:
        return lifecycle.read_rules(self.audio.client, self.settings.bucket)

    def apply_lifecycle(
        self, policy: lifecycle.LifecyclePolicy, *, dry_run: bool = False
    ) -> lifecycle.LifecycleChange:
        """Write `policy`'s rules (keeping rules this package did not write)."""
        policy.validate()
        before = self.lifecycle_rules()
        after = lifecycle.merge_rules(before, policy)
        if not dry_run:
            lifecycle.write_rules(self.audio.client, self.settings.bucket, after)
        return lifecycle.LifecycleChange(
            policy=policy, before=before, after=after, applied=not dry_run
        )

    def bucket_state(self) -> hardening.BucketState:
        return hardening.read_state(self.audio.client, self.settings.bucket)

    def harden_bucket(self, *, dry_run: bool = False) -> hardening.HardeningReport:
        """Turn on versioning, default encryption and the public access block where missing."""
        return hardening.harden(self.audio.client, self.settings.bucket, dry_run=dry_run)

    def migrate_folder(
        self,
        folder: Path,
        *,
        dry_run: bool = False,
        verify: bool = False,
        delete_local: bool = False,
        progress: Progress | None = None,
    ) -> migrate.MigrationReport:
        """Import an uploads/ folder (see migrate.py): idempotent, resumable, verifiable."""
        return migrate.migrate(
            self,
            folder,
            dry_run=dry_run,
            verify=verify,
            delete_local=delete_local,
            progress=progress,
        )

    # ----------------------------------------------------------------- archived audio

    def audio_archive(self, meeting_id: str) -> ArchiveStatus:
        record = self.get_record(meeting_id)
        if not record.audio_s3_key:
            raise NotFoundError(f"Meeting {meeting_id} has no audio.")
        info = self.audio.head(record.audio_s3_key)
        if info is None:
            raise NotFoundError(f"The audio of {meeting_id} is missing from the bucket.")
        return archive.archive_status(info.storage_class, info.restore)

    def restore_audio(
        self,
        meeting_id: str,
        *,
        days: int = archive.DEFAULT_RESTORE_DAYS,
        tier: str = archive.DEFAULT_RESTORE_TIER,
    ) -> archive.RestoreResult:
        """Ask S3 for a temporary copy of archived audio (RestoreObject); see its progress
        with `audio_archive` or `get_meeting`."""
        record = self.get_record(meeting_id)
        if not record.audio_s3_key:
            raise NotFoundError(f"Meeting {meeting_id} has no audio.")
        info = self.audio.head(record.audio_s3_key)
        if info is None:
            raise NotFoundError(f"The audio of {meeting_id} is missing from the bucket.")
        request = archive.restore_request(info.storage_class, days, tier)
        started = self.audio.restore(record.audio_s3_key, request)
        after = self.audio.head(record.audio_s3_key) or info
        return archive.RestoreResult(
            meeting_id=meeting_id,
            requested=started,
            days=days,
            tier=tier,
            status=archive.archive_status(after.storage_class, after.restore),
            estimated_cost_usd=archive.restore_cost(
                self.prices, info.storage_class, tier, info.size
            ),
        )

    # ----------------------------------------------------------------- recently deleted

    def _require_versioned_documents(self) -> None:
        if not self.settings.store_in_s3:
            raise ConfigurationError(
                "Restoring deleted meetings needs the documents in S3 (STORE_IN_S3=true)."
            )
        if self.audio.versioning_status() == "Disabled":
            raise ConfigurationError(
                f"Versioning is off for s3://{self.settings.bucket}, so deleted meetings cannot "
                "be restored; `bucket harden` turns it on for future deletes."
            )

    def recently_deleted(self, within_days: int = RECENTLY_DELETED_DAYS) -> list[DeletedMeeting]:
        """Meetings deleted (not purged) in the last `within_days` days, newest first."""
        if not 1 <= within_days <= lifecycle.MAX_DAYS:
            raise InvalidInputError(f"days must be from 1 to {lifecycle.MAX_DAYS}.")
        self._require_versioned_documents()
        cutoff = datetime.now(UTC) - timedelta(days=within_days)
        by_key: dict[str, list[VersionInfo]] = {}
        for version in self.audio.iter_versions(layout.TRANSCRIPTIONS_PREFIX):
            if version.key.endswith("/" + layout.METADATA_FILE):
                by_key.setdefault(version.key, []).append(version)
        found = []
        for key, versions in by_key.items():
            latest = next((v for v in versions if v.is_latest), None)
            if latest is None or not latest.delete_marker:
                continue
            if latest.last_modified is None or latest.last_modified < cutoff:
                continue
            record = self._last_record_version(key, versions)
            if record is not None:
                found.append(DeletedMeeting(record=record, deleted_at=latest.last_modified))
        return sorted(found, key=lambda m: m.deleted_at, reverse=True)

    def undelete(self, meeting_id: str) -> MeetingRecord:
        """Bring back a deleted meeting from a versioned bucket: remove the delete markers of
        its audio and files, restore metadata.json's status, and list it again."""
        layout.validate_meeting_id(meeting_id)
        self._require_versioned_documents()
        metadata = layout.metadata_key(meeting_id)
        versions = list(self.audio.iter_versions(layout.meeting_prefix(meeting_id)))
        metadata_versions = [v for v in versions if v.key == metadata]
        latest = next((v for v in metadata_versions if v.is_latest), None)
        if latest is not None and not latest.delete_marker:
            current = self._read_record(meeting_id)
            if current is not None and current.status != STATUS_DELETING:
                raise InvalidInputError(f"Meeting {meeting_id} is not deleted.")
        record = self._last_record_version(metadata, metadata_versions)
        if record is None:
            raise NotFoundError(
                f"Meeting {meeting_id} cannot be restored: no earlier version of it is left "
                "(purged, or removed by the lifecycle rule after the recently-deleted window)."
            )
        if record.audio_s3_key and layout.is_audio_key(record.audio_s3_key):
            versions += [
                v
                for v in self.audio.iter_versions(record.audio_s3_key)
                if v.key == record.audio_s3_key
            ]
        # Latest delete markers only: removing one makes the version beneath current again.
        self.audio.delete_versions([v for v in versions if v.is_latest and v.delete_marker])
        blob = self.documents.get(metadata)
        restored = replace(record, status=self._status_before_delete(metadata_versions))
        self.documents.put(
            metadata, _json_bytes(restored.to_dict()), "application/json", if_match=blob.etag
        )
        summary = _json_or(self._read_document(meeting_id, layout.SUMMARY_FILE), {})
        requirements = _json_or(self._read_document(meeting_id, layout.REQUIREMENTS_FILE), [])
        transcript = self._read_document(meeting_id, layout.TRANSCRIPTION_FILE)
        warning = self._list(
            restored,
            search_text_of(
                Summary.from_json(summary),
                requirements_from_json(requirements),
                transcript.decode("utf-8", "replace"),
            ),
        )
        if warning:
            raise BackendUnavailableError(warning)
        return restored

    def _last_record_version(self, key: str, versions: list[VersionInfo]) -> MeetingRecord | None:
        """The newest readable record among the object versions (delete markers skipped)."""
        candidates = sorted(
            (v for v in versions if not v.delete_marker),
            key=lambda v: v.last_modified or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        for version in candidates:
            record = _record_or_none(self.audio.get_version(key, version.version_id).data)
            if record is not None:
                return record
        return None

    def _status_before_delete(self, versions: list[VersionInfo]) -> str:
        """The status metadata.json had before `delete` marked it as deleting."""
        candidates = sorted(
            (v for v in versions if not v.delete_marker),
            key=lambda v: v.last_modified or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        for version in candidates:
            record = _record_or_none(self.audio.get_version(version.key, version.version_id).data)
            if record is not None and record.status != STATUS_DELETING:
                return record.status
        return STATUS_COMPLETE

    # ----------------------------------------------------------------- internals

    def _read_record(self, meeting_id: str) -> MeetingRecord | None:
        blob = self._get_optional(layout.metadata_key(meeting_id))
        if blob is None:
            return None
        record = _record_or_none(blob.data)
        if record is None:
            raise InvalidInputError(
                f"metadata.json of {meeting_id} is damaged; run `doctor` for details."
            )
        return record

    def _get_optional(self, key: str) -> Any:
        try:
            return self.documents.get(key)
        except NotFoundError:
            return None

    def _read_document(self, meeting_id: str, name: str) -> bytes:
        blob = self._get_optional(layout.meeting_file_key(meeting_id, name))
        return b"" if blob is None else bytes(blob.data)

    def _local_copy_path(self, audio_key: str) -> Path | None:
        if self.settings.skip_local_storage:
            return None
        return self.settings.uploads_dir / audio_key.removeprefix(layout.AUDIO_PREFIX)

    def _remove_local_copy(self, audio_key: str) -> list[str]:
        path = self._local_copy_path(audio_key)
        if path is not None and path.is_file():
            path.unlink()
            return [str(path)]
        return []

    def check_bucket(self) -> None:
        """Raise a typed error unless the bucket is reachable with these credentials."""
        try:
            self.audio.client.head_bucket(Bucket=self.settings.bucket)
        except Exception as exc:
            raise translate_boto_error(exc, bucket=self.settings.bucket, action="reach") from exc


def _same_family(extension: str) -> set[str]:
    return {
        "m4a": {"mp4", "aac"},
        "mp4": {"m4a", "m4v", "mov"},
        "ogg": {"oga", "opus"},
        "webm": {"mkv", "weba"},
    }.get(extension, set())


def _ascii_header(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii")


def _user_text(value: str, what: str) -> str:
    """A title or tag as stored: trimmed, and refused if it cannot be written as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"The {what} contains characters that are not valid text.") from exc
    return value.strip()


AWAITING_EXTRACTION = Extraction(summary=Summary(), method="none")


def _with_model_usage(record: MeetingRecord, usage: ModelUsage | None) -> MeetingRecord:
    """The record with `usage`'s tokens added to the Bedrock tokens it already has. Tokens of
    another model are not added up: the fields then describe the latest model's calls."""
    if usage is None:
        return record
    same_model = record.bedrock_model_id == usage.model_id
    earlier_input = (record.bedrock_input_tokens or 0) if same_model else 0
    earlier_output = (record.bedrock_output_tokens or 0) if same_model else 0
    return replace(
        record,
        bedrock_model_id=usage.model_id,
        bedrock_input_tokens=earlier_input + usage.input_tokens,
        bedrock_output_tokens=earlier_output + usage.output_tokens,
    )


def _with_extraction(record: MeetingRecord, text: str, extraction: Extraction) -> MeetingRecord:
    return replace(
        record,
        action_items_count=len(extraction.action_items),
        requirements_count=len(extraction.requirements),
        extraction_method=extraction.method,
        bedrock_used=extraction.bedrock_used,
        transcript_chars=len(text),
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def _json_or(data: bytes, default: Any) -> Any:
    try:
        return json.loads(data) if data else default
    except ValueError:
        return default


def _record_or_none(data: bytes) -> MeetingRecord | None:
    try:
        return MeetingRecord.from_dict(json.loads(data))
    except (ValueError, MeetingStorageError):
        return None


def open_storage(settings: Settings | None = None) -> MeetingStorage:
    """The storage service for the configured settings (reads .env when none are given)."""
    from meeting_storage.core.settings import load_settings

    try:
        return MeetingStorage(settings or load_settings())
    except MeetingStorageError:
        raise
    except Exception as exc:  # a broken AWS profile or config file, for example
        raise ConfigurationError(f"Cannot set up the AWS client: {exc}") from exc
