"""The storage service for the dashboard, and cached reads of it.

One `MeetingStorage` per configuration (st.cache_resource), built again when `.env` or the
environment changes. What pages read often (lists, counts, health, a meeting) is cached
with st.cache_data and a time limit, and `after_write()` clears it after every upload,
transcript or delete, so every page is right immediately after a write.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from meeting_storage import (
    DoctorReport,
    Meeting,
    MeetingPage,
    MeetingRecord,
    MeetingStorage,
    MeetingStorageError,
    Settings,
    load_settings,
    open_storage,
)
from meeting_storage.core.access import AuditEvent
from meeting_storage.core.models import Check, DeletedMeeting, StorageFootprint
from meeting_storage.costs.footprint import Footprint
from meeting_storage.costs.history import usage_from_history
from meeting_storage.costs.usage import Usage
from meeting_storage.index.query import MeetingFilter
from meeting_storage.ops import cost_review, doctor, hardening
from meeting_storage.ops.hardening import BucketState

LIST_TTL = 60  # seconds; writes made through the dashboard clear it at once
SUMMARY_TTL = 120
HEALTH_TTL = 300
MEETING_TTL = 300  # and never more than half the presigned URL's lifetime, see load_meeting
NEWEST = 5


def _settings_key(settings: Settings) -> str:
    return repr(settings)


@st.cache_resource(show_spinner=False, hash_funcs={Settings: _settings_key})
def _storage_for(settings: Settings) -> MeetingStorage:
    return open_storage(settings)


def get_storage() -> MeetingStorage:
    """The service for the current settings (.env and the environment, read on every run)."""
    return _storage_for(load_settings())


def store_id(storage: MeetingStorage) -> str:
    """What makes one store, as one person sees it, different from another, so caches never
    mix two stores, nor what two people may see (MEETING_VISIBILITY=owner)."""
    s = storage.settings
    who = storage.principal
    return "|".join(
        str(part)
        for part in (
            who.email.lower(),
            who.role,
            s.meeting_visibility,
            s.s3_endpoint_url or "aws",
            s.region,
            s.bucket,
            s.index_backend,
            s.dynamodb_endpoint_url,
            s.dynamodb_table_name,
            s.database_url,
            s.store_in_s3,
            s.local_data_dir,
            # The cost review's defaults follow the analysis set-up.
            s.transcriber,
            s.bedrock_model_id,
            s.bedrock_region,
        )
    )


# ------------------------------------------------------------------ lists and counts


@st.cache_data(ttl=LIST_TTL, show_spinner=False, max_entries=256)
def _list_page(
    _storage: MeetingStorage,
    store: str,
    size: int,
    cursor: str | None,
    search: str,
    since: datetime | None,
    until: datetime | None,
    owner: str,
    uploaded_by: str = "",
) -> MeetingPage:
    filters = MeetingFilter(
        date_from=since, date_to=until, owner=owner or None, uploaded_by=uploaded_by or None
    )
    return _storage.list_meetings(size, cursor, search or None, filters)


def list_page(
    storage: MeetingStorage,
    size: int,
    cursor: str | None = None,
    *,
    search: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    owner: str = "",
    uploaded_by: str = "",
) -> MeetingPage:
    """One page of meetings, newest first (best match first for a ranked search), filtered
    by the index: words, a date range [since, until), an action-item owner and who stored
    them."""
    return _list_page(
        storage,
        store_id(storage),
        size,
        cursor,
        search.strip(),
        since,
        until,
        owner.strip(),
        uploaded_by.strip(),
    )


@dataclass(frozen=True)
class Overview:
    meetings: int
    footprint: StorageFootprint
    newest: list[MeetingRecord]
    # When the totals were last checked against a listing or S3 Inventory (None: never).
    reconciled_at: datetime | None = None
    counted: bool = False  # from the running totals (False: a listing, no totals yet)


@st.cache_data(ttl=SUMMARY_TTL, show_spinner=False)
def _overview(_storage: MeetingStorage, store: str) -> Overview:
    summary = _storage.stored_summary()
    return Overview(
        meetings=summary.meetings,
        footprint=summary.usage,
        newest=_storage.list_meetings(NEWEST).meetings,
        reconciled_at=summary.reconciled_at,
        counted=summary.counted,
    )


def overview(storage: MeetingStorage) -> Overview:
    """How many meetings, how much is stored (the running totals: a constant number of
    requests whatever the store holds), and the newest few."""
    return _overview(storage, store_id(storage))


@st.cache_data(ttl=SUMMARY_TTL, show_spinner=False)
def _footprint(_storage: MeetingStorage, store: str) -> StorageFootprint:
    return _storage.footprint()


def footprint(storage: MeetingStorage) -> StorageFootprint:
    """Objects and bytes by prefix and storage class (a paginated listing of the bucket)."""
    return _footprint(storage, store_id(storage))


@st.cache_data(ttl=LIST_TTL, show_spinner=False)
def _recently_deleted(_storage: MeetingStorage, store: str) -> list[DeletedMeeting]:
    return _storage.recently_deleted()


def recently_deleted(storage: MeetingStorage) -> list[DeletedMeeting]:
    """Meetings deleted from a versioned bucket within the restore window, newest first."""
    return _recently_deleted(storage, store_id(storage))


@dataclass(frozen=True)
class CostBasis:
    """What the Costs page computes from: the measured footprint (per meeting too), the
    bucket's set-up, and what-if inputs that continue the bucket's recent history."""

    footprint: Footprint
    bucket: BucketState
    usage: Usage


@st.cache_data(ttl=SUMMARY_TTL, show_spinner=False)
def _cost_basis(_storage: MeetingStorage, store: str) -> CostBasis:
    measured = _storage.counted_footprint()
    state = _bucket_state(_storage, store)
    usage = usage_from_history(
        measured.contents(),
        measured.measured_at,
        cost_review.default_usage(_storage, state.lifecycle_policy),
    )
    return CostBasis(footprint=measured, bucket=state, usage=usage)


def cost_basis(storage: MeetingStorage) -> CostBasis:
    """The running totals, the recent meetings (one index page), and the bucket's settings
    (cached apart, as the home page reads them too)."""
    return _cost_basis(storage, store_id(storage))


@st.cache_data(ttl=HEALTH_TTL, show_spinner=False)
def _bucket_state(_storage: MeetingStorage, store: str) -> BucketState:
    return hardening.bucket_state(_storage)


def bucket_state(storage: MeetingStorage) -> BucketState:
    """Versioning, default encryption, public access block, lifecycle rules and region."""
    return _bucket_state(storage, store_id(storage))


# ------------------------------------------------------------------ health


class _NotCached(Exception):
    """Carries an unhealthy report out of the cached function, so it is not cached."""

    def __init__(self, report: DoctorReport) -> None:
        super().__init__("unhealthy")
        self.report = report


@st.cache_data(ttl=HEALTH_TTL, show_spinner=False)
def _health(_storage: MeetingStorage, store: str, deep: bool) -> DoctorReport:
    # The bucket's set-up from its own cache: the page shows it too, read once (and having
    # read it proves the bucket reachable; when it cannot be read, the doctor says why).
    try:
        state: BucketState | None = _bucket_state(_storage, store)
    except MeetingStorageError:
        state = None
    report = doctor.run_doctor(_storage, contents=deep, state=state)
    if not report.healthy:
        raise _NotCached(report)
    return report


def health(storage: MeetingStorage, *, deep: bool = False) -> DoctorReport:
    """The doctor's checks; healthy answers are cached, failures are checked again each run.
    A check that could not run at all is reported as a failed check, never raised."""
    try:
        return _health(storage, store_id(storage), deep)
    except _NotCached as unhealthy:
        return unhealthy.report
    except MeetingStorageError as error:
        return DoctorReport(checks=[Check("doctor", "fail", error.message)])


# ------------------------------------------------------------------ one meeting


@st.cache_data(ttl=MEETING_TTL, show_spinner=False, max_entries=64)
def _meeting(_storage: MeetingStorage, store: str, meeting_id: str, window: int) -> Meeting:
    return _storage.get_meeting(meeting_id)


def url_window(expiry_seconds: int, now: float | None = None) -> int:
    """The number of the half-lifetime period `now` falls in: a URL signed in one period
    is reused only within it, so it always has at least half its lifetime left."""
    length = max(1, expiry_seconds // 2)
    return int((time.time() if now is None else now) // length)


def load_meeting(storage: MeetingStorage, meeting_id: str) -> Meeting:
    """The whole meeting with its presigned audio URL, signed again only when the cached
    one has used up half its lifetime (or after MEETING_TTL), not on every rerun."""
    window = url_window(storage.settings.presigned_url_expiry)
    return _meeting(storage, store_id(storage), meeting_id, window)


# ------------------------------------------------------------------ the audit trail

ACTIVITY_LIMIT = 500


@st.cache_data(ttl=LIST_TTL, show_spinner=False, max_entries=64)
def _activity(
    _storage: MeetingStorage,
    store: str,
    since: datetime | None,
    meeting_id: str | None,
    actor: str | None,
    limit: int,
) -> list[AuditEvent]:
    return _storage.audit_events(since, meeting_id, actor, limit=limit)


def activity(
    storage: MeetingStorage,
    *,
    since: datetime | None = None,
    meeting_id: str | None = None,
    actor: str | None = None,
    limit: int = ACTIVITY_LIMIT,
) -> list[AuditEvent]:
    """The audit trail, newest first, at most `limit` events (administrators only: the
    service refuses anyone else)."""
    return _activity(storage, store_id(storage), since, meeting_id, actor, limit)


@st.cache_data(ttl=LIST_TTL, show_spinner=False, max_entries=64)
def _history(_storage: MeetingStorage, store: str, meeting_id: str) -> list[AuditEvent]:
    return _storage.meeting_history(meeting_id)


def history(storage: MeetingStorage, meeting_id: str) -> list[AuditEvent]:
    """One meeting's own audit events, newest first (for whoever may open the meeting)."""
    return _history(storage, store_id(storage), meeting_id)


# ------------------------------------------------------------------ after writes


def after_write() -> None:
    """Forget every cached read, so lists, counts and meetings show the write at once."""
    for cached in (
        _list_page,
        _overview,
        _footprint,
        _cost_basis,
        _bucket_state,
        _recently_deleted,
        _health,
        _meeting,
        _activity,
        _history,
    ):
        cached.clear()
