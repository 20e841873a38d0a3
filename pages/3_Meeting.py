"""One meeting: play it, read it, download it, attach its transcript, delete it.

The address names the meeting (/Meeting?id=meeting-...), so it can be shared in the team.
The audio player gets a presigned URL (never the bytes), reused until half its lifetime.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from meeting_storage import Meeting, MeetingStorageError
from meeting_storage.core.analysis import requirements_to_json
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT
from meeting_storage.render.report import (
    NO_TRANSCRIPT,
    SAID_AT,
    SUMMARY_TITLE,
    analysis_view,
    meeting_markdown,
    processing_breakdown,
)
from meeting_storage.service.facade import RECENTLY_DELETED_DAYS as RESTORE_DAYS
from ui import components, jobs, service, speakers, upload
from ui.formatting import (
    escape_markdown,
    format_money,
    has_speakers,
    human_date,
    human_size,
    speaker_turns,
)

_CONFIRM = "confirm_delete"

principal = components.page_setup("Meeting", ":material/record_voice_over:")
storage = components.storage_or_stop(principal)
meeting_id = st.query_params.get("id", "")
if not meeting_id:
    st.title("Meeting", anchor=False)
    st.info("Choose a meeting on the Meetings page; its page opens here.")
    st.page_link(components.MEETINGS, label="Meetings", icon=":material/list:")
    st.stop()

loaded: Meeting | None = None
with components.storage_errors(stop=False):
    loaded = service.load_meeting(storage, meeting_id)
if loaded is None:
    st.page_link(components.MEETINGS, label="Back to the meetings", icon=":material/list:")
    st.stop()
meeting = loaded
record = meeting.record

st.title(escape_markdown(record.display_title), anchor=False)
st.caption(
    f"{human_date(record.timestamp)} · {escape_markdown(record.filename)} · "
    f"{human_size(record.audio_size)} · {record.status.replace('_', ' ')} · `{record.meeting_id}`"
)

jobs.job_panel(storage, record)

# ------------------------------------------------------------------ audio
if meeting.audio_url:
    st.audio(meeting.audio_url, format=record.content_type or "audio/wav")
else:
    st.warning(
        f"**The recording cannot be played.** {escape_markdown(meeting.audio_unavailable_reason or '')}",
        icon=":material/volume_off:",
    )
    archived = meeting.audio_archive
    if archived is not None and archived.archived and not archived.playable:
        if archived.restore == "in_progress":
            st.info(
                "A restore of the recording is in progress; it can be played once S3 has made "
                "the temporary copy (hours for Standard retrievals).",
                icon=":material/hourglass_top:",
            )
        elif not storage.can("archive.restore", record):
            st.caption("An administrator can restore the recording from the archive.")
        elif st.button("Restore the recording for 7 days", icon=":material/unarchive:"):
            with components.storage_errors():
                restored = storage.restore_audio(record.meeting_id)
            service.after_write()
            components.flash(
                f"Restore requested ({restored.tier} retrieval, about "
                f"{format_money(restored.estimated_cost_usd)}); the recording plays once it is done."
            )
            st.rerun()

# ------------------------------------------------------------------ awaiting a transcript
if record.status == STATUS_AWAITING_TRANSCRIPT and not storage.can(
    "meeting.attach_transcript", record
):
    st.info("This meeting is waiting for a transcript.", icon=":material/hourglass_top:")
elif record.status == STATUS_AWAITING_TRANSCRIPT:
    st.info(
        "This meeting is waiting for a transcript (no transcriber is configured). Attach one "
        "to get its summary, action items, decisions and requirements.",
        icon=":material/hourglass_top:",
    )
    with st.form("attach_transcript"):
        attached_file = st.file_uploader(
            "Transcript file",
            type=list(upload.TRANSCRIPT_EXTENSIONS),
            max_upload_size=upload.TRANSCRIPT_LIMIT_MB,
        )
        attached_text = st.text_area("…or paste the transcript", height=160)
        attach = st.form_submit_button("Attach transcript", type="primary")
    if attach:
        checked = upload.check_transcript(
            attached_file.name if attached_file else None,
            attached_file.getvalue() if attached_file else None,
            attached_text or "",
            required=True,
        )
        for problem in checked.problems:
            st.error(escape_markdown(problem), icon=":material/error:")
        if checked.transcript is not None:
            with components.storage_errors(), st.spinner("Analysing the transcript…"):
                storage.attach_transcript(
                    record.meeting_id,
                    checked.transcript,
                    transcript_filename=attached_file.name if attached_file else None,
                )
            service.after_write()
            components.flash("Transcript attached and analysed.")
            st.rerun()

# ------------------------------------------------------------------ what was said and decided
summary_tab, transcript_tab, details_tab, history_tab = st.tabs(
    ["Summary", "Transcript", "Details and downloads", "History"]
)

with summary_tab:
    view = analysis_view(meeting.summary, meeting.requirements)
    st.subheader(SUMMARY_TITLE, anchor=False)
    components.plain(view.summary_or_placeholder)
    if view.participants_line:
        st.caption(escape_markdown(view.participants_line))
    speakers.sections(view)
    for items in view.lists:
        st.subheader(items.counted_title, anchor=False)
        if items.rows:
            wide = items.columns[1] if items.columns[0] == SAID_AT else items.columns[0]
            st.dataframe(
                pd.DataFrame({name: items.column(name) for name in items.columns}),
                hide_index=True,
                column_config={wide: st.column_config.TextColumn(width="large")},
            )
            components.item_moments(
                items,
                meeting.transcription,
                meeting.audio_url,
                record.content_type or "audio/wav",
            )
        else:
            st.caption(items.empty)

with transcript_tab:
    if not meeting.transcription:
        st.caption(NO_TRANSCRIPT)
    else:
        with components.storage_errors(stop=False):
            speakers.rename_form(storage, meeting)
        query = st.text_input(
            "Search the transcript", key="transcript_search", placeholder="a word or phrase"
        )
        turns = speaker_turns(meeting.transcription)
        shown = (
            [t for t in turns if query.casefold() in f"{t.speaker} {t.text}".casefold()]
            if query
            else turns
        )
        st.caption(
            f"{len(shown)} of {len(turns)} lines"
            + (f" mention {escape_markdown(repr(query))}" if query else "")
        )
        if has_speakers(turns):
            columns = {
                "#": [t.number for t in shown],
                "Time": [t.time for t in shown],
                "Speaker": [t.speaker for t in shown],
                "Said": [t.text for t in shown],
            }
            if not any(t.time for t in turns):
                del columns["Time"]
            st.dataframe(
                pd.DataFrame(columns),
                hide_index=True,
                column_config={"Said": st.column_config.TextColumn(width="large")},
            )
        else:
            components.plain("\n".join(t.text for t in shown))

with details_tab:
    if record.processing_cost_usd is not None:
        st.metric(
            "Processing cost",
            format_money(record.processing_cost_usd),
            help="Recorded when the meeting was processed: "
            + escape_markdown(", ".join(processing_breakdown(record, storage.prices)))
            + ".",
        )
    st.subheader("Metadata", anchor=False)
    st.json(record.to_dict(), expanded=True)
    share_url = st.context.url
    if share_url:
        st.caption("Link to this meeting (for people who can open this dashboard):")
        st.code(share_url, language=None)
    st.subheader("Downloads", anchor=False)
    stem = record.meeting_id
    first, second, third = st.columns(3)
    first.download_button(
        "Transcript (.txt)",
        meeting.transcription,
        file_name=f"{stem}-transcript.txt",
        mime="text/plain",
        disabled=not meeting.transcription,
        on_click="ignore",
        icon=":material/description:",
    )
    second.download_button(
        "Summary and requirements (.json)",
        json.dumps(
            {
                "meeting_id": record.meeting_id,
                "summary": meeting.summary.to_json(),
                "requirements": requirements_to_json(meeting.requirements),
            },
            ensure_ascii=False,
            indent=2,
        ),
        file_name=f"{stem}-analysis.json",
        mime="application/json",
        on_click="ignore",
        icon=":material/data_object:",
    )
    third.download_button(
        "Report (.md)",
        meeting_markdown(meeting),
        file_name=f"{stem}-report.md",
        mime="text/markdown",
        on_click="ignore",
        icon=":material/article:",
    )

with history_tab:
    st.caption(
        f"Stored by {escape_markdown(record.uploaded_by or 'local')}. Who did what to this "
        "meeting, newest first:"
    )
    events = None
    with components.storage_errors(stop=False):
        events = service.history(storage, record.meeting_id)
    if events is not None:
        components.history_table(events, with_meeting=False)

# ------------------------------------------------------------------ delete


def _close_dialog() -> None:
    st.session_state.pop(_CONFIRM, None)


@st.dialog("Delete this meeting?", on_dismiss=_close_dialog)
def confirm_delete(meeting: Meeting) -> None:
    record = meeting.record
    st.markdown(
        f"This deletes **{escape_markdown(record.display_title)}** "
        f"({human_date(record.timestamp)}, `{record.meeting_id}`) with its recording, "
        "transcript, summary, requirements and metadata."
    )
    typed = st.text_input("Type **delete** to confirm", key="delete_confirmation")
    cancel_col, delete_col = st.columns(2)
    if cancel_col.button("Cancel", width="stretch"):
        _close_dialog()
        st.rerun()
    if delete_col.button(
        "Delete meeting", type="primary", width="stretch", icon=":material/delete:"
    ):
        if typed.strip().lower() != "delete":
            st.error("Type delete in the box to confirm.")
            return
        try:
            report = storage.delete_meeting(record.meeting_id)
        except MeetingStorageError as error:
            components.show_error(error)
            return
        service.after_write()
        _close_dialog()
        recoverable = (
            " It can be restored from **Show recently deleted meetings** on the Meetings page "
            f"for {RESTORE_DAYS} days."
            if report.to_dict()["recoverable"]
            else ""
        )
        components.flash(f"Deleted **{escape_markdown(record.display_title)}**.{recoverable}")
        st.switch_page(components.MEETINGS)


if storage.can("meeting.delete", record):
    st.divider()
    if st.button("Delete meeting…", icon=":material/delete:"):
        st.session_state[_CONFIRM] = record.meeting_id
    if st.session_state.get(_CONFIRM) == record.meeting_id:
        confirm_delete(meeting)
