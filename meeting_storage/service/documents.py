"""A meeting's documents: the one reader and writer of the files under transcriptions/{id}/.

transcription.txt, summary.json, requirements.json and metadata.json (the meeting's record and
the source of truth) are read and written here, in the documents' store (S3, or a local
folder with STORE_IN_S3=false). A missing file reads as nothing; a file that is not valid
JSON reads as empty; a damaged metadata.json is told apart from a missing one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from meeting_storage.analysis import Extraction
from meeting_storage.core import layout
from meeting_storage.core.analysis import (
    Requirement,
    Summary,
    requirements_from_json,
    requirements_to_json,
)
from meeting_storage.core.errors import InvalidInputError, MeetingStorageError, NotFoundError
from meeting_storage.core.models import MeetingRecord
from meeting_storage.storage.blobs import Blob, BlobStore, ObjectInfo

READ_WORKERS = 8
JSON = "application/json"
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoredRecord:
    """metadata.json as stored: its record (None when damaged) and the ETag to write it back."""

    record: MeetingRecord | None
    etag: str


@dataclass(frozen=True)
class MeetingAnalysis:
    """What was said and what was found in it."""

    transcript: str = ""
    summary: Summary = field(default_factory=Summary)
    requirements: tuple[Requirement, ...] = ()


def record_from_bytes(data: bytes) -> MeetingRecord | None:
    """A metadata.json's record, or None when it cannot be read as one."""
    try:
        return MeetingRecord.from_dict(json.loads(data))
    except (ValueError, MeetingStorageError):
        return None


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode()


def _analysis_files(text: str, extraction: Extraction) -> list[tuple[str, bytes, str]]:
    return [
        (layout.TRANSCRIPTION_FILE, text.encode(), "text/plain; charset=utf-8"),
        (layout.SUMMARY_FILE, json_bytes(extraction.summary.to_json()), JSON),
        (layout.REQUIREMENTS_FILE, json_bytes(requirements_to_json(extraction.requirements)), JSON),
    ]


def analysis_bytes(text: str, extraction: Extraction) -> int:
    """The bytes `write_analysis` writes for this analysis (its three files)."""
    return sum(len(data) for _, data, _ in _analysis_files(text, extraction))


def metadata_bytes(record: MeetingRecord) -> int:
    """The size of this record's metadata.json."""
    return len(json_bytes(record.to_dict()))


def with_sizes(record: MeetingRecord, analysis: int) -> MeetingRecord:
    """The record holding the size of its meeting's documents: the analysis files plus its own
    metadata.json, whose size depends on the number written into it (a fixed point, found in
    two or three steps)."""
    sized = replace(record, document_objects=len(layout.MEETING_FILES))
    for _ in range(8):
        total = analysis + metadata_bytes(sized)
        if sized.document_bytes == total:
            return sized
        sized = replace(sized, document_bytes=total)
    return sized  # pragma: no cover - the size settles after at most a digit more


def resized(before: MeetingRecord, after: MeetingRecord) -> MeetingRecord:
    """`after` (a change of metadata.json only) with its sizes brought up to date."""
    if before.document_bytes is None:
        return after
    return with_sizes(after, before.document_bytes - metadata_bytes(before))


def _json_or(data: bytes | None, default: Any) -> Any:
    try:
        value = json.loads(data) if data else default
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


