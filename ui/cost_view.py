"""The Costs page's tables and charts, built from a cost report: pure, no streamlit.

Every money figure comes out of `meeting_storage.costs` unchanged; this module only
chooses columns, labels and order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

import altair as alt
import pandas as pd

from meeting_storage.core import layout
from meeting_storage.costs import line_items
from meeting_storage.costs.footprint import Footprint
from meeting_storage.costs.line_items import Estimate
from meeting_storage.costs.pricing import PriceTable
from meeting_storage.costs.projection import LifecycleComparison, ProjectedMonth
from meeting_storage.costs.review import CostReport
from meeting_storage.costs.stored import StoredMeeting
from ui.formatting import format_money, format_price, format_quantity, human_duration, human_size

CATEGORY_LABELS = {
    line_items.STORAGE: "S3 storage",
    line_items.REQUESTS: "S3 requests",
    line_items.LIFECYCLE: "Lifecycle transitions",
    line_items.TRANSFER: "Data transfer out",
    line_items.PROCESSING: "Transcribe and Bedrock",
    line_items.INDEX: "DynamoDB index",
}
PREFIX_LABELS = {
    layout.AUDIO_PREFIX: "recordings",
    layout.TRANSCRIPTIONS_PREFIX: "transcripts and analysis",
    layout.INDEX_PREFIX: "listing and search index",
}


def category_label(category: str) -> str:
    return CATEGORY_LABELS.get(category, category)


# ---------------------------------------------------------------- footprint


def as_of(footprint: Footprint) -> str:
    """When the figures were measured, or when the running totals were last reconciled."""
    if footprint.totals is None:
        return f"Measured {footprint.measured_at:%H:%M UTC} (a listing of the bucket)."
    return (
        "Running totals, kept current by every write; "
        + reconciled_text(footprint.reconciled_at, footprint.from_inventory)
        + " The recent meetings are those of the last 90 days."
    )


def reconciled_text(when: datetime | None, from_inventory: bool = False) -> str:
    """ "as of" the last reconciliation, for the home and Costs pages."""
    if when is None:
        return (
            "not yet checked against the bucket (`footprint reconcile` or `doctor --fix` "
            "counts what the product did not write: other prefixes, old versions)."
        )
    source = "the S3 Inventory report" if from_inventory else "a listing of the bucket"
    return f"checked against {source} as of {when:%Y-%m-%d %H:%M} UTC."


def prefix_table(footprint: Footprint) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Prefix": list(footprint.by_prefix),
            "What": [PREFIX_LABELS.get(name, "") for name in footprint.by_prefix],
            "Objects": [tally.objects for tally in footprint.by_prefix.values()],
            "Size": [human_size(tally.bytes) for tally in footprint.by_prefix.values()],
        }
    )


def storage_class_table(footprint: Footprint, prices: PriceTable) -> pd.DataFrame:
    """Bytes and objects per storage class, and what a month of each costs (with the 40 KB
    that S3 adds to every archived object)."""
    rows = []
    for name, tally in footprint.by_storage_class.items():
        items = line_items.storage_items(prices, {name: tally.bytes}, {name: tally.objects})
        if name in prices.s3:
            cost = format_money(sum((item.usd for item in items), Decimal(0)))
        else:
            cost = "local disk, not S3" if name == "LOCAL" else "not priced"
        rows.append(
            {
                "Storage class": name,
                "Objects": tally.objects,
                "Size": human_size(tally.bytes),
                "Per month": cost,
            }
        )
    return pd.DataFrame(rows, columns=["Storage class", "Objects", "Size", "Per month"])


def largest_meetings(meetings: Iterable[StoredMeeting], limit: int = 10) -> pd.DataFrame:
    """The meetings that take the most space, with their length and recorded processing cost."""
    chosen = sorted(meetings, key=lambda m: m.stored_bytes, reverse=True)[:limit]
    return pd.DataFrame(
        {
            "Meeting": [m.title or m.meeting_id for m in chosen],
            "Recorded": [m.timestamp.strftime("%Y-%m-%d") for m in chosen],
            "Length": [human_duration(m.audio_seconds) for m in chosen],
            "Stored": [human_size(m.stored_bytes) for m in chosen],
            "Recording class": [m.audio_storage_class or "—" for m in chosen],
            "Processing cost": [
                format_money(m.processing_cost_usd) if m.processing_cost_usd is not None else "—"
                for m in chosen
            ],
        }
    )


# ---------------------------------------------------------------- line items


def line_items_table(estimate: Estimate) -> pd.DataFrame:
    """Every line item, dearest first: quantity times unit price is the cost."""
    items = sorted(estimate.items, key=lambda item: item.usd, reverse=True)
    return pd.DataFrame(
        {
            "Item": [item.name for item in items],
            "Category": [category_label(item.category) for item in items],
            "Quantity": [format_quantity(item.quantity) for item in items],
            "Unit": [item.unit for item in items],
            "Unit price": [format_price(item.unit_price_usd) for item in items],
            "Cost": [format_money(item.usd) for item in items],
        }
    )


def category_totals(estimate: Estimate) -> pd.DataFrame:
    totals = estimate.by_category()
    return pd.DataFrame(
        {
            "Category": [category_label(name) for name in totals],
            "USD": [float(usd) for usd in totals.values()],
            "Cost": [format_money(usd) for usd in totals.values()],
        }
    ).sort_values("USD", ascending=False, ignore_index=True)


# ---------------------------------------------------------------- projection


def projection_table(projection: Sequence[ProjectedMonth]) -> pd.DataFrame:
    """One row per month: meetings and bytes stored, each category's cost, and the total."""
    categories = _categories(projection)
    rows = []
    for month in projection:
        totals = month.estimate.by_category()
        row: dict[str, object] = {
            "Month": month.month,
            "Meetings stored": month.meetings_stored,
            "Stored": human_size(sum(month.stored_bytes.values())),
        }
        for category in categories:
            row[category_label(category)] = format_money(totals.get(category, Decimal(0)))
        row["Total"] = format_money(month.total_usd)
        rows.append(row)
    return pd.DataFrame(rows)


