"""The command-line contract of `python -m meeting_storage COMMAND`.

Most tests call `main([...], storage=...)` in-process on moto; the subprocess tests at the end
run the real module the way a user does, against no configuration, an unreachable endpoint and
a real SeaweedFS server.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from meeting_storage import MeetingStorage, Settings
from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.storage.embedded import EmbeddedS3, free_port
from tests.conftest import ACCESS_KEY, REGION, SAMPLE_TRANSCRIPT, SECRET_KEY, wav_bytes

REPO_ROOT = Path(__file__).resolve().parents[1]
AUDIO_KEY_RE = re.compile(r"^meetings/[0-9a-f]{32}_(?P<name>[^/]+)$")
MEETING_ID_RE = re.compile(r"^meeting-[0-9a-z]+$")
HOSTILE_TITLE = "\x1b[31mRed alert\x1b[0m \x1b]0;pwned\x07 review"
RECORD_FIELDS = {
    "meeting_id",
    "timestamp",
    "filename",
    "audio_s3_key",
    "action_items_count",
    "requirements_count",
    "title",
    "tags",
}


# ---------------------------------------------------------------- helpers


def run(
    capsys: pytest.CaptureFixture[str], storage: MeetingStorage, *args: str
) -> tuple[int, dict[str, Any]]:
    """Run the CLI with --json and return (exit status, the one JSON object it printed)."""
    status = main([*args, "--json"], storage=storage)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    data = json.loads(out)  # exactly one JSON document, nothing else on stdout
    assert isinstance(data, dict)
    assert_status_matches(status, data)
    return status, data


def assert_status_matches(status: int, data: dict[str, Any]) -> None:
    if "healthy" in data:  # doctor: a successful check run exits 1 when something failed
        assert data["success"] is True
        assert status == (0 if data["healthy"] else 1)
    elif "complete" in data:  # migrate: exits 1 when a file failed to import or verify
        assert data["success"] is True
        assert status == (0 if data["complete"] else 1)
    else:
        assert data["success"] is (status == 0)


def run_human(
    capsys: pytest.CaptureFixture[str], storage: MeetingStorage, *args: str
) -> tuple[int, str, str]:
    status = main(list(args), storage=storage)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def assert_error(result: tuple[int, dict[str, Any]], code: str, status: int = 1) -> str:
    exit_status, data = result
    assert exit_status == status, data
    assert data["success"] is False
    assert data["error"]["code"] == code, data
    message = data["error"]["message"]
    assert isinstance(message, str) and message.strip()
    return message


def keys_in(storage: MeetingStorage) -> set[str]:
    """Every key but the audit trail's (every attempt, failed ones too, is recorded there)."""
    return {
        info.key
        for info in storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    }


def listed_ids(storage: MeetingStorage) -> list[str]:
    return [r.meeting_id for r in storage.list_meetings(limit=1000).meetings]


def unknown_meeting_id() -> str:
    return layout.new_meeting_id()


# ---------------------------------------------------------------- upload


def test_upload_prints_the_key_and_stores_the_bytes(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    status, data = run(capsys, moto_storage, "upload", str(wav_file))
    assert status == 0
    key = data["audio_s3_key"]
    match = AUDIO_KEY_RE.fullmatch(key)
    assert match and match["name"] == "Team sync.wav"
    assert data["filename"] == "Team sync.wav"
    assert data["size"] == wav_file.stat().st_size
    assert data["content_type"] == "audio/wav"
    assert moto_storage.audio.get(key).data == wav_file.read_bytes()
    assert keys_in(moto_storage) == {key}


def test_upload_human_output_names_the_key(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    status, out, err = run_human(capsys, moto_storage, "upload", str(wav_file))
    assert status == 0 and err == ""
    (key,) = keys_in(moto_storage)
    assert key in out and str(wav_file.stat().st_size) in out


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Board review.wav", "Board review.wav"),
        ("../../secret/Board", "Board.wav"),  # path dropped, extension from the content
        ("minutes.mp3", "minutes.mp3.wav"),  # the content is WAV whatever the name says
    ],
)
def test_upload_filename_renames(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    wav_file: Path,
    given: str,
    stored: str,
) -> None:
    status, data = run(capsys, moto_storage, "upload", str(wav_file), "--filename", given)
    assert status == 0
    match = AUDIO_KEY_RE.fullmatch(data["audio_s3_key"])
    assert match and match["name"] == stored
    assert data["filename"] == stored
    assert keys_in(moto_storage) == {data["audio_s3_key"]}


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: d / "missing.wav", "invalid_input"),
        (lambda d: d, "invalid_input"),  # a folder
        (lambda d: _write(d / "empty.wav", b""), "invalid_input"),
        (lambda d: _write(d / "report.wav", b"%PDF-1.7\n" + bytes(200)), "unsupported_media_type"),
        (
            lambda d: _write(d / "notes.mp3", b"just text, not a recording\n" * 10),
            "unsupported_media_type",
        ),
        (lambda d: d / ("a" * 300 + ".wav"), "invalid_input"),  # too long for the file system
    ],
    ids=["missing", "folder", "empty", "pdf", "text", "name-too-long"],
)
def test_upload_bad_input_is_refused_and_stores_nothing(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    tmp_path: Path,
    make: Any,
    code: str,
) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    path = make(folder)
    assert_error(run(capsys, moto_storage, "upload", str(path)), code)
    assert keys_in(moto_storage) == set()


