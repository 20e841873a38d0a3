"""Costs page: the footprint by prefix and storage class, the estimate, and its assumptions."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from meeting_storage import MeetingStorage
from meeting_storage.costs import DESIGN_DOCUMENT_PRICES, Workload, estimate, format_money
from tests.conftest import (
    SAMPLE_TRANSCRIPT,
    app_test,
    s3_client_for,
    table_with,
    unescape,
    wav_bytes,
)

COSTS = "pages/4_Costs.py"


def open_costs() -> Any:
    at = app_test().run()
    at.switch_page(COSTS).run()
    assert not at.exception
    return at


def metrics(at: Any) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_empty_bucket(dashboard: MeetingStorage) -> None:
    at = open_costs()
    assert metrics(at)["Stored"] == "0 bytes"
    assert metrics(at)["Storage per month"] == "$0.00"
    assert "Nothing is stored yet." in [c.value for c in at.caption]


def test_prices_are_stated_with_their_date_and_source(dashboard: MeetingStorage) -> None:
    at = open_costs()
    caption = unescape(at.caption[0].value)
    assert "Prices in USD as of 2016-12-01" in caption and "design document" in caption
    assert "$0.023 per GB-month" in caption and "DynamoDB on-demand as of 2018-11" in caption
    assert "PUT $0.005 and GET $0.0004 per 1,000 requests" in caption
    notes = "\n".join(m.value for m in at.markdown)
    assert "data transfer out" in notes and "GB means 2³⁰ bytes" in notes


def test_footprint_by_prefix_and_storage_class(dashboard: MeetingStorage) -> None:
    for _ in range(2):
        dashboard.process(
            SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav"
        )
    archived = dashboard.list_meetings().meetings[0].audio_s3_key
    bucket = dashboard.settings.bucket
    s3_client_for(dashboard).copy_object(
        Bucket=bucket,
        Key=archived,
        CopySource={"Bucket": bucket, "Key": archived},
        StorageClass="GLACIER",
    )
    at = open_costs()
    by_prefix = table_with(at, "Prefix")
    listed = {info.key.split("/", 1)[0] + "/" for info in dashboard.audio.iter_objects("")}
    assert set(by_prefix["Prefix"]) == listed == {"meetings/", "transcriptions/", "index/"}
    assert dict(zip(by_prefix["Prefix"], by_prefix["Objects"], strict=True))["meetings/"] == 2
    by_class = table_with(at, "Storage class")
    prices = dict(zip(by_class["Storage class"], by_class["Per month"], strict=True))
    assert prices["GLACIER"] == "not priced" and "$" in prices["STANDARD"]
    assert "is not priced" in unescape(at.warning[0].value)
    assert metrics(at)["Objects"] == str(len(list(dashboard.audio.iter_objects(""))))


def test_estimate_follows_the_inputs(dashboard: MeetingStorage) -> None:
    at = open_costs()
    default = estimate(Workload())
    assert metrics(at)["First month"] == format_money(default.months[0].total)
    assert metrics(at)["Every month from month 12"] == format_money(default.steady_state.total)

    at.number_input[0].set_value(1000).run()  # meetings per month
    at.number_input[1].set_value(20.0).run()  # MB per recording
    at.number_input[2].set_value(6).run()  # months kept
    workload = Workload(meetings_per_month=1000, audio_mb=Decimal("20.0"), retention_months=6)
    result = estimate(workload)
    assert metrics(at)["Every month from month 6"] == format_money(result.steady_state.total)
    table = table_with(at, "Meetings stored")
    assert table["Meetings stored"].tolist()[:7] == [1000, 2000, 3000, 4000, 5000, 6000, 6000]
    assert table["Total"].tolist()[5] == format_money(result.months[5].total)
    assert len(at.get("vega_lite_chart")) == 1
    assert f"{DESIGN_DOCUMENT_PRICES.storage_per_gb_month['STANDARD']}" in at.caption[0].value


def test_dynamodb_what_if(dashboard: MeetingStorage) -> None:
    at = open_costs()
    assert not at.checkbox[0].value  # this store's index is the S3 JSON object
    at.checkbox[0].check().run()
    result = estimate(Workload(dynamodb=True))
    assert metrics(at)["First month"] == format_money(result.months[0].total)
    assert set(table_with(at, "DynamoDB")["DynamoDB"]) == {format_money(result.months[0].dynamodb)}
    assert any("The index is in DynamoDB" in m.value for m in at.markdown)
