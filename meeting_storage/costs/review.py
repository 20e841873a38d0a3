"""The whole cost review: prices, footprint, this month, projection and the lifecycle
comparison, as `cost` prints it, GET /costs answers it and the Costs page shows it, with
its CSV and JSON exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from meeting_storage.costs.footprint import Footprint
from meeting_storage.costs.history import cohorts_from_history, monthly_estimate
from meeting_storage.costs.line_items import Estimate, LineItem
from meeting_storage.costs.pricing import PriceTable
from meeting_storage.costs.projection import (
    LifecycleComparison,
    ProjectedMonth,
    compare_lifecycle,
    project,
)
from meeting_storage.costs.usage import Usage, usage_notes

CSV_HEADER = ["section", "month", "category", "name", "quantity", "unit", "unit_price_usd", "usd"]


@dataclass(frozen=True)
class CostReport:
    """What `cost` prints and the Costs page shows: prices, footprint, this month, projection."""

    prices: PriceTable
    footprint: Footprint
    usage: Usage
    monthly: Estimate
    projection: tuple[ProjectedMonth, ...]
    lifecycle: LifecycleComparison
    notes: tuple[str, ...]

    def to_dict(self, *, meetings: bool = True) -> dict[str, Any]:
        return {
            "prices": self.prices.to_dict(),
            "footprint": self.footprint.to_dict(meetings=meetings),
            "usage": self.usage.to_dict(),
            "monthly": self.monthly.to_dict(),
            "projection": [month.to_dict() for month in self.projection],
            "projection_total_usd": float(sum((m.total_usd for m in self.projection), Decimal(0))),
            "lifecycle_comparison": self.lifecycle.to_dict(),
            "notes": list(self.notes),
        }

    def csv_rows(self) -> list[list[str]]:
        """Every line item as a flat table (header first): this month, then each projected
        month, then the with/without-lifecycle totals."""
        rows = [list(CSV_HEADER)]

        def add(section: str, month: str, item: LineItem) -> None:
            rows.append(
                [
                    section,
                    month,
                    item.category,
                    item.name,
                    str(item.quantity),
                    item.unit,
                    str(item.unit_price_usd),
                    str(item.usd),
                ]
            )

        for item in self.monthly.items:
            add("this month", "", item)
        for month in self.projection:
            for item in month.estimate.items:
                add("projection", str(month.month), item)
        for number, (on, off) in enumerate(
            zip(self.lifecycle.with_lifecycle, self.lifecycle.without_lifecycle, strict=True), 1
        ):
            rows.append(["with lifecycle", str(number), "total", "total", "", "", "", str(on)])
            rows.append(["without lifecycle", str(number), "total", "total", "", "", "", str(off)])
        return rows


def build_report(
    prices: PriceTable,
    footprint: Footprint,
    usage: Usage,
    now: datetime,
    months: int = 12,
) -> CostReport:
    contents = footprint.contents()
    cohorts = cohorts_from_history(contents, now)
    projection = project(prices, usage, months, cohorts)
    notes = [*usage_notes(prices, usage), *prices.notes]
    age = prices.age_note(now.date())
    if age:
        notes.insert(0, age)
    return CostReport(
        prices=prices,
        footprint=footprint,
        usage=usage,
        monthly=monthly_estimate(prices, contents, usage, now),
        projection=tuple(projection),
        lifecycle=compare_lifecycle(prices, usage, months, cohorts),
        notes=tuple(notes),
    )
