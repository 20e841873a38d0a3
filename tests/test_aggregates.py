"""The store's running totals: kept equal to a real listing by every write and delete on
every index backend, repaired by the reconciliation, read from an S3 Inventory report."""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from meeting_storage import MeetingStorage
from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.core.errors import ConfigurationError
from meeting_storage.core.models import MeetingRecord
from meeting_storage.core.settings import Settings
from meeting_storage.index import aggregates
from meeting_storage.index.aggregates import (
    MEETINGS,
    MemoryAggregates,
    ObjectAggregates,
    cohort_key,
    contribution,
    difference,
    prefix_key,
)
from meeting_storage.ops import doctor, iam
from meeting_storage.ops.reconcile import reconcile
from meeting_storage.ops.reindex import reindex
from meeting_storage.service.documents import metadata_bytes
from meeting_storage.storage import inventory
from tests import operation_recorder
from tests.conftest import SAMPLE_TRANSCRIPT, s3_client_for, wav_bytes

PRODUCT_PREFIXES = (layout.AUDIO_PREFIX, layout.TRANSCRIPTIONS_PREFIX)


def listed(storage: MeetingStorage) -> dict[str, tuple[int, int]]:
    """(bytes, objects) under meetings/ and transcriptions/, from a real listing."""
    found = {}
    for prefix in PRODUCT_PREFIXES:
        store = storage.audio if prefix == layout.AUDIO_PREFIX else storage.documents
        objects = list(store.iter_objects(prefix))
        found[prefix] = (sum(o.size for o in objects), len(objects))
    return found


def assert_totals_agree(storage: MeetingStorage) -> dict[str, int]:
    counters = storage.stored_totals()
    for prefix, (size, objects) in listed(storage).items():
        assert counters.get(prefix_key(prefix, "bytes"), 0) == size, prefix
        assert counters.get(prefix_key(prefix, "objects"), 0) == objects, prefix
    assert counters.get(MEETINGS, 0) == len(storage.index.ids())
    assert reconcile(storage, fix=False).drift == []
    return counters


def test_totals_follow_every_write_and_delete(indexed_storage: MeetingStorage) -> None:
    storage = indexed_storage
    assert storage.stored_totals() == {}
    uploaded = storage.upload_audio(io.BytesIO(wav_bytes(1.0)), "standup.wav")
    first = storage.process(SAMPLE_TRANSCRIPT, audio_s3_key=uploaded.audio_s3_key)
    assert first.record.document_bytes == sum(
        size
        for key, size in (
            (o.key, o.size) for o in storage.documents.iter_objects("transcriptions/")
        )
        if layout.meeting_id_from_key(key) == first.record.meeting_id
    )
    assert first.record.document_bytes is not None
    assert metadata_bytes(first.record) < first.record.document_bytes
    assert_totals_agree(storage)
    storage.process("Transcript only. We agreed to ship on Friday.", title="No audio")
    waiting = storage.process(None, audio_file=io.BytesIO(wav_bytes(0.5)), audio_filename="a.wav")
    assert_totals_agree(storage)
    storage.attach_transcript(waiting.record.meeting_id, SAMPLE_TRANSCRIPT + " And more words.")
    counters = assert_totals_agree(storage)
    assert counters[MEETINGS] == 3
    assert counters[aggregates.AUDIO_MEETINGS] == 2
    storage.rename_speaker(first.record.meeting_id, "Alice", "Alice Longer-Surname")
    assert assert_totals_agree(storage) != counters  # the documents grew

    storage.delete_meeting(first.record.meeting_id)
    counters = assert_totals_agree(storage)
    assert counters[MEETINGS] == 2


