"""The transcriber protocol: a stored recording in, a transcript out.

Backends: aws_transcribe.py (Amazon Transcribe) and whisper.py (faster-whisper, offline);
backends.py picks one from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from meeting_storage.analysis.transcript import Transcript

TRANSCRIBER_AWS = "aws_transcribe"
TRANSCRIBER_WHISPER = "whisper"


@dataclass(frozen=True)
class StoredAudio:
    """A recording already in the bucket (transcribers never upload it again)."""

    meeting_id: str
    key: str
    content_type: str | None = None
    size: int | None = None


class Transcriber(Protocol):
    @property
    def name(self) -> str: ...

    def transcribe(self, audio: StoredAudio) -> Transcript:
        """The recording's transcript; raises MeetingStorageError (TranscriptionError, ...)."""
        ...
