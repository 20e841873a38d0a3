"""Storing and queueing a meeting with its upload's progress on the page."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, cast

import streamlit as st

from meeting_storage import MeetingStorage
from meeting_storage.service.jobs import SubmitResult
from ui.formatting import human_size
from ui.upload import STATE_ICONS, ProcessProgress, ProgressReader

REDRAW_SECONDS = 0.2


def store_with_progress(
    storage: MeetingStorage,
    *,
    recording: IO[bytes] | None,
    name: str | None,
    size: int,
    transcript: str | None,
    transcript_name: str | None,
    title: str,
    kind: str | None = None,
    audio_s3_key: str | None = None,
) -> SubmitResult:
    """`storage.submit_meeting` with the upload drawn as it happens: the meeting is stored and
    queued, and a worker transcribes and analyses it (its page follows the job). The
    recording (Streamlit's uploaded file) is handed over as it is, wrapped only to count the
    bytes read; or it is already in the bucket (`audio_s3_key`, sent by the browser), and
    the upload is done.

    `submit_meeting` runs in a worker thread so that this script thread can redraw meanwhile.
    Errors propagate after the upload is marked failed.
    """
    progress = ProcessProgress(total_bytes=size)
    if recording is not None or audio_s3_key is not None:
        progress.start_step("upload")
    if audio_s3_key is not None:
        progress.add_bytes(size)
    bar = st.progress(0.0, text="Starting…")
    steps_view = st.empty()

    def draw(*, finished: bool = False, failed: bool = False) -> None:
        _, read = progress.snapshot()
        if recording is None and audio_s3_key is None:
            upload_line = f"{STATE_ICONS['skipped']} **Upload to S3** — no recording given"
        elif failed:
            upload_line = f"{STATE_ICONS['failed']} **Upload to S3**"
        elif finished:
            upload_line = f"{STATE_ICONS['done']} **Upload to S3**"
        else:
            upload_line = (
                f"{STATE_ICONS['running']} **Upload to S3** — {human_size(read)} of "
                f"{human_size(progress.total_bytes)}"
            )
        state = "done" if finished else ("failed" if failed else "waiting")
        queue_line = (
            f"{STATE_ICONS[state]} **Queued** — a worker "
            + ("transcribes and analyses it" if transcript is None else "analyses it")
            + "; its page shows how far it is"
        )
        steps_view.markdown(f"{upload_line}  \n{queue_line}")
        if failed:
            bar.progress(progress.fraction(), text="Not stored")
        else:
            bar.progress(
                1.0 if finished else progress.fraction(), text="Queued" if finished else "Uploading"
            )

    reader = cast(IO[bytes], ProgressReader(recording, progress)) if recording else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(
            storage.submit_meeting,
            transcript,
            audio_file=reader,
            audio_filename=name,
            title=title,
            transcript_filename=transcript_name,
            kind=kind,
            audio_s3_key=audio_s3_key,
        )
        while not job.done():
            draw()
            time.sleep(REDRAW_SECONDS)
    try:
        result = job.result()
    except Exception:
        draw(failed=True)
        raise
    draw(finished=True)
    return result
