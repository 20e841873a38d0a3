"""The lifecycle policy: one coherent policy for whole meetings, the index never expires,
`lifecycle show|apply`, and meetings the lifecycle rule expired (doctor finds, --fix removes)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import boto3
import pytest

from meeting_storage import InvalidInputError, MeetingStorage, NotFoundError
from meeting_storage.core import layout
from meeting_storage.core.models import utc_now
from meeting_storage.ops import lifecycle
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.lifecycle import (
    LifecyclePolicy,
    apply_lifecycle,
    bucket_rules,
    merge_rules,
    rule_problems,
)
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, wav_bytes
from tests.test_cli import assert_error, run

DESIGN_DOCUMENT_RULE = {
    "ID": "ArchiveOldMeetings",
    "Status": "Enabled",
    "Prefix": "transcriptions/",
    "Transitions": [{"Days": 90, "StorageClass": "GLACIER"}],
    "Expiration": {"Days": 365},
}


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def by_id(rules: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {rule["ID"]: rule for rule in rules}


# ---------------------------------------------------------------- the policy (pure)


def test_the_default_policy_covers_whole_meetings_and_never_the_index() -> None:
    rules = by_id(LifecyclePolicy().rules())
    audio = rules[lifecycle.AUDIO_RULE_ID]
    documents = rules[lifecycle.DOCUMENTS_RULE_ID]
    index = rules[lifecycle.INDEX_RULE_ID]
    assert audio["Filter"] == {"Prefix": "meetings/"}
    assert audio["Transitions"] == [{"Days": 90, "StorageClass": "GLACIER"}]
    assert audio["Expiration"] == documents["Expiration"] == {"Days": 365}
    assert "Transitions" not in documents  # metadata.json must stay readable
    assert documents["Filter"] == {"Prefix": "transcriptions/"}
    assert index["Filter"] == {"Prefix": "index/"} and "Expiration" not in index
    assert index["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7}
    assert audio["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert audio["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert lifecycle.expiration_days(list(rules.values()), layout.INDEX_PREFIX) is None
    assert rule_problems(list(rules.values())) == []


def test_the_design_documents_rule_is_reported() -> None:
    problems = rule_problems([DESIGN_DOCUMENT_RULE])
    messages = " ".join(message for _, message in problems)
    assert [status for status, _ in problems] == ["warn", "warn"]
    assert "recordings expire after never days but transcriptions after 365" in messages
    assert "archived metadata.json cannot be read" in messages


def test_a_rule_that_expires_the_index_fails() -> None:
    whole_bucket = {"ID": "tidy", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 30}}
    assert rule_problems([whole_bucket])[0][0] == "fail"
    disabled = {**whole_bucket, "Status": "Disabled"}
    assert rule_problems([disabled]) == []
    by_tag = {**whole_bucket, "Filter": {"Tag": {"Key": "temp", "Value": "yes"}}}
    assert rule_problems([by_tag]) == []


@pytest.mark.parametrize(
    ("policy", "problem"),
    [
        (LifecyclePolicy(archive_days=90, expire_days=120), "at least archive_days + 90"),
        (
            LifecyclePolicy(archive_days=90, archive_storage_class="DEEP_ARCHIVE", expire_days=200),
            "archive_days + 180",
        ),
        (LifecyclePolicy(archive_days=10, archive_storage_class="STANDARD_IA"), "30 days"),
        (LifecyclePolicy(archive_storage_class="ONEZONE_IA"), "archive class"),
        (LifecyclePolicy(archive_days=0), "archive_days"),
        (LifecyclePolicy(expire_days=-1), "expire_days"),
    ],
)
def test_invalid_policies_are_refused(policy: LifecyclePolicy, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(problem)):
        policy.validate()


def test_policies_without_archive_or_expiry() -> None:
    keep = LifecyclePolicy(archive_days=None, expire_days=None).validate()
    rules = by_id(keep.rules())
    assert "Transitions" not in rules[lifecycle.AUDIO_RULE_ID]
    assert "Expiration" not in rules[lifecycle.AUDIO_RULE_ID]
    assert "never expire" in keep.describe()
    assert LifecyclePolicy.from_rules(keep.rules()) == keep


def test_merging_keeps_other_rules_and_replaces_its_own() -> None:
    foreign = {
        "ID": "logs",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Expiration": {"Days": 7},
    }
    old = LifecyclePolicy(expire_days=500).rules()
    merged = merge_rules([foreign, *old], LifecyclePolicy())
    assert merged[0] == foreign
    assert [r["ID"] for r in merged[1:]] == [r["ID"] for r in LifecyclePolicy().rules()]
    assert LifecyclePolicy.from_rules(merged) == LifecyclePolicy()


# ---------------------------------------------------------------- lifecycle show | apply


def test_cli_apply_then_show_returns_the_rules_as_applied(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    bucket = moto_storage.settings.bucket
    foreign = {
        "ID": "logs",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Expiration": {"Days": 7},
    }
    s3().put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [foreign]}
    )

    _, dry = run(capsys, moto_storage, "lifecycle", "apply", "--dry-run")
    assert dry["dry_run"] is True and dry["applied"] is False
    assert [r["ID"] for r in s3().get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]] == [
        "logs"
    ]

    _, applied = run(
        capsys, moto_storage, "lifecycle", "apply", "--archive-days", "60", "--expire-days", "400"
    )
    assert applied["applied"] is True
    assert applied["policy"] == {
        "archive_days": 60,
        "archive_storage_class": "GLACIER",
        "expire_days": 400,
        "noncurrent_days": 30,
        "audit_days": 400,
    }
    assert "projected_savings" in applied and applied["projected_savings"]["months"] == 12
    stored = s3().get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert {r["ID"] for r in stored} == {"logs", *(r["ID"] for r in LifecyclePolicy().rules())}

    _, shown = run(capsys, moto_storage, "lifecycle", "show")
    assert shown["policy"] == applied["policy"]
    assert by_id(shown["rules"])[lifecycle.AUDIO_RULE_ID]["Transitions"] == [
        {"Days": 60, "StorageClass": "GLACIER"}
    ]
    assert shown["problems"] == []


def test_cli_apply_refuses_an_incoherent_policy(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    message = assert_error(
        run(
            capsys,
            moto_storage,
            "lifecycle",
            "apply",
            "--archive-days",
            "90",
            "--expire-days",
            "100",
        ),
        "invalid_input",
    )
    assert "archive_days + 90" in message


def test_cli_show_without_rules(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    _, shown = run(capsys, moto_storage, "lifecycle", "show")
    assert shown["rules"] == [] and shown["policy"] is None
    status, out, _ = _human(capsys, moto_storage, "lifecycle", "show")
    assert status == 0 and "lifecycle apply" in out


def _human(
    capsys: pytest.CaptureFixture[str], storage: MeetingStorage, *args: str
) -> tuple[int, str, str]:
    from meeting_storage.cli.main import main

    status = main(list(args), storage=storage)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.seaweedfs
def test_a_server_without_lifecycle_support_says_so(
    capsys: pytest.CaptureFixture[str], seaweed_storage: MeetingStorage
) -> None:
    message = assert_error(run(capsys, seaweed_storage, "lifecycle", "apply"), "not_supported")
    assert "does not support" in message
    _, shown = run(capsys, seaweed_storage, "lifecycle", "show")
    assert shown["rules"] == []


# ---------------------------------------------------------------- doctor


def checks_of(storage: MeetingStorage) -> dict[str, Any]:
    return {check.name: check for check in run_doctor(storage).checks}


def test_doctor_reports_the_lifecycle_rules(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    none = checks_of(moto_storage)["lifecycle"]
    assert none.status == "warn" and "kept forever" in none.message
    assert "lifecycle apply" in none.fix

    s3().put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [DESIGN_DOCUMENT_RULE]}
    )
    assert checks_of(moto_storage)["lifecycle"].status == "warn"

    apply_lifecycle(moto_storage, LifecyclePolicy())
    leftover = checks_of(moto_storage)["lifecycle"]  # the document's rule is kept, and flagged
    assert leftover.status == "warn" and "archived metadata.json" in leftover.message
    rules = [r for r in bucket_rules(moto_storage) if r["ID"] != "ArchiveOldMeetings"]
    s3().put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    ok = checks_of(moto_storage)["lifecycle"]
    assert ok.status == "ok" and "GLACIER after 90 days" in ok.message


def store_old_meeting(storage: MeetingStorage, days_old: int) -> str:
    result = storage.process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes()),
        audio_filename="old.wav",
        recorded_at=utc_now() - timedelta(days=days_old),
    )
    return result.record.meeting_id


def expire(storage: MeetingStorage, meeting_id: str) -> None:
    """What S3 does when the lifecycle rule expires a meeting: its files disappear."""
    record = storage.get_record(meeting_id)
    keys = [*layout.meeting_file_keys(meeting_id), record.audio_s3_key]
    for key in keys:
        s3().delete_object(Bucket=storage.settings.bucket, Key=key)


def test_doctor_finds_lifecycle_expired_meetings_and_fix_removes_them(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    apply_lifecycle(moto_storage, LifecyclePolicy())
    expired = store_old_meeting(moto_storage, 400)
    kept = store_old_meeting(moto_storage, 10)
    expire(moto_storage, expired)

    with pytest.raises(NotFoundError, match="lifecycle"):
        moto_storage.get_meeting(expired)
    checks = checks_of(moto_storage)
    assert checks["expired meetings"].status == "warn"
    assert expired in checks["expired meetings"].message
    assert "doctor --fix" in checks["expired meetings"].fix
    assert checks["index"].status == "ok"  # expiry is not drift
    assert run_doctor(moto_storage).healthy

    _, fixed = run(capsys, moto_storage, "doctor", "--fix")
    assert [(r["action"], r["meeting_ids"]) for r in fixed["repairs"]] == [
        ("unlist_missing", [expired]),
        ("reconcile_totals", []),  # the expired meeting's bytes leave the totals
    ]
    assert [r.meeting_id for r in moto_storage.list_meetings().meetings] == [kept]
    assert checks_of(moto_storage)["expired meetings"].status == "ok"


def test_a_missing_recent_meeting_is_still_drift(moto_storage: MeetingStorage) -> None:
    apply_lifecycle(moto_storage, LifecyclePolicy())
    recent = store_old_meeting(moto_storage, 5)
    expire(moto_storage, recent)
    checks = checks_of(moto_storage)
    assert checks["index"].status == "fail" and recent in checks["index"].message
    assert checks["expired meetings"].status == "ok"  # not lifecycle's doing
