"""What an upload really is (magic bytes), and the size-limited, counting, teeing reader."""

from __future__ import annotations

import io
import random
import struct

import pytest

from meeting_storage import FileTooLargeError, InvalidInputError, UnsupportedMediaTypeError
from meeting_storage.storage.media import ALLOWED_EXTENSIONS, SizeLimitedReader, detect_media
from tests.conftest import wav_bytes

# ---------------------------------------------------------------- minimal real headers


def mpeg_frames(header: bytes, frame_length: int, count: int = 3) -> bytes:
    """`count` MPEG audio frames of silence: the 4-byte header, then zeros to the frame length."""
    return (header + bytes(frame_length - len(header))) * count


# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: 144 * 128000 // 44100 = 417 bytes.
MP3_FRAMES = mpeg_frames(b"\xff\xfb\x90\x00", 417)
TITLE_FRAME = b"TIT2" + struct.pack(">I", 10) + b"\x00\x00" + b"\x03Team sync"  # UTF-8 title
# ID3v2.4 header: version 4.0, no flags, tag size (syncsafe, small enough to be one byte).
ID3_TAG = b"ID3\x04\x00\x00" + bytes([0, 0, 0, len(TITLE_FRAME)]) + TITLE_FRAME
STREAMINFO = (
    struct.pack(">HH", 4096, 4096)  # min/max block size
    + bytes(6)  # min/max frame size (unknown)
    + bytes.fromhex("0ac44000")  # 44100 Hz, 1 channel, 16 bits ... (packed)
    + bytes(4)  # total samples
    + bytes(16)  # MD5 of the audio
)
FLAC = b"fLaC" + b"\x80\x00\x00\x22" + STREAMINFO  # last metadata block, STREAMINFO, 34 bytes
OGG_VORBIS = (
    b"OggS\x00\x02"  # capture pattern, version, beginning of stream
    + bytes(8)  # granule position
    + b"\x01\x00\x00\x00"  # serial number
    + bytes(4)  # page sequence
    + bytes(4)  # checksum
    + b"\x01\x1e"  # one segment of 30 bytes
    + b"\x01vorbis"
    + bytes(23)
)
M4A = (
    b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A isommp42\x00\x00\x00\x00"
    + b"\x00\x00\x00\x08free"
)
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + b"\x00\x00\x00\x08free"


def ebml_header(doctype: bytes) -> bytes:
    body = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\xf2\x81\x04"  # EBMLMaxIDLength 4
        + b"\x42\xf3\x81\x08"  # EBMLMaxSizeLength 8
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype  # DocType
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
        + b"\x42\x85\x81\x02"  # DocTypeReadVersion 2
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67"


WEBM = ebml_header(b"webm")


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "extension"),
    [
        (wav_bytes(), "Team sync.wav", "audio/wav", "wav"),
        (ID3_TAG + MP3_FRAMES, "tagged.mp3", "audio/mpeg", "mp3"),
        (MP3_FRAMES, "untagged.mp3", "audio/mpeg", "mp3"),
        (b"\xff\xfb\x90\x00" + bytes(600), "one-frame.mp3", "audio/mpeg", "mp3"),
        # MPEG-2.5 Layer III (8 kHz, 8 kbit/s: 72 * 8000 // 8000 = 72 bytes a frame),
        # which the sniffing library does not know and the frame check recognises.
        (mpeg_frames(b"\xff\xe3\x18\xc4", 72), "phone.mp3", "audio/mpeg", "mp3"),
        # MPEG-1 Layer II, bitrate index 9 = 160 kbit/s, 44.1 kHz: 144 * 160000 // 44100 = 522.
        (mpeg_frames(b"\xff\xfd\x90\x00", 522), "broadcast.mp2", "audio/mpeg", "mp3"),
        (FLAC, "lossless.flac", "audio/flac", "flac"),
        (OGG_VORBIS, "voice.ogg", "audio/ogg", "ogg"),
        (M4A, "Voice memo.m4a", "audio/mp4", "m4a"),
        (MP4, "Zoom recording.mp4", "video/mp4", "mp4"),
        (MP4, "Named like audio.m4a", "audio/mp4", "mp4"),
        (WEBM, "browser.webm", "video/webm", "webm"),
        (ebml_header(b"matroska"), "recorder.mkv", "video/webm", "webm"),
    ],
)
def test_detect_media_accepts_each_format(
    data: bytes, filename: str, content_type: str, extension: str
) -> None:
    assert detect_media(data, filename) == (content_type, extension)


