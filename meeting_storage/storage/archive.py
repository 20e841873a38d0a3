"""Archived recordings: which storage classes need a restore, reading the `Restore` header,
and what a restore request is and costs.

Audio that the lifecycle policy moved to S3 Glacier Flexible Retrieval or Deep Archive cannot
be read until a restore request (RestoreObject, with a retrieval tier and a number of days)
has made a temporary copy. HeadObject reports progress in its `Restore` header:
`ongoing-request="true"` while it runs, then `ongoing-request="false", expiry-date="..."`.
S3 Glacier Instant Retrieval needs no restore: it plays like S3 Standard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.models import ArchiveStatus
from meeting_storage.costs.pricing import (
    ARCHIVED_CLASSES,
    DEEP_ARCHIVE,
    GIB,
    RESTORE_TIERS,
    THOUSAND,
    PriceTable,
)

DEFAULT_RESTORE_DAYS = 7
DEFAULT_RESTORE_TIER = "Standard"
MAX_RESTORE_DAYS = 365

_ONGOING_RE = re.compile(r'ongoing-request\s*=\s*"(true|false)"', re.I)
_EXPIRY_RE = re.compile(r'expiry-date\s*=\s*"([^"]+)"', re.I)


def parse_restore_header(value: str | None) -> tuple[str, datetime | None]:
    """("not_requested" | "in_progress" | "restored", restored copy's expiry) from HeadObject's
    `Restore` header."""
    if not value:
        return "not_requested", None
    ongoing = _ONGOING_RE.search(value)
    if ongoing is None:
        return "not_requested", None
    if ongoing.group(1).lower() == "true":
        return "in_progress", None
    expiry = _EXPIRY_RE.search(value)
    until: datetime | None = None
    if expiry is not None:
        try:
            until = parsedate_to_datetime(expiry.group(1)).astimezone(UTC)
        except (TypeError, ValueError):
            until = None
    return "restored", until


def archive_status(storage_class: str, restore_header: str | None) -> ArchiveStatus:
    archived = storage_class in ARCHIVED_CLASSES
    if not archived:
        return ArchiveStatus(storage_class=storage_class, archived=False, restore="not_needed")
    restore, until = parse_restore_header(restore_header)
    return ArchiveStatus(
        storage_class=storage_class, archived=True, restore=restore, restored_until=until
    )


def describe(status: ArchiveStatus, prices: PriceTable | None = None) -> str | None:
    """Why an archived recording cannot be played yet, and what to do; None when it can."""
    if status.playable:
        return None
    label = prices.storage_class(status.storage_class).label if prices else status.storage_class
    if status.restore == "in_progress":
        return (
            f"The audio is archived in {label}; a restore is in progress and the recording can "
            "be played once it finishes (hours, depending on the retrieval tier)."
        )
    return (
        f"The audio is archived in {label} and must be restored before it can be played: "
        "run `restore-audio MEETING_ID` (or use Restore on the meeting page)."
    )


def restore_request(storage_class: str, days: int, tier: str) -> dict[str, Any]:
    """The RestoreRequest for RestoreObject, or InvalidInputError for a bad combination."""
    if storage_class not in ARCHIVED_CLASSES:
        raise InvalidInputError(
            f"The audio is in {storage_class}, which plays without a restore; nothing to restore."
        )
    if not isinstance(days, int) or not 1 <= days <= MAX_RESTORE_DAYS:
        raise InvalidInputError(f"days must be from 1 to {MAX_RESTORE_DAYS}, not {days!r}.")
    if tier not in RESTORE_TIERS:
        raise InvalidInputError(f"tier must be one of {', '.join(RESTORE_TIERS)}, not {tier!r}.")
    if storage_class == DEEP_ARCHIVE and tier == "Expedited":
        raise InvalidInputError(
            "Deep Archive has no Expedited retrievals; use Standard (12 hours) or Bulk (48 hours)."
        )
    return {"Days": days, "GlacierJobParameters": {"Tier": tier}}


def restore_cost(prices: PriceTable, storage_class: str, tier: str, size_bytes: int) -> Decimal:
    """What one restore request costs: the per-GB retrieval fee and the per-request fee
    (the restored copy is also billed as S3 Standard storage while it exists)."""
    price = prices.restore.get((storage_class, tier))
    if price is None:
        return Decimal(0)
    return Decimal(size_bytes) / GIB * price.per_gb + price.per_1k_requests / THOUSAND


@dataclass(frozen=True)
class RestoreResult:
    meeting_id: str
    requested: bool  # False: a restore was already running
    days: int
    tier: str
    status: ArchiveStatus
    estimated_cost_usd: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "meeting_id": self.meeting_id,
            "requested": self.requested,
            "days": self.days,
            "tier": self.tier,
            "archive": self.status.to_dict(),
            "estimated_cost_usd": float(self.estimated_cost_usd),
        }
