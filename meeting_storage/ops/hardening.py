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
from typing import TYPE_CHECKING, Any, TypeVar

from meeting_storage.core.errors import MeetingStorageError, NotSupportedError
from meeting_storage.ops.lifecycle import LifecyclePolicy
from meeting_storage.storage.bucket import PUBLIC_ACCESS_SETTINGS as PUBLIC_ACCESS_SETTINGS
from meeting_storage.storage.bucket import SSE_S3, BucketConfiguration

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

UNSUPPORTED = "unsupported"
UNKNOWN = "unknown"
ENCRYPTION_NONE = "none"

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
    # False: the server answered without a region (S3-compatible servers often do).
    region_reported: bool = True
    # False: the public access block could not be read (`public_access_block` is then None).
    public_access_block_readable: bool = True
    rules: tuple[dict[str, Any], ...] = ()  # the lifecycle rules themselves

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


def _read(action: Callable[[], T], what: str, problems: list[str]) -> T | str:
    """Run one read; on an error note it and return 'unsupported' or 'unknown'."""
    try:
        return action()
    except MeetingStorageError as error:
        if isinstance(error, NotSupportedError):
            problems.append(f"{what}: not supported by this S3 server")
            return UNSUPPORTED
        problems.append(f"{what}: {error.message}")
        return UNKNOWN


def read_state(bucket: BucketConfiguration) -> BucketState:
    """Everything `bucket harden` and `doctor` look at; unreadable settings are noted, not raised."""
    problems: list[str] = []
    versioning = _read(bucket.versioning, "versioning", problems)
    encryption = _read(bucket.default_encryption, "encryption", problems)
    block = _read(bucket.public_access_block, "public access block", problems)
    rules = _read(bucket.lifecycle_rules, "lifecycle rules", problems)
    location = _read(bucket.location, "region", problems)
    rule_list = rules if isinstance(rules, list) else []
    return BucketState(
        bucket=bucket.name,
        region=location if isinstance(location, str) else "us-east-1",
        versioning=str(versioning),
        encryption=(
            ",".join(encryption) or ENCRYPTION_NONE if isinstance(encryption, tuple) else encryption
        ),
        public_access_block=block if isinstance(block, dict) else None,
        public_access_block_supported=block != UNSUPPORTED,
        public_access_block_readable=block != UNKNOWN,
        lifecycle_rules=len(rule_list),
        lifecycle_policy=LifecyclePolicy.from_rules(rule_list),
        lifecycle_supported=rules != UNSUPPORTED,
        lifecycle_readable=rules != UNKNOWN,
        problems=tuple(problems),
        region_reported=location is not None,
        rules=tuple(rule_list),
    )


def bucket_state(storage: MeetingStorage) -> BucketState:
    """The storage's bucket as `bucket show`, `doctor` and the dashboard judge it."""
    return read_state(storage.bucket)


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


def apply(bucket: BucketConfiguration, changes: list[Change]) -> list[Change]:
    """Make the planned changes; return them marked as applied."""
    turn_on = {
        "versioning": bucket.enable_versioning,
        "default encryption": bucket.enable_default_encryption,
        "public access block": bucket.block_public_access,
    }
    done = []
    for change in changes:
        turn_on[change.setting]()
        done.append(Change(change.setting, change.before, change.after, applied=True))
    return done


def harden_bucket(storage: MeetingStorage, *, dry_run: bool = False) -> HardeningReport:
    """Turn on versioning, default encryption and the public access block where missing."""
    if not dry_run:
        storage.authorize("bucket.harden")
    bucket = storage.bucket
    before = read_state(bucket)
    changes = plan(before)
    if dry_run or not changes:
        return HardeningReport(tuple(changes), before, before, dry_run)
    with storage.audited("bucket.harden") as scope:
        applied = apply(bucket, changes)
        scope.details["changes"] = [change.setting for change in applied]
    return HardeningReport(tuple(applied), before, read_state(bucket), dry_run)
