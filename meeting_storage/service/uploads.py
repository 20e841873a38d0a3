"""Recordings into meetings/: streamed uploads, presigned uploads, and the checks a recording
passes before a meeting refers to it (size, magic bytes, MAX_UPLOAD_MB)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import IO

from meeting_storage.core import layout
from meeting_storage.core.errors import (
    FileTooLargeError,
    InvalidInputError,
    MeetingStorageError,
    NotFoundError,
)
from meeting_storage.core.models import PresignedUpload, UploadedAudio, utc_now
from meeting_storage.core.settings import MAX_PRESIGN_SECONDS, Settings
from meeting_storage.costs.pricing import ARCHIVED_CLASSES
from meeting_storage.service.access import AccessControl
from meeting_storage.storage.blobs import S3BlobStore, content_disposition
from meeting_storage.storage.media import (
    SNIFF_BYTES,
    SizeLimitedReader,
    content_type_for_name,
    declared_media,
    detect_media,
    duration_seconds,
)

UPLOAD_METHODS = ("POST", "PUT")
# The largest object one S3 POST (or PUT) can create.
S3_SINGLE_UPLOAD_LIMIT = 5 * 1024**3


def presign_seconds(settings: Settings, expires_in: int | None) -> int:
    """How long a presigned URL lives: `expires_in`, or PRESIGNED_URL_EXPIRY, within limits."""
    seconds = settings.presigned_url_expiry if expires_in is None else expires_in
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise InvalidInputError(
            f"expires_in must be between 1 and {MAX_PRESIGN_SECONDS} seconds, not {seconds}."
        )
    return seconds


class AudioUploads(AccessControl):
    """The uploading part of `MeetingStorage`."""

    settings: Settings
    audio: S3BlobStore

    def upload_audio(
        self, fileobj: IO[bytes], filename: str, *, size: int | None = None
    ) -> UploadedAudio:
        """Check and stream a recording to meetings/{uuid}_{filename}; return its key."""
        self.authorize("meeting.upload")
        with self.audited("meeting.upload", filename=filename) as scope:
            uploaded = self._upload_audio(fileobj, filename, size=size)
            scope.details.update(audio_s3_key=uploaded.audio_s3_key, size=uploaded.size)
        return uploaded

    def _upload_audio(
        self, fileobj: IO[bytes], filename: str, *, size: int | None = None
    ) -> UploadedAudio:
        safe_name = layout.sanitize_filename(filename)
        limit = self.settings.max_upload_bytes
        if size is not None and size > limit:
            raise FileTooLargeError(
                f"{filename!r} is larger than the {limit // (1024 * 1024)} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if size == 0:
            raise InvalidInputError(f"{filename!r} is empty; choose a recording with sound in it.")
        head = fileobj.read(SNIFF_BYTES)
        content_type, extension = detect_media(head, filename)
        if layout.file_extension(safe_name) not in {extension, *_same_family(extension)}:
            safe_name = layout.sanitize_filename(f"{safe_name}.{extension}")
        key = layout.new_audio_key(safe_name)
        local_path = self._local_copy_path(key)
        tee: IO[bytes] | None = None
        if local_path is not None:
            local_path.parent.mkdir(parents=True, exist_ok=True)
            tee = local_path.open("wb")
        reader = SizeLimitedReader(head, fileobj, limit, filename, tee=tee)
        try:
            self.audio.upload_stream(
                key,
                # Buffered so each read returns the full amount asked for: s3transfer decides
                # on multipart from the size of its first read.
                io.BufferedReader(reader, buffer_size=1024 * 1024),
                content_type,
                metadata={"original-filename": _ascii_header(safe_name)},
                content_disposition=content_disposition(safe_name),
            )
        except BaseException:
            if tee is not None:
                tee.close()
                local_path.unlink(missing_ok=True)  # type: ignore[union-attr]
            with contextlib.suppress(MeetingStorageError):
                self.audio.delete([key])
            raise
        if tee is not None:
            tee.close()
        return UploadedAudio(
            audio_s3_key=key,
            filename=safe_name,
            size=reader.count,
            content_type=content_type,
            local_copy=str(local_path) if local_path else None,
            sha256=reader.sha256,
            duration_seconds=duration_seconds(head, extension, reader.count),
        )

    def upload_audio_path(self, path: Path, filename: str | None = None) -> UploadedAudio:
        """Check and upload a recording on disk by its path (what `upload FILE` does): parts
        are read from the file as they are sent, in parallel, never buffered in memory; its
        SHA-256 is computed alongside."""
        self.authorize("meeting.upload")
        with self.audited("meeting.upload", filename=filename or path.name) as scope:
            uploaded = self._upload_audio_path(path, filename)
            scope.details.update(audio_s3_key=uploaded.audio_s3_key, size=uploaded.size)
        return uploaded

    def _upload_audio_path(self, path: Path, filename: str | None) -> UploadedAudio:
        name = filename or path.name
        size = path.stat().st_size
        if size > self.settings.max_upload_bytes:
            raise FileTooLargeError(
                f"{name!r} is larger than the {self.settings.max_upload_mb} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if size == 0:
            raise InvalidInputError(f"{name!r} is empty; choose a recording with sound in it.")
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        content_type, extension = detect_media(head, name)
        safe_name = layout.sanitize_filename(name)
        if layout.file_extension(safe_name) not in {extension, *_same_family(extension)}:
            safe_name = layout.sanitize_filename(f"{safe_name}.{extension}")
        key = layout.new_audio_key(safe_name)
        local_path = self._local_copy_path(key)
        with ThreadPoolExecutor(max_workers=1) as hashing:
            digest = hashing.submit(_sha256_of, path)
            try:
                if local_path is not None:
                    local_path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, local_path)
                self.audio.upload_path(
                    key,
                    path,
                    content_type,
                    metadata={"original-filename": _ascii_header(safe_name)},
                    content_disposition=content_disposition(safe_name),
                )
            except BaseException:
                if local_path is not None:
                    local_path.unlink(missing_ok=True)
                with contextlib.suppress(MeetingStorageError):
                    self.audio.delete([key])
                raise
            sha256 = digest.result()
        return UploadedAudio(
            audio_s3_key=key,
            filename=safe_name,
            size=size,
            content_type=content_type,
            local_copy=str(local_path) if local_path else None,
            sha256=sha256,
            duration_seconds=duration_seconds(head, extension, size),
        )

    def create_upload(
        self,
        filename: str,
        content_type: str,
        *,
        size: int | None = None,
        method: str = "POST",
        expires_in: int | None = None,
    ) -> PresignedUpload:
        """Presign an upload of one recording straight to meetings/{uuid}_{filename}.

        S3 enforces the key, the declared Content-Type and the size (a POST policy's
        content-length-range, or the Content-Length signed into a PUT URL); `process` checks
        the bytes themselves (magic bytes, MAX_UPLOAD_MB) before a meeting refers to them.
        """
        self.authorize("meeting.upload")
        with self.audited("meeting.upload", filename=filename, presigned=True) as scope:
            upload = self._create_upload(
                filename, content_type, size=size, method=method, expires_in=expires_in
            )
            scope.details.update(audio_s3_key=upload.audio_s3_key, method=upload.method)
        return upload

    def _create_upload(
        self,
        filename: str,
        content_type: str,
        *,
        size: int | None,
        method: str,
        expires_in: int | None,
    ) -> PresignedUpload:
        method = method.upper() if isinstance(method, str) else ""
        if method not in UPLOAD_METHODS:
            raise InvalidInputError(f"method must be one of {', '.join(UPLOAD_METHODS)}.")
        content_type, extension = declared_media(content_type)
        limit = min(self.settings.max_upload_bytes, S3_SINGLE_UPLOAD_LIMIT)
        if size is not None and size > S3_SINGLE_UPLOAD_LIMIT:
            raise FileTooLargeError(
                f"{size} bytes is larger than the 5 GB an S3 upload in one request can hold; "
                "upload it with `meeting-storage upload` (multipart) instead."
            )
        if size is not None and size < 1:
            raise InvalidInputError("size must be at least 1 byte; a recording cannot be empty.")
        if size is not None and size > limit:
            raise FileTooLargeError(
                f"{size} bytes is larger than the {self.settings.max_upload_mb} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if method == "PUT" and size is None:
            raise InvalidInputError(
                "A presigned PUT signs the exact Content-Length: give the file's size."
            )
        seconds = presign_seconds(self.settings, expires_in)
        safe_name = layout.sanitize_filename(filename)
        if layout.file_extension(safe_name) not in {extension, *_same_family(extension)}:
            safe_name = layout.sanitize_filename(f"{safe_name}.{extension}")
        key = layout.new_audio_key(safe_name)
        expires_at = utc_now() + timedelta(seconds=seconds)
        if method == "POST":
            low, high = (size, size) if size is not None else (1, limit)
            url, fields = self.audio.presign_post(
                key, seconds, content_type=content_type, min_bytes=low, max_bytes=high
            )
            return PresignedUpload(
                audio_s3_key=key,
                filename=safe_name,
                method=method,
                url=url,
                content_type=content_type,
                min_bytes=low,
                max_bytes=high,
                expires_at=expires_at,
                fields=fields,
            )
        assert size is not None
        url = self.audio.presign_put(key, seconds, content_type=content_type, size=size)
        return PresignedUpload(
            audio_s3_key=key,
            filename=safe_name,
            method=method,
            url=url,
            content_type=content_type,
            min_bytes=size,
            max_bytes=size,
            expires_at=expires_at,
            headers={"Content-Type": content_type, "Content-Length": str(size)},
        )

    def create_browser_upload(
        self, filename: str, size: int, *, expires_in: int | None = None
    ) -> PresignedUpload:
        """A presigned POST for a recording a browser sends straight to the bucket: the
        content type follows the file's extension, and S3 accepts exactly `size` bytes (at
        most MAX_UPLOAD_MB and 5 GB). Call `check_uploaded_audio` once it is there."""
        content_type = content_type_for_name(filename)
        return self.create_upload(
            filename, content_type, size=size, method="POST", expires_in=expires_in
        )

    def check_uploaded_audio(self, audio_s3_key: str) -> tuple[int, str]:
        """Size and real content type of a recording uploaded straight to the bucket, checked
        from its first bytes (one ranged GET). One that is empty, too large or not a
        recording is removed from the bucket (every version of it) and the error says so."""
        layout.validate_audio_key(audio_s3_key)
        self.authorize("meeting.upload")
        try:
            return self._check_stored_audio(audio_s3_key)
        except InvalidInputError as error:
            self.audit(
                "meeting.upload",
                None,
                {"audio_s3_key": audio_s3_key, "removed": True, "error": error.code},
                "failed",
            )  # not found is left alone: there is nothing
            self.audio.delete([audio_s3_key], purge=True)
            self._remove_local_copy(audio_s3_key)
            raise type(error)(f"{error.message} It was removed from the bucket.") from error

    def _check_stored_audio(self, audio_s3_key: str) -> tuple[int, str]:
        """Size and real content type of an uploaded recording a meeting is about to refer to.

        A recording uploaded with a presigned URL never passed through `upload_audio`, so its
        size and its first bytes are checked here the same way.
        """
        layout.validate_audio_key(audio_s3_key)
        info = self.audio.head(audio_s3_key)
        if info is None:
            raise NotFoundError(
                f"Audio {audio_s3_key!r} is not in s3://{self.settings.bucket}; upload it "
                "first with `upload` and pass the key it returns."
            )
        name = layout.filename_from_audio_key(audio_s3_key)
        if info.size > self.settings.max_upload_bytes:
            raise FileTooLargeError(
                f"{name!r} is larger than the {self.settings.max_upload_mb} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if info.size == 0:
            raise InvalidInputError(f"{name!r} is empty; upload a recording with sound in it.")
        if info.storage_class in ARCHIVED_CLASSES:
            return info.size, info.content_type or "application/octet-stream"
        content_type, _ = detect_media(self.audio.read_start(audio_s3_key, SNIFF_BYTES), name)
        return info.size, content_type

    def _local_copy_path(self, audio_key: str) -> Path | None:
        if self.settings.skip_local_storage:
            return None
        return self.settings.uploads_dir / audio_key.removeprefix(layout.AUDIO_PREFIX)

    def _remove_local_copy(self, audio_key: str) -> list[str]:
        path = self._local_copy_path(audio_key)
        if path is not None and path.is_file():
            path.unlink()
            return [str(path)]
        return []


def _same_family(extension: str) -> set[str]:
    return {
        "m4a": {"mp4", "aac"},
        "mp4": {"m4a", "m4v", "mov"},
        "ogg": {"oga", "opus"},
        "webm": {"mkv", "weba"},
    }.get(extension, set())


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _ascii_header(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii")
