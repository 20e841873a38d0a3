"""Naming a meeting's speakers: `speakers` lists them with suggested names, `rename_speaker`
renames one everywhere (transcript, owners, decisions, sections, search).

The rename rewrites the documents first and metadata.json last with If-Match, like
`attach_transcript`, so a concurrent change is refused (ConflictError) instead of lost. The
mapping {label in the original transcript: name} is kept in metadata.json, so a transcript
attached later gets the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from meeting_storage.analysis import Extraction
from meeting_storage.analysis.speakers import (
    check_name,
    renamed_mapping,
    suggest_names,
    transcript_speakers,
    with_speaker_renamed,
)
from meeting_storage.core.errors import InvalidInputError, NotFoundError
from meeting_storage.core.models import STATUS_DELETING, MeetingRecord, ProcessResult
from meeting_storage.index import MeetingIndex
from meeting_storage.index.aggregates import AggregateStore, documents_class_of
from meeting_storage.index.document import search_text_of, with_action_item_facts
from meeting_storage.service.access import AccessControl
from meeting_storage.service.documents import MeetingDocuments, analysis_bytes, with_sizes
from meeting_storage.service.processing import list_in_index


@dataclass(frozen=True)
class MeetingSpeakers:
    """A meeting's speakers as the transcript names them now, the names given so far
    ({original label: name}) and names suggested from introductions ({label: name})."""

    meeting_id: str
    speakers: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)
    suggestions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id,
            "speakers": list(self.speakers),
            "names": dict(self.names),
            "suggestions": dict(self.suggestions),
        }


class SpeakerNaming(AccessControl):
    """The speaker-naming part of `MeetingStorage`."""

    meeting_documents: MeetingDocuments
    index: MeetingIndex
    aggregates: AggregateStore

    def speakers(self, meeting_id: str) -> MeetingSpeakers:
        record = self._current_record(meeting_id)
        text = self.meeting_documents.read_transcript(meeting_id) or ""
        return MeetingSpeakers(
            meeting_id=meeting_id,
            speakers=tuple(transcript_speakers(text)),
            names=dict(record.speaker_names),
            suggestions=suggest_names(text),
        )

    def rename_speaker(self, meeting_id: str, old: str, new: str) -> ProcessResult:
        """Rename speaker `old` (as the transcript names them now) to `new` throughout."""
        old = check_name(old, "The speaker to rename")
        new = check_name(new)
        stored = self.meeting_documents.read_stored(meeting_id)
        current = stored.record if stored is not None else None
        if stored is None or current is None or current.status == STATUS_DELETING:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        if not self.can_see(current):
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        self.authorize("speakers.rename", current)
        with self.audited("speakers.rename", meeting_id, old=old, new=new):
            return self._rename(stored.etag, current, old, new)

    def _rename(self, etag: str, current: MeetingRecord, old: str, new: str) -> ProcessResult:
        meeting_id = current.meeting_id
        analysis = self.meeting_documents.read_analysis(meeting_id)
        present = transcript_speakers(analysis.transcript)
        if old not in present:
            listed = ", ".join(present) if present else "none (the transcript names no speakers)"
            raise InvalidInputError(
                f"Meeting {meeting_id} has no speaker {old!r}; its speakers are: {listed}."
            )
        if new in present and new != old:
            raise InvalidInputError(
                f"Meeting {meeting_id} already has a speaker {new!r}; choose another name "
                "(two speakers cannot share a name)."
            )
        extraction = Extraction(summary=analysis.summary, requirements=analysis.requirements)
        text, extraction = with_speaker_renamed(analysis.transcript, extraction, old, new)
        record: MeetingRecord = replace(
            current, speaker_names=renamed_mapping(current.speaker_names, old, new)
        )
        record = with_action_item_facts(record, extraction.summary)
        record = with_sizes(record, analysis_bytes(text, extraction))
        self.meeting_documents.write_analysis(meeting_id, text, extraction)
        self.meeting_documents.write_record(record, if_match=etag)
        warning = list_in_index(
            self.index,
            record,
            search_text_of(extraction.summary, extraction.requirements, text),
            self.aggregates,
            previous=current,
            documents_class=documents_class_of(self.meeting_documents.store),
        )
        return ProcessResult(
            record=record,
            summary=extraction.summary,
            requirements=extraction.requirements,
            index_warning=warning,
        )

    def _current_record(self, meeting_id: str) -> MeetingRecord:
        record = self.meeting_documents.read_record(meeting_id)
        if record is None or record.status == STATUS_DELETING or not self.can_see(record):
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        return record
