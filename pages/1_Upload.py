"""Upload: a recording and/or a transcript, checked before anything is stored, then stored
with its progress shown step by step."""

from __future__ import annotations

import streamlit as st

from meeting_storage.storage.media import ALLOWED_EXTENSIONS
from ui import components, progress, service, upload
from ui.formatting import escape_markdown

components.page_setup("Upload", ":material/upload:")
st.title("Upload a meeting", anchor=False)
storage = components.storage_or_stop()
settings = storage.settings
limit_mb = upload.effective_limit_mb(settings.max_upload_mb, st.get_option("server.maxUploadSize"))
st.caption(
    f"A recording ({', '.join(ALLOWED_EXTENSIONS)}) of up to **{limit_mb} MB**, with an optional "
    "transcript (txt, vtt or srt file, or pasted text) and title. The recording streams "
    "straight to S3"
    + (
        "."
        if settings.skip_local_storage
        else f" and a copy is kept in {escape_markdown(str(settings.uploads_dir))}."
    )
)
if settings.max_upload_mb != st.get_option("server.maxUploadSize"):
    st.warning(
        f"MAX_UPLOAD_MB is {settings.max_upload_mb} but server.maxUploadSize in "
        f".streamlit/config.toml is {st.get_option('server.maxUploadSize')}; uploads are limited "
        f"to the smaller, {limit_mb} MB. Set both to the same number."
    )

with st.form("upload"):
    recording = st.file_uploader(
        "Recording (audio or video)", type=list(ALLOWED_EXTENSIONS), max_upload_size=limit_mb
    )
    transcript_file = st.file_uploader(
        "Transcript file (optional)",
        type=list(upload.TRANSCRIPT_EXTENSIONS),
        max_upload_size=upload.TRANSCRIPT_LIMIT_MB,
    )
    pasted = st.text_area(
        "…or paste the transcript (optional)", height=160, placeholder="Alice: Welcome, everyone…"
    )
    title = st.text_input("Title (optional)", max_chars=200, placeholder="Weekly product sync")
    submitted = st.form_submit_button(
        "Store meeting", type="primary", icon=":material/cloud_upload:"
    )

if submitted:
    checked = upload.check_upload(
        recording_name=recording.name if recording else None,
        recording_size=recording.size if recording else None,
        transcript_name=transcript_file.name if transcript_file else None,
        transcript_bytes=transcript_file.getvalue() if transcript_file else None,
        pasted=pasted or "",
        limit_mb=limit_mb,
    )
    for problem in checked.problems:
        st.error(escape_markdown(problem), icon=":material/error:")
    if checked.problems:
        st.stop()

    with components.storage_errors():
        result = progress.store_with_progress(
            storage,
            recording=recording,
            name=recording.name if recording else None,
            size=recording.size if recording else 0,
            transcript=checked.transcript,
            transcript_name=transcript_file.name if transcript_file else None,
            title=title or "",
        )
    service.after_write()
    record = result.record
    if record.status == "failed":
        st.error(
            f"Stored **{escape_markdown(record.display_title)}**, but its processing could not "
            f"be queued: {escape_markdown(record.failure_reason or '')} Retry it on its page.",
            icon=":material/error:",
        )
    else:
        st.success(
            f"Stored **{escape_markdown(record.display_title)}** and queued it: a worker "
            + ("transcribes and analyses it" if checked.transcript is None else "analyses it")
            + ". Its page shows how far it is; you can leave this page.",
            icon=":material/check_circle:",
        )
    for note in record.notes:
        st.info(escape_markdown(note), icon=":material/info:")
    st.page_link(
        components.MEETING,
        label="Open the meeting",
        icon=":material/open_in_new:",
        query_params={"id": record.meeting_id},
    )
