"""What an uploaded file really is: magic-byte sniffing, and a size-limited streaming reader."""

from __future__ import annotations

import io
from typing import IO

import filetype

from .errors import FileTooLargeError, InvalidInputError, UnsupportedMediaTypeError

SNIFF_BYTES = 8192
ALLOWED_EXTENSIONS = ("m4a", "mp3", "wav", "ogg", "webm", "mp4", "flac")
# Detected container -> (content type stored in S3, extension used when the name has none)
_KINDS: dict[str, tuple[str, str]] = {
    "mp3": ("audio/mpeg", "mp3"),
    "m4a": ("audio/mp4", "m4a"),
    "mp4": ("video/mp4", "mp4"),
    "m4v": ("video/mp4", "mp4"),
    "wav": ("audio/wav", "wav"),
    "ogg": ("audio/ogg", "ogg"),
    "flac": ("audio/flac", "flac"),
    "webm": ("video/webm", "webm"),
    "mkv": ("video/webm", "webm"),  # WebM is Matroska; some recorders omit the webm doctype
    "aac": ("audio/aac", "m4a"),
}


# Content types a client may declare for a presigned upload -> (stored type, extension).
# The declared type is signed into the upload; the bytes are sniffed again when processed.
_DECLARED_TYPES: dict[str, tuple[str, str]] = {
    **{content_type: (content_type, extension) for content_type, extension in _KINDS.values()},
    "audio/mp3": ("audio/mpeg", "mp3"),
    "audio/x-m4a": ("audio/mp4", "m4a"),
    "audio/m4a": ("audio/mp4", "m4a"),
    "audio/x-wav": ("audio/wav", "wav"),
    "audio/wave": ("audio/wav", "wav"),
    "audio/vnd.wave": ("audio/wav", "wav"),
    "audio/webm": ("audio/webm", "webm"),
    "audio/x-flac": ("audio/flac", "flac"),
    "audio/opus": ("audio/ogg", "ogg"),
}
ACCEPTED_CONTENT_TYPES = tuple(sorted(_DECLARED_TYPES))


def declared_media(content_type: str) -> tuple[str, str]:
    """Return (content type, extension) for a type a client declares before uploading.

    Parameters (`; codecs=opus`) and case are ignored; anything but an accepted audio/video
    type is refused with UnsupportedMediaTypeError.
    """
    bare = content_type.split(";", 1)[0].strip().lower() if isinstance(content_type, str) else ""
    if bare not in _DECLARED_TYPES:
        shown = repr(content_type)[:80]
        raise UnsupportedMediaTypeError(
            f"{shown} is not an accepted recording type; use one of: "
            f"{', '.join(ACCEPTED_CONTENT_TYPES)}."
        )
    return _DECLARED_TYPES[bare]


def detect_media(head: bytes, filename: str) -> tuple[str, str]:
    """Return (content type, extension) of an audio/video file from its first bytes.

    The extension of the name is only a hint: content that is not one of the accepted
    audio/video formats is refused whatever it is called.
    """
    if not head:
        raise InvalidInputError(f"{filename!r} is empty; choose a recording with sound in it.")
    kind = filetype.guess(head)
    if kind is None and _looks_like_mpeg_audio(head):
        return _KINDS["mp3"]
    if kind is None or kind.extension not in _KINDS:
        found = f"looks like {kind.mime}" if kind else "is not a recognised audio or video file"
        raise UnsupportedMediaTypeError(
            f"{filename!r} {found}. Upload a recording in one of: {', '.join(ALLOWED_EXTENSIONS)}."
        )
    content_type, extension = _KINDS[kind.extension]
    if filename.lower().endswith(".m4a") and content_type == "video/mp4":
        content_type = "audio/mp4"  # an .m4a in a generic ISO container is still audio
    return content_type, extension


def _looks_like_mpeg_audio(head: bytes) -> bool:
    """MPEG audio frames without an ID3 tag: 11-bit sync word, valid layer and bitrate."""
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return False
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    return layer != 0 and bitrate not in (0, 0xF)


class SizeLimitedReader(io.RawIOBase):
    """Replays the sniffed head, then reads the rest, refusing to pass `limit` bytes.

    It also counts bytes and can tee them to a local copy, so one pass over the stream
    uploads, measures and (optionally) keeps a copy.
    """

    def __init__(
        self,
        head: bytes,
        rest: IO[bytes],
        limit: int,
        filename: str,
        tee: IO[bytes] | None = None,
    ) -> None:
        super().__init__()
        self._head = head
        self._rest = rest
        self._limit = limit
        self._filename = filename
        self._tee = tee
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
        else:
            chunk = self._rest.read(len(view))
            size = len(chunk) if chunk else 0
            view[:size] = chunk or b""
        self.count += size
        if self.count > self._limit:
            raise FileTooLargeError(
                f"{self._filename!r} is larger than the {self._limit // (1024 * 1024)} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if self._tee is not None and size:
            self._tee.write(view[:size])
        return size
