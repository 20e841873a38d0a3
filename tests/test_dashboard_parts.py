"""The dashboard's pure parts and the package pieces it added: upload checks and progress,
formatting and Markdown safety, the report, samples, durations, and the service's step
reporting, footprint and quick health check."""

from __future__ import annotations

import ast
import io
import re
import struct
import wave
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from meeting_storage import Meeting, MeetingRecord, MeetingStorage
from meeting_storage.analysis import Summary, requirements_from_json
from meeting_storage.core import layout
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.samples import SAMPLES, sample_audio, store_samples
from meeting_storage.render.report import escape_markdown, fenced, meeting_markdown
from meeting_storage.service.facade import PROCESS_STEPS
from meeting_storage.storage.media import duration_seconds
from tests.conftest import PROJECT_ROOT, SAMPLE_TRANSCRIPT, wav_bytes
from ui.formatting import (
    format_money,
    format_price,
    has_speakers,
    human_duration,
    human_size,
    speaker_turns,
)
from ui.upload import (
    ProcessProgress,
    ProgressReader,
    check_transcript,
    check_upload,
    effective_limit_mb,
    step_states,
)

START = datetime(2026, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ upload checks


def test_upload_checks_find_every_problem_before_storing() -> None:
    nothing = check_upload(
        recording_name=None,
        recording_size=None,
        transcript_name=None,
        transcript_bytes=None,
        pasted="  ",
        limit_mb=500,
    )
    assert nothing.problems == ["Choose a recording, a transcript, or both."]
    bad = check_upload(
        recording_name="notes.pdf",
        recording_size=501 * 1024 * 1024,
        transcript_name="t.txt",
        transcript_bytes=b"hello",
        pasted="also pasted",
        limit_mb=500,
    )
    assert len(bad.problems) == 3
    assert "not one of the accepted recordings" in bad.problems[0]
    assert "500 MB limit" in bad.problems[1]
    assert "not both" in bad.problems[2]


def test_transcripts_must_be_utf8_text() -> None:
    assert check_transcript("t.txt", b"Ann: hi there\r\n", "").transcript == "Ann: hi there"
    latin1 = check_transcript("t.txt", "café".encode("latin-1"), "")
    assert latin1.transcript is None and "not UTF-8" in latin1.problems[0]
    assert check_transcript(None, None, "", required=True).problems
    assert check_transcript(None, None, "") == check_transcript(None, None, "  ")
    assert check_transcript("t.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nHi", "").transcript


def test_limits_agree() -> None:
    assert effective_limit_mb(500, 500) == 500
    assert effective_limit_mb(1000, 500) == 500


def test_progress_steps_say_what_happened() -> None:
    progress = ProcessProgress(total_bytes=100)
    reader = ProgressReader(io.BytesIO(b"x" * 100), progress)
    progress.start_step("upload")
    assert reader.read(40) == b"x" * 40
    assert progress.fraction() == pytest.approx(0.32)
    reader.read()
    progress.start_step("saving")
    steps, read = progress.snapshot()
    assert read == 100 and steps == ["upload", "saving"]

    waiting = step_states(steps, has_recording=True, has_transcript=False, finished=True)
    assert [(label, state) for label, state, _ in waiting] == [
        ("Upload to S3", "done"),
        ("Transcription", "skipped"),
        ("Extraction", "skipped"),
        ("Saving", "done"),
    ]
    assert "no transcriber configured" in waiting[1][2]

    running = step_states(["extraction"], has_recording=False, has_transcript=True, finished=False)
    assert [state for _, state, _ in running] == ["skipped", "skipped", "running", "waiting"]
    assert "transcript provided" in running[1][2]
    assert set(PROCESS_STEPS) == {"upload", "transcription", "extraction", "saving"}


# ------------------------------------------------------------------ formatting and safety


def test_formatting() -> None:
    assert human_size(None) == "—"
    assert human_size(512) == "512 bytes"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * 1024**3) == "5.0 GiB"
    assert human_duration(None) == "—"
    assert human_duration(65.4) == "1:05"
    assert human_duration(3725) == "1:02:05"


