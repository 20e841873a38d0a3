"""Terminal text shared by the commands: user-supplied names made printable, the meetings
table, a meeting's analysis, stored and archived states, and a progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from meeting_storage.core.analysis import Requirement, Summary
from meeting_storage.core.formatting import format_money
from meeting_storage.core.models import (
    STATUS_AWAITING_TRANSCRIPT,
    MeetingPage,
    MeetingRecord,
    ProcessResult,
)
from meeting_storage.costs.pricing import PriceTable
from meeting_storage.index.query import HIGHLIGHT
from meeting_storage.render.report import analysis_lines, processing_breakdown, summary_line


def printable(text: str) -> str:
    """Terminal-safe text: no escape sequences from user-supplied names."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def stored_message(result: ProcessResult) -> str:
    record = result.record
    if record.status == STATUS_AWAITING_TRANSCRIPT:
        lines = [f"Stored {record.meeting_id} with its recording, awaiting a transcript."]
    else:
        lines = [
            f"Stored {record.meeting_id}: {record.action_items_count} action item(s), "
            f"{record.requirements_count} requirement(s).",
            printable(summary_line(result.summary)),
        ]
    lines += [f"Note: {printable(note)}" for note in record.notes]
    if result.index_warning:
        lines.append(f"warning: {result.index_warning}")
    return "\n".join(lines)


def analysis_text(
    summary: Summary, requirements: Sequence[Requirement], notes: Sequence[str] = ()
) -> str:
    lines = [printable(line) for line in analysis_lines(summary, requirements)]
    lines += [f"Note: {printable(note)}" for note in notes]
    return "\n".join(lines)


def meetings_table(page: MeetingPage, *, searching: bool = False) -> str:
    records = page.meetings
    if not records:
        if searching:
            return "No meetings match." + (
                f"\nNote: {page.search_note}" if page.search_note else ""
            )
        return "No meetings stored yet. Store one with `process --transcript FILE`."
    rows = [("DATE (UTC)", "MEETING ID", "ACTIONS", "REQS", "TITLE / FILE")]
    for r in records:
        rows.append(
            (
                r.timestamp.strftime("%Y-%m-%d %H:%M"),
                r.meeting_id,
                str(r.action_items_count),
                str(r.requirements_count),
                printable(r.display_title)[:60],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)]
        lines.append("  ".join([*cells, row[4]]))
        snippet = page.snippets.get(records[n - 1].meeting_id) if n else None
        if snippet:
            shown = printable(snippet.replace("\n", " ")).replace(HIGHLIGHT, "")
            if sys.stdout.isatty():
                shown = printable(snippet.replace("\n", " "))
                shown = _bold(shown)
            lines.append(" " * (widths[0] + 2) + shown[:160])
    if page.next_cursor:
        lines.append(f"More: --cursor {page.next_cursor}")
    if page.search_note:
        lines.append(f"Note: {page.search_note}")
    return "\n".join(lines)


def _bold(snippet: str) -> str:
    """Matched words (between ** markers) in bold on a terminal."""
    parts = snippet.split(HIGHLIGHT)
    return "".join(f"\033[1m{part}\033[0m" if n % 2 else part for n, part in enumerate(parts))


def processing_cost_lines(record: MeetingRecord, prices: PriceTable) -> list[str]:
    """The recorded processing cost and what it was made of, on one line (none if unknown)."""
    if record.processing_cost_usd is None:
        return []
    parts = ", ".join(printable(part) for part in processing_breakdown(record, prices))
    return [f"Processing cost: {format_money(record.processing_cost_usd)} ({parts})"]


def archive_lines(status: Any) -> list[str]:
    if status is None or not status.archived:
        return []
    line = f"Archive: {status.storage_class}, restore {status.restore.replace('_', ' ')}"
    if status.restored_until is not None:
        line += f" (playable until {status.restored_until.isoformat()})"
    return [line]


def progress_printer() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        rate = done / max(time.monotonic() - started, 1e-6)
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if done == total else ""
        print(f"\r[{bar}] {done}/{total} ({rate:.0f}/s)", end=end, file=sys.stderr, flush=True)

    return show
