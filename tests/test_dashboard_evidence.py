"""Meeting page: each item is a click away from the moment it was said."""

from __future__ import annotations

import io
from typing import Any

from meeting_storage import MeetingStorage
from tests.conftest import SAMPLE_TRANSCRIPT, app_test, table_with, wav_bytes
from tests.test_llm_openai import TIMED_TRANSCRIPT

MEETING = "pages/3_Meeting.py"


def open_meeting(meeting_id: str) -> Any:
    at = app_test().run()
    at.query_params["id"] = meeting_id
    at.switch_page(MEETING).run()
    assert not at.exception
    return at


def test_a_play_button_starts_the_recording_where_the_item_was_said(
    dashboard: MeetingStorage,
) -> None:
    result = dashboard.process(
        TIMED_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="sync.wav"
    )
    carol = next(i for i in result.summary.action_items if i.owner == "Carol")
    assert carol.evidence is not None and carol.evidence.start == 47
    at = open_meeting(result.record.meeting_id)

    actions = table_with(at, "Action")
    assert list(actions.columns)[:2] == ["Said at", "Action"]
    assert "[00:47]" in set(actions["Said at"])
    (button,) = [b for b in at.button if b.label.replace("\\", "").startswith("[00:47]")]
    assert len(at.get("audio")) == 1  # the page's own player only

    button.click().run()

    assert not at.exception
    players = at.get("audio")
    assert len(players) == 2
    assert players[1].proto.start_time == 47 and players[1].proto.autoplay
    assert players[1].proto.url == players[0].proto.url  # the same presigned recording
    shown = "\n".join(t.value for t in at.text)
    assert "[00:47] Carol: I will send the revised budget to finance by Friday." in shown
    assert "[00:31] Alice: We decided to use rechargeable batteries" in shown  # the line before


def test_without_times_the_button_shows_the_lines_only(dashboard: MeetingStorage) -> None:
    meeting_id = dashboard.process(SAMPLE_TRANSCRIPT).record.meeting_id
    at = open_meeting(meeting_id)
    assert list(table_with(at, "Action").columns) == ["Action", "Owner", "Due"]
    moments = [b for b in at.button if b.key and b.key.startswith("moment-")]
    assert moments
    moments[0].click().run()
    assert not at.exception and not at.get("audio")  # nothing to play: no recording, no times
    # The transcript lines there, as "Speaker: words", exactly as the transcript has them.
    said = set(SAMPLE_TRANSCRIPT.splitlines())
    assert any(
        len(t.value.splitlines()) >= 2 and set(t.value.splitlines()) <= said for t in at.text
    )