def test_totals_follow_undelete_and_purge(indexed_storage: MeetingStorage) -> None:
    storage = indexed_storage
    if not storage.settings.store_in_s3:
        pytest.skip("undelete needs the documents in a versioned bucket")
    s3_client_for(storage).put_bucket_versioning(
        Bucket=storage.settings.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    kept = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="k.wav"
    )
    gone = storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="g.wav"
    )
    storage.delete_meeting(kept.record.meeting_id)
    assert assert_totals_agree(storage)[MEETINGS] == 1
    storage.undelete(kept.record.meeting_id)
    assert assert_totals_agree(storage)[MEETINGS] == 2
    storage.delete_meeting(gone.record.meeting_id, purge=True)
    counters = assert_totals_agree(storage)
    assert counters[MEETINGS] == 1
    result = reconcile(storage, fix=True)
    assert result.actual[aggregates.VERSIONED] == 1
    assert result.actual[aggregates.NONCURRENT_OBJECTS] >= 1  # the delete's marked metadata


def test_reconciliation_repairs_drift_and_counts_other_objects(
    indexed_storage: MeetingStorage,
) -> None:
    storage = indexed_storage
    storage.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="x.wav")
    storage.audio.put("exports/2026/report.csv", b"a,b\n1,2\n", "text/csv")
    storage.aggregates.add({MEETINGS: 4, prefix_key(layout.AUDIO_PREFIX, "bytes"): -100})

    report = doctor.run_doctor(storage)
    totals = next(c for c in report.checks if c.name == "totals")
    assert totals.status == "warn"
    assert "meetings" in totals.message

    result = reconcile(storage, fix=True)
    assert {d.name for d in result.drift} == {MEETINGS, prefix_key(layout.AUDIO_PREFIX, "bytes")}
    counters = storage.stored_totals()
    assert counters[MEETINGS] == 1
    # A listing covers the product's prefixes only (S3 Inventory counts the others).
    assert prefix_key(aggregates.OTHER, "objects") not in counters
    assert counters[aggregates.RECONCILED_AT] == int(result.as_of.timestamp())
    assert reconcile(storage, fix=False).drift == []
    assert storage.stored_summary().reconciled_at is not None

    # doctor --fix and reindex repair too.
    storage.aggregates.add({MEETINGS: 2})
    repairs = doctor.run_doctor(storage, fix=True).repairs
    assert [r.action for r in repairs] == ["reconcile_totals"]
    storage.aggregates.replace({})
    reindex(storage, restart=True)
    assert storage.stored_totals()[MEETINGS] == 1


def test_footprint_reconcile_command(moto_storage: MeetingStorage, capsys: Any) -> None:
    moto_storage.process(SAMPLE_TRANSCRIPT)
    moto_storage.aggregates.add({MEETINGS: 1})
    assert main(["footprint", "reconcile", "--check", "--json"], storage=moto_storage) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["drift"] == [{"counter": "meetings", "recorded": 2, "actual": 1}]
    assert data["repaired"] is False
    assert main(["footprint", "reconcile"], storage=moto_storage) == 0
    assert "Repaired 1 total(s)." in capsys.readouterr().out
    assert moto_storage.stored_totals()[MEETINGS] == 1


# ---------------------------------------------------------------- S3 Inventory

SCHEMA = (
    "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass"
)


def inventory_csv(bucket: str, rows: list[tuple[str, bool, bool, int, str]]) -> bytes:
    """A data file as S3 Inventory writes it: gzip CSV, no header, URL-encoded keys."""
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for n, (key, latest, marker, size, storage_class) in enumerate(rows):
        writer.writerow(
            [
                bucket,
                quote(key),
                f"v{n}",
                str(latest).lower(),
                str(marker).lower(),
                "" if marker else str(size),
                "2026-12-01T00:00:00.000Z",
                "" if marker else f"etag{n}",
                "" if marker else storage_class,
            ]
        )
    return gzip.compress(text.getvalue().encode())


