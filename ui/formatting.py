"""Pure formatting for the pages: sizes, durations, dates, transcript turns. No streamlit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from meeting_storage.render.report import escape_markdown

__all__ = [
    "Turn",
    "escape_markdown",
    "format_money",
    "format_price",
    "format_quantity",
    "human_date",
    "human_duration",
    "human_size",
    "speaker_turns",
]

# "[00:01:02] Alice: words", "Alice: words" or just "words" (transcription.txt's forms).
_LINE_RE = re.compile(
    r"^\s*(?:\[(?P<time>\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?)\]\s*)?"
    r"(?:(?P<speaker>[A-Z][\w .'-]{0,40}?)\s*:\s+)?(?P<text>.*)$"
)


def human_size(size: int | float | None) -> str:
    if size is None:
        return "—"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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


def format_quantity(quantity: Decimal) -> str:
    """A count or an amount with at most four decimals: 1,200 / 4.98 / 0.0012."""
    if quantity == quantity.to_integral_value():
        return f"{int(quantity):,}"
    text = f"{quantity:,.4f}".rstrip("0").rstrip(".")
    return text if text not in {"0", "-0"} else f"{quantity:.2E}"


def human_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Turn:
    number: int
    speaker: str
    text: str
    time: str = ""


def speaker_turns(transcript: str) -> list[Turn]:
    """One turn per non-empty line; `Name: words` lines are labelled with the speaker, and a
    leading `[hh:mm:ss]` with the time."""
    turns: list[Turn] = []
    for line in transcript.splitlines():
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        assert match is not None  # the pattern matches any line
        turns.append(
            Turn(
                number=len(turns) + 1,
                speaker=(match.group("speaker") or "").strip(),
                text=match.group("text").strip(),
                time=match.group("time") or "",
            )
        )
    return turns


def has_speakers(turns: list[Turn]) -> bool:
    return sum(1 for turn in turns if turn.speaker) >= max(1, len(turns) // 2)
