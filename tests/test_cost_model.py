"""The cost model, checked against figures computed by hand (Decimal, no network)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from meeting_storage import InvalidInputError
from meeting_storage.costs.footprint import Tally, summarize
from meeting_storage.costs.history import monthly_estimate, usage_from_history
from meeting_storage.costs.line_items import (
    LineItem,
    bedrock_items,
    bedrock_tokens,
    dynamodb_items,
    request_items,
    storage_items,
    transcribe_items,
    transfer_items,
)
from meeting_storage.costs.pricing import GLACIER, STANDARD, PriceTable, prices_for
from meeting_storage.costs.processing import (
    MULTIPART_PART_BYTES,
    MULTIPART_THRESHOLD_BYTES,
    RequestCounts,
    analysis_cost,
    processing_cost,
    requests_to_store_meeting,
    s3_request_class,
    transcribe_billed_seconds,
)
from meeting_storage.costs.projection import Cohort, compare_lifecycle, project
from meeting_storage.costs.review import build_report
from meeting_storage.costs.stored import BucketContents, StoredMeeting
from meeting_storage.costs.usage import Usage, usage_notes
from meeting_storage.costs.whatif import check_months, usage_overrides
from meeting_storage.storage.aws import TRANSFER_CONFIG

GB = 1024**3
MB = 1024**2
US = prices_for("us-east-1")
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


def total(items: list[LineItem]) -> Decimal:
    return sum((item.usd for item in items), Decimal(0))


# ---------------------------------------------------------------- the design document's example


def test_5_gb_in_standard_costs_0_115_a_month() -> None:
    items = storage_items(US, {STANDARD: 5 * GB})
    assert len(items) == 1
    assert items[0].name == "S3 Standard storage"
    assert items[0].quantity == Decimal(5) and items[0].unit == "GB-month"
    assert items[0].usd == Decimal("0.115")


def test_the_100_meeting_example() -> None:
    """100 meetings x (50 MB audio + 1 MB transcription): the document rounds 5,100 MB to
    "~5GB = $0.12/month"; exactly, 5,100 MiB is 4.98 GiB and costs $0.1146 a month."""
    month = project(US, Usage(), months=1)[0]
    assert month.meetings_stored == 100
    assert month.stored_bytes == {STANDARD: 100 * (50 + 1) * MB}
    storage = month.estimate.item("S3 Standard storage")
    assert storage.quantity == Decimal("4.98046875")
    assert storage.usd == Decimal("4.98046875") * Decimal("0.023")
    assert round(storage.usd, 3) == Decimal("0.115")
    # Requests: 50 MiB goes up in four 16 MiB parts (create, 4 parts, complete: 6 PUTs), then
    # 3 documents, metadata.json, the index's three objects and index/aggregates.json:
    # 100 x (6 + 4 + 3 + 1) = 1,400 PUTs; GETs: 100 x (3 index + 1 totals) reads
    # + 100 x 2 views x 5 + 100 plays + 300 listings = 1,800.
    # 1.4 x $0.005 = $0.007 and 1.8 x $0.0004 = $0.00072.
    puts = month.estimate.item("S3 PUT, COPY, POST and LIST requests")
    gets = month.estimate.item("S3 GET, HEAD and other requests")
    assert (puts.quantity, puts.usd) == (Decimal("1.4"), Decimal("0.0070"))
    assert (gets.quantity, gets.usd) == (Decimal("1.8"), Decimal("0.00072"))
    # One play of each recording: 4.88 GB, inside the free 100 GB of data transfer.
    transfer = month.estimate.item("Data transfer out (first 100 GB free)")
    assert transfer.usd == 0
    # $0.11455078125 storage + $0.007 + $0.00072 = $0.12227078125.
    assert round(month.total_usd, 4) == Decimal("0.1223")


def test_storage_accumulates_month_after_month_without_lifecycle() -> None:
    months = project(US, Usage(), months=12)
    assert [m.meetings_stored for m in months] == [100 * n for n in range(1, 13)]
    year_end = months[-1].estimate.item("S3 Standard storage")
    assert year_end.quantity == Decimal("59.765625")  # 1,200 x 51 MiB
    assert round(year_end.usd, 2) == Decimal("1.37")


# ---------------------------------------------------------------- line items


def test_standard_volume_bands() -> None:
    items = storage_items(US, {STANDARD: 60 * 1024 * GB})  # 60 TB
    assert [(i.name, i.quantity, i.unit_price_usd) for i in items] == [
        ("S3 Standard storage (first 50 TB)", Decimal(51200), Decimal("0.023")),
        ("S3 Standard storage (next 450 TB)", Decimal(10240), Decimal("0.022")),
    ]
    assert total(items) == Decimal("1177.600") + Decimal("225.280")


def test_archived_objects_carry_40_kb_of_index_data() -> None:
    items = storage_items(US, {GLACIER: 1000 * MB}, {GLACIER: 1000})
    by_name = {i.name: i for i in items}
    glacier = by_name["S3 Glacier Flexible Retrieval storage"]
    standard = by_name["S3 Standard storage"]
    assert glacier.quantity == Decimal(1000 * (MB + 32 * 1024)) / GB
    assert standard.quantity == Decimal(1000 * 8 * 1024) / GB
    assert glacier.unit_price_usd == Decimal("0.0036")


def test_local_documents_are_not_billed_by_s3() -> None:
    assert storage_items(US, {"LOCAL": 10 * GB}) == []


def test_requests() -> None:
    items = request_items(US, 1000, 10_000)
    assert [(i.quantity, i.unit, i.usd) for i in items] == [
        (Decimal(1), "1,000 requests", Decimal("0.005")),
        (Decimal(10), "1,000 requests", Decimal("0.0040")),
    ]


def test_data_transfer_out_beyond_the_free_100_gb() -> None:
    items = transfer_items(US, 150 * GB)
    assert [(i.name, i.quantity, i.usd) for i in items] == [
        ("Data transfer out (first 100 GB free)", Decimal(100), Decimal(0)),
        ("Data transfer out (next 10 TB)", Decimal(50), Decimal("4.50")),
    ]


def test_transcribe_per_minute_with_a_15_second_minimum() -> None:
    assert total(transcribe_items(US, 10, Decimal(30))) == Decimal("7.200")
    short = transcribe_items(US, 1, Decimal(10) / 60)
    assert short[0].quantity == Decimal("0.25") and short[0].usd == Decimal("0.006")


def test_bedrock_tokens_and_prices() -> None:
    input_tokens, output_tokens = bedrock_tokens(Decimal(30))
    assert (input_tokens, output_tokens) == (Decimal(6800), Decimal(1000))
    items, notes = bedrock_items(
        US, "anthropic.claude-3-haiku-20240307-v1:0", input_tokens, output_tokens
    )
    assert notes == []
    assert [i.usd for i in items] == [Decimal("0.0017"), Decimal("0.00125")]
    items, notes = bedrock_items(US, "acme.unknown-v1", input_tokens, output_tokens)
    assert items == [] and "acme.unknown-v1" in notes[0]


def test_dynamodb_on_demand() -> None:
    items = dynamodb_items(US, Decimal(1_000_000), Decimal(1_000_000), Decimal(30 * GB))
    assert [(i.name, i.usd) for i in items] == [
        ("DynamoDB on-demand writes", Decimal("0.625")),
        ("DynamoDB on-demand reads", Decimal("0.125")),
        ("DynamoDB storage (first 25 GB free)", Decimal(0)),
        ("DynamoDB storage (beyond 25 GB)", Decimal("1.25")),
    ]


# ---------------------------------------------------------------- requests the package makes


def test_requests_to_store_a_meeting() -> None:
    # 3 documents + metadata.json + 3 index objects + index/aggregates.json: 8 PUTs, 4 GETs.
    assert requests_to_store_meeting(None) == RequestCounts(put=8, get=4)
    assert requests_to_store_meeting(1000) == RequestCounts(put=9, get=4)
    # 40 MiB goes up in three 16 MiB parts: create, 3 parts, complete.
    assert requests_to_store_meeting(40 * MB) == RequestCounts(put=13, get=4)
    assert requests_to_store_meeting(16 * MB - 1).put == 9
    assert requests_to_store_meeting(1000, s3_index=False) == RequestCounts(5, 0)


def test_the_multipart_figures_match_the_transfer_configuration() -> None:
    assert TRANSFER_CONFIG.multipart_threshold == MULTIPART_THRESHOLD_BYTES
    assert TRANSFER_CONFIG.multipart_chunksize == MULTIPART_PART_BYTES


@pytest.mark.parametrize(
    ("operation", "kind"),
    [
        ("PutObject", "put"),
        ("UploadPart", "put"),
        ("CreateMultipartUpload", "put"),
        ("CompleteMultipartUpload", "put"),
        ("ListObjectsV2", "put"),
        ("ListObjectVersions", "put"),
        ("GetObject", "get"),
        ("HeadObject", "get"),
        ("GetBucketVersioning", "get"),
        ("DeleteObjects", "free"),
        ("DeleteObject", "free"),
        ("RestoreObject", "retrieval"),
    ],
)
def test_s3_request_classes(operation: str, kind: str) -> None:
    assert s3_request_class(operation) == kind


def test_processing_cost_of_one_meeting() -> None:
    # 9 PUTs and 4 GETs: 9 x $0.000005 + 4 x $0.0000004.
    assert processing_cost(US, audio_bytes=1000) == Decimal("0.0000466")
    with_ai = processing_cost(
        US,
        audio_bytes=1000,
        transcribed_seconds=1800,
        bedrock_model_id="anthropic.claude-3-haiku-20240307-v1:0",
        input_tokens=6800,
        output_tokens=1000,
    )
    assert with_ai == Decimal("0.0000466") + Decimal("0.72") + Decimal("0.00295")


def test_processing_cost_bills_transcribe_per_whole_second_with_a_minimum() -> None:
    s3_requests = Decimal("0.0000466")  # 9 PUTs x $0.000005 + 4 GETs x $0.0000004

    def transcribe_usd(seconds: float) -> Decimal:
        return processing_cost(US, audio_bytes=1000, transcribed_seconds=seconds) - (s3_requests)

    # 15 s minimum a job: 15 / 60 x $0.024 = $0.006, however short the recording.
    assert transcribe_usd(0) == transcribe_usd(0.5) == transcribe_usd(15) == Decimal("0.006")
    # Whole seconds, rounded up: 61.2 s is billed as 62 s = 62 / 60 x $0.024 = $0.0248.
    assert transcribe_usd(61.2) == transcribe_usd(62) == Decimal("0.0248")
    assert transcribe_billed_seconds(US, 61.2) == 62
    assert processing_cost(US, audio_bytes=1000) == s3_requests  # not transcribed


def test_bedrock_tokens_are_priced_in_the_bedrock_region() -> None:
    nova = "amazon.nova-lite-v1:0"  # priced in us-east-1, not in the eu-west-1 table
    europe = prices_for("eu-west-1")

    def bedrock_usd(prices: PriceTable, bedrock_prices: PriceTable | None = None) -> Decimal:
        return analysis_cost(
            prices,
            bedrock_model_id=nova,
            input_tokens=10_000,
            output_tokens=2_000,
            bedrock_prices=bedrock_prices,
        )

    # 10 x $0.00006 in + 2 x $0.00024 out.
    assert bedrock_usd(US) == bedrock_usd(europe, bedrock_prices=US) == Decimal("0.00108")
    assert bedrock_usd(europe) == 0  # no price: left out (the service adds a note)


# ---------------------------------------------------------------- projection and lifecycle


def test_lifecycle_archives_audio_after_90_days() -> None:
    usage = Usage(lifecycle=True)
    months = project(US, usage, months=4)
    fourth = months[3]
    # Ages 90, 60, 30 and 0 days: the first month's recordings are archived in month 4.
    assert fourth.stored_bytes == {
        GLACIER: 100 * 50 * MB,
        STANDARD: 300 * 50 * MB + 400 * MB,
    }
    transition = fourth.estimate.item("Lifecycle transitions to S3 Glacier Flexible Retrieval")
    assert (transition.quantity, transition.usd) == (Decimal("0.1"), Decimal("0.003"))
    assert all("transition" not in i.name for m in months[:3] for i in m.estimate.items)
    glacier = fourth.estimate.item("S3 Glacier Flexible Retrieval storage")
    assert glacier.quantity == Decimal(100 * (50 * MB + 32 * 1024)) / GB


def test_meetings_expire_after_the_retention() -> None:
    usage = Usage(lifecycle=True, archive_days=None, retention_days=60)
    months = project(US, usage, months=4)
    assert [m.meetings_stored for m in months] == [100, 200, 200, 200]
    storage = [m.estimate.item("S3 Standard storage").usd for m in months]
    assert storage[1] == 2 * storage[0]
    # Once as many meetings expire as arrive, every month costs the same.
    assert months[1].total_usd == months[2].total_usd == months[3].total_usd


def test_lifecycle_saves_money_over_a_year() -> None:
    comparison = compare_lifecycle(US, Usage())
    assert len(comparison.with_lifecycle) == 12
    assert comparison.with_lifecycle[:3] == comparison.without_lifecycle[:3]
    assert comparison.savings_usd > Decimal("4")
    data = comparison.to_dict()
    assert data["savings_usd"] == pytest.approx(
        data["without_lifecycle_usd"] - data["with_lifecycle_usd"]
    )


def test_transcribe_dominates_the_bill() -> None:
    month = project(US, Usage(transcribe=True, bedrock=True), months=1)[0]
    by_category = month.estimate.by_category()
    assert by_category["processing"] == Decimal("72.000") + 100 * Decimal("0.00295")
    assert by_category["processing"] > 100 * by_category["storage"]


def test_dynamodb_replaces_the_index_object() -> None:
    s3_only = project(US, Usage(), months=1)[0].estimate
    dynamo = project(US, Usage(dynamodb=True), months=1)[0].estimate
    assert dynamo.item("DynamoDB on-demand writes").quantity == Decimal("0.0001")
    assert (
        dynamo.item("S3 GET, HEAD and other requests").quantity
        < s3_only.item("S3 GET, HEAD and other requests").quantity
    )


def test_existing_meetings_age_in_the_projection() -> None:
    old = Cohort(age_days=80, meetings=10, audio_bytes=10 * MB, document_bytes=MB)
    months = project(US, replace(Usage(lifecycle=True), meetings_per_month=0), 2, [old])
    assert months[0].stored_bytes == {STANDARD: 10 * 11 * MB}
    assert months[1].stored_bytes == {GLACIER: 100 * MB, STANDARD: 10 * MB}


def test_a_short_archive_before_expiry_is_warned_about() -> None:
    usage = Usage(lifecycle=True, archive_days=90, retention_days=120)
    notes = usage_notes(US, usage)
    assert notes and "early-deletion" in notes[0]
    assert usage_notes(US, Usage(lifecycle=True)) == []


# ---------------------------------------------------------------- what-if inputs from outside


def test_usage_overrides_keep_what_is_given() -> None:
    overrides = usage_overrides(
        {
            "meetings_per_month": 1000,
            "average_minutes": 0.1,  # a float, as the REST API reads it
            "average_audio_mb": Decimal("2.5"),  # a Decimal, as the CLI reads it
            "plays_per_meeting": -0.0,
            "transcribe": True,
            "archive_storage_class": GLACIER,
            "bedrock_model_id": "acme.unknown-v1",
            "retention_days": None,  # not given
        }
    )
    assert overrides == {
        "meetings_per_month": 1000,
        "average_minutes": Decimal("0.1"),
        "average_audio_mb": Decimal("2.5"),
        "plays_per_meeting": Decimal(0),
        "transcribe": True,
        "archive_storage_class": GLACIER,
        "bedrock_model_id": "acme.unknown-v1",
    }
    assert str(overrides["plays_per_meeting"]) == "0"  # not -0
    assert replace(Usage(), **overrides).average_minutes == Decimal("0.1")
    forever = usage_overrides({"lifecycle": True}, keep_forever=True)
    assert forever == {"lifecycle": True, "retention_days": None}
    assert usage_overrides({}) == {}


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"meetings_per_month": -1}, "meetings_per_month"),
        ({"listings_per_month": 1_000_001}, "listings_per_month"),
        ({"archive_days": True}, "archive_days"),
        ({"retention_days": 1.5}, "retention_days"),
        ({"average_minutes": -1}, "average_minutes"),
        ({"average_audio_mb": Decimal("1000000.01")}, "average_audio_mb"),
        ({"average_documents_kb": float("nan")}, "average_documents_kb"),
        ({"plays_per_meeting": Decimal("Infinity")}, "plays_per_meeting"),
        ({"average_minutes": "30"}, "average_minutes"),
        ({"transcribe": "yes"}, "transcribe"),
        ({"archive_storage_class": "ONEZONE_IA"}, "archive_storage_class"),
        ({"bedrock_model_id": ""}, "bedrock_model_id"),
        ({"bedrock_model_id": "m" * 2049}, "bedrock_model_id"),
    ],
)
def test_usage_overrides_refuse_what_cannot_be_projected(
    values: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidInputError, match=named):
        usage_overrides(values)


def test_usage_override_errors_name_the_input_as_the_caller_does() -> None:
    with pytest.raises(InvalidInputError, match="--minutes must be a number from 0 to 1,000,000"):
        usage_overrides({"average_minutes": Decimal(-1)}, names={"average_minutes": "--minutes"})
    names = {"retention_days": "--retention-days", "keep_forever": "--keep-forever"}
    with pytest.raises(InvalidInputError, match="--retention-days or --keep-forever, not both"):
        usage_overrides({"retention_days": 30}, keep_forever=True, names=names)
    with pytest.raises(ValueError, match="views_per_meeting"):
        usage_overrides({"views_per_meeting": 3})


def test_projection_months() -> None:
    assert check_months(1) == 1 and check_months(120) == 120
    for bad in (0, 121, -3):
        with pytest.raises(InvalidInputError, match="--months must be from 1 to 120"):
            check_months(bad, "--months")


# ---------------------------------------------------------------- this month, from a footprint


def meeting(days_ago: int, audio: int = 50 * MB, cost: str | None = "0.00003") -> StoredMeeting:
    return StoredMeeting(
        timestamp=NOW - timedelta(days=days_ago),
        audio_bytes=audio,
        document_bytes=20_000,
        audio_seconds=1800,
        processing_cost_usd=Decimal(cost) if cost else None,
    )


def test_monthly_estimate_from_the_footprint() -> None:
    contents = BucketContents(
        bytes_by_class={STANDARD: 2 * GB, GLACIER: 3 * GB},
        objects_by_class={STANDARD: 40, GLACIER: 10},
        noncurrent_bytes=GB,
        meetings=(
            replace(
                meeting(1),
                transcribed_seconds=1799.2,
                bedrock_model_id="us.anthropic.claude-3-haiku-20240307-v1:0",
                bedrock_input_tokens=7_000,
                bedrock_output_tokens=900,
            ),
            replace(meeting(5), transcribed_seconds=3.0),
            meeting(60, cost=None),
        ),
    )
    estimate = monthly_estimate(US, contents, Usage(listings_per_month=0), NOW)
    names = [item.name for item in estimate.items]
    assert names[:3] == [
        "S3 Standard storage",
        "S3 Glacier Flexible Retrieval storage",
        "S3 noncurrent versions (deleted or replaced, kept by versioning)",
    ]
    # Transcribe bills whole seconds, 15 at least: 1,800 s + 15 s at $0.024 a minute.
    transcribe = estimate.item("Amazon Transcribe (standard batch), recorded")
    assert (transcribe.quantity, transcribe.unit) == (Decimal(1815), "audio second")
    assert transcribe.usd == Decimal("0.726")
    # Claude 3 Haiku through its US inference profile: 7k in x $0.00025, 0.9k out x $0.00125.
    tokens_in = estimate.item("Bedrock Claude 3 Haiku input tokens, recorded")
    tokens_out = estimate.item("Bedrock Claude 3 Haiku output tokens, recorded")
    assert (tokens_in.usd, tokens_out.usd) == (Decimal("0.00175"), Decimal("0.001125"))
    # The S3 requests of storing them are priced once, with the other requests.
    assert not [item for item in estimate.items if "metadata.json" in item.name]
    # Two 50 MiB meetings this month: 2 x 14 PUTs (13 + index/aggregates.json);
    # 2 x (3 index + 1 totals) GETs + 2 x 2 views x 5 + 2 plays = 8 + 20 + 2 = 30.
    assert estimate.item("S3 PUT, COPY, POST and LIST requests").quantity == Decimal("0.028")
    assert estimate.item("S3 GET, HEAD and other requests").quantity == Decimal("0.030")


def test_recorded_transcribe_seconds_price_exactly_as_when_processed() -> None:
    seconds = (61.0, 62.0, 99.4)
    contents = BucketContents(
        bytes_by_class={STANDARD: GB},
        objects_by_class={STANDARD: 3},
        meetings=tuple(replace(meeting(1), transcribed_seconds=s) for s in seconds),
    )
    line = monthly_estimate(US, contents, Usage(), NOW).item(
        "Amazon Transcribe (standard batch), recorded"
    )
    recorded = sum((analysis_cost(US, transcribed_seconds=s) for s in seconds), Decimal(0))
    assert line.usd == recorded == Decimal("0.0892")  # 61 + 62 + 100 s at $0.0004 a second


def test_with_documents_on_local_disk_only_the_recordings_make_requests() -> None:
    contents = BucketContents(
        bytes_by_class={STANDARD: GB, "LOCAL": 40_000},
        objects_by_class={STANDARD: 2, "LOCAL": 8},
        meetings=(meeting(1), meeting(5)),
        documents_in_s3=False,
    )
    estimate = monthly_estimate(US, contents, Usage(), NOW)
    # Two 50 MiB recordings uploaded in 16 MiB parts: 2 x (create + 4 parts + complete).
    assert estimate.item("S3 PUT, COPY, POST and LIST requests").quantity == Decimal("0.012")
    # Each played once; listings and views read the local documents.
    assert estimate.item("S3 GET, HEAD and other requests").quantity == Decimal("0.002")
    assert "STORE_IN_S3=false" in " ".join(estimate.notes)


def test_usage_from_history() -> None:
    contents = BucketContents(
        bytes_by_class={},
        objects_by_class={},
        meetings=tuple(meeting(days, audio=20 * MB) for days in (1, 10, 40, 80, 85, 200)),
    )
    usage = usage_from_history(contents, NOW)
    assert usage.meetings_per_month == 2  # 5 meetings in the last 90 days
    assert usage.average_audio_mb == Decimal("20.000")
    assert usage.average_minutes == Decimal("30.00")
    assert usage_from_history(BucketContents({}, {}), NOW) == Usage()


def test_report_json_and_csv() -> None:
    footprint = summarize([], [], noncurrent=Tally(), measured_at=NOW)
    report = build_report(US, footprint, Usage(lifecycle=True), NOW)
    data = report.to_dict()
    assert set(data) >= {"prices", "footprint", "monthly", "projection"}
    assert data["footprint"]["by_prefix"]["meetings/"] == {"bytes": 0, "objects": 0}
    assert len(data["projection"]) == 12
    assert data["projection"][0]["month"] == 1
    assert data["monthly"]["total_usd"] == pytest.approx(float(report.monthly.total_usd))
    assert any("days old" in note for note in data["notes"])  # NOW is a year after the table
    rows = report.csv_rows()
    parsed = list(csv.reader(io.StringIO("\n".join(",".join(f'"{c}"' for c in r) for r in rows))))
    assert parsed[0] == [
        "section",
        "month",
        "category",
        "name",
        "quantity",
        "unit",
        "unit_price_usd",
        "usd",
    ]
    assert {row[0] for row in parsed[1:]} >= {"projection", "with lifecycle", "without lifecycle"}
    for row in parsed[1:]:
        if row[4]:
            assert Decimal(row[4]) * Decimal(row[6]) == Decimal(row[7])
