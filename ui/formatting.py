"""Pure formatting for the pages: transcript turns, and the package's one formatter of money,
sizes, durations and dates (meeting_storage.core.formatting), which the CLI uses too. No
streamlit."""

from __future__ import annotations

import re
from dataclasses import dataclass

from meeting_storage.core.formatting import (
    format_money,
    format_price,
    format_quantity,
    human_date,
    human_duration,
    human_size,
)
from meeting_storage.render.report import escape_markdown

__all__ = [
    "Turn",
    "escape_markdown",
    "format_money",
    "format_price",
    "format_quantity",
    "human_date",
    "human_duration",
    "human_size",
    "speaker_turns",
]

# "[00:01:02] Alice: words", "Alice: words" or just "words" (transcription.txt's forms).
_LINE_RE = re.compile(
    r"^\s*(?:\[(?P<time>\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?)\]\s*)?"
    r"(?:(?P<speaker>[A-Z][\w .'-]{0,40}?)\s*:\s+)?(?P<text>.*)$"
)


@dataclass(frozen=True)
class Turn:
    number: int
    speaker: str
    text: str
    time: str = ""


def speaker_turns(transcript: str) -> list[Turn]:
    """One turn per non-empty line; `Name: words` lines are labelled with the speaker, and a
    leading `[hh:mm:ss]` with the time."""
    turns: list[Turn] = []
    for line in transcript.splitlines():
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        assert match is not None  # the pattern matches any line
        turns.append(
            Turn(
                number=len(turns) + 1,
                speaker=(match.group("speaker") or "").strip(),
                text=match.group("text").strip(),
                time=match.group("time") or "",
            )
        )
    return turns


def has_speakers(turns: list[Turn]) -> bool:
    return sum(1 for turn in turns if turn.speaker) >= max(1, len(turns) // 2)
