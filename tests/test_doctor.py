"""`doctor()`: every check on moto, healthy and with each kind of damage."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from meeting_storage import DoctorReport, MeetingStorage
from meeting_storage.core import layout
from meeting_storage.core.models import Check, MeetingRecord, utc_now
from meeting_storage.ops.bucket_setup import judge_bucket
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.hardening import bucket_state, harden_bucket
from meeting_storage.ops.reindex import reindex
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, new_bucket_name, wav_bytes

CONTENT_CHECKS = ("leftovers", "orphan audio", "index")


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def by_name(report: DoctorReport) -> dict[str, Check]:
    names = [check.name for check in report.checks]
    assert len(names) == len(set(names)), f"a check is reported twice: {names}"
    return {check.name: check for check in report.checks}


def store_meeting(storage: MeetingStorage, name: str = "sync.wav") -> MeetingRecord:
    result = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename=name
    )
    return result.record


def test_healthy_store(moto_storage: MeetingStorage) -> None:
    stored = [store_meeting(moto_storage, "a.wav"), store_meeting(moto_storage, "b.wav")]
    report = run_doctor(moto_storage)
    checks = by_name(report)
    assert list(checks)[:6] == [
        "configuration",
        "index backend",
        "analysis",
        "bucket",
        "region",
        "versioning",
    ]
    for name in CONTENT_CHECKS:
        assert checks[name].status == "ok", checks[name]
    assert all(check.status in {"ok", "warn"} for check in report.checks), report.checks
    assert report.healthy is True
    assert report.to_dict()["healthy"] is True
    assert moto_storage.settings.bucket in checks["configuration"].message
    assert checks["region"].status == "ok" and REGION in checks["region"].message
    assert "2 meetings" in checks["index"].message
    assert {r.meeting_id for r in stored} == moto_storage.index.ids()


def test_versioning(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    off = by_name(run_doctor(moto_storage))["versioning"]
    assert off.status == "warn"
    assert "disabled" in off.message
    assert off.fix == "python -m meeting_storage bucket harden"

    s3().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    on = by_name(run_doctor(moto_storage))["versioning"]
    assert on.status == "ok" and "enabled" in on.message

    s3().put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    suspended = by_name(run_doctor(moto_storage))["versioning"]
    assert suspended.status == "warn" and "suspended" in suspended.message


def test_encryption(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    before = by_name(run_doctor(moto_storage))["encryption"]
    assert before.status == "warn" and "no default encryption" in before.message
    assert before.fix == "python -m meeting_storage bucket harden"
    s3().put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    after = by_name(run_doctor(moto_storage))["encryption"]
    assert after.status == "ok"
    assert "AES256" in after.message


def test_missing_bucket_stops_after_the_bucket_check(moto_settings: Any) -> None:
    missing = new_bucket_name()
    storage = MeetingStorage(dataclasses.replace(moto_settings, bucket=missing))
    report = run_doctor(storage)
    checks = by_name(report)
    assert list(checks) == [
        "configuration",
        "index backend",
        "analysis",
        "bucket",
    ]  # no content checks on a missing bucket
    assert checks["bucket"].status == "fail"
    assert missing in checks["bucket"].message
    assert checks["bucket"].fix and missing in checks["bucket"].fix
    assert report.healthy is False


def test_region_mismatch(moto_settings: Any) -> None:
    bucket = new_bucket_name()
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    storage = MeetingStorage(dataclasses.replace(moto_settings, bucket=bucket))
    report = run_doctor(storage)
    region = by_name(report)["region"]
    assert region.status == "fail"
    assert "eu-west-1" in region.message and "us-east-1" in region.message
    assert region.fix == "set AWS_REGION=eu-west-1"
    assert report.healthy is False


def test_leftover_folder_without_metadata(moto_storage: MeetingStorage) -> None:
    keep = store_meeting(moto_storage)
    orphan_id = layout.new_meeting_id()
    for name in (layout.TRANSCRIPTION_FILE, layout.SUMMARY_FILE):
        s3().put_object(
            Bucket=moto_storage.settings.bucket,
            Key=layout.meeting_file_key(orphan_id, name),
            Body=b"partial",
        )
    checks = by_name(run_doctor(moto_storage))
    leftovers = checks["leftovers"]
    assert leftovers.status == "warn"
    assert orphan_id in leftovers.message and keep.meeting_id not in leftovers.message
    assert "delete" in leftovers.fix
    assert checks["index"].status == "ok"  # a leftover is not a meeting, so no drift


def test_orphan_audio(moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = store_meeting(moto_storage)
    uploaded = moto_storage.upload_audio(io.BytesIO(wav_bytes()), "never processed.wav")
    young = by_name(run_doctor(moto_storage))["orphan audio"]
    assert young.status == "ok"  # it may still be processed: within the grace period

    monkeypatch.setattr("meeting_storage.ops.doctor.LEFTOVER_GRACE", timedelta(0))
    orphan = by_name(run_doctor(moto_storage))["orphan audio"]
    assert orphan.status == "warn"
    assert uploaded.audio_s3_key in orphan.message
    assert kept.audio_s3_key is not None and kept.audio_s3_key not in orphan.message
    assert "process" in orphan.fix


def test_index_drift_both_ways_and_reindex(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    gone = store_meeting(moto_storage, "gone.wav")
    kept = store_meeting(moto_storage, "kept.wav")

    # 1. metadata.json deleted behind the index's back: indexed but missing.
    s3().delete_object(Bucket=bucket, Key=layout.metadata_key(gone.meeting_id))
    index = by_name(run_doctor(moto_storage))["index"]
    assert index.status == "fail"
    assert "indexed but missing" in index.message and gone.meeting_id in index.message
    assert "reindex" in index.fix

    # 2. a valid metadata.json written without indexing: in S3 but not indexed.
    new = dataclasses.replace(kept, meeting_id=layout.new_meeting_id(), timestamp=utc_now())
    s3().put_object(
        Bucket=bucket,
        Key=layout.metadata_key(new.meeting_id),
        Body=json.dumps(new.to_dict()).encode(),
        ContentType="application/json",
    )
    index = by_name(run_doctor(moto_storage))["index"]
    assert index.status == "fail"  # still fail: something indexed is missing
    assert "in S3 but not indexed" in index.message and new.meeting_id in index.message

    # Put the first meeting's metadata.json back: only the second kind of drift is left.
    s3().put_object(
        Bucket=bucket,
        Key=layout.metadata_key(gone.meeting_id),
        Body=json.dumps(gone.to_dict()).encode(),
    )
    index = by_name(run_doctor(moto_storage))["index"]
    assert index.status == "warn"
    assert "in S3 but not indexed" in index.message and "indexed but missing" not in index.message

    s3().delete_object(Bucket=bucket, Key=layout.metadata_key(gone.meeting_id))
    assert reindex(moto_storage).indexed == 2
    assert moto_storage.index.ids() == {kept.meeting_id, new.meeting_id}
    report = run_doctor(moto_storage)
    index = by_name(report)["index"]
    assert index.status == "ok" and "2 meetings" in index.message
    assert report.healthy is True
    listed = {r.meeting_id for r in moto_storage.list_meetings().meetings}
    assert listed == {kept.meeting_id, new.meeting_id}


def test_damaged_metadata_is_reported_not_called_missing(
    moto_storage: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`show` on a damaged meeting says "run doctor"; doctor must then name the problem, and
    must not advise a reindex (which would hide the meeting) or deleting its audio."""
    damaged = store_meeting(moto_storage)
    s3().put_object(
        Bucket=moto_storage.settings.bucket,
        Key=layout.metadata_key(damaged.meeting_id),
        Body=b"{not json",
    )
    monkeypatch.setattr("meeting_storage.ops.doctor.LEFTOVER_GRACE", timedelta(0))
    report = run_doctor(moto_storage)
    checks = by_name(report)
    assert "damaged metadata" in checks, list(checks)
    assert checks["damaged metadata"].status == "fail"
    assert damaged.meeting_id in checks["damaged metadata"].message
    assert report.healthy is False
    assert "indexed but missing" not in checks["index"].message
    assert checks["orphan audio"].status == "ok"  # its audio still belongs to it
    assert checks["leftovers"].status == "ok"


