"""Health checks: configuration, credentials, bucket, region, versioning, encryption, public
access block, lifecycle rules, orphans, lifecycle-expired meetings, drift.

Each check says what it found and, when something is off, the command or setting that fixes it.
The bucket's set-up (region to lifecycle) is judged once, by `bucket_setup.judge_bucket`.
`repair` (`doctor --fix`) fixes drift between the index and S3, which stays the source of
truth: it finishes interrupted deletes, removes leftover folders with no metadata.json once
they are older than the grace period, drops index entries whose meeting is gone (including
meetings the lifecycle rule expired), and indexes meetings that are stored but not listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from meeting_storage.core import layout
from meeting_storage.core.errors import MeetingStorageError
from meeting_storage.core.models import (
    STATUS_DELETING,
    STATUS_FAILED,
    Check,
    DoctorReport,
    MeetingRecord,
    Repair,
)
from meeting_storage.ops import hardening, lifecycle
from meeting_storage.ops.bucket_setup import FAIL, WARN, Finding, judge_bucket
from meeting_storage.ops.reconcile import reconcile
from meeting_storage.ops.reindex import load_entries

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

MAX_LISTED = 5
# Leftovers younger than this may belong to a `process` still running elsewhere.
LEFTOVER_GRACE = timedelta(hours=1)


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def run_doctor(
    storage: MeetingStorage,
    *,
    fix: bool = False,
    contents: bool = True,
    state: hardening.BucketState | None = None,
) -> DoctorReport:
    """Health checks; with `fix`, first repair drift between the index and S3;
    `contents=False` skips the checks that list every meeting (readiness probes); `state`
    is the bucket's set-up when the caller has it already (read when None)."""
    repairs = repair(storage) if fix else []
    checks = list(run_checks(storage, contents=contents, state=state))
    return DoctorReport(checks=checks, repairs=repairs)


def run_checks(
    storage: MeetingStorage,
    *,
    contents: bool = True,
    state: hardening.BucketState | None = None,
) -> Iterator[Check]:
    """Every check in order; `contents=False` stops before those that list every meeting."""
    settings = storage.settings
    bucket = settings.bucket
    endpoint = settings.s3_endpoint_url or "AWS S3"
    yield Check(
        "configuration",
        "ok",
        f"bucket {bucket} in {settings.region} via {endpoint}; index {storage.index.name}; "
        f"documents in {storage.meeting_documents.location}",
    )
    index_ok = True
    try:
        yield Check("index backend", "ok", storage.index.check())
    except MeetingStorageError as exc:
        index_ok = False
        yield Check("index backend", "fail", exc.message, _index_fix(storage))
    yield _analysis_check(storage)
    try:
        if state is None:  # a bucket whose settings were just read is reachable
            storage.check_bucket()
    except MeetingStorageError as exc:
        yield Check("bucket", "fail", exc.message, _bucket_fix(exc.code, bucket))
        return
    yield Check("bucket", "ok", f"s3://{bucket} is reachable with these credentials")

    state = state or hardening.bucket_state(storage)
    findings = judge_bucket(state, settings.region, settings.s3_endpoint_url)
    yield from (_check_of(finding) for finding in findings)
    yield _cors_check(storage)
    if not contents:
        return

    try:
        yield from _content_checks(
            storage, Survey.of(storage), index_ok=index_ok, rules=list(state.rules)
        )
    except MeetingStorageError as exc:
        yield Check("contents", "fail", exc.message)
    yield _totals_check(storage)


