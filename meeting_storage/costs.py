"""What storing meetings costs per month: pure arithmetic on Decimal money, no I/O.

`monthly_storage_estimate` prices a month of stored bytes and requests (the REST API's
/costs); `estimate` projects a what-if workload month by month (the dashboard's Costs page).

The prices are the design document's (Amazon S3 list prices for US East (N. Virginia), S3
Standard, first 50 TB tier). A GB here is 2**30 bytes, as AWS bills it. Storage classes
without a price (archives, and "LOCAL" for documents kept on disk with STORE_IN_S3=false)
are reported as unpriced rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

GIB = 1024**3
CENT_FRACTION = Decimal("0.000001")  # estimates are shown to a millionth of a dollar


@dataclass(frozen=True)
class Prices:
    storage_per_gb_month: Mapping[str, Decimal]
    put_per_1000: Decimal
    get_per_1000: Decimal
    currency: str
    region: str
    as_of: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "region": self.region,
            "as_of": self.as_of,
            "source": self.source,
            "storage_per_gb_month": {k: str(v) for k, v in self.storage_per_gb_month.items()},
            "put_per_1000": str(self.put_per_1000),
            "get_per_1000": str(self.get_per_1000),
        }


DESIGN_DOCUMENT_PRICES = Prices(
    storage_per_gb_month={"STANDARD": Decimal("0.023")},
    put_per_1000=Decimal("0.005"),
    get_per_1000=Decimal("0.0004"),
    currency="USD",
    region="us-east-1",
    as_of="2016-12-01",
    source=(
        "S3 storage architecture design document, 'Cost Estimation': Amazon S3 list prices "
        "for US East (N. Virginia), S3 Standard first 50 TB, in effect since 2016-12-01"
    ),
)


@dataclass(frozen=True)
class CostEstimate:
    storage: Decimal
    puts: Decimal
    gets: Decimal
    prices: Prices
    priced_bytes: int = 0
    unpriced_bytes: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return self.storage + self.puts + self.gets

    def to_dict(self) -> dict[str, Any]:
        """Money as decimal strings (exact), rounded to a millionth of the currency."""
        return {
            "currency": self.prices.currency,
            "storage": _money(self.storage),
            "puts": _money(self.puts),
            "gets": _money(self.gets),
            "total": _money(self.total),
            "priced_bytes": self.priced_bytes,
            "unpriced_bytes": dict(self.unpriced_bytes),
            "prices": self.prices.to_dict(),
        }


def monthly_storage_estimate(
    bytes_by_class: Mapping[str, int],
    puts: int,
    gets: int,
    prices: Prices = DESIGN_DOCUMENT_PRICES,
) -> CostEstimate:
    """One month of keeping `bytes_by_class` stored plus `puts` PUT and `gets` GET requests."""
    if puts < 0 or gets < 0 or any(size < 0 for size in bytes_by_class.values()):
        raise ValueError("byte and request counts cannot be negative")
    storage = Decimal(0)
    priced = 0
    unpriced: dict[str, int] = {}
    for storage_class, size in sorted(bytes_by_class.items()):
        price = prices.storage_per_gb_month.get(storage_class)
        if price is None:
            if size:
                unpriced[storage_class] = unpriced.get(storage_class, 0) + size
            continue
        storage += Decimal(size) / GIB * price
        priced += size
    return CostEstimate(
        storage=storage,
        puts=Decimal(puts) / 1000 * prices.put_per_1000,
        gets=Decimal(gets) / 1000 * prices.get_per_1000,
        prices=prices,
        priced_bytes=priced,
        unpriced_bytes=unpriced,
    )


def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT_FRACTION, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------- what-if estimate
#
# The dashboard's Costs page projects a workload month by month. Request counts follow
# what the product does; every assumption is listed in ESTIMATE_NOTES.

MIB = 1024**2
MULTIPART_PART_BYTES = 16 * MIB  # aws.TRANSFER_CONFIG: multipart above 16 MiB, 16 MiB parts
DOCUMENT_PUTS = 4  # transcription.txt, summary.json, requirements.json, metadata.json
# The S3 JSON index keeps two objects (index/meetings.json for listing, index/search.json for
# search); storing a meeting reads and conditionally rewrites each.
S3_INDEX_OBJECTS = 2
OPEN_GETS = 6  # metadata.json + 3 documents + HEAD of the audio + the audio itself
LIST_PAGE = 50  # meetings per list page in the dashboard
INDEX_ENTRY_BYTES = 400  # one meeting's entry in the index
DYNAMODB_READ_UNIT_BYTES = 4096


@dataclass(frozen=True)
class DynamoDBPrices:
    write_per_million: Decimal
    read_per_million: Decimal
    as_of: str
    source: str


DESIGN_DOCUMENT_DYNAMODB_PRICES = DynamoDBPrices(
    write_per_million=Decimal("1.25"),
    read_per_million=Decimal("0.25"),
    as_of="2018-11",
    source=(
        "S3 storage architecture design document, 'Cost Estimation': DynamoDB on-demand list "
        "prices for us-east-1, from the launch of on-demand capacity in November 2018"
    ),
)

ESTIMATE_NOTES = (
    "S3 Standard storage, first 50 TB; other storage classes are not in the model and are "
    "shown without a price.",
    "PUT covers PUT, COPY, POST and LIST requests; GET covers GET, HEAD and other reads.",
    "DynamoDB on-demand: the design document lists reads once at $0.25 and once at $1.25 per "
    "million; $0.25 (the list price for read request units) is used. AWS halved on-demand "
    "throughput prices in November 2024, so this line overstates today's DynamoDB cost.",
    "Not in the model: data transfer out when audio is played outside AWS, KMS requests, "
    "and taxes.",
)


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
    stored_bytes: int
    storage: Decimal
    requests: Decimal
    dynamodb: Decimal

    @property
    def total(self) -> Decimal:
        return self.storage + self.requests + self.dynamodb


@dataclass(frozen=True)
class Estimate:
    workload: Workload
    prices: Prices
    per_meeting: RequestCounts
    months: list[MonthCost] = field(default_factory=list)

    @property
    def steady_state(self) -> MonthCost:
        """The first month in which as many meetings expire as arrive."""
        return self.months[min(self.workload.retention_months, len(self.months)) - 1]


def estimate(
    workload: Workload,
    prices: Prices = DESIGN_DOCUMENT_PRICES,
    dynamodb_prices: DynamoDBPrices = DESIGN_DOCUMENT_DYNAMODB_PRICES,
    horizon: int = 24,
) -> Estimate:
    """Month-by-month cost for `horizon` months (at least the retention), from an empty bucket.

    Storage is billed on what is stored at the end of each month (an upper bound: meetings
    arriving during a month are billed for the whole month); meetings older than the
    retention are gone. Requests are those of the month's new meetings and list views.
    """
    per_meeting = requests_per_meeting(workload)
    views = list_view_requests(workload)
    new = workload.meetings_per_month
    puts = new * per_meeting.puts + views.puts
    gets = new * per_meeting.gets + views.gets
    dynamodb = (
        (new * per_meeting.dynamodb_writes) * dynamodb_prices.write_per_million
        + (new * per_meeting.dynamodb_reads + views.dynamodb_reads)
        * dynamodb_prices.read_per_million
    ) / 10**6
    months = []
    for month in range(1, max(horizon, workload.retention_months) + 1):
        stored = new * min(month, workload.retention_months)
        stored_bytes = int(stored * workload.meeting_bytes)
        cost = monthly_storage_estimate({"STANDARD": stored_bytes}, puts, gets, prices)
        months.append(
            MonthCost(
                month=month,
                stored_meetings=stored,
                stored_bytes=stored_bytes,
                storage=cost.storage,
                requests=cost.puts + cost.gets,
                dynamodb=dynamodb,
            )
        )
    return Estimate(workload=workload, prices=prices, per_meeting=per_meeting, months=months)


def format_price(price: Decimal) -> str:
    """A unit price exactly as given ($0.023, $0.0004), never rounded to cents."""
    return f"${price.normalize():f}"


def format_money(amount: Decimal) -> str:
    """Dollars with cents, or up to six decimals for amounts under a cent."""
    if amount == 0:
        return "$0.00"
    if abs(amount) >= Decimal("0.01"):
        return f"${amount.quantize(Decimal('0.01')):,}"
    small = f"{amount:.6f}".rstrip("0")
    return f"${small}" if small not in {"0.", "-0."} else "under $0.000001"
