"""The one judgement of the bucket's set-up (ops/bucket_setup.py), from a bucket's state, and
the table the home and Costs pages show of it (ui/bucket_view.py)."""

from __future__ import annotations

from meeting_storage.ops.bucket_setup import (
    APPLY_LIFECYCLE,
    FAIL,
    HARDEN,
    NOT_APPLICABLE,
    NOT_SUPPORTED,
    OK,
    WARN,
    judge_bucket,
)
from meeting_storage.ops.hardening import PUBLIC_ACCESS_SETTINGS, UNKNOWN, UNSUPPORTED, BucketState
from meeting_storage.ops.lifecycle import LifecyclePolicy
from ui.bucket_view import STATUS_LABELS, findings_table, needing_attention

ALL_ON = dict.fromkeys(PUBLIC_ACCESS_SETTINGS, True)
EMBEDDED = "http://127.0.0.1:8333"  # the embedded SeaweedFS of `make run`
REMOTE = "https://s3.example.com"  # an S3-compatible service elsewhere


def by_name(
    state: BucketState, region: str = "eu-west-1", endpoint_url: str | None = None
) -> dict[str, tuple[str, str, str]]:
    findings = judge_bucket(state, region, endpoint_url)
    return {f.name: (f.status, f.message, f.fix) for f in findings}


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
    found = by_name(state)
    assert list(found) == ["region", "versioning", "encryption", "public access block", "lifecycle"]
    assert {status for status, _, _ in found.values()} == {OK}
    assert found["encryption"][1] == "SSE-KMS"
    assert found["lifecycle"][1] == LifecyclePolicy().describe()


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
    found = by_name(state)
    assert found["region"] == (
        FAIL,
        "the bucket is in us-east-1 but AWS_REGION is eu-west-1; files will not appear in the "
        "list and presigned URLs will fail",
        "set AWS_REGION=us-east-1",
    )
    assert found["versioning"] == (WARN, "suspended: a delete is final", HARDEN)
    assert found["encryption"] == (WARN, "no default encryption", HARDEN)
    assert found["public access block"] == (WARN, "off: BlockPublicPolicy", HARDEN)
    assert found["lifecycle"][0] == WARN and found["lifecycle"][2] == APPLY_LIFECYCLE
    assert "2 rules, none of them" in found["lifecycle"][1]


def test_the_region_is_named_by_its_setting_everywhere() -> None:
    state = BucketState("b", "us-west-2", "Enabled", "AES256", ALL_ON)
    findings = judge_bucket(state, "eu-west-1")
    text = " ".join(f"{f.message} {f.fix}" for f in findings)
    assert "AWS_REGION" in text
    assert "REGION" not in text.replace("AWS_REGION", "")


def test_what_a_remote_server_cannot_do_is_information_not_a_warning() -> None:
    state = BucketState(
        bucket="b",
        region=UNSUPPORTED,
        versioning=UNSUPPORTED,
        encryption=UNSUPPORTED,
        public_access_block=None,
        public_access_block_supported=False,
        lifecycle_supported=False,
    )
    found = by_name(state, endpoint_url=REMOTE)
    assert {status for status, _, _ in found.values()} == {NOT_SUPPORTED}
    assert all(fix == "" for _, _, fix in found.values())
    assert "not supported by this S3 server" in found["public access block"][1]


def test_a_fresh_embedded_store_needs_no_attention() -> None:
    """SeaweedFS on a loopback port: versioning and encryption on (the embedded server turns
    them on), no public access block and no lifecycle rules, and no region reported."""
    state = BucketState(
        bucket="b",
        region="us-east-1",
        region_reported=False,
        versioning="Enabled",
        encryption="AES256",
        public_access_block=None,
        public_access_block_supported=False,
    )
    findings = judge_bucket(state, "eu-west-1", EMBEDDED)
    assert needing_attention(findings) == []
    found = {f.name: (f.status, f.message) for f in findings}
    assert found["region"][0] == OK and EMBEDDED in found["region"][1]
    assert found["versioning"][0] == found["encryption"][0] == OK
    for name in ("public access block", "lifecycle"):
        status, message = found[name]
        assert status == NOT_APPLICABLE
        assert message.startswith("not applicable to a local server")
    table = findings_table(findings)
    assert table["Status"].tolist()[-2:] == [STATUS_LABELS[NOT_APPLICABLE]] * 2


def test_a_local_server_is_still_judged_on_what_it_can_do() -> None:
    state = BucketState(
        bucket="b",
        region="us-east-1",
        versioning="Disabled",
        encryption="none",
        public_access_block=None,  # readable, but none configured
    )
    found = by_name(state, "us-east-1", EMBEDDED)
    assert found["versioning"] == (WARN, "disabled: a delete is final", HARDEN)
    assert found["encryption"] == (WARN, "no default encryption", HARDEN)
    assert found["public access block"][0] == NOT_APPLICABLE
    assert found["lifecycle"][0] == NOT_APPLICABLE
    # The same bucket on Amazon S3 is told to set them up.
    on_aws = by_name(state, "us-east-1")
    assert on_aws["public access block"] == (WARN, "not configured", HARDEN)
    assert on_aws["lifecycle"][0] == WARN and on_aws["lifecycle"][2] == APPLY_LIFECYCLE


def test_an_unreadable_setting_is_a_warning() -> None:
    state = BucketState(
        bucket="b",
        region="eu-west-1",
        versioning=UNKNOWN,
        encryption=UNKNOWN,
        public_access_block=None,
        public_access_block_readable=False,
        lifecycle_readable=False,
    )
    found = by_name(state)
    assert found["versioning"][:2] == (WARN, "could not be read: a delete is final")
    assert found["encryption"][:2] == (WARN, "could not be read")
    assert found["public access block"][:2] == (WARN, "could not be read")
    assert found["lifecycle"] == (
        WARN,
        "could not be read",
        "allow s3:GetLifecycleConfiguration (python -m meeting_storage iam-policy)",
    )


def test_rules_that_break_meetings_fail() -> None:
    expire_the_index = {
        "ID": "everything",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": 30},
    }
    state = BucketState(
        bucket="b",
        region="eu-west-1",
        versioning="Enabled",
        encryption="AES256",
        public_access_block=ALL_ON,
        lifecycle_rules=1,
        rules=(expire_the_index,),
    )
    status, message, fix = by_name(state)["lifecycle"]
    assert status == FAIL and "index/meetings.json" in message
    assert fix.startswith(APPLY_LIFECYCLE)


def test_the_table_names_each_setting_and_what_needs_attention() -> None:
    state = BucketState("b", "eu-west-1", "Disabled", "AES256", ALL_ON)
    findings = judge_bucket(state, "eu-west-1")
    table = findings_table(findings)
    assert table["Setting"].tolist() == [
        "Region",
        "Versioning",
        "Default encryption",
        "Public access block",
        "Lifecycle",
    ]
    assert table["Status"].tolist() == ["ok", "needs attention", "ok", "ok", "needs attention"]
    assert needing_attention(findings) == ["versioning", "lifecycle"]
