"""Money, sizes, durations and dates as people read them: one formatter for every face.

Sizes are in binary units labelled as such (KiB, MiB, GiB, TiB of 1,024), the units S3
listings and AWS's "GB" bills are counted in.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

_SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB")


def human_size(size: int | float | None) -> str:
    """512 bytes, 1.5 KiB, 4.9 GiB; a dash for an unknown size."""
    if size is None:
        return "—"
    value = float(size)
    if abs(value) < 1024:
        return f"{int(value)} bytes"
    for unit in _SIZE_UNITS:
        value /= 1024
        if abs(value) < 1024 or unit == _SIZE_UNITS[-1]:
            break
    return f"{value:,.1f} {unit}"


def human_duration(seconds: float | None) -> str:
    """1:05 or 1:02:05; a dash for an unknown length."""
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def human_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def format_money(amount: Decimal) -> str:
    """Dollars with cents, or up to six decimals for amounts under a cent."""
    if amount == 0:
        return "$0.00"
    if abs(amount) >= Decimal("0.01"):
        return f"${amount.quantize(Decimal('0.01')):,}"
    small = f"{amount:.6f}".rstrip("0")
    return f"${small}" if small not in {"0.", "-0."} else "under $0.000001"


def format_price(price: Decimal) -> str:
    """A unit price exactly as given ($0.023, $0.0004), never rounded to cents."""
    return f"${price.normalize():f}"


def format_quantity(quantity: Decimal) -> str:
    """A count or an amount with at most four decimals: 1,200 / 4.98 / 0.0012."""
    if quantity == quantity.to_integral_value():
        return f"{int(quantity):,}"
    text = f"{quantity:,.4f}".rstrip("0").rstrip(".")
    return text if text not in {"0", "-0"} else f"{quantity:.2E}"
