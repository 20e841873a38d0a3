"""Amazon S3 Inventory reports: the newest report's manifest.json and its gzip CSV files.

S3 Inventory writes, once a day or a week, a list of every object (and with "include all
versions", every version) of a bucket to a destination: under
`{prefix}/{source bucket}/{configuration id}/{YYYY-MM-DDTHH-MMZ}/manifest.json`, with the
data files the manifest names (`data/{uuid}.csv.gz`). Reading it costs a few GETs whatever
the bucket holds, where a listing costs one request per 1,000 objects.

Only CSV reports are read: Parquet needs pyarrow (and ORC pyorc), which the product does
not install; a report in another format is refused with a message saying so.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote_plus

from meeting_storage.core.errors import ConfigurationError, InvalidInputError, NotFoundError
from meeting_storage.storage.blobs import BlobStore

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class InventoryObject:
    """One row of a report: a current object, a noncurrent version or a delete marker."""

    key: str
    size: int
    storage_class: str = "STANDARD"
    is_latest: bool = True
    delete_marker: bool = False


@dataclass(frozen=True)
class Manifest:
    key: str
    created_at: datetime
    file_format: str
    schema: tuple[str, ...]
    files: tuple[str, ...]
    source_bucket: str = ""


def split_location(location: str, bucket: str) -> tuple[str, str]:
    """(bucket, key prefix) of S3_INVENTORY_PREFIX: `s3://bucket/prefix` or a key prefix in
    `bucket` (the meetings' own bucket)."""
    if location.startswith("s3://"):
        rest = location[len("s3://") :]
        where, _, prefix = rest.partition("/")
        if not where:
            raise ConfigurationError(
                f"S3_INVENTORY_PREFIX {location!r} names no bucket; write s3://BUCKET/PREFIX."
            )
        return where, prefix
    return bucket, location.lstrip("/")


def newest_manifest_key(store: BlobStore, prefix: str) -> str | None:
    """The newest report's manifest.json under `prefix` (report folders sort by date)."""
    keys = [
        info.key
        for info in store.iter_objects(prefix)
        if info.key.endswith("/" + MANIFEST) or info.key == MANIFEST
    ]
    return max(keys, key=_report_folder) if keys else None


def _report_folder(key: str) -> str:
    parts = key.split("/")
    return parts[-2] if len(parts) >= 2 else ""


def parse_manifest(key: str, data: bytes) -> Manifest:
    """A manifest.json as S3 Inventory writes it."""
    try:
        raw = json.loads(data)
        created_ms = int(raw["creationTimestamp"])
        schema = tuple(part.strip() for part in str(raw.get("fileSchema", "")).split(","))
        files = tuple(str(entry["key"]) for entry in raw["files"])
        file_format = str(raw.get("fileFormat", "CSV")).upper()
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(
            f"The S3 Inventory manifest {key} cannot be read ({exc}); check "
            "S3_INVENTORY_PREFIX, or leave it empty to list the bucket instead."
        ) from exc
    return Manifest(
        key=key,
        created_at=datetime.fromtimestamp(created_ms / 1000, UTC),
        file_format=file_format,
        schema=schema,
        files=files,
        source_bucket=str(raw.get("sourceBucket", "")),
    )


def _flag(value: str) -> bool:
    return value.strip().lower() == "true"


def parse_csv(data: bytes, schema: tuple[str, ...]) -> Iterator[InventoryObject]:
    """The rows of one gzip CSV data file (no header; columns as the manifest's fileSchema;
    keys URL-encoded)."""
    columns = {name: n for n, name in enumerate(schema)}
    if "Key" not in columns:
        raise InvalidInputError("The S3 Inventory report has no Key column.")
    text = gzip.decompress(data).decode("utf-8") if data[:2] == b"\x1f\x8b" else data.decode()

    def column(row: list[str], name: str, default: str = "") -> str:
        n = columns.get(name)
        return row[n] if n is not None and n < len(row) else default

    for row in csv.reader(io.StringIO(text)):
        if not row:
            continue
        size = column(row, "Size", "0")
        yield InventoryObject(
            key=unquote_plus(column(row, "Key")),
            size=int(size) if size.strip() else 0,
            storage_class=column(row, "StorageClass") or "STANDARD",
            is_latest=_flag(column(row, "IsLatest", "true")),
            delete_marker=_flag(column(row, "IsDeleteMarker", "false")),
        )


@dataclass(frozen=True)
class InventoryReport:
    manifest: Manifest
    objects: tuple[InventoryObject, ...]

    @property
    def created_at(self) -> datetime:
        return self.manifest.created_at


def read_report(store: BlobStore, prefix: str) -> InventoryReport:
    """The newest report under `prefix` in `store`, every row of it."""
    key = newest_manifest_key(store, prefix)
    if key is None:
        raise NotFoundError(
            f"No S3 Inventory manifest.json under {store.location}/{prefix}; the first report "
            "arrives within 48 hours of configuring Inventory. Leave S3_INVENTORY_PREFIX empty "
            "to list the bucket instead."
        )
    manifest = parse_manifest(key, store.get(key).data)
    if manifest.file_format != "CSV":
        raise ConfigurationError(
            f"The S3 Inventory report {key} is {manifest.file_format}; only CSV reports are "
            "read (Parquet and ORC need libraries the product does not install). Configure "
            "the Inventory with the CSV format, or leave S3_INVENTORY_PREFIX empty."
        )
    objects: list[InventoryObject] = []
    for data_key in manifest.files:
        objects.extend(parse_csv(store.get(data_key).data, manifest.schema))
    return InventoryReport(manifest=manifest, objects=tuple(objects))
