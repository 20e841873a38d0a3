"""The cost arithmetic: pure functions on plain values, Decimal money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meeting_storage.costs import (
    DESIGN_DOCUMENT_DYNAMODB_PRICES,
    DESIGN_DOCUMENT_PRICES,
    GIB,
    MIB,
    Workload,
    audio_upload_puts,
    estimate,
    format_money,
    format_price,
    monthly_storage_estimate,
    requests_per_meeting,
)


def test_the_design_document_example() -> None:
    """100 meetings x (50 MB audio + 1 MB transcription) is about 5 GB: $0.12 a month."""
    estimate = monthly_storage_estimate({"STANDARD": 5 * GIB}, puts=0, gets=0)
    assert estimate.storage == Decimal("0.115")
    assert estimate.to_dict()["storage"] == "0.115000"


def test_requests_are_priced_per_thousand() -> None:
    estimate = monthly_storage_estimate({}, puts=1000, gets=1000)
    assert estimate.puts == Decimal("0.005")
    assert estimate.gets == Decimal("0.0004")
    assert estimate.total == Decimal("0.0054")
    small = monthly_storage_estimate({}, puts=1, gets=1).to_dict()
    assert small["puts"] == "0.000005" and small["gets"] == "0.000000"


def test_classes_without_a_price_are_reported_not_guessed() -> None:
    estimate = monthly_storage_estimate(
        {"STANDARD": GIB, "GLACIER": 10 * GIB, "LOCAL": 123, "DEEP_ARCHIVE": 0}, puts=0, gets=0
    )
    assert estimate.storage == Decimal("0.023")
    assert estimate.priced_bytes == GIB
    assert estimate.unpriced_bytes == {"GLACIER": 10 * GIB, "LOCAL": 123}


def test_the_prices_say_where_they_come_from() -> None:
    prices = monthly_storage_estimate({}, 0, 0).to_dict()["prices"]
    assert prices == DESIGN_DOCUMENT_PRICES.to_dict()
    assert prices["currency"] == "USD" and prices["region"] == "us-east-1"
    assert prices["as_of"] and "design document" in prices["source"]


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        monthly_storage_estimate({}, puts=-1, gets=0)
    with pytest.raises(ValueError):
        monthly_storage_estimate({"STANDARD": -1}, puts=0, gets=0)


# ---------------------------------------------------------------------- what-if estimate


def test_the_design_documents_example_month() -> None:
    """100 meetings x (50 MB audio + 1 MB transcription): about $0.11 of storage a month
    (the design document rounds 5.1 GB to $0.12; AWS bills 2^30-byte GB)."""
    result = estimate(Workload(meetings_per_month=100, retention_months=12))
    first = result.months[0]
    assert first.stored_meetings == 100
    assert first.storage.quantize(Decimal("0.01")) == Decimal("0.11")
    assert first.stored_bytes == 100 * (50 * MIB + 1024 * 1024)
    assert Decimal("0.001") < first.requests < Decimal("0.01")
    assert first.dynamodb == 0


def test_storage_grows_until_the_retention_then_stays() -> None:
    result = estimate(Workload(meetings_per_month=10, retention_months=3), horizon=6)
    assert [m.stored_meetings for m in result.months] == [10, 20, 30, 30, 30, 30]
    assert result.steady_state.month == 3
    assert result.months[5].total == result.months[2].total
    assert result.months[1].storage == 2 * result.months[0].storage


def test_requests_per_meeting() -> None:
    small = requests_per_meeting(Workload(audio_mb=Decimal(5), opens_per_meeting=2))
    assert (small.puts, small.gets) == (1 + 4 + 2, 6 * 2 + 2)
    assert audio_upload_puts(Decimal(16 * MIB)) == 1
    assert audio_upload_puts(Decimal(16 * MIB + 1)) == 2 + 2
    assert audio_upload_puts(Decimal(50 * MIB)) == 4 + 2
    dynamo = requests_per_meeting(Workload(audio_mb=Decimal(5), dynamodb=True))
    assert (dynamo.puts, dynamo.dynamodb_writes) == (5, 2)


def test_request_cost_is_exact_decimal_arithmetic() -> None:
    workload = Workload(
        meetings_per_month=1000,
        audio_mb=Decimal(1),
        document_kb=Decimal(0),
        opens_per_meeting=0,
        list_views_per_month=0,
    )
    month = estimate(workload, horizon=1).months[0]
    # 1000 meetings x 7 PUTs at $0.005/1k + 2000 index GETs at $0.0004/1k
    assert month.requests == Decimal("0.0358")


def test_dynamodb_costs_only_when_enabled() -> None:
    plain = estimate(Workload(list_views_per_month=1000), horizon=1).months[0]
    dynamo = estimate(Workload(list_views_per_month=1000, dynamodb=True), horizon=1).months[0]
    assert plain.dynamodb == 0
    # 100 meetings x 2 writes at $1.25/M + 1000 views x 5 read units at $0.25/M
    assert dynamo.dynamodb == Decimal("0.0015")


@pytest.mark.parametrize(
    "bad",
    [
        {"meetings_per_month": -1},
        {"audio_mb": Decimal(-1)},
        {"retention_months": 0},
        {"opens_per_meeting": -2},
    ],
)
def test_workload_refuses_impossible_inputs(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Workload(**bad)  # type: ignore[arg-type]


def test_money_formats() -> None:
    assert format_money(Decimal("1234.567")) == "$1,234.57"
    assert format_money(Decimal("0.12")) == "$0.12"
    assert format_money(Decimal("0.0012345")) == "$0.001234"
    assert format_money(Decimal(0)) == "$0.00"
    assert format_money(Decimal("0.0000001")) == "under $0.000001"
    assert format_price(Decimal("0.023")) == "$0.023"
    assert format_price(Decimal("0.0004")) == "$0.0004"
    assert format_price(Decimal("1.25")) == "$1.25"


def test_dynamodb_prices_say_where_they_come_from() -> None:
    prices = DESIGN_DOCUMENT_DYNAMODB_PRICES
    assert (prices.write_per_million, prices.read_per_million) == (Decimal("1.25"), Decimal("0.25"))
    assert prices.as_of and "design document" in prices.source
