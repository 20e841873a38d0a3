"""The dated price table: the design document's own figures, where it is out of date, regions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from meeting_storage.costs import pricing
from meeting_storage.costs.pricing import (
    DEEP_ARCHIVE,
    GLACIER,
    GLACIER_IR,
    STANDARD,
    STANDARD_IA,
    Tier,
    prices_for,
    tiered,
)


def test_the_design_documents_s3_figures_come_out_of_the_us_east_1_table() -> None:
    standard = prices_for("us-east-1").s3[STANDARD]
    assert standard.storage_per_gb_month == Decimal("0.023")  # "$0.023/GB/month"
    assert standard.put_per_1k == Decimal("0.005")  # "PUT requests: $0.005 per 1,000"
    assert standard.get_per_1k == Decimal("0.0004")  # "GET requests: $0.0004 per 1,000"


def test_every_price_is_a_decimal() -> None:
    for table in pricing.PRICE_TABLES.values():
        for price in table.s3.values():
            for value in (
                price.put_per_1k,
                price.get_per_1k,
                price.transition_per_1k,
                price.retrieval_per_gb,
                *(tier.usd for tier in price.storage_tiers),
            ):
                assert isinstance(value, Decimal)
        assert isinstance(table.transcribe_per_minute, Decimal)
        for model in table.bedrock.values():
            assert isinstance(model.input_per_1k_tokens, Decimal)


def test_storage_classes_get_cheaper_as_they_get_colder() -> None:
    s3 = prices_for("us-east-1").s3
    order = [STANDARD, STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE]
    rates = [s3[name].storage_per_gb_month for name in order]
    assert rates == sorted(rates, reverse=True)
    assert rates == [Decimal(x) for x in ("0.023", "0.0125", "0.004", "0.0036", "0.00099")]
    assert [s3[name].minimum_days for name in order] == [0, 30, 90, 90, 180]


def test_standard_has_volume_bands() -> None:
    bands = prices_for("us-east-1").s3[STANDARD].storage_tiers
    assert [(b.up_to, b.usd) for b in bands] == [
        (Decimal(51200), Decimal("0.023")),
        (Decimal(512000), Decimal("0.022")),
        (None, Decimal("0.021")),
    ]


def test_dynamodb_prices_are_after_the_november_2024_cut_and_the_doc_is_called_out() -> None:
    us = prices_for("us-east-1")
    assert us.dynamodb_write_per_million == Decimal("0.625")
    assert us.dynamodb_read_per_million == Decimal("0.125")
    assert us.dynamodb_storage_per_gb_month == Decimal("0.25")
    eu = prices_for("eu-west-1")
    assert (eu.dynamodb_write_per_million, eu.dynamodb_read_per_million) == (
        Decimal("0.705"),
        Decimal("0.1415"),
    )
    notes = " ".join(us.notes)
    assert "out of date" in notes and "November 2024" in notes and "$1.25" in notes


def test_the_notes_say_what_the_design_document_leaves_out() -> None:
    notes = " ".join(prices_for("us-east-1").notes)
    assert "Transcribe" in notes and "Bedrock" in notes and "dominate" in notes
    assert "transcriptions/" in notes  # the lifecycle example that leaves the audio behind


def test_transcribe_and_bedrock() -> None:
    table = prices_for("us-east-1")
    assert table.transcribe_per_minute == Decimal("0.024")
    assert table.transcribe_minimum_seconds == 15
    haiku = table.bedrock_model("anthropic.claude-3-haiku-20240307-v1:0")
    assert haiku is not None
    assert (haiku.input_per_1k_tokens, haiku.output_per_1k_tokens) == (
        Decimal("0.00025"),
        Decimal("0.00125"),
    )
    # Cross-region inference profiles price as their foundation model.
    assert table.bedrock_model("us.anthropic.claude-3-haiku-20240307-v1:0") == haiku
    assert prices_for("eu-west-1").bedrock_model("eu.anthropic.claude-3-haiku-20240307-v1:0")
    assert table.bedrock_model("acme.unknown-model-v1") is None
    assert pricing.DEFAULT_BEDROCK_MODEL in table.bedrock


def test_unknown_region_falls_back_to_us_east_1_with_a_note() -> None:
    table = prices_for("ap-southeast-2")
    assert table.region == "us-east-1"
    assert "ap-southeast-2" in table.notes[0] and "us-east-1" in table.notes[0]
    assert prices_for("eu-west-1").region == "eu-west-1"


def test_the_table_is_dated_and_names_its_sources() -> None:
    table = prices_for("eu-west-1")
    data = table.to_dict()
    assert data["date"] == pricing.PRICES_DATE.isoformat()
    assert data["region"] == "eu-west-1"
    assert any("aws.amazon.com/s3/pricing" in source for source in data["sources"])
    assert data["storage_per_gb_month"]["STANDARD"] == 0.023
    assert table.age_note(pricing.PRICES_DATE + timedelta(days=365)) is None
    note = table.age_note(pricing.PRICES_DATE + timedelta(days=400))
    assert note is not None and "400 days old" in note


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (Decimal(0), []),
        (Decimal(40), [(Decimal(100), Decimal(40))]),
        (Decimal(150), [(Decimal(100), Decimal(100)), (Decimal(200), Decimal(50))]),
        (
            Decimal(250),
            [(Decimal(100), Decimal(100)), (Decimal(200), Decimal(100)), (None, Decimal(50))],
        ),
    ],
)
def test_tiered_splits_a_quantity_over_bands(
    quantity: Decimal, expected: list[tuple[Decimal | None, Decimal]]
) -> None:
    bands = (Tier(Decimal(100), Decimal(1)), Tier(Decimal(200), Decimal(2)), Tier(None, Decimal(3)))
    assert [(band.up_to, amount) for band, amount in tiered(quantity, bands)] == expected


def test_restore_prices() -> None:
    table = prices_for("us-east-1")
    assert table.restore[(GLACIER, "Bulk")].per_gb == 0
    assert table.restore[(GLACIER, "Standard")].per_gb == Decimal("0.01")
    assert (DEEP_ARCHIVE, "Expedited") not in table.restore
