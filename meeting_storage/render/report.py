"""The one rendering of a meeting's analysis, and Markdown escaping for text people typed or said.

`analysis_view()` turns the typed summary and requirements into what every face shows: the
summary text, the participants and three item lists (action items, decisions,
requirements), each with its title, table columns and rows, one line per item and the
wording for an empty list. The meeting page writes these as tables, the command line prints
`analysis_lines()`, and `meeting_markdown()` writes the Markdown report the page offers as a
download.

User text (titles, transcripts, summaries, action items) is escaped so that it reads as
the words it is: no emphasis, headings, links, images, HTML or math sneak in from a
transcript. The transcript itself goes into a fenced block, verbatim.

An item whose evidence has a time shows it, "[12:34]" (or "[1:02:03]" past the first hour):
a "Said at" column in the tables (only when some item of the list has a time) and a prefix of
its line on the command line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from meeting_storage.analysis.transcript import parse_transcript
from meeting_storage.core.analysis import (
    ActionItem,
    Decision,
    Evidence,
    Requirement,
    Summary,
    SummarySection,
)
from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.formatting import human_date
from meeting_storage.core.models import Meeting, MeetingRecord
from meeting_storage.costs.pricing import PriceTable
from meeting_storage.costs.processing import transcribe_billed_seconds

# CommonMark lets a backslash escape any ASCII punctuation. Escaping all of it also breaks
# GFM autolinks (`www.`, `http://`, `a@b.c`), emoji short codes and `$math$`.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")

SUMMARY_TITLE = "Summary"
PARTICIPANTS_LABEL = "Participants"
NO_SUMMARY = "No summary yet."
NO_TRANSCRIPT = "No transcript yet."
NONE_FOUND = "None found."
SAID_AT = "Said at"


@dataclass(frozen=True)
class ItemList:
    """One list of a meeting's analysis as every face shows it: a table (the meeting page and
    the report) or one line per item (the command line). Cells and lines are plain text."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    lines: tuple[str, ...]
    empty: str = NONE_FOUND
    # Where each row's item was said (None: not known), for the page's play buttons.
    evidence: tuple[Evidence | None, ...] = ()

    @property
    def counted_title(self) -> str:
        return f"{self.title} ({len(self.rows)})"

    def column(self, name: str) -> list[str]:
        position = self.columns.index(name)
        return [row[position] for row in self.rows]


@dataclass(frozen=True)
class AnalysisView:
    """A meeting's summary and item lists, ready to show."""

    summary: str  # "" when there is none; `summary_or_placeholder` says so
    participants: tuple[str, ...]
    lists: tuple[ItemList, ...]
    # The meeting's kind and the sections it selects, as (heading, items) pairs: a stand-up's
    # "Carol: Blockers", a retro's "Went well".
    kind: str | None = None
    sections: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def summary_or_placeholder(self) -> str:
        return self.summary or NO_SUMMARY

    @property
    def participants_line(self) -> str | None:
        if not self.participants:
            return None
        return f"{PARTICIPANTS_LABEL}: {', '.join(self.participants)}"


def clock(seconds: float) -> str:
    """12:34 under an hour, 1:02:03 past it."""
    whole = int(seconds)
    hours, minutes, secs = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def said_at(evidence: Evidence | None) -> str:
    """ "[12:34]" when the item's moment is known, else ""."""
    if evidence is None or evidence.start is None:
        return ""
    return f"[{clock(evidence.start)}]"


def _timed(line: str, evidence: Evidence | None) -> str:
    when = said_at(evidence)
    return f"{when} {line}" if when else line


def _item_list(
    title: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
    lines: Sequence[str],
    evidence: Sequence[Evidence | None],
) -> ItemList:
    """The list, with a "Said at" column first when any of its items has a time."""
    timed = any(said_at(e) for e in evidence)
    if timed:
        columns = (SAID_AT, *columns)
        rows = [(said_at(e), *row) for row, e in zip(rows, evidence, strict=True)]
    return ItemList(
        title=title,
        columns=columns,
        rows=tuple(rows),
        lines=tuple(_timed(line, e) for line, e in zip(lines, evidence, strict=True)),
        evidence=tuple(evidence),
    )


def action_item_line(item: ActionItem) -> str:
    owner = f" ({item.owner})" if item.owner else ""
    due = f" due {item.due}" if item.due else ""
    return f"action{owner}{due}: {item.text}"