def test_money_and_price_formats() -> None:
    assert format_money(Decimal("1234.567")) == "$1,234.57"
    assert format_money(Decimal("0.12")) == "$0.12"
    assert format_money(Decimal("0.0012345")) == "$0.001234"
    assert format_money(Decimal(0)) == "$0.00"
    assert format_money(Decimal("0.0000001")) == "under $0.000001"
    assert format_price(Decimal("0.023")) == "$0.023"
    assert format_price(Decimal("0.0004")) == "$0.0004"
    assert format_price(Decimal("1.25")) == "$1.25"


def test_speaker_turns() -> None:
    turns = speaker_turns(SAMPLE_TRANSCRIPT)
    assert turns[0].speaker == "Alice" and turns[0].text.startswith("Welcome")
    assert has_speakers(turns)
    plain = speaker_turns("just some notes\nwith no speakers: here")
    assert [t.speaker for t in plain] == ["", ""] and not has_speakers(plain)


MARKDOWN_ATTACKS = [
    "**bold** _it_ ~~gone~~",
    "[click](https://evil.example) ![img](https://evil.example/x.png)",
    "https://evil.example and www.evil.example and a@evil.example",
    "# Heading\n> quote\n- item\n1. first",
    "<script>alert(1)</script> <b>html</b> &amp;",
    ":red[colour] :material/home: :smile: $x^2$ `code`",
    "| a | b |\n|---|---|",
]


@pytest.mark.parametrize("text", MARKDOWN_ATTACKS)
def test_escaped_text_has_no_markdown_left(text: str) -> None:
    escaped = escape_markdown(text)
    # Every ASCII punctuation character is backslash-escaped, so nothing can start a
    # formatting, a link, an autolink, HTML, math, an emoji or a directive.
    unescaped = re.sub(r"\\[!-/:-@\[-`{-~]", "", escaped)
    assert not re.search(r"[!-/:-@\[-`{-~]", unescaped)
    assert "\n" not in escaped
    assert re.sub(r"\\(.)", r"\1", escaped) == " ".join(text.split())


def test_fenced_blocks_cannot_be_closed_from_inside() -> None:
    text = "before\n```\nnot code\n````\nafter"
    block = fenced(text)
    fence = block.split("text", 1)[0]
    assert fence == "`````" and block.endswith("\n`````")


def test_report_has_every_part_and_escapes_user_text() -> None:
    record = MeetingRecord(
        meeting_id="meeting-abc",
        timestamp=START,
        filename="x.wav",
        title="**Launch** [plan](http://evil.example)",
    )
    meeting = Meeting(
        record=record,
        transcription="Ann: we ship [today](http://x)\n```\nBob: ok",
        summary=Summary.from_json(
            {
                "summary": "We ship *today*.",
                "action_items": [{"text": "Send | notes", "owner": "Bob", "due": "Friday"}],
                "decisions": [{"text": "Ship it", "speaker": "Ann"}],
                "participants": ["Ann", "Bob"],
            }
        ),
        requirements=requirements_from_json([{"text": "It must work", "priority": "MUST"}]),
        audio_url=None,
    )
    report = meeting_markdown(meeting)
    assert report.startswith("# \\*\\*Launch\\*\\* \\[plan\\]\\(http\\:\\/\\/evil\\.example\\)\n")
    for heading in (
        "## Summary",
        "## Action items",
        "## Decisions",
        "## Requirements",
        "## Transcript",
    ):
        assert heading in report
    assert "| Send \\| notes | Bob | Friday |" in report
    assert "We ship \\*today\\*\\." in report
    assert "````text\nAnn: we ship [today](http://x)\n```\nBob: ok\n````" in report


# ------------------------------------------------------------------ samples and durations


def test_sample_audio_is_a_short_playable_wav() -> None:
    data = sample_audio(SAMPLES[0])
    with wave.open(io.BytesIO(data)) as clip:
        seconds = clip.getnframes() / clip.getframerate()
    assert 2 <= seconds <= 6 and len(data) < 100_000
    assert duration_seconds(data[:8192], "wav", len(data)) == pytest.approx(seconds)