def test_upload_error_without_json_goes_to_stderr(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    status, out, err = run_human(capsys, moto_storage, "upload", str(tmp_path / "nope.wav"))
    assert status == 1
    assert out == ""
    assert err.startswith("error: ") and "nope.wav" in err and "does not exist" in err


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- process


def test_process_text_prints_the_meeting(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    status, data = run(
        capsys,
        moto_storage,
        "process",
        "--text",
        SAMPLE_TRANSCRIPT,
        "--title",
        "Launch planning",
        "--tag",
        "launch",
        "--tag",
        "budget",
    )
    assert status == 0
    meeting_id = data["meeting_id"]
    assert MEETING_ID_RE.fullmatch(meeting_id)
    summary = data["meeting_summary"]
    assert isinstance(summary, dict) and summary["summary"]
    assert len(summary["action_items"]) >= 2
    assert all({"text", "owner", "due"} <= set(item) for item in summary["action_items"])
    requirements = data["requirements"]
    assert isinstance(requirements, list) and len(requirements) >= 2
    assert {"MUST", "SHOULD"} <= {r["priority"] for r in requirements}
    assert data["audio_s3_key"] is None

    record = moto_storage.get_record(meeting_id)
    assert record.title == "Launch planning"
    assert record.tags == ("launch", "budget")
    assert record.filename == "transcript.txt"
    assert record.action_items_count == len(summary["action_items"])
    assert record.requirements_count == len(requirements)
    assert listed_ids(moto_storage) == [meeting_id]


def test_process_transcript_file_with_audio(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    wav_file: Path,
    tmp_path: Path,
) -> None:
    transcript = tmp_path / "sync.txt"
    # UTF-8 with a BOM and Windows line endings is still a valid transcript.
    transcript.write_bytes(b"\xef\xbb\xbf" + SAMPLE_TRANSCRIPT.replace("\n", "\r\n").encode())
    status, data = run(
        capsys, moto_storage, "process", "--transcript", str(transcript), "--audio", str(wav_file)
    )
    assert status == 0
    key = data["audio_s3_key"]
    match = AUDIO_KEY_RE.fullmatch(key or "")
    assert match and match["name"] == "Team sync.wav"
    assert moto_storage.audio.get(key).data == wav_file.read_bytes()
    meeting = moto_storage.get_meeting(data["meeting_id"])
    assert meeting.transcription == SAMPLE_TRANSCRIPT.strip()
    assert meeting.record.filename == "Team sync.wav"
    assert meeting.record.audio_size == wav_file.stat().st_size
    assert keys_in(moto_storage) == {
        key,
        *layout.meeting_file_keys(data["meeting_id"]),
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
        layout.AGGREGATES_KEY,
    }


def test_process_filename_overrides_the_meetings_name(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    status, data = run(
        capsys,
        moto_storage,
        "process",
        "--text",
        SAMPLE_TRANSCRIPT,
        "--audio",
        str(wav_file),
        "--filename",
        "Quarterly board meeting.wav",
    )
    assert status == 0
    assert moto_storage.get_record(data["meeting_id"]).filename == "Quarterly board meeting.wav"


def test_process_with_an_uploaded_key(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    _, uploaded = run(capsys, moto_storage, "upload", str(wav_file), "--filename", "Retro.wav")
    key = uploaded["audio_s3_key"]
    status, data = run(
        capsys, moto_storage, "process", "--text", SAMPLE_TRANSCRIPT, "--audio-s3-key", key
    )
    assert status == 0
    assert data["audio_s3_key"] == key
    record = moto_storage.get_record(data["meeting_id"])
    assert record.audio_s3_key == key and record.filename == "Retro.wav"
    assert record.audio_size == wav_file.stat().st_size


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("meetings/" + "0" * 32 + "_missing.wav", "not_found"),
        ("transcriptions/../meetings/x.wav", "invalid_input"),
        ("../../etc/passwd", "invalid_input"),
    ],
)
def test_process_with_a_bad_audio_key_stores_nothing(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, key: str, code: str
) -> None:
    result = run(
        capsys, moto_storage, "process", "--text", SAMPLE_TRANSCRIPT, "--audio-s3-key", key
    )
    assert_error(result, code)
    assert listed_ids(moto_storage) == []
    assert keys_in(moto_storage) <= {
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
        layout.AGGREGATES_KEY,
    }


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00bad latin1 \xe9",
        "Caf\xe9 au lait: we decided things.".encode("latin-1"),
        b"",
        b"  \n\r\n\t  \n",
        b"Alice: hello\x00\x00binary",
    ],
    ids=["utf16-bom-garbage", "latin1", "empty", "blank", "nul-bytes"],
)
def test_process_bad_transcript_file_is_invalid_input(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    tmp_path: Path,
    wav_file: Path,
    content: bytes,
) -> None:
    transcript = tmp_path / "bad.txt"
    transcript.write_bytes(content)
    message = assert_error(
        run(
            capsys,
            moto_storage,
            "process",
            "--transcript",
            str(transcript),
            "--audio",
            str(wav_file),
        ),
        "invalid_input",
    )
    assert "bad.txt" in message
    assert keys_in(moto_storage) == set()  # not even the audio was uploaded


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_process_empty_text_is_invalid_input(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, text: str
) -> None:
    message = assert_error(run(capsys, moto_storage, "process", "--text", text), "invalid_input")
    assert "empty" in message
    assert keys_in(moto_storage) == set()


