"""Month by month: what is stored as meetings age and new ones arrive, and what each month
costs, line by line; and the same projection with and without the lifecycle policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from meeting_storage.costs.line_items import (
    Estimate,
    bedrock_items,
    bedrock_tokens,
    dynamodb_items,
    gb,
    request_items,
    storage_items,
    transcribe_items,
    transfer_items,
    transition_items,
)
from meeting_storage.costs.pricing import MIN_TRANSITION_BYTES, STANDARD, PriceTable
from meeting_storage.costs.processing import requests_to_store_meeting
from meeting_storage.costs.usage import GETS_PER_VIEW, INDEX_ITEM_BYTES, Usage, dynamodb_reads

DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Cohort:
    """Meetings of the same age: what is already stored when a projection starts."""

    age_days: int
    meetings: int
    audio_bytes: int
    document_bytes: int
    audio_storage_class: str = STANDARD


@dataclass(frozen=True)
class ProjectedMonth:
    month: int
    meetings_stored: int
    stored_bytes: Mapping[str, int]
    estimate: Estimate

    @property
    def total_usd(self) -> Decimal:
        return self.estimate.total_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "meetings_stored": self.meetings_stored,
            "stored_gb": {name: float(gb(size)) for name, size in self.stored_bytes.items()},
            "total_usd": float(self.total_usd),
            "by_category": {name: float(usd) for name, usd in self.estimate.by_category().items()},
            "items": [item.to_dict() for item in self.estimate.items],
        }


def _audio_class(usage: Usage, cohort: Cohort, age_days: int) -> str:
    cohort_class = cohort.audio_storage_class
    if cohort_class != STANDARD or not usage.lifecycle or usage.archive_days is None:
        return cohort_class
    if cohort.audio_bytes < MIN_TRANSITION_BYTES:  # S3 leaves small objects where they are
        return STANDARD
    return usage.archive_storage_class if age_days >= usage.archive_days else STANDARD


def _expired(usage: Usage, age_days: int) -> bool:
    return usage.lifecycle and usage.retention_days is not None and age_days >= usage.retention_days


def project(
    prices: PriceTable,
    usage: Usage,
    months: int = 12,
    existing: Iterable[Cohort] = (),
) -> list[ProjectedMonth]:
    """Month by month: what is stored (existing meetings ageing, plus `usage.meetings_per_month`
    new ones each month) and what that month costs, line by line."""
    cohorts = list(existing)
    new = Cohort(0, usage.meetings_per_month, usage.audio_bytes, usage.document_bytes)
    previous: dict[int, str] = {slot: c.audio_storage_class for slot, c in enumerate(cohorts)}
    result = []
    for month in range(1, months + 1):
        ages = [
            (slot, cohort, cohort.age_days + (month - 1) * DAYS_PER_MONTH)
            for slot, cohort in enumerate(cohorts)
        ] + [
            (len(cohorts) + born, new, (month - born) * DAYS_PER_MONTH)
            for born in range(1, month + 1)
        ]
        stored: dict[str, int] = {}
        objects: dict[str, int] = {}
        transitions: dict[str, int] = {}
        meetings = 0
        for slot, cohort, age in ages:
            if _expired(usage, age):
                continue
            meetings += cohort.meetings
            audio_class = _audio_class(usage, cohort, age)
            if previous.get(slot, audio_class) != audio_class:
                transitions[audio_class] = transitions.get(audio_class, 0) + cohort.meetings
            previous[slot] = audio_class
            stored[audio_class] = stored.get(audio_class, 0) + cohort.meetings * cohort.audio_bytes
            objects[audio_class] = objects.get(audio_class, 0) + cohort.meetings
            stored[STANDARD] = stored.get(STANDARD, 0) + cohort.meetings * cohort.document_bytes
        result.append(
            ProjectedMonth(
                month=month,
                meetings_stored=meetings,
                stored_bytes=dict(sorted(stored.items())),
                estimate=_month_estimate(prices, usage, stored, objects, transitions),
            )
        )
    return result


def _month_estimate(
    prices: PriceTable,
    usage: Usage,
    stored: Mapping[str, int],
    objects: Mapping[str, int],
    transitions: Mapping[str, int],
) -> Estimate:
    n = usage.meetings_per_month
    store = requests_to_store_meeting(usage.audio_bytes, s3_index=not usage.dynamodb)
    views = Decimal(n) * usage.views_per_meeting
    plays = Decimal(n) * usage.plays_per_meeting
    listing_gets = 0 if usage.dynamodb else usage.listings_per_month
    items = storage_items(prices, stored, objects)
    items += request_items(
        prices, n * store.put, n * store.get + views * GETS_PER_VIEW + plays + listing_gets
    )
    items += transition_items(prices, transitions)
    items += transfer_items(prices, plays * usage.audio_bytes)
    notes: list[str] = []
    minutes = usage.average_minutes
    if usage.transcribe:
        items += transcribe_items(prices, n, minutes)
    if usage.bedrock:
        input_tokens, output_tokens = bedrock_tokens(minutes)
        found, missing = bedrock_items(
            prices, usage.bedrock_model_id, n * input_tokens, n * output_tokens
        )
        items += found
        notes += missing
    if usage.dynamodb:
        meetings = sum(objects.values())
        reads = dynamodb_reads(usage.listings_per_month, views)
        items += dynamodb_items(prices, Decimal(n), reads, Decimal(meetings * INDEX_ITEM_BYTES))
    return Estimate(tuple(items), tuple(notes))


@dataclass(frozen=True)
class LifecycleComparison:
    with_lifecycle: tuple[Decimal, ...]
    without_lifecycle: tuple[Decimal, ...]

    @property
    def savings_usd(self) -> Decimal:
        return sum(self.without_lifecycle, Decimal(0)) - sum(self.with_lifecycle, Decimal(0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "months": len(self.with_lifecycle),
            "with_lifecycle_usd": float(sum(self.with_lifecycle, Decimal(0))),
            "without_lifecycle_usd": float(sum(self.without_lifecycle, Decimal(0))),
            "savings_usd": float(self.savings_usd),
            "by_month": [
                {"month": i + 1, "with_lifecycle_usd": float(w), "without_lifecycle_usd": float(wo)}
                for i, (w, wo) in enumerate(
                    zip(self.with_lifecycle, self.without_lifecycle, strict=True)
                )
            ],
        }


def compare_lifecycle(
    prices: PriceTable, usage: Usage, months: int = 12, existing: Iterable[Cohort] = ()
) -> LifecycleComparison:
    cohorts = list(existing)
    on = project(prices, replace(usage, lifecycle=True), months, cohorts)
    off = project(prices, replace(usage, lifecycle=False), months, cohorts)
    return LifecycleComparison(
        with_lifecycle=tuple(m.total_usd for m in on),
        without_lifecycle=tuple(m.total_usd for m in off),
    )
