"""Who is acting on the store, what they may do, and the audit trail of what they did.

`MeetingStorage` acts for one `Principal` (the local operator unless `acting_as` says
otherwise). Every operation that changes something calls `authorize` first, which refuses
with ForbiddenError and records the refused attempt, and `audit` after, which writes one event
as its own small object under audit/YYYY/MM/DD/ (append-only: no object is shared, so
concurrent writers never contend, and deleting a meeting leaves its history in place).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Self

from meeting_storage.core import layout
from meeting_storage.core.access import (
    LOCAL_OPERATOR,
    OUTCOMES,
    AuditEvent,
    Principal,
    allowed,
    can_see,
)
from meeting_storage.core.errors import ForbiddenError, MeetingStorageError
from meeting_storage.core.models import MeetingRecord
from meeting_storage.core.settings import Settings
from meeting_storage.storage.blobs import BlobStore

logger = logging.getLogger(__name__)

_READERS = 16
# What a refusal says the role lacks, per action, in plain words.
_WHAT = {
    "meeting.read": "open this meeting",
    "meeting.upload": "upload meetings",
    "meeting.process": "process meetings",
    "meeting.attach_transcript": "attach transcripts",
    "speakers.rename": "rename speakers",
    "meeting.delete": "delete this meeting",
    "meeting.undelete": "undelete meetings",
    "meeting.purge": "purge meetings",
    "archive.restore": "restore archived audio",
    "lifecycle.apply": "apply lifecycle rules",
    "bucket.harden": "change the bucket's settings",
    "token.manage": "manage API tokens",
    "audit.read": "read the audit trail",
    "store.maintain": "maintain the store",
}


def owner_of(record: MeetingRecord) -> str:
    """Who uploaded the meeting; meetings stored before uploads were recorded count as the
    local operator's."""
    return record.uploaded_by or LOCAL_OPERATOR.email