@pytest.mark.parametrize("data", [wav_bytes(), MP3_FRAMES, FLAC, WEBM, M4A])
def test_detect_media_ignores_the_name(data: bytes) -> None:
    """The content decides; a misleading or missing extension changes nothing."""
    assert detect_media(data, "notes.txt") == detect_media(data, "no extension")


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(30)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
TEXT = b"Alice: Welcome everyone, today we plan the launch.\n"
HTML = b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n"
UTF16_TEXT = "\ufeffAlice: hello everyone, this is the transcript.\n".encode("utf-16-le") * 40


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PDF, id="pdf"),
        pytest.param(PNG, id="png"),
        pytest.param(ZIP, id="zip"),
        pytest.param(ELF, id="elf"),
        pytest.param(TEXT, id="text"),
        pytest.param(HTML, id="html"),
        # UTF-16 text starts with FF FE, which is also a valid MPEG-1 Layer I frame header.
        pytest.param(UTF16_TEXT, id="utf16-text"),
        pytest.param(b"\xff\xe3\x18\xc4" + bytes(500), id="one-mpeg-2.5-header-then-zeros"),
        # Layer II frames whose second header is not where the first frame ends.
        pytest.param(mpeg_frames(b"\xff\xfd\x90\x00", 417), id="mpeg-frames-wrong-length"),
        pytest.param(b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(100), id="avi"),
    ],
)
@pytest.mark.parametrize("filename", ["meeting.mp3", "meeting.m4a", "meeting"])
def test_detect_media_refuses_other_content(data: bytes, filename: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as info:
        detect_media(data, filename)
    message = info.value.message
    assert repr(filename) in message
    for extension in ALLOWED_EXTENSIONS:
        assert extension in message
    assert info.value.http_status == 415


def test_detect_media_refuses_empty_content() -> None:
    with pytest.raises(InvalidInputError) as info:
        detect_media(b"", "silence.mp3")
    assert "empty" in info.value.message
    for extension in ALLOWED_EXTENSIONS:
        assert extension in info.value.message


def test_detect_media_refuses_random_noise() -> None:
    rng = random.Random(7)
    refused = 0
    for _ in range(300):
        data = bytes(rng.randrange(256) for _ in range(512))
        try:
            content_type, _ = detect_media(data, "noise.mp3")
        except UnsupportedMediaTypeError:
            refused += 1
        else:
            # Random bytes may start like a format; if so it must be one of the accepted ones.
            assert content_type.startswith(("audio/", "video/"))
    assert refused >= 290


# ---------------------------------------------------------------- SizeLimitedReader


def read_all(reader: SizeLimitedReader, chunk: int) -> bytes:
    out = bytearray()
    buffer = bytearray(chunk)
    while True:
        size = reader.readinto(buffer)
        if not size:
            return bytes(out)
        out += buffer[:size]


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("head_size", [0, 1, 100, 5000])
def test_reader_replays_the_head_counts_and_tees(chunk: int, head_size: int) -> None:
    data = bytes(random.Random(head_size).randrange(256) for _ in range(5000)) + b"tail"
    stream = io.BytesIO(data)
    head = stream.read(head_size)
    copy = io.BytesIO()
    reader = SizeLimitedReader(head, stream, limit=len(data), filename="a.wav", tee=copy)
    assert reader.readable()
    assert read_all(reader, chunk) == data
    assert reader.count == len(data)
    assert copy.getvalue() == data


def test_reader_works_through_a_buffered_reader() -> None:
    data = wav_bytes(2.0)
    stream = io.BytesIO(data)
    head = stream.read(8192)
    copy = io.BytesIO()
    reader = SizeLimitedReader(head, stream, limit=10 * len(data), filename="a.wav", tee=copy)
    assert io.BufferedReader(reader, buffer_size=1000).read() == data
    assert reader.count == len(data) and copy.getvalue() == data


def test_reader_accepts_exactly_the_limit() -> None:
    data = b"x" * 1000
    stream = io.BytesIO(data)
    reader = SizeLimitedReader(stream.read(10), stream, limit=1000, filename="a.wav")
    assert read_all(reader, 64) == data
    assert reader.count == 1000


@pytest.mark.parametrize("head_size", [0, 10, 1001])
def test_reader_raises_past_the_limit(head_size: int) -> None:
    limit = 3 * 1024 * 1024
    data = b"y" * (limit + 1)
    stream = io.BytesIO(data)
    head = stream.read(head_size)
    copy = io.BytesIO()
    reader = SizeLimitedReader(head, stream, limit=limit, filename="long.wav", tee=copy)
    with pytest.raises(FileTooLargeError) as info:
        read_all(reader, 64 * 1024)
    assert "'long.wav'" in info.value.message
    assert "3 MB" in info.value.message and "MAX_UPLOAD_MB" in info.value.message
    assert info.value.http_status == 413
    assert len(copy.getvalue()) <= limit  # nothing past the limit reaches the copy
    assert copy.getvalue() == data[: len(copy.getvalue())]


def test_reader_without_tee_still_counts() -> None:
    stream = io.BytesIO(b"abcdef")
    reader = SizeLimitedReader(b"", stream, limit=100, filename="a.wav")
    assert read_all(reader, 4) == b"abcdef"
    assert reader.count == 6
