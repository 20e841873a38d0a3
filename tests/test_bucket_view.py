"""The bucket set-up findings the home and Costs pages show, from a bucket's state."""

from __future__ import annotations

from meeting_storage.ops.hardening import PUBLIC_ACCESS_SETTINGS, UNKNOWN, UNSUPPORTED, BucketState
from meeting_storage.ops.lifecycle import LifecyclePolicy
from ui.bucket_view import APPLY_LIFECYCLE, HARDEN, INFO, OK, WARN, bucket_findings

ALL_ON = dict.fromkeys(PUBLIC_ACCESS_SETTINGS, True)


def by_setting(state: BucketState, region: str = "eu-west-1") -> dict[str, tuple[str, str, str]]:
    return {f.setting: (f.status, f.state, f.fix) for f in bucket_findings(state, region)}


def test_a_hardened_bucket_with_the_policy_is_all_ok() -> None:
    state = BucketState(
        bucket="b",
        region="eu-west-1",
        versioning="Enabled",
        encryption="aws:kms",
        public_access_block=ALL_ON,
        lifecycle_rules=3,
        lifecycle_policy=LifecyclePolicy(),
    )
    found = by_setting(state)
    assert {status for status, _, _ in found.values()} == {OK}
    assert found["Default encryption"][1] == "SSE-KMS"
    assert found["Lifecycle"][1] == LifecyclePolicy().describe()


def test_what_is_off_says_what_to_run() -> None:
    partial = {**ALL_ON, "BlockPublicPolicy": False}
    state = BucketState(
        bucket="b",
        region="us-east-1",
        versioning="Suspended",
        encryption="none",
        public_access_block=partial,
        lifecycle_rules=2,  # somebody else's rules
    )
    found = by_setting(state)
    assert found["Region"] == (
        WARN,
        "us-east-1, but REGION is eu-west-1",
        "set REGION=us-east-1 in .env (prices and presigned URLs use it)",
    )
    assert found["Versioning"] == (WARN, "suspended: a delete is final", HARDEN)
    assert found["Default encryption"] == (WARN, "off", HARDEN)
    assert found["Public access block"] == (WARN, "off: BlockPublicPolicy", HARDEN)
    assert found["Lifecycle"][0] == WARN and found["Lifecycle"][2] == APPLY_LIFECYCLE
    assert "2 rules, none of them" in found["Lifecycle"][1]


def test_what_a_server_cannot_do_is_information_not_a_warning() -> None:
    state = BucketState(
        bucket="b",
        region=UNKNOWN,
        versioning=UNSUPPORTED,
        encryption=UNSUPPORTED,
        public_access_block=None,
        public_access_block_supported=False,
        lifecycle_supported=False,
    )
    found = by_setting(state)
    assert {status for status, _, _ in found.values()} == {INFO}
    assert all(fix == "" for _, _, fix in found.values())


def test_an_unreadable_setting_is_a_warning() -> None:
    state = BucketState(
        bucket="b",
        region="eu-west-1",
        versioning=UNKNOWN,
        encryption=UNKNOWN,
        public_access_block=None,
        lifecycle_readable=False,
    )
    found = by_setting(state)
    assert found["Versioning"][:2] == (WARN, "could not be read: a delete is final")
    assert found["Default encryption"][:2] == (WARN, "could not be read")
    assert found["Public access block"][:2] == (WARN, "not configured")
    assert found["Lifecycle"] == (
        WARN,
        "could not be read",
        "allow s3:GetLifecycleConfiguration (python -m meeting_storage iam-policy)",
    )
