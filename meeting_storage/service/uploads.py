"""Recordings into meetings/: streamed uploads, presigned uploads, and the checks a recording
passes before a meeting refers to it (size, magic bytes, MAX_UPLOAD_MB)."""

from __future__ import annotations

import contextlib
import io
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
    declared_media,
    detect_media,
    duration_seconds,
)

UPLOAD_METHODS = ("POST", "PUT")


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
        limit = self.settings.max_upload_bytes
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


def _ascii_header(value: str) -> str:
    return value.encode("ascii", "replace").decode("ascii")
