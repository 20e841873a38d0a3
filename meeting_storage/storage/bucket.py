"""The bucket's own configuration: reachability, region, versioning, default encryption, the
public access block, lifecycle rules and CORS rules, read and written.

`BucketConfiguration` is what operations (doctor, hardening, lifecycle) use instead of a
boto3 client: every call translates botocore errors to the package's errors, so an operation
only ever sees a `MeetingStorageError` (a `NotSupportedError` when an S3-compatible server
lacks the feature). "Not configured" answers (no encryption, no public access block, no
lifecycle rules) are values, not errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from meeting_storage.core.errors import client_error_code, translate_boto_error
from meeting_storage.storage.aws import AWS_ERRORS

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        BucketLifecycleConfigurationTypeDef,
        CORSConfigurationTypeDef,
        ServerSideEncryptionConfigurationTypeDef,
    )

PUBLIC_ACCESS_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
SSE_S3: Final = "AES256"
# S3 answers these codes when a setting was simply never configured.
NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
NO_PUBLIC_ACCESS_BLOCK = "NoSuchPublicAccessBlockConfiguration"
NO_LIFECYCLE = "NoSuchLifecycleConfiguration"
NO_CORS = "NoSuchCORSConfiguration"
# The CORS rule that lets the dashboard's pages upload recordings straight to the bucket
# (presigned POST), and play and download them; found again by its ID.
DASHBOARD_CORS_ID = "meeting-storage-dashboard"
DASHBOARD_CORS_METHODS = ("GET", "HEAD", "POST", "PUT")

T = TypeVar("T")


class BucketConfiguration:
    """One bucket's settings, read and written with typed errors."""

    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.name = bucket

    def _call(
        self, action: str, request: Callable[[], T], *, absent: str | None = None
    ) -> T | None:
        """Run `request`; None when S3 answers with the `absent` code (nothing configured)."""
        try:
            return request()
        except AWS_ERRORS as exc:
            if absent is not None and client_error_code(exc) == absent:
                return None
            raise translate_boto_error(exc, bucket=self.name, action=action) from exc

    def head(self) -> None:
        """Raise a typed error unless the bucket is reachable with these credentials."""
        self._call("reach", lambda: self._client.head_bucket(Bucket=self.name))

    def location(self) -> str | None:
        """The region the bucket reports (None: no LocationConstraint, which on Amazon S3
        means us-east-1 and on other servers that they do not report one)."""
        answer = self._call(
            "read the region of", lambda: self._client.get_bucket_location(Bucket=self.name)
        )
        constraint = answer.get("LocationConstraint") if answer else None
        if not constraint:
            return None
        return {"EU": "eu-west-1"}.get(str(constraint), str(constraint))

    def versioning(self) -> str:
        """'Enabled', 'Suspended' or 'Disabled' (never enabled)."""
        answer = self._call(
            "read the versioning of", lambda: self._client.get_bucket_versioning(Bucket=self.name)
        )
        status = answer.get("Status") if answer is not None else None
        return str(status or "Disabled")

    def enable_versioning(self) -> None:
        self._call(
            "turn on versioning for",
            lambda: self._client.put_bucket_versioning(
                Bucket=self.name, VersioningConfiguration={"Status": "Enabled"}
            ),
        )

    def default_encryption(self) -> tuple[str, ...]:
        """The default encryption algorithms, sorted (empty: none configured)."""
        answer = self._call(
            "read the encryption of",
            lambda: self._client.get_bucket_encryption(Bucket=self.name),
            absent=NO_ENCRYPTION,
        )
        if answer is None:
            return ()
        rules = answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        found = {
            str(rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", ""))
            for rule in rules
        }
        return tuple(sorted(found - {""}))

    def enable_default_encryption(self, algorithm: str = SSE_S3) -> None:
        configuration = cast(
            "ServerSideEncryptionConfigurationTypeDef",
            {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}]},
        )
        self._call(
            "turn on default encryption for",
            lambda: self._client.put_bucket_encryption(
                Bucket=self.name, ServerSideEncryptionConfiguration=configuration
            ),
        )

    def public_access_block(self) -> dict[str, bool] | None:
        """The four public-access-block settings (None: no block configured)."""
        answer = self._call(
            "read the public access block of",
            lambda: self._client.get_public_access_block(Bucket=self.name),
            absent=NO_PUBLIC_ACCESS_BLOCK,
        )
        if answer is None:
            return None
        config = answer.get("PublicAccessBlockConfiguration", {})
        return {name: bool(config.get(name, False)) for name in PUBLIC_ACCESS_SETTINGS}

    def block_public_access(self) -> None:
        """Turn on all four public-access-block settings."""
        self._call(
            "turn on public access block for",
            lambda: self._client.put_public_access_block(
                Bucket=self.name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            ),
        )

    def notify_queue(self, queue_arn: str, prefix: str = "meetings/") -> None:
        """Send ObjectCreated events under `prefix` to an SQS queue (whose policy must let
        s3.amazonaws.com send to it), keeping the bucket's other notifications."""
        current = self._call(
            "read the notifications of",
            lambda: self._client.get_bucket_notification_configuration(Bucket=self.name),
        )
        config: dict[str, Any] = {
            k: v for k, v in (current or {}).items() if k != "ResponseMetadata"
        }
        queues = [
            q for q in config.get("QueueConfigurations", []) if q.get("QueueArn") != queue_arn
        ]
        queues.append(
            {
                "QueueArn": queue_arn,
                "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
            }
        )
        config["QueueConfigurations"] = queues
        self._call(
            "set the notifications of",
            lambda: self._client.put_bucket_notification_configuration(
                Bucket=self.name,
                NotificationConfiguration=config,  # type: ignore[arg-type]
            ),
        )

    def lifecycle_rules(self) -> list[dict[str, Any]]:
        """The lifecycle rules as S3 returns them (empty: none configured)."""
        answer = self._call(
            "read the lifecycle rules of",
            lambda: self._client.get_bucket_lifecycle_configuration(Bucket=self.name),
            absent=NO_LIFECYCLE,
        )
        if answer is None:
            return []
        return [dict(rule) for rule in answer.get("Rules", [])]

    def put_lifecycle_rules(self, rules: Sequence[Mapping[str, Any]]) -> None:
        configuration = cast("BucketLifecycleConfigurationTypeDef", {"Rules": list(rules)})
        self._call(
            "write the lifecycle rules of",
            lambda: self._client.put_bucket_lifecycle_configuration(
                Bucket=self.name, LifecycleConfiguration=configuration
            ),
        )

    def cors_rules(self) -> list[dict[str, Any]]:
        """The CORS rules as S3 returns them (empty: none configured)."""
        answer = self._call(
            "read the CORS rules of",
            lambda: self._client.get_bucket_cors(Bucket=self.name),
            absent=NO_CORS,
        )
        if answer is None:
            return []
        return [dict(rule) for rule in answer.get("CORSRules", [])]

    def put_cors_rules(self, rules: Sequence[Mapping[str, Any]]) -> None:
        """Replace the CORS rules (an empty list removes them all)."""
        if not rules:
            self._call(
                "remove the CORS rules of",
                lambda: self._client.delete_bucket_cors(Bucket=self.name),
            )
            return
        configuration = cast("CORSConfigurationTypeDef", {"CORSRules": list(rules)})
        self._call(
            "write the CORS rules of",
            lambda: self._client.put_bucket_cors(Bucket=self.name, CORSConfiguration=configuration),
        )