def action_items_list(items: Sequence[ActionItem]) -> ItemList:
    return _item_list(
        "Action items",
        ("Action", "Owner", "Due"),
        [(item.text, item.owner or "", item.due or "") for item in items],
        [action_item_line(item) for item in items],
        [item.evidence for item in items],
    )


def decisions_list(decisions: Sequence[Decision]) -> ItemList:
    return _item_list(
        "Decisions",
        ("Decision", "Speaker"),
        [(decision.text, decision.speaker or "") for decision in decisions],
        [f"decision: {decision.text}" for decision in decisions],
        [decision.evidence for decision in decisions],
    )


def requirements_list(requirements: Sequence[Requirement]) -> ItemList:
    return _item_list(
        "Requirements",
        ("Requirement", "Priority"),
        [(item.text, item.priority) for item in requirements],
        [f"{item.priority}: {item.text}" for item in requirements],
        [item.evidence for item in requirements],
    )


def section_heading(section: SummarySection) -> str:
    return f"{section.speaker}: {section.title}" if section.speaker else section.title


def analysis_view(summary: Summary, requirements: Sequence[Requirement]) -> AnalysisView:
    return AnalysisView(
        summary=summary.text,
        participants=summary.participants or (),
        lists=(
            action_items_list(summary.action_items),
            decisions_list(summary.decisions),
            requirements_list(requirements),
        ),
        kind=summary.kind,
        sections=tuple((section_heading(section), section.items) for section in summary.sections),
    )


def lines_around(
    transcription: str, evidence: Evidence, *, before: int = 1, after: int = 2
) -> list[str]:
    """The transcript lines where an item was said, with `before` and `after` lines around
    it, as "[12:34] Speaker: words": found by the evidence's start time, or by its quote when
    the transcript has no times. Empty when it cannot be found."""
    try:
        utterances = parse_transcript(transcription).utterances
    except InvalidInputError:  # an empty or unreadable transcript: nothing to show
        return []
    at = [n for n, u in enumerate(utterances) if u.start is not None and u.start == evidence.start]
    if not at:
        words = evidence.quote.strip()
        at = [
            n
            for n, u in enumerate(utterances)
            if words and (words in u.text or (len(u.text) >= 20 and u.text in words))
        ]
    if not at:
        return []
    lines = []
    for u in utterances[max(0, at[0] - before) : at[0] + after + 1]:
        when = f"[{clock(u.start)}] " if u.start is not None else ""
        lines.append(f"{when}{u.speaker + ': ' if u.speaker else ''}{u.text}")
    return lines


def summary_line(summary: Summary) -> str:
    return f"{SUMMARY_TITLE}: {summary.text}"


def analysis_lines(summary: Summary, requirements: Sequence[Requirement]) -> list[str]:
    """The analysis as the command line prints it (plain text; the terminal's escaping is
    the command line's): the summary line, then every item indented on a line of its own."""
    view = analysis_view(summary, requirements)
    kind = [f"Kind: {view.kind}"] if view.kind else []
    sections = [
        line
        for heading, items in view.sections
        for line in (f"{heading}:", *(f"  - {item}" for item in items or ("(nothing)",)))
    ]
    return [
        summary_line(summary),
        *kind,
        *sections,
        *(f"  - {line}" for items in view.lists for line in items.lines),
    ]


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


def _item_list_markdown(items: ItemList) -> str:
    if not items.rows:
        return f"_{items.empty}_"
    return _table(list(items.columns), [list(row) for row in items.rows])


def meeting_markdown(meeting: Meeting) -> str:
    """The whole meeting: details, summary, action items, decisions, requirements, transcript."""
    record = meeting.record
    view = analysis_view(meeting.summary, meeting.requirements)
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
                ["Kind", record.kind or meeting.summary.kind or "not set"],
                [PARTICIPANTS_LABEL, ", ".join(view.participants) or "unknown"],
            ],
        ),
        "",
        f"## {SUMMARY_TITLE}",
        "",
        escape_markdown(view.summary) or f"_{NO_SUMMARY}_",
        "",
    ]
    for heading, section_items in view.sections:
        parts += [f"### {escape_markdown(heading)}", ""]
        parts += [f"- {escape_markdown(item)}" for item in section_items] or ["_Nothing._"]
        parts.append("")
    for items in view.lists:
        parts += [f"## {items.title}", "", _item_list_markdown(items), ""]
    parts += [
        "## Transcript",
        "",
        fenced(meeting.transcription) if meeting.transcription else f"_{NO_TRANSCRIPT}_",
        "",
    ]
    return "\n".join(parts)
