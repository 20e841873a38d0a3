"""The cost model: footprint arithmetic and the monthly estimate, with plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from meeting_storage.costs import (
    GIB,
    MIB,
    PRICES,
    Workload,
    audio_upload_puts,
    estimate,
    footprint,
    format_money,
    format_price,
    requests_per_meeting,
    storage_cost,
)


@dataclass(frozen=True)
class Obj:
    key: str
    size: int
    storage_class: str = "STANDARD"


def test_prices_are_the_design_documents_and_say_when_and_where_from() -> None:
    assert PRICES.storage_gb_month["STANDARD"] == Decimal("0.023")
    assert PRICES.put_per_1000 == Decimal("0.005")
    assert PRICES.get_per_1000 == Decimal("0.0004")
    assert PRICES.dynamodb_write_per_million == Decimal("1.25")
    assert PRICES.as_of == date(2024, 1, 1)
    assert "s3-storage-architecture.md" in PRICES.source
    assert PRICES.region == "us-east-1"


def test_footprint_groups_by_prefix_and_storage_class() -> None:
    usage = footprint(
        [
            Obj("meetings/a_x.wav", 100),
            Obj("meetings/b_y.wav", 50, "GLACIER"),
            Obj("transcriptions/meeting-1/summary.json", 7),
            Obj("transcriptions/meeting-1/metadata.json", 3),
            Obj("index/meetings.json", 11),
            Obj("someone-elses/file", 5),
        ]
    )
    rows = [(r.prefix, r.storage_class, r.objects, r.bytes) for r in usage.rows]
    assert rows == [
        ("meetings/", "GLACIER", 1, 50),
        ("meetings/", "STANDARD", 1, 100),
        ("transcriptions/", "STANDARD", 2, 10),
        ("index/", "STANDARD", 1, 11),
        ("(other)", "STANDARD", 1, 5),
    ]
    assert usage.total_bytes == 176 and usage.total_objects == 6
    assert usage.bytes_by_class() == {"GLACIER": 50, "STANDARD": 126}
    assert usage.rows[0].label == "recordings"


def test_storage_cost_prices_standard_and_reports_what_it_cannot_price() -> None:
    usage = footprint(
        [
            Obj("meetings/a", 2 * GIB),
            Obj("meetings/b", GIB, "DEEP_ARCHIVE"),
            Obj("transcriptions/m/x", 10, "LOCAL"),
        ]
    )
    cost = storage_cost(usage)
    assert cost.monthly == Decimal("0.046")
    assert cost.by_class == {"LOCAL": Decimal(0), "STANDARD": Decimal("0.046")}
    assert cost.unpriced_bytes == {"DEEP_ARCHIVE": GIB}


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
