"""Bucket hardening: the design document's best practices, read, planned and turned on.

`read_state` reads versioning, default encryption, the public access block, lifecycle rules
and region. `plan` (pure) lists what `bucket harden` would change: versioning on, default
encryption SSE-S3 (an existing SSE-KMS configuration is kept), and all four public-access-
block settings on. `apply` makes those changes. Lifecycle rules are reported but left to
`lifecycle apply`, because they delete data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from meeting_storage.core.errors import MeetingStorageError, NotSupportedError, translate_boto_error
from meeting_storage.ops.lifecycle import LifecyclePolicy, read_rules

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ServerSideEncryptionConfigurationTypeDef

PUBLIC_ACCESS_SETTINGS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
UNSUPPORTED = "unsupported"
UNKNOWN = "unknown"
ENCRYPTION_NONE = "none"
SSE_S3: Final = "AES256"

T = TypeVar("T")


@dataclass(frozen=True)
class BucketState:
    bucket: str
    region: str
    versioning: str  # Enabled | Suspended | Disabled | unsupported | unknown
    encryption: str  # AES256 | aws:kms | aws:kms:dsse | none | unsupported | unknown
    public_access_block: dict[str, bool] | None  # None: no block configured
    public_access_block_supported: bool = True
    lifecycle_rules: int = 0
    lifecycle_policy: LifecyclePolicy | None = None
    lifecycle_supported: bool = True
    lifecycle_readable: bool = True  # False: the rules could not be read (e.g. no permission)
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def public_access_blocked(self) -> bool:
        block = self.public_access_block or {}
        return all(block.get(name) for name in PUBLIC_ACCESS_SETTINGS)

    @property
    def hardened(self) -> bool:
        return (
            self.versioning == "Enabled"
            and self.encryption not in {ENCRYPTION_NONE, UNSUPPORTED, UNKNOWN}
            and self.public_access_blocked
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "region": self.region,
            "versioning": self.versioning,
            "encryption": self.encryption,
            "public_access_block": self.public_access_block
            if self.public_access_block_supported
            else UNSUPPORTED,
            "public_access_blocked": self.public_access_blocked,
            "lifecycle_rules": (
                self.lifecycle_rules
                if self.lifecycle_supported and self.lifecycle_readable
                else (UNSUPPORTED if not self.lifecycle_supported else UNKNOWN)
            ),
            "lifecycle_policy": self.lifecycle_policy.to_dict() if self.lifecycle_policy else None,
            "hardened": self.hardened,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class Change:
    setting: str
    before: str
    after: str
    applied: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "before": self.before,
            "after": self.after,
            "applied": self.applied,
        }


@dataclass(frozen=True)
class HardeningReport:
    changes: tuple[Change, ...]
    before: BucketState
    after: BucketState
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "changes": [change.to_dict() for change in self.changes],
            "changed": any(change.applied for change in self.changes),
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
        }


def _read(action: Callable[[], T], bucket: str, what: str, problems: list[str]) -> T | str:
    """Run one read; on an error note it and return 'unsupported' or 'unknown'."""
    try:
        return action()
    except Exception as exc:
        error = translate_boto_error(exc, bucket=bucket, action=f"read the {what} of")
        if isinstance(error, NotSupportedError):
            problems.append(f"{what}: not supported by this S3 server")
            return UNSUPPORTED
        problems.append(f"{what}: {error.message}")
        return UNKNOWN


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def read_versioning(client: S3Client, bucket: str) -> str:
    return str(client.get_bucket_versioning(Bucket=bucket).get("Status") or "Disabled")


def read_encryption(client: S3Client, bucket: str) -> str:
    try:
        answer = client.get_bucket_encryption(Bucket=bucket)
    except Exception as exc:
        if _code(exc) == "ServerSideEncryptionConfigurationNotFoundError":
            return ENCRYPTION_NONE
        raise
    rules = answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    algorithms = sorted(
        {
            str(rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm", ""))
            for rule in rules
        }
        - {""}
    )
    return ",".join(algorithms) or ENCRYPTION_NONE


def read_public_access_block(client: S3Client, bucket: str) -> dict[str, bool] | None:
    try:
        answer = client.get_public_access_block(Bucket=bucket)
    except Exception as exc:
        if _code(exc) == "NoSuchPublicAccessBlockConfiguration":
            return None
        raise
    config = answer.get("PublicAccessBlockConfiguration", {})
    return {name: bool(config.get(name, False)) for name in PUBLIC_ACCESS_SETTINGS}


def read_region(client: S3Client, bucket: str) -> str:
    constraint = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return {"EU": "eu-west-1"}.get(str(constraint), str(constraint)) if constraint else "us-east-1"


def read_state(client: S3Client, bucket: str) -> BucketState:
    """Everything `bucket harden` and `doctor` look at; unreadable settings are noted, not raised."""
    problems: list[str] = []
    versioning = _read(lambda: read_versioning(client, bucket), bucket, "versioning", problems)
    encryption = _read(lambda: read_encryption(client, bucket), bucket, "encryption", problems)
    block = _read(
        lambda: read_public_access_block(client, bucket), bucket, "public access block", problems
    )
    rules = _read(lambda: read_rules(client, bucket), bucket, "lifecycle rules", problems)
    region = _read(lambda: read_region(client, bucket), bucket, "region", problems)
    rule_list = rules if isinstance(rules, list) else []
    return BucketState(
        bucket=bucket,
        region=str(region),
        versioning=str(versioning),
        encryption=str(encryption),
        public_access_block=block if isinstance(block, dict) else None,
        public_access_block_supported=block != UNSUPPORTED,
        lifecycle_rules=len(rule_list),
        lifecycle_policy=LifecyclePolicy.from_rules(rule_list),
        lifecycle_supported=rules != UNSUPPORTED,
        lifecycle_readable=rules != UNKNOWN,
        problems=tuple(problems),
    )


def plan(state: BucketState) -> list[Change]:
    """What `bucket harden` changes to reach the design document's best practices."""
    changes = []
    if state.versioning not in {"Enabled", UNSUPPORTED}:
        changes.append(Change("versioning", state.versioning, "Enabled"))
    if state.encryption == ENCRYPTION_NONE:
        changes.append(Change("default encryption", ENCRYPTION_NONE, f"{SSE_S3} (SSE-S3)"))
    if state.public_access_block_supported and not state.public_access_blocked:
        before = (
            "not configured"
            if state.public_access_block is None
            else ", ".join(f"{k}={v}" for k, v in state.public_access_block.items())
        )
        changes.append(Change("public access block", before, "all four settings on"))
    return changes


