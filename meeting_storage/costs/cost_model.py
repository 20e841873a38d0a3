"""What the bucket costs this month and what it will cost: pure arithmetic on Decimal.

Inputs are plain values (a footprint, what-if `Usage`, a `PriceTable`); outputs are line items
a reviewer can check by hand: every `LineItem.usd` is exactly `quantity * unit_price_usd`.
Volume bands (S3 Standard tiers, the free 100 GB of data transfer, DynamoDB's free 25 GB)
appear as one line item per band touched, so this holds for them too.

Assumptions a reader may want to change are named constants below, and `Usage` holds every
what-if input. Storage is billed per GB of 2^30 bytes, as AWS does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from meeting_storage.core.errors import InvalidInputError
from meeting_storage.costs.pricing import (
    ARCHIVE_CLASSES,
    ARCHIVE_OVERHEAD_ARCHIVE_BYTES,
    ARCHIVE_OVERHEAD_STANDARD_BYTES,
    ARCHIVED_CLASSES,
    DEFAULT_BEDROCK_MODEL,
    GIB,
    GLACIER,
    MILLION,
    MIN_TRANSITION_BYTES,
    STANDARD,
    THOUSAND,
    PriceTable,
    Tier,
    tiered,
)

if TYPE_CHECKING:
    from meeting_storage.costs.footprint import Footprint

DAYS_PER_MONTH = 30
MIB = 1024 * 1024
# Must match aws.TRANSFER_CONFIG (a test checks): uploads of 16 MiB or more go in 16 MiB parts.
MULTIPART_THRESHOLD_BYTES = 16 * MIB
MULTIPART_PART_BYTES = 16 * MIB
# Summarising with Bedrock: about 150 spoken words a minute at about 1.3 tokens a word, plus
# the instructions, in; a summary, action items and requirements as JSON, out.
TOKENS_PER_AUDIO_MINUTE = 200
PROMPT_TOKENS = 800
OUTPUT_TOKENS_PER_MEETING = 1000
# A DynamoDB index item (one meeting's listing entry) and a page of the meeting list.
INDEX_ITEM_BYTES = 1024
LISTING_PAGE_SIZE = 50
# Requests to show one meeting: metadata.json, three documents and a HEAD of the audio.
GETS_PER_VIEW = 5
# The S3 JSON index keeps two objects (the listing and the search text), each read and
# rewritten when a meeting is stored.
S3_INDEX_OBJECTS = 2

STORAGE = "storage"
REQUESTS = "requests"
LIFECYCLE = "lifecycle"
TRANSFER = "transfer"
PROCESSING = "processing"
INDEX = "index"


# ---------------------------------------------------------------- line items


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


def _banded(
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


_STANDARD_BANDS = ("first 50 TB", "next 450 TB", "over 500 TB")
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
        items += _banded(
            f"{price.label} storage{suffix}",
            gb(billed[name]),
            "GB-month",
            price.storage_tiers,
            STORAGE,
            _STANDARD_BANDS,
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
    items += _banded(
        "DynamoDB storage",
        gb(stored_bytes),
        "GB-month",
        bands,
        INDEX,
        ("first 25 GB free", "beyond 25 GB"),
    )
    return items


# ---------------------------------------------------------------- requests the package makes

# Amazon S3 bills requests in two classes; DELETE and abort requests are free, restores are
# billed as retrievals (see pricing.RestorePrice).
_PUT_CLASS_PREFIXES = ("Put", "Copy", "Post", "List", "Create", "Upload", "Complete")
_FREE_OPERATIONS = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}


def s3_request_class(operation: str) -> str:
    """'put', 'get', 'free' or 'retrieval': how S3 bills one API operation."""
    if operation in _FREE_OPERATIONS:
        return "free"
    if operation == "RestoreObject":
        return "retrieval"
    if operation.startswith(_PUT_CLASS_PREFIXES):
        return "put"
    return "get"


@dataclass(frozen=True)
class RequestCounts:
    put: int
    get: int


def audio_upload_requests(audio_bytes: int) -> int:
    """PUT-class requests to upload a recording: one PutObject, or a multipart upload
    (create, one request per 16 MiB part, complete)."""
    if audio_bytes < MULTIPART_THRESHOLD_BYTES:
        return 1
    return math.ceil(audio_bytes / MULTIPART_PART_BYTES) + 2


def requests_to_store_meeting(audio_bytes: int | None, *, s3_index: bool = True) -> RequestCounts:
    """S3 requests `MeetingStorage.process` makes for one meeting uploaded with its recording
    (no recording: `audio_bytes=None`): the audio, three documents, metadata.json, and with
    the S3 JSON index a GET and a PUT of each of its objects (index/meetings.json and
    index/search.json)."""
    put = 4 + (S3_INDEX_OBJECTS if s3_index else 0)
    get = S3_INDEX_OBJECTS if s3_index else 0
    if audio_bytes is not None:
        put += audio_upload_requests(audio_bytes)
    return RequestCounts(put=put, get=get)


def transcribe_billed_seconds(prices: PriceTable, audio_seconds: float) -> int:
    """Seconds Amazon Transcribe bills for one job: whole seconds, at least the minimum."""
    return max(math.ceil(audio_seconds), prices.transcribe_minimum_seconds)


def analysis_cost(
    prices: PriceTable,
    *,
    transcribed_seconds: float | None = None,
    bedrock_model_id: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    bedrock_prices: PriceTable | None = None,
) -> Decimal:
    """Amazon Transcribe for `transcribed_seconds` of audio (None: not used) plus Bedrock for
    the tokens of `bedrock_model_id` (None: not used) at `bedrock_prices` (the table of the
    Bedrock region; default `prices`). A model without a price adds nothing."""
    total = Decimal(0)
    if transcribed_seconds is not None:
        # Multiplied before dividing so that whole seconds give an exact figure.
        billed = transcribe_billed_seconds(prices, transcribed_seconds)
        total += billed * prices.transcribe_per_minute / 60
    if bedrock_model_id is not None:
        items, _ = bedrock_items(
            bedrock_prices or prices,
            bedrock_model_id,
            Decimal(input_tokens),
            Decimal(output_tokens),
        )
        total += sum((item.usd for item in items), Decimal(0))
    return total


def processing_cost(
    prices: PriceTable,
    *,
    audio_bytes: int | None,
    transcribed_seconds: float | None = None,
    bedrock_model_id: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    s3_index: bool = True,
    bedrock_prices: PriceTable | None = None,
) -> Decimal:
    """What storing and analysing one meeting cost when it was processed: S3 requests, plus
    Amazon Transcribe for `transcribed_seconds` and Bedrock for the tokens, when used (see
    `analysis_cost`)."""
    counts = requests_to_store_meeting(audio_bytes, s3_index=s3_index)
    requests = sum((item.usd for item in request_items(prices, counts.put, counts.get)), Decimal(0))
    return requests + analysis_cost(
        prices,
        transcribed_seconds=transcribed_seconds,
        bedrock_model_id=bedrock_model_id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        bedrock_prices=bedrock_prices,
    )


# ---------------------------------------------------------------- what-if inputs


@dataclass(frozen=True)
class Usage:
    """What-if inputs for a projection. Defaults follow the design document's example
    (100 meetings a month, 50 MB of audio and 1 MB of documents each).

    `lifecycle` applies the lifecycle policy: audio moves to `archive_storage_class` after
    `archive_days`, and whole meetings expire after `retention_days` (None: never). Without
    it everything stays in S3 Standard and nothing expires.
    """

    meetings_per_month: int = 100
    average_minutes: Decimal = Decimal(30)
    average_audio_mb: Decimal = Decimal(50)
    average_documents_kb: Decimal = Decimal(1024)
    lifecycle: bool = False
    archive_days: int | None = 90
    archive_storage_class: str = GLACIER
    retention_days: int | None = 365
    dynamodb: bool = False
    transcribe: bool = False
    bedrock: bool = False
    bedrock_model_id: str = DEFAULT_BEDROCK_MODEL
    plays_per_meeting: Decimal = Decimal(1)
    views_per_meeting: Decimal = Decimal(2)
    listings_per_month: int = 300

    @property
    def audio_bytes(self) -> int:
        return int(self.average_audio_mb * MIB)

    @property
    def document_bytes(self) -> int:
        return int(self.average_documents_kb * 1024)

    def to_dict(self) -> dict[str, Any]:
        return {
            "meetings_per_month": self.meetings_per_month,
            "average_minutes": float(self.average_minutes),
            "average_audio_mb": float(self.average_audio_mb),
            "average_documents_kb": float(self.average_documents_kb),
            "lifecycle": self.lifecycle,
            "archive_days": self.archive_days,
            "archive_storage_class": self.archive_storage_class,
            "retention_days": self.retention_days,
            "dynamodb": self.dynamodb,
            "transcribe": self.transcribe,
            "bedrock": self.bedrock,
            "bedrock_model_id": self.bedrock_model_id,
            "plays_per_meeting": float(self.plays_per_meeting),
            "views_per_meeting": float(self.views_per_meeting),
            "listings_per_month": self.listings_per_month,
        }


# What-if inputs from outside (the CLI's `cost` options, the REST API's GET /costs query): the
# bounds both enforce, checked in one place. Keeping amounts under a million keeps every figure
# a finite float in JSON.
MAX_PROJECTION_MONTHS = 120
MAX_WHAT_IF_COUNT = 1_000_000
MAX_WHAT_IF_AMOUNT = Decimal(1_000_000)
MAX_MODEL_ID_LENGTH = 2048
WHAT_IF_COUNTS = ("meetings_per_month", "listings_per_month")
# Days as `lifecycle apply` takes them.
WHAT_IF_DAYS = {"archive_days": 1, "retention_days": 1}
MAX_WHAT_IF_DAYS = 36_500
WHAT_IF_AMOUNTS = (
    "average_minutes",
    "average_audio_mb",
    "average_documents_kb",
    "plays_per_meeting",
)
WHAT_IF_FLAGS = ("lifecycle", "dynamodb", "transcribe", "bedrock")
WHAT_IF_INPUTS = (
    *WHAT_IF_COUNTS,
    *WHAT_IF_DAYS,
    *WHAT_IF_AMOUNTS,
    *WHAT_IF_FLAGS,
    "archive_storage_class",
    "bedrock_model_id",
)


def check_months(months: int, name: str = "months") -> int:
    """The length of a projection: 1 to MAX_PROJECTION_MONTHS months."""
    if isinstance(months, bool) or not 1 <= months <= MAX_PROJECTION_MONTHS:
        raise InvalidInputError(f"{name} must be from 1 to {MAX_PROJECTION_MONTHS}.")
    return months


def usage_overrides(
    values: Mapping[str, Any],
    *,
    keep_forever: bool = False,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Checked `Usage` overrides from what-if inputs keyed by `Usage` field (None: not given,
    keep the default); `keep_forever` means no retention. Errors (InvalidInputError) name an
    input as `names` spells it (e.g. the CLI's --options), by default by its field name."""
    unknown = sorted(set(values) - set(WHAT_IF_INPUTS))
    if unknown:
        raise ValueError(f"not what-if inputs: {', '.join(unknown)}")

    def label(name: str) -> str:
        return (names or {}).get(name, name)

    overrides: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name in WHAT_IF_COUNTS:
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_WHAT_IF_COUNT
            ):
                raise InvalidInputError(f"{label(name)} must be from 0 to {MAX_WHAT_IF_COUNT:,}.")
        elif name in WHAT_IF_DAYS:
            lowest = WHAT_IF_DAYS[name]
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not lowest <= value <= MAX_WHAT_IF_DAYS
            ):
                raise InvalidInputError(
                    f"{label(name)} must be from {lowest} to {MAX_WHAT_IF_DAYS:,} days."
                )
        elif name in WHAT_IF_AMOUNTS:
            value = _amount(value)
            if value is None:
                raise InvalidInputError(
                    f"{label(name)} must be a number from 0 to {MAX_WHAT_IF_AMOUNT:,}."
                )
        elif name in WHAT_IF_FLAGS:
            if not isinstance(value, bool):
                raise InvalidInputError(f"{label(name)} must be true or false.")
        elif name == "archive_storage_class":
            if value not in ARCHIVE_CLASSES:
                raise InvalidInputError(
                    f"{label(name)} must be one of {', '.join(ARCHIVE_CLASSES)}."
                )
        elif not isinstance(value, str) or not 1 <= len(value) <= MAX_MODEL_ID_LENGTH:
            raise InvalidInputError(
                f"{label(name)} must be a Bedrock model id of 1 to {MAX_MODEL_ID_LENGTH:,} "
                "characters."
            )
        overrides[name] = value
    if keep_forever:
        if values.get("retention_days") is not None:
            raise InvalidInputError(
                f"Give {label('retention_days')} or {label('keep_forever')}, not both."
            )
        overrides["retention_days"] = None
    return overrides