def _totals_check(storage: MeetingStorage) -> Check:
    """The running totals against a listing (or the S3 Inventory report), not repaired."""
    try:
        result = reconcile(storage, fix=False)
    except MeetingStorageError as exc:
        return Check("totals", "warn", f"the totals could not be checked: {exc.message}")
    where = f"the {result.source} of {result.as_of:%Y-%m-%d %H:%M} UTC"
    if not result.recorded:
        return Check(
            "totals",
            "warn",
            "the store has no running totals yet (the home and Costs pages list the bucket)",
            "run `doctor --fix` or `footprint reconcile`",
        )
    if result.drift:
        names = ", ".join(d.name for d in result.drift[:MAX_LISTED])
        return Check(
            "totals",
            "warn",
            f"{len(result.drift)} running total(s) differ from {where}: {names}",
            "run `doctor --fix` or `footprint reconcile`",
        )
    return Check("totals", "ok", f"the running totals agree with {where}")


def _cors_check(storage: MeetingStorage) -> Check:
    """Whether the dashboard's pages (DASHBOARD_ORIGINS) may upload straight to the bucket."""
    settings = storage.settings
    if settings.direct_uploads == "false":
        return Check("cors", "ok", "DIRECT_UPLOADS=false: the dashboard uploads through itself")
    try:
        report = hardening.set_dashboard_cors(
            storage.bucket, settings.dashboard_origins, dry_run=True
        )
    except MeetingStorageError as exc:
        return Check("cors", "warn", f"the CORS rules could not be read: {exc.message}")
    if not report.supported:
        return Check(
            "cors",
            "warn",
            "this S3 server does not support CORS rules; browsers may not be able to upload "
            "to it (the Upload page then offers the server-side path)",
        )
    if report.missing:
        return Check(
            "cors",
            "warn",
            f"the bucket's CORS rules do not let {', '.join(report.missing)} upload, so the "
            "Upload page cannot send recordings straight to S3",
            "python -m meeting_storage bucket cors",
        )
    return Check(
        "cors", "ok", f"{', '.join(settings.dashboard_origins)} may upload straight to the bucket"
    )


def _check_of(finding: Finding) -> Check:
    """A finding as a check: what a server cannot do, or what does not apply, is fine."""
    status = finding.status if finding.status in {WARN, FAIL} else "ok"
    return Check(finding.name, status, finding.message, finding.fix)


def _analysis_check(storage: MeetingStorage) -> Check:
    """Which transcriber and extractor run, and why (no network: only the settings)."""
    settings = storage.settings
    transcriber = storage.transcriber.name if storage.transcriber else "none"
    extractor = storage.extractor.method
    if extractor == "bedrock" and settings.bedrock_model_id:
        extractor += f" ({settings.bedrock_model_id}, rule-based fallback)"
    elif extractor == "openai":
        extractor += (
            f" ({settings.openai_model} at {settings.openai_base_url}, rule-based fallback)"
        )
    message = f"transcriber {transcriber}: {storage.transcriber_choice} Extraction: {extractor}."
    if settings.transcriber == "whisper" and storage.transcriber is None:
        return Check("analysis", "warn", message, "pip install -r requirements-asr.txt")
    if transcriber == "aws_transcribe" and not settings.bucket_on_aws:
        return Check(
            "analysis",
            "warn",
            message + " Amazon Transcribe can only read recordings from an Amazon S3 bucket.",
            "set TRANSCRIBER=whisper or none, or use an Amazon S3 bucket",
        )
    return Check("analysis", "ok", message)


def _damaged_metadata(storage: MeetingStorage, candidates: list[str]) -> list[str]:
    """Those meetings whose metadata.json exists but is not a record of that meeting."""
    return [m for m in candidates if storage.meeting_documents.is_damaged(m)]


def _index_fix(storage: MeetingStorage) -> str:
    backend = storage.settings.index_backend
    if backend == "dynamodb":
        return (
            "create the table: `python -m meeting_storage dynamodb create-table`, then "
            "`reindex`; or set USE_DYNAMODB=false"
        )
    if backend in {"sqlite", "postgres"}:
        return "fix DATABASE_URL or start the database, then run `reindex`"
    return "run `python -m meeting_storage reindex`"


