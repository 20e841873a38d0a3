"""Upload: a recording and/or a transcript, checked before anything is stored, then stored
with its progress shown step by step.

The recording goes from the browser straight to S3 (a presigned POST, `ui/browser_upload.py`),
so the dashboard server never holds it; its first bytes are checked in the bucket. Where a
browser cannot reach the bucket, the page offers the server-side path (st.file_uploader)."""

from __future__ import annotations

from typing import IO

import streamlit as st

from meeting_storage.analysis.kinds import KINDS
from meeting_storage.service.jobs import SubmitResult
from meeting_storage.storage.media import ALLOWED_EXTENSIONS
from ui import components, progress, service, upload
from ui.browser_upload import browser_upload, signed_args
from ui.formatting import escape_markdown

SERVER_SIDE = "upload_server_side"  # the user chose the server-side path this session
PENDING = "upload_pending"  # the signed upload the picker is sending
HANDLED = "upload_handled"  # picker reports already acted on
ROUND = "upload_round"  # a new picker after each stored recording
PROBLEM = "upload_problem"

principal = components.page_setup("Upload", ":material/upload:")
st.title("Upload a meeting", anchor=False)
storage = components.storage_or_stop(principal)
if not storage.can("meeting.upload"):
    components.refuse("upload meetings")
settings = storage.settings
direct, why_not_direct = upload.direct_upload_mode(
    settings.direct_uploads, settings.s3_endpoint_url
)
local_copy = (
    "."
    if settings.skip_local_storage
    else f" and a copy is kept in {escape_markdown(str(settings.uploads_dir))}."
)


def show_stored(result: SubmitResult, *, has_transcript: bool) -> None:
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
            + ("analyses it" if has_transcript else "transcribes and analyses it")
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


def store(
    *,
    recording: IO[bytes] | None,
    name: str | None,
    size: int,
    transcript: str | None,
    transcript_name: str | None,
    title: str,
    kind: str | None,
    audio_s3_key: str | None = None,
) -> None:
    with components.storage_errors():
        result = progress.store_with_progress(
            storage,
            recording=recording,
            name=name,
            size=size,
            transcript=transcript,
            transcript_name=transcript_name,
            title=title,
            kind=kind,
            audio_s3_key=audio_s3_key,
        )
    service.after_write()
    show_stored(result, has_transcript=transcript is not None)


def kind_choice() -> str | None:
    """The meeting's kind, or None to detect it from the wording."""
    chosen = st.selectbox(
        "Kind of meeting",
        ["detect", *KINDS],
        help="Shapes the summary: a stand-up's yesterday / today / blockers per person, a "
        "retro's went well / to improve / actions. 'detect' works it out from the wording.",
    )
    return None if chosen in (None, "detect") else chosen


def server_side_page() -> None:
    """The recording passes through the dashboard server (held in its memory by Streamlit)."""
    limit_mb = upload.effective_limit_mb(
        settings.max_upload_mb, st.get_option("server.maxUploadSize")
    )
    st.caption(
        f"A recording ({', '.join(ALLOWED_EXTENSIONS)}) of up to **{limit_mb} MB**, with an "
        "optional transcript (txt, vtt or srt file, or pasted text) and title. The recording "
        "goes through the dashboard server to S3" + local_copy
    )
    if settings.max_upload_mb != st.get_option("server.maxUploadSize"):
        st.warning(
            f"MAX_UPLOAD_MB is {settings.max_upload_mb} but server.maxUploadSize in "
            f".streamlit/config.toml is {st.get_option('server.maxUploadSize')}; uploads are "
            f"limited to the smaller, {limit_mb} MB. Set both to the same number."
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
            "…or paste the transcript (optional)",
            height=160,
            placeholder="Alice: Welcome, everyone…",
        )
        title = st.text_input("Title (optional)", max_chars=200, placeholder="Weekly product sync")
        kind = kind_choice()
        submitted = st.form_submit_button(
            "Store meeting", type="primary", icon=":material/cloud_upload:"
        )
    if not submitted:
        return
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
    store(
        recording=recording,
        name=recording.name if recording else None,
        size=recording.size if recording else 0,
        transcript=checked.transcript,
        transcript_name=transcript_file.name if transcript_file else None,
        title=title or "",
        kind=kind,
    )


