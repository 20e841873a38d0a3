"""What storing meetings costs per month: pure arithmetic on Decimal money, no I/O.

The prices are the design document's (Amazon S3 list prices for US East (N. Virginia), S3
Standard, first 50 TB tier). A GB here is 2**30 bytes, as AWS bills it. Storage classes
without a price (archives, and "LOCAL" for documents kept on disk with STORE_IN_S3=false)
are reported as unpriced rather than guessed.
"""

from __future__ import annotations

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
