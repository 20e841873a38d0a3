"""What storage costs: the footprint by prefix and storage class, and a monthly estimate.

Pure arithmetic over plain values (money is Decimal), so it is tested with numbers and
reused by the dashboard, the CLI and the API alike. The prices are the design document's
price model (docs: s3-storage-architecture.md, "Cost Estimation"), AWS list prices for
us-east-1; `PRICES.as_of` says when they were current.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from . import layout

GIB = 1024**3  # AWS bills storage per GB-month with GB = 2^30 bytes
MIB = 1024**2
MULTIPART_PART_BYTES = 16 * MIB  # aws.TRANSFER_CONFIG: multipart above 16 MiB, 16 MiB parts
# Requests a stored meeting makes besides its audio upload (see `requests_per_meeting`).
DOCUMENT_PUTS = 4  # transcription.txt, summary.json, requirements.json, metadata.json
# The S3 JSON index keeps two objects (index/meetings.json for listing, index/search.json for
# search); storing a meeting reads and conditionally rewrites each.
S3_INDEX_OBJECTS = 2
OPEN_GETS = 6  # metadata.json + 3 documents + HEAD of the audio + the audio itself
LIST_PAGE = 50  # meetings per list page in the dashboard
INDEX_ENTRY_BYTES = 400  # one meeting's entry in the index (see README, "The index")
DYNAMODB_READ_UNIT_BYTES = 4096

PREFIX_LABELS = {
    layout.AUDIO_PREFIX: "recordings",
    layout.TRANSCRIPTIONS_PREFIX: "transcripts and analysis",
    layout.INDEX_KEY.split("/", 1)[0] + "/": "listing index",
}
OTHER_PREFIX = "(other)"


@dataclass(frozen=True)
class PriceSheet:
    """Prices with where they come from and when they were current."""

    as_of: date
    source: str
    region: str
    storage_gb_month: Mapping[str, Decimal]
    put_per_1000: Decimal
    get_per_1000: Decimal
    dynamodb_write_per_million: Decimal
    dynamodb_read_per_million: Decimal
    notes: tuple[str, ...] = ()


PRICES = PriceSheet(
    as_of=date(2024, 1, 1),  # month in which these were the AWS list prices
    source="design document s3-storage-architecture.md, section Cost Estimation",
    region="us-east-1",
    storage_gb_month={"STANDARD": Decimal("0.023")},
    put_per_1000=Decimal("0.005"),
    get_per_1000=Decimal("0.0004"),
    dynamodb_write_per_million=Decimal("1.25"),
    dynamodb_read_per_million=Decimal("0.25"),
    notes=(
        "S3 Standard storage, first 50 TB; other storage classes are not in the model and "
        "are shown without a price.",
        "PUT covers PUT, COPY, POST and LIST requests; GET covers GET, HEAD and other reads.",
        "DynamoDB on-demand: the design document lists reads once at $0.25 and once at "
        "$1.25 per million; $0.25 (the AWS list price for read request units) is used.",
        "Not in the model: data transfer out when audio is played outside AWS, KMS "
        "requests, and taxes.",
    ),
)


# ---------------------------------------------------------------------- footprint


class StoredObject(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def storage_class(self) -> str: ...


@dataclass(frozen=True)
class UsageRow:
    prefix: str
    storage_class: str
    objects: int
    bytes: int

    @property
    def label(self) -> str:
        return PREFIX_LABELS.get(self.prefix, "other objects in the bucket")


@dataclass(frozen=True)
class Footprint:
    """Objects and bytes per (top-level prefix, storage class)."""

    rows: tuple[UsageRow, ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(row.bytes for row in self.rows)

    @property
    def total_objects(self) -> int:
        return sum(row.objects for row in self.rows)

    def bytes_by_class(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for row in self.rows:
            totals[row.storage_class] += row.bytes
        return dict(totals)

    def bytes_under(self, prefix: str) -> int:
        return sum(row.bytes for row in self.rows if row.prefix == prefix)


def top_level_prefix(key: str) -> str:
    for prefix in PREFIX_LABELS:
        if key.startswith(prefix):
            return prefix
    return OTHER_PREFIX


def footprint(objects: Iterable[StoredObject]) -> Footprint:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for item in objects:
        cell = counts[(top_level_prefix(item.key), item.storage_class or "STANDARD")]
        cell[0] += 1
        cell[1] += int(item.size)
    order = [*PREFIX_LABELS, OTHER_PREFIX]
    rows = sorted(
        (UsageRow(prefix, cls, count, size) for (prefix, cls), (count, size) in counts.items()),
        key=lambda row: (order.index(row.prefix), row.storage_class),
    )
    return Footprint(rows=tuple(rows))


@dataclass(frozen=True)
class StorageCost:
    """The monthly storage cost of a footprint: priced classes, and bytes no price covers."""

    monthly: Decimal
    by_class: dict[str, Decimal]
    unpriced_bytes: dict[str, int]


def storage_cost(usage: Footprint, prices: PriceSheet = PRICES) -> StorageCost:
    by_class: dict[str, Decimal] = {}
    unpriced: dict[str, int] = {}
    for storage_class, size in sorted(usage.bytes_by_class().items()):
        price = prices.storage_gb_month.get(storage_class)
        if storage_class == "LOCAL":  # documents kept on local disk (STORE_IN_S3=false)
            by_class[storage_class] = Decimal(0)
        elif price is None:
            unpriced[storage_class] = size
        else:
            by_class[storage_class] = Decimal(size) / GIB * price
    return StorageCost(
        monthly=sum(by_class.values(), Decimal(0)), by_class=by_class, unpriced_bytes=unpriced
    )


# ---------------------------------------------------------------------- estimate


@dataclass(frozen=True)
class Workload:
    """The what-if inputs: how many meetings, how large, kept how long, opened how often."""

    meetings_per_month: int = 100
    audio_mb: Decimal = Decimal(50)
    document_kb: Decimal = Decimal(1024)
    retention_months: int = 12
    opens_per_meeting: int = 3
    list_views_per_month: int = 200
    dynamodb: bool = False

    def __post_init__(self) -> None:
        if min(self.meetings_per_month, self.opens_per_meeting, self.list_views_per_month) < 0:
            raise ValueError("counts of meetings, opens and list views cannot be negative")
        if self.audio_mb < 0 or self.document_kb < 0:
            raise ValueError("sizes cannot be negative")
        if self.retention_months < 1:
            raise ValueError("retention must be at least one month")

    @property
    def meeting_bytes(self) -> Decimal:
        return self.audio_mb * MIB + self.document_kb * 1024


@dataclass(frozen=True)
class RequestCounts:
    puts: int
    gets: int
    dynamodb_writes: int = 0
    dynamodb_reads: int = 0


def audio_upload_puts(audio_bytes: Decimal) -> int:
    """PUT-class requests of one upload: one PUT, or create + parts + complete above 16 MiB."""
    if audio_bytes <= MULTIPART_PART_BYTES:
        return 1
    return math.ceil(audio_bytes / MULTIPART_PART_BYTES) + 2


def requests_per_meeting(workload: Workload) -> RequestCounts:
    """Requests one new meeting causes in the month it is stored.

    Storing: the audio upload, four documents, and (S3 JSON index) a read and a conditional
    rewrite of each of its two objects; with DynamoDB the index update is one write instead.
    Opening it in the dashboard: metadata.json, three documents, a HEAD of the audio and
    one GET that plays it. Deleting (DELETE requests, lifecycle expiry) is free.
    """
    puts = audio_upload_puts(workload.audio_mb * MIB) + DOCUMENT_PUTS
    gets = OPEN_GETS * workload.opens_per_meeting
    if workload.dynamodb:
        # One write to add the meeting and one to remove it when it expires.
        return RequestCounts(puts=puts, gets=gets, dynamodb_writes=2)
    return RequestCounts(puts=puts + S3_INDEX_OBJECTS, gets=gets + S3_INDEX_OBJECTS)


def list_view_requests(workload: Workload) -> RequestCounts:
    """A month of list views: one GET of the S3 JSON index each, or one DynamoDB query of a
    page of entries (read request units of 4 KB)."""
    if workload.dynamodb:
        units = math.ceil(LIST_PAGE * INDEX_ENTRY_BYTES / DYNAMODB_READ_UNIT_BYTES)
        return RequestCounts(puts=0, gets=0, dynamodb_reads=units * workload.list_views_per_month)
    return RequestCounts(puts=0, gets=workload.list_views_per_month)


@dataclass(frozen=True)
class MonthCost:
    month: int
    stored_meetings: int
    stored_bytes: Decimal
    storage: Decimal
    requests: Decimal
    dynamodb: Decimal

    @property
    def total(self) -> Decimal:
        return self.storage + self.requests + self.dynamodb


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    prices: PriceSheet
    per_meeting: RequestCounts
    months: list[MonthCost] = field(default_factory=list)

    @property
    def steady_state(self) -> MonthCost:
        """The first month in which as many meetings expire as arrive."""
        return self.months[min(self.workload.retention_months, len(self.months)) - 1]


def estimate(workload: Workload, prices: PriceSheet = PRICES, horizon: int = 24) -> Estimate:
    """Month-by-month cost for `horizon` months, starting from an empty bucket.

    Storage is billed on what is stored at the end of each month (an upper bound: meetings
    arriving during a month are billed for the whole month); meetings older than the
    retention are gone. Requests are those of the month's new meetings.
    """
    per_meeting = requests_per_meeting(workload)
    views = list_view_requests(workload)
    new = workload.meetings_per_month
    puts = new * per_meeting.puts + views.puts
    gets = new * per_meeting.gets + views.gets
    requests = puts * prices.put_per_1000 / 1000 + gets * prices.get_per_1000 / 1000
    dynamodb = (
        (new * per_meeting.dynamodb_writes) * prices.dynamodb_write_per_million
        + (new * per_meeting.dynamodb_reads + views.dynamodb_reads)
        * prices.dynamodb_read_per_million
    ) / 10**6
    standard = prices.storage_gb_month["STANDARD"]
    months = []
    for month in range(1, max(horizon, workload.retention_months) + 1):
        stored = new * min(month, workload.retention_months)
        stored_bytes = stored * workload.meeting_bytes
        months.append(
            MonthCost(
                month=month,
                stored_meetings=stored,
                stored_bytes=stored_bytes,
                storage=stored_bytes / GIB * standard,
                requests=requests,
                dynamodb=dynamodb,
            )
        )
    return Estimate(workload=workload, prices=prices, per_meeting=per_meeting, months=months)


def format_price(price: Decimal) -> str:
    """A unit price exactly as given ($0.023, $0.0004), never rounded to cents."""
    return f"${price.normalize():f}"


def format_money(amount: Decimal) -> str:
    """Dollars with cents, or four significant decimals for amounts under a cent."""
    if amount == 0:
        return "$0.00"
    if abs(amount) >= Decimal("0.01"):
        return f"${amount.quantize(Decimal('0.01')):,}"
    small = f"{amount:.6f}".rstrip("0")
    return f"${small}" if small not in {"0.", "-0."} else "under $0.000001"
