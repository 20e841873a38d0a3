"""How the meetings are used: the what-if inputs of a projection as one value, and the
assumptions about reading them that are not inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from meeting_storage.costs.pricing import MIB, PriceTable
from meeting_storage.costs.whatif import USAGE_DEFAULTS

# A DynamoDB index item (one meeting's listing entry) and a page of the meeting list.
INDEX_ITEM_BYTES = 1024
LISTING_PAGE_SIZE = 50
# Requests to show one meeting: metadata.json, three documents and a HEAD of the audio.
GETS_PER_VIEW = 5


@dataclass(frozen=True)
class Usage:
    """What-if inputs for a projection. The defaults are declared with the inputs
    (`whatif.USAGE_INPUTS`) and follow the design document's example (100 meetings a month,
    50 MB of audio and 1 MB of documents each).

    `lifecycle` applies the lifecycle policy: audio moves to `archive_storage_class` after
    `archive_days`, and whole meetings expire after `retention_days` (None: never). Without
    it everything stays in S3 Standard and nothing expires.
    """

    meetings_per_month: int = USAGE_DEFAULTS["meetings_per_month"]
    average_minutes: Decimal = USAGE_DEFAULTS["average_minutes"]
    average_audio_mb: Decimal = USAGE_DEFAULTS["average_audio_mb"]
    average_documents_kb: Decimal = USAGE_DEFAULTS["average_documents_kb"]
    lifecycle: bool = USAGE_DEFAULTS["lifecycle"]
    archive_days: int | None = USAGE_DEFAULTS["archive_days"]
    archive_storage_class: str = USAGE_DEFAULTS["archive_storage_class"]
    retention_days: int | None = USAGE_DEFAULTS["retention_days"]
    dynamodb: bool = USAGE_DEFAULTS["dynamodb"]
    transcribe: bool = USAGE_DEFAULTS["transcribe"]
    bedrock: bool = USAGE_DEFAULTS["bedrock"]
    bedrock_model_id: str = USAGE_DEFAULTS["bedrock_model_id"]
    plays_per_meeting: Decimal = USAGE_DEFAULTS["plays_per_meeting"]
    # Not a what-if input on any face: opening a meeting costs little next to playing it.
    views_per_meeting: Decimal = Decimal(2)
    listings_per_month: int = USAGE_DEFAULTS["listings_per_month"]

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


def dynamodb_reads(listings_per_month: int, views: Decimal | int) -> Decimal:
    """Read request units of a month of listings and meeting views (eventually consistent
    reads cost half a unit)."""
    page_units = Decimal(math.ceil(LISTING_PAGE_SIZE * INDEX_ITEM_BYTES / 4096))
    return listings_per_month * page_units / 2 + Decimal(views) / 2


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
