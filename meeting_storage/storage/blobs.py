"""Objects in a bucket: put/get/list/delete with conditional writes, plus a local-folder twin.

`BlobStore` is the small protocol the index and the service write documents through.
`S3BlobStore` adds what only S3 can do: streamed multipart uploads, presigned URLs and
versioned deletes. `LocalBlobStore` keeps the same keys as files under a folder
(STORE_IN_S3=false) with the same conditional-write semantics.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from meeting_storage.core.errors import (
    BackendUnavailableError,
    ConflictError,
    MeetingStorageError,
    client_error_code,
    is_missing_object,
    is_precondition_failed,
    translate_boto_error,
    translate_os_error,
)
from meeting_storage.storage.aws import AWS_ERRORS, PATH_TRANSFER_CONFIG, TRANSFER_CONFIG

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import RestoreRequestTypeDef

DELETE_BATCH = 1000  # DeleteObjects accepts at most 1,000 keys per request


@dataclass(frozen=True)
class Blob:
    data: bytes
    etag: str


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str = ""
    last_modified: datetime | None = None
    storage_class: str = "STANDARD"
    content_type: str | None = None
    restore: str | None = None  # HeadObject's Restore header (archived objects)


@dataclass(frozen=True)
class VersionInfo:
    """One entry of a versioned listing: an object version or a delete marker."""

    key: str
    version_id: str
    is_latest: bool
    delete_marker: bool
    size: int = 0
    last_modified: datetime | None = None
    storage_class: str = "STANDARD"


class BlobStore(Protocol):
    """Where meeting documents and the index live (S3 or a local folder)."""

    location: str

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write an object and return its ETag. `if_none_match` refuses to overwrite;
        `if_match` refuses unless the current ETag matches. A lost condition raises ConflictError."""
        ...

    def get(self, key: str) -> Blob:
        """Read a whole (small) object, or raise NotFoundError."""
        ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]: ...

    def iter_children(self, prefix: str) -> Iterator[str]:
        """The "folders" directly under prefix, each ending in '/'."""
        ...

    def delete(self, keys: Sequence[str], *, purge: bool = False) -> list[str]:
        """Delete keys in batches; return those that existed. `purge` also removes old versions."""
        ...


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket
        self.location = f"s3://{bucket}"

    def _error(self, exc: BaseException, key: str | None, action: str) -> MeetingStorageError:
        return translate_boto_error(exc, bucket=self.bucket, key=key, action=action)

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": data,
            "ContentType": content_type,
        }
        if if_none_match:
            params["IfNoneMatch"] = "*"
        if if_match is not None:
            params["IfMatch"] = if_match
        try:
            response = self._client.put_object(**params)
        except AWS_ERRORS as exc:
            conditional = if_none_match or if_match is not None
            if conditional and (is_precondition_failed(exc) or is_missing_object(exc)):
                raise ConflictError(
                    f"{self.location}/{key} was changed by another writer; retry."
                ) from exc
            raise self._error(exc, key, "write") from exc
        return str(response.get("ETag", _etag(data)))

    def get(self, key: str) -> Blob:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            data = response["Body"].read()
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "read") from exc
        return Blob(data=data, etag=str(response.get("ETag", "")))

    def download_to(self, key: str, fileobj: IO[bytes]) -> None:
        """Stream an object (a recording, say) into an open file without holding it in memory."""
        try:
            self._client.download_fileobj(self.bucket, key, fileobj)
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "read") from exc

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except AWS_ERRORS as exc:
            if is_missing_object(exc):
                return None
            raise self._error(exc, key, "read") from exc
        return ObjectInfo(
            key=key,
            size=int(response.get("ContentLength", 0)),
            etag=str(response.get("ETag", "")),
            last_modified=response.get("LastModified"),
            storage_class=str(response.get("StorageClass") or "STANDARD"),
            content_type=response.get("ContentType"),
            restore=response.get("Restore"),
        )

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=int(item.get("Size", 0)),
                        etag=str(item.get("ETag", "")),
                        last_modified=item.get("LastModified"),
                        storage_class=str(item.get("StorageClass") or "STANDARD"),
                    )
        except AWS_ERRORS as exc:
            raise self._error(exc, prefix, "list") from exc

    def iter_children(self, prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
                for item in page.get("CommonPrefixes", []):
                    yield item["Prefix"]
        except AWS_ERRORS as exc:
            raise self._error(exc, prefix, "list") from exc

    def versioning_status(self) -> str:
        """'Enabled', 'Suspended' or 'Disabled' (never enabled)."""
        try:
            response = self._client.get_bucket_versioning(Bucket=self.bucket)
        except AWS_ERRORS as exc:
            raise self._error(exc, None, "read the versioning state of") from exc
        return str(response.get("Status") or "Disabled")

    def content_sha256(self, key: str) -> str:
        """SHA-256 of an object's bytes, streamed (for verifying a copy byte for byte)."""
        digest = hashlib.sha256()
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            for chunk in body.iter_chunks(1024 * 1024):
                digest.update(chunk)
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "read") from exc
        return digest.hexdigest()

    def iter_versions(self, prefix: str) -> Iterator[VersionInfo]:
        """Every version and delete marker under prefix (paginated), newest first per key."""
        paginator = self._client.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Versions", []):
                    yield VersionInfo(
                        key=item["Key"],
                        version_id=str(item.get("VersionId")),
                        is_latest=bool(item.get("IsLatest")),
                        delete_marker=False,
                        size=int(item.get("Size", 0)),
                        last_modified=item.get("LastModified"),
                        storage_class=str(item.get("StorageClass") or "STANDARD"),
                    )
                for item in page.get("DeleteMarkers", []):
                    yield VersionInfo(
                        key=item["Key"],
                        version_id=str(item.get("VersionId")),
                        is_latest=bool(item.get("IsLatest")),
                        delete_marker=True,
                        last_modified=item.get("LastModified"),
                    )
        except AWS_ERRORS as exc:
            raise self._error(exc, prefix, "list the versions of") from exc

    def get_version(self, key: str, version_id: str) -> Blob:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key, VersionId=version_id)
            data = response["Body"].read()
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "read an earlier version of") from exc
        return Blob(data=data, etag=str(response.get("ETag", "")))

    def delete_versions(self, versions: Sequence[VersionInfo]) -> None:
        """Remove exact versions (or delete markers, which undeletes the object beneath)."""
        for version in versions:
            try:
                self._client.delete_object(
                    Bucket=self.bucket, Key=version.key, VersionId=version.version_id
                )
            except AWS_ERRORS as exc:
                raise self._error(exc, version.key, "remove a version of") from exc

    def restore(self, key: str, request: dict[str, Any]) -> bool:
        """Ask S3 to restore an archived object; False when a restore is already running."""
        try:
            self._client.restore_object(
                Bucket=self.bucket, Key=key, RestoreRequest=cast("RestoreRequestTypeDef", request)
            )
        except AWS_ERRORS as exc:
            if client_error_code(exc) == "RestoreAlreadyInProgress":
                return False
            raise self._error(exc, key, "restore") from exc
        return True

    def _versions_of(self, keys: Sequence[str]) -> list[Any]:
        wanted = set(keys)
        targets: list[Any] = []
        paginator = self._client.get_paginator("list_object_versions")
        for prefix in sorted(_common_prefixes(keys)):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    if item["Key"] in wanted:
                        targets.append({"Key": item["Key"], "VersionId": item["VersionId"]})
        return targets

    def delete(self, keys: Sequence[str], *, purge: bool = False) -> list[str]:
        if not keys:
            return []
        try:
            existing = [key for key in keys if self.head(key) is not None]
            targets: list[Any] = [{"Key": key} for key in existing]
            if purge and self.versioning_status() != "Disabled":
                targets = self._versions_of(keys)
            failures: list[str] = []
            for start in range(0, len(targets), DELETE_BATCH):
                batch = targets[start : start + DELETE_BATCH]
                response = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                for error in response.get("Errors", []):
                    failures.append(
                        f"{error.get('Key')}: {error.get('Code')} {error.get('Message')}"
                    )
        except AWS_ERRORS as exc:
            raise self._error(exc, None, "delete objects in") from exc
        if failures:
            raise BackendUnavailableError(
                "Some objects could not be deleted (run the delete again; nothing listed was "
                "lost): " + "; ".join(failures)
            )
        purged = {target["Key"] for target in targets}
        return [key for key in keys if key in existing or key in purged]

    def upload_stream(
        self,
        key: str,
        fileobj: IO[bytes],
        content_type: str,
        *,
        metadata: dict[str, str] | None = None,
        content_disposition: str | None = None,
    ) -> None:
        """Stream a file-like object to S3 (multipart above the threshold), never reading it whole."""
        extra: dict[str, Any] = {"ContentType": content_type}
        if metadata:
            extra["Metadata"] = metadata
        if content_disposition:
            extra["ContentDisposition"] = content_disposition
        try:
            self._client.upload_fileobj(
                fileobj, self.bucket, key, ExtraArgs=extra, Config=TRANSFER_CONFIG
            )
        except AWS_ERRORS as exc:
            # A transfer may wrap an error raised by our own reader (the size limit).
            own = _find_own_error(exc)
            if own is not None:
                raise own from exc
            raise self._error(exc, key, "upload") from exc

    def upload_path(
        self,
        key: str,
        path: Path,
        content_type: str,
        *,
        metadata: dict[str, str] | None = None,
        content_disposition: str | None = None,
    ) -> None:
        """Upload a file on disk by its path: s3transfer reads each part from the file as it
        sends it, so memory stays small and parts go out in parallel."""
        extra: dict[str, Any] = {"ContentType": content_type}
        if metadata:
            extra["Metadata"] = metadata
        if content_disposition:
            extra["ContentDisposition"] = content_disposition
        try:
            self._client.upload_file(
                str(path), self.bucket, key, ExtraArgs=extra, Config=PATH_TRANSFER_CONFIG
            )
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "upload") from exc

    def presign_get(
        self,
        key: str,
        expires_in: int,
        *,
        download_name: str | None = None,
        content_type: str | None = None,
    ) -> str:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name, inline=True)
        if content_type:
            params["ResponseContentType"] = content_type
        try:
            return str(
                self._client.generate_presigned_url(
                    "get_object", Params=params, ExpiresIn=expires_in
                )
            )
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "sign a URL for") from exc

    def presign_post(
        self, key: str, expires_in: int, *, content_type: str, min_bytes: int, max_bytes: int
    ) -> tuple[str, dict[str, str]]:
        """A browser-style POST policy for exactly this key: S3 itself refuses another key,
        another Content-Type or a size outside [min_bytes, max_bytes]. Returns (url, fields);
        the client posts the fields, then the file as the last field, named "file"."""
        try:
            post = self._client.generate_presigned_post(
                self.bucket,
                key,
                Fields={"Content-Type": content_type},
                Conditions=[
                    {"Content-Type": content_type},
                    ["content-length-range", min_bytes, max_bytes],
                ],
                ExpiresIn=expires_in,
            )
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "sign an upload policy for") from exc
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}

    def presign_put(self, key: str, expires_in: int, *, content_type: str, size: int) -> str:
        """A PUT URL that signs Content-Type and Content-Length: S3 refuses any other."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
        }
        try:
            return str(
                self._client.generate_presigned_url(
                    "put_object", Params=params, ExpiresIn=expires_in
                )
            )
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "sign an upload URL for") from exc

    def read_start(self, key: str, length: int) -> bytes:
        """The first `length` bytes of an object (one ranged GET), for sniffing its content."""
        try:
            response = self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{max(length, 1) - 1}"
            )
            return bytes(response["Body"].read())
        except AWS_ERRORS as exc:
            raise self._error(exc, key, "read") from exc


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266 header naming the original file, ASCII fallback plus UTF-8 filename*."""
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace('"', "_")
    ascii_name = ascii_name.replace("?", "_").replace("\\", "_")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _find_own_error(exc: BaseException) -> MeetingStorageError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, MeetingStorageError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _common_prefixes(keys: Sequence[str]) -> set[str]:
    """One listing prefix per parent folder, so purging a meeting costs a LIST per folder."""
    return {key.rsplit("/", 1)[0] + "/" if "/" in key else key for key in keys}


