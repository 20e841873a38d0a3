"""Dated AWS list prices the cost model uses: pure data, Decimal, no network.

The table describes the public on-demand list prices (USD, before tax, without free-tier
credits except the permanent allowances named below) in effect on `PRICES_DATE`, for the
services this package uses, in two regions. Sources:

- S3 storage, requests, transitions and retrievals: https://aws.amazon.com/s3/pricing/
- Data transfer out to the internet: https://aws.amazon.com/s3/pricing/ ("Data transfer")
  and https://aws.amazon.com/ec2/pricing/on-demand/ (the first 100 GB a month are free,
  aggregated over every service and region of the account, since December 2021)
- DynamoDB on-demand: https://aws.amazon.com/dynamodb/pricing/on-demand/ (throughput prices
  were cut by 50% on 1 November 2024)
- Amazon Transcribe: https://aws.amazon.com/transcribe/pricing/ (standard batch
  transcription, tier 1: the first 250,000 minutes a month; billed per second with a
  15-second minimum per request)
- Amazon Bedrock on-demand inference: https://aws.amazon.com/bedrock/pricing/

For every S3 figure used here, Europe (Ireland) had the same list price as US East
(N. Virginia) on the table date; DynamoDB is dearer in Ireland. Prices change: `cost`
prints the table date, and `PriceTable.age_note` says when the table is over a year old.

Where the design document (docs: s3-storage-architecture.md, "Cost Estimation") is out of date
or incomplete, `DESIGN_DOCUMENT_NOTES` says so, and `cost` prints those notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

PRICES_DATE = dt.date(2025, 11, 1)
SOURCES = (
    "https://aws.amazon.com/s3/pricing/",
    "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
    "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "https://aws.amazon.com/transcribe/pricing/",
    "https://aws.amazon.com/bedrock/pricing/",
)
DEFAULT_REGION = "us-east-1"

# Storage classes by their S3 API names.
STANDARD = "STANDARD"
STANDARD_IA = "STANDARD_IA"
GLACIER_IR = "GLACIER_IR"
GLACIER = "GLACIER"  # S3 Glacier Flexible Retrieval
DEEP_ARCHIVE = "DEEP_ARCHIVE"
# Classes whose objects must be restored before they can be read.
# Classes a lifecycle rule may move recordings to; the last two need a restore before reading.
ARCHIVE_CLASSES = (STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE)
ARCHIVED_CLASSES = frozenset({GLACIER, DEEP_ARCHIVE})
# S3 stores 40 KB of index data with every object in these two classes: 8 KB billed at the
# S3 Standard rate and 32 KB at the archive class's rate.
ARCHIVE_OVERHEAD_STANDARD_BYTES = 8 * 1024
ARCHIVE_OVERHEAD_ARCHIVE_BYTES = 32 * 1024

# Since September 2024 lifecycle rules do not move objects smaller than 128 KB to another
# class unless the rule says otherwise (TransitionDefaultMinimumObjectSize).
MIN_TRANSITION_BYTES = 128 * 1024
GIB = 1024**3  # AWS bills storage and transfer per "GB" of 2^30 bytes
MIB = 1024**2
THOUSAND = Decimal(1000)
MILLION = Decimal(1_000_000)

RESTORE_TIERS = ("Expedited", "Standard", "Bulk")


@dataclass(frozen=True)
class Tier:
    """A volume band: `usd` per unit for the units up to `up_to` (cumulative; None: no limit)."""

    up_to: Decimal | None
    usd: Decimal


@dataclass(frozen=True)
class StorageClassPrice:
    storage_class: str
    label: str
    storage_tiers: tuple[Tier, ...]  # USD per GB-month
    put_per_1k: Decimal  # PUT, COPY, POST and LIST requests
    get_per_1k: Decimal  # GET, SELECT, HEAD and all other requests
    transition_per_1k: Decimal  # lifecycle transition requests into this class
    retrieval_per_gb: Decimal  # reading (or, for archives, restoring at the Standard tier)
    minimum_days: int  # minimum storage duration billed

    @property
    def storage_per_gb_month(self) -> Decimal:
        """The first-tier rate (the one a small bucket pays)."""
        return self.storage_tiers[0].usd


@dataclass(frozen=True)
class RestorePrice:
    per_gb: Decimal
    per_1k_requests: Decimal
    typical_hours: str


@dataclass(frozen=True)
class BedrockModelPrice:
    model_id: str
    label: str
    input_per_1k_tokens: Decimal
    output_per_1k_tokens: Decimal


@dataclass(frozen=True)
class PriceTable:
    region: str
    date: dt.date
    s3: Mapping[str, StorageClassPrice]
    restore: Mapping[tuple[str, str], RestorePrice]  # (storage class, tier)
    transfer_out_tiers: tuple[Tier, ...]  # USD per GB a month, first 100 GB free
    dynamodb_write_per_million: Decimal
    dynamodb_read_per_million: Decimal
    dynamodb_storage_per_gb_month: Decimal
    dynamodb_free_storage_gb: Decimal
    transcribe_per_minute: Decimal
    transcribe_minimum_seconds: int
    bedrock: Mapping[str, BedrockModelPrice]
    sources: tuple[str, ...] = SOURCES
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The region whose Bedrock prices `bedrock` holds, when Bedrock runs elsewhere.
    bedrock_region: str | None = None

    def storage_class(self, name: str) -> StorageClassPrice:
        """Prices of a storage class; unknown classes (e.g. REDUCED_REDUNDANCY) as Standard."""
        return self.s3.get(name, self.s3[STANDARD])

    def bedrock_model(self, model_id: str) -> BedrockModelPrice | None:
        """The price of a Bedrock model id, foundation model or cross-region inference
        profile (`us.`, `eu.`, `apac.`, `global.` prefixes), or None when not in the table."""
        return self.bedrock.get(bedrock_base_model_id(model_id))

    def age_note(self, today: dt.date) -> str | None:
        days = (today - self.date).days
        if days <= 365:
            return None
        return (
            f"The price table is {days} days old (prices of {self.date.isoformat()}); check the "
            "sources and update meeting_storage/costs/pricing.py."
        )

    def to_dict(self) -> dict[str, object]:
        standard = self.s3[STANDARD]
        return {
            "region": self.region,
            "bedrock_region": self.bedrock_region or self.region,
            "date": self.date.isoformat(),
            "currency": "USD",
            "sources": list(self.sources),
            "storage_per_gb_month": {
                name: float(price.storage_per_gb_month) for name, price in self.s3.items()
            },
            "put_per_1k_requests": float(standard.put_per_1k),
            "get_per_1k_requests": float(standard.get_per_1k),
            "transition_per_1k_requests": {
                name: float(price.transition_per_1k)
                for name, price in self.s3.items()
                if name != STANDARD
            },
            "transfer_out_per_gb": float(self.transfer_out_tiers[1].usd),
            "transfer_out_free_gb": float(self.transfer_out_tiers[0].up_to or 0),
            "dynamodb_write_per_million": float(self.dynamodb_write_per_million),
            "dynamodb_read_per_million": float(self.dynamodb_read_per_million),
            "dynamodb_storage_per_gb_month": float(self.dynamodb_storage_per_gb_month),
            "transcribe_per_minute": float(self.transcribe_per_minute),
            "bedrock_per_1k_tokens": {
                model_id: {
                    "input": float(price.input_per_1k_tokens),
                    "output": float(price.output_per_1k_tokens),
                }
                for model_id, price in self.bedrock.items()
            },
            "notes": list(self.notes),
        }


def bedrock_base_model_id(model_id: str) -> str:
    """`eu.anthropic.claude-3-haiku-20240307-v1:0` -> `anthropic.claude-3-haiku-20240307-v1:0`."""
    for prefix in ("us.", "eu.", "apac.", "global.", "us-gov."):
        if model_id.startswith(prefix):
            return model_id[len(prefix) :]
    return model_id


def tiered(quantity: Decimal, tiers: tuple[Tier, ...]) -> list[tuple[Tier, Decimal]]:
    """Split `quantity` over volume bands: [(band, quantity in that band), ...], in order,
    leaving out bands it does not reach."""
    parts: list[tuple[Tier, Decimal]] = []
    below = Decimal(0)
    for tier in tiers:
        if quantity <= below:
            break
        top = quantity if tier.up_to is None else min(quantity, tier.up_to)
        parts.append((tier, top - below))
        below = top
    return parts


def d(value: str) -> Decimal:
    return Decimal(value)


_TB = Decimal(1024)  # GB in a TB, as AWS counts its volume bands


def _s3_prices() -> dict[str, StorageClassPrice]:
    def flat(rate: str) -> tuple[Tier, ...]:
        return (Tier(None, d(rate)),)

    return {
        STANDARD: StorageClassPrice(
            STANDARD,
            "S3 Standard",
            (Tier(50 * _TB, d("0.023")), Tier(500 * _TB, d("0.022")), Tier(None, d("0.021"))),
            put_per_1k=d("0.005"),
            get_per_1k=d("0.0004"),
            transition_per_1k=d("0"),
            retrieval_per_gb=d("0"),
            minimum_days=0,
        ),
        STANDARD_IA: StorageClassPrice(
            STANDARD_IA,
            "S3 Standard-IA",
            flat("0.0125"),
            put_per_1k=d("0.01"),
            get_per_1k=d("0.001"),
            transition_per_1k=d("0.01"),
            retrieval_per_gb=d("0.01"),
            minimum_days=30,
        ),
        GLACIER_IR: StorageClassPrice(
            GLACIER_IR,
            "S3 Glacier Instant Retrieval",
            flat("0.004"),
            put_per_1k=d("0.02"),
            get_per_1k=d("0.01"),
            transition_per_1k=d("0.02"),
            retrieval_per_gb=d("0.03"),
            minimum_days=90,
        ),
        GLACIER: StorageClassPrice(
            GLACIER,
            "S3 Glacier Flexible Retrieval",
            flat("0.0036"),
            put_per_1k=d("0.03"),
            get_per_1k=d("0.0004"),
            transition_per_1k=d("0.03"),
            retrieval_per_gb=d("0.01"),
            minimum_days=90,
        ),
        DEEP_ARCHIVE: StorageClassPrice(
            DEEP_ARCHIVE,
            "S3 Glacier Deep Archive",
            flat("0.00099"),
            put_per_1k=d("0.05"),
            get_per_1k=d("0.0004"),
            transition_per_1k=d("0.05"),
            retrieval_per_gb=d("0.02"),
            minimum_days=180,
        ),
    }


_RESTORE = {
    (GLACIER, "Expedited"): RestorePrice(d("0.03"), d("10.00"), "1-5 minutes"),
    (GLACIER, "Standard"): RestorePrice(d("0.01"), d("0.05"), "3-5 hours"),
    (GLACIER, "Bulk"): RestorePrice(d("0"), d("0"), "5-12 hours"),
    (DEEP_ARCHIVE, "Standard"): RestorePrice(d("0.02"), d("0.10"), "within 12 hours"),
    (DEEP_ARCHIVE, "Bulk"): RestorePrice(d("0.0025"), d("0.025"), "within 48 hours"),
}

# Data transfer out of AWS to the internet, per GB in a month. The first 100 GB are free.
_TRANSFER_OUT = (
    Tier(d("100"), d("0")),
    Tier(10 * _TB, d("0.09")),
    Tier(50 * _TB, d("0.085")),
    Tier(150 * _TB, d("0.07")),
    Tier(None, d("0.05")),
)

_CLAUDE = {
    "anthropic.claude-3-haiku-20240307-v1:0": ("Claude 3 Haiku", "0.00025", "0.00125"),
    "anthropic.claude-3-5-haiku-20241022-v1:0": ("Claude 3.5 Haiku", "0.0008", "0.004"),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": ("Claude 3.5 Sonnet", "0.003", "0.015"),
    "anthropic.claude-3-5-sonnet-20241022-v2:0": ("Claude 3.5 Sonnet v2", "0.003", "0.015"),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": ("Claude 3.7 Sonnet", "0.003", "0.015"),
    "anthropic.claude-sonnet-4-20250514-v1:0": ("Claude Sonnet 4", "0.003", "0.015"),
}
_NOVA = {
    "amazon.nova-micro-v1:0": ("Amazon Nova Micro", "0.000035", "0.00014"),
    "amazon.nova-lite-v1:0": ("Amazon Nova Lite", "0.00006", "0.00024"),
    "amazon.nova-pro-v1:0": ("Amazon Nova Pro", "0.0008", "0.0032"),
}
DEFAULT_BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _models(table: Mapping[str, tuple[str, str, str]]) -> dict[str, BedrockModelPrice]:
    return {
        model_id: BedrockModelPrice(model_id, label, d(input_price), d(output_price))
        for model_id, (label, input_price, output_price) in table.items()
    }


DESIGN_DOCUMENT_NOTES = (
    "DynamoDB: the design document's '$1.25 per million reads, $1.25 per million writes' is out "
    "of date. On-demand throughput prices were halved on 1 November 2024: in us-east-1 a million "
    "write request units cost $0.625 and a million read request units $0.125 (reads were $0.25, "
    "not $1.25, even before the cut).",
    "Transcription and summarisation: the design document leaves out Amazon Transcribe "
    "($0.024 per audio minute) and Amazon Bedrock (per token), which dominate the real bill. "
    "Transcribing one 30-minute meeting ($0.72) costs as much as keeping its 50 MB recording in "
    "S3 Standard for more than 50 years.",
    "Lifecycle: the design document's example rule archives and expires only transcriptions/, "
    "which would leave the audio (nearly all of the bytes) in S3 Standard forever and expire a "
    "meeting's metadata.json while its audio stays. `lifecycle apply` archives the audio and "
    "expires both prefixes on the same day, and never touches index/.",
    "Growth: the design document's '100 meetings = 5 GB = $0.12/month' is one month's meetings. "
    "Storage accumulates: at 100 meetings a month with nothing expiring, the bucket holds about "
    "60 GB after a year and costs about $1.38 a month for storage alone.",
    "Data transfer: playing a recording downloads it. Beyond the free 100 GB a month, data "
    "transfer out costs $0.09/GB, which the design document does not mention.",
)


def _table(
    region: str,
    dynamodb: tuple[str, str, str],
    bedrock: dict[str, BedrockModelPrice],
    extra_notes: tuple[str, ...] = (),
) -> PriceTable:
    write, read, storage = dynamodb
    return PriceTable(
        region=region,
        date=PRICES_DATE,
        s3=_s3_prices(),
        restore=_RESTORE,
        transfer_out_tiers=_TRANSFER_OUT,
        dynamodb_write_per_million=d(write),
        dynamodb_read_per_million=d(read),
        dynamodb_storage_per_gb_month=d(storage),
        dynamodb_free_storage_gb=d("25"),
        transcribe_per_minute=d("0.024"),
        transcribe_minimum_seconds=15,
        bedrock=bedrock,
        notes=(*DESIGN_DOCUMENT_NOTES, *extra_notes),
    )


PRICE_TABLES: Mapping[str, PriceTable] = {
    "us-east-1": _table(
        "us-east-1", ("0.625", "0.125", "0.25"), {**_models(_CLAUDE), **_models(_NOVA)}
    ),
    "eu-west-1": _table(
        "eu-west-1",
        ("0.705", "0.1415", "0.283"),
        # Anthropic models are served in Europe through the `eu.` inference profiles at the
        # same list price; Nova's European prices differ and are not in this table.
        _models(_CLAUDE),
        (
            "Bedrock in eu-west-1: only the Anthropic models are priced here; use an `eu.` "
            "inference profile id.",
        ),
    ),
}


def prices_for(region: str) -> PriceTable:
    """The table for a region; other regions get us-east-1 prices with a note saying so."""
    table = PRICE_TABLES.get(region)
    if table is not None:
        return table
    fallback = PRICE_TABLES[DEFAULT_REGION]
    note = (
        f"No price table for region {region!r}; showing {DEFAULT_REGION} prices "
        f"(tables exist for {', '.join(sorted(PRICE_TABLES))})."
    )
    return replace(fallback, notes=(note, *fallback.notes))
