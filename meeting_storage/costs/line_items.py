"""Line items: what one AWS charge comes to, as a reviewer can check it by hand.

Every `LineItem.usd` is exactly `quantity * unit_price_usd` (Decimal). Volume bands (S3
Standard tiers, the free 100 GB of data transfer, DynamoDB's free 25 GB) appear as one line
item per band touched, so this holds for them too. Storage is billed per GB of 2^30 bytes,
as AWS does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meeting_storage.costs.pricing import (
    ARCHIVE_OVERHEAD_ARCHIVE_BYTES,
    ARCHIVE_OVERHEAD_STANDARD_BYTES,
    ARCHIVED_CLASSES,
    GIB,
    MILLION,
    STANDARD,
    THOUSAND,
    PriceTable,
    Tier,
    tiered,
)

# The categories line items are grouped by.
STORAGE = "storage"
REQUESTS = "requests"
LIFECYCLE = "lifecycle"
TRANSFER = "transfer"
PROCESSING = "processing"
INDEX = "index"

# Summarising with Bedrock: about 150 spoken words a minute at about 1.3 tokens a word, plus
# the instructions, in; a summary, action items and requirements as JSON, out.
TOKENS_PER_AUDIO_MINUTE = 200
PROMPT_TOKENS = 800
OUTPUT_TOKENS_PER_MEETING = 1000


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal
    category: str

    @property
    def usd(self) -> Decimal:
        return self.quantity * self.unit_price_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "quantity": float(self.quantity),
            "unit": self.unit,
            "unit_price_usd": float(self.unit_price_usd),
            "usd": float(self.usd),
        }


@dataclass(frozen=True)
class Estimate:
    items: tuple[LineItem, ...]
    notes: tuple[str, ...] = ()

    @property
    def total_usd(self) -> Decimal:
        return sum((item.usd for item in self.items), Decimal(0))

    def by_category(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for item in self.items:
            totals[item.category] = totals.get(item.category, Decimal(0)) + item.usd
        return totals

    def item(self, name: str) -> LineItem:
        """The line item called `name` (KeyError when there is none)."""
        for item in self.items:
            if item.name == name:
                return item
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_usd": float(self.total_usd),
            "items": [item.to_dict() for item in self.items],
            "notes": list(self.notes),
        }


def banded(
    name: str,
    quantity: Decimal,
    unit: str,
    bands: tuple[Tier, ...],
    category: str,
    band_names: Sequence[str],
) -> list[LineItem]:
    """One item per volume band the quantity reaches; one plain item when it stays in the first."""
    parts = tiered(quantity, bands)
    if len(parts) <= 1:
        rate = parts[0][0].usd if parts else bands[0].usd
        return [LineItem(name, quantity, unit, rate, category)] if quantity else []
    return [
        LineItem(f"{name} ({band_names[bands.index(band)]})", amount, unit, band.usd, category)
        for band, amount in parts
    ]


STANDARD_BANDS = ("first 50 TB", "next 450 TB", "over 500 TB")
_TRANSFER_BANDS = ("first 100 GB free", "next 10 TB", "next 40 TB", "next 100 TB", "over 150 TB")


def gb(byte_count: int | Decimal) -> Decimal:
    return Decimal(byte_count) / GIB


def storage_items(
    prices: PriceTable,
    bytes_by_class: Mapping[str, int],
    objects_by_class: Mapping[str, int] | None = None,
    *,
    suffix: str = "",
) -> list[LineItem]:
    """A month of S3 storage for these bytes, one item per class (and Standard band).

    Objects in Glacier Flexible Retrieval and Deep Archive carry 40 KB of index data each
    (8 KB billed as Standard, 32 KB at the archive rate); `objects_by_class` adds it.
    Classes that are not S3 (the local folder of STORE_IN_S3=false) cost nothing here.
    """
    billed: dict[str, Decimal] = {}
    for name, size in bytes_by_class.items():
        if name not in prices.s3 and name != "REDUCED_REDUNDANCY":
            continue
        key = name if name in prices.s3 else STANDARD
        billed[key] = billed.get(key, Decimal(0)) + Decimal(size)
    for name, count in (objects_by_class or {}).items():
        if name in ARCHIVED_CLASSES and count:
            billed[name] = billed.get(name, Decimal(0)) + count * ARCHIVE_OVERHEAD_ARCHIVE_BYTES
            billed[STANDARD] = billed.get(STANDARD, Decimal(0)) + (
                count * ARCHIVE_OVERHEAD_STANDARD_BYTES
            )
    items: list[LineItem] = []
    for name in prices.s3:  # in the table's order: Standard first, Deep Archive last
        if not billed.get(name):
            continue
        price = prices.s3[name]
        items += banded(
            f"{price.label} storage{suffix}",
            gb(billed[name]),
            "GB-month",
            price.storage_tiers,
            STORAGE,
            STANDARD_BANDS,
        )
    return items


def request_items(prices: PriceTable, put: int | Decimal, get: int | Decimal) -> list[LineItem]:
    standard = prices.s3[STANDARD]
    items = []
    if put:
        items.append(
            LineItem(
                "S3 PUT, COPY, POST and LIST requests",
                Decimal(put) / THOUSAND,
                "1,000 requests",
                standard.put_per_1k,
                REQUESTS,
            )
        )
    if get:
        items.append(
            LineItem(
                "S3 GET, HEAD and other requests",
                Decimal(get) / THOUSAND,
                "1,000 requests",
                standard.get_per_1k,
                REQUESTS,
            )
        )
    return items


def transition_items(prices: PriceTable, transitions: Mapping[str, int]) -> list[LineItem]:
    items = []
    for name, count in transitions.items():
        if count:
            price = prices.storage_class(name)
            items.append(
                LineItem(
                    f"Lifecycle transitions to {price.label}",
                    Decimal(count) / THOUSAND,
                    "1,000 requests",
                    price.transition_per_1k,
                    LIFECYCLE,
                )
            )
    return items


def transfer_items(prices: PriceTable, byte_count: int | Decimal) -> list[LineItem]:
    quantity = gb(byte_count)
    parts = tiered(quantity, prices.transfer_out_tiers)
    return [
        LineItem(
            f"Data transfer out ({_TRANSFER_BANDS[prices.transfer_out_tiers.index(band)]})",
            amount,
            "GB",
            band.usd,
            TRANSFER,
        )
        for band, amount in parts
    ]


def transcribe_items(
    prices: PriceTable, meetings: int | Decimal, minutes: Decimal
) -> list[LineItem]:
    if not meetings:
        return []
    minimum = Decimal(prices.transcribe_minimum_seconds) / 60
    billed = Decimal(meetings) * max(minutes, minimum)
    return [
        LineItem(
            "Amazon Transcribe (standard batch)",
            billed,
            "audio minute",
            prices.transcribe_per_minute,
            PROCESSING,
        )
    ]


def bedrock_tokens(minutes: Decimal) -> tuple[Decimal, Decimal]:
    """(input, output) tokens to summarise a meeting of this length (see the constants above)."""
    return minutes * TOKENS_PER_AUDIO_MINUTE + PROMPT_TOKENS, Decimal(OUTPUT_TOKENS_PER_MEETING)


def bedrock_items(
    prices: PriceTable,
    model_id: str,
    input_tokens: Decimal,
    output_tokens: Decimal,
) -> tuple[list[LineItem], list[str]]:
    """(items, notes): no items and a note when the model has no price in this table."""
    model = prices.bedrock_model(model_id)
    if model is None:
        return [], [
            f"No Bedrock price for {model_id!r} in {prices.bedrock_region or prices.region}; "
            "Bedrock is left out of the "
            f"estimate (priced models: {', '.join(sorted(prices.bedrock))})."
        ]
    items = []
    if input_tokens:
        items.append(
            LineItem(
                f"Bedrock {model.label} input tokens",
                input_tokens / THOUSAND,
                "1,000 tokens",
                model.input_per_1k_tokens,
                PROCESSING,
            )
        )
    if output_tokens:
        items.append(
            LineItem(
                f"Bedrock {model.label} output tokens",
                output_tokens / THOUSAND,
                "1,000 tokens",
                model.output_per_1k_tokens,
                PROCESSING,
            )
        )
    return items, []


def dynamodb_items(
    prices: PriceTable, writes: Decimal, reads: Decimal, stored_bytes: Decimal
) -> list[LineItem]:
    items = []
    if writes:
        items.append(
            LineItem(
                "DynamoDB on-demand writes",
                writes / MILLION,
                "million write request units",
                prices.dynamodb_write_per_million,
                INDEX,
            )
        )
    if reads:
        items.append(
            LineItem(
                "DynamoDB on-demand reads",
                reads / MILLION,
                "million read request units",
                prices.dynamodb_read_per_million,
                INDEX,
            )
        )
    bands = (
        Tier(prices.dynamodb_free_storage_gb, Decimal(0)),
        Tier(None, prices.dynamodb_storage_per_gb_month),
    )
    items += banded(
        "DynamoDB storage",
        gb(stored_bytes),
        "GB-month",
        bands,
        INDEX,
        ("first 25 GB free", "beyond 25 GB"),
    )
    return items