def write_report(
    client: Any, destination: str, prefix: str, source: str, folder: str, data: bytes, **extra: Any
) -> datetime:
    created = datetime.strptime(folder, "%Y-%m-%dT%H-%MZ").replace(tzinfo=UTC)
    data_key = f"{prefix}data/{folder}.csv.gz"
    client.put_object(Bucket=destination, Key=data_key, Body=data)
    manifest = {
        "sourceBucket": source,
        "destinationBucket": f"arn:aws:s3:::{destination}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": SCHEMA,
        "files": [{"key": data_key, "size": len(data), "MD5checksum": "0"}],
        **extra,
    }
    client.put_object(
        Bucket=destination, Key=f"{prefix}{folder}/manifest.json", Body=json.dumps(manifest)
    )
    return created


def test_reconciliation_reads_the_newest_inventory_report(moto_storage: MeetingStorage) -> None:
    stored = moto_storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="q.wav"
    )
    record = stored.record
    bucket = moto_storage.settings.bucket
    client = s3_client_for(moto_storage)
    destination = f"{bucket}-inventory"
    client.create_bucket(Bucket=destination)
    prefix = f"reports/{bucket}/all-objects/"
    rows = [
        (o.key, True, False, o.size, "GLACIER" if o.key == record.audio_s3_key else "STANDARD")
        for o in moto_storage.audio.iter_objects("")
    ]
    rows += [
        ("shared/notes from Q3.txt", True, False, 1234, "STANDARD_IA"),
        (layout.metadata_key(record.meeting_id), False, False, 900, "STANDARD"),
        ("shared/old.txt", True, True, 0, ""),
    ]
    write_report(
        client, destination, prefix, bucket, "2026-11-30T01-00Z", inventory_csv(bucket, [])
    )
    created = write_report(
        client, destination, prefix, bucket, "2026-12-01T01-00Z", inventory_csv(bucket, rows)
    )
    operation_recorder.INVENTORY_LOCATIONS[destination] = prefix
    storage = MeetingStorage(
        replace(moto_storage.settings, s3_inventory_prefix=f"s3://{destination}/{prefix}")
    )
    policy = iam.policy_for_settings(storage.settings)
    assert {
        "Sid": "ReadInventoryReports",
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": f"arn:aws:s3:::{destination}/{prefix}*",
    } in policy["Statement"]
    result = reconcile(storage, fix=True)
    assert result.source == "inventory"
    assert result.as_of == created
    counters = storage.stored_totals()
    assert counters[aggregates.RECONCILED_FROM_INVENTORY] == 1
    assert counters[MEETINGS] == 1
    # The shared notes, and whatever else the bucket holds outside the product's prefixes
    # (the audit trail's events).
    others = [
        o for o in moto_storage.audio.iter_objects("") if not o.key.startswith(layout.PREFIXES)
    ]
    assert counters[prefix_key(aggregates.OTHER, "objects")] == 1 + len(others)
    assert counters[prefix_key(aggregates.OTHER, "bytes")] == 1234 + sum(o.size for o in others)
    assert counters[aggregates.class_key("STANDARD_IA", "bytes")] == 1234
    assert counters[aggregates.NONCURRENT_OBJECTS] == 1
    assert counters[aggregates.NONCURRENT_BYTES] == 900
    month = record.timestamp.strftime("%Y-%m")
    assert counters[cohort_key(month, "GLACIER", "meetings")] == 1
    assert counters[cohort_key(month, "GLACIER", "audio_bytes")] == record.audio_size
    footprint = storage.counted_footprint()
    assert footprint.from_inventory
    assert footprint.reconciled_at == created
    assert footprint.by_prefix[layout.AUDIO_PREFIX].bytes == record.audio_size


