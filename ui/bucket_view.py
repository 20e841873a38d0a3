"""The bucket's set-up against the design document's best practices, one finding per
setting with what to run when it is off: pure, no streamlit (home and Costs pages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from meeting_storage.ops.hardening import ENCRYPTION_NONE, UNKNOWN, UNSUPPORTED, BucketState

ENCRYPTION_LABELS = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}
OK, WARN, INFO = "ok", "warn", "info"
STATUS_LABELS = {OK: "ok", WARN: "needs attention", INFO: "not available here"}
HARDEN = "python -m meeting_storage bucket harden"
APPLY_LIFECYCLE = "python -m meeting_storage lifecycle apply"


@dataclass(frozen=True)
class Finding:
    setting: str
    state: str
    status: str  # ok | warn | info
    fix: str = ""


def bucket_findings(state: BucketState, configured_region: str) -> list[Finding]:
    """The design document's best practices, one line each, with what to run when one is off."""
    findings = [_region(state, configured_region)]
    if state.versioning == "Enabled":
        findings.append(Finding("Versioning", "on: a deleted meeting can be restored", OK))
    elif state.versioning == UNSUPPORTED:
        findings.append(Finding("Versioning", "not supported by this S3 server", INFO))
    else:
        findings.append(
            Finding("Versioning", f"{_unknown(state.versioning)}: a delete is final", WARN, HARDEN)
        )
    if state.encryption in {ENCRYPTION_NONE, UNKNOWN}:
        findings.append(Finding("Default encryption", _unknown(state.encryption), WARN, HARDEN))
    elif state.encryption == UNSUPPORTED:
        findings.append(Finding("Default encryption", "not supported by this S3 server", INFO))
    else:
        labels = [ENCRYPTION_LABELS.get(a, a) for a in state.encryption.split(",")]
        findings.append(Finding("Default encryption", ", ".join(labels), OK))
    if not state.public_access_block_supported:
        findings.append(
            Finding(
                "Public access block",
                "not supported by this S3 server (nothing is public without a policy)",
                INFO,
            )
        )
    elif state.public_access_blocked:
        findings.append(Finding("Public access block", "all four settings on", OK))
    else:
        off = [name for name, on in (state.public_access_block or {}).items() if not on]
        what = "not configured" if state.public_access_block is None else "off: " + ", ".join(off)
        findings.append(Finding("Public access block", what, WARN, HARDEN))
    findings.append(_lifecycle(state))
    return findings


def _region(state: BucketState, configured: str) -> Finding:
    if state.region in {UNKNOWN, UNSUPPORTED}:
        return Finding("Region", f"{configured} (configured; the bucket's is unknown)", INFO)
    if state.region != configured:
        return Finding(
            "Region",
            f"{state.region}, but REGION is {configured}",
            WARN,
            f"set REGION={state.region} in .env (prices and presigned URLs use it)",
        )
    return Finding("Region", state.region, OK)


def _lifecycle(state: BucketState) -> Finding:
    if not state.lifecycle_supported:
        return Finding("Lifecycle", "not supported by this S3 server", INFO)
    if not state.lifecycle_readable:
        return Finding(
            "Lifecycle",
            "could not be read",
            WARN,
            "allow s3:GetLifecycleConfiguration (python -m meeting_storage iam-policy)",
        )
    if state.lifecycle_policy is not None:
        return Finding("Lifecycle", state.lifecycle_policy.describe(), OK)
    if state.lifecycle_rules:
        return Finding(
            "Lifecycle",
            f"{state.lifecycle_rules} rules, none of them this product's whole-meeting policy",
            WARN,
            APPLY_LIFECYCLE,
        )
    return Finding(
        "Lifecycle",
        "no rules: recordings stay in S3 Standard and are kept forever",
        WARN,
        APPLY_LIFECYCLE,
    )


def _unknown(value: str) -> str:
    return {ENCRYPTION_NONE: "off", "Disabled": "off", "Suspended": "suspended"}.get(
        value, "could not be read" if value == UNKNOWN else value
    )


def findings_table(findings: Sequence[Finding]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Setting": [f.setting for f in findings],
            "Status": [STATUS_LABELS[f.status] for f in findings],
            "State": [f.state for f in findings],
            "To fix": [f.fix for f in findings],
        }
    )