def test_process_missing_transcript_file_is_invalid_input(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    result = run(capsys, moto_storage, "process", "--transcript", str(tmp_path / "none.txt"))
    assert "does not exist" in assert_error(result, "invalid_input")


def test_process_audio_that_is_not_audio_stores_nothing(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    pdf = _write(tmp_path / "slides.m4a", b"%PDF-1.7\n" + bytes(300))
    result = run(capsys, moto_storage, "process", "--text", SAMPLE_TRANSCRIPT, "--audio", str(pdf))
    assert_error(result, "unsupported_media_type")
    assert keys_in(moto_storage) == set()


def test_process_with_nothing_to_store_is_invalid_input(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    message = assert_error(run(capsys, moto_storage, "process"), "invalid_input")
    assert "--text" in message and "--audio" in message
    assert keys_in(moto_storage) == set()


def test_process_audio_without_a_transcript_is_stored_awaiting_one(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    status, data = run(capsys, moto_storage, "process", "--audio", str(wav_file))
    assert status == 0
    meeting_id = data["meeting_id"]
    record = moto_storage.get_record(meeting_id)
    assert record.status == "awaiting_transcript"
    assert record.audio_s3_key == data["audio_s3_key"]
    assert record.action_items_count == 0 and record.requirements_count == 0
    assert listed_ids(moto_storage) == [meeting_id]
    _, shown = run(capsys, moto_storage, "show", meeting_id)
    assert shown["meeting"]["transcription"] == ""
    assert "X-Amz-Signature=" in shown["meeting"]["audio_url"]


def test_text_and_transcript_together_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, tmp_path: Path
) -> None:
    transcript = _write(tmp_path / "t.txt", SAMPLE_TRANSCRIPT.encode())
    args = ["process", "--text", "Alice: hi there.", "--transcript", str(transcript)]
    message = assert_error(run(capsys, moto_storage, *args), "usage", status=2)
    assert "--text" in message and "--transcript" in message

    status, out, err = run_human(capsys, moto_storage, *args)
    assert status == 2
    assert out == ""
    assert "not allowed with" in err
    assert keys_in(moto_storage) == set()


@pytest.mark.parametrize(
    "args",
    [
        ["process", "--text", "x", "--audio", "a.wav", "--audio-s3-key", "meetings/x"],
        ["list", "--limit", "many"],
        ["show"],
        ["frobnicate"],
        [],
    ],
    ids=["two-audio-sources", "limit-not-a-number", "show-no-id", "unknown", "none"],
)
def test_usage_errors_exit_2_with_a_json_body(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, args: list[str]
) -> None:
    assert_error(run(capsys, moto_storage, *args), "usage", status=2)


# ---------------------------------------------------------------- list


def _store(storage: MeetingStorage, n: int, **kwargs: Any) -> list[str]:
    """Store n meetings a day apart (oldest first) and return their ids in that order."""
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    ids = []
    for i in range(n):
        result = storage.process(
            f"Alice: Item number {i} was discussed and we decided to continue.",
            recorded_at=start + timedelta(days=i),
            **kwargs,
        )
        ids.append(result.record.meeting_id)
    return ids


def test_list_is_newest_first_with_the_documented_fields(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    ids = _store(moto_storage, 3)
    status, data = run(capsys, moto_storage, "list")
    assert status == 0
    assert data["count"] == 3
    assert [m["meeting_id"] for m in data["meetings"]] == list(reversed(ids))
    for meeting in data["meetings"]:
        assert set(meeting) >= RECORD_FIELDS
        assert datetime.fromisoformat(meeting["timestamp"]).utcoffset() == timedelta(0)
        assert isinstance(meeting["action_items_count"], int)
        assert isinstance(meeting["requirements_count"], int)
        assert meeting["filename"] == "transcript.txt"
    timestamps = [datetime.fromisoformat(m["timestamp"]) for m in data["meetings"]]
    assert timestamps == sorted(timestamps, reverse=True)
    assert data["next_cursor"] is None


def test_list_empty(capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage) -> None:
    status, data = run(capsys, moto_storage, "list")
    assert status == 0 and data["meetings"] == [] and data["count"] == 0
    status, out, _ = run_human(capsys, moto_storage, "list")
    assert status == 0 and "No meetings stored yet" in out


def test_list_default_limit_is_50_and_the_cursor_continues(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    ids = _store(moto_storage, 52)
    newest_first = list(reversed(ids))
    status, first = run(capsys, moto_storage, "list")
    assert status == 0
    assert first["count"] == 50 == len(first["meetings"])
    assert [m["meeting_id"] for m in first["meetings"]] == newest_first[:50]
    assert first["next_cursor"]
    status, second = run(capsys, moto_storage, "list", "--cursor", first["next_cursor"])
    assert status == 0
    assert [m["meeting_id"] for m in second["meetings"]] == newest_first[50:]
    assert second["count"] == 2 and second["next_cursor"] is None


def test_list_limit_and_search(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    planning = _store(moto_storage, 2, title="Sprint planning")
    retro = _store(moto_storage, 1, title="Team Retro", tags=["process"])
    status, data = run(capsys, moto_storage, "list", "--limit", "2")
    assert status == 0 and data["count"] == 2
    assert {m["meeting_id"] for m in data["meetings"]} <= set(planning + retro)
    status, found = run(capsys, moto_storage, "list", "--search", "retro")
    assert status == 0
    assert [m["meeting_id"] for m in found["meetings"]] == retro
    status, found = run(capsys, moto_storage, "list", "--search", "SPRINT planning")
    assert sorted(m["meeting_id"] for m in found["meetings"]) == sorted(planning)
    status, found = run(capsys, moto_storage, "list", "--search", "nothing-like-this")
    assert status == 0 and found["count"] == 0 and found["meetings"] == []


@pytest.mark.parametrize(
    "args",
    [["--limit", "0"], ["--limit", "-3"], ["--limit", "1001"], ["--cursor", "not-a-cursor"]],
)
def test_list_bad_paging_is_invalid_input(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, args: list[str]
) -> None:
    _store(moto_storage, 1)
    assert_error(run(capsys, moto_storage, "list", *args), "invalid_input")


# ---------------------------------------------------------------- show


def test_show_returns_the_whole_meeting(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    _, stored = run(
        capsys,
        moto_storage,
        "process",
        "--text",
        SAMPLE_TRANSCRIPT,
        "--audio",
        str(wav_file),
        "--title",
        "Launch",
    )
    meeting_id = stored["meeting_id"]
    status, data = run(capsys, moto_storage, "show", meeting_id)
    assert status == 0
    meeting = data["meeting"]
    assert {
        "meeting_id",
        "transcription",
        "summary",
        "requirements",
        "metadata",
        "audio_url",
    } <= set(meeting)
    assert meeting["meeting_id"] == meeting_id
    assert meeting["transcription"] == SAMPLE_TRANSCRIPT.strip()
    assert meeting["summary"] == stored["meeting_summary"]
    assert meeting["requirements"] == stored["requirements"]
    assert meeting["metadata"]["meeting_id"] == meeting_id
    assert meeting["metadata"]["title"] == "Launch"
    assert meeting["metadata"]["audio_s3_key"] == stored["audio_s3_key"]
    url = meeting["audio_url"]
    assert isinstance(url, str) and "X-Amz-Signature=" in url
    assert stored["audio_s3_key"].split("/", 1)[1].split("_", 1)[0] in url
    assert "X-Amz-Expires=3600" in url

    status, data = run(capsys, moto_storage, "show", meeting_id, "--expires-in", "120")
    assert status == 0 and "X-Amz-Expires=120" in data["meeting"]["audio_url"]
    result = run(capsys, moto_storage, "show", meeting_id, "--expires-in", "0")
    assert_error(result, "invalid_input")


def test_show_transcript_only_meeting_has_no_audio_url(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    (meeting_id,) = _store(moto_storage, 1)
    status, data = run(capsys, moto_storage, "show", meeting_id)
    assert status == 0
    assert data["meeting"]["audio_url"] is None
    assert "no audio" in data["meeting"]["audio_unavailable_reason"]


def test_show_unknown_id_is_not_found(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    _store(moto_storage, 1)
    missing = unknown_meeting_id()
    message = assert_error(run(capsys, moto_storage, "show", missing), "not_found")
    assert missing in message


@pytest.mark.parametrize(
    "bad_id",
    [
        "../etc/passwd",
        "meeting-ABC",
        "meeting-1/../x",
        "meeting-",
        "meeting-abc/",
        "transcriptions/meeting-abc",
        "meeting-" + "a" * 100,
        "meeting-abc\n",
        "meeting-abc\x1b[2J",
        "",
    ],
)
def test_show_and_delete_refuse_malformed_ids(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, bad_id: str
) -> None:
    (kept,) = _store(moto_storage, 1)
    before = keys_in(moto_storage)
    assert_error(run(capsys, moto_storage, "show", bad_id), "invalid_input")
    assert_error(run(capsys, moto_storage, "delete", bad_id, "--yes"), "invalid_input")
    status, out, err = run_human(capsys, moto_storage, "show", bad_id)
    assert status == 1 and out == ""
    assert err.startswith("error: ") and "is not a meeting id" in err
    assert "\x1b" not in err  # the id is shown escaped, not replayed to the terminal
    assert keys_in(moto_storage) == before
    assert listed_ids(moto_storage) == [kept]


# ---------------------------------------------------------------- delete


def test_delete_yes_removes_everything(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    (other,) = _store(moto_storage, 1)
    _, stored = run(
        capsys, moto_storage, "process", "--text", SAMPLE_TRANSCRIPT, "--audio", str(wav_file)
    )
    meeting_id = stored["meeting_id"]
    status, data = run(capsys, moto_storage, "delete", meeting_id, "--yes")
    assert status == 0
    assert data["meeting_id"] == meeting_id
    assert set(data["deleted"]) == {stored["audio_s3_key"], *layout.meeting_file_keys(meeting_id)}
    assert len(data["deleted"]) == len(set(data["deleted"]))
    _, listing = run(capsys, moto_storage, "list")
    assert [m["meeting_id"] for m in listing["meetings"]] == [other]
    assert_error(run(capsys, moto_storage, "show", meeting_id), "not_found")
    assert keys_in(moto_storage) == {
        *layout.meeting_file_keys(other),
        layout.INDEX_KEY,
        layout.SEARCH_INDEX_KEY,
        layout.AGGREGATES_KEY,
    }
    # Deleting again says so instead of pretending.
    assert_error(run(capsys, moto_storage, "delete", meeting_id, "--yes"), "not_found")


def test_delete_unknown_id_is_not_found(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    (kept,) = _store(moto_storage, 1)
    assert_error(run(capsys, moto_storage, "delete", unknown_meeting_id(), "--yes"), "not_found")
    assert listed_ids(moto_storage) == [kept]


def test_delete_without_yes_refuses_when_stdin_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (meeting_id,) = _store(moto_storage, 1)
    before = keys_in(moto_storage)

    def no_prompt(prompt: str = "") -> str:
        raise AssertionError("must not prompt when stdin is not a terminal")

    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    monkeypatch.setattr(builtins, "input", no_prompt)
    message = assert_error(run(capsys, moto_storage, "delete", meeting_id), "invalid_input")
    assert "--yes" in message
    assert keys_in(moto_storage) == before
    assert listed_ids(moto_storage) == [meeting_id]


@pytest.mark.parametrize("answer", ["no", "y", "yes", "", "meeting-", "MEETING"])
def test_delete_on_a_terminal_refuses_a_wrong_confirmation(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
) -> None:
    (meeting_id,) = _store(moto_storage, 1, title=HOSTILE_TITLE)
    before = keys_in(moto_storage)
    prompts: list[str] = []

    def fake_input(prompt: str = "") -> str:
        prompts.append(prompt)
        return answer

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", fake_input)
    message = assert_error(run(capsys, moto_storage, "delete", meeting_id), "invalid_input")
    assert "Not deleted" in message
    assert len(prompts) == 1 and meeting_id in prompts[0]
    assert "\x1b" not in prompts[0] and "\x07" not in prompts[0]
    assert keys_in(moto_storage) == before
    assert listed_ids(moto_storage) == [meeting_id]


def test_delete_on_a_terminal_with_ctrl_d_refuses(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (meeting_id,) = _store(moto_storage, 1)
    before = keys_in(moto_storage)

    def end_of_input(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", end_of_input)
    assert_error(run(capsys, moto_storage, "delete", meeting_id), "invalid_input")
    assert keys_in(moto_storage) == before


def test_delete_on_a_terminal_with_the_right_id_deletes(
    capsys: pytest.CaptureFixture[str],
    moto_storage: MeetingStorage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept, gone = _store(moto_storage, 2)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", lambda prompt="": f"  {gone}\n")
    status, data = run(capsys, moto_storage, "delete", gone)
    assert status == 0
    assert data["meeting_id"] == gone
    assert set(data["deleted"]) == set(layout.meeting_file_keys(gone))
    assert listed_ids(moto_storage) == [kept]


# ---------------------------------------------------------------- reindex and doctor


def test_reindex_rebuilds_a_deleted_index(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    ids = _store(moto_storage, 3)
    client = boto3.client("s3", region_name=REGION)
    client.delete_object(Bucket=moto_storage.settings.bucket, Key=layout.INDEX_KEY)
    _, before = run(capsys, moto_storage, "list")
    assert before["count"] == 0  # the listing comes from the index, which is gone

    status, data = run(capsys, moto_storage, "reindex")
    assert status == 0 and data["indexed"] == 3
    _, after = run(capsys, moto_storage, "list")
    assert [m["meeting_id"] for m in after["meetings"]] == list(reversed(ids))
    status, out, _ = run_human(capsys, moto_storage, "reindex")
    assert status == 0 and "Indexed 3 of 3 meeting(s)" in out


def test_list_on_a_damaged_index_says_to_reindex(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    _store(moto_storage, 1)
    moto_storage.documents.put(layout.INDEX_KEY, b"{not json", "application/json")
    message = assert_error(run(capsys, moto_storage, "list"), "invalid_input")
    assert "reindex" in message


def test_doctor_reports_checks(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    _store(moto_storage, 2)
    status, data = run(capsys, moto_storage, "doctor")
    assert status == 0
    assert data["healthy"] is True
    checks = data["checks"]
    assert checks and all(set(c) == {"name", "status", "message", "fix"} for c in checks)
    assert all(c["status"] in {"ok", "warn", "fail"} for c in checks)
    by_name = {c["name"]: c for c in checks}
    assert {"configuration", "bucket", "index", "leftovers", "orphan audio"} <= set(by_name)
    assert by_name["bucket"]["status"] == "ok"
    assert by_name["index"]["status"] == "ok" and "2 meetings" in by_name["index"]["message"]
    assert moto_storage.settings.bucket in by_name["configuration"]["message"]


def test_doctor_fails_and_exits_1_when_the_index_lists_a_missing_meeting(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    kept, broken = _store(moto_storage, 2)
    moto_storage.audio.delete([layout.metadata_key(broken)])
    status, data = run(capsys, moto_storage, "doctor")
    assert status == 1
    assert data["success"] is True and data["healthy"] is False
    (index_check,) = [c for c in data["checks"] if c["name"] == "index"]
    assert index_check["status"] == "fail"
    assert broken in index_check["message"] and kept not in index_check["message"]
    assert "reindex" in index_check["fix"]

    status, out, _ = run_human(capsys, moto_storage, "doctor")
    assert status == 1
    assert "[FAIL] index:" in out and "fix: run `python -m meeting_storage doctor --fix`" in out


# ---------------------------------------------------------------- human output


def test_human_output_is_readable_and_escapes_hostile_titles(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage, wav_file: Path
) -> None:
    hostile_text = (
        "Alice: We decided \x1b[2J to wipe the screen.\nBob: I will send the notes by Friday."
    )
    _, stored = run(
        capsys,
        moto_storage,
        "process",
        "--text",
        hostile_text,
        "--audio",
        str(wav_file),
        "--title",
        HOSTILE_TITLE,
    )
    meeting_id = stored["meeting_id"]
    assert moto_storage.get_record(meeting_id).title == HOSTILE_TITLE  # stored as given

    status, out, err = run_human(capsys, moto_storage, "list")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert "MEETING ID" in lines[0] and "TITLE / FILE" in lines[0]
    assert meeting_id in lines[1] and "Red alert" in lines[1]
    assert "\x1b" not in out and "\x07" not in out

    status, out, err = run_human(capsys, moto_storage, "show", meeting_id)
    assert status == 0 and err == ""
    assert out.startswith(meeting_id)
    assert "Red alert" in out and "Summary:" in out
    assert "Audio: http" in out and "X-Amz-Signature=" in out
    assert "action (Bob) due Friday" in out
    assert "\x1b" not in out and "\x07" not in out

    status, out, err = run_human(capsys, moto_storage, "doctor")
    assert status == 0 and err == ""
    assert "[ok  ] bucket:" in out and "[ok  ] index:" in out
    assert "\x1b" not in out

    status, out, _ = run_human(capsys, moto_storage, "list", "--limit", "1")
    assert "More: --cursor" not in out  # only one meeting, so no next page

    # --json output carries the title exactly, escaped as JSON.
    status = main(["list", "--json"], storage=moto_storage)
    raw = capsys.readouterr().out
    assert "\x1b" not in raw
    assert json.loads(raw)["meetings"][0]["title"] == HOSTILE_TITLE


def test_human_list_shows_the_next_cursor(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    ids = _store(moto_storage, 3)
    status, out, _ = run_human(capsys, moto_storage, "list", "--limit", "2")
    assert status == 0
    assert ids[2] in out and ids[1] in out and ids[0] not in out
    (more,) = [line for line in out.splitlines() if line.startswith("More: --cursor ")]
    cursor = more.removeprefix("More: --cursor ")
    status, data = run(capsys, moto_storage, "list", "--limit", "2", "--cursor", cursor)
    assert [m["meeting_id"] for m in data["meetings"]] == [ids[0]]


# ---------------------------------------------------------------- subprocess


def cli_env(**variables: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_ENDPOINT", "S3_"))
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["AWS_REGION"] = REGION
    env.update(variables)
    return env


def run_module(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "meeting_storage", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in completed.stdout + completed.stderr, completed.stderr
    return completed


def run_module_json(
    env: dict[str, str], cwd: Path, *args: str
) -> tuple[int, dict[str, Any], subprocess.CompletedProcess[str]]:
    completed = run_module(env, cwd, *args)
    data = json.loads(completed.stdout)
    assert_status_matches(completed.returncode, data)
    return completed.returncode, data, completed


def seaweed_env(seaweedfs: EmbeddedS3, settings: Settings, **variables: str) -> dict[str, str]:
    values = {
        "S3_BUCKET_NAME": settings.bucket,
        "AWS_ENDPOINT_URL": seaweedfs.endpoint_url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    return cli_env(**{**values, **variables})


def test_subprocess_without_a_bucket_says_what_to_set(tmp_path: Path) -> None:
    env = cli_env()
    assert "S3_BUCKET_NAME" not in env
    completed = run_module(env, tmp_path, "list")
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "S3_BUCKET_NAME not configured" in completed.stderr

    code, data, _ = run_module_json(env, tmp_path, "list", "--json")
    assert code == 1 and data["error"]["code"] == "configuration"
    assert "S3_BUCKET_NAME not configured" in data["error"]["message"]


@pytest.mark.parametrize("args", [["--json", "list"], ["list", "--json"]])
def test_subprocess_unreachable_endpoint_is_backend_unavailable(
    tmp_path: Path, args: list[str]
) -> None:
    port = free_port()  # bound and released: nothing listens on it
    env = cli_env(
        S3_BUCKET_NAME="meetings-unreachable",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    code, data, _ = run_module_json(env, tmp_path, *args)
    assert code == 1
    assert data["error"]["code"] == "backend_unavailable"
    assert f"127.0.0.1:{port}" in data["error"]["message"]


@pytest.mark.seaweedfs
def test_subprocess_new_user_journey_on_seaweedfs(
    seaweedfs: EmbeddedS3, seaweed_settings: Settings, tmp_path: Path
) -> None:
    env = seaweed_env(seaweedfs, seaweed_settings)
    audio = wav_bytes(seconds=1.0)
    (tmp_path / "Design review.wav").write_bytes(audio)
    (tmp_path / "design-review.txt").write_text(SAMPLE_TRANSCRIPT, encoding="utf-8")

    code, doctor, _ = run_module_json(env, tmp_path, "doctor", "--json")
    by_name = {c["name"]: c for c in doctor["checks"]}
    assert by_name["bucket"]["status"] == "ok"
    assert code == (0 if doctor["healthy"] else 1)

    code, empty, _ = run_module_json(env, tmp_path, "list", "--json")
    assert code == 0 and empty["count"] == 0

    code, stored, _ = run_module_json(
        env,
        tmp_path,
        "process",
        "--transcript",
        "design-review.txt",
        "--audio",
        "Design review.wav",
        "--title",
        "Design review",
        "--tag",
        "design",
        "--json",
    )
    assert code == 0
    meeting_id = stored["meeting_id"]
    assert MEETING_ID_RE.fullmatch(meeting_id)
    assert AUDIO_KEY_RE.fullmatch(stored["audio_s3_key"])
    assert stored["meeting_summary"]["summary"]

    code, listing, _ = run_module_json(env, tmp_path, "--json", "list")
    assert code == 0 and listing["count"] == 1
    (listed,) = listing["meetings"]
    assert listed["meeting_id"] == meeting_id
    assert listed["title"] == "Design review" and listed["tags"] == ["design"]
    assert listed["filename"] == "Design review.wav"

    code, shown, _ = run_module_json(env, tmp_path, "show", meeting_id, "--json")
    assert code == 0
    meeting = shown["meeting"]
    assert meeting["transcription"] == SAMPLE_TRANSCRIPT.strip()
    assert meeting["summary"] == stored["meeting_summary"]
    response = requests.get(meeting["audio_url"], timeout=30)
    assert response.status_code == 200
    assert response.content == audio
    assert response.headers["Content-Type"] == "audio/wav"

    human = run_module(env, tmp_path, "list")
    assert human.returncode == 0 and meeting_id in human.stdout

    code, deleted, _ = run_module_json(env, tmp_path, "delete", meeting_id, "--yes", "--json")
    assert code == 0
    assert set(deleted["deleted"]) == {
        stored["audio_s3_key"],
        *layout.meeting_file_keys(meeting_id),
    }
    code, after, _ = run_module_json(env, tmp_path, "list", "--json")
    assert code == 0 and after["count"] == 0 and after["meetings"] == []
    assert requests.get(meeting["audio_url"], timeout=30).status_code == 404
    code, gone, _ = run_module_json(env, tmp_path, "show", meeting_id, "--json")
    assert code == 1 and gone["error"]["code"] == "not_found"


@pytest.mark.seaweedfs
@pytest.mark.parametrize(
    "args", [["--json", "list"], ["doctor", "--json"], ["process", "--text", "Hi.", "--json"]]
)
def test_subprocess_wrong_secret_key_is_access_denied(
    seaweedfs: EmbeddedS3, seaweed_settings: Settings, tmp_path: Path, args: list[str]
) -> None:
    env = seaweed_env(seaweedfs, seaweed_settings, AWS_SECRET_ACCESS_KEY="not-the-secret-key")
    completed = run_module(env, tmp_path, *args)
    assert completed.returncode == 1
    data = json.loads(completed.stdout)
    if args[0] == "doctor":  # doctor reports the failure as a check
        (bucket,) = [c for c in data["checks"] if c["name"] == "bucket"]
        assert data["healthy"] is False and bucket["status"] == "fail"
        assert "Access Denied" in bucket["message"]
        return
    assert data["success"] is False
    assert data["error"]["code"] == "access_denied"
    assert "Access Denied" in data["error"]["message"]
