"""The bucket's set-up as the home and Costs pages show it: the findings of
`meeting_storage.ops.bucket_setup` (the one judgement, shared with `doctor`) as a table with
what to run when a setting is off. Pure, no streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from meeting_storage.core.settings import Settings
from meeting_storage.ops.bucket_setup import (
    FAIL,
    NOT_APPLICABLE,
    NOT_SUPPORTED,
    OK,
    WARN,
    Finding,
    judge_bucket,
)
from meeting_storage.ops.hardening import BucketState

SETTING_LABELS = {
    "region": "Region",
    "versioning": "Versioning",
    "encryption": "Default encryption",
    "public access block": "Public access block",
    "lifecycle": "Lifecycle",
}
STATUS_LABELS = {
    OK: "ok",
    WARN: "needs attention",
    FAIL: "must be fixed",
    NOT_SUPPORTED: "not available here",
    NOT_APPLICABLE: "not applicable to a local server",
}


def bucket_findings(state: BucketState, settings: Settings) -> list[Finding]:
    """The bucket's set-up judged for this store's region and endpoint."""
    return judge_bucket(state, settings.region, settings.s3_endpoint_url)


def setting_label(finding: Finding) -> str:
    return SETTING_LABELS.get(finding.name, finding.name.capitalize())


def needing_attention(findings: Sequence[Finding]) -> list[str]:
    """The settings that are off, as a sentence names them ("versioning", "lifecycle")."""
    return [setting_label(f).lower() for f in findings if f.needs_attention]


def findings_table(findings: Sequence[Finding]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Setting": [setting_label(f) for f in findings],
            "Status": [STATUS_LABELS[f.status] for f in findings],
            "State": [f.message for f in findings],
            "To fix": [f.fix for f in findings],
        }
    )
