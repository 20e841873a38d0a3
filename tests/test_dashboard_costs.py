"""Costs page: the real footprint, this month's line items, the 12-month projection with and
without lifecycle, the lifecycle policy and its savings, the bucket's set-up, and the export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from meeting_storage import MeetingStorage
from meeting_storage.core import layout
from meeting_storage.costs.projection import compare_lifecycle
from meeting_storage.costs.review import CostReport, build_report
from meeting_storage.costs.usage import Usage
from meeting_storage.ops.cost_review import cost_report
from meeting_storage.ops.hardening import bucket_state
from meeting_storage.ops.lifecycle import LifecyclePolicy, apply_lifecycle, bucket_rules
from meeting_storage.ops.reconcile import reconcile
from meeting_storage.storage.blobs import ObjectInfo
from tests.conftest import (
    SAMPLE_TRANSCRIPT,
    app_test,
    s3_client_for,
    table_with,
    unescape,
    wav_bytes,
)
from ui.formatting import format_money

COSTS = "pages/4_Costs.py"


def listed_objects(storage: MeetingStorage) -> list[ObjectInfo]:
    """The meetings' objects (the cost review leaves out the audit trail's few small ones)."""
    return [
        info
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    ]


def open_costs() -> Any:
    at = app_test().run()
    at.switch_page(COSTS).run()
    assert not at.exception
    return at


def metrics(at: Any) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(elements: Any) -> list[str]:
    return [unescape(str(e.value)) for e in elements]


def number_input(at: Any, label: str) -> Any:
    return next(w for w in at.number_input if w.label == label)


def toggle(at: Any, label: str) -> Any:
    return next(w for w in at.toggle if w.label == label)


def button(at: Any, label: str) -> Any:
    return next(b for b in at.button if b.label == label)


def store_meetings(storage: MeetingStorage, count: int) -> None:
    for _ in range(count):
        storage.process(
            SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav"
        )


def expected_report(storage: MeetingStorage, usage: Usage) -> CostReport:
    return build_report(storage.prices, storage.detailed_footprint(), usage, datetime.now(UTC))


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, bytes]]:
    """What each download button serves, by MIME type (AppTest keeps no media files)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self: Any, data: Any, mimetype: str, *args: Any, **kwargs: Any) -> str:
        served[mimetype] = data if isinstance(data, bytes) else str(data).encode()
        return original(self, data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    yield served


def test_an_empty_bucket_projects_the_design_documents_example(
    dashboard: MeetingStorage,
) -> None:
    at = open_costs()
    shown = metrics(at)
    assert shown["Stored"] == "0 bytes" and shown["Meetings"] == "0"
    assert "Nothing is stored yet." in texts(at.caption)
    # No history: 100 meetings a month of 30 minutes and 50 MB, as in the design document.
    assert number_input(at, "Meetings per month").value == 100
    assert number_input(at, "Average recording (MB)").value == 50.0
    report = cost_report(dashboard)
    assert shown["This month"] == format_money(report.monthly.total_usd)
    projected = sum((m.total_usd for m in report.projection), Decimal(0))
    assert shown["Next 12 months"] == format_money(projected)
    months = table_with(at, "Meetings stored")
    assert months["Meetings stored"].tolist() == [100 * n for n in range(1, 13)]
    # Month 1 holds 100 meetings of 50 MB + 1 MB: 4.98 GB of S3 Standard at $0.023.
    month_one = table_with(at, "Unit price")  # this month's items come first
    assert "S3 Standard storage" not in month_one["Item"].tolist()  # nothing stored yet
    month_items = [d.value for d in at.dataframe if "Item" in d.value.columns][1]
    storage_row = month_items[month_items["Item"] == "S3 Standard storage"].iloc[0]
    assert storage_row["Quantity"] == "4.9805" and storage_row["Unit price"] == "$0.023"
    assert storage_row["Cost"] == "$0.11"  # 5,100 MiB x $0.023 = $0.1146
    caption = texts(at.caption)[0]
    assert "us-east-1" in caption and "2025-11-01" in caption


def test_footprint_by_prefix_storage_class_and_meeting(dashboard: MeetingStorage) -> None:
    store_meetings(dashboard, 2)
    archived = dashboard.list_meetings().meetings[0]
    bucket = dashboard.settings.bucket
    s3_client_for(dashboard).copy_object(
        Bucket=bucket,
        Key=archived.audio_s3_key,
        CopySource={"Bucket": bucket, "Key": archived.audio_s3_key},
        StorageClass="GLACIER",
    )
    # A change made outside the product shows once the totals are reconciled.
    reconcile(dashboard)
    at = open_costs()
    by_prefix = table_with(at, "Prefix")
    listed = {info.key.split("/", 1)[0] + "/" for info in listed_objects(dashboard)}
    assert set(by_prefix["Prefix"]) == listed == {"meetings/", "transcriptions/", "index/"}
    assert dict(zip(by_prefix["Prefix"], by_prefix["Objects"], strict=True))["meetings/"] == 2
    by_class = table_with(at, "Storage class")
    per_month = dict(zip(by_class["Storage class"], by_class["Per month"], strict=True))
    assert set(per_month) == {"STANDARD", "GLACIER"}
    # Every archived object carries 32 KB billed at the Glacier rate ($0.0036/GB-month).
    glacier_gb = (Decimal(len(wav_bytes())) + 32 * 1024) / 1024**3
    assert per_month["GLACIER"] == format_money(glacier_gb * Decimal("0.0036"))
    assert metrics(at)["Objects"] == str(len(listed_objects(dashboard)))
    assert metrics(at)["Meetings"] == "2"
    assert any("checked against a listing of the bucket as of" in c for c in texts(at.caption))
    # The recent meetings one by one come from the index: their recordings' class as written.
    largest = table_with(at, "Recording class")
    assert sorted(largest["Recording class"]) == ["STANDARD", "STANDARD"]
    assert all(cost.startswith("$") for cost in largest["Processing cost"])


def test_this_months_line_items_match_the_cost_model(dashboard: MeetingStorage) -> None:
    store_meetings(dashboard, 3)
    at = open_costs()
    report = cost_report(dashboard, measured=dashboard.counted_footprint())  # as the page
    items = table_with(at, "Unit price")
    assert sorted(items["Item"]) == sorted(item.name for item in report.monthly.items)
    by_name = dict(zip(items["Item"], items["Cost"], strict=True))
    for item in report.monthly.items:
        assert by_name[item.name] == format_money(item.usd)
    # Three meetings stored this month with the S3 JSON index: each is 1 PUT of the recording,
    # 4 documents, 3 index rewrites and the totals' rewrite (9 PUTs), and 4 reads:
    # 3 x 9 = 27 PUTs, 0.027 thousand.
    puts = dict(zip(items["Item"], items["Quantity"], strict=True))
    assert puts["S3 PUT, COPY, POST and LIST requests"] == "0.027"
    assert not [name for name in items["Item"] if "recorded" in name]  # no Transcribe, Bedrock
    assert metrics(at)["This month"] == format_money(report.monthly.total_usd)
    assert any("Processing recorded for 3 meetings" in c for c in texts(at.caption))


def test_what_if_inputs_drive_the_projection(dashboard: MeetingStorage) -> None:
    at = open_costs()
    number_input(at, "Meetings per month").set_value(1000).run()
    number_input(at, "Average length (minutes)").set_value(45.0).run()
    number_input(at, "Average recording (MB)").set_value(20.0).run()
    toggle(at, "Amazon Transcribe").set_value(True).run()
    toggle(at, "Bedrock summaries").set_value(True).run()
    assert not at.exception
    usage = replace(
        Usage(),
        meetings_per_month=1000,
        average_minutes=Decimal("45.0"),
        average_audio_mb=Decimal("20.0"),
        transcribe=True,
        bedrock=True,
    )
    report = expected_report(dashboard, usage)
    projected = sum((m.total_usd for m in report.projection), Decimal(0))
    assert metrics(at)["Next 12 months"] == format_money(projected)
    month_items = [d.value for d in at.dataframe if "Item" in d.value.columns][1]
    costs = dict(zip(month_items["Item"], month_items["Cost"], strict=True))
    # 1,000 meetings x 45 minutes x $0.024 a minute.
    assert costs["Amazon Transcribe (standard batch)"] == "$1,080.00"
    # Claude 3 Haiku: (45 x 200 + 800) tokens in at $0.00025/1k, 1,000 out at $0.00125/1k.
    assert costs["Bedrock Claude 3 Haiku input tokens"] == "$2.45"
    assert costs["Bedrock Claude 3 Haiku output tokens"] == "$1.25"
    assert len(at.get("vega_lite_chart")) >= 2  # the projection and the lifecycle comparison

    at.selectbox(key="cost_month").set_value(12).run()
    month_twelve = [d.value for d in at.dataframe if "Item" in d.value.columns][1]
    twelve = report.projection[11].estimate
    assert sorted(month_twelve["Item"]) == sorted(item.name for item in twelve.items)


def test_lifecycle_savings_and_applying_the_policy(dashboard: MeetingStorage) -> None:
    at = open_costs()
    assert not toggle(at, "Lifecycle policy").value  # the bucket has no policy yet
    comparison = compare_lifecycle(dashboard.prices, Usage())
    saved = comparison.savings_usd
    assert saved > 0
    assert metrics(at)["12 months with lifecycle"] == format_money(
        sum(comparison.with_lifecycle, Decimal(0))
    )
    assert any(f"it saves {format_money(saved)}" in message for message in texts(at.success)), (
        texts(at.success)
    )
    # Escaped, so that two amounts in one line do not render as a formula.
    assert any("saves \\$" in message.value for message in at.success)
    assert any(m.startswith("**In the bucket:** no rules") for m in texts(at.markdown))
    by_month = table_with(at, "With lifecycle")
    assert by_month["Saved"].tolist()[-1] == format_money(
        comparison.without_lifecycle[-1] - comparison.with_lifecycle[-1]
    )

    button(at, "Apply this policy to the bucket").click().run()
    assert not at.exception
    assert LifecyclePolicy.from_rules(bucket_rules(dashboard)) == LifecyclePolicy()
    assert any("Lifecycle policy applied" in s for s in texts(at.success))
    assert any(LifecyclePolicy().describe() in m for m in texts(at.markdown))
    assert "Apply this policy to the bucket" not in [b.label for b in at.button]
    assert toggle(at, "Lifecycle policy").value  # the projection now follows the policy


def test_an_invalid_policy_is_explained_and_not_offered(dashboard: MeetingStorage) -> None:
    at = open_costs()
    number_input(at, "Delete meetings after (days, 0 = keep)").set_value(120).run()
    assert not at.exception
    warning = " ".join(texts(at.warning))
    assert "expire_days (120) must be at least archive_days + 90 (180)" in warning
    assert "Apply this policy to the bucket" not in [b.label for b in at.button]


def test_bucket_set_up_is_shown_and_hardened(dashboard: MeetingStorage) -> None:
    at = open_costs()
    findings = table_with(at, "To fix")
    states = dict(zip(findings["Setting"], findings["Status"], strict=True))
    assert states == {
        "Region": "ok",
        "Versioning": "needs attention",
        "Default encryption": "needs attention",
        "Public access block": "needs attention",
        "Lifecycle": "needs attention",
    }
    assert "need attention" in texts(at.warning)[0]
    assert any("`bucket harden` would turn on: versioning" in c for c in texts(at.caption))

    button(at, "Turn on what is missing").click().run()
    assert not at.exception
    assert bucket_state(dashboard).hardened
    assert any(
        "Turned on: versioning, default encryption, public access block, CORS." in s
        for s in texts(at.success)
    )
    findings = table_with(at, "To fix")
    states = dict(zip(findings["Setting"], findings["State"], strict=True))
    assert states["Default encryption"] == "SSE-S3 (AES256)"
    assert states["Public access block"] == "all four settings on"
    assert "Turn on what is missing" not in [b.label for b in at.button]


@pytest.mark.seaweedfs
def test_a_server_without_lifecycle_support(seaweed_dashboard: MeetingStorage) -> None:
    store_meetings(seaweed_dashboard, 1)
    at = open_costs()
    assert metrics(at)["Meetings"] == "1"
    findings = table_with(at, "To fix")
    states = dict(zip(findings["Setting"], findings["State"], strict=True))
    assert "not applicable to a local server" in states["Public access block"]
    button(at, "Apply this policy to the bucket").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert any("Not supported by this S3 server" in e and "lifecycle" in e for e in errors)
    assert table_with(at, "To fix") is not None  # the rest of the page still renders
    assert bucket_state(seaweed_dashboard).lifecycle_policy is None


def test_every_line_item_exports_as_csv(
    dashboard: MeetingStorage, downloads: dict[str, bytes]
) -> None:
    store_meetings(dashboard, 1)
    open_costs()
    rows = list(csv.reader(io.StringIO(downloads["text/csv"].decode())))
    assert rows[0] == [
        "section",
        "month",
        "category",
        "name",
        "quantity",
        "unit",
        "unit_price_usd",
        "usd",
    ]
    report = cost_report(dashboard)
    this_month = [row for row in rows if row[0] == "this month"]
    assert sorted(row[3] for row in this_month) == sorted(i.name for i in report.monthly.items)
    assert {row[1] for row in rows if row[0] == "projection"} == {str(n) for n in range(1, 13)}
    assert len([row for row in rows if row[0] == "with lifecycle"]) == 12
    # The storage line is what the running totals hold: every byte the product wrote for its
    # meetings (the index objects join at the next reconciliation), in GB of 2**30 bytes.
    listed = sum(
        info.size
        for prefix in ("meetings/", "transcriptions/")
        for info in dashboard.audio.iter_objects(prefix)
    )
    (storage_row,) = [r for r in this_month if r[3] == "S3 Standard storage"]
    assert Decimal(storage_row[4]) == Decimal(listed) / 1024**3
    assert (storage_row[5], storage_row[6]) == ("GB-month", "0.023")
    document = downloads["application/json"].decode()
    assert '"lifecycle_comparison"' in document and '"monthly"' in document


def test_history_beyond_the_inputs_ranges_is_clamped(dashboard: MeetingStorage) -> None:
    # Longer than the 1,000,000 minutes the CLI and the REST API take, too.
    dashboard.process(SAMPLE_TRANSCRIPT, title="Offsite", duration_seconds=2e6 * 60)
    at = open_costs()
    assert number_input(at, "Average length (minutes)").value == 1_000_000.0
    assert metrics(at)["Meetings"] == "1"


def test_the_configured_bedrock_model_is_priced_even_as_an_inference_profile(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_MODEL_ID", "us.anthropic.claude-sonnet-4-20250514-v1:0")
    at = open_costs()
    assert toggle(at, "Bedrock summaries").value  # this store's extractor is Bedrock
    model = at.selectbox(key="cost_bedrock_model")
    assert model.value == "anthropic.claude-sonnet-4-20250514-v1:0"
    month_items = [d.value for d in at.dataframe if "Item" in d.value.columns][1]
    costs = dict(zip(month_items["Item"], month_items["Cost"], strict=True))
    # 100 meetings x (30 x 200 + 800) tokens at $0.003/1k; 100 x 1,000 out at $0.015/1k.
    assert costs["Bedrock Claude Sonnet 4 input tokens"] == "$2.04"
    assert costs["Bedrock Claude Sonnet 4 output tokens"] == "$1.50"


def test_a_bedrock_model_without_a_price_is_left_out_and_said(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_MODEL_ID", "meta.llama3-70b-instruct-v1:0")
    at = open_costs()
    model = at.selectbox(key="cost_bedrock_model")
    assert model.value == "meta.llama3-70b-instruct-v1:0"
    month_items = [d.value for d in at.dataframe if "Item" in d.value.columns][1]
    assert not [name for name in month_items["Item"] if name.startswith("Bedrock")]
    assert any(
        "No Bedrock price for 'meta.llama3-70b-instruct-v1:0'" in w for w in texts(at.warning)
    )


def test_the_bucket_policy_is_kept_as_it_is(dashboard: MeetingStorage) -> None:
    applied = LifecyclePolicy(
        archive_days=60, archive_storage_class="GLACIER_IR", noncurrent_days=7
    )
    apply_lifecycle(dashboard, applied)
    at = open_costs()
    assert toggle(at, "Lifecycle policy").value
    assert number_input(at, "Archive recordings after (days, 0 = never)").value == 60
    assert at.selectbox(key="cost_archive_class").value == "GLACIER_IR"
    # Nothing changed, so nothing to apply (deleted versions stay kept for 7 days).
    assert "Apply this policy to the bucket" not in [b.label for b in at.button]
    number_input(at, "Archive recordings after (days, 0 = never)").set_value(90).run()
    button(at, "Apply this policy to the bucket").click().run()
    kept = LifecyclePolicy.from_rules(bucket_rules(dashboard))
    assert kept == replace(applied, archive_days=90)


def test_lifecycle_rules_that_cannot_be_read_are_not_taken_for_none(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    def denied(**_: Any) -> None:
        error = {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}
        raise ClientError(error, "GetBucketLifecycleConfiguration")  # type: ignore[arg-type]

    monkeypatch.setattr(dashboard.audio._client, "get_bucket_lifecycle_configuration", denied)
    at = open_costs()
    findings = table_with(at, "To fix")
    states = dict(zip(findings["Setting"], findings["State"], strict=True))
    assert states["Lifecycle"] == "could not be read"
    assert "Apply this policy to the bucket" not in [b.label for b in at.button]


def test_bedrock_prices_of_another_region_are_named(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEDROCK_REGION", "eu-west-1")
    at = open_costs()
    assert "AWS list prices for us-east-1 (Bedrock: eu-west-1) as of" in texts(at.caption)[0]