def apply(client: S3Client, bucket: str, changes: list[Change]) -> list[Change]:
    """Make the planned changes; return them marked as applied."""
    done = []
    for change in changes:
        try:
            if change.setting == "versioning":
                client.put_bucket_versioning(
                    Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                )
            elif change.setting == "default encryption":
                encryption: ServerSideEncryptionConfigurationTypeDef = {
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE_S3}}]
                }
                client.put_bucket_encryption(
                    Bucket=bucket, ServerSideEncryptionConfiguration=encryption
                )
            elif change.setting == "public access block":
                client.put_public_access_block(
                    Bucket=bucket,
                    PublicAccessBlockConfiguration={
                        "BlockPublicAcls": True,
                        "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True,
                    },
                )
        except MeetingStorageError:
            raise
        except Exception as exc:
            raise translate_boto_error(
                exc, bucket=bucket, action=f"turn on {change.setting} for"
            ) from exc
        done.append(Change(change.setting, change.before, change.after, applied=True))
    return done


def harden(client: S3Client, bucket: str, *, dry_run: bool = False) -> HardeningReport:
    before = read_state(client, bucket)
    changes = plan(before)
    if dry_run or not changes:
        return HardeningReport(tuple(changes), before, before, dry_run)
    applied = apply(client, bucket, changes)
    return HardeningReport(tuple(applied), before, read_state(client, bucket), dry_run)