def dashboard_cors_rule(origins: Sequence[str]) -> dict[str, Any]:
    """The rule letting pages served from `origins` POST recordings to the bucket and read them."""
    return {
        "ID": DASHBOARD_CORS_ID,
        "AllowedOrigins": sorted(set(origins)),
        "AllowedMethods": list(DASHBOARD_CORS_METHODS),
        "AllowedHeaders": ["*"],
        "ExposeHeaders": ["ETag", "Location"],
        "MaxAgeSeconds": 3600,
    }


def with_dashboard_rule(
    rules: Sequence[Mapping[str, Any]], origins: Sequence[str]
) -> list[dict[str, Any]]:
    """`rules` with the dashboard's rule put in, or widened to `origins` as well; other rules
    are kept as they are."""
    kept = [dict(rule) for rule in rules if rule.get("ID") != DASHBOARD_CORS_ID]
    earlier = [
        str(origin)
        for rule in rules
        if rule.get("ID") == DASHBOARD_CORS_ID
        for origin in rule.get("AllowedOrigins", [])
    ]
    return [*kept, dashboard_cors_rule([*earlier, *origins])]


def origins_missing(rules: Sequence[Mapping[str, Any]], origins: Sequence[str]) -> list[str]:
    """Those of `origins` that no rule lets POST to the bucket."""
    missing = []
    for origin in origins:
        if not any(
            "POST" in rule.get("AllowedMethods", [])
            and any(allowed in {"*", origin} for allowed in rule.get("AllowedOrigins", []))
            for rule in rules
        ):
            missing.append(origin)
    return missing