def _categories(projection: Sequence[ProjectedMonth]) -> list[str]:
    seen: list[str] = []
    for month in projection:
        for item in month.estimate.items:
            if item.category not in seen:
                seen.append(item.category)
    return seen


def projection_chart(projection: Sequence[ProjectedMonth]) -> alt.Chart:
    """Stacked bars: what each month costs, split by category."""
    data = pd.DataFrame(
        [
            {
                "Month": month.month,
                "Category": category_label(category),
                "USD": float(usd),
                "Cost": format_money(usd),
            }
            for month in projection
            for category, usd in month.estimate.by_category().items()
        ],
        columns=["Month", "Category", "USD", "Cost"],
    )
    chart: alt.Chart = (
        alt.Chart(data, title="Cost per month, by category")
        .mark_bar()
        .encode(
            x=alt.X("Month:O", title="Month"),
            y=alt.Y("sum(USD):Q", title="US dollars"),
            color=alt.Color("Category:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["Month", "Category", "Cost"],
        )
    )
    return chart


def lifecycle_chart(comparison: LifecycleComparison) -> alt.Chart:
    """Two lines: each month's total with the lifecycle policy and without it."""
    rows = []
    for number, (on, off) in enumerate(
        zip(comparison.with_lifecycle, comparison.without_lifecycle, strict=True), 1
    ):
        rows.append({"Month": number, "Policy": "with lifecycle", "USD": float(on)})
        rows.append({"Month": number, "Policy": "without lifecycle", "USD": float(off)})
    data = pd.DataFrame(rows, columns=["Month", "Policy", "USD"])
    chart: alt.Chart = (
        alt.Chart(data, title="Cost per month with and without the lifecycle policy")
        .mark_line(point=True)
        .encode(
            x=alt.X("Month:O", title="Month"),
            y=alt.Y("USD:Q", title="US dollars"),
            color=alt.Color("Policy:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["Month", "Policy", alt.Tooltip("USD:Q", format="$.4f")],
        )
    )
    return chart


def lifecycle_table(comparison: LifecycleComparison) -> pd.DataFrame:
    pairs = list(zip(comparison.with_lifecycle, comparison.without_lifecycle, strict=True))
    return pd.DataFrame(
        {
            "Month": list(range(1, len(pairs) + 1)),
            "With lifecycle": [format_money(on) for on, _ in pairs],
            "Without lifecycle": [format_money(off) for _, off in pairs],
            "Saved": [format_money(off - on) for on, off in pairs],
        }
    )


# ---------------------------------------------------------------- export


def report_csv(report: CostReport) -> str:
    """Every line item (this month, each projected month) and the lifecycle totals."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(report.csv_rows())
    return buffer.getvalue()
