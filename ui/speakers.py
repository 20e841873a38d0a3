"""The meeting page's parts for kinds and speakers: the summary's sections (a stand-up's
yesterday / today / blockers per person) and the form that names a speaker everywhere."""

from __future__ import annotations

import streamlit as st

from meeting_storage import Meeting, MeetingStorage
from meeting_storage.render.report import AnalysisView
from ui import components, service
from ui.formatting import escape_markdown


def sections(view: AnalysisView) -> None:
    """The kind's sections, each a short list of what was said (user text, shown as text)."""
    if not view.sections:
        return
    st.subheader(f"{(view.kind or 'Meeting').capitalize()} notes", anchor=False)
    for heading, items in view.sections:
        st.markdown(f"**{escape_markdown(heading)}**")
        if items:
            components.plain("\n".join(f"• {item}" for item in items))
        else:
            st.caption("Nothing said.")


def rename_form(storage: MeetingStorage, meeting: Meeting) -> None:
    """Name a speaker ("Speaker B" → "Carol"): transcript, owners, decisions and search follow.
    Names the speakers gave when introducing themselves are offered first."""
    record = meeting.record
    found = storage.speakers(record.meeting_id)
    if not found.speakers:
        return
    with st.expander("Name the speakers", icon=":material/badge:"):
        if found.suggestions:
            st.caption(
                "Suggested from introductions: "
                + ", ".join(
                    f"{escape_markdown(label)} → {escape_markdown(name)}"
                    for label, name in found.suggestions.items()
                )
            )
        with st.form("rename_speaker"):
            old = st.selectbox("Speaker", found.speakers)
            suggested = found.suggestions.get(old or "", "")
            new = st.text_input("Name", value=suggested, max_chars=60)
            submitted = st.form_submit_button("Rename", icon=":material/edit:")
        if submitted and old:
            with components.storage_errors():
                storage.rename_speaker(record.meeting_id, old, new)
            service.after_write()
            components.flash(f"{old} is now {new.strip()} throughout this meeting.")
            st.rerun()