class LocalBlobStore:
    """The same keys as files under a folder, for STORE_IN_S3=false."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key {key!r} escapes {self.root}")
        return path

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        path = self._path(key)
        with _file_errors(path, "write"), self._locked():
            exists = path.is_file()
            if if_none_match and exists:
                raise ConflictError(f"{path} already exists.")
            if if_match is not None and (not exists or _etag(path.read_bytes()) != if_match):
                raise ConflictError(f"{path} was changed by another writer; retry.")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            Path(tmp).replace(path)
        return _etag(data)

    def get(self, key: str) -> Blob:
        path = self._path(key)
        with _file_errors(path, "read"):
            data = path.read_bytes()
        return Blob(data=data, etag=_etag(data))

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        if not path.is_file():
            return None
        with _file_errors(path, "read"):
            stat = path.stat()
            data = path.read_bytes()
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            etag=_etag(data),
            last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            storage_class="LOCAL",
        )

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            return
        with _file_errors(self.root, "list"):
            paths = sorted(self.root.rglob("*"))
        for path in paths:
            if not path.is_file() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix):
                info = self.head(key)
                if info is not None:
                    yield info

    def iter_children(self, prefix: str) -> Iterator[str]:
        folder = self._path(prefix) if prefix else self.root
        if not folder.is_dir():
            return
        with _file_errors(folder, "list"):
            paths = sorted(folder.iterdir())
        for path in paths:
            if path.is_dir():
                yield f"{prefix}{path.name}/"

    def delete(self, keys: Sequence[str], *, purge: bool = False) -> list[str]:
        deleted = []
        with _file_errors(self.root, "delete files in"), self._locked():
            for key in keys:
                path = self._path(key)
                if path.is_file():
                    path.unlink()
                    deleted.append(key)
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()  # only succeeds once the meeting folder is empty
        return deleted


@contextlib.contextmanager
def _file_errors(path: Path, action: str) -> Iterator[None]:
    """The disk's errors (permission, no space, ...) as the package's, naming the file."""
    try:
        yield
    except OSError as exc:
        raise translate_os_error(exc, path=path, action=action) from exc
