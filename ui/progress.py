"""Storing a meeting with its progress on the page: a bar, and one line per step."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import IO, cast

import streamlit as st

from meeting_storage import MeetingStorage, ProcessResult
from ui.formatting import escape_markdown, human_size
from ui.upload import STATE_ICONS, ProcessProgress, ProgressReader, step_states

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
) -> ProcessResult:
    """`storage.process` with the steps drawn as they happen. The recording (Streamlit's
    uploaded file) is handed over as it is, wrapped only to count the bytes read.

    `process` runs in a worker thread so that this script thread can redraw meanwhile.
    Errors propagate after the failed step is marked.
    """
    progress = ProcessProgress(total_bytes=size)
    bar = st.progress(0.0, text="Starting…")
    steps_view = st.empty()

    def draw(
        *, finished: bool = False, failed: bool = False, result: ProcessResult | None = None
    ) -> None:
        steps, read = progress.snapshot()
        untranscribed = None
        if result is not None and transcript is None and result.record.status != "complete":
            untranscribed = "; ".join(result.record.notes) or "no transcript"
        states = step_states(
            steps,
            has_recording=recording is not None,
            has_transcript=transcript is not None or "extraction" in steps,
            finished=finished,
            failed=failed,
            transcription_failed=untranscribed,
        )
        lines = []
        for label, state, note in states:
            detail = f" — {escape_markdown(note)}" if note and state != "running" else ""
            if label == "Upload to S3" and state == "running":
                detail = f" — {human_size(read)} of {human_size(progress.total_bytes)}"
            lines.append(f"{STATE_ICONS[state]} **{label}**{detail}")
        steps_view.markdown("  \n".join(lines))
        if failed:
            text = "Not stored"
        else:
            text = next((label for label, state, _ in states if state == "running"), "Done")
        bar.progress(1.0 if finished else progress.fraction(), text=text)

    reader = cast(IO[bytes], ProgressReader(recording, progress)) if recording else None
    with ThreadPoolExecutor(max_workers=1) as pool:
        job = pool.submit(
            storage.process,
            transcript,
            audio_file=reader,
            audio_filename=name,
            title=title,
            transcript_filename=transcript_name,
            on_step=progress.start_step,
            kind=kind,
        )
        while not job.done():
            draw()
            time.sleep(REDRAW_SECONDS)
    try:
        result = job.result()
    except Exception:
        draw(failed=True)
        raise
    draw(finished=True, result=result)
    return result
