"""The bucket's lifecycle policy: one coherent policy for whole meetings.

The design document's example archives and expires only `transcriptions/`. That leaves the
audio (nearly all of the bytes) in S3 Standard forever, and expires a meeting's
metadata.json while its recording stays. The policy here instead:

- moves the recordings under `meetings/` to an archive class after `archive_days`;
- keeps `transcriptions/` in S3 Standard (a few KB per meeting, read by every `show`,
  `reindex` and `doctor`; an archived metadata.json could not be read at all);
- expires both prefixes after the same `expire_days`, so a meeting goes as a whole;
- never expires anything under `index/` (only old versions of the index object, which is
  rewritten on every store, are removed after a week in a versioned bucket);
- in a versioned bucket, removes deleted or replaced versions after `noncurrent_days`,
  which is the window in which a deleted meeting can be restored (`undelete`);
- aborts multipart uploads left unfinished for a week;
- keeps the audit trail under `audit/` for its own `audit_days` (default 400: more than a
  year, so a yearly review sees every change), whatever happens to the meetings.

Rules this package did not write are kept as they are (`merge_rules`), and `rule_problems`
reports rules of any origin that would break meetings or the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meeting_storage.core import layout
from meeting_storage.core.errors import InvalidInputError
from meeting_storage.costs.pricing import (
    ARCHIVE_CLASSES,
    ARCHIVED_CLASSES,
    DEFAULT_REGION,
    GLACIER,
    PRICE_TABLES,
    STANDARD_IA,
)
from meeting_storage.service.versions import MAX_DAYS as MAX_DAYS
from meeting_storage.service.versions import RECENTLY_DELETED_DAYS

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

RULE_ID_PREFIX = "meeting-storage-"
AUDIO_RULE_ID = "meeting-storage-audio"
DOCUMENTS_RULE_ID = "meeting-storage-transcriptions"
INDEX_RULE_ID = "meeting-storage-index-versions"
AUDIT_RULE_ID = "meeting-storage-audit"
DEFAULT_AUDIT_DAYS = 400
DEFAULT_ARCHIVE_DAYS = 90
DEFAULT_EXPIRE_DAYS = 365
# Deleted versions are kept as long as a deleted meeting can be restored (`undelete`).
DEFAULT_NONCURRENT_DAYS = RECENTLY_DELETED_DAYS
INDEX_NONCURRENT_DAYS = 7
ABORT_MULTIPART_DAYS = 7


@dataclass(frozen=True)
class LifecyclePolicy:
    archive_days: int | None = DEFAULT_ARCHIVE_DAYS
    archive_storage_class: str = GLACIER
    expire_days: int | None = DEFAULT_EXPIRE_DAYS
    noncurrent_days: int = DEFAULT_NONCURRENT_DAYS
    audit_days: int = DEFAULT_AUDIT_DAYS

    def validate(self) -> LifecyclePolicy:
        """Return self, or raise InvalidInputError naming every problem."""
        problems = []
        for name in ("archive_days", "expire_days"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS
            ):
                problems.append(f"{name} must be a whole number of days from 1 to {MAX_DAYS}")
        if not 1 <= self.noncurrent_days <= MAX_DAYS:
            problems.append(f"noncurrent_days must be from 1 to {MAX_DAYS}")
        if not 1 <= self.audit_days <= MAX_DAYS:
            problems.append(f"audit_days must be from 1 to {MAX_DAYS}")
        if self.archive_storage_class not in ARCHIVE_CLASSES:
            problems.append(
                f"the archive class must be one of {', '.join(ARCHIVE_CLASSES)}, "
                f"not {self.archive_storage_class!r}"
            )
        elif self.archive_days is not None:
            table = PRICE_TABLES[DEFAULT_REGION]
            minimum = table.storage_class(self.archive_storage_class).minimum_days
            if self.archive_storage_class == STANDARD_IA and self.archive_days < 30:
                problems.append("S3 moves objects to STANDARD_IA only after at least 30 days")
            if (
                self.expire_days is not None
                and isinstance(self.archive_days, int)
                and isinstance(self.expire_days, int)
                and self.expire_days < self.archive_days + minimum
            ):
                problems.append(
                    f"expire_days ({self.expire_days}) must be at least archive_days + {minimum} "
                    f"({self.archive_days + minimum}): {self.archive_storage_class} bills "
                    f"{minimum} days at least, so archiving for less costs more than it saves "
                    "(or archive later, or do not archive)"
                )
        if problems:
            raise InvalidInputError("Invalid lifecycle policy: " + "; ".join(problems) + ".")
        return self

    def rules(self) -> list[dict[str, Any]]:
        """The lifecycle rules of this policy, as S3's PutBucketLifecycleConfiguration takes them."""
        expiration = {"Expiration": {"Days": self.expire_days}} if self.expire_days else {}
        noncurrent = {"NoncurrentVersionExpiration": {"NoncurrentDays": self.noncurrent_days}}
        audio: dict[str, Any] = {
            "ID": AUDIO_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": layout.AUDIO_PREFIX},
        }
        if self.archive_days:
            audio["Transitions"] = [
                {"Days": self.archive_days, "StorageClass": self.archive_storage_class}
            ]
        audio.update(expiration)
        audio.update(noncurrent)
        audio["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": ABORT_MULTIPART_DAYS}
        documents: dict[str, Any] = {
            "ID": DOCUMENTS_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": layout.TRANSCRIPTIONS_PREFIX},
            **expiration,
            **noncurrent,
        }
        index = {
            "ID": INDEX_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": layout.INDEX_PREFIX},
            "NoncurrentVersionExpiration": {"NoncurrentDays": INDEX_NONCURRENT_DAYS},
        }
        audit = {
            "ID": AUDIT_RULE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": layout.AUDIT_PREFIX},
            "Expiration": {"Days": self.audit_days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": INDEX_NONCURRENT_DAYS},
        }
        return [audio, documents, index, audit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive_days": self.archive_days,
            "archive_storage_class": self.archive_storage_class if self.archive_days else None,
            "expire_days": self.expire_days,
            "noncurrent_days": self.noncurrent_days,
            "audit_days": self.audit_days,
        }

    def describe(self) -> str:
        parts = []
        if self.archive_days:
            parts.append(
                f"recordings move to {self.archive_storage_class} after {self.archive_days} days"
            )
        parts.append(
            f"meetings expire after {self.expire_days} days"
            if self.expire_days
            else "meetings never expire"
        )
        parts.append(f"deleted versions are kept {self.noncurrent_days} days")
        parts.append(f"the audit trail is kept {self.audit_days} days")
        return "; ".join(parts)

    @classmethod
    def from_rules(cls, rules: Iterable[Mapping[str, Any]]) -> LifecyclePolicy | None:
        """The policy this package wrote, read back from the bucket's rules (None if absent)."""
        by_id = {rule.get("ID"): rule for rule in rules}
        audio = by_id.get(AUDIO_RULE_ID)
        if audio is None or audio.get("Status") != "Enabled":
            return None
        transitions = audio.get("Transitions") or []
        noncurrent = audio.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        return cls(
            archive_days=transitions[0].get("Days") if transitions else None,
            archive_storage_class=transitions[0].get("StorageClass", GLACIER)
            if transitions
            else GLACIER,
            expire_days=audio.get("Expiration", {}).get("Days"),
            noncurrent_days=int(noncurrent or DEFAULT_NONCURRENT_DAYS),
            audit_days=int(
                (by_id.get(AUDIT_RULE_ID) or {}).get("Expiration", {}).get("Days")
                or DEFAULT_AUDIT_DAYS
            ),
        )


def is_own_rule(rule: Mapping[str, Any]) -> bool:
    return str(rule.get("ID", "")).startswith(RULE_ID_PREFIX)


def merge_rules(
    existing: Sequence[Mapping[str, Any]], policy: LifecyclePolicy
) -> list[dict[str, Any]]:
    """The bucket's rules with this package's rules replaced by `policy`'s, others kept."""
    return [dict(rule) for rule in existing if not is_own_rule(rule)] + policy.rules()


def rule_prefix(rule: Mapping[str, Any]) -> str | None:
    """The key prefix a rule applies to ('' for the whole bucket); None for a tag-only filter."""
    if "Prefix" in rule:  # the legacy top-level form
        return str(rule["Prefix"])
    rule_filter = rule.get("Filter")
    if rule_filter is None:
        return ""
    if "Prefix" in rule_filter:
        return str(rule_filter["Prefix"])
    if "And" in rule_filter:
        return str(rule_filter["And"].get("Prefix", ""))
    if "Tag" in rule_filter:
        return None
    return ""  # an empty filter, or one on object size only: every key


def _reaches(rule: Mapping[str, Any], prefix: str) -> bool:
    """True when the rule can apply to some keys under `prefix`."""
    if rule.get("Status") != "Enabled":
        return False
    own = rule_prefix(rule)
    if own is None:  # tag filters: objects this package writes carry no tags
        return False
    return prefix.startswith(own) or own.startswith(prefix)


def expiration_days(rules: Iterable[Mapping[str, Any]], prefix: str) -> int | None:
    """The soonest expiration of current objects under `prefix`, in days, or None."""
    days = [
        int(rule["Expiration"]["Days"])
        for rule in rules
        if _reaches(rule, prefix) and rule.get("Expiration", {}).get("Days")
    ]
    return min(days) if days else None


def archive_transition(rules: Iterable[Mapping[str, Any]], prefix: str) -> tuple[int, str] | None:
    """(days, storage class) of the soonest transition under `prefix`, or None."""
    found = [
        (int(t["Days"]), str(t["StorageClass"]))
        for rule in rules
        if _reaches(rule, prefix)
        for t in rule.get("Transitions", []) or []
        if t.get("Days") is not None
    ]
    return min(found) if found else None


def rule_problems(rules: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """[("fail" | "warn", message), ...] for rules that break meetings or the index."""
    problems: list[tuple[str, str]] = []
    if any(
        _reaches(rule, layout.INDEX_PREFIX) and rule.get("Expiration", {}).get("Days")
        for rule in rules
    ):
        problems.append(
            (
                "fail",
                f"a lifecycle rule expires {layout.INDEX_KEY}: the meeting list would vanish "
                "(run `reindex` after it does, and limit the rule to meetings/ and "
                "transcriptions/)",
            )
        )
    audio_days = expiration_days(rules, layout.AUDIO_PREFIX)
    document_days = expiration_days(rules, layout.TRANSCRIPTIONS_PREFIX)
    if audio_days != document_days:
        problems.append(
            (
                "warn",
                f"recordings expire after {audio_days or 'never'} days but transcriptions after "
                f"{document_days or 'never'} days: meetings would be half deleted (apply "
                "`lifecycle apply` to expire both together)",
            )
        )
    documents = archive_transition(rules, layout.TRANSCRIPTIONS_PREFIX)
    if documents is not None and documents[1] in ARCHIVED_CLASSES:
        problems.append(
            (
                "warn",
                f"transcriptions/ move to {documents[1]} after {documents[0]} days: an archived "
                "metadata.json cannot be read, so those meetings cannot be shown or reindexed",
            )
        )
    return problems


# ---------------------------------------------------------------- the bucket's configuration


@dataclass(frozen=True)
class LifecycleChange:
    """The rules before and after `lifecycle apply` (after: what would be written, on a dry run)."""

    policy: LifecyclePolicy
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]
    applied: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "description": self.policy.describe(),
            "applied": self.applied,
            "dry_run": not self.applied,
            "rules": self.after,
            "previous_rules": self.before,
        }


def bucket_rules(storage: MeetingStorage) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules, this package's and any others."""
    return storage.bucket.lifecycle_rules()


def apply_lifecycle(
    storage: MeetingStorage, policy: LifecyclePolicy, *, dry_run: bool = False
) -> LifecycleChange:
    """Write `policy`'s rules (keeping rules this package did not write)."""
    policy.validate()
    if not dry_run:
        storage.authorize("lifecycle.apply")
    before = bucket_rules(storage)
    after = merge_rules(before, policy)
    if not dry_run:
        with storage.audited("lifecycle.apply", **policy.to_dict()):
            storage.bucket.put_lifecycle_rules(after)
    return LifecycleChange(policy=policy, before=before, after=after, applied=not dry_run)
