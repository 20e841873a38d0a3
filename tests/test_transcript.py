"""Transcript formats: detection, speakers and times kept, readable rendering that parses back."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from meeting_storage import InvalidInputError
from meeting_storage.analysis import Utterance, parse_transcript
from meeting_storage.analysis.transcript import (
    decode_transcript,
    detect_format,
    format_timestamp,
    parse_aws_transcribe,
    parse_timestamp,
)

FIXTURES = Path(__file__).parent / "fixtures"


def test_plain_text_keeps_the_authors_layout_and_finds_speakers() -> None:
    text = (
        "Alice: We ship on Monday.\n"
        "So the plan is: ship early.\n"
        "Note: remember the demo\n"
        "[00:01:02] Bob: Sounds good.\n"
        "Carol (00:01:10): I'll write the notes."
    )
    transcript = parse_transcript(text)
    assert transcript.format == "text"
    assert transcript.text == text
    assert [(u.speaker, u.text, u.start) for u in transcript.utterances] == [
        ("Alice", "We ship on Monday.", None),
        (None, "So the plan is: ship early.", None),
        (None, "Note: remember the demo", None),
        ("Bob", "Sounds good.", 62.0),
        ("Carol", "I'll write the notes.", 70.0),
    ]
    assert transcript.speakers == ["Alice", "Bob", "Carol"]


def test_otter_style_blocks_under_a_name_and_time_line() -> None:
    transcript = parse_transcript("Alice Smith  0:01\nHello there\nsecond line\n\nBob  1:05\nYes.")
    assert [(u.speaker, u.text, u.start) for u in transcript.utterances] == [
        ("Alice Smith", "Hello there second line", 1.0),
        ("Bob", "Yes.", 65.0),
    ]


def test_webvtt_voices_are_speakers_and_cues_of_one_speaker_join() -> None:
    transcript = parse_transcript((FIXTURES / "standup.vtt").read_text(), "standup.vtt")
    assert transcript.format == "webvtt"
    assert transcript.speakers == ["Priya Shah", "Tom"]
    first = transcript.utterances[0]
    assert first.start == 1.0 and first.end == 7.9
    assert "migration is basically done" in first.text
    assert transcript.text.splitlines()[1] == (
        "[00:00:08] Tom: Okay. I'll update the client library and, uh, publish it by Thursday."
    )


def test_srt_names_in_the_text_or_in_brackets_and_markup_removed() -> None:
    transcript = parse_transcript((FIXTURES / "standup.srt").read_text(), "standup.srt")
    assert transcript.format == "srt"
    assert [(u.speaker, u.text) for u in transcript.utterances] == [
        ("Priya", "Morning all. The API migration is done."),
        ("Tom", "I'll update the client library and publish it by Thursday."),
        ("Priya", "Great, thanks."),
    ]
    assert transcript.duration_seconds == 10.0


def test_aws_transcribe_output_becomes_speaker_turns() -> None:
    raw = (FIXTURES / "aws-transcribe-output.json").read_text()
    transcript = parse_transcript(raw, "output.json")
    assert transcript.format == "aws_transcribe"
    assert transcript.text.splitlines() == [
        "[00:00:00] Speaker 1: Okay, so we decided to launch the beta on Monday.",
        "[00:00:04] Speaker 2: Great. I'll send the release notes to marketing by Friday.",
        "[00:00:08] Speaker 1: The app must work offline.",
    ]


def test_aws_transcribe_output_with_labels_only_in_segments() -> None:
    document = json.loads((FIXTURES / "aws-transcribe-output.json").read_text())
    older = copy.deepcopy(document)
    for item in older["results"]["items"]:
        item.pop("speaker_label", None)
    assert [u.speaker for u in parse_aws_transcribe(older)] == [
        "Speaker 1",
        "Speaker 2",
        "Speaker 1",
    ]
    without_labels = copy.deepcopy(older)
    del without_labels["results"]["speaker_labels"]
    (single,) = parse_aws_transcribe(without_labels)
    assert single.speaker is None and single.text.endswith("must work offline.")


def test_rendered_transcript_parses_back_to_the_same_utterances() -> None:
    transcript = parse_transcript((FIXTURES / "standup.vtt").read_text())
    again = parse_transcript(transcript.text)
    assert [(u.speaker, u.text, u.start) for u in again.utterances] == [
        (u.speaker, u.text, float(int(u.start or 0))) for u in transcript.utterances
    ]


@pytest.mark.parametrize(
    ("text", "filename", "expected"),
    [
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nhi", None, "webvtt"),
        ("1\n00:00:01,000 --> 00:00:02,000\nhi", None, "srt"),
        ('{"results": {}}', None, "aws_transcribe"),
        ("00:00:01.000 --> 00:00:02.000\nhi", "talk.vtt", "webvtt"),
        ("Alice: hi", "notes.vtt", "text"),
        ("Alice: hi", None, "text"),
    ],
)
def test_format_detection(text: str, filename: str | None, expected: str) -> None:
    assert detect_format(text, filename) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"results": ', "cannot be read"),
        ('{"hello": "world"}', "not an AWS Transcribe output"),
        ("WEBVTT\n\nNOTE nothing here\n", "no spoken text"),
        ("   \n  ", "empty"),
    ],
)
def test_unreadable_transcripts_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        parse_transcript(text, "upload.json" if text.startswith("{") else None)


def test_decoding_refuses_non_utf8_and_binary() -> None:
    assert decode_transcript("\ufeffAlice: hi\r\n".encode()) == "Alice: hi"
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        decode_transcript("caf\xe9".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="NUL"):
        decode_transcript(b"abc\x00def")


def test_timestamps() -> None:
    assert parse_timestamp("1:02") == 62.0
    assert parse_timestamp("01:02:03,500") == 3723.5
    assert format_timestamp(3723.5) == "01:02:03"
    assert Utterance("hi", "Bob", 5.0).render(with_time=True) == "[00:00:05] Bob: hi"
