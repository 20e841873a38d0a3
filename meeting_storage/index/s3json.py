"""The S3 JSON index: one compact object in the bucket, updated with optimistic concurrency.

Listing costs one GET however many meetings there are (instead of one GET per
metadata.json). Writers read the object with its ETag and write it back with If-Match
(If-None-Match when it does not exist yet); a writer that loses the race re-reads and
retries, so concurrent uploads never drop each other's entries.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable

from ..blobs import BlobStore
from ..errors import ConflictError, InvalidInputError, NotFoundError
from ..layout import INDEX_KEY
from ..models import MeetingPage, MeetingRecord
from . import DEFAULT_LIMIT, page_of

INDEX_FORMAT_VERSION = 1
MAX_ATTEMPTS = 12

Entries = dict[str, MeetingRecord]


class S3JsonIndex:
    name = "s3json"

    def __init__(self, store: BlobStore, key: str = INDEX_KEY) -> None:
        self.store = store
        self.key = key

    def _read(self) -> tuple[Entries, str | None]:
        try:
            blob = self.store.get(self.key)
        except NotFoundError:
            return {}, None
        try:
            document = json.loads(blob.data)
            entries = {
                meeting_id: MeetingRecord.from_dict(entry)
                for meeting_id, entry in document.get("meetings", {}).items()
            }
        except (ValueError, AttributeError, InvalidInputError) as exc:
            raise InvalidInputError(
                f"The index object {self.store.location}/{self.key} is damaged ({exc}); "
                "run `python -m meeting_storage reindex` to rebuild it from metadata.json files."
            ) from exc
        return entries, blob.etag

    def _write(self, entries: Entries, etag: str | None) -> None:
        document = {
            "version": INDEX_FORMAT_VERSION,
            "meetings": {mid: record.to_dict() for mid, record in sorted(entries.items())},
        }
        data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        self.store.put(
            self.key,
            data,
            "application/json",
            if_none_match=etag is None,
            if_match=etag,
        )

    def _update(self, change: Callable[[Entries], bool]) -> bool:
        """Apply `change` under optimistic concurrency; `change` returns False for "nothing to write"."""
        for attempt in range(MAX_ATTEMPTS):
            entries, etag = self._read()
            if not change(entries):
                return False
            try:
                self._write(entries, etag)
                return True
            except ConflictError:
                # Another writer won; back off with jitter and re-apply on fresh data.
                time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())  # noqa: S311
        raise ConflictError(
            f"The index {self.store.location}/{self.key} kept changing under {MAX_ATTEMPTS} "
            "attempts; try again."
        )

    def put(self, record: MeetingRecord) -> None:
        def change(entries: Entries) -> bool:
            entries[record.meeting_id] = record
            return True

        self._update(change)

    def get(self, meeting_id: str) -> MeetingRecord | None:
        entries, _ = self._read()
        return entries.get(meeting_id)

    def delete(self, meeting_id: str) -> bool:
        def change(entries: Entries) -> bool:
            return entries.pop(meeting_id, None) is not None

        return self._update(change)

    def list(
        self, limit: int = DEFAULT_LIMIT, cursor: str | None = None, search: str | None = None
    ) -> MeetingPage:
        entries, _ = self._read()
        return page_of(entries.values(), limit, cursor, search)

    def ids(self) -> set[str]:
        entries, _ = self._read()
        return set(entries)

    def rebuild(self, records: Iterable[MeetingRecord]) -> int:
        """Replace the index whole. It never parses the old object, so a damaged index is
        repaired too; the ETag condition still refuses to overwrite a concurrent change."""
        fresh = {record.meeting_id: record for record in records}
        for attempt in range(MAX_ATTEMPTS):
            current = self.store.head(self.key)
            try:
                self._write(fresh, current.etag if current is not None else None)
                return len(fresh)
            except ConflictError:
                time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())  # noqa: S311
        raise ConflictError(
            f"The index {self.store.location}/{self.key} kept changing under {MAX_ATTEMPTS} "
            "attempts; try again."
        )
