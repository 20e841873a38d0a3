"""Recently deleted meetings in a versioned bucket, and bringing one back (`undelete`).

A delete leaves delete markers over the meeting's files; within RECENTLY_DELETED_DAYS (how
long the lifecycle policy keeps deleted versions by default) the versions beneath them can be
made current again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from meeting_storage.core import layout
from meeting_storage.core.errors import (
    BackendUnavailableError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
)
from meeting_storage.core.models import (
    STATUS_COMPLETE,
    STATUS_DELETING,
    DeletedMeeting,
    MeetingRecord,
)
from meeting_storage.core.settings import Settings
from meeting_storage.index import MeetingIndex
from meeting_storage.index.aggregates import STANDARD, AggregateStore
from meeting_storage.index.document import search_text_of
from meeting_storage.service.access import AccessControl
from meeting_storage.service.documents import MeetingDocuments, record_from_bytes, resized
from meeting_storage.service.processing import list_in_index
from meeting_storage.storage.blobs import S3BlobStore, VersionInfo

RECENTLY_DELETED_DAYS = 30
MAX_DAYS = 36500  # a hundred years: the longest window S3 lifecycle rules are given here


class DeletedMeetings(AccessControl):
    """The recently-deleted part of `MeetingStorage`."""

    settings: Settings
    audio: S3BlobStore
    meeting_documents: MeetingDocuments
    index: MeetingIndex
    aggregates: AggregateStore

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
        if not 1 <= within_days <= MAX_DAYS:
            raise InvalidInputError(f"days must be from 1 to {MAX_DAYS}.")
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
            if record is not None and self.can_see(record):
                found.append(DeletedMeeting(record=record, deleted_at=latest.last_modified))
        return sorted(found, key=lambda m: m.deleted_at, reverse=True)

    def undelete(self, meeting_id: str) -> MeetingRecord:
        """Bring back a deleted meeting from a versioned bucket: remove the delete markers of
        its audio and files, restore metadata.json's status, and list it again."""
        layout.validate_meeting_id(meeting_id)
        self.authorize("meeting.undelete", meeting_id=meeting_id)
        with self.audited("meeting.undelete", meeting_id):
            return self._undelete(meeting_id)

    def _undelete(self, meeting_id: str) -> MeetingRecord:
        self._require_versioned_documents()
        metadata = layout.metadata_key(meeting_id)
        versions = list(self.audio.iter_versions(layout.meeting_prefix(meeting_id)))
        metadata_versions = [v for v in versions if v.key == metadata]
        latest = next((v for v in metadata_versions if v.is_latest), None)
        if latest is not None and not latest.delete_marker:
            current = self.meeting_documents.read_record(meeting_id)
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
        stored = self.meeting_documents.read_stored(meeting_id)
        if stored is None:
            raise NotFoundError(f"s3://{self.settings.bucket}/{metadata} does not exist.")
        restored = resized(
            record, replace(record, status=self._status_before_delete(metadata_versions))
        )
        self.meeting_documents.write_record(restored, if_match=stored.etag)
        analysis = self.meeting_documents.read_analysis(meeting_id)
        warning = list_in_index(
            self.index,
            restored,
            search_text_of(analysis.summary, analysis.requirements, analysis.transcript),
            self.aggregates,
            documents_class=STANDARD,  # undelete needs the documents in a versioned bucket
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
            record = record_from_bytes(self.audio.get_version(key, version.version_id).data)
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
            record = record_from_bytes(self.audio.get_version(version.key, version.version_id).data)
            if record is not None and record.status != STATUS_DELETING:
                return record.status
        return STATUS_COMPLETE
