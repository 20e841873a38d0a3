"""Upload page: the size limit, checks before storing, the streamed upload, steps and the link."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

import pytest

from meeting_storage import MeetingStorage, Settings
from meeting_storage.core import layout
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT
from tests.conftest import (
    PROJECT_ROOT,
    SAMPLE_TRANSCRIPT,
    STREAMLIT_CONFIG,
    app_test,
    unescape,
    use_dashboard_settings,
    wav_bytes,
)
from ui.upload import STATE_ICONS, ProgressReader

UPLOAD = "pages/1_Upload.py"


@pytest.fixture
def dashboard(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> MeetingStorage:
    """The dashboard on a fresh moto bucket, uploading through the server (the server-side
    path; the browser's direct upload is driven in tests/test_dashboard_browser.py)."""
    return use_dashboard_settings(replace(moto_settings, direct_uploads="false"), monkeypatch)


def open_upload() -> Any:
    at = app_test().run()
    at.switch_page(UPLOAD).run()
    assert not at.exception
    return at


def submit(at: Any) -> Any:
    at.form_submit_button[0].click().run()
    assert not at.exception
    return at


def bucket_keys(storage: MeetingStorage) -> set[str]:
    """Every key but the audit trail's (a refused upload is recorded there on purpose)."""
    return {
        info.key
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def test_the_upload_limit_agrees_everywhere_and_is_stated(dashboard: MeetingStorage) -> None:
    config = tomllib.loads(STREAMLIT_CONFIG.read_text())
    example = dict(
        line.split("=", 1)
        for line in (PROJECT_ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    package_default = Settings(bucket="any-bucket").max_upload_mb
    assert (
        config["server"]["maxUploadSize"] == package_default == int(example["MAX_UPLOAD_MB"]) == 500
    )
    at = open_upload()
    assert "up to **500 MB**" in at.caption[0].value
    recording = at.file_uploader[0]
    assert recording.proto.max_upload_size_mb == 500
    assert set(recording.allowed_type) >= {
        f".{e}" for e in ("m4a", "mp3", "wav", "ogg", "webm", "mp4", "flac")
    }
    assert not at.warning


def test_upload_with_transcript_stores_it_and_links_to_it(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = app_test().run()
    at.switch_page("pages/2_Meetings.py").run()
    assert "No meetings stored yet." in [i.value for i in at.info]  # now cached

    passed: list[IO[bytes]] = []
    real_upload = dashboard._upload_audio  # what processing a recording streams it through

    def spy(fileobj: IO[bytes], filename: str, **kwargs: Any) -> Any:
        passed.append(fileobj)
        return real_upload(fileobj, filename, **kwargs)

    monkeypatch.setattr(dashboard, "_upload_audio", spy)
    at.switch_page(UPLOAD).run()
    at.file_uploader[0].set_value(("Team sync.wav", wav_bytes(2.0), "audio/wav"))
    at.text_area[0].input(SAMPLE_TRANSCRIPT)
    at.text_input[0].input("Launch planning")
    submit(at)

    success = unescape(at.success[0].value)
    assert "Stored **Launch planning** and queued it: a worker analyses it" in success
    meeting = dashboard.list_meetings().meetings[0]
    assert meeting.title == "Launch planning" and meeting.duration_seconds == pytest.approx(2.0)
    assert meeting.status == "queued"  # the page returned before any analysis
    assert dashboard.run_job(meeting.meeting_id) == "complete"
    assert dashboard.get_record(meeting.meeting_id).action_items_count >= 2
    link = next(link for link in at.page_link if link.proto.label == "Open the meeting")
    assert link.proto.page == "Meeting"
    assert link.proto.query_string == f"id={meeting.meeting_id}"
    steps = next(m.value for m in at.markdown if "Upload to S3" in m.value)
    done = STATE_ICONS["done"]
    for step in ("Upload to S3", "Queued"):
        assert f"{done} **{step}**" in steps
    assert at.get("progress")[0].proto.value == 100

    # Streamed: the page handed Streamlit's uploaded file itself (wrapped only to count bytes)
    # to the service, and nothing was written to disk.
    assert isinstance(passed[0], ProgressReader)
    assert type(passed[0]._source).__name__ == "UploadedFile"
    # On disk there is only the local job queue (its SQLite file), no recording.
    local = dashboard.settings.local_data_dir
    written = {p.name for p in local.rglob("*") if p.is_file()} if local.exists() else set()
    assert written <= {"queue.sqlite3", "queue.sqlite3-wal", "queue.sqlite3-shm"}

    # The cached (empty) list was cleared by the upload.
    at.switch_page("pages/2_Meetings.py").run()
    assert "Launch planning" in list(at.dataframe[0].value["Title"])


def test_recording_without_transcript_waits_for_one(dashboard: MeetingStorage) -> None:
    at = open_upload()
    at.file_uploader[0].set_value(("standup.wav", wav_bytes(), "audio/wav"))
    submit(at)
    assert "a worker transcribes and analyses it" in unescape(at.success[0].value)
    (record,) = dashboard.list_meetings().meetings
    assert record.status == "queued"
    assert dashboard.run_job(record.meeting_id) == "complete"
    record = dashboard.get_record(record.meeting_id)
    assert record.status == STATUS_AWAITING_TRANSCRIPT
    assert any("attach-transcript" in note for note in record.notes)


def test_transcript_file_without_recording(dashboard: MeetingStorage) -> None:
    at = open_upload()
    at.file_uploader[1].set_value(("notes.txt", SAMPLE_TRANSCRIPT.encode(), "text/plain"))
    submit(at)
    assert at.success
    (record,) = dashboard.list_meetings().meetings
    dashboard.run_job(record.meeting_id)
    record = dashboard.get_record(record.meeting_id)
    assert record.audio_s3_key is None and record.action_items_count >= 2


@pytest.mark.parametrize(
    ("fill", "message"),
    [
        ({}, "Choose a recording, a transcript, or both."),
        (
            {"transcript": ("t.txt", b"Ann: hello there", "text/plain"), "pasted": "Ann: hi"},
            "not both",
        ),
        ({"transcript": ("t.txt", "café".encode("latin-1"), "text/plain")}, "is not UTF-8 text"),
        ({"transcript": ("t.txt", b"   \n ", "text/plain")}, "is empty"),
    ],
)
def test_problems_are_reported_before_anything_is_stored(
    dashboard: MeetingStorage, fill: dict[str, Any], message: str
) -> None:
    at = open_upload()
    if "transcript" in fill:
        at.file_uploader[1].set_value(fill["transcript"])
    if "pasted" in fill:
        at.text_area[0].input(fill["pasted"])
    submit(at)
    assert any(message in unescape(e.value) for e in at.error), [e.value for e in at.error]
    assert not at.success and not at.get("progress")
    assert bucket_keys(dashboard) == set()


def test_content_that_is_not_audio_is_refused_and_nothing_is_kept(
    dashboard: MeetingStorage,
) -> None:
    at = open_upload()
    at.file_uploader[0].set_value(("disguised.wav", b"%PDF-1.7 not audio" * 100, "audio/wav"))
    at.text_area[0].input(SAMPLE_TRANSCRIPT)
    submit(at)
    (error,) = [unescape(e.value) for e in at.error]
    assert error.startswith("**Unsupported file.**") and "looks like application/pdf" in error
    assert "Traceback" not in error and not at.exception
    steps = next(m.value for m in at.markdown if "Upload to S3" in m.value)
    assert f"{STATE_ICONS['failed']} **Upload to S3**" in steps
    assert at.get("progress")[0].proto.text == "Not stored"
    # Nothing of the meeting is kept; only the audit trail records the failed attempt.
    assert {key for key in bucket_keys(dashboard) if not key.startswith("audit/")} == set()
    (event,) = dashboard.audit_events()
    assert (event.action, event.outcome, event.via) == ("meeting.process", "failed", "dashboard")


def test_a_smaller_package_limit_wins_and_is_explained(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> None:
    storage = use_dashboard_settings(
        replace(moto_settings, max_upload_bytes=1024 * 1024, direct_uploads="false"), monkeypatch
    )
    at = open_upload()
    assert "up to **1 MB**" in at.caption[0].value
    assert "uploads are limited to the smaller, 1 MB" in at.warning[0].value
    assert at.file_uploader[0].proto.max_upload_size_mb == 1
    at.file_uploader[0].set_value(("long.wav", wav_bytes(70), "audio/wav"))  # about 1.1 MB
    submit(at)
    assert any("larger than the 1 MB limit" in unescape(e.value) for e in at.error)
    assert bucket_keys(storage) == set()


def test_local_copy_only_when_asked_for(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
    tmp_path: Path,
) -> None:
    storage = use_dashboard_settings(
        replace(moto_settings, skip_local_storage=False, direct_uploads="false"), monkeypatch
    )
    at = open_upload()
    assert "a copy is kept in" in at.caption[0].value
    at.file_uploader[0].set_value(("kept.wav", wav_bytes(), "audio/wav"))
    submit(at)
    (copy,) = storage.settings.uploads_dir.iterdir()
    assert copy.name.endswith("_kept.wav") and copy.read_bytes() == wav_bytes()


class FakeTranscriber:
    name = "fake"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def transcribe(self, audio: Any) -> Any:
        from meeting_storage.analysis import parse_transcript
        from meeting_storage.core.errors import BackendUnavailableError

        if self.fail:
            raise BackendUnavailableError("The transcription service timed out.")
        return parse_transcript(SAMPLE_TRANSCRIPT, None)


def test_a_configured_transcriber_is_a_real_step(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "transcriber", FakeTranscriber())
    at = open_upload()
    at.file_uploader[0].set_value(("standup.wav", wav_bytes(), "audio/wav"))
    submit(at)
    (record,) = dashboard.list_meetings().meetings
    assert record.status == "queued"
    assert dashboard.run_job(record.meeting_id) == "complete"
    record = dashboard.get_record(record.meeting_id)
    assert record.status == "complete" and record.transcribed_by == "fake"
    assert record.action_items_count >= 2


def test_a_failed_transcription_keeps_the_recording_and_says_why(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "transcriber", FakeTranscriber(fail=True))
    at = open_upload()
    at.file_uploader[0].set_value(("standup.wav", wav_bytes(), "audio/wav"))
    submit(at)
    (record,) = dashboard.list_meetings().meetings
    assert dashboard.run_job(record.meeting_id, final=True) == "failed"
    record = dashboard.get_record(record.meeting_id)
    assert record.status == "failed" and record.failed_step == "transcription"
    assert "timed out" in (record.failure_reason or "")
    assert dashboard.audio.head(record.audio_s3_key or "") is not None  # the recording is kept


def test_a_webvtt_transcript_is_parsed_and_shown_with_times(dashboard: MeetingStorage) -> None:
    vtt = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Carol>I will send the revised budget "
        "to finance by Friday.\n\n00:00:05.000 --> 00:00:09.000\n<v Bob>The remote control "
        "must work with every television sold in Europe.\n"
    )
    at = open_upload()
    at.file_uploader[1].set_value(("sync.vtt", vtt.encode(), "text/vtt"))
    submit(at)
    (record,) = dashboard.list_meetings().meetings
    dashboard.run_job(record.meeting_id)
    record = dashboard.get_record(record.meeting_id)
    assert record.action_items_count >= 1 and record.requirements_count >= 1
    at.query_params["id"] = record.meeting_id
    at.switch_page("pages/3_Meeting.py").run()
    assert not at.exception
    turns = next(d.value for d in at.dataframe if "Said" in d.value.columns)
    assert list(turns["Speaker"]) == ["Carol", "Bob"]
    assert list(turns["Time"]) == ["00:00:01", "00:00:05"]


def test_the_direct_page_sends_recordings_from_the_browser(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> None:
    storage = use_dashboard_settings(
        replace(moto_settings, max_upload_bytes=20 * 1024**3), monkeypatch
    )
    at = open_upload()
    caption = at.caption[0].value
    assert "straight to S3" in caption and f"up to **{5 * 1024} MB**" in caption
    assert len(at.file_uploader) == 1  # the transcript's; the recording's is the picker
    assert not at.form and not at.warning
    at.text_area[0].set_value(SAMPLE_TRANSCRIPT)
    at.text_input[0].set_value("Planning")
    at.button[0].click().run()  # store the transcript without a recording
    assert not at.exception
    assert "Stored **Planning**" in at.success[0].value
    (record,) = storage.list_meetings().meetings
    assert record.audio_s3_key is None and record.title == "Planning"


def test_an_endpoint_only_the_server_sees_gets_the_server_side_path(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> None:
    use_dashboard_settings(
        replace(moto_settings, s3_endpoint_url="http://seaweedfs:8333"), monkeypatch
    )
    at = open_upload()
    assert "only the dashboard server can resolve" in unescape(at.info[0].value)
    assert at.form and len(at.file_uploader) == 2
    assert "goes through the dashboard server" in at.caption[0].value
