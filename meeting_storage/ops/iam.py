"""The least-privilege IAM policy for the current settings, and what each API call needs.

`build_policy` writes the policy document: S3 object actions on the bucket's three prefixes
(`meetings/`, `transcriptions/`, `index/`; reading and writing but not deleting under
`audit/` and `auth/tokens/`), listing limited to those prefixes, the read-only
bucket checks `doctor` and `cost` make, and, only when enabled, versioned deletes and
restores, restoring archived audio, bucket hardening and lifecycle changes, the DynamoDB
index table, Amazon Transcribe, a Bedrock model and a KMS key.

`required_permissions` maps one API call (service, operation, parameters) to the IAM actions
and resources it is authorised against. The test suite records every call the package makes
and checks the generated policy allows each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meeting_storage.core import layout
from meeting_storage.core.settings import Settings
from meeting_storage.costs.pricing import bedrock_base_model_id
from meeting_storage.storage.inventory import split_location

POLICY_VERSION = "2012-10-17"
OBJECT_PREFIXES = layout.PREFIXES
# Written and read, never deleted: the audit trail (append-only; its lifecycle rule expires
# it) and the personal API tokens' hashes (revoking rewrites one).
APPEND_ONLY_PREFIXES = (layout.AUDIT_PREFIX, layout.TOKENS_PREFIX)

# Setting up rather than running: only `bucket harden` (and `bucket cors`), `lifecycle apply` and
# `dynamodb create-table` need these, run by an administrator (`iam-policy --admin`).
BUCKET_ADMIN_ACTIONS = (
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketCORS",
)
TABLE_ADMIN_ACTIONS = ("dynamodb:CreateTable",)
ADMIN_ACTIONS = BUCKET_ADMIN_ACTIONS + TABLE_ADMIN_ACTIONS
BUCKET_READ_ACTIONS = (
    "s3:GetBucketLocation",
    "s3:GetBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketCORS",
)
DYNAMODB_ACTIONS = (
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "dynamodb:UpdateItem",  # the running totals (ADD)
)
TRANSCRIBE_ACTIONS = (
    "transcribe:StartTranscriptionJob",
    "transcribe:GetTranscriptionJob",
    "transcribe:DeleteTranscriptionJob",
)
BEDROCK_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
# Workers and the faces that queue jobs (QUEUE_BACKEND=sqs); `queue create` needs --admin.
SQS_ACTIONS = (
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)
QUEUE_ADMIN_ACTIONS = ("sqs:CreateQueue", "sqs:SetQueueAttributes")


@dataclass(frozen=True)
class PolicyFeatures:
    """What the policy grants beyond storing, listing, showing and deleting meetings."""

    versioning: bool = True  # delete --purge, recently deleted, undelete, old-version footprint
    restore: bool = False  # restore archived audio (RestoreObject)
    admin: bool = False  # bucket harden, lifecycle apply, dynamodb create-table
    dynamodb_table: str | None = None
    transcribe: bool = False
    bedrock_model_id: str | None = None
    kms_key_arn: str | None = None  # the bucket's SSE-KMS key, if it has one
    # Where S3 Inventory reports are read from (bucket, key prefix): S3_INVENTORY_PREFIX.
    inventory: tuple[str, str] | None = None
    sqs_queue: str | None = None  # the job queue's name (its dead-letter queue is NAME-dlq)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> PolicyFeatures:
        dynamodb = settings.index_backend == "dynamodb"
        values: dict[str, Any] = {
            "dynamodb_table": settings.dynamodb_table_name if dynamodb else None
        }
        if settings.s3_inventory_prefix:
            values["inventory"] = split_location(settings.s3_inventory_prefix, settings.bucket)
        if settings.queue_backend == "sqs" and settings.queue_url:
            values["sqs_queue"] = queue_name_of(settings.queue_url)
        values.update(overrides)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {
            "versioning": self.versioning,
            "restore": self.restore,
            "admin": self.admin,
            "dynamodb_table": self.dynamodb_table,
            "transcribe": self.transcribe,
            "bedrock_model_id": self.bedrock_model_id,
            "kms_key_arn": self.kms_key_arn,
            "inventory": f"s3://{'/'.join(self.inventory)}" if self.inventory else None,
            "sqs_queue": self.sqs_queue,
        }


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def object_arns(bucket: str, prefixes: tuple[str, ...] = OBJECT_PREFIXES) -> list[str]:
    return [f"{bucket_arn(bucket)}/{prefix}*" for prefix in prefixes]


def _prefix_condition() -> dict[str, Any]:
    # IfExists: HeadBucket (the reachability check) is authorised as s3:ListBucket without
    # any prefix; every listing the package makes names one of its prefixes.
    prefixes = (*OBJECT_PREFIXES, *APPEND_ONLY_PREFIXES)
    return {"StringLikeIfExists": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}}


def dynamodb_table_arns(table: str, region: str) -> list[str]:
    base = f"arn:aws:dynamodb:{region}:*:table/{table}"
    return [base, f"{base}/index/*"]


def bedrock_model_arns(model_id: str, region: str) -> list[str]:
    base = bedrock_base_model_id(model_id)
    if base == model_id:
        return [f"arn:aws:bedrock:{region}::foundation-model/{model_id}"]
    # A cross-region inference profile: the profile here, and the model in each region it routes to.
    return [
        f"arn:aws:bedrock:{region}:*:inference-profile/{model_id}",
        f"arn:aws:bedrock:*::foundation-model/{base}",
    ]


def build_policy(bucket: str, region: str, features: PolicyFeatures) -> dict[str, Any]:
    """The IAM policy document for this bucket and these features."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "MeetingObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": object_arns(bucket),
        },
        {
            "Sid": "AuditTrailAndTokens",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": object_arns(bucket, APPEND_ONLY_PREFIXES),
        },
        {
            "Sid": "AbortFailedAudioUploads",
            "Effect": "Allow",
            "Action": ["s3:AbortMultipartUpload"],
            "Resource": object_arns(bucket, (layout.AUDIO_PREFIX,)),
        },
        {
            "Sid": "ListMeetingPrefixes",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket_arn(bucket),
            "Condition": _prefix_condition(),
        },
        {
            "Sid": "CheckBucketSettings",
            "Effect": "Allow",
            "Action": list(BUCKET_READ_ACTIONS),
            "Resource": bucket_arn(bucket),
        },
    ]
    if features.versioning:
        statements += [
            {
                "Sid": "ReadAndRemoveOldVersions",
                "Effect": "Allow",
                "Action": ["s3:GetObjectVersion", "s3:DeleteObjectVersion"],
                "Resource": object_arns(bucket),
            },
            {
                "Sid": "ListOldVersions",
                "Effect": "Allow",
                "Action": ["s3:ListBucketVersions"],
                "Resource": bucket_arn(bucket),
                "Condition": _prefix_condition(),
            },
        ]
    if features.restore:
        statements.append(
            {
                "Sid": "RestoreArchivedAudio",
                "Effect": "Allow",
                "Action": ["s3:RestoreObject"],
                "Resource": object_arns(bucket, (layout.AUDIO_PREFIX,)),
            }
        )
    if features.admin:
        statements.append(
            {
                "Sid": "HardenBucketAndApplyLifecycle",
                "Effect": "Allow",
                "Action": list(BUCKET_ADMIN_ACTIONS),
                "Resource": bucket_arn(bucket),
            }
        )
    if features.inventory:
        where, prefix = features.inventory
        statements += [
            {
                "Sid": "ReadInventoryReports",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": f"{bucket_arn(where)}/{prefix}*",
            },
            {
                "Sid": "ListInventoryReports",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": bucket_arn(where),
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}},
            },
        ]
    if features.kms_key_arn:
        statements.append(
            {
                "Sid": "UseBucketKmsKey",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": features.kms_key_arn,
            }
        )
    if features.dynamodb_table:
        statements.append(
            {
                "Sid": "MeetingIndexTable",
                "Effect": "Allow",
                "Action": list(DYNAMODB_ACTIONS),
                "Resource": dynamodb_table_arns(features.dynamodb_table, region),
            }
        )
        if features.admin:
            statements.append(
                {
                    "Sid": "CreateIndexTable",
                    "Effect": "Allow",
                    "Action": list(TABLE_ADMIN_ACTIONS),
                    "Resource": dynamodb_table_arns(features.dynamodb_table, region)[0],
                }
            )
    if features.transcribe:
        statements.append(
            {
                "Sid": "TranscribeRecordings",
                "Effect": "Allow",
                "Action": list(TRANSCRIBE_ACTIONS),
                "Resource": "*",
            }
        )
    if features.bedrock_model_id:
        statements.append(
            {
                "Sid": "SummariseWithBedrock",
                "Effect": "Allow",
                "Action": list(BEDROCK_ACTIONS),
                "Resource": bedrock_model_arns(features.bedrock_model_id, region),
            }
        )
    if features.sqs_queue:
        statements.append(
            {
                "Sid": "WorkTheJobQueue",
                "Effect": "Allow",
                "Action": list(SQS_ACTIONS),
                "Resource": sqs_queue_arns(features.sqs_queue, region),
            }
        )
        if features.admin:
            statements.append(
                {
                    "Sid": "CreateJobQueue",
                    "Effect": "Allow",
                    "Action": list(QUEUE_ADMIN_ACTIONS),
                    "Resource": sqs_queue_arns(features.sqs_queue, region),
                }
            )
    return {"Version": POLICY_VERSION, "Statement": statements}


