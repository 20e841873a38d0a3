"""Storing and analysing a meeting: `process`, `attach_transcript`, `analyse`, and what
processing costs (S3 requests, Amazon Transcribe, Bedrock tokens) as recorded in metadata.json.

Write order makes a meeting appear atomically: audio, then transcription/summary/requirements,
then metadata.json with If-None-Match (the meeting now exists), then the index entry (the
meeting is now listed). Any failure before metadata.json removes what this call wrote. A
failed index write is retried and otherwise reported (`ProcessResult.index_warning`), and
the stored meeting is kept: it is complete in S3, `doctor --fix` or `reindex` lists it, and
rolling back could leave a listed meeting without files if the failed write had in fact
landed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import IO

from meeting_storage.analysis import Extraction, Extractor, ModelUsage, Transcript, parse_transcript
from meeting_storage.analysis.kinds import extract_with_kind, normalise_kind
from meeting_storage.analysis.speakers import with_speaker_renamed
from meeting_storage.analysis.transcribe import TRANSCRIBER_AWS, StoredAudio, Transcriber
from meeting_storage.core import layout
from meeting_storage.core.analysis import Summary
from meeting_storage.core.errors import InvalidInputError, MeetingStorageError, NotFoundError
from meeting_storage.core.models import (
    STATUS_AWAITING_TRANSCRIPT,
    STATUS_COMPLETE,
    STATUS_DELETING,
    MeetingRecord,
    ProcessResult,
    utc_now,
)
from meeting_storage.core.retry import retrying
from meeting_storage.costs.llm_prices import openai_price
from meeting_storage.costs.pricing import PriceTable, prices_for
from meeting_storage.costs.processing import analysis_cost, audio_upload_requests, processing_cost
from meeting_storage.index import MeetingIndex
from meeting_storage.index.aggregates import LOCAL, STANDARD, AggregateStore, difference
from meeting_storage.index.document import SearchText, search_text_of, with_action_item_facts
from meeting_storage.index.s3json import S3JsonIndex
from meeting_storage.service.documents import (
    MeetingDocuments,
    StoredRecord,
    analysis_bytes,
    with_sizes,
)
from meeting_storage.service.uploads import AudioUploads

log = logging.getLogger(__name__)

INDEX_ATTEMPTS = 3
# The steps `process` reports to its `on_step` callback, in order; a step that does not
# apply (no recording to upload, no transcript to analyse) is not reported.
PROCESS_STEPS = ("upload", "transcription", "extraction", "saving")
StepCallback = Callable[[str], None]


def list_in_index(
    index: MeetingIndex,
    record: MeetingRecord,
    search_text: SearchText,
    totals: AggregateStore | None = None,
    *,
    previous: MeetingRecord | None = None,
    documents_class: str = STANDARD,
) -> str | None:
    """Put the index entry, retrying; on failure the meeting stays stored and the returned
    warning says how to list it (never a listed meeting without its files). With `totals`,
    the store's running totals change by the difference from `previous`, the record the
    entry replaces (None: the meeting was not listed)."""
    try:
        retrying(lambda: index.put(record, search_text), attempts=INDEX_ATTEMPTS)
    except Exception as exc:  # the meeting is stored whatever went wrong; say how to list it
        if isinstance(exc, MeetingStorageError):
            reason = exc.message
        else:  # a bug in an index backend: logged with its traceback
            log.exception("Writing the index entry of %s failed unexpectedly", record.meeting_id)
            reason = repr(exc)
        return (
            f"Meeting {record.meeting_id} is stored but not listed yet: the index "
            f"({index.describe()}) refused the entry {INDEX_ATTEMPTS} times ({reason}). "
            "Run `python -m meeting_storage doctor --fix` (or `reindex`) to list it."
        )
    if totals is not None:
        count(totals, difference(record, previous, documents_class=documents_class))
    return None


def count(totals: AggregateStore, delta: dict[str, int]) -> None:
    """Change the running totals; a failure leaves them behind (logged), never the write:
    the reconciliation (`doctor --fix`, `footprint reconcile`) brings them up to date."""
    try:
        totals.add(delta)
    except Exception:  # the meeting is stored and listed whatever happened to the totals
        log.exception("Updating the store's totals (%s) failed", totals.describe())


class MeetingProcessing(AudioUploads):
    """The storing and analysing part of `MeetingStorage`."""

    meeting_documents: MeetingDocuments
    index: MeetingIndex
    extractor: Extractor
    transcriber: Transcriber | None
    transcriber_choice: str
    aggregates: AggregateStore

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
        kind: str | None = None,
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
        happen is not reported). `kind` (stand-up, retro, ...: analysis/kinds.py) shapes the
        summary's sections; without it the kind is detected from the names and the wording.
        """

        def step(name: str) -> None:
            if on_step is not None:
                on_step(name)

        self.authorize("meeting.process")

        if audio_file is not None and audio_s3_key is not None:
            raise InvalidInputError("Give either an audio file or an audio S3 key, not both.")
        if text is None and audio_file is None and audio_s3_key is None:
            raise InvalidInputError("Give a transcript, a recording, or both.")
        kind = normalise_kind(kind)
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
                uploaded = self._upload_audio(audio_file, audio_filename or filename or "recording")
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
                extract_with_kind(self.extractor, transcript, kind, title, filename)
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
                kind=extraction.summary.kind or kind,
                uploaded_by=self.principal.email.strip().lower(),
            )
            record = _with_model_usage(record, extraction.model_usage)
            text = transcript.text if transcript is not None else ""
            record = _with_extraction(record, text, extraction)
            record = with_action_item_facts(record, extraction.summary)
            record = with_sizes(record, analysis_bytes(text, extraction))
            # Listed before writing so a failure half-way still removes what was written.
            written_documents += [
                layout.meeting_file_key(meeting_id, name) for name in layout.MEETING_FILES[:3]
            ]
            self.meeting_documents.write_analysis(meeting_id, text, extraction)
            written_documents.append(layout.metadata_key(meeting_id))
            self.meeting_documents.write_record(record, if_none_match=True)
        except BaseException as exc:
            self._audit_failure("meeting.process", meeting_id, exc)
            # Undo this call's writes so no half meeting remains; a retry starts clean.
            with contextlib.suppress(Exception):
                self.meeting_documents.delete_files(list(reversed(written_documents)))
            if written_audio is not None:
                with contextlib.suppress(Exception):
                    self.audio.delete([written_audio])
                    self._remove_local_copy(written_audio)
            raise
        # The meeting exists now; listing it is the last step (see the module docstring).
        search_text = search_text_of(extraction.summary, extraction.requirements, text)
        warning = self._list(record, search_text)
        self.audit("meeting.process", meeting_id, _process_details(record, warning))
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
            if isinstance(exc, MeetingStorageError):
                reason = exc.message
            else:  # a bug in a transcriber: logged with its traceback, the upload still kept
                log.exception("Transcription (%s) failed unexpectedly", self.transcriber.name)
                reason = repr(exc)
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
        stored = self.meeting_documents.read_stored(meeting_id)
        current = stored.record if stored is not None else None
        if stored is None or current is None or current.status == STATUS_DELETING:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        if not self.can_see(current):
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        self.authorize("meeting.attach_transcript", current)
        with self.audited("meeting.attach_transcript", meeting_id) as scope:
            result = self._attach(stored, current, transcript)
            scope.details.update(_process_details(result.record, result.index_warning))
        return result

    def _attach(
        self, stored: StoredRecord, current: MeetingRecord, transcript: Transcript
    ) -> ProcessResult:
        meeting_id = current.meeting_id
        extraction = extract_with_kind(
            self.extractor, transcript, current.kind, current.title, current.filename
        )
        attach_cost = self._processing_cost(None, None, extraction.model_usage)
        text = transcript.text
        # Names given to the speakers before still apply to the new transcript.
        for label, name in current.speaker_names.items():
            text, extraction = with_speaker_renamed(text, extraction, label, name)
        completed = replace(
            current,
            kind=extraction.summary.kind,
            status=STATUS_COMPLETE,
            transcribed_by=None,
            notes=(*extraction.notes, *self._cost_notes(extraction.model_usage)),
            duration_seconds=current.duration_seconds or transcript.duration_seconds,
            processing_cost_usd=self._stored_cost(current) + attach_cost,
        )
        completed = _with_model_usage(completed, extraction.model_usage)
        record = _with_extraction(completed, text, extraction)
        record = with_action_item_facts(record, extraction.summary)
        record = with_sizes(record, analysis_bytes(text, extraction))
        self.meeting_documents.write_analysis(meeting_id, text, extraction)
        self.meeting_documents.write_record(record, if_match=stored.etag)
        warning = self._list(
            record,
            search_text_of(extraction.summary, extraction.requirements, text),
            previous=current,  # metadata.json as it was: what the entry held
        )
        return ProcessResult(
            record=record,
            summary=extraction.summary,
            requirements=extraction.requirements,
            index_warning=warning,
        )

    def _list(
        self,
        record: MeetingRecord,
        search_text: SearchText,
        previous: MeetingRecord | None = None,
    ) -> str | None:
        return list_in_index(
            self.index,
            record,
            search_text,
            self.aggregates,
            previous=previous,
            documents_class=self.documents_class,
        )

    @property
    def documents_class(self) -> str:
        """The storage class the documents' objects count under in the totals."""
        return STANDARD if self.settings.store_in_s3 else LOCAL

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
        (None: it did not transcribe) and the model tokens of `model_usage` (Bedrock's from its
        price table, another model's where costs/llm_prices.py knows its price)."""
        bedrock = model_usage if model_usage and model_usage.provider == "bedrock" else None
        analysis = analysis_cost(
            self.prices,
            transcribed_seconds=transcribed_seconds,
            bedrock_model_id=bedrock.model_id if bedrock else None,
            input_tokens=bedrock.input_tokens if bedrock else 0,
            output_tokens=bedrock.output_tokens if bedrock else 0,
            bedrock_prices=self.bedrock_prices,
        )
        if model_usage is not None and bedrock is None:
            price = openai_price(model_usage.model_id)
            if price is not None:
                analysis += price.cost(model_usage.input_tokens, model_usage.output_tokens)
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
        """A note when the recorded processing cost has to leave the model's tokens out."""
        if model_usage is not None and model_usage.provider != "bedrock":
            if openai_price(model_usage.model_id) is not None:
                return []
            return [
                f"The processing cost leaves out the {model_usage.input_tokens} input and "
                f"{model_usage.output_tokens} output tokens of {model_usage.model_id}: no price "
                "is known for it (a model you run yourself costs nothing per token)."
            ]
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
    another model are not added up: the fields then describe the latest model's calls. Tokens
    of a model outside Bedrock are recorded in summary.json's "extraction" instead."""
    if usage is None or usage.provider != "bedrock":
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


def _process_details(record: MeetingRecord, index_warning: str | None) -> dict[str, object]:
    """What the audit trail says about a stored meeting (names and numbers, no content)."""
    details: dict[str, object] = {
        "filename": record.filename,
        "status": record.status,
        "extraction_method": record.extraction_method,
    }
    if record.title:
        details["title"] = record.title
    if index_warning:
        details["index_warning"] = index_warning
    return details
