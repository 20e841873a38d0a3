"""The streaming multipart reader on plain bytes, split into chunks of every size."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from meeting_storage import InvalidInputError, UnsupportedMediaTypeError
from meeting_storage.api.multipart import MAX_FIELDS_BEFORE_FILE, MultipartFileReader

CONTENT_TYPE = "multipart/form-data; boundary=XyZ"
DATA = bytes(range(256)) * 40 + b"\r\n--XyZ-not-a-boundary\r\n" + b"tail"


def form(*parts: tuple[str, str | None, bytes], closing: bool = True) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return body + (b"--XyZ--\r\n" if closing else b"")


def chunks_of(body: bytes, size: int) -> tuple[Iterator[bytes], list[int]]:
    pulled: list[int] = []

    def generate() -> Iterator[bytes]:
        for start in range(0, len(body), size):
            pulled.append(start)
            yield body[start : start + size]

    return generate(), pulled


def reader_for(body: bytes, size: int = 7) -> tuple[MultipartFileReader, list[int]]:
    chunks, pulled = chunks_of(body, size)
    return MultipartFileReader(CONTENT_TYPE, lambda: next(chunks, None)), pulled


@pytest.mark.parametrize("size", [1, 2, 7, 64, 4096, 1 << 20])
def test_the_file_comes_out_whole_however_the_body_is_split(size: int) -> None:
    body = form(("title", None, b"Weekly"), ("file", "Sync é.wav", DATA), ("after", None, b"x"))
    reader, _ = reader_for(body, size)
    assert reader.open() == "Sync é.wav"
    assert io.BufferedReader(reader).read() == DATA


def test_reads_fill_the_buffer_so_a_sniff_sees_a_whole_head() -> None:
    reader, _ = reader_for(form(("file", "a.wav", DATA)), size=3)
    assert len(reader.read(1000)) == 1000


def test_nothing_after_the_file_is_read() -> None:
    body = form(("file", "a.wav", b"abc"), ("later", None, bytes(100_000)))
    reader, pulled = reader_for(body, size=100)
    assert reader.read() == b"abc"
    assert len(pulled) < 5


def test_a_file_without_a_name_is_called_recording() -> None:
    reader, _ = reader_for(form(("file", None, b"abc")))
    assert reader.open() == "recording"
    assert reader.read() == b"abc"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (form(("other", "a.wav", b"abc")), "has no 'file' field"),
        (form(("file", "a.wav", b"abc"), closing=False)[:-5], "ended before"),
        (form(("notes", None, bytes(MAX_FIELDS_BEFORE_FILE + 1)), ("file", "a.wav", b"x")), "KiB"),
        (b"this is not a multipart body at all", "malformed"),
        (b"", "has no 'file' field"),
    ],
)
def test_broken_forms_are_invalid_input(body: bytes, message: str) -> None:
    reader, _ = reader_for(body)
    with pytest.raises(InvalidInputError, match=message):
        reader.read()


@pytest.mark.parametrize(
    "content_type", ["", "application/json", "multipart/form-data", "text/plain; boundary=x"]
)
def test_other_content_types_are_refused(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="multipart/form-data"):
        MultipartFileReader(content_type, lambda: None)