def _amount(value: object) -> Decimal | None:
    """A Decimal from 0 to MAX_WHAT_IF_AMOUNT (floats by their shortest text, so 0.1 is 0.1),
    or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or not 0 <= amount <= MAX_WHAT_IF_AMOUNT:
        return None
    return amount if amount else Decimal(0)  # no -0.0


@dataclass(frozen=True)
class Cohort:
    """Meetings of the same age: what is already stored when a projection starts."""

    age_days: int
    meetings: int
    audio_bytes: int
    document_bytes: int
    audio_storage_class: str = STANDARD


# ---------------------------------------------------------------- projection


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


def usage_notes(prices: PriceTable, usage: Usage) -> list[str]:
    """Warnings about what-if inputs that cost more than they seem to."""
    notes = []
    if usage.lifecycle and usage.archive_days is not None and usage.retention_days is not None:
        minimum = prices.storage_class(usage.archive_storage_class).minimum_days
        kept = usage.retention_days - usage.archive_days
        if 0 < kept < minimum:
            notes.append(
                f"Audio is archived for only {kept} days before it expires, but "
                f"{usage.archive_storage_class} bills at least {minimum} days: the early-deletion "
                "charge is not in this projection; archive earlier or keep meetings longer."
            )
    return notes


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
        page_units = Decimal(math.ceil(LISTING_PAGE_SIZE * INDEX_ITEM_BYTES / 4096))
        reads = usage.listings_per_month * page_units / 2 + views / 2  # eventually consistent
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


# ---------------------------------------------------------------- this month


@dataclass(frozen=True)
class StoredMeeting:
    """The figures of one stored meeting the monthly estimate and usage defaults need."""

    timestamp: datetime
    audio_bytes: int
    document_bytes: int
    audio_seconds: float | None = None
    processing_cost_usd: Decimal | None = None
    audio_storage_class: str = STANDARD
    transcribed_seconds: float | None = None
    bedrock_model_id: str | None = None
    bedrock_input_tokens: int = 0
    bedrock_output_tokens: int = 0


@dataclass(frozen=True)
class BucketContents:
    """What is stored now: bytes and objects by storage class (current versions), plus
    noncurrent versions (deleted or overwritten objects kept by versioning)."""

    bytes_by_class: Mapping[str, int]
    objects_by_class: Mapping[str, int]
    noncurrent_bytes: int = 0
    meetings: tuple[StoredMeeting, ...] = field(default_factory=tuple)
    documents_in_s3: bool = True


def _same_month(a: datetime, b: datetime) -> bool:
    return (a.year, a.month) == (b.year, b.month)


def monthly_estimate(
    prices: PriceTable, contents: BucketContents, usage: Usage, now: datetime
) -> Estimate:
    """This month: a month of storage at the current footprint, the requests and downloads of
    the meetings stored this calendar month, the Amazon Transcribe seconds and Bedrock tokens
    their metadata.json records, and the listings and index of `usage`.

    With the documents on local disk (STORE_IN_S3=false) only the recordings touch S3: their
    uploads and plays are the only requests."""
    this_month = [m for m in contents.meetings if _same_month(m.timestamp, now)]
    items = storage_items(prices, contents.bytes_by_class, contents.objects_by_class)
    if contents.noncurrent_bytes:
        items += _banded(
            "S3 noncurrent versions (deleted or replaced, kept by versioning)",
            gb(contents.noncurrent_bytes),
            "GB-month",
            prices.s3[STANDARD].storage_tiers,
            STORAGE,
            _STANDARD_BANDS,
        )
    put = 0
    get = Decimal(0)
    for meeting in this_month:
        if contents.documents_in_s3:
            counts = requests_to_store_meeting(
                meeting.audio_bytes or None, s3_index=not usage.dynamodb
            )
            put, get = put + counts.put, get + counts.get
        elif meeting.audio_bytes:
            put += audio_upload_requests(meeting.audio_bytes)
    views = len(this_month) * usage.views_per_meeting
    plays = len(this_month) * usage.plays_per_meeting
    if contents.documents_in_s3:
        listing_gets = 0 if usage.dynamodb else usage.listings_per_month
        get += views * GETS_PER_VIEW + listing_gets
    items += request_items(prices, put, get + plays)
    audio_bytes = sum(m.audio_bytes for m in this_month)
    if this_month:
        items += transfer_items(prices, usage.plays_per_meeting * audio_bytes)
    found, notes = recorded_processing_items(prices, this_month)
    items += found
    if usage.dynamodb:
        page_units = Decimal(math.ceil(LISTING_PAGE_SIZE * INDEX_ITEM_BYTES / 4096))
        reads = usage.listings_per_month * page_units / 2 + views / 2
        items += dynamodb_items(
            prices,
            Decimal(len(this_month)),
            reads,
            Decimal(len(contents.meetings) * INDEX_ITEM_BYTES),
        )
    if any(name not in prices.s3 for name, size in contents.bytes_by_class.items() if size):
        notes.append("Objects kept outside S3 (STORE_IN_S3=false) are not billed by S3.")
    return Estimate(tuple(items), tuple(notes))


def recorded_processing_items(
    prices: PriceTable, meetings: Sequence[StoredMeeting]
) -> tuple[list[LineItem], list[str]]:
    """(items, notes): the Amazon Transcribe seconds and Bedrock tokens these meetings'
    metadata.json records (their S3 requests are priced with the other requests)."""
    items: list[LineItem] = []
    billed = [
        transcribe_billed_seconds(prices, m.transcribed_seconds)
        for m in meetings
        if m.transcribed_seconds is not None
    ]
    if billed:
        # Per second, as Transcribe bills: whole seconds give exact figures.
        items.append(
            LineItem(
                "Amazon Transcribe (standard batch), recorded",
                Decimal(sum(billed)),
                "audio second",
                prices.transcribe_per_minute / 60,
                PROCESSING,
            )
        )
    tokens: dict[str, tuple[int, int]] = {}
    for meeting in meetings:
        if meeting.bedrock_model_id is not None:
            before = tokens.get(meeting.bedrock_model_id, (0, 0))
            tokens[meeting.bedrock_model_id] = (
                before[0] + meeting.bedrock_input_tokens,
                before[1] + meeting.bedrock_output_tokens,
            )
    notes: list[str] = []
    for model_id, (input_tokens, output_tokens) in sorted(tokens.items()):
        found, missing = bedrock_items(
            prices, model_id, Decimal(input_tokens), Decimal(output_tokens)
        )
        items += [replace(item, name=f"{item.name}, recorded") for item in found]
        notes += missing
    return items, notes


def usage_from_history(contents: BucketContents, now: datetime, base: Usage | None = None) -> Usage:
    """What-if inputs that continue the bucket's recent history: meetings a month over the
    last 90 days, and the average length and sizes of the stored meetings. Without any
    meetings, `base` (the design document's example by default) is returned unchanged."""
    usage = base or Usage()
    meetings = contents.meetings
    if not meetings:
        return usage
    recent = [m for m in meetings if now - m.timestamp <= timedelta(days=90)]
    per_month = math.ceil(len(recent) / 3) if recent else usage.meetings_per_month
    with_audio = [m for m in meetings if m.audio_bytes]
    audio_mb = (
        Decimal(sum(m.audio_bytes for m in with_audio)) / len(with_audio) / MIB
        if with_audio
        else Decimal(0)
    )
    documents_kb = Decimal(sum(m.document_bytes for m in meetings)) / len(meetings) / 1024
    timed = [m.audio_seconds for m in meetings if m.audio_seconds]
    minutes = Decimal(str(sum(timed))) / len(timed) / 60 if timed else usage.average_minutes
    return replace(
        usage,
        meetings_per_month=per_month,
        average_minutes=minutes.quantize(Decimal("0.01")),
        average_audio_mb=audio_mb.quantize(Decimal("0.001")),
        average_documents_kb=documents_kb.quantize(Decimal("0.01")),
    )


def cohorts_from_history(contents: BucketContents, now: datetime) -> list[Cohort]:
    """The stored meetings grouped by age in whole months and by the storage class of their
    audio, as a projection's starting point."""
    groups: dict[tuple[int, str], list[StoredMeeting]] = {}
    for meeting in contents.meetings:
        age = max(0, (now - meeting.timestamp).days)
        key = (age // DAYS_PER_MONTH, meeting.audio_storage_class)
        groups.setdefault(key, []).append(meeting)
    cohorts = []
    for (months_old, audio_class), members in sorted(groups.items()):
        count = len(members)
        cohorts.append(
            Cohort(
                age_days=months_old * DAYS_PER_MONTH,
                meetings=count,
                audio_bytes=sum(m.audio_bytes for m in members) // count,
                document_bytes=sum(m.document_bytes for m in members) // count,
                audio_storage_class=audio_class,
            )
        )
    return cohorts


# ---------------------------------------------------------------- the whole review


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
        rows = [
            [
                "section",
                "month",
                "category",
                "name",
                "quantity",
                "unit",
                "unit_price_usd",
                "usd",
            ]
        ]

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
