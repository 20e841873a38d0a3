"""The real footprint (listing, on moto and SeaweedFS), the figures metadata.json records per
meeting, and `cost --json`'s contract."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from meeting_storage import InvalidInputError, MeetingRecord, MeetingStorage
from meeting_storage.analysis import Transcript, parse_transcript
from meeting_storage.analysis.transcribe import TRANSCRIBER_WHISPER, StoredAudio
from meeting_storage.core import layout
from meeting_storage.costs.pricing import prices_for
from meeting_storage.costs.processing import processing_cost
from meeting_storage.ops.cost_review import cost_report
from tests.conftest import REGION, SAMPLE_TRANSCRIPT, s3_client_for, wav_bytes
from tests.test_cli import assert_error, run


def store_three(storage: MeetingStorage) -> list[MeetingRecord]:
    return [
        storage.process(
            SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes(1.0)), audio_filename="a.wav"
        ).record,
        storage.process(
            SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes(2.5)), audio_filename="b.wav"
        ).record,
        storage.process("Alice: a transcript without any recording.").record,
    ]


def listing(storage: MeetingStorage) -> dict[str, int]:
    """The meetings' objects (the footprint leaves out the audit trail's few small ones)."""
    return {
        info.key: info.size
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def test_footprint_by_prefix_class_and_meeting(storage: MeetingStorage) -> None:
    records = store_three(storage)
    sizes = listing(storage)
    footprint = storage.detailed_footprint()

    audio_keys = [r.audio_s3_key for r in records if r.audio_s3_key]
    assert footprint.by_prefix["meetings/"].bytes == sum(sizes[k] for k in audio_keys)
    assert footprint.by_prefix["meetings/"].objects == 2
    assert footprint.by_prefix["transcriptions/"].objects == 12
    assert footprint.by_prefix["transcriptions/"].bytes == sum(
        size for key, size in sizes.items() if key.startswith("transcriptions/")
    )
    # The manifest, the month and the locators of the three meetings.
    index_objects = sum(1 for key in sizes if key.startswith("index/"))
    assert footprint.by_prefix["index/"].objects == index_objects >= 3
    assert footprint.total_bytes == sum(sizes.values())
    assert footprint.object_count == len(sizes) == 14 + index_objects
    assert footprint.by_storage_class["STANDARD"].bytes == footprint.total_bytes
    assert footprint.noncurrent is None  # not versioned

    per_meeting = {m.meeting_id: m for m in footprint.meetings}
    first, second, text_only = (per_meeting[r.meeting_id] for r in records)
    assert first.audio_minutes == pytest.approx(1.0 / 60)
    assert second.audio_minutes == pytest.approx(2.5 / 60)
    assert second.audio_bytes == len(wav_bytes(2.5))
    assert second.document_bytes == sum(
        sizes[key] for key in layout.meeting_file_keys(second.meeting_id)
    )
    assert second.stored_bytes == second.audio_bytes + second.document_bytes
    assert text_only.audio_bytes == 0 and text_only.audio_minutes is None
    # 9 PUTs x $0.000005 + 4 GETs x $0.0000004 (audio, four documents, three index objects
    # and index/aggregates.json); without a recording 8 PUTs + 4 GETs.
    assert second.processing_cost_usd == Decimal("0.0000466")
    assert text_only.processing_cost_usd == Decimal("0.0000416")


def test_footprint_counts_archive_classes_and_old_versions(storage: MeetingStorage) -> None:
    client = s3_client_for(storage)
    bucket = storage.settings.bucket
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    records = store_three(storage)
    key = records[0].audio_s3_key
    client.put_object(Bucket=bucket, Key=key, Body=wav_bytes(1.0), StorageClass="GLACIER")
    storage.delete_meeting(records[1].meeting_id)

    footprint = storage.detailed_footprint()
    assert footprint.by_storage_class["GLACIER"].objects == 1
    assert footprint.by_storage_class["GLACIER"].bytes == len(wav_bytes(1.0))
    assert footprint.noncurrent is not None
    # The replaced recording, the deleted meeting's audio and files, old index versions.
    assert footprint.noncurrent.bytes >= len(wav_bytes(1.0)) + len(wav_bytes(2.5))
    assert {m.meeting_id for m in footprint.meetings} == {
        records[0].meeting_id,
        records[2].meeting_id,
    }
    glacier = next(m for m in footprint.meetings if m.meeting_id == records[0].meeting_id)
    assert glacier.audio_storage_class == "GLACIER"


def test_the_listing_is_paginated(moto_storage: MeetingStorage) -> None:
    client = boto3.client("s3", region_name=REGION)
    for n in range(1005):
        client.put_object(
            Bucket=moto_storage.settings.bucket, Key=f"meetings/{n:032x}_x.wav", Body=b"abc"
        )
    footprint = moto_storage.detailed_footprint()
    assert footprint.by_prefix["meetings/"] == type(footprint.by_prefix["meetings/"])(3015, 1005)


def test_metadata_records_hash_length_and_processing_cost(moto_storage: MeetingStorage) -> None:
    audio = wav_bytes(3.0)
    record = moto_storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(audio), audio_filename="x.wav"
    ).record
    stored = json.loads(moto_storage.documents.get(layout.metadata_key(record.meeting_id)).data)
    assert stored["audio_sha256"] == hashlib.sha256(audio).hexdigest()
    assert stored["duration_seconds"] == 3.0
    expected = processing_cost(prices_for(REGION), audio_bytes=len(audio))
    # 9 PUTs x $0.000005 + 4 GETs x $0.0000004.
    assert stored["processing_cost_usd"] == str(expected) == "0.0000466"
    listed = moto_storage.list_meetings().meetings[0]
    assert listed.processing_cost_usd == expected and listed.audio_sha256 == stored["audio_sha256"]


class OfflineTranscriber:
    """Stands in for faster-whisper: a transcript, and no AWS bill."""

    name = TRANSCRIBER_WHISPER

    def transcribe(self, audio: StoredAudio) -> Transcript:
        return parse_transcript(SAMPLE_TRANSCRIPT)


def test_an_offline_transcription_adds_no_transcribe_cost(moto_storage: MeetingStorage) -> None:
    moto_storage.transcriber = OfflineTranscriber()
    audio = wav_bytes(40.0)
    record = moto_storage.process(None, audio_file=io.BytesIO(audio), audio_filename="x.wav").record
    assert record.transcribed_by == "whisper" and record.duration_seconds == 40.0
    stored = json.loads(moto_storage.documents.get(layout.metadata_key(record.meeting_id)).data)
    assert stored["transcribed_seconds"] is None
    # S3 requests only: 9 PUTs x $0.000005 + 4 GETs x $0.0000004.
    assert stored["processing_cost_usd"] == "0.0000466"


def test_the_processing_breakdown_round_trips() -> None:
    record = MeetingRecord(
        meeting_id="meeting-abc123",
        timestamp=datetime(2026, 1, 15, 10, 30, tzinfo=UTC),
        filename="M.m4a",
        processing_cost_usd=Decimal("0.0173608"),
        transcribed_seconds=40.0,
        bedrock_model_id="anthropic.claude-3-haiku-20240307-v1:0",
        bedrock_input_tokens=3000,
        bedrock_output_tokens=500,
    )
    data = json.loads(json.dumps(record.to_dict()))
    assert data["transcribed_seconds"] == 40.0 and data["bedrock_input_tokens"] == 3000
    assert MeetingRecord.from_dict(data) == record
    # Numbers as DynamoDB and older writers may hand them back.
    loose = {**data, "transcribed_seconds": 40, "bedrock_output_tokens": Decimal(500)}
    assert MeetingRecord.from_dict(loose) == record
    with pytest.raises(InvalidInputError, match="malformed"):
        MeetingRecord.from_dict({**data, "bedrock_input_tokens": "many"})


def test_older_metadata_without_the_new_fields_still_reads() -> None:
    old = {"meeting_id": "meeting-abc123", "timestamp": "2024-01-15T10:30:00", "filename": "M.m4a"}
    record = MeetingRecord.from_dict(old)
    assert record.processing_cost_usd is None and record.audio_sha256 is None
    assert record.to_dict()["processing_cost_usd"] is None
    assert record.transcribed_seconds is None and record.bedrock_model_id is None
    assert record.bedrock_input_tokens is None and record.bedrock_output_tokens is None
    with pytest.raises(InvalidInputError, match="malformed"):
        MeetingRecord.from_dict({**old, "processing_cost_usd": "a lot"})


# ---------------------------------------------------------------- cost --json


def test_cost_json_has_the_documented_shape(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    store_three(moto_storage)
    _, data = run(capsys, moto_storage, "cost")
    assert data["success"] is True
    assert {"region", "date"} <= set(data["prices"])
    assert data["prices"]["region"] == REGION
    footprint = data["footprint"]
    assert isinstance(footprint["total_bytes"], int) and isinstance(footprint["object_count"], int)
    for prefix in ("meetings/", "transcriptions/"):
        assert set(footprint["by_prefix"][prefix]) == {"bytes", "objects"}
    assert footprint["by_prefix"]["meetings/"]["objects"] == 2
    assert set(footprint["by_storage_class"]["STANDARD"]) == {"bytes", "objects"}
    monthly = data["monthly"]
    assert isinstance(monthly["total_usd"], float)
    assert monthly["items"]
    for item in monthly["items"]:
        assert {"name", "quantity", "unit", "unit_price_usd", "usd"} <= set(item)
        assert item["usd"] == pytest.approx(item["quantity"] * item["unit_price_usd"])
    assert monthly["total_usd"] == pytest.approx(sum(item["usd"] for item in monthly["items"]))
    assert isinstance(data["projection"], list) and len(data["projection"]) == 12
    assert data["projection"][0]["month"] == 1
    assert {"with_lifecycle_usd", "without_lifecycle_usd", "savings_usd"} <= set(
        data["lifecycle_comparison"]
    )
    assert len(footprint["meetings"]) == 3


def test_cost_what_if_reproduces_the_design_documents_example(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    _, data = run(
        capsys,
        moto_storage,
        "cost",
        "--meetings-per-month",
        "100",
        "--audio-mb",
        "50",
        "--documents-kb",
        "1024",
        "--no-lifecycle",
        "--months",
        "3",
    )
    first = data["projection"][0]
    storage = next(i for i in first["items"] if i["name"] == "S3 Standard storage")
    assert storage["quantity"] == pytest.approx(4.98046875)
    assert storage["usd"] == pytest.approx(0.11455078125)
    assert [m["meetings_stored"] for m in data["projection"]] == [100, 200, 300]
    assert data["usage"]["lifecycle"] is False

    _, ai = run(
        capsys,
        moto_storage,
        "cost",
        "--transcribe",
        "--bedrock",
        "--minutes",
        "30",
        "--months",
        "1",
    )
    names = [item["name"] for item in ai["projection"][0]["items"]]
    assert "Amazon Transcribe (standard batch)" in names
    assert any(name.startswith("Bedrock Claude 3 Haiku") for name in names)


def test_cost_defaults_follow_the_buckets_lifecycle_policy(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    run(capsys, moto_storage, "lifecycle", "apply", "--archive-days", "30", "--expire-days", "200")
    _, data = run(capsys, moto_storage, "cost")
    assert data["usage"]["lifecycle"] is True
    assert (data["usage"]["archive_days"], data["usage"]["retention_days"]) == (30, 200)
    _, forever = run(capsys, moto_storage, "cost", "--keep-forever")
    assert forever["usage"]["retention_days"] is None


def test_cost_csv_export(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    store_three(moto_storage)
    target = tmp_path / "costs.csv"
    _, data = run(capsys, moto_storage, "cost", "--csv", str(target))
    assert data["csv"] == str(target)
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0][:4] == ["section", "month", "category", "name"]
    sections = {row[0] for row in rows[1:]}
    assert sections == {"this month", "projection", "with lifecycle", "without lifecycle"}


def test_cost_human_output(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    from meeting_storage.cli.main import main

    store_three(moto_storage)
    assert main(["cost"], storage=moto_storage) == 0
    out = capsys.readouterr().out
    for text in ("Prices: us-east-1", "This month:", "S3 Standard storage", "month  12", "Notes:"):
        assert text in out


@pytest.mark.parametrize(
    ("args", "code", "status"),
    [
        (["--months", "0"], "invalid_input", 1),
        (["--meetings-per-month", "-5"], "invalid_input", 1),
        (["--audio-mb", "lots"], "usage", 2),
        (["--audio-mb", "-1"], "usage", 2),
        (["--archive-class", "ONEZONE_IA"], "usage", 2),
        (["--months", "121"], "invalid_input", 1),
        (["--audio-mb", "1000001"], "invalid_input", 1),
        (["--bedrock-model", ""], "invalid_input", 1),
        (["--retention-days", "30", "--keep-forever"], "usage", 2),
        (["--retention-days", "0"], "invalid_input", 1),
        (["--archive-days", "36501"], "invalid_input", 1),
    ],
)
def test_cost_bad_input(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    args: list[str],
    code: str,
    status: int,
) -> None:
    assert_error(run(capsys, moto_storage, "cost", *args), code, status)


def test_cost_errors_name_the_option(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    message = assert_error(
        run(capsys, moto_storage, "cost", "--minutes", "2000000"), "invalid_input"
    )
    assert message == "--minutes must be a number from 0 to 1,000,000."
    message = assert_error(
        run(capsys, moto_storage, "cost", "--meetings-per-month", "-5"), "invalid_input"
    )
    assert message == "--meetings-per-month must be from 0 to 1,000,000."
    message = assert_error(
        run(capsys, moto_storage, "cost", "--retention-days", "0"), "invalid_input"
    )
    assert message == "--retention-days must be from 1 to 36,500 days."


@pytest.mark.seaweedfs
def test_cost_on_seaweedfs(capsys: pytest.CaptureFixture[str], seaweed_storage: Any) -> None:
    store_three(seaweed_storage)
    _, data = run(capsys, seaweed_storage, "cost", "--months", "2")
    assert data["footprint"]["by_prefix"]["meetings/"]["objects"] == 2
    assert data["usage"]["lifecycle"] is False  # SeaweedFS has no lifecycle rules


def test_documents_kept_locally_are_counted_but_not_billed(moto_settings: Any) -> None:
    from dataclasses import replace as replaced

    from meeting_storage import MeetingStorage as Storage

    local = Storage(replaced(moto_settings, store_in_s3=False))
    local.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav")
    footprint = local.detailed_footprint()
    # Four documents, three index objects and index/aggregates.json.
    assert footprint.by_storage_class["LOCAL"].objects == 8
    assert footprint.by_storage_class["STANDARD"].objects == 1  # the recording, in S3
    report = cost_report(local, months=1)
    storage_items = [i for i in report.monthly.items if i.category == "storage"]
    assert [i.quantity for i in storage_items] == [Decimal(len(wav_bytes())) / 1024**3]
    assert any("STORE_IN_S3=false" in note for note in report.monthly.notes)