@dataclass
class Survey:
    """What S3 holds under transcriptions/, read once for the checks and the repairs."""

    by_meeting: dict[str, set[str]] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    newest: dict[str, datetime] = field(default_factory=dict)
    records: list[MeetingRecord] = field(default_factory=list)

    @classmethod
    def of(cls, storage: MeetingStorage) -> Survey:
        survey = cls()
        for info in storage.meeting_documents.files():
            meeting_id = layout.meeting_id_from_key(info.key)
            if meeting_id is None:
                continue
            survey.by_meeting.setdefault(meeting_id, set()).add(info.key.rsplit("/", 1)[-1])
            survey.keys.setdefault(meeting_id, []).append(info.key)
            if info.last_modified is not None:
                latest = survey.newest.get(meeting_id, info.last_modified)
                survey.newest[meeting_id] = max(latest, info.last_modified)
        survey.records = list(storage.meeting_documents.iter_records())
        return survey

    @property
    def stored_ids(self) -> set[str]:
        return {r.meeting_id for r in self.records if r.status != STATUS_DELETING}

    @property
    def deleting(self) -> list[str]:
        return sorted(r.meeting_id for r in self.records if r.status == STATUS_DELETING)

    @property
    def leftovers(self) -> list[str]:
        return sorted(
            mid for mid, names in self.by_meeting.items() if layout.METADATA_FILE not in names
        )

    def is_young(self, meeting_id: str, now: datetime) -> bool:
        newest = self.newest.get(meeting_id)
        return newest is not None and now - newest < LEFTOVER_GRACE


def repair(storage: MeetingStorage, *, now: datetime | None = None) -> list[Repair]:
    """Fix drift between the index and S3 (`doctor --fix`); return what was done."""
    now = now or datetime.now(UTC)
    survey = Survey.of(storage)
    repairs: list[Repair] = []
    finished = []
    for meeting_id in survey.deleting:
        storage.delete_meeting(meeting_id)
        finished.append(meeting_id)
    if finished:
        repairs.append(
            Repair("finish_delete", finished, f"finished {len(finished)} interrupted delete(s)")
        )
    old_leftovers = [m for m in survey.leftovers if not survey.is_young(m, now)]
    if old_leftovers:
        keys = [key for m in old_leftovers for key in sorted(survey.keys.get(m, []))]
        storage.meeting_documents.delete_files(keys)
        repairs.append(
            Repair(
                "remove_leftovers",
                old_leftovers,
                f"removed {len(keys)} file(s) of {len(old_leftovers)} folder(s) without "
                "metadata.json",
            )
        )
    stored = survey.stored_ids
    indexed = storage.index.ids()
    # A meeting with a damaged metadata.json is not gone: keep it listed so it can be fixed.
    damaged = set(_damaged_metadata(storage, sorted(indexed - stored)))
    missing = sorted(indexed - stored - damaged)
    if missing:
        storage.index.delete_many(missing)
        repairs.append(
            Repair(
                "unlist_missing",
                missing,
                f"removed {len(missing)} index entr(ies) for meetings that are not in S3",
            )
        )
    not_indexed = sorted(stored - indexed)
    if not_indexed:
        loaded = load_entries(storage, not_indexed)
        entries = [m.entry for m in loaded if m.record.status != STATUS_DELETING]
        storage.index.put_many(entries)
        repairs.append(
            Repair(
                "index_missing",
                [e.record.meeting_id for e in entries],
                f"indexed {len(entries)} meeting(s) that were stored but not listed",
            )
        )
    totals = reconcile(storage, fix=True)
    if totals.drift or not totals.recorded:
        repairs.append(
            Repair(
                "reconcile_totals",
                [],
                f"brought {len(totals.drift)} running total(s) up to date from the "
                f"{totals.source} of {totals.as_of:%Y-%m-%d %H:%M} UTC",
            )
        )
    stuck = _stale_jobs(storage, survey.records, now)
    if stuck:
        for record in stuck:
            storage.retry_meeting(record.meeting_id)
        repairs.append(
            Repair(
                "requeue_jobs",
                [r.meeting_id for r in stuck],
                f"queued the job of {len(stuck)} failed or stuck meeting(s) again",
            )
        )
    return repairs


