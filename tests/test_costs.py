"""The cost arithmetic: pure functions on plain values, Decimal money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meeting_storage.costs import DESIGN_DOCUMENT_PRICES, GIB, monthly_storage_estimate


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
