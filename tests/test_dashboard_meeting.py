"""Meeting page: presigned audio, safe text, tables, downloads, attach, delete, error states."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from meeting_storage import BackendUnavailableError, MeetingStorage, NotFoundError
from tests.conftest import (
    SAMPLE_TRANSCRIPT,
    app_test,
    s3_client_for,
    table_with,
    unescape,
    wav_bytes,
)
from ui import service
from ui.formatting import format_money

MEETING = "pages/3_Meeting.py"
HOSTILE_TITLE = "**Board** [meeting](http://evil.example) <b>x</b>"
HOSTILE_LINE = (
    "Mallory: Please [click here](http://evil.example) **now** and visit www.evil.example :red[x]"
)


def open_meeting(meeting_id: str | None) -> Any:
    at = app_test().run()
    if meeting_id is not None:
        at.query_params["id"] = meeting_id
    at.switch_page(MEETING).run()
    assert not at.exception
    return at


def audio_urls(at: Any) -> list[str]:
    return [element.proto.url for element in at.get("audio")]


def store(storage: MeetingStorage, text: str | None = SAMPLE_TRANSCRIPT, **kwargs: Any) -> str:
    result = storage.process(
        text, audio_file=io.BytesIO(wav_bytes()), audio_filename="Weekly sync.wav", **kwargs
    )
    return result.record.meeting_id


def test_audio_is_a_presigned_url_reused_across_reruns(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting_id = store(dashboard, title="Launch")
    key = dashboard.get_record(meeting_id).audio_s3_key
    at = open_meeting(meeting_id)
    (url,) = audio_urls(at)
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    assert parsed.path.endswith(f"/{key}".replace(" ", "%20"))
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"]
    assert query["X-Amz-Expires"] == ["3600"]
    assert "inline" in query["response-content-disposition"][0]

    signed: list[str] = []
    real = dashboard.audio.presign_get
    monkeypatch.setattr(
        dashboard.audio, "presign_get", lambda *a, **k: signed.append("x") or real(*a, **k)
    )
    at.run()
    at.run()
    assert audio_urls(at) == [url] and signed == []  # a rerun does not sign again

    # Half the lifetime later the cached URL is no longer used: a new one is signed.
    now = service.time.time()
    monkeypatch.setattr(service.time, "time", lambda: now + 1801)
    at.run()
    assert signed == ["x"] and audio_urls(at)[0].startswith(url.split("?")[0])


def test_url_windows_are_half_the_lifetime() -> None:
    assert service.url_window(3600, now=0) == service.url_window(3600, now=1799)
    assert service.url_window(3600, now=1800) == 1
    assert service.url_window(1, now=5) == 5


def test_summary_tables_transcript_and_downloads(dashboard: MeetingStorage) -> None:
    meeting_id = store(dashboard, title="Launch planning")
    at = open_meeting(meeting_id)
    assert unescape(at.title[0].value) == "Launch planning"
    meeting = dashboard.get_meeting(meeting_id)
    assert meeting.summary.text in [t.value for t in at.text]

    actions = table_with(at, "Action")
    assert list(actions.columns) == ["Action", "Owner", "Due"]
    assert ("Carol", "Friday") in set(zip(actions["Owner"], actions["Due"], strict=True))
    assert "We decided to use rechargeable batteries instead of disposable ones." in set(
        table_with(at, "Decision")["Decision"]
    )
    requirements = table_with(at, "Requirement")
    assert {"MUST", "SHOULD"} <= set(requirements["Priority"])

    transcript = table_with(at, "Said")
    assert list(transcript["Speaker"][:2]) == ["Alice", "Bob"] and len(transcript) == 7
    at.text_input(key="transcript_search").input("budget").run()
    assert list(table_with(at, "Said")["Speaker"]) == ["Alice", "Carol"]
    assert "2 of 7 lines" in unescape(" ".join(c.value for c in at.caption))

    labels = [b.label for b in at.download_button]
    assert labels == ["Transcript (.txt)", "Summary and requirements (.json)", "Report (.md)"]
    assert all(b.proto.url for b in at.download_button)
    metadata = at.get("json")[0].proto.body
    assert meeting_id in metadata and '"audio_size"' in metadata
    cost = next(m for m in at.metric if m.label == "Processing cost")
    assert cost.value == format_money(meeting.record.processing_cost_usd or Decimal(-1))
    assert "S3 requests" in cost.proto.help


def test_user_text_never_renders_as_markdown(dashboard: MeetingStorage) -> None:
    meeting_id = store(dashboard, SAMPLE_TRANSCRIPT + HOSTILE_LINE, title=HOSTILE_TITLE)
    at = open_meeting(meeting_id)
    assert unescape(at.title[0].value) == HOSTILE_TITLE
    assert at.title[0].value != HOSTILE_TITLE
    # In a table cell, the line is plain text.
    said = table_with(at, "Said")
    assert HOSTILE_LINE.split(": ", 1)[1] in set(said["Said"])
    # Nothing rendered as Markdown contains a live link, emphasis or directive from the user.
    for element in [*at.markdown, *at.caption, *at.title, *at.header, *at.subheader]:
        source = re.sub(r"\\.", "", element.value)
        assert "](http" not in source and "**now**" not in source and "www.evil" not in source
        assert "<b>" not in source and ":red[" not in source


def test_a_transcript_only_meeting_and_an_archived_one_say_why_they_cannot_play(
    dashboard: MeetingStorage,
) -> None:
    text_only = dashboard.process(SAMPLE_TRANSCRIPT).record.meeting_id
    at = open_meeting(text_only)
    assert not audio_urls(at)
    assert "stored from a transcript only" in unescape(at.warning[0].value)

    archived = store(dashboard)
    key = dashboard.get_record(archived).audio_s3_key
    s3_client_for(dashboard).copy_object(
        Bucket=dashboard.settings.bucket,
        Key=key,
        CopySource={"Bucket": dashboard.settings.bucket, "Key": key},
        StorageClass="GLACIER",
    )
    at = open_meeting(archived)
    assert not audio_urls(at)
    warning = unescape(at.warning[0].value)
    assert "cannot be played" in warning and "archived in S3 Glacier" in warning
    next(b for b in at.button if b.label == "Restore the recording for 7 days").click().run()
    assert not at.exception
    assert any("Restore requested" in unescape(s.value) for s in at.success)
    # moto restores at once; S3 takes hours, and the page says a restore is in progress.
    assert audio_urls(at)


@pytest.mark.parametrize(
    ("meeting_id", "message"),
    [
        ("meeting-0123456789abcdef", "**Not found.** Meeting meeting-0123456789abcdef not found."),
        ("../../etc/passwd", "**Invalid input.** '../../etc/passwd' is not a meeting id"),
    ],
)
def test_unknown_and_malformed_ids(
    dashboard: MeetingStorage, meeting_id: str, message: str
) -> None:
    at = open_meeting(meeting_id)
    (error,) = [unescape(e.value) for e in at.error]
    assert error.startswith(message)
    assert not audio_urls(at)
    assert any(link.proto.label == "Back to the meetings" for link in at.page_link)


def test_no_id_points_to_the_list(dashboard: MeetingStorage) -> None:
    at = open_meeting(None)
    assert "Choose a meeting on the Meetings page" in at.info[0].value


def test_attach_a_transcript_to_a_meeting_waiting_for_one(dashboard: MeetingStorage) -> None:
    meeting_id = store(dashboard, None)
    at = open_meeting(meeting_id)
    assert "waiting for a transcript" in at.info[0].value
    assert audio_urls(at)
    at.form_submit_button[0].click().run()
    assert "Upload a transcript file or paste the transcript." in [
        unescape(e.value) for e in at.error
    ]
    at.text_area[0].input(SAMPLE_TRANSCRIPT)
    at.form_submit_button[0].click().run()
    assert not at.exception
    assert "Transcript attached and analysed." in [s.value for s in at.success]
    assert len(table_with(at, "Action")) >= 2
    assert dashboard.get_record(meeting_id).status == "complete"


def click(at: Any, label: str) -> Any:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def test_delete_asks_naming_the_meeting_then_the_list_no_longer_shows_it(
    dashboard: MeetingStorage,
) -> None:
    keep = store(dashboard, title="Keep me")
    meeting_id = store(dashboard, title="Quarterly review")
    at = app_test().run()
    at.switch_page("pages/2_Meetings.py").run()
    assert set(at.dataframe[0].value["Title"]) == {"Keep me", "Quarterly review"}  # cached now

    at.query_params["id"] = meeting_id
    at.switch_page(MEETING).run()
    click(at, "Delete meeting…")
    question = next(m.value for m in at.markdown if "This deletes" in m.value)
    assert "**Quarterly review**" in unescape(question) and meeting_id in question

    click(at, "Delete meeting")  # not confirmed yet
    assert "Type delete in the box to confirm." in [e.value for e in at.error]
    assert dashboard.get_record(meeting_id)

    at.text_input(key="delete_confirmation").input("delete")
    click(at, "Delete meeting")
    assert "Deleted **Quarterly review**." in [unescape(s.value) for s in at.success]
    assert at.title[0].value == "Meetings"
    assert list(at.dataframe[0].value["Title"]) == ["Keep me"]
    with pytest.raises(NotFoundError):
        dashboard.get_record(meeting_id)
    assert dashboard.get_record(keep)


def test_cancel_keeps_the_meeting(dashboard: MeetingStorage) -> None:
    meeting_id = store(dashboard, title="Stays")
    at = open_meeting(meeting_id)
    click(at, "Delete meeting…")
    click(at, "Cancel")
    assert not any("This deletes" in m.value for m in at.markdown)
    assert dashboard.get_record(meeting_id)


def test_a_failed_delete_is_explained_in_the_dialog(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    meeting_id = store(dashboard, title="Fragile")

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise BackendUnavailableError("Cannot reach the S3 endpoint (test). Run `make run` first.")

    monkeypatch.setattr(dashboard, "delete_meeting", unavailable)
    at = open_meeting(meeting_id)
    click(at, "Delete meeting…")
    at.text_input(key="delete_confirmation").input("delete")
    click(at, "Delete meeting")
    (error,) = [unescape(e.value) for e in at.error]
    assert error.startswith("**Storage unavailable.** Cannot reach the S3 endpoint")
    assert dashboard.get_record(meeting_id)


def test_a_deleted_meeting_is_restored_from_the_meetings_page(dashboard: MeetingStorage) -> None:
    s3_client_for(dashboard).put_bucket_versioning(
        Bucket=dashboard.settings.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    meeting_id = store(dashboard, title="Oops <b>review</b>")
    at = open_meeting(meeting_id)
    click(at, "Delete meeting…")
    at.text_input(key="delete_confirmation").input("delete")
    click(at, "Delete meeting")
    flash = next(unescape(s.value) for s in at.success if "Deleted" in s.value)
    assert "restored from **Show recently deleted meetings** on the Meetings page" in flash
    assert "for 30 days" in flash

    at.switch_page("pages/2_Meetings.py").run()
    at.toggle(key="meetings_show_deleted").set_value(True).run()
    assert not at.exception
    shown = [t.value for t in at.text]
    assert any(line.startswith("Oops <b>review</b>: recorded ") for line in shown)  # as text
    click(at, "Restore")
    assert any("Restored **Oops <b>review</b>**." in unescape(s.value) for s in at.success)
    assert dashboard.get_record(meeting_id).title == "Oops <b>review</b>"
    assert list(at.dataframe[0].value["Title"]) == ["Oops <b>review</b>"]
    assert "Restore" not in [b.label for b in at.button]


def test_recently_deleted_needs_versioning_and_says_how(dashboard: MeetingStorage) -> None:
    at = app_test().run()
    at.switch_page("pages/2_Meetings.py").run()
    at.toggle(key="meetings_show_deleted").set_value(True).run()
    assert not at.exception
    message = unescape(at.error[0].value)
    assert "Versioning is off" in message and "bucket harden" in message