def test_durations_from_headers() -> None:
    data = wav_bytes(1.5)
    assert duration_seconds(data[:8192], "wav", len(data)) == pytest.approx(1.5)
    # A recorder that never filled in the data size: the streamed size tells.
    unknown = data[:40] + struct.pack("<I", 0xFFFFFFFF) + data[44:]
    assert duration_seconds(unknown[:8192], "wav", len(unknown)) == pytest.approx(1.5)
    streaminfo = (
        b"fLaC"
        + bytes([0x00, 0x00, 0x00, 0x22])
        + bytes(10)
        + ((44100 << 44) | (2 << 41) | (15 << 36) | (44100 * 90)).to_bytes(8, "big")
        + bytes(16)
    )
    assert duration_seconds(streaminfo, "flac", 10**6) == pytest.approx(90.0)
    assert duration_seconds(b"ID3....", "mp3", 1000) is None
    assert duration_seconds(b"RIFF", "wav", 4) is None


def test_store_samples_stores_complete_meetings(moto_storage: MeetingStorage) -> None:
    results = store_samples(moto_storage)
    assert len(results) == len(SAMPLES) >= 3
    listed = moto_storage.list_meetings().meetings
    assert {r.title for r in listed} == {s.title for s in SAMPLES}
    for result in results:
        assert result.record.action_items_count >= 2
        assert result.summary.decisions
        assert result.record.duration_seconds and result.record.duration_seconds > 2
        assert "sample" in result.record.tags
    assert sum(r.record.requirements_count for r in results) >= 4


# ------------------------------------------------------------------ service additions


def test_process_reports_its_steps(moto_storage: MeetingStorage) -> None:
    steps: list[str] = []
    moto_storage.process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes()),
        audio_filename="a.wav",
        on_step=steps.append,
    )
    assert steps == ["upload", "extraction", "saving"]
    steps.clear()
    moto_storage.process(
        None, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav", on_step=steps.append
    )
    assert steps == ["upload", "saving"]
    steps.clear()
    moto_storage.process(SAMPLE_TRANSCRIPT, on_step=steps.append)
    assert steps == ["extraction", "saving"]


def test_count_and_quick_doctor(moto_storage: MeetingStorage) -> None:
    assert moto_storage.count_meetings() == 0
    moto_storage.process(
        SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), audio_filename="a.wav"
    )
    assert moto_storage.count_meetings() == 1
    footprint = moto_storage.footprint()
    # The meetings' objects: the footprint leaves out the audit trail's few small ones.
    objects = [
        info
        for info in moto_storage.audio.iter_objects("")
        if not info.key.startswith(layout.AUDIT_PREFIX)
    ]
    assert footprint.total_objects == len(objects)
    assert footprint.total_bytes == sum(i.size for i in objects)
    quick = {c.name for c in run_doctor(moto_storage, contents=False).checks}
    full = {c.name for c in run_doctor(moto_storage).checks}
    assert "index" in full and "index" not in quick and "bucket" in quick


# ------------------------------------------------------------------ import boundaries


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_dashboard_imports_streamlit_and_pages_never_touch_boto3() -> None:
    package = list((PROJECT_ROOT / "meeting_storage").rglob("*.py"))
    assert package and not [p for p in package if "streamlit" in _imports(p)]
    dashboard = [PROJECT_ROOT / "app.py", *sorted((PROJECT_ROOT / "pages").glob("*.py"))]
    assert len(dashboard) == 5
    for page in dashboard:
        assert not _imports(page) & {"boto3", "botocore", "s3transfer"}, page
    for path in (PROJECT_ROOT / "ui").glob("*.py"):
        assert not _imports(path) & {"boto3", "botocore", "s3transfer"}, path


def test_no_page_allows_html() -> None:
    for path in [
        PROJECT_ROOT / "app.py",
        *(PROJECT_ROOT / "pages").glob("*.py"),
        *(PROJECT_ROOT / "ui").glob("*.py"),
    ]:
        assert "unsafe_allow_html" not in path.read_text(), path


def test_duration_falls_back_to_the_transcript_when_the_header_does_not_say(
    moto_storage: MeetingStorage,
) -> None:
    vtt = "WEBVTT\n\n00:00:01.000 --> 00:01:30.000\n<v Ann>We ship on Friday.\n"
    result = moto_storage.process(vtt, transcript_filename="notes.vtt")
    assert result.record.duration_seconds == pytest.approx(90.0)