def test_inventory_parsing() -> None:
    data = inventory_csv(
        "b", [("a b/c+d.txt", True, False, 5, "STANDARD"), ("x", False, True, 0, "")]
    )
    rows = list(inventory.parse_csv(data, tuple(s.strip() for s in SCHEMA.split(","))))
    assert rows[0] == inventory.InventoryObject("a b/c+d.txt", 5, "STANDARD", True, False)
    assert rows[1].delete_marker and not rows[1].is_latest
    # Without version columns every row is a current object.
    plain = gzip.compress(b'"b","k%2F1","7","DEEP_ARCHIVE"\n')
    assert list(inventory.parse_csv(plain, ("Bucket", "Key", "Size", "StorageClass"))) == [
        inventory.InventoryObject("k/1", 7, "DEEP_ARCHIVE")
    ]
    manifest = inventory.parse_manifest(
        "m",
        json.dumps(
            {
                "creationTimestamp": "1764550800000",
                "fileFormat": "Parquet",
                "fileSchema": "message s3.inventory {}",
                "files": [{"key": "d"}],
            }
        ).encode(),
    )
    assert manifest.file_format == "PARQUET"
    assert manifest.created_at == datetime(2025, 12, 1, 1, 0, tzinfo=UTC)
    assert inventory.split_location("s3://dest/reports/src/cfg/", "src") == (
        "dest",
        "reports/src/cfg/",
    )
    assert inventory.split_location("reports/", "src") == ("src", "reports/")


def test_a_parquet_report_is_refused_with_a_way_out(moto_storage: MeetingStorage) -> None:
    bucket = moto_storage.settings.bucket
    client = s3_client_for(moto_storage)
    operation_recorder.INVENTORY_LOCATIONS[bucket] = "inv/"
    write_report(client, bucket, "inv/", bucket, "2026-12-01T01-00Z", b"", fileFormat="Parquet")
    storage = MeetingStorage(replace(moto_storage.settings, s3_inventory_prefix="inv/"))
    with pytest.raises(ConfigurationError, match="only CSV reports"):
        reconcile(storage)


# ---------------------------------------------------------------- pure parts


def record(**values: Any) -> MeetingRecord:
    base = MeetingRecord(
        meeting_id="meeting-0000aaaa",
        timestamp=datetime(2026, 5, 3, tzinfo=UTC),
        filename="a.wav",
        audio_s3_key=f"{layout.AUDIO_PREFIX}{'0' * 32}_a.wav",
        audio_size=1000,
        document_bytes=300,
        document_objects=4,
        duration_seconds=61.5,
    )
    return replace(base, **values)


def test_difference_of_a_rewrite_and_a_delete() -> None:
    before, after = record(), record(document_bytes=350)
    assert difference(after, before) == {
        prefix_key(layout.TRANSCRIPTIONS_PREFIX, "bytes"): 50,
        aggregates.class_key("STANDARD", "bytes"): 50,
        aggregates.DOCUMENT_BYTES: 50,
        cohort_key("2026-05", "STANDARD", "document_bytes"): 50,
    }
    gone = difference(None, before)
    assert gone == {name: -value for name, value in contribution(before).items()}
    assert contribution(before)[aggregates.TIMED_MS] == 61_500


@pytest.mark.seaweedfs
def test_concurrent_adds_are_not_lost(seaweed_storage: MeetingStorage) -> None:
    """On the real server: moto does not check If-Match atomically under threads."""
    from concurrent.futures import ThreadPoolExecutor

    totals = ObjectAggregates(seaweed_storage.documents, "index/race.json")
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: totals.add({MEETINGS: 1}), range(24)))
    assert totals.read() == {MEETINGS: 24}
    memory = MemoryAggregates()
    memory.add({MEETINGS: 2})
    memory.replace({MEETINGS: 0, "x": 1})
    assert memory.read() == {"x": 1}


def test_settings_read_the_inventory_prefix(tmp_path: Any) -> None:
    from meeting_storage.core.settings import load_settings

    settings = load_settings(
        None, environ={"S3_BUCKET_NAME": "bucket-b", "S3_INVENTORY_PREFIX": " s3://d/p/ "}
    )
    assert isinstance(settings, Settings)
    assert settings.s3_inventory_prefix == "s3://d/p/"
