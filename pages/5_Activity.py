"""Activity: the audit trail (who did what, through which face, and how it ended), newest
first, filtered by date, meeting and person. Administrators only; the service refuses anyone
else too."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from ui import components, service

principal = components.page_setup("Activity", ":material/history:")
st.title("Activity", anchor=False)
storage = components.storage_or_stop(principal)
if not storage.can("audit.read"):
    components.refuse("read the audit trail")

since_col, meeting_col, actor_col = st.columns([2, 3, 3])
since_day = since_col.date_input(
    "Since (UTC)", value=None, key="activity_since", format="YYYY-MM-DD"
)
meeting_id = meeting_col.text_input(
    "Meeting", placeholder="meeting-…", key="activity_meeting"
).strip()
actor = actor_col.text_input(
    "Person", placeholder="alice@example.com", key="activity_actor"
).strip()
since = datetime.combine(since_day, time.min, UTC) if since_day else None

with components.storage_errors():
    events = service.activity(
        storage, since=since, meeting_id=meeting_id or None, actor=actor or None
    )
shown = len(events)
st.caption(
    f"{shown:,} events, newest first"
    + (
        f" (the newest {service.ACTIVITY_LIMIT:,}; narrow the filters for older ones)"
        if shown >= service.ACTIVITY_LIMIT
        else ""
    )
    + "."
)
components.history_table(events)
