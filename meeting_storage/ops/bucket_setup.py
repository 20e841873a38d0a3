"""The one judgement of a bucket's set-up against the design document's best practices.

`judge_bucket` is pure: a `BucketState` in, one `Finding` per setting out (region,
versioning, default encryption, public access block, lifecycle), each saying what it found
and, when something is off, the command or setting that fixes it. `doctor`, the CLI, the home
page and the Costs page all show these findings.

What a server cannot do is not a warning: on a local S3-compatible server (a loopback
AWS_ENDPOINT_URL, such as the embedded SeaweedFS of `make run`) a missing public access block
or lifecycle policy is "not applicable"; on any other server without the feature it is
"not supported".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from meeting_storage.ops.hardening import ENCRYPTION_NONE, UNKNOWN, UNSUPPORTED, BucketState
from meeting_storage.ops.lifecycle import rule_problems
from meeting_storage.storage.embedded import is_loopback_endpoint

OK: Final = "ok"
WARN: Final = "warn"
FAIL: Final = "fail"
NOT_SUPPORTED: Final = "not supported"  # a remote S3-compatible server without the feature
NOT_APPLICABLE: Final = "not applicable"  # a local server: the feature does not matter there
STATUSES = (OK, WARN, FAIL, NOT_SUPPORTED, NOT_APPLICABLE)
LOCAL_SERVER = "not applicable to a local server"

HARDEN = "python -m meeting_storage bucket harden"
APPLY_LIFECYCLE = "python -m meeting_storage lifecycle apply"
ENCRYPTION_LABELS = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


@dataclass(frozen=True)
class Finding:
    """One setting of the bucket: `name` is doctor's check name ("region", "versioning",
    "encryption", "public access block", "lifecycle")."""

    name: str
    status: str  # one of STATUSES
    message: str
    fix: str = ""

    @property
    def needs_attention(self) -> bool:
        return self.status in {WARN, FAIL}


def judge_bucket(state: BucketState, region: str, endpoint_url: str | None = None) -> list[Finding]:
    """The bucket's set-up, setting by setting, for a store configured with AWS_REGION
    `region` and AWS_ENDPOINT_URL `endpoint_url` (None: Amazon S3)."""
    local = is_loopback_endpoint(endpoint_url)
    return [
        _region(state, region, endpoint_url),
        _versioning(state, local),
        _encryption(state, local),
        _public_access_block(state, local),
        _lifecycle(state, local),
    ]


def _unsupported(name: str, local: bool, why: str = "") -> Finding:
    if local:
        return Finding(name, NOT_APPLICABLE, LOCAL_SERVER + (f" ({why})" if why else ""))
    return Finding(
        name, NOT_SUPPORTED, "not supported by this S3 server" + (f" ({why})" if why else "")
    )


UNREADABLE = "could not be read"  # why is in `BucketState.problems`


def _permission(action: str) -> str:
    return f"allow s3:{action} (python -m meeting_storage iam-policy)"


def _region(state: BucketState, configured: str, endpoint_url: str | None) -> Finding:
    if state.region == UNSUPPORTED:
        return Finding(
            "region", NOT_SUPPORTED, f"{configured} (configured; the server has no region)"
        )
    if state.region == UNKNOWN:
        return Finding(
            "region",
            WARN,
            f"{UNREADABLE}; AWS_REGION is {configured}",
            _permission("GetBucketLocation"),
        )
    if endpoint_url and not state.region_reported:
        return Finding("region", OK, f"{configured} (configured; {endpoint_url} reports no region)")
    if state.region != configured:
        return Finding(
            "region",
            FAIL,
            f"the bucket is in {state.region} but AWS_REGION is {configured}; files will not "
            "appear in the list and presigned URLs will fail",
            f"set AWS_REGION={state.region}",
        )
    return Finding("region", OK, state.region)


def _versioning(state: BucketState, local: bool) -> Finding:
    if state.versioning == "Enabled":
        return Finding("versioning", OK, "enabled: a deleted meeting can be restored")
    if state.versioning == UNSUPPORTED:
        return _unsupported("versioning", local, "a delete is final")
    if state.versioning == UNKNOWN:
        message = f"{UNREADABLE}: a delete is final"
        return Finding("versioning", WARN, message, _permission("GetBucketVersioning"))
    return Finding("versioning", WARN, f"{state.versioning.lower()}: a delete is final", HARDEN)


def _encryption(state: BucketState, local: bool) -> Finding:
    if state.encryption == ENCRYPTION_NONE:
        return Finding("encryption", WARN, "no default encryption", HARDEN)
    if state.encryption == UNKNOWN:
        return Finding("encryption", WARN, UNREADABLE, _permission("GetEncryptionConfiguration"))
    if state.encryption == UNSUPPORTED:
        return _unsupported("encryption", local)
    labels = [ENCRYPTION_LABELS.get(a, a) for a in state.encryption.split(",")]
    return Finding("encryption", OK, ", ".join(labels))


def _public_access_block(state: BucketState, local: bool) -> Finding:
    name = "public access block"
    if not state.public_access_block_supported:
        return _unsupported(
            name, local, "it has no public access block; nothing is public without a policy"
        )
    if not state.public_access_block_readable:
        return Finding(name, WARN, UNREADABLE, _permission("GetBucketPublicAccessBlock"))
    if state.public_access_blocked:
        return Finding(name, OK, "all four settings on")
    if state.public_access_block is None:
        if local:
            return Finding(name, NOT_APPLICABLE, f"{LOCAL_SERVER} (none is configured)")
        return Finding(name, WARN, "not configured", HARDEN)
    off = [setting for setting, on in state.public_access_block.items() if not on]
    return Finding(name, WARN, "off: " + ", ".join(off), HARDEN)


def _lifecycle(state: BucketState, local: bool) -> Finding:
    if not state.lifecycle_supported:
        return _unsupported("lifecycle", local)
    if not state.lifecycle_readable:
        return Finding("lifecycle", WARN, UNREADABLE, _permission("GetLifecycleConfiguration"))
    problems = rule_problems(state.rules)
    if problems:
        worst = FAIL if any(status == FAIL for status, _ in problems) else WARN
        return Finding(
            "lifecycle",
            worst,
            "; ".join(message for _, message in problems),
            f"{APPLY_LIFECYCLE}, and remove or narrow the other rules (see `lifecycle show`)",
        )
    if state.lifecycle_policy is not None:
        return Finding("lifecycle", OK, state.lifecycle_policy.describe())
    if state.lifecycle_rules:
        return Finding(
            "lifecycle",
            WARN,
            f"{state.lifecycle_rules} rules, none of them this product's whole-meeting policy",
            APPLY_LIFECYCLE,
        )
    if local:
        return Finding(
            "lifecycle",
            NOT_APPLICABLE,
            f"{LOCAL_SERVER} (no rules: meetings are kept until deleted)",
        )
    return Finding(
        "lifecycle",
        WARN,
        "no rules: recordings stay in S3 Standard and are kept forever",
        APPLY_LIFECYCLE,
    )
