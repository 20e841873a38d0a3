"""The cost review of a store: this month's estimate and a projection, and what a lifecycle
policy saves, from the bucket's measured footprint and recent history.

The what-if inputs default to the store as it is set up: its index backend, transcriber,
extractor and the lifecycle policy in the bucket (`default_usage`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from meeting_storage.analysis.extract import METHOD_BEDROCK
from meeting_storage.analysis.transcribe import TRANSCRIBER_AWS
from meeting_storage.core.errors import MeetingStorageError
from meeting_storage.costs.footprint import Footprint
from meeting_storage.costs.history import cohorts_from_history, usage_from_history
from meeting_storage.costs.pricing import DEFAULT_BEDROCK_MODEL
from meeting_storage.costs.projection import LifecycleComparison, compare_lifecycle
from meeting_storage.costs.review import CostReport, build_report
from meeting_storage.costs.usage import Usage
from meeting_storage.ops.lifecycle import LifecyclePolicy, bucket_rules

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage


def default_usage(storage: MeetingStorage, policy: LifecyclePolicy | None) -> Usage:
    """The design document's example, with this store's index backend, transcriber,
    extractor and lifecycle `policy` (None: the bucket has none)."""
    settings = storage.settings
    transcriber = storage.transcriber
    usage = Usage(
        dynamodb=settings.index_backend == "dynamodb",
        transcribe=transcriber is not None and transcriber.name == TRANSCRIBER_AWS,
        bedrock=storage.extractor.method == METHOD_BEDROCK,
        bedrock_model_id=settings.bedrock_model_id or DEFAULT_BEDROCK_MODEL,
    )
    if policy is None:
        return usage
    return replace(
        usage,
        lifecycle=True,
        archive_days=policy.archive_days,
        archive_storage_class=policy.archive_storage_class,
        retention_days=policy.expire_days,
    )


def bucket_usage(storage: MeetingStorage) -> Usage:
    """`default_usage` with the lifecycle policy read from the bucket."""
    try:
        policy = LifecyclePolicy.from_rules(bucket_rules(storage))
    except MeetingStorageError:  # e.g. a server without lifecycle support
        policy = None
    return default_usage(storage, policy)


def cost_report(
    storage: MeetingStorage,
    *,
    months: int = 12,
    now: datetime | None = None,
    usage: Usage | None = None,
    measured: Footprint | None = None,
    **overrides: Any,
) -> CostReport:
    """This month's estimate and a projection. Without `usage`, the what-if inputs continue
    the bucket's recent history and its lifecycle policy; `overrides` replace any of them
    (keyword arguments named like `Usage` fields). Without `measured` (the running totals'
    `counted_footprint`, as the Costs page reads it), the bucket is listed."""
    now = now or datetime.now(UTC)
    measured = measured or storage.detailed_footprint()
    if usage is None:
        usage = usage_from_history(measured.contents(), now, bucket_usage(storage))
    return build_report(storage.prices, measured, replace(usage, **overrides), now, months)


def lifecycle_savings(
    storage: MeetingStorage, policy: LifecyclePolicy, *, months: int = 12
) -> LifecycleComparison:
    """What `policy` saves over `months` at the bucket's recent rate of meetings."""
    now = datetime.now(UTC)
    contents = storage.detailed_footprint().contents()
    usage = replace(
        usage_from_history(contents, now, bucket_usage(storage)),
        archive_days=policy.archive_days,
        archive_storage_class=policy.archive_storage_class,
        retention_days=policy.expire_days,
    )
    return compare_lifecycle(storage.prices, usage, months, cohorts_from_history(contents, now))