def queue_name_of(queue_url: str) -> str:
    """An SQS queue's name: the last part of its URL."""
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


def sqs_queue_arns(name: str, region: str) -> list[str]:
    return [f"arn:aws:sqs:{region}:*:{name}", f"arn:aws:sqs:{region}:*:{name}-dlq"]


def policy_for_settings(settings: Settings, **overrides: Any) -> dict[str, Any]:
    features = PolicyFeatures.from_settings(settings, **overrides)
    return build_policy(settings.bucket, settings.region, features)


# ---------------------------------------------------------------- what each call needs


@dataclass(frozen=True)
class Permission:
    """One authorisation an API call needs: an action on a resource, with its condition keys."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


class UnmappedOperationError(KeyError):
    """An API call this module does not know the IAM actions of (add it to the tables below)."""


_S3_OBJECT = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "RestoreObject": "s3:RestoreObject",
}
_S3_OBJECT_VERSION = {
    "GetObject": "s3:GetObjectVersion",
    "HeadObject": "s3:GetObjectVersion",
    "DeleteObject": "s3:DeleteObjectVersion",
    "RestoreObject": "s3:RestoreObject",
}
_S3_BUCKET = {
    "HeadBucket": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
}
_BEDROCK = {
    "InvokeModel": "bedrock:InvokeModel",
    "Converse": "bedrock:InvokeModel",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
}


def _s3(operation: str, params: Mapping[str, Any]) -> list[Permission]:
    bucket = str(params.get("Bucket", ""))
    if operation == "DeleteObjects":
        return [
            Permission(
                "s3:DeleteObjectVersion" if item.get("VersionId") else "s3:DeleteObject",
                f"{bucket_arn(bucket)}/{item['Key']}",
            )
            for item in params.get("Delete", {}).get("Objects", [])
        ]
    if operation in _S3_BUCKET:
        context: tuple[tuple[str, str], ...] = ()
        if "Prefix" in params:
            context = (("s3:prefix", str(params["Prefix"])),)
        return [Permission(_S3_BUCKET[operation], bucket_arn(bucket), context)]
    if operation in _S3_OBJECT:
        table = _S3_OBJECT_VERSION if params.get("VersionId") else _S3_OBJECT
        return [Permission(table[operation], f"{bucket_arn(bucket)}/{params.get('Key', '')}")]
    raise UnmappedOperationError(f"s3:{operation}")


def required_permissions(
    service: str, operation: str, params: Mapping[str, Any], region: str
) -> list[Permission]:
    """The IAM actions and resources AWS checks for one API call."""
    if service == "s3":
        return _s3(operation, params)
    if service == "dynamodb":
        tables = (
            list(params.get("RequestItems", {}))
            if operation.startswith("Batch")
            else [str(params.get("TableName", ""))]
        )
        return [
            Permission(f"dynamodb:{operation}", f"arn:aws:dynamodb:{region}:*:table/{table}")
            for table in tables
        ]
    if service == "transcribe":
        return [Permission(f"transcribe:{operation}", "*")]
    if service == "sqs":
        name = str(params.get("QueueName") or queue_name_of(str(params.get("QueueUrl", ""))))
        return [Permission(f"sqs:{operation}", f"arn:aws:sqs:{region}:*:{name}")]
    if service == "bedrock-runtime" and operation in _BEDROCK:
        model = str(params.get("modelId", ""))
        return [Permission(_BEDROCK[operation], bedrock_model_arns(model, region)[0])]
    raise UnmappedOperationError(f"{service}:{operation}")