class MeetingDocuments:
    """Reads and writes the files of each meeting in `store`."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    @property
    def location(self) -> str:
        return self.store.location

    # ------------------------------------------------------------- metadata.json

    def read_stored(self, meeting_id: str) -> StoredRecord | None:
        """metadata.json with its ETag, or None when there is none."""
        blob = self._get(layout.metadata_key(meeting_id))
        if blob is None:
            return None
        return StoredRecord(record_from_bytes(blob.data), blob.etag)

    def read_record(self, meeting_id: str) -> MeetingRecord | None:
        """The meeting's record, None when there is none; InvalidInputError when damaged."""
        stored = self.read_stored(meeting_id)
        if stored is None:
            return None
        if stored.record is None:
            raise InvalidInputError(
                f"metadata.json of {meeting_id} is damaged; run `doctor` for details."
            )
        return stored.record

    def is_damaged(self, meeting_id: str) -> bool:
        """True when metadata.json exists but is not a record of this meeting."""
        stored = self.read_stored(meeting_id)
        if stored is None:
            return False  # gone (deleted since it was listed)
        return stored.record is None or stored.record.meeting_id != meeting_id

    def write_record(
        self, record: MeetingRecord, *, if_none_match: bool = False, if_match: str | None = None
    ) -> str:
        """Write metadata.json (refusing to overwrite, or to overwrite a changed one)."""
        return self.store.put(
            layout.metadata_key(record.meeting_id),
            json_bytes(record.to_dict()),
            JSON,
            if_none_match=if_none_match,
            if_match=if_match,
        )

    def iter_records(self, progress: Progress | None = None) -> Iterator[MeetingRecord]:
        """Every meeting's readable metadata.json, read in parallel (one GET per meeting)."""
        keys = [
            info.key
            for info in self.files()
            if info.key.endswith("/" + layout.METADATA_FILE)
            and layout.meeting_id_from_key(info.key) is not None
        ]
        done = 0
        with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
            for blob in pool.map(self._get, keys):
                done += 1
                if progress is not None:
                    progress(done, len(keys))
                record = record_from_bytes(blob.data) if blob is not None else None
                if record is not None:
                    yield record

    # ------------------------------------------------------------- the analysis

    def write_analysis(self, meeting_id: str, text: str, extraction: Extraction) -> list[str]:
        """Write transcription.txt, summary.json and requirements.json; return their keys."""
        written = []
        for name, data, kind in _analysis_files(text, extraction):
            key = layout.meeting_file_key(meeting_id, name)
            written.append(key)
            self.store.put(key, data, kind)
        return written

    def read_transcript(self, meeting_id: str) -> str | None:
        """transcription.txt, or None when it is missing."""
        data = self._read(meeting_id, layout.TRANSCRIPTION_FILE)
        return None if data is None else data.decode("utf-8", "replace")

    def read_summary(self, meeting_id: str) -> Summary:
        return Summary.from_json(_json_or(self._read(meeting_id, layout.SUMMARY_FILE), {}))

    def read_requirements(self, meeting_id: str) -> tuple[Requirement, ...]:
        return requirements_from_json(
            _json_or(self._read(meeting_id, layout.REQUIREMENTS_FILE), [])
        )

    def read_analysis(self, meeting_id: str) -> MeetingAnalysis:
        """The transcript, summary and requirements, read in parallel."""
        with ThreadPoolExecutor(max_workers=3) as pool:
            transcript = pool.submit(self.read_transcript, meeting_id)
            summary = pool.submit(self.read_summary, meeting_id)
            requirements = pool.submit(self.read_requirements, meeting_id)
            return MeetingAnalysis(
                transcript=transcript.result() or "",
                summary=summary.result(),
                requirements=requirements.result(),
            )

    # ------------------------------------------------------------- folders

    def files(self, meeting_id: str | None = None) -> Iterator[ObjectInfo]:
        """The files of one meeting, or of every meeting (a paginated listing)."""
        prefix = (
            layout.TRANSCRIPTIONS_PREFIX
            if meeting_id is None
            else layout.meeting_prefix(meeting_id)
        )
        return self.store.iter_objects(prefix)

    def delete_files(self, keys: Sequence[str], *, purge: bool = False) -> list[str]:
        """Delete files by key; return those that existed (`purge`: old versions too)."""
        return self.store.delete(keys, purge=purge)

    # ------------------------------------------------------------- internals

    def _get(self, key: str) -> Blob | None:
        try:
            return self.store.get(key)
        except NotFoundError:
            return None

    def _read(self, meeting_id: str, name: str) -> bytes | None:
        blob = self._get(layout.meeting_file_key(meeting_id, name))
        return None if blob is None else bytes(blob.data)
