"""From what is stored to what it costs: this month's estimate, and the what-if inputs and
cohorts that continue the bucket's history into a projection."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from meeting_storage.costs.line_items import (
    PROCESSING,
    STANDARD_BANDS,
    STORAGE,
    Estimate,
    LineItem,
    banded,
    bedrock_items,
    dynamodb_items,
    gb,
    request_items,
    storage_items,
    transfer_items,
)
from meeting_storage.costs.pricing import MIB, STANDARD, PriceTable
from meeting_storage.costs.processing import (
    audio_upload_requests,
    requests_to_store_meeting,
    transcribe_billed_seconds,
)
from meeting_storage.costs.projection import DAYS_PER_MONTH, Cohort
from meeting_storage.costs.stored import BucketContents, StoredMeeting, StoredTotals
from meeting_storage.costs.usage import GETS_PER_VIEW, INDEX_ITEM_BYTES, Usage, dynamodb_reads


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
        items += banded(
            "S3 noncurrent versions (deleted or replaced, kept by versioning)",
            gb(contents.noncurrent_bytes),
            "GB-month",
            prices.s3[STANDARD].storage_tiers,
            STORAGE,
            STANDARD_BANDS,
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
        items += dynamodb_items(
            prices,
            Decimal(len(this_month)),
            dynamodb_reads(usage.listings_per_month, views),
            Decimal(contents.meeting_count * INDEX_ITEM_BYTES),
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
    if contents.totals is not None:
        return _usage_from_totals(contents, contents.totals, now, usage)
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


def _usage_from_totals(
    contents: BucketContents, totals: StoredTotals, now: datetime, usage: Usage
) -> Usage:
    """`usage_from_history` from the running totals: averages over every meeting, the rate
    from the recent meetings (or the months of the last 90 days when there are too many to
    read one by one)."""
    if not totals.meetings:
        return usage
    if totals.recent_complete:
        recent = sum(1 for m in contents.meetings if now - m.timestamp <= timedelta(days=90))
    else:
        start = (now - timedelta(days=90)).strftime("%Y-%m")
        recent = sum(c.meetings for c in totals.cohorts if c.month >= start)
    per_month = math.ceil(recent / 3) if recent else usage.meetings_per_month
    audio_mb = (
        Decimal(totals.audio_bytes) / totals.audio_meetings / MIB
        if totals.audio_meetings
        else Decimal(0)
    )
    documents_kb = Decimal(totals.document_bytes) / totals.meetings / 1024
    minutes = (
        Decimal(str(totals.timed_seconds)) / totals.timed_meetings / 60
        if totals.timed_meetings
        else usage.average_minutes
    )
    return replace(
        usage,
        meetings_per_month=per_month,
        average_minutes=minutes.quantize(Decimal("0.01")),
        average_audio_mb=audio_mb.quantize(Decimal("0.001")),
        average_documents_kb=documents_kb.quantize(Decimal("0.01")),
    )


def _cohorts_from_totals(totals: StoredTotals, now: datetime) -> list[Cohort]:
    groups: dict[tuple[int, str], list[int]] = {}
    for cohort in totals.cohorts:
        if cohort.meetings <= 0:
            continue
        year, month = (int(part) for part in cohort.month.split("-"))
        start = datetime(year, month, 1, tzinfo=now.tzinfo)
        key = (max(0, (now - start).days) // DAYS_PER_MONTH, cohort.storage_class or STANDARD)
        group = groups.setdefault(key, [0, 0, 0])
        group[0] += cohort.meetings
        group[1] += cohort.audio_bytes
        group[2] += cohort.document_bytes
    return [
        Cohort(
            age_days=months_old * DAYS_PER_MONTH,
            meetings=count,
            audio_bytes=audio // count,
            document_bytes=documents // count,
            audio_storage_class=audio_class,
        )
        for (months_old, audio_class), (count, audio, documents) in sorted(groups.items())
    ]


def cohorts_from_history(contents: BucketContents, now: datetime) -> list[Cohort]:
    """The stored meetings grouped by age in whole months and by the storage class of their
    audio (S3 Standard when there is none), as a projection's starting point."""
    if contents.totals is not None:
        return _cohorts_from_totals(contents.totals, now)
    groups: dict[tuple[int, str], list[StoredMeeting]] = {}
    for meeting in contents.meetings:
        age = max(0, (now - meeting.timestamp).days)
        key = (age // DAYS_PER_MONTH, meeting.audio_storage_class or STANDARD)
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