class AuditTrail:
    """The audit events in the bucket: written one object each, read newest first."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def record(self, event: AuditEvent) -> str:
        key = layout.audit_key(event.at, event.meeting_id)
        body = json.dumps(event.to_dict(), sort_keys=True).encode()
        self.blobs.put(key, body, "application/json", if_none_match=True)
        return key

    def events(
        self,
        since: datetime | None = None,
        meeting_id: str | None = None,
        actor: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """Newest first. The time and the meeting are in each key, so only the events that
        can match are read."""
        wanted: list[tuple[datetime, str]] = []
        for info in self.blobs.iter_objects(layout.AUDIT_PREFIX):
            parsed = layout.parse_audit_key(info.key)
            if parsed is None:
                continue
            at, about = parsed
            if since is not None and at < since:
                continue
            if meeting_id is not None and about != meeting_id:
                continue
            wanted.append((at, info.key))
        wanted.sort(reverse=True)
        keys = [key for _, key in wanted]
        found: list[AuditEvent] = []
        # Read in batches so a limit stops reading early when no actor filter drops events.
        batch = max(limit or 0, 64) if actor is None else 256
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            for start in range(0, len(keys), batch):
                for event in pool.map(self._read, keys[start : start + batch]):
                    if event is None:
                        continue
                    if actor is not None and event.actor.lower() != actor.strip().lower():
                        continue
                    found.append(event)
                if limit is not None and len(found) >= limit:
                    return found[:limit]
        return found

    def _read(self, key: str) -> AuditEvent | None:
        try:
            blob = self.blobs.get(key)
            return AuditEvent.from_dict(json.loads(blob.data))
        except (MeetingStorageError, ValueError):
            logger.warning("Unreadable audit event %s skipped", key)
            return None


def as_datetime(value: datetime | date | None) -> datetime | None:
    """A date means from its first moment (UTC)."""
    if value is None or isinstance(value, datetime):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


@dataclass
class AuditScope:
    """What an audited block learns as it goes: the meeting it made, details to record."""

    meeting_id: str | None
    details: dict[str, object] = field(default_factory=dict)


class AccessControl:
    """The acting principal, the permission check and the audit trail of a MeetingStorage."""

    settings: Settings
    principal: Principal = LOCAL_OPERATOR
    audit_trail: AuditTrail

    def acting_as(self, principal: Principal) -> Self:
        """A view of the same store (same clients, index and analysis) acting for `principal`."""
        view = copy.copy(self)
        view.principal = principal
        return view

    def can(self, action: str, record: MeetingRecord | None = None) -> bool:
        """Whether the acting principal may take `action` (on `record`); checks only."""
        owner = owner_of(record) if record is not None else None
        return allowed(self.principal, action, owner, self.settings)

    def can_see(self, record: MeetingRecord) -> bool:
        """Whether the meeting is visible to the acting principal (MEETING_VISIBILITY)."""
        return can_see(self.principal, owner_of(record), self.settings)

    def visibility_owner(self) -> str | None:
        """The uploader every listing must be limited to, or None when all are visible."""
        if can_see(self.principal, None, self.settings):
            return None
        return self.principal.email

    def authorize(
        self,
        action: str,
        record: MeetingRecord | None = None,
        *,
        meeting_id: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """Raise ForbiddenError (and record the refused attempt) unless the acting principal
        may take `action` on `record` (or on no particular meeting)."""
        if self.can(action, record):
            return
        about = record.meeting_id if record is not None else meeting_id
        self.audit(action, about, details or {}, outcome="forbidden")
        what = _WHAT.get(action, action)
        who = f"{self.principal.email} ({self.principal.role})"
        if record is not None and action == "meeting.delete" and self.principal.role == "editor":
            raise ForbiddenError(
                f"{who} may not {what}: editors delete only the meetings they uploaded; ask an "
                "administrator."
            )
        raise ForbiddenError(
            f"{who} may not {what}; ask an administrator for a role that can (see ADMIN_EMAILS, "
            "EDITOR_EMAILS)."
        )

    def audit(
        self,
        action: str,
        meeting_id: str | None,
        details: Mapping[str, object] | None = None,
        outcome: str = "ok",
    ) -> None:
        """Write one audit event for the acting principal. A failure to write it is logged,
        not raised: the change it records has already happened."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        event = AuditEvent(
            at=datetime.now(UTC),  # to the microsecond: the order of events in a second
            actor=self.principal.email,
            role=str(self.principal.role),
            via=self.principal.via,
            action=action,
            meeting_id=meeting_id,
            details=dict(details or {}),
            outcome=outcome,
        )
        try:
            self.audit_trail.record(event)
        except MeetingStorageError as exc:
            logger.error("Could not write the audit event for %s: %s", action, exc.message)

    @contextlib.contextmanager
    def audited(
        self, action: str, meeting_id: str | None = None, **details: object
    ) -> Iterator[AuditScope]:
        """Write one event for the block: "ok" when it ends, "failed" (with the error's code)
        when it raises. The block may set `scope.meeting_id` and add to `scope.details` as it
        learns them. A ForbiddenError inside was recorded by `authorize` already."""
        scope = AuditScope(meeting_id, dict(details))
        try:
            yield scope
        except ForbiddenError:
            raise
        except BaseException as exc:
            self._audit_failure(action, scope.meeting_id, exc, scope.details)
            raise
        self.audit(action, scope.meeting_id, scope.details)

    def _audit_failure(
        self,
        action: str,
        meeting_id: str | None,
        exc: BaseException,
        details: Mapping[str, object] | None = None,
    ) -> None:
        """Record that `action` failed with `exc` (its error code, never its message, which
        may quote input)."""
        if isinstance(exc, ForbiddenError):
            return
        code = exc.code if isinstance(exc, MeetingStorageError) else type(exc).__name__
        self.audit(action, meeting_id, {**(details or {}), "error": code}, "failed")

    def audit_events(
        self,
        since: datetime | date | None = None,
        meeting_id: str | None = None,
        actor: str | None = None,
        *,
        limit: int | None = None,
    ) -> list[AuditEvent]:
        """The audit trail, newest first (administrators only)."""
        self.authorize("audit.read", meeting_id=meeting_id)
        if meeting_id is not None:
            layout.validate_meeting_id(meeting_id)
        return self.audit_trail.events(as_datetime(since), meeting_id, actor, limit)
