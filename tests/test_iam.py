"""The generated IAM policy: its shape, the features it grants, and (last test of the run)
that it allows every AWS call the package made during the whole test suite."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest

from meeting_storage import MeetingStorage
from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.core.settings import Settings
from meeting_storage.costs import processing
from meeting_storage.ops import iam
from tests import operation_recorder
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, wav_bytes, wav_header_then

BUCKET = "my-meetings"


def default_policy(**features: Any) -> dict[str, Any]:
    return iam.build_policy(BUCKET, "eu-west-1", iam.PolicyFeatures(**features))


def actions(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def allowed(policy: dict[str, Any], action: str, resource: str, **context: str) -> bool:
    return operation_recorder.allows(
        policy, iam.Permission(action, resource, tuple(context.items()))
    )


def test_object_actions_are_scoped_to_the_three_prefixes() -> None:
    policy = default_policy()
    for key in ("meetings/a.wav", "transcriptions/meeting-1/metadata.json", "index/meetings.json"):
        assert allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}")
        assert allowed(policy, "s3:PutObject", f"arn:aws:s3:::{BUCKET}/{key}")
    assert not allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/secrets.txt")
    assert not allowed(policy, "s3:GetObject", "arn:aws:s3:::another-bucket/meetings/a.wav")
    assert not allowed(policy, "s3:PutBucketPolicy", f"arn:aws:s3:::{BUCKET}")


def test_listing_is_limited_to_the_prefixes() -> None:
    policy = default_policy()
    bucket = f"arn:aws:s3:::{BUCKET}"
    assert allowed(policy, "s3:ListBucket", bucket, **{"s3:prefix": "meetings/"})
    assert allowed(policy, "s3:ListBucket", bucket, **{"s3:prefix": "transcriptions/meeting-1/"})
    assert not allowed(policy, "s3:ListBucket", bucket, **{"s3:prefix": ""})
    assert not allowed(policy, "s3:ListBucket", bucket, **{"s3:prefix": "private/"})
    assert allowed(policy, "s3:ListBucket", bucket)  # HeadBucket carries no prefix


def test_the_default_policy_grants_no_administration() -> None:
    granted = actions(default_policy(dynamodb_table="meeting-metadata"))
    assert not granted & set(iam.ADMIN_ACTIONS)
    assert "s3:RestoreObject" not in granted
    assert not {a for a in granted if not a.startswith(("s3:", "dynamodb:"))}
    assert set(iam.BUCKET_ADMIN_ACTIONS) <= actions(default_policy(admin=True))
    admin = actions(default_policy(admin=True, dynamodb_table="meeting-metadata"))
    assert set(iam.ADMIN_ACTIONS) <= admin
    assert "s3:RestoreObject" in actions(default_policy(restore=True))
    assert "s3:ListBucketVersions" not in actions(default_policy(versioning=False))


def test_optional_services_only_when_enabled() -> None:
    policy = default_policy(
        dynamodb_table="meeting-metadata",
        transcribe=True,
        bedrock_model_id="eu.anthropic.claude-3-haiku-20240307-v1:0",
        kms_key_arn="arn:aws:kms:eu-west-1:111122223333:key/abc",
    )
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert {"MeetingIndexTable", "TranscribeRecordings", "SummariseWithBedrock"} <= set(sids)
    assert allowed(
        policy, "dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/meeting-metadata"
    )
    assert not allowed(
        policy, "dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/other"
    )
    assert allowed(
        policy,
        "bedrock:InvokeModel",
        "arn:aws:bedrock:eu-west-1:111122223333:inference-profile/"
        "eu.anthropic.claude-3-haiku-20240307-v1:0",
    )
    assert allowed(
        policy,
        "bedrock:InvokeModel",
        "arn:aws:bedrock:eu-central-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
    )
    assert not allowed(
        policy,
        "bedrock:InvokeModel",
        "arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-opus-20240229-v1:0",
    )
    assert allowed(policy, "kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/abc")


def test_dynamodb_comes_from_the_settings() -> None:
    settings = Settings.from_mapping(
        {"S3_BUCKET_NAME": BUCKET, "USE_DYNAMODB": "true", "DYNAMODB_TABLE_NAME": "meetings-idx"}
    )
    policy = iam.policy_for_settings(settings)
    table = next(s for s in policy["Statement"] if s["Sid"] == "MeetingIndexTable")
    assert table["Resource"][0] == "arn:aws:dynamodb:us-east-1:*:table/meetings-idx"
    assert "MeetingIndexTable" not in {
        s["Sid"] for s in iam.policy_for_settings(Settings(bucket=BUCKET))["Statement"]
    }


def test_required_permissions_of_calls() -> None:
    params = {
        "Bucket": BUCKET,
        "Delete": {"Objects": [{"Key": "meetings/a"}, {"Key": "meetings/b", "VersionId": "v1"}]},
    }
    assert iam.required_permissions("s3", "DeleteObjects", params, REGION) == [
        iam.Permission("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/meetings/a"),
        iam.Permission("s3:DeleteObjectVersion", f"arn:aws:s3:::{BUCKET}/meetings/b"),
    ]
    assert iam.required_permissions(
        "s3", "GetObject", {"Bucket": BUCKET, "Key": "index/x", "VersionId": "7"}, REGION
    ) == [iam.Permission("s3:GetObjectVersion", f"arn:aws:s3:::{BUCKET}/index/x")]
    assert iam.required_permissions(
        "s3", "ListObjectsV2", {"Bucket": BUCKET, "Prefix": "meetings/"}, REGION
    ) == [iam.Permission("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", (("s3:prefix", "meetings/"),))]
    with pytest.raises(iam.UnmappedOperationError):
        iam.required_permissions("s3", "PutBucketPolicy", {"Bucket": BUCKET}, REGION)


def test_the_checker_finds_a_missing_permission() -> None:
    """The final check would be worthless if it could not fail."""
    wrong_prefix = operation_recorder.Call(
        "s3", "PutObject", REGION, json.dumps({"Bucket": BUCKET, "Key": "elsewhere/x"}), "t"
    )
    unmapped = operation_recorder.Call("s3", "PutBucketPolicy", REGION, "{}", "t")
    fine = operation_recorder.Call(
        "s3", "PutObject", REGION, json.dumps({"Bucket": BUCKET, "Key": "meetings/x"}), "t"
    )
    gaps = operation_recorder.policy_gaps({wrong_prefix, unmapped, fine})
    assert len(gaps) == 2
    assert any("elsewhere/x" in gap for gap in gaps)
    assert any("PutBucketPolicy" in gap and "iam.py" in gap for gap in gaps)
    operation_recorder.CHECKED = False  # the real check is still to come


def test_the_recorder_sees_the_packages_calls_and_not_the_tests(
    moto_storage: MeetingStorage,
) -> None:
    client = boto3.client("s3", region_name=REGION)
    with operation_recorder.capture() as calls:
        client.list_objects_v2(Bucket=moto_storage.settings.bucket, Prefix="secret/")  # test's own
        moto_storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()))
    operations = [call.operation for call in calls]
    assert "ListObjectsV2" not in operations
    # The audio, three documents, metadata.json, the index's three objects and the store's
    # totals (each read first) and, last, the audit event.
    assert operations.count("PutObject") == 10
    assert operations[-9:] == [*["GetObject", "PutObject"] * 4, "PutObject"]
    assert all(call.origin.endswith(".py") or call.origin == "a worker thread" for call in calls)


@pytest.mark.parametrize("audio_size", [None, 40_000, 40 * 1024 * 1024])
def test_the_cost_model_counts_the_requests_process_makes(
    moto_storage: MeetingStorage, audio_size: int | None
) -> None:
    audio = None if audio_size is None else io.BytesIO(wav_header_then(audio_size))
    with operation_recorder.capture() as calls:
        moto_storage.process(SAMPLE_TRANSCRIPT, audio_file=audio, audio_filename="a.wav")
    # The meeting's own requests; its audit event is the trail's (one PUT, not a meeting cost).
    audit = [call for call in calls if f'"{layout.AUDIT_PREFIX}' in call.params]
    assert [call.operation for call in audit] == ["PutObject"]
    kinds = [processing.s3_request_class(call.operation) for call in calls if call not in audit]
    expected = processing.requests_to_store_meeting(audio_size)
    assert (kinds.count("put"), kinds.count("get")) == (expected.put, expected.get)


def test_cli_prints_a_policy_document(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    assert main(["iam-policy", "--restore"], storage=moto_storage) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["Version"] == "2012-10-17"
    assert "s3:RestoreObject" in actions(document)
    assert main(["iam-policy", "--json", "--admin"], storage=moto_storage) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["success"] is True and data["features"]["admin"] is True
    bucket = moto_storage.settings.bucket
    resources = {
        r
        for s in data["policy"]["Statement"]
        for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
    }
    assert resources == {
        f"arn:aws:s3:::{bucket}",
        *(f"arn:aws:s3:::{bucket}/{prefix}*" for prefix in layout.PREFIXES),
        f"arn:aws:s3:::{bucket}/{layout.AUDIT_PREFIX}*",
        f"arn:aws:s3:::{bucket}/{layout.TOKENS_PREFIX}*",
    }


def test_the_iam_policy_allows_every_call_the_suite_made() -> None:
    """Runs last (see conftest): every AWS call the package made in this run is allowed by the
    policy `iam-policy` generates for the features the call belongs to."""
    assert operation_recorder.RECORDED, "the recorder saw no calls; is it installed?"
    gaps = operation_recorder.policy_gaps()
    assert gaps == [], "The generated IAM policy misses:\n  " + "\n  ".join(gaps)
