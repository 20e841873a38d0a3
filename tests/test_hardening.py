"""`bucket show|harden`: versioning, default encryption and the public access block, read,
planned and turned on; doctor's public access block check."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from meeting_storage import ConfigurationError, MeetingStorage
from meeting_storage.ops import hardening
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.hardening import bucket_state, harden_bucket
from meeting_storage.storage.bucket import BucketConfiguration
from tests.conftest import REGION
from tests.test_cli import run

ALL_BLOCKED = dict.fromkeys(hardening.PUBLIC_ACCESS_SETTINGS, True)


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def test_a_new_bucket_is_not_hardened(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    _, shown = run(capsys, moto_storage, "bucket", "show")
    assert shown["versioning"] == "Disabled"
    assert shown["encryption"] == "none"
    assert shown["public_access_block"] is None
    assert shown["hardened"] is False
    assert shown["region"] == REGION
    assert shown["lifecycle_rules"] == 0 and shown["lifecycle_policy"] is None


def test_harden_dry_run_changes_nothing_then_harden_does(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    bucket = moto_storage.settings.bucket
    _, dry = run(capsys, moto_storage, "bucket", "harden", "--dry-run")
    assert dry["dry_run"] is True and dry["changed"] is False
    assert [c["setting"] for c in dry["changes"]] == [
        "versioning",
        "default encryption",
        "public access block",
        "CORS",
    ]
    assert not any(c["applied"] for c in dry["changes"])
    assert s3().get_bucket_versioning(Bucket=bucket).get("Status") is None

    _, done = run(capsys, moto_storage, "bucket", "harden")
    assert done["changed"] is True and all(c["applied"] for c in done["changes"])
    assert done["after"]["hardened"] is True
    assert s3().get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3().get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3().get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == ALL_BLOCKED

    _, again = run(capsys, moto_storage, "bucket", "harden")
    assert again["changes"] == [] and again["changed"] is False


def test_an_existing_kms_key_is_kept(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    s3().put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "alias/meetings",
                    }
                }
            ]
        },
    )
    report = harden_bucket(moto_storage)
    assert "default encryption" not in [c.setting for c in report.changes]
    assert report.after.encryption == "aws:kms"


def test_a_partial_public_access_block_is_completed(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    s3().put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={**ALL_BLOCKED, "BlockPublicPolicy": False},
    )
    check = {c.name: c for c in run_doctor(moto_storage).checks}["public access block"]
    assert check.status == "warn" and "BlockPublicPolicy" in check.message
    assert "bucket harden" in check.fix
    plan = hardening.plan(bucket_state(moto_storage))
    assert [c.setting for c in plan if c.setting == "public access block"]
    harden_bucket(moto_storage)
    check = {c.name: c for c in run_doctor(moto_storage).checks}["public access block"]
    assert check.status == "ok"


def test_doctor_reports_the_public_access_block_after_encryption(
    moto_storage: MeetingStorage,
) -> None:
    names = [check.name for check in run_doctor(moto_storage).checks]
    assert names[:9] == [
        "configuration",
        "index backend",
        "analysis",
        "bucket",
        "region",
        "versioning",
        "encryption",
        "public access block",
        "lifecycle",
    ]


@pytest.mark.seaweedfs
def test_harden_on_a_server_without_a_public_access_block(
    capsys: pytest.CaptureFixture[str], seaweed_storage: MeetingStorage
) -> None:
    _, done = run(capsys, seaweed_storage, "bucket", "harden")
    assert [c["setting"] for c in done["changes"]] == ["versioning", "default encryption", "CORS"]
    assert done["after"]["versioning"] == "Enabled"
    assert done["after"]["encryption"] == "AES256"
    assert done["after"]["public_access_block"] == "unsupported"
    assert any("public access block" in p for p in done["after"]["problems"])
    check = {c.name: c for c in run_doctor(seaweed_storage).checks}["public access block"]
    assert check.status == "ok" and "no public access block" in check.message


def test_the_bucket_configuration_reads_and_writes_each_setting(
    moto_storage: MeetingStorage,
) -> None:
    bucket = moto_storage.bucket
    assert bucket.name == moto_storage.settings.bucket
    bucket.head()
    assert bucket.location() is None  # us-east-1 has no LocationConstraint
    assert bucket.versioning() == "Disabled"
    assert bucket.default_encryption() == ()
    assert bucket.public_access_block() is None
    assert bucket.lifecycle_rules() == []

    bucket.enable_versioning()
    bucket.enable_default_encryption()
    bucket.block_public_access()
    assert bucket.versioning() == "Enabled"
    assert bucket.default_encryption() == ("AES256",)
    assert bucket.public_access_block() == ALL_BLOCKED
    assert bucket_state(moto_storage).hardened


def test_the_bucket_configuration_raises_the_package_errors(
    moto_storage: MeetingStorage,
) -> None:
    missing = BucketConfiguration(s3(), "no-such-bucket-" + moto_storage.settings.bucket[5:])
    with pytest.raises(ConfigurationError, match="S3_BUCKET_NAME"):
        missing.head()
    state = hardening.read_state(missing)  # unreadable settings are noted, not raised
    assert state.versioning == hardening.UNKNOWN
    assert not state.lifecycle_readable and not state.public_access_block_readable
    assert state.problems
