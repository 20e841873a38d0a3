"""What storing and analysing one meeting costs: the S3 requests the package makes for it,
and the Amazon Transcribe seconds and Bedrock tokens billed when it was processed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from meeting_storage.costs.line_items import bedrock_items, request_items
from meeting_storage.costs.pricing import MIB, PriceTable

# Must match aws.TRANSFER_CONFIG (a test checks): uploads of 16 MiB or more go in 16 MiB parts.
MULTIPART_THRESHOLD_BYTES = 16 * MIB
MULTIPART_PART_BYTES = 16 * MIB
# Storing a meeting reads and rewrites three objects of the S3 JSON index: a locator, the
# meeting's month and the manifest.
S3_INDEX_OBJECTS = 3
S3_TOTALS_OBJECTS = 1  # index/aggregates.json, read and written with its ETag

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
    the S3 JSON index a GET and a PUT of each object it touches (index/ids/XX.json,
    index/months/YYYY-MM.json and index/meetings.json) and of the store's totals
    (index/aggregates.json)."""
    put = 4 + (S3_INDEX_OBJECTS + S3_TOTALS_OBJECTS if s3_index else 0)
    get = S3_INDEX_OBJECTS + S3_TOTALS_OBJECTS if s3_index else 0
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
