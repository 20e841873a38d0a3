"""The model of GET /costs: the cost review of `python -m meeting_storage cost --json`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from meeting_storage.api.schemas.fields import Timestamp
from meeting_storage.costs import line_items


class TallyOut(BaseModel):
    bytes: int
    objects: int


class MeetingFootprintOut(BaseModel):
    meeting_id: str
    title: str
    timestamp: Timestamp
    audio_minutes: float | None
    audio_bytes: int
    document_bytes: int
    stored_bytes: int
    audio_storage_class: str | None = Field(description="null: no recording in S3")
    processing_cost_usd: float | None = Field(description="as recorded in metadata.json")
    transcribed_seconds: float | None = Field(
        description="audio seconds Amazon Transcribe transcribed; null: it did not"
    )
    bedrock_model_id: str | None = Field(description="null: Bedrock was not called")
    bedrock_input_tokens: int
    bedrock_output_tokens: int


class FootprintOut(BaseModel):
    total_bytes: int
    object_count: int
    by_prefix: dict[str, TallyOut] = Field(
        description="meetings/ (recordings), transcriptions/, index/ and other"
    )
    by_storage_class: dict[str, TallyOut] = Field(
        description="S3 storage classes, and LOCAL for documents kept on disk (STORE_IN_S3=false)"
    )
    noncurrent_versions: TallyOut | None = Field(
        description="deleted or replaced objects kept by versioning; null: not versioned"
    )
    meeting_count: int
    measured_at: Timestamp
    meetings: list[MeetingFootprintOut] = Field(
        default_factory=list,
        description="per meeting, newest first; present only with ?meetings=true",
    )


class BedrockPriceOut(BaseModel):
    input: float
    output: float


class PricesOut(BaseModel):
    """The dated list-price table the estimate uses (USD)."""

    region: str
    bedrock_region: str = Field(description="the region whose Bedrock prices are used")
    date: str = Field(json_schema_extra={"format": "date"})
    currency: str
    sources: list[str]
    storage_per_gb_month: dict[str, float]
    put_per_1k_requests: float
    get_per_1k_requests: float
    transition_per_1k_requests: dict[str, float]
    transfer_out_per_gb: float
    transfer_out_free_gb: float
    dynamodb_write_per_million: float
    dynamodb_read_per_million: float
    dynamodb_storage_per_gb_month: float
    transcribe_per_minute: float
    bedrock_per_1k_tokens: dict[str, BedrockPriceOut] = Field(description="by model id")
    notes: list[str]


class UsageOut(BaseModel):
    """The what-if inputs of the projection: the bucket's recent history and set-up, with any
    query parameter applied."""

    meetings_per_month: int
    average_minutes: float
    average_audio_mb: float
    average_documents_kb: float
    lifecycle: bool
    archive_days: int | None
    archive_storage_class: str
    retention_days: int | None = Field(description="null: meetings are kept forever")
    dynamodb: bool
    transcribe: bool
    bedrock: bool
    bedrock_model_id: str
    plays_per_meeting: float
    views_per_meeting: float
    listings_per_month: int


COST_CATEGORIES = ", ".join(
    (
        line_items.STORAGE,
        line_items.REQUESTS,
        line_items.LIFECYCLE,
        line_items.TRANSFER,
        line_items.PROCESSING,
        line_items.INDEX,
    )
)


class LineItemOut(BaseModel):
    """usd is quantity x unit_price_usd (exact in Decimal; floats here are rounded)."""

    name: str = Field(examples=["S3 Standard storage"])
    category: str = Field(description=f"one of: {COST_CATEGORIES}")
    quantity: float
    unit: str = Field(examples=["GB-month"])
    unit_price_usd: float
    usd: float


class EstimateOut(BaseModel):
    total_usd: float
    items: list[LineItemOut]
    notes: list[str]


class ProjectedMonthOut(BaseModel):
    month: int = Field(description="1 is the current month")
    meetings_stored: int
    stored_gb: dict[str, float] = Field(description="by storage class")
    total_usd: float
    by_category: dict[str, float]
    items: list[LineItemOut]


class LifecycleMonthOut(BaseModel):
    month: int
    with_lifecycle_usd: float
    without_lifecycle_usd: float


class LifecycleComparisonOut(BaseModel):
    months: int
    with_lifecycle_usd: float
    without_lifecycle_usd: float
    savings_usd: float
    by_month: list[LifecycleMonthOut]


class CostsResponse(BaseModel):
    """The cost review of `python -m meeting_storage cost --json`."""

    success: Literal[True] = True
    prices: PricesOut
    footprint: FootprintOut
    usage: UsageOut
    monthly: EstimateOut = Field(description="this calendar month, line by line")
    projection: list[ProjectedMonthOut]
    projection_total_usd: float
    lifecycle_comparison: LifecycleComparisonOut
    notes: list[str]
