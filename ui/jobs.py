"""A meeting's job on the page: its status and progress, refreshed while a worker has it
(`st.fragment(run_every=...)`), and the reason and a Retry button when it failed."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from meeting_storage import MeetingStorage
from meeting_storage.core.models import STATUS_FAILED, MeetingRecord
from ui import components, service
from ui.formatting import escape_markdown

REFRESH_SECONDS = 3
STATUS_TEXT = {
    "queued": "Queued: waiting for a worker",
    "transcribing": "Transcribing the recording",
    "analysing": "Extracting the summary, action items and requirements",
}


def status_text(record: MeetingRecord) -> str:
    text = STATUS_TEXT.get(record.status, record.status.replace("_", " "))
    if record.job_attempts > 1:
        text += f" (attempt {record.job_attempts})"
    return text + "…"


def job_panel(storage: MeetingStorage, record: MeetingRecord) -> None:
    """Above a meeting: its live progress while in flight, or why it failed and Retry."""
    if record.in_flight:
        _live_progress(storage, record.meeting_id)
    elif record.status == STATUS_FAILED:
        step = record.failed_step or "a step"
        st.error(
            f"**Processing failed at {escape_markdown(step)}.** "
            f"{escape_markdown(record.failure_reason or '')}",
            icon=":material/error:",
        )
        if st.button("Retry", icon=":material/refresh:", key=f"retry_{record.meeting_id}"):
            with components.storage_errors():
                storage.retry_meeting(record.meeting_id)
            service.after_write()
            st.rerun()


@st.fragment(run_every=REFRESH_SECONDS)
def _live_progress(storage: MeetingStorage, meeting_id: str) -> None:
    record = None
    with components.storage_errors(stop=False):
        record = storage.get_record(meeting_id)
    if record is None:
        return
    if not record.in_flight:  # done: draw the whole finished meeting
        service.after_write()
        st.rerun(scope="app")
    st.progress(record.progress or 0.0, text=escape_markdown(status_text(record)))
    st.caption("This page refreshes by itself; you can close it and come back.")


def refresh_while_in_flight(storage: MeetingStorage, records: Sequence[MeetingRecord]) -> None:
    """On a list: redraw it when a meeting on it that a worker has changes status (the
    list's entries come from the index, which hears of status changes, not of progress)."""
    in_flight = {r.meeting_id: r.status for r in records if r.in_flight}
    if in_flight:
        _watch(storage, in_flight)


@st.fragment(run_every=REFRESH_SECONDS)
def _watch(storage: MeetingStorage, seen: dict[str, str]) -> None:
    st.caption(
        f"{len(seen)} meeting(s) being processed; this list refreshes by itself.",
    )
    for meeting_id, before in seen.items():
        try:
            record = storage.get_record(meeting_id)
        except Exception:
            record = None
        if record is None or record.status != before:
            service.after_write()
            st.rerun(scope="app")
