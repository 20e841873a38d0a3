"""A meeting as one Markdown document, and Markdown escaping for text people typed or said.

User text (titles, transcripts, summaries, action items) is escaped so that it reads as
the words it is: no emphasis, headings, links, images, HTML or math sneak in from a
transcript. The transcript itself goes into a fenced block, verbatim.
"""

from __future__ import annotations

import re
from typing import Any

from meeting_storage.core.formatting import human_date
from meeting_storage.core.models import Meeting, MeetingRecord
from meeting_storage.costs.pricing import PriceTable
from meeting_storage.costs.processing import transcribe_billed_seconds

# CommonMark lets a backslash escape any ASCII punctuation. Escaping all of it also breaks
# GFM autolinks (`www.`, `http://`, `a@b.c`), emoji short codes and `$math$`.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def processing_breakdown(record: MeetingRecord, prices: PriceTable) -> list[str]:
    """What a meeting's recorded processing cost is made of: S3 requests, and the Amazon
    Transcribe seconds and Bedrock tokens billed when it was processed."""
    parts = ["S3 requests"]
    if record.transcribed_seconds is not None:
        billed = transcribe_billed_seconds(prices, record.transcribed_seconds)
        parts.append(f"Amazon Transcribe {billed} s")
    if record.bedrock_model_id is not None:
        parts.append(
            f"Bedrock {record.bedrock_model_id} {record.bedrock_input_tokens or 0:,} in + "
            f"{record.bedrock_output_tokens or 0:,} out tokens"
        )
    return parts


def escape_markdown(text: str) -> str:
    """Text that renders as itself in Markdown (one paragraph; newlines become spaces)."""
    flat = " ".join(str(text).split())
    return _PUNCTUATION.sub(r"\\\1", flat)


def fenced(text: str) -> str:
    """A fenced code block that no backtick run inside `text` can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _cell(value: Any) -> str:
    # escape_markdown also escapes "|", which GFM tables need inside a cell.
    return escape_markdown("" if value is None else str(value)) or " "


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def meeting_markdown(meeting: Meeting) -> str:
    """The whole meeting: details, summary, action items, decisions, requirements, transcript."""
    record = meeting.record
    summary = meeting.summary
    actions = [a for a in summary.get("action_items") or [] if isinstance(a, dict)]
    decisions = summary.get("decisions") or []
    participants = summary.get("participants") or []
    parts = [
        f"# {escape_markdown(record.display_title)}",
        "",
        _table(
            ["Detail", "Value"],
            [
                ["Meeting id", record.meeting_id],
                ["Recorded", human_date(record.timestamp)],
                ["File", record.filename],
                ["Status", record.status.replace("_", " ")],
                ["Extraction", record.extraction_method],
                ["Participants", ", ".join(str(p) for p in participants) or "unknown"],
            ],
        ),
        "",
        "## Summary",
        "",
        escape_markdown(str(summary.get("summary") or "")) or "_No summary._",
        "",
        "## Action items",
        "",
        _table(
            ["Action", "Owner", "Due"],
            [[a.get("text"), a.get("owner") or "", a.get("due") or ""] for a in actions],
        )
        if actions
        else "_None found._",
        "",
        "## Decisions",
        "",
        "\n".join(
            f"- {escape_markdown(str(d.get('text', '') if isinstance(d, dict) else d))}"
            for d in decisions
        )
        or "_None found._",
        "",
        "## Requirements",
        "",
        _table(
            ["Requirement", "Priority"],
            [
                [r.get("text"), r.get("priority", "")]
                for r in meeting.requirements
                if isinstance(r, dict)
            ],
        )
        if meeting.requirements
        else "_None found._",
        "",
        "## Transcript",
        "",
        fenced(meeting.transcription) if meeting.transcription else "_No transcript yet._",
        "",
    ]
    return "\n".join(parts)
