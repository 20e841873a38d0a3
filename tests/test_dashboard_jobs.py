"""The dashboard shows a meeting's job: progress while in flight (refreshing by itself), the
reason and a Retry button when it failed, and the status in the Meetings list."""

from __future__ import annotations

import io
from typing import Any

from meeting_storage import MeetingStorage
from tests.conftest import SAMPLE_TRANSCRIPT, app_test, unescape, wav_bytes
from tests.test_jobs import UndecodableTranscriber

MEETING = "pages/3_Meeting.py"


def open_meeting(meeting_id: str) -> Any:
    at = app_test().run()
    at.query_params["id"] = meeting_id
    at.switch_page(MEETING).run()
    assert not at.exception
    return at


def test_a_queued_meeting_shows_its_progress_until_it_is_complete(
    dashboard: MeetingStorage,
) -> None:
    meeting_id = dashboard.submit_meeting(SAMPLE_TRANSCRIPT, title="Queued sync").record.meeting_id
    at = open_meeting(meeting_id)
    bars = at.get("progress")
    assert bars and "Queued" in bars[0].proto.text
    assert any("refreshes by itself" in c.value for c in at.caption)
    at.switch_page("pages/2_Meetings.py").run()
    assert "queued" in list(at.dataframe[0].value["Status"])
    assert any("being processed" in c.value for c in at.caption)

    assert dashboard.run_job(meeting_id) == "complete"
    at = open_meeting(meeting_id)
    assert not at.get("progress")
    assert "complete" in at.caption[0].value


def test_a_failed_meeting_says_why_and_can_be_retried(dashboard: MeetingStorage) -> None:
    dashboard.transcriber = UndecodableTranscriber()
    meeting_id = dashboard.submit_meeting(
        None, audio_file=io.BytesIO(wav_bytes()), audio_filename="broken.wav"
    ).record.meeting_id
    assert dashboard.run_job(meeting_id, final=True) == "failed"
    at = open_meeting(meeting_id)
    error = unescape(at.error[0].value)
    assert "failed at transcription" in error and "could not be decoded" in error
    waiting = dashboard.queue.counts().waiting
    at.button(key=f"retry_{meeting_id}").click().run()
    assert not at.exception
    assert dashboard.get_record(meeting_id).status == "queued"
    assert dashboard.queue.counts().waiting == waiting + 1
