"""The analysis commands: `analyze` (no storage), `process` with any format, `attach-transcript`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from meeting_storage import ConfigurationError, MeetingStorage, Settings
from meeting_storage.cli.main import main
from tests.conftest import SAMPLE_TRANSCRIPT, wav_bytes

FIXTURES = Path(__file__).parent / "fixtures"


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str], **kwargs: Any) -> Any:
    status = main([*argv, "--json"], **kwargs)
    output = json.loads(capsys.readouterr().out)
    return status, output


def test_analyze_needs_no_storage_settings(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(SAMPLE_TRANSCRIPT)
    # A separate process with no S3 settings at all (the autouse fixture cleared them).
    completed = subprocess.run(
        [sys.executable, "-m", "meeting_storage", "analyze", "--transcript", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["success"] is True
    assert answer["extraction_method"] == "rule_based" and answer["bedrock_used"] is False
    summary = answer["meeting_summary"]
    assert set(summary) >= {"summary", "action_items", "decisions"}
    assert all(
        set(item) == {"text", "owner", "due", "evidence"} for item in summary["action_items"]
    )
    assert {r["priority"] for r in answer["requirements"]} == {"MUST", "SHOULD", "COULD"}
    assert answer["transcript"]["format"] == "text"


def test_analyze_reads_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    for name, expected in [
        ("standup.vtt", "webvtt"),
        ("standup.srt", "srt"),
        ("aws-transcribe-output.json", "aws_transcribe"),
    ]:
        status, answer = run_json(capsys, ["analyze", "--transcript", str(FIXTURES / name)])
        assert status == 0 and answer["transcript"]["format"] == expected
        owners = [a["owner"] for a in answer["meeting_summary"]["action_items"]]
        assert owners in (["Tom"], ["Speaker 2"])


def test_analyze_errors_are_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "transcribe"}')
    status, answer = run_json(capsys, ["analyze", "--transcript", str(bad)])
    assert status == 1 and answer["error"]["code"] == "invalid_input"
    status, answer = run_json(capsys, ["analyze", "--transcript", str(tmp_path / "missing.txt")])
    assert status == 1 and "does not exist" in answer["error"]["message"]


def test_process_accepts_subtitles_and_stores_the_readable_form(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    status, answer = run_json(
        capsys,
        ["process", "--transcript", str(FIXTURES / "standup.vtt")],
        storage=moto_storage,
    )
    assert status == 0 and answer["status"] == "complete"
    meeting = moto_storage.get_meeting(answer["meeting_id"])
    assert meeting.transcription.splitlines()[0].startswith("[00:00:01] Priya Shah: Morning all.")
    assert meeting.record.duration_seconds == 16.0


def test_attach_transcript_completes_a_meeting_that_waits(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    waiting = moto_storage.process(None, audio_file=io.BytesIO(wav_bytes()))
    assert waiting.record.status == "awaiting_transcript"
    assert "TRANSCRIBER=none" in waiting.record.notes[0]
    status, answer = run_json(
        capsys,
        [
            "attach-transcript",
            waiting.record.meeting_id,
            "--transcript",
            str(FIXTURES / "aws-transcribe-output.json"),
        ],
        storage=moto_storage,
    )
    assert status == 0 and answer["status"] == "complete" and answer["notes"] == []
    record = moto_storage.get_record(waiting.record.meeting_id)
    assert record.action_items_count == 1 and record.notes == ()
    status, answer = run_json(
        capsys, ["attach-transcript", "meeting-doesnotexist", "--text", "hi"], storage=moto_storage
    )
    assert status == 1 and answer["error"]["code"] == "not_found"


def test_analysis_settings_are_validated_together() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_mapping(
            {
                "S3_BUCKET_NAME": "my-meetings",
                "TRANSCRIBER": "magic",
                "TRANSCRIBE_LANGUAGE": "english",
                "BEDROCK_REGION": "moon",
                "AWS_ENDPOINT_URL_TRANSCRIBE": "ftp://x",
            }
        )
    message = caught.value.message
    for name in (
        "TRANSCRIBER",
        "TRANSCRIBE_LANGUAGE",
        "BEDROCK_REGION",
        "AWS_ENDPOINT_URL_TRANSCRIBE",
    ):
        assert name in message
    settings = Settings.from_mapping(
        {
            "S3_BUCKET_NAME": "my-meetings",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
            "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:9000/",
            "BEDROCK_MODEL_ID": "amazon.nova-lite-v1:0",
        }
    )
    assert settings.transcriber == "auto" and settings.transcribe_language == "en-US"
    assert settings.transcribe_endpoint_url == "http://127.0.0.1:8333"
    assert settings.bedrock_endpoint_url == "http://127.0.0.1:9000"
    assert not settings.bucket_on_aws
    assert Settings.from_mapping({}, require_bucket=False).bucket == ""


def test_doctor_says_which_transcriber_and_extractor_run(moto_settings: Settings) -> None:
    from dataclasses import replace

    from meeting_storage.ops.doctor import _analysis_check

    check = _analysis_check(MeetingStorage(moto_settings))
    assert check.status == "ok" and "transcriber none: TRANSCRIBER=none" in check.message
    on_seaweed = replace(moto_settings, transcriber="aws", s3_endpoint_url="http://127.0.0.1:1")
    check = _analysis_check(MeetingStorage(on_seaweed))
    assert (
        check.status == "warn" and "only read recordings from an Amazon S3 bucket" in check.message
    )