def _stale_jobs(
    storage: MeetingStorage, records: list[MeetingRecord], now: datetime
) -> list[MeetingRecord]:
    """Failed meetings, and meetings in flight for longer than JOB_STALE_MINUTES."""
    limit = now - timedelta(minutes=storage.settings.job_stale_minutes)
    return [
        r
        for r in records
        if r.status == STATUS_FAILED or (r.in_flight and (r.queued_at or r.timestamp) < limit)
    ]


def _lifecycle_expired(storage: MeetingStorage, missing: list[str], cutoff: datetime) -> list[str]:
    """Those of the listed-but-missing meetings whose date is before the expiry cutoff."""
    expired = []
    for meeting_id in missing:
        entry = storage.index.get(meeting_id)
        if entry is not None and entry.timestamp <= cutoff:
            expired.append(meeting_id)
    return expired


def _bucket_fix(code: str, bucket: str) -> str:
    if code == "access_denied":
        return "grant the IAM policy in the README (s3:ListBucket on the bucket at least)"
    if code == "backend_unavailable":
        return "start the embedded server with `make run`, or fix AWS_ENDPOINT_URL"
    return f"create the bucket (aws s3 mb s3://{bucket}) or fix S3_BUCKET_NAME / AWS_REGION"


def _content_checks(
    storage: MeetingStorage,
    survey: Survey,
    *,
    index_ok: bool,
    rules: list[dict[str, object]],
) -> Iterator[Check]:
    now = datetime.now(UTC)
    records = survey.records
    stored_ids = survey.stored_ids
    deleting = survey.deleting
    leftovers = survey.leftovers
    by_meeting = survey.by_meeting
    damaged = _damaged_metadata(
        storage,
        sorted(
            mid
            for mid, names in by_meeting.items()
            if layout.METADATA_FILE in names and mid not in {r.meeting_id for r in records}
        ),
    )
    # A queued or failed meeting has no analysis files yet: the jobs check covers it.
    waiting = {r.meeting_id for r in records if r.in_flight or r.status == STATUS_FAILED}
    incomplete = sorted(
        mid
        for mid, names in survey.by_meeting.items()
        if mid in stored_ids and mid not in waiting and not set(layout.MEETING_FILES) <= names
    )
    stuck = _stale_jobs(storage, records, now)
    if stuck:
        failed = [r for r in stuck if r.status == STATUS_FAILED]
        late = [r for r in stuck if r.status != STATUS_FAILED]
        parts = []
        if failed:
            parts.append(
                f"{len(failed)} failed ("
                + "; ".join(
                    f"{r.meeting_id} at {r.failed_step}: {r.failure_reason}"
                    for r in failed[:MAX_LISTED]
                )
                + ")"
            )
        if late:
            parts.append(
                f"{len(late)} queued or running for more than "
                f"{storage.settings.job_stale_minutes} minutes "
                f"({_some([r.meeting_id for r in late])})"
            )
        yield Check(
            "jobs",
            "warn",
            "Meetings whose processing did not finish: " + "; ".join(parts),
            "start a worker (`python -m meeting_storage worker`), fix the cause, then run "
            "`doctor --fix` (queues them again) or use Retry on the meeting's page",
        )
    else:
        yield Check("jobs", "ok", "no failed or stuck meetings")
    if leftovers:
        young = [m for m in leftovers if survey.is_young(m, now)]
        yield Check(
            "leftovers",
            "warn",
            f"{len(leftovers)} folder(s) under transcriptions/ have no metadata.json (an interrupted "
            f"process or delete; {len(young)} less than an hour old may still be in progress): "
            f"{_some(leftovers)}",
            "run `doctor --fix` (removes those older than an hour) or `delete MEETING_ID --yes`",
        )
    else:
        yield Check("leftovers", "ok", "no meeting folders without metadata.json")
    if damaged:
        yield Check(
            "damaged metadata",
            "fail",
            f"{len(damaged)} meeting(s) have a metadata.json that cannot be read, so they are "
            f"neither listed nor shown: {_some(damaged)}",
            "restore an earlier version of transcriptions/MEETING_ID/metadata.json (versioned "
            "buckets), or run `delete MEETING_ID --yes` and store the meeting again",
        )
    if deleting:
        yield Check(
            "interrupted deletes",
            "warn",
            f"{len(deleting)} meeting(s) were being deleted when the delete stopped: {_some(deleting)}",
            "run `doctor --fix` or `delete MEETING_ID --yes` again to finish",
        )
    if incomplete:
        yield Check(
            "incomplete meetings",
            "warn",
            f"{len(incomplete)} meeting(s) are missing some of their files: {_some(incomplete)}",
            "show them with `show MEETING_ID`; delete and store them again if needed",
        )

    referenced = {r.audio_s3_key for r in records if r.audio_s3_key}
    for meeting_id in damaged:  # their audio is not orphaned: deleting it would lose it
        entry = storage.index.get(meeting_id)
        if entry is not None and entry.audio_s3_key:
            referenced.add(entry.audio_s3_key)
    unreferenced = [
        info
        for info in storage.audio.iter_objects(layout.AUDIO_PREFIX)
        if info.key not in referenced
    ]
    stale = [
        i.key for i in unreferenced if i.last_modified and now - i.last_modified > LEFTOVER_GRACE
    ]
    if stale:
        yield Check(
            "orphan audio",
            "warn",
            f"{len(stale)} audio object(s) under meetings/ belong to no meeting (uploaded but never "
            f"processed, or left by an interrupted delete): {_some(stale)}",
            "process them with `process --audio-s3-key KEY`, or delete them",
        )
    else:
        yield Check("orphan audio", "ok", "every stored recording belongs to a meeting")

    if not index_ok:
        return
    indexed = storage.index.ids()
    # A damaged meeting is not missing: reindexing would only hide it (reported above).
    missing_in_s3 = sorted(indexed - stored_ids - set(damaged))
    expire_days = lifecycle.expiration_days(rules, layout.TRANSCRIPTIONS_PREFIX)
    if expire_days is not None:
        # Listed meetings older than the rule's expiration are gone because S3 expired them:
        # expected, not drift (`doctor --fix` unlists them).
        expired = _lifecycle_expired(storage, missing_in_s3, now - timedelta(days=expire_days))
        missing_in_s3 = [mid for mid in missing_in_s3 if mid not in expired]
        yield Check(
            "expired meetings",
            "warn" if expired else "ok",
            f"{len(expired)} meeting(s) older than {expire_days} days were expired by the "
            f"lifecycle rule but are still listed: {_some(expired)}"
            if expired
            else "no lifecycle-expired meetings are listed",
            "run `python -m meeting_storage doctor --fix` to remove them from the list"
            if expired
            else "",
        )
    not_indexed = sorted(stored_ids - indexed)
    if missing_in_s3 or not_indexed:
        parts = []
        if missing_in_s3:
            parts.append(f"{len(missing_in_s3)} indexed but missing in S3 ({_some(missing_in_s3)})")
        if not_indexed:
            parts.append(f"{len(not_indexed)} in S3 but not indexed ({_some(not_indexed)})")
        yield Check(
            "index",
            "fail" if missing_in_s3 else "warn",
            f"the index ({len(indexed)} entries) and S3 ({len(stored_ids)} meetings) differ: "
            + "; ".join(parts),
            "run `python -m meeting_storage doctor --fix` (or `reindex`)",
        )
    else:
        yield Check(
            "index",
            "ok",
            f"the index matches S3: {len(indexed)} entries for {len(stored_ids)} meetings",
        )
