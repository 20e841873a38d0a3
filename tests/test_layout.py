"""The key scheme: hostile file names, meeting ids and audio keys (pure, no S3)."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from meeting_storage import InvalidInputError
from meeting_storage.core import layout
from meeting_storage.core.layout import (
    MAX_FILENAME_BYTES,
    MAX_FILENAME_LENGTH,
    MAX_MEETING_ID_LENGTH,
    filename_from_audio_key,
    is_audio_key,
    meeting_file_keys,
    meeting_id_from_key,
    new_audio_key,
    new_meeting_id,
    sanitize_filename,
    validate_audio_key,
    validate_meeting_id,
)

HEX32 = "0123456789abcdef" * 2


def assert_safe(result: str) -> None:
    """What every sanitised name promises, whatever it was made from."""
    assert result, "a sanitised name is never empty"
    assert "/" not in result and "\\" not in result
    assert ".." not in result
    assert not any(unicodedata.category(ch)[0] == "C" for ch in result), repr(result)
    assert len(result) <= MAX_FILENAME_LENGTH
    assert len(result.encode()) <= MAX_FILENAME_BYTES
    assert result == result.strip(), "no leading or trailing white space"
    assert not result.startswith("."), "never a hidden file"
    assert not result.endswith(".")
    assert result != "."
    # It can always be used as the file-name part of an audio key.
    assert is_audio_key(f"meetings/{HEX32}_{result}")


# ---------------------------------------------------------------- sanitize_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\x.m4a", "x.m4a"),
        ("C:\\Users\\a\\Team.m4a", "Team.m4a"),
        ("\\\\server\\share\\Board.wav", "Board.wav"),
        ("/absolute/path/to/Standup.mp3", "Standup.mp3"),
        ("a\x00b.m4a", "ab.m4a"),
        ("line\nbreak.m4a", "linebreak.m4a"),
        ("carriage\rreturn.wav", "carriagereturn.wav"),
        ("tab\there.wav", "tabhere.wav"),
        ("bell\x07del\x7fesc\x1b.ogg", "belldelesc.ogg"),
        ("\u202eevil\u200b.m4a", "evil.m4a"),  # right-to-left override, zero-width space
        ("....", "recording"),
        ("..", "recording"),
        (".", "recording"),
        ("", "recording"),
        ("   ", "recording"),
        ("/", "recording"),
        (".hidden", "hidden"),
        ('#?%*<>|".mp3', "________.mp3"),
        ("Meeting 10:30.m4a", "Meeting 10_30.m4a"),
        ("D:relative.m4a", "relative.m4a"),
        ("réunion été.m4a", "réunion été.m4a"),
        ("Besprechung Größe.flac", "Besprechung Größe.flac"),
        ("会议记录.m4a", "会议记录.m4a"),
        ("e\u0301te\u0301.m4a", "été.m4a"),  # decomposed accents are composed (NFC)
        ("a.tar.mp3", "a.tar.mp3"),
        ("Weekly   sync .WAV", "Weekly sync.wav"),
        ("a..b.mp3", "a.b.mp3"),
        ("notes.", "notes"),
        ("Sync v2.0 final", "Sync v2.0 final"),  # a dot inside a name is not an extension
        ("Dr. Smith interview.MP3", "Dr. Smith interview.mp3"),
        ("x.ééé", "x.ééé"),
    ],
)
def test_sanitize_filename_hostile_names(name: str, expected: str) -> None:
    result = sanitize_filename(name)
    assert result == expected
    assert_safe(result)
    assert sanitize_filename(result) == result  # sanitising twice changes nothing


@pytest.mark.parametrize(
    "name",
    [
        "x" * 1000 + ".m4a",
        "é" * 1000 + ".m4a",  # 2 bytes a character in UTF-8
        "😀" * 1000 + ".m4a",  # 4 bytes a character
        "../" * 400 + "y" * 1000 + ".wav",
    ],
)
def test_sanitize_filename_bounds_long_names_and_keeps_the_extension(name: str) -> None:
    result = sanitize_filename(name)
    assert_safe(result)
    expected_extension = name.rsplit(".", 1)[1]
    assert result.endswith("." + expected_extension)
    stem = result[: -len(expected_extension) - 1]
    assert stem and set(stem) == {name.rsplit("/", 1)[-1][0]}
    # The local copy is {32 hex}_{name}; file systems refuse names over 255 bytes.
    assert len(f"{HEX32}_{result}".encode()) <= 255


def test_sanitize_filename_refuses_non_text() -> None:
    for value in (None, b"a.wav", 3):
        with pytest.raises(InvalidInputError):
            sanitize_filename(value)  # type: ignore[arg-type]


def test_sanitize_filename_invariants_on_random_strings() -> None:
    rng = random.Random(20240611)
    alphabet = (
        "abcXYZ019 ._-/\\:*?\"<>|#%{}^~`[]'"
        + "".join(chr(code) for code in range(32))
        + "\x7f\x85\u00e9\u0301\u200b\u202e\u2028\u3000\ufeff\U0001f600."
    )
    for _ in range(3000):
        length = rng.randrange(0, 300)
        name = "".join(
            rng.choice(alphabet) if rng.random() < 0.8 else chr(rng.randrange(0x20, 0x2FFF))
            for _ in range(length)
        )
        result = sanitize_filename(name)
        assert_safe(result)
        assert sanitize_filename(result) == result, (name, result)


def test_file_extension() -> None:
    assert layout.file_extension("a.tar.MP3") == "mp3"
    assert layout.file_extension("noext") == ""


# ---------------------------------------------------------------- meeting ids


@pytest.mark.parametrize("meeting_id", ["meeting-abc123", "meeting-0", "meeting-" + "a" * 56])
def test_validate_meeting_id_accepts(meeting_id: str) -> None:
    assert validate_meeting_id(meeting_id) == meeting_id


@pytest.mark.parametrize(
    "meeting_id",
    [
        "meeting-ABC",
        "meeting-",
        "meeting-a/b",
        "../meeting-a",
        "meeting-a\n",
        "meeting-a ",
        " meeting-a",
        "meeting-a\x00",
        "meeting-a.b",
        "meeting-é",
        "Meeting-abc",
        "meeting_abc",
        "abc",
        "",
        "meeting-" + "a" * (MAX_MEETING_ID_LENGTH - len("meeting-") + 1),
        "meeting-" + "a" * 10_000,
    ],
)
def test_validate_meeting_id_rejects(meeting_id: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_meeting_id(meeting_id)
    assert "meeting id" in info.value.message
    assert len(info.value.message) < 300  # a huge id is not echoed whole


@pytest.mark.parametrize("value", [None, 123, b"meeting-abc", ["meeting-abc"], 1.5])
def test_validate_meeting_id_rejects_non_strings(value: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_meeting_id(value)  # type: ignore[arg-type]


def test_new_meeting_id_is_valid_and_unique() -> None:
    ids = {new_meeting_id() for _ in range(200)}
    assert len(ids) == 200
    for meeting_id in ids:
        assert re.fullmatch(r"^meeting-[0-9a-z]+$", meeting_id)
        assert validate_meeting_id(meeting_id) == meeting_id


# ---------------------------------------------------------------- keys


def test_audio_key_round_trip() -> None:
    key = new_audio_key("../../Board meeting.WAV")
    match = re.fullmatch(r"meetings/([0-9a-f]{32})_(.+)", key)
    assert match is not None
    assert match.group(2) == "Board meeting.wav"
    assert is_audio_key(key)
    assert validate_audio_key(key) == key
    assert filename_from_audio_key(key) == "Board meeting.wav"
    assert new_audio_key("Board meeting.WAV") != key  # a fresh uuid every time


def test_audio_keys_of_hostile_names_stay_in_meetings() -> None:
    for name in ["../../x.wav", "a/b/c.m4a", "..", "", "x\n../y.mp3"]:
        key = new_audio_key(name)
        assert key.startswith("meetings/") and key.count("/") == 1
        assert is_audio_key(key)
        assert filename_from_audio_key(key) == sanitize_filename(name)


@pytest.mark.parametrize(
    "key",
    [
        f"meetings/{HEX32}",
        f"meetings/{HEX32}_",
        f"meetings/{HEX32.upper()}_a.wav",
        f"meetings/{HEX32[:-1]}_a.wav",
        f"meetings/{HEX32}a_a.wav",
        f"meetings/{HEX32}-a.wav",
        f"Meetings/{HEX32}_a.wav",
        f"/meetings/{HEX32}_a.wav",
        f"meetings//{HEX32}_a.wav",
        f"meetings/{HEX32}_a/b.wav",
        f"meetings/{HEX32}_..",
        f"meetings/{HEX32}_a..wav",
        f"meetings/{HEX32}_a\\b.wav",
        f"meetings/{HEX32}_a.wav\n",
        f"meetings/{HEX32}_a\x00.wav",
        f"transcriptions/../meetings/{HEX32}_a.wav",
        f"transcriptions/meeting-abc/{HEX32}_a.wav",
        f"index/{HEX32}_a.wav",
        "",
    ],
)
def test_audio_key_lookalikes_are_rejected(key: str) -> None:
    assert not is_audio_key(key)
    with pytest.raises(InvalidInputError):
        validate_audio_key(key)


def test_non_string_audio_key_is_not_one() -> None:
    assert not is_audio_key(None)  # type: ignore[arg-type]
    assert not is_audio_key(42)  # type: ignore[arg-type]


def test_filename_from_audio_key_rejects_other_keys() -> None:
    with pytest.raises(InvalidInputError):
        filename_from_audio_key("transcriptions/meeting-abc/metadata.json")
    with pytest.raises(InvalidInputError):
        filename_from_audio_key(f"meetings/{HEX32}_a/b.wav")


def test_meeting_file_keys_and_ids_round_trip() -> None:
    meeting_id = new_meeting_id()
    keys = meeting_file_keys(meeting_id)
    assert keys == [
        f"transcriptions/{meeting_id}/transcription.txt",
        f"transcriptions/{meeting_id}/summary.json",
        f"transcriptions/{meeting_id}/requirements.json",
        f"transcriptions/{meeting_id}/metadata.json",
    ]
    assert keys[-1] == layout.metadata_key(meeting_id)  # metadata.json is written last
    assert layout.meeting_prefix(meeting_id) == f"transcriptions/{meeting_id}/"
    for key in keys:
        assert meeting_id_from_key(key) == meeting_id
        assert not is_audio_key(key)


def test_meeting_file_keys_refuse_bad_ids_and_names() -> None:
    with pytest.raises(InvalidInputError):
        meeting_file_keys("../meeting-a")
    with pytest.raises(InvalidInputError):
        layout.meeting_prefix("meeting-A")
    with pytest.raises(ValueError, match="unknown meeting file"):
        layout.meeting_file_key("meeting-abc", "../../index/meetings.json")


@pytest.mark.parametrize(
    "key",
    [
        "meetings/" + HEX32 + "_a.wav",
        "index/meetings.json",
        "transcriptions/",
        "transcriptions/meeting-ABC/metadata.json",
        "transcriptions/meeting-/metadata.json",
        "transcriptions/../meeting-abc/metadata.json",
        "transcriptions/notameeting/metadata.json",
        "transcriptions/meeting-a.b/metadata.json",
        "xtranscriptions/meeting-abc/metadata.json",
        "transcriptions/meeting-" + "a" * 100 + "/metadata.json",
        "",
    ],
)
def test_meeting_id_from_key_rejects_lookalikes(key: str) -> None:
    assert meeting_id_from_key(key) is None
