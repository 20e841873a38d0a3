"""What an uploaded file really is: magic-byte sniffing, and a size-limited streaming reader."""

from __future__ import annotations

import hashlib
import io
import struct
from typing import IO

import filetype

from meeting_storage.core.errors import (
    FileTooLargeError,
    InvalidInputError,
    UnsupportedMediaTypeError,
)

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


def content_type_for_name(filename: str) -> str:
    """The content type a recording named `filename` is uploaded with (from its extension);
    UnsupportedMediaTypeError for a name that is not an accepted recording."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension not in ALLOWED_EXTENSIONS:
        raise UnsupportedMediaTypeError(
            f"{filename[:80]!r} is not one of the accepted recordings "
            f"({', '.join(ALLOWED_EXTENSIONS)})."
        )
    return _KINDS[extension][0]


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
        raise InvalidInputError(
            f"{filename!r} is empty; choose a recording with sound in it, in one of: "
            f"{', '.join(ALLOWED_EXTENSIONS)}."
        )
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


def duration_seconds(head: bytes, extension: str, total_size: int) -> float | None:
    """The recording's length when its first bytes say it (WAV, FLAC), else None.

    Only the sniffed head and the streamed size are used, so nothing is read twice.
    """
    try:
        if extension == "wav":
            return wav_duration_seconds(head, total_size)
        if extension == "flac":
            return _flac_duration(head)
    except (struct.error, ValueError):
        return None
    return None


def _flac_duration(head: bytes) -> float | None:
    # "fLaC", a 4-byte block header, then STREAMINFO: sample rate (20 bits) and total
    # samples (36 bits) start at byte 10 of the block.
    if head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return None
    info = int.from_bytes(head[18:26], "big")
    sample_rate = info >> 44
    total_samples = info & ((1 << 36) - 1)
    return total_samples / sample_rate if sample_rate and total_samples else None


# Bitrates in kbit/s by (MPEG-1?, layer); index 0 (free format) and 15 (bad) are refused.
_BITRATES: dict[tuple[bool, int], tuple[int, ...]] = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
# Sample rates by version bits (0: MPEG-2.5, 2: MPEG-2, 3: MPEG-1; 1 is reserved).
_SAMPLE_RATES = {0: (11025, 12000, 8000), 2: (22050, 24000, 16000), 3: (44100, 48000, 32000)}


def _mpeg_frame_length(header: bytes) -> int | None:
    """Length in bytes of the MPEG audio frame starting with this 4-byte header, or None."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return None
    version = (header[1] >> 3) & 0x3
    layer = 4 - ((header[1] >> 1) & 0x3)  # bits 11 -> Layer I, 01 -> Layer III
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x3
    if version not in _SAMPLE_RATES or layer == 4 or bitrate_index in (0, 0xF) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    sample_rate = _SAMPLE_RATES[version][rate_index]
    padding = (header[2] >> 1) & 0x1
    if layer == 1:
        return (12 * bitrate // sample_rate + padding) * 4
    if layer == 3 and not mpeg1:
        return 72 * bitrate // sample_rate + padding
    return 144 * bitrate // sample_rate + padding


def _looks_like_mpeg_audio(head: bytes) -> bool:
    """MPEG audio frames without an ID3 tag: a valid frame header (sync word, version, layer,
    bitrate, sample rate) followed by a second one where the first frame ends. One header
    alone is too weak: UTF-16 text starts with FF FE, which reads as an MPEG-1 Layer I header."""
    length = _mpeg_frame_length(head[:4])
    if length is None:
        return False
    following = head[length : length + 4]
    return _mpeg_frame_length(following) is not None and following[1] == head[1]


class SizeLimitedReader(io.RawIOBase):
    """Replays the sniffed head, then reads the rest, refusing to pass `limit` bytes.

    It also counts and hashes (SHA-256) the bytes and can tee them to a local copy, so one
    pass over the stream uploads, measures, fingerprints and (optionally) keeps a copy.
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
        self._sha256 = hashlib.sha256()
        self.count = 0

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes read so far (all of them once the upload is done)."""
        return self._sha256.hexdigest()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
        else:
            # Straight into the caller's buffer: a part is not copied through a second one.
            size = _read_into(self._rest, view)
        self.count += size
        if self.count > self._limit:
            raise FileTooLargeError(
                f"{self._filename!r} is larger than the {self._limit // (1024 * 1024)} MB limit "
                "(MAX_UPLOAD_MB); upload a shorter or compressed recording."
            )
        if size:
            self._sha256.update(view[:size])
        if self._tee is not None and size:
            self._tee.write(view[:size])
        return size


def _read_into(source: IO[bytes], view: memoryview) -> int:
    readinto = getattr(source, "readinto", None)
    if readinto is not None:
        try:
            return int(readinto(view) or 0)
        except io.UnsupportedOperation:
            pass
    chunk = source.read(len(view))
    size = len(chunk) if chunk else 0
    view[:size] = chunk or b""
    return size


def wav_duration_seconds(head: bytes, size: int) -> float | None:
    """Length of a PCM WAV recording from its header and total size, or None for anything else.

    Recorders that stream WAV often leave the data chunk's size at 0 or 0xFFFFFFFF; then the
    rest of the file is taken as the data.
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    byte_rate = 0
    offset = 12
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        (chunk_size,) = struct.unpack_from("<I", head, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt " and body + 12 <= len(head):
            (byte_rate,) = struct.unpack_from("<I", head, body + 8)
        elif chunk_id == b"data":
            if not byte_rate:
                return None
            available = max(0, size - body)
            data_size = chunk_size if 0 < chunk_size <= available else available
            return data_size / byte_rate
        offset = body + chunk_size + (chunk_size & 1)
    return None
