"""The facade the CLI, the dashboard and the REST API call: store, list, show, play, delete.

`MeetingStorage` is the one entry to the service. It holds the parts a store is made of (the
recordings' bucket, the meetings' documents, the index, the analysis) and does the reading
and deleting itself; storing and analysing (`processing.py`), uploads (`uploads.py`) and
recently deleted meetings (`versions.py`) are its other parts. Operations on the whole store
(doctor, reindex, migrate, lifecycle, hardening, the cost review) live in meeting_storage/ops
and take a `MeetingStorage`.

Deletion runs opposite to storing (see processing.py): mark metadata.json as deleting, drop
the index entry (no longer listed), delete the files, delete metadata.json last, so an
interrupted delete is finished by running it again (or by `doctor --fix`) and never loses
what it needs to do so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from meeting_storage.analysis import Extractor
from meeting_storage.analysis.backends import make_extractor, make_transcriber
from meeting_storage.analysis.transcribe import Transcriber
from meeting_storage.core import layout
from meeting_storage.core.access import LOCAL_OPERATOR, AuditEvent
from meeting_storage.core.errors import (
    ConfigurationError,
    InvalidInputError,
    MeetingStorageError,
    NotFoundError,
)
from meeting_storage.core.models import (
    STATUS_DELETING,
    ArchiveStatus,
    DeletionReport,
    Meeting,
    MeetingPage,
    MeetingRecord,
    StorageFootprint,
    utc_now,
)
from meeting_storage.core.retry import retrying
from meeting_storage.core.settings import Settings
from meeting_storage.costs.footprint import Footprint
from meeting_storage.index import DEFAULT_LIMIT, MAX_LIMIT, MeetingIndex, validate_limit
from meeting_storage.index.aggregates import (
    MEETINGS,
    AggregateStore,
    Counters,
    aggregates_for,
    difference,
)
from meeting_storage.index.factory import make_index
from meeting_storage.index.query import MeetingFilter, uploader_key
from meeting_storage.service import footprint
from meeting_storage.service.access import AuditTrail
from meeting_storage.service.documents import MeetingDocuments, StoredRecord
from meeting_storage.service.footprint import StoredSummary
from meeting_storage.service.jobs import MeetingJobs
from meeting_storage.service.processing import (
    INDEX_ATTEMPTS,
    PROCESS_STEPS,
    count,
)
from meeting_storage.service.speakers import SpeakerNaming
from meeting_storage.service.tokens import ApiTokens, TokenStore
from meeting_storage.service.uploads import presign_seconds
from meeting_storage.service.versions import RECENTLY_DELETED_DAYS, DeletedMeetings
from meeting_storage.storage import archive, inventory
from meeting_storage.storage.aws import AWS_ERRORS, make_s3_client
from meeting_storage.storage.blobs import BlobStore, LocalBlobStore, S3BlobStore
from meeting_storage.storage.bucket import BucketConfiguration

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = ["PROCESS_STEPS", "RECENTLY_DELETED_DAYS", "MeetingStorage", "open_storage"]

Progress = Callable[[int, int], None]


class MeetingStorage(MeetingJobs, DeletedMeetings, SpeakerNaming, ApiTokens):
    """A meeting store: recordings in an S3 bucket, documents in it (or in a local folder),
    an index that lists them, and the analysis that turns transcripts into summaries."""

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
        client = s3_client or make_s3_client(settings)
        self.audio = S3BlobStore(client, settings.bucket)
        self.bucket = BucketConfiguration(client, settings.bucket)
        self.documents: BlobStore = (
            self.audio if settings.store_in_s3 else LocalBlobStore(settings.local_data_dir)
        )
        self.meeting_documents = MeetingDocuments(self.documents)
        self.index: MeetingIndex = index or make_index(settings, self.documents)
        self.aggregates: AggregateStore = aggregates_for(self.index)
        # Where the reconciliation reads an S3 Inventory report (None: it lists the bucket).
        self.inventory_location: tuple[BlobStore, str] | None = None
        if settings.s3_inventory_prefix:
            where, prefix = inventory.split_location(settings.s3_inventory_prefix, settings.bucket)
            store = self.audio if where == settings.bucket else S3BlobStore(client, where)
            self.inventory_location = (store, prefix)
        self.extractor: Extractor = extractor or make_extractor(settings)
        configured, self.transcriber_choice = make_transcriber(settings, self.audio)
        self.transcriber: Transcriber | None = transcriber or configured
        # Who is acting (see acting_as), and where every change is recorded: the bucket.
        self.principal = LOCAL_OPERATOR
        self.audit_trail = AuditTrail(self.audio)
        self.token_store = TokenStore(self.audio)

    def check_bucket(self) -> None:
        """Raise a typed error unless the bucket is reachable with these credentials."""
        self.bucket.head()

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
        only = self.visibility_owner()
        if only is not None:
            # MEETING_VISIBILITY=owner: the index itself lists only the principal's meetings.
            base = filters or MeetingFilter()
            if base.uploaded_by and uploader_key(base.uploaded_by) != uploader_key(only):
                return MeetingPage(meetings=[])
            filters = replace(base, uploaded_by=only)
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
        """How many meetings the index lists (that the acting principal may see)."""
        only = self.visibility_owner()
        if only is None:
            return len(self.index.ids())
        count, cursor = 0, None
        while True:
            page = self.list_meetings(MAX_LIMIT, cursor)
            count += len(page.meetings)
            if page.next_cursor is None:
                return count
            cursor = page.next_cursor

    def get_record(self, meeting_id: str) -> MeetingRecord:
        """The meeting's metadata.json (the source of truth), or NotFoundError."""
        record = self.meeting_documents.read_record(meeting_id)
        if record is None and self.index.get(meeting_id) is not None:
            raise NotFoundError(
                f"Meeting {meeting_id} is listed but no longer in the bucket (expired by the "
                "lifecycle policy, or deleted outside this tool); `doctor --fix` removes it from "
                "the list."
            )
        if record is None or record.status == STATUS_DELETING or not self.can_see(record):
            # A meeting the principal may not see is not found, rather than forbidden: its
            # existence is not theirs to learn either.
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        return record

    def meeting_history(self, meeting_id: str) -> list[AuditEvent]:
        """The meeting's own audit events, newest first, for whoever may open it."""
        self.get_record(meeting_id)
        return self.audit_trail.events(meeting_id=meeting_id)

    def get_meeting(self, meeting_id: str) -> Meeting:
        record = self.get_record(meeting_id)
        analysis = self.meeting_documents.read_analysis(meeting_id)
        audio_url, reason, archive = self._playable_url(record)
        return Meeting(
            record=record,
            transcription=analysis.transcript,
            summary=analysis.summary,
            requirements=analysis.requirements,
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

    def _presign(self, record: MeetingRecord, expires_in: int | None = None) -> str:
        seconds = presign_seconds(self.settings, expires_in)
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
        stored = self.meeting_documents.read_stored(meeting_id)
        record = stored.record if stored is not None else None
        hidden = (
            record is not None and record.status != STATUS_DELETING and not self.can_see(record)
        )
        if hidden or (record is None and not self.principal.is_admin):
            # Only an administrator finishes deleting what has no metadata.json left.
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        self.authorize("meeting.delete", record, meeting_id=meeting_id)
        if purge:
            self.authorize("meeting.purge", record, meeting_id=meeting_id)
        with self.audited("meeting.delete", meeting_id, purge=purge) as scope:
            report = self._delete(meeting_id, stored, purge=purge)
            scope.details["files"] = len(report.deleted)
        return report

    def _delete(
        self, meeting_id: str, stored: StoredRecord | None, *, purge: bool
    ) -> DeletionReport:
        metadata = layout.metadata_key(meeting_id)
        record = stored.record if stored is not None else None
        if stored is not None and record is not None and record.status != STATUS_DELETING:
            marked = replace(record, status=STATUS_DELETING)
            self.meeting_documents.write_record(marked, if_match=stored.etag)
        indexed = retrying(lambda: self.index.get(meeting_id), attempts=INDEX_ATTEMPTS)
        record = record or indexed
        # Unlisted before any file goes: a failure here leaves every file in place.
        index_removed = retrying(lambda: self.index.delete(meeting_id), attempts=INDEX_ATTEMPTS)
        if index_removed and indexed is not None:
            count(self.aggregates, difference(None, indexed, documents_class=self.documents_class))
        document_keys = [info.key for info in self.meeting_documents.files(meeting_id)]
        versioned = self.settings.store_in_s3 and self.audio.versioning_status() != "Disabled"
        if purge and versioned:
            # Older versions and delete markers too, even when no current version is left.
            document_keys = sorted({*document_keys, *layout.meeting_file_keys(meeting_id)})
        if stored is None and not document_keys and indexed is None and not purge:
            raise NotFoundError(f"Meeting {meeting_id} not found.")
        deleted: list[str] = []
        if record is not None and record.audio_s3_key and layout.is_audio_key(record.audio_s3_key):
            deleted += self.audio.delete([record.audio_s3_key], purge=purge)
            deleted += self._remove_local_copy(record.audio_s3_key)
        others = [key for key in document_keys if key != metadata]
        deleted += self.meeting_documents.delete_files(others, purge=purge)
        if metadata in document_keys:
            deleted += self.meeting_documents.delete_files([metadata], purge=purge)
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
        return self.meeting_documents.iter_records(progress)

    def footprint(self, now: datetime | None = None) -> StorageFootprint:
        """Objects and bytes under meetings/, transcriptions/ and index/ (a paginated listing),
        by storage class, and how many were written in the last FOOTPRINT_WINDOW_DAYS days."""
        return footprint.prefix_usage(self.audio, self.documents, now or utc_now())

    def index_entries(self) -> Iterator[MeetingRecord]:
        """Every meeting the index lists (one page of MAX_LIMIT at a time)."""
        cursor: str | None = None
        while True:
            page = self.index.list(MAX_LIMIT, cursor)
            yield from page.meetings
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def detailed_footprint(self) -> Footprint:
        """What the cost review needs: bytes and objects by prefix and storage class, per
        meeting (joined with the index's records), and old versions in a versioned bucket."""
        versioned = self.audio.versioning_status() != "Disabled"
        return footprint.measure(
            self.audio, self.documents, list(self.index_entries()), versioned=versioned
        )

    def stored_totals(self) -> Counters:
        """The running totals (one request): bytes and objects by prefix and storage class,
        meetings, cohorts, and what the last reconciliation counted."""
        return self.aggregates.read()

    def stored_summary(self, now: datetime | None = None) -> StoredSummary:
        """How many meetings and what is stored, from the totals: one request whatever the
        store holds (a listing only while there are no totals yet, as in a new store)."""
        now = now or utc_now()
        counters = self.aggregates.read()
        if not counters:
            measured = self.footprint(now)
            return StoredSummary(
                meetings=self.count_meetings(), usage=measured, reconciled_at=None, counted=False
            )
        locations = {
            layout.AUDIO_PREFIX: self.audio.location,
            layout.TRANSCRIPTIONS_PREFIX: self.documents.location,
            layout.INDEX_PREFIX: self.documents.location,
        }
        return StoredSummary(
            meetings=counters.get(MEETINGS, 0),
            usage=footprint.usage_from_totals(counters, now=now, locations=locations),
            reconciled_at=footprint.reconciled_at(counters),
            counted=True,
        )

    def counted_footprint(self, now: datetime | None = None) -> Footprint:
        """What the cost review needs, in a constant number of requests: the totals, and the
        meetings of the last RECENT_DAYS days one by one (one index page of at most
        MAX_LIMIT). Without totals yet (a new store), the measured `detailed_footprint`."""
        now = now or utc_now()
        counters = self.aggregates.read()
        if not counters:
            return self.detailed_footprint()
        since = now - timedelta(days=footprint.RECENT_DAYS)
        page = self.index.list(MAX_LIMIT, None, None, MeetingFilter(date_from=since))
        return footprint.from_totals(
            counters,
            page.meetings,
            recent_complete=page.next_cursor is None,
            documents_in_s3=self.settings.store_in_s3,
            now=now,
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
        self.authorize("archive.restore", record)
        with self.audited("archive.restore", meeting_id, days=days, tier=tier):
            return self._restore_audio(record, days, tier)

    def _restore_audio(self, record: MeetingRecord, days: int, tier: str) -> archive.RestoreResult:
        meeting_id = record.meeting_id
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


def open_storage(settings: Settings | None = None) -> MeetingStorage:
    """The storage service for the configured settings (reads .env when none are given)."""
    from meeting_storage.core.settings import load_settings

    try:
        return MeetingStorage(settings or load_settings())
    except MeetingStorageError:
        raise
    except AWS_ERRORS as exc:  # a broken AWS profile or config file, for example
        raise ConfigurationError(f"Cannot set up the AWS client: {exc}") from exc
