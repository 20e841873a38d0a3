"""Transcript text as it arrives: bytes that must be UTF-8, normalised line endings."""

from __future__ import annotations

from ..errors import InvalidInputError

MAX_TRANSCRIPT_BYTES = 20 * 1024 * 1024


def decode_transcript(data: bytes, source: str = "transcript") -> str:
    """Decode UTF-8 (with or without BOM); refuse other encodings instead of guessing."""
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise InvalidInputError(
            f"The {source} is larger than {MAX_TRANSCRIPT_BYTES // (1024 * 1024)} MB; "
            "split it or upload the recording instead."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"The {source} is not UTF-8 text (byte {exc.start} is invalid). Save it as UTF-8 "
            "and try again."
        ) from exc
    return normalise_text(text, source)


def normalise_text(text: str, source: str = "transcript") -> str:
    """Check text given as a string (as `process` receives it) like decoded bytes are checked."""
    if not isinstance(text, str):
        raise InvalidInputError(f"The {source} must be text, not {type(text).__name__}.")
    if "\x00" in text:
        raise InvalidInputError(f"The {source} contains NUL bytes; it looks like a binary file.")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from a JSON "\ud800" escape
        raise InvalidInputError(
            f"The {source} is not valid Unicode text (character {exc.start} is a lone "
            "surrogate). Save it as UTF-8 and try again."
        ) from exc
    if size > MAX_TRANSCRIPT_BYTES:
        raise InvalidInputError(
            f"The {source} is larger than {MAX_TRANSCRIPT_BYTES // (1024 * 1024)} MB; "
            "split it or upload the recording instead."
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidInputError(f"The {source} is empty; paste or upload the meeting's text.")
    return text
