"""The file field of a multipart/form-data body, read as a stream while the body arrives.

`MultipartFileReader` pulls body chunks only when its reader needs more bytes, so an upload
goes on to S3 part by part without being held in memory or written to a temporary file, and a
file that is not audio is refused after its first few kilobytes. Fields before the file are
skipped (bounded in size); whatever follows the file is never read.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from meeting_storage.core.errors import InvalidInputError, UnsupportedMediaTypeError

FILE_FIELD = "file"
MAX_FIELDS_BEFORE_FILE = 64 * 1024  # bytes of other fields (and part headers) tolerated first

Chunks = Callable[[], bytes | None]  # the next piece of the body, or None at its end


class MultipartFileReader(io.RawIOBase):
    """A readable stream of the bytes of the form field named `field` (default "file")."""

    def __init__(self, content_type: str, next_chunk: Chunks, *, field: str = FILE_FIELD) -> None:
        super().__init__()
        kind, options = parse_options_header(content_type or "")
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise UnsupportedMediaTypeError(
                f"Send the recording as multipart/form-data with a {field!r} field "
                f"(e.g. curl -F {field}=@meeting.m4a), not {content_type or 'no Content-Type'!r}."
            )
        self._field = field.encode()
        self._next_chunk = next_chunk
        self._buffer = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_name = b""
        self._header_value = b""
        self._in_file = False
        self._file_started = False
        self._file_done = False
        self._body_done = False
        self._skipped = 0
        self.filename: str | None = None
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
            },
        )

    # ---------------------------------------------------------------- parser callbacks

    def _on_part_begin(self) -> None:
        self._headers = []

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._count_skipped(end - start)

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._count_skipped(end - start)

    def _on_header_end(self) -> None:
        self._headers.append((self._header_name.lower(), self._header_value))
        self._header_name = self._header_value = b""

    def _on_headers_finished(self) -> None:
        disposition = dict(self._headers).get(b"content-disposition", b"")
        _, options = parse_options_header(disposition)
        if options.get(b"name") == self._field and not self._file_started:
            self._in_file = self._file_started = True
            raw_name = options.get(b"filename") or b""
            self.filename = raw_name.decode("utf-8", "replace") or "recording"

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._buffer += data[start:end]
        else:
            self._count_skipped(end - start)

    def _on_part_end(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True

    def _count_skipped(self, size: int) -> None:
        if self._file_started:
            return
        self._skipped += size
        if self._skipped > MAX_FIELDS_BEFORE_FILE:
            raise InvalidInputError(
                f"The form has more than {MAX_FIELDS_BEFORE_FILE // 1024} KiB before its "
                f"{self._field.decode()!r} field; send the file first or alone."
            )

    # ---------------------------------------------------------------- reading

    def _pull(self) -> None:
        """Feed the parser one more chunk of the body."""
        if self._body_done:
            raise InvalidInputError(
                f"The form ended before its {self._field.decode()!r} field was complete."
                if self._file_started
                else f"The form has no {self._field.decode()!r} field with the recording."
            )
        chunk = self._next_chunk()
        if chunk is None:
            self._body_done = True
            return
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise InvalidInputError(f"The multipart form is malformed: {exc}") from exc

    def open(self) -> str:
        """Read up to the start of the file field and return the file name the client gave."""
        while not self._file_started:
            self._pull()
        assert self.filename is not None
        return self.filename

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` completely unless the file ends first (so a sniff sees whole heads)."""
        self.open()
        wanted = len(buffer)
        while len(self._buffer) < wanted and not self._file_done:
            self._pull()
        size = min(wanted, len(self._buffer))
        with memoryview(self._buffer) as pending:  # copied once, without a slice in between
            memoryview(buffer)[:size] = pending[:size]
        del self._buffer[:size]
        return size