def test_interrupted_delete_is_reported(moto_storage: MeetingStorage) -> None:
    record = store_meeting(moto_storage)
    marked = dataclasses.replace(record, status="deleting")
    s3().put_object(
        Bucket=moto_storage.settings.bucket,
        Key=layout.metadata_key(record.meeting_id),
        Body=json.dumps(marked.to_dict()).encode(),
    )
    moto_storage.index.delete(record.meeting_id)
    checks = by_name(run_doctor(moto_storage))
    assert checks["interrupted deletes"].status == "warn"
    assert record.meeting_id in checks["interrupted deletes"].message
    assert checks["index"].status == "ok"  # a meeting being deleted is rightly not indexed
    moto_storage.delete_meeting(record.meeting_id)
    assert "interrupted deletes" not in by_name(run_doctor(moto_storage))


def test_the_bucket_checks_are_the_bucket_set_up_findings(moto_storage: MeetingStorage) -> None:
    """doctor shows the one judgement of the bucket's set-up that the pages show."""
    settings = moto_storage.settings
    findings = judge_bucket(bucket_state(moto_storage), settings.region, None)
    checks = by_name(run_doctor(moto_storage, contents=False))
    assert [f.name for f in findings] == list(checks)[4:9]
    for finding in findings:
        check = checks[finding.name]
        assert (check.status, check.message, check.fix) == (
            finding.status,
            finding.message,
            finding.fix,
        )


@pytest.mark.seaweedfs
def test_a_local_server_is_healthy_without_what_it_cannot_do(
    seaweed_storage: MeetingStorage,
) -> None:
    harden_bucket(seaweed_storage)  # versioning and encryption, as the embedded server does
    report = run_doctor(seaweed_storage, contents=False)
    checks = by_name(report)
    for name in ("public access block", "lifecycle"):
        assert checks[name].status == "ok"
        assert checks[name].message.startswith("not applicable to a local server")
    assert checks["versioning"].status == checks["encryption"].status == "ok"
    assert [c.name for c in report.checks if c.status != "ok"] == []
