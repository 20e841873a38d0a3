"""Transcripts as they arrive, turned into utterances: plain text, WebVTT, SRT, AWS Transcribe JSON.

Everything here is a pure function of the text. `parse_transcript` detects the format from
the file name and the content, keeps speaker names and timestamps where the format has
them, and `Transcript.text` renders the readable "Speaker: text" form stored in
transcription.txt (with a "[hh:mm:ss]" prefix when times are known). That rendering parses
back to the same utterances, so a stored transcript can be analysed again.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from meeting_storage.core.errors import InvalidInputError

MAX_TRANSCRIPT_BYTES = 20 * 1024 * 1024
FORMATS = ("text", "webvtt", "srt", "aws_transcribe")
# Labels that look like "Name:" but introduce notes rather than a speaker.
_NOT_SPEAKERS = frozenset(
    {
        "action", "actions", "action item", "action items", "todo", "to do", "to-do",
        "decision", "decisions", "note", "notes", "agenda", "summary", "minutes",
        "next steps", "follow up", "follow-up", "owner", "due", "due date", "attendees",
        "participants", "requirement", "requirements", "question", "questions", "answer",
        "topic", "subject", "re", "fyi", "warning", "important", "nb", "ps", "update",
        "status", "result", "results", "outcome", "outcomes", "goal", "goals", "http", "https",
    }
)  # fmt: skip
_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TEXT_LINE = re.compile(
    rf"""^\s*
    (?:[\[(]?(?P<time>{_TIME})[\])]?\s*(?:-\s*)?)?        # [00:01:02] or 00:01:02 or (1:02)
    (?:(?P<speaker>[A-Za-z\u00c0-\u024f][\w .'\u00c0-\u024f-]{{0,39}}?)
       \s*(?:[\[(](?P<time2>{_TIME})[\])])?\s*:\s+)?     # Alice: or Alice (00:01:02):
    (?P<body>.*)$""",
    re.VERBOSE,
)
# Otter/Zoom style: a line with only "Name  0:01" (or "Name 00:01:02"), the words on the next lines.
_HEADER_LINE = re.compile(
    rf"^\s*(?P<speaker>[A-Za-z\u00c0-\u024f][\w .'\u00c0-\u024f-]{{0,39}}?)\s+(?P<time>{_TIME})\s*$"
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_CUE_TIMING = re.compile(
    rf"^\s*(?P<start>{_TIME})\s*-->\s*(?P<end>{_TIME})(?:\s+.*)?$",
)
_VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d{1,2}:\d{2}(?::\d{2})?[.,]\d{3}>")
_SRT_SPEAKER = re.compile(r"^\s*(?:\[(?P<a>[^\]]{1,40})\]|(?P<b>[A-Z][\w .'-]{0,39}?)\s*:)\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
MAX_CUE_MERGE_SECONDS = 30.0


@dataclass(frozen=True)
class Utterance:
    """What one speaker said in one go; times in seconds from the start when known."""

    text: str
    speaker: str | None = None
    start: float | None = None
    end: float | None = None

    def render(self, *, with_time: bool) -> str:
        prefix = (
            f"[{format_timestamp(self.start)}] " if with_time and self.start is not None else ""
        )
        speaker = f"{self.speaker}: " if self.speaker else ""
        return f"{prefix}{speaker}{self.text}"


@dataclass(frozen=True)
class Transcript:
    utterances: tuple[Utterance, ...]
    format: str = "text"
    original: str | None = None  # plain text keeps the author's own layout

    @property
    def text(self) -> str:
        """The readable form stored in transcription.txt."""
        if self.original is not None:
            return self.original
        with_time = any(u.start is not None for u in self.utterances)
        return "\n".join(u.render(with_time=with_time) for u in self.utterances)

    @property
    def speakers(self) -> list[str]:
        """Speakers in order of first appearance."""
        seen: dict[str, None] = {}
        for utterance in self.utterances:
            if utterance.speaker:
                seen.setdefault(utterance.speaker, None)
        return list(seen)

    @property
    def duration_seconds(self) -> float | None:
        ends = [u.end if u.end is not None else u.start for u in self.utterances]
        known = [t for t in ends if t is not None]
        return max(known) if known else None

    @property
    def word_count(self) -> int:
        return sum(len(u.text.split()) for u in self.utterances)


def format_timestamp(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def parse_timestamp(value: str) -> float:
    """Seconds in "1:02", "01:02:03", "00:01:02.500" or "00:01:02,500"."""
    value = value.replace(",", ".")
    parts = value.split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2]) if len(parts) >= 2 else 0
    hours = int(parts[-3]) if len(parts) >= 3 else 0
    return hours * 3600 + minutes * 60 + seconds


# ---------------------------------------------------------------------- decoding


def decode_transcript(data: bytes, source: str = "transcript") -> str:
    """Decode UTF-8 (with or without BOM); refuse other encodings instead of guessing."""
    if len(data) > MAX_TRANSCRIPT_BYTES:
        raise InvalidInputError(
            f"The {source} is larger than {MAX_TRANSCRIPT_BYTES // (1024 * 1024)} MB; "
            "split it or upload the recording instead."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"The {source} is not UTF-8 text (byte {exc.start} is invalid). Save it as UTF-8 "
            "and try again."
        ) from exc
    return normalise_text(text, source)


def normalise_text(text: str, source: str = "transcript") -> str:
    """Check text given as a string (as `process` receives it) like decoded bytes are checked."""
    if not isinstance(text, str):
        raise InvalidInputError(f"The {source} must be text, not {type(text).__name__}.")
    if "\x00" in text:
        raise InvalidInputError(f"The {source} contains NUL bytes; it looks like a binary file.")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates, e.g. from a JSON "\ud800" escape
        raise InvalidInputError(
            f"The {source} is not valid Unicode text (character {exc.start} is a lone "
            "surrogate). Save it as UTF-8 and try again."
        ) from exc
    if size > MAX_TRANSCRIPT_BYTES:
        raise InvalidInputError(
            f"The {source} is larger than {MAX_TRANSCRIPT_BYTES // (1024 * 1024)} MB; "
            "split it or upload the recording instead."
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidInputError(f"The {source} is empty; paste or upload the meeting's text.")
    return text


# ---------------------------------------------------------------------- detection


def detect_format(text: str, filename: str | None = None) -> str:
    """One of FORMATS, from the content first and the file extension to break ties."""
    head = text.lstrip("\ufeff \n\t")[:4096]
    extension = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if head.startswith("WEBVTT"):
        return "webvtt"
    if head.startswith("{"):
        return "aws_transcribe"
    if re.match(rf"^\d+\s*\n\s*{_TIME}\s*-->\s*{_TIME}", head):
        return "srt"
    if extension in {"vtt", "srt"} and re.search(rf"{_TIME}\s*-->\s*{_TIME}", head):
        return "webvtt" if extension == "vtt" else "srt"
    if extension == "json":
        return "aws_transcribe"
    return "text"


def parse_transcript(text: str, filename: str | None = None) -> Transcript:
    """Utterances of a transcript in any supported format (see FORMATS)."""
    text = normalise_text(text)
    kind = detect_format(text, filename)
    if kind == "webvtt":
        utterances = list(_merge_cues(_parse_vtt(text)))
    elif kind == "srt":
        utterances = list(_merge_cues(_parse_srt(text)))
    elif kind == "aws_transcribe":
        utterances = parse_aws_transcribe(_load_json(text))
    else:
        return Transcript(tuple(_parse_text(text)), "text", original=text)
    if not any(u.text for u in utterances):
        raise InvalidInputError(f"The {_FORMAT_NAMES[kind]} transcript has no spoken text in it.")
    return Transcript(tuple(utterances), kind)


_FORMAT_NAMES = {
    "text": "text",
    "webvtt": "WebVTT",
    "srt": "SRT",
    "aws_transcribe": "AWS Transcribe",
}


# ---------------------------------------------------------------------- plain text


def _speaker_or_none(label: str | None) -> str | None:
    if label is None:
        return None
    label = " ".join(label.split())
    words = label.split()
    if label.lower() in _NOT_SPEAKERS or len(words) > 4:
        return None
    # "Alice", "Speaker A", "Dr. Smith", "spk_0"; not "So the plan is" from "So the plan is: ..."
    if re.fullmatch(r"spk_\d+", label):
        return label
    if not words[0][0].isupper() or any(
        len(word) > 3 and not (word[0].isupper() or any(c.isdigit() for c in word))
        for word in words
    ):
        return None
    return label


def _parse_text(text: str) -> Iterator[Utterance]:
    """One utterance per line ("[time] Speaker: text"), or per block under a "Name  0:01" line."""
    block: Utterance | None = None  # words under an Otter/Zoom style header line
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            if block is not None and block.text:
                yield block
            block = None
            continue
        header = _HEADER_LINE.match(line)
        if header and _speaker_or_none(header["speaker"]):
            if block is not None and block.text:
                yield block
            block = Utterance(
                "", _speaker_or_none(header["speaker"]), parse_timestamp(header["time"])
            )
            continue
        match = _TEXT_LINE.match(line)
        assert match is not None  # the pattern accepts any line
        speaker = _speaker_or_none(match["speaker"])
        stamp = match["time"] or match["time2"]
        if match["speaker"] and speaker is None:  # "Note: ..." is text, not a speaker
            body = line[match.start("speaker") :] if match["time"] else line
        else:
            body = match["body"]
        if speaker is None and block is not None and not _BULLET.match(line):
            block = replace(block, text=f"{block.text} {body}".strip())
            continue
        if block is not None and block.text:
            yield block
        block = None
        yield Utterance(body.strip(), speaker, parse_timestamp(stamp) if stamp else None)
    if block is not None and block.text:
        yield block


# ---------------------------------------------------------------------- subtitles


def _blocks(text: str) -> Iterator[list[str]]:
    block: list[str] = []
    for line in text.split("\n"):
        if line.strip():
            block.append(line.rstrip())
        elif block:
            yield block
            block = []
    if block:
        yield block


def _cue_text(lines: Iterable[str]) -> tuple[str | None, str]:
    joined = " ".join(line.strip() for line in lines)
    speaker: str | None = None
    voice = _VOICE.search(joined)
    if voice:
        speaker = voice.group(1).strip()
    joined = html.unescape(_TAG.sub("", joined))
    joined = " ".join(joined.split())
    if speaker is None:
        named = _SRT_SPEAKER.match(joined)
        label = (named.group("a") or named.group("b")) if named else None
        if named and _speaker_or_none(label):
            speaker = _speaker_or_none(label)
            joined = joined[named.end() :]
    joined = joined.lstrip("- ").strip()
    return speaker, joined


def _parse_vtt(text: str) -> Iterator[Utterance]:
    for block in _blocks(text):
        first = block[0].strip()
        if first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        cue = _cue(block, len(block))
        if cue is not None:
            yield cue


def _parse_srt(text: str) -> Iterator[Utterance]:
    for block in _blocks(text):
        cue = _cue(block, 3)  # an SRT timing line follows at most a counter line
        if cue is not None:
            yield cue


def _cue(block: list[str], search: int) -> Utterance | None:
    """The utterance of a subtitle cue whose timing line is among its first `search` lines."""
    for index, line in enumerate(block[:search]):
        timing = _CUE_TIMING.match(line)
        if timing is not None:
            speaker, body = _cue_text(block[index + 1 :])
            if not body:
                return None
            return Utterance(
                body, speaker, parse_timestamp(timing["start"]), parse_timestamp(timing["end"])
            )
    return None


def _merge_cues(cues: Iterable[Utterance]) -> Iterator[Utterance]:
    """Join consecutive cues of one speaker into a turn (subtitles split speech every few seconds).

    Cues without a speaker are joined until a sentence ends or 30 seconds have passed.
    """
    current: Utterance | None = None
    for cue in cues:
        if current is not None:
            same_speaker = cue.speaker is not None and cue.speaker == current.speaker
            unlabelled = cue.speaker is None and current.speaker is None
            start = current.start or 0.0
            short = (cue.end or 0.0) - start <= MAX_CUE_MERGE_SECONDS
            open_sentence = not _SENTENCE_END.search(current.text)
            if same_speaker or (unlabelled and short and open_sentence):
                current = Utterance(
                    f"{current.text} {cue.text}", current.speaker, current.start, cue.end
                )
                continue
            yield current
        current = cue
    if current is not None:
        yield current


# ---------------------------------------------------------------------- AWS Transcribe


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(
            f"The transcript looks like JSON but cannot be read ({exc}); expected the output "
            "file of an AWS Transcribe job."
        ) from exc


def speaker_display_name(label: str) -> str:
    """AWS Transcribe's "spk_0" as "Speaker 1"; other labels unchanged."""
    match = re.fullmatch(r"spk_(\d+)", label)
    return f"Speaker {int(match.group(1)) + 1}" if match else label


def parse_aws_transcribe(document: Any) -> list[Utterance]:
    """Turns of an AWS Transcribe output document, with speakers when labels were on."""
    results = document.get("results") if isinstance(document, dict) else None
    if not isinstance(results, dict) or not isinstance(results.get("transcripts"), list):
        raise InvalidInputError(
            "This JSON file is not an AWS Transcribe output (no results.transcripts); "
            "upload the .json file the transcription job wrote, or a text, WebVTT or SRT file."
        )
    items = results.get("items")
    if not isinstance(items, list) or not items:
        texts = [t.get("transcript", "") for t in results["transcripts"] if isinstance(t, dict)]
        return [Utterance(" ".join(str(t) for t in texts).strip())]
    by_start = _speaker_by_start_time(results.get("speaker_labels"))
    utterances: list[Utterance] = []
    words: list[str] = []
    speaker: str | None = None
    start: float | None = None
    end: float | None = None

    def flush() -> None:
        text = " ".join(words).strip()
        if text:
            utterances.append(Utterance(text, speaker, start, end))
        words.clear()

    for item in items:
        if not isinstance(item, dict):
            continue
        alternatives = item.get("alternatives") or [{}]
        content = str(alternatives[0].get("content", "")).strip()
        if not content:
            continue
        if item.get("type") == "punctuation":
            if words:
                words[-1] += content
            continue
        item_start = _float_or_none(item.get("start_time"))
        label = item.get("speaker_label") or by_start.get(str(item.get("start_time")))
        item_speaker = speaker_display_name(str(label)) if label else None
        if words and item_speaker != speaker:
            flush()
        if not words:
            speaker, start = item_speaker, item_start
        words.append(content)
        end = _float_or_none(item.get("end_time")) or end
    flush()
    return utterances


def _speaker_by_start_time(labels: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    if not isinstance(labels, dict):
        return found
    for segment in labels.get("segments") or []:
        for item in segment.get("items") or []:
            if isinstance(item, dict) and "start_time" in item and "speaker_label" in item:
                found[str(item["start_time"])] = str(item["speaker_label"])
    return found


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