def direct_page() -> None:
    """The recording goes from the browser straight to S3; the server sees only its key."""
    limit_mb = upload.direct_limit_mb(settings.max_upload_mb)
    st.caption(
        f"A recording ({', '.join(ALLOWED_EXTENSIONS)}) of up to **{limit_mb} MB**, with an "
        "optional transcript (txt, vtt or srt file, or pasted text) and title. The recording "
        "goes from your browser straight to S3, with its progress shown."
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
    kind = kind_choice()
    transcript_name = transcript_file.name if transcript_file else None
    transcript_bytes = transcript_file.getvalue() if transcript_file else None
    handled: set[str] = st.session_state.setdefault(HANDLED, set())
    pending = st.session_state.get(PENDING)
    event = browser_upload(
        key=f"recording-{st.session_state.get(ROUND, 0)}",
        max_bytes=limit_mb * 1024 * 1024,
        signed=pending["signed"] if pending else None,
        problem=st.session_state.get(PROBLEM),
    )
    if st.button("Store the transcript without a recording", icon=":material/description:"):
        checked = upload.check_transcript(
            transcript_name, transcript_bytes, pasted or "", required=True
        )
        for problem in checked.problems:
            st.error(escape_markdown(problem), icon=":material/error:")
        if not checked.problems:
            store(
                recording=None,
                name=None,
                size=0,
                transcript=checked.transcript,
                transcript_name=transcript_name,
                title=title or "",
                kind=kind,
            )
        return
    if event is None or event.id in handled:
        return
    if event.event == "picked" and not (pending and pending["id"] == event.id):
        checked = upload.check_upload(
            recording_name=event.name,
            recording_size=event.size,
            transcript_name=transcript_name,
            transcript_bytes=transcript_bytes,
            pasted=pasted or "",
            limit_mb=limit_mb,
        )
        if checked.problems:
            handled.add(event.id)
            st.session_state[PROBLEM] = " ".join(checked.problems)
            st.rerun()
        with components.storage_errors():
            signed = storage.create_browser_upload(event.name, event.size)
        st.session_state[PROBLEM] = None
        st.session_state[PENDING] = {
            "id": event.id,
            "key": signed.audio_s3_key,
            "name": event.name,
            "size": event.size,
            "signed": signed_args(event.id, signed),
        }
        st.rerun()
    if not pending or pending["id"] != event.id or event.event == "picked":
        return
    handled.add(event.id)
    if event.event == "error":
        st.session_state[PENDING] = None
        st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
        st.error(escape_markdown(event.describe_error()), icon=":material/error:")
        if event.kind == "network":
            st.button(
                "Upload through the dashboard server instead",
                icon=":material/dns:",
                on_click=lambda: st.session_state.update({SERVER_SIDE: True}),
            )
        return
    if event.event != "uploaded" or event.key != pending["key"]:
        return
    # A new picker next time, whatever happens to this recording now.
    st.session_state[PENDING] = None
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1
    checked = upload.check_transcript(transcript_name, transcript_bytes, pasted or "")
    with components.storage_errors():
        size, _content_type = storage.check_uploaded_audio(pending["key"])
    store(
        recording=None,
        name=pending["name"],
        size=size,
        transcript=checked.transcript,
        transcript_name=transcript_name,
        title=title or "",
        kind=kind,
        audio_s3_key=pending["key"],
    )


if direct and not st.session_state.get(SERVER_SIDE):
    direct_page()
else:
    if why_not_direct:
        st.info(escape_markdown(why_not_direct), icon=":material/info:")
    elif st.session_state.get(SERVER_SIDE):
        st.info(
            "Recordings go through the dashboard server in this session, because your browser "
            "could not reach the bucket.",
            icon=":material/info:",
        )
    server_side_page()
