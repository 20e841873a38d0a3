"""The S3 key scheme. This is the only module that builds or parses object keys.

meetings/{uuid}_{filename}                      original audio/video
transcriptions/{meeting_id}/transcription.txt   full transcript text
transcriptions/{meeting_id}/summary.json        structured summary
transcriptions/{meeting_id}/requirements.json   extracted requirements
transcriptions/{meeting_id}/metadata.json       the meeting's source of truth, written last
transcriptions/{meeting_id}/aws-transcribe.json AWS Transcribe's output, read then removed
index/meetings.json                             compact listing index (S3 JSON backend)
index/search.json                               (earlier versions) summaries for its search
index/months/{YYYY-MM}.json                     one month's entries and search text (S3 JSON)
index/ids/{xx}.json                             which month each meeting is in (S3 JSON)
audit/YYYY/MM/DD/{time}-{meeting_id}-{random}.json  one audit event each
auth/tokens/{token_id}.json                     a personal API token's hash and owner
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import UTC, datetime
from pathlib import PurePosixPath, PureWindowsPath

from meeting_storage.core.errors import InvalidInputError

AUDIO_PREFIX = "meetings/"
TRANSCRIPTIONS_PREFIX = "transcriptions/"
INDEX_PREFIX = "index/"
INDEX_KEY = f"{INDEX_PREFIX}meetings.json"
SEARCH_INDEX_KEY = f"{INDEX_PREFIX}search.json"
AGGREGATES_KEY = f"{INDEX_PREFIX}aggregates.json"  # the running totals (index/aggregates.py)
AUDIT_PREFIX = "audit/"
TOKENS_PREFIX = "auth/tokens/"
INDEX_MONTHS_PREFIX = f"{INDEX_PREFIX}months/"
INDEX_IDS_PREFIX = f"{INDEX_PREFIX}ids/"
# Every prefix the package writes under, in the order a footprint reports them.
PREFIXES = (AUDIO_PREFIX, TRANSCRIPTIONS_PREFIX, INDEX_PREFIX)

TRANSCRIPTION_FILE = "transcription.txt"
SUMMARY_FILE = "summary.json"
REQUIREMENTS_FILE = "requirements.json"
METADATA_FILE = "metadata.json"
# Where an AWS Transcribe job writes its output; it lives only until the transcript is read.
TRANSCRIBE_OUTPUT_FILE = "aws-transcribe.json"
# A transcript given with a recording waits here until the job that analyses it runs.
SOURCE_TRANSCRIPT_FILE = "transcript-source.txt"
# Written in this order; metadata.json is last because its presence is what makes a meeting exist.
MEETING_FILES = (TRANSCRIPTION_FILE, SUMMARY_FILE, REQUIREMENTS_FILE, METADATA_FILE)

MEETING_ID_RE = re.compile(r"^meeting-[0-9a-z]+$")
MAX_MEETING_ID_LENGTH = 64
MAX_FILENAME_LENGTH = 120
# Also bounded in UTF-8 bytes: the local copy is named {32 hex}_{filename}, and file systems
# refuse names longer than 255 bytes (120 characters of accented text can be 240 bytes).
MAX_FILENAME_BYTES = 200
MAX_EXTENSION_LENGTH = 10
# The file name part excludes separators and control characters, which no sanitised name has.
_AUDIO_KEY_RE = re.compile(r"^meetings/([0-9a-f]{32})_([^/\\\x00-\x1f\x7f]+)$")
_UNSAFE_CHARS = re.compile(r'[<>:"|?*\\/#%{}^~`\[\]]')
_EXTENSION_RE = re.compile(rf"[A-Za-z0-9]{{1,{MAX_EXTENSION_LENGTH}}}")


def new_meeting_id() -> str:
    return f"meeting-{uuid.uuid4().hex}"


def validate_meeting_id(meeting_id: str) -> str:
    """Return the id unchanged, or raise InvalidInputError for anything that is not one."""
    if (
        not isinstance(meeting_id, str)
        or len(meeting_id) > MAX_MEETING_ID_LENGTH
        or not MEETING_ID_RE.fullmatch(meeting_id)
    ):
        shown = repr(meeting_id)[:80]
        raise InvalidInputError(
            f"{shown} is not a meeting id; ids look like meeting-3f2a9c... "
            "(lowercase letters and digits after 'meeting-')."
        )
    return meeting_id


def sanitize_filename(name: str) -> str:
    """The user's file name made safe for a key: base name only, no separators, no `..`,
    no control characters, bounded length, extension kept."""
    if not isinstance(name, str):
        raise InvalidInputError("The file name must be text.")
    # Control characters go first, so that removing them cannot join a letter and its accent
    # after NFC normalisation (which would make the result change when sanitised again).
    base = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    # Base name under both POSIX and Windows rules, so `C:\\x\\a.m4a` and `../../a.m4a` lose their paths.
    base = PureWindowsPath(PurePosixPath(base).name).name
    base = unicodedata.normalize("NFC", base)
    base = _UNSAFE_CHARS.sub("_", base)
    base = re.sub(r"\s+", " ", base).strip(" ")
    base = re.sub(r"\.{2,}", ".", base)
    # Only a short run of ASCII letters and digits after the last dot is an extension; in
    # "Sync v2.0 final" or "Dr. Smith" the dot is part of the name and nothing is dropped.
    # A leading dot is not one either (".hidden" is a name, as for pathlib).
    stem, dot, ext = base.rpartition(".")
    if not dot or not _EXTENSION_RE.fullmatch(ext) or not stem.strip(" ."):
        stem, ext = base, ""
    ext = ext.lower()
    suffix = f".{ext}" if ext else ""
    stem = stem.strip(" .") or "recording"
    stem = stem[: MAX_FILENAME_LENGTH - len(suffix)].rstrip(" .")
    while len((stem + suffix).encode()) > MAX_FILENAME_BYTES:
        stem = stem[:-1].rstrip(" .")
    return (stem or "recording") + suffix


def file_extension(filename: str) -> str:
    _, dot, ext = filename.rpartition(".")
    return ext.lower() if dot else ""


def new_audio_key(filename: str) -> str:
    return f"{AUDIO_PREFIX}{uuid.uuid4().hex}_{sanitize_filename(filename)}"


def is_audio_key(key: str) -> bool:
    return isinstance(key, str) and _AUDIO_KEY_RE.fullmatch(key) is not None and ".." not in key


def validate_audio_key(key: str) -> str:
    if not is_audio_key(key):
        raise InvalidInputError(
            f"{key!r} is not an audio key of this store; keys look like meetings/<32 hex>_<file name>."
        )
    return key


def audio_key_of_local_copy(filename: str) -> str | None:
    """The audio key a local copy (SKIP_LOCAL_STORAGE=false keeps uploads/{uuid}_{name})
    was uploaded under, or None for a file name that is not one."""
    key = f"{AUDIO_PREFIX}{filename}"
    return key if is_audio_key(key) else None


def filename_from_audio_key(key: str) -> str:
    match = _AUDIO_KEY_RE.fullmatch(key)
    if not match:
        raise InvalidInputError(f"{key!r} is not an audio key of this store.")
    return match.group(2)


def meeting_prefix(meeting_id: str) -> str:
    return f"{TRANSCRIPTIONS_PREFIX}{validate_meeting_id(meeting_id)}/"


def meeting_file_key(meeting_id: str, filename: str) -> str:
    if filename not in MEETING_FILES:
        raise ValueError(f"unknown meeting file {filename!r}")
    return meeting_prefix(meeting_id) + filename


def transcribe_output_key(meeting_id: str) -> str:
    return meeting_prefix(meeting_id) + TRANSCRIBE_OUTPUT_FILE


def metadata_key(meeting_id: str) -> str:
    return meeting_file_key(meeting_id, METADATA_FILE)


def meeting_file_keys(meeting_id: str) -> list[str]:
    return [meeting_file_key(meeting_id, name) for name in MEETING_FILES]


def meeting_id_from_key(key: str) -> str | None:
    """The meeting id of a key under transcriptions/, or None for any other key."""
    if not key.startswith(TRANSCRIPTIONS_PREFIX):
        return None
    candidate = key[len(TRANSCRIPTIONS_PREFIX) :].split("/", 1)[0]
    if MEETING_ID_RE.fullmatch(candidate) and len(candidate) <= MAX_MEETING_ID_LENGTH:
        return candidate
    return None


_TOKEN_ID_RE = re.compile(r"^tok-[0-9a-f]{16}$")
_AUDIT_KEY_RE = re.compile(
    r"^audit/(\d{4})/(\d{2})/(\d{2})/(\d{6}\d{6})-(meeting-[0-9a-z]+|-)-[0-9a-f]{12}\.json$"
)


def new_token_id() -> str:
    return f"tok-{uuid.uuid4().hex[:16]}"


def validate_token_id(token_id: str) -> str:
    if not isinstance(token_id, str) or not _TOKEN_ID_RE.match(token_id):
        raise InvalidInputError(
            f"{str(token_id)[:40]!r} is not a token id (tok- and 16 hex digits; see `token list`)."
        )
    return token_id


def token_key(token_id: str) -> str:
    return f"{TOKENS_PREFIX}{validate_token_id(token_id)}.json"


def audit_day_prefix(year: int, month: int, day: int) -> str:
    return f"{AUDIT_PREFIX}{year:04d}/{month:02d}/{day:02d}/"


def audit_key(at: datetime, meeting_id: str | None) -> str:
    """A new, unique key for one audit event: its day's folder, then its time (so a listing
    is in time order), the meeting (so one meeting's events are found from the listing) and
    random digits (so two events never share an object)."""
    when = at.astimezone(UTC)
    moment = when.strftime("%H%M%S") + f"{when.microsecond:06d}"
    about = validate_meeting_id(meeting_id) if meeting_id else "-"
    day = audit_day_prefix(when.year, when.month, when.day)
    return f"{day}{moment}-{about}-{uuid.uuid4().hex[:12]}.json"


def parse_audit_key(key: str) -> tuple[datetime, str | None] | None:
    """(the event's time, its meeting) from an audit key, or None for any other key."""
    match = _AUDIT_KEY_RE.match(key)
    if match is None:
        return None
    year, month, day, moment, about = match.groups()
    at = datetime(
        int(year),
        int(month),
        int(day),
        int(moment[0:2]),
        int(moment[2:4]),
        int(moment[4:6]),
        int(moment[6:]),
        tzinfo=UTC,
    )
    return at, None if about == "-" else about


def index_month_key(month: str) -> str:
    """The S3 JSON index's shard of one month ("2026-03") of meetings."""
    return f"{INDEX_MONTHS_PREFIX}{month}.json"


def index_ids_key(bucket: str) -> str:
    """The S3 JSON index's locator shard `bucket` (two hex digits): meeting id -> month."""
    return f"{INDEX_IDS_PREFIX}{bucket}.json"


def source_transcript_key(meeting_id: str) -> str:
    return meeting_prefix(meeting_id) + SOURCE_TRANSCRIPT_FILE


def audio_key_uuid(key: str) -> str | None:
    """The UUID (32 hex digits) a recording's key starts with, or None for another key."""
    match = _AUDIO_KEY_RE.fullmatch(key) if isinstance(key, str) else None
    return match.group(1) if match is not None and ".." not in key else None
