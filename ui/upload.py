"""Upload checks and progress, without streamlit: what the Upload page validates before
anything is stored, and a thread-safe record of how far `process` has got."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import urlsplit

from meeting_storage import InvalidInputError
from meeting_storage.analysis import decode_transcript
from meeting_storage.analysis.transcript import MAX_TRANSCRIPT_BYTES
from meeting_storage.service.facade import PROCESS_STEPS
from meeting_storage.storage.media import ALLOWED_EXTENSIONS

TRANSCRIPT_EXTENSIONS = ("txt", "vtt", "srt")
TRANSCRIPT_LIMIT_MB = MAX_TRANSCRIPT_BYTES // (1024 * 1024)
# Material icons (part of Streamlit's own fonts, so they show in every browser).
STATE_ICONS = {
    "done": ":green[:material/check_circle:]",
    "running": ":blue[:material/progress_activity:]",
    "waiting": ":gray[:material/radio_button_unchecked:]",
    "skipped": ":gray[:material/remove_circle_outline:]",
    "failed": ":red[:material/error:]",
}
STEP_LABELS = {
    "upload": "Upload to S3",
    "transcription": "Transcription",
    "extraction": "Extraction",
    "saving": "Saving",
}


# The largest object one S3 POST creates; a browser upload is one POST.
S3_POST_LIMIT_MB = 5 * 1024
BROWSER_EVENTS = ("picked", "uploaded", "error")


def direct_limit_mb(package_mb: int) -> int:
    """The largest recording a browser may send straight to S3 (MAX_UPLOAD_MB and 5 GB)."""
    return min(package_mb, S3_POST_LIMIT_MB)


def direct_upload_mode(direct_uploads: str, endpoint_url: str | None) -> tuple[bool, str]:
    """Whether the browser sends recordings straight to S3, and if not, why.

    `auto` trusts any endpoint a browser can plausibly reach (AWS, a dotted host name, an IP
    address, localhost) and not a bare name such as `seaweedfs` or `minio`, which only
    resolves inside the server's container network.
    """
    if direct_uploads == "false":
        return False, "DIRECT_UPLOADS=false: recordings are uploaded through the dashboard server."
    if direct_uploads == "true" or not endpoint_url:
        return True, ""
    host = urlsplit(endpoint_url).hostname or ""
    if host and "." not in host and ":" not in host and host != "localhost":
        return False, (
            f"The S3 endpoint {endpoint_url} is a name only the dashboard server can resolve, so "
            "a browser cannot upload to it; recordings go through the dashboard server "
            "(set DIRECT_UPLOADS=true if browsers can reach it)."
        )
    return True, ""


@dataclass(frozen=True)
class BrowserEvent:
    """What the browser upload picker reported last."""

    event: str  # picked | uploaded | error
    id: str
    name: str = ""
    size: int = 0
    key: str = ""
    kind: str = ""  # for errors: network (the bucket is unreachable) or refused
    status: int = 0
    message: str = ""

    def describe_error(self) -> str:
        if self.kind == "network":
            return (
                "Your browser could not reach the bucket (its address is not reachable from "
                "here, or its CORS rule does not allow this page: `meeting-storage bucket cors`)."
            )
        detail = f": {self.message}" if self.message else ""
        return f"S3 refused the upload (HTTP {self.status}){detail}."


def parse_browser_event(value: Any) -> BrowserEvent | None:
    """The picker's value as a BrowserEvent; None for nothing yet or anything malformed."""
    if not isinstance(value, dict) or value.get("event") not in BROWSER_EVENTS:
        return None
    request_id = value.get("id")
    if not isinstance(request_id, str) or not request_id:
        return None

    def text(name: str) -> str:
        item = value.get(name)
        return item[:500] if isinstance(item, str) else ""

    def number(name: str) -> int:
        item = value.get(name)
        return item if isinstance(item, int) and not isinstance(item, bool) else 0

    return BrowserEvent(
        event=str(value["event"]),
        id=request_id[:100],
        name=text("name"),
        size=number("size"),
        key=text("key"),
        kind=text("kind"),
        status=number("status"),
        message=text("message"),
    )


def effective_limit_mb(package_mb: int, streamlit_mb: int) -> int:
    """The largest recording both the web server (server.maxUploadSize) and the package
    (MAX_UPLOAD_MB) accept."""
    return min(package_mb, streamlit_mb)


@dataclass(frozen=True)
class CheckedUpload:
    problems: list[str]
    transcript: str | None = None


def check_transcript(
    name: str | None, data: bytes | None, pasted: str, *, required: bool = False
) -> CheckedUpload:
    """The transcript as text, from a file or pasted (not both), or what is wrong with it."""
    pasted = pasted.strip()
    if data is not None and pasted:
        return CheckedUpload(["Give the transcript as a file or as pasted text, not both."])
    try:
        if data is not None:
            return CheckedUpload([], decode_transcript(data, f"transcript {name!r}"))
        if pasted:
            return CheckedUpload([], decode_transcript(pasted.encode(), "pasted transcript"))
    except InvalidInputError as error:
        return CheckedUpload([error.message])
    return CheckedUpload(["Upload a transcript file or paste the transcript."] if required else [])


def check_upload(
    *,
    recording_name: str | None,
    recording_size: int | None,
    transcript_name: str | None,
    transcript_bytes: bytes | None,
    pasted: str,
    limit_mb: int,
) -> CheckedUpload:
    """Every problem with the upload form, found before anything is stored, and the
    transcript text. The file's content is checked again (magic bytes) when it is stored."""
    problems = []
    if recording_name is None and transcript_bytes is None and not pasted.strip():
        problems.append("Choose a recording, a transcript, or both.")
    if recording_name is not None:
        extension = recording_name.rpartition(".")[2].lower() if "." in recording_name else ""
        if extension not in ALLOWED_EXTENSIONS:
            problems.append(
                f"{recording_name!r} is not one of the accepted recordings "
                f"({', '.join(ALLOWED_EXTENSIONS)})."
            )
        if recording_size is not None and recording_size > limit_mb * 1024 * 1024:
            problems.append(f"{recording_name!r} is larger than the {limit_mb} MB limit.")
        if recording_size == 0:
            problems.append(f"{recording_name!r} is empty; choose a recording with sound in it.")
    transcript = check_transcript(transcript_name, transcript_bytes, pasted)
    return CheckedUpload(problems + transcript.problems, transcript.transcript)


@dataclass
class ProcessProgress:
    """Where `process` is: the step it reported last and the recording bytes read so far.
    Written by the thread that runs `process`, read by the page."""

    total_bytes: int = 0
    read_bytes: int = 0
    steps_started: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def start_step(self, step: str) -> None:
        with self._lock:
            self.steps_started.append(step)

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self.read_bytes += count

    def snapshot(self) -> tuple[list[str], int]:
        with self._lock:
            return list(self.steps_started), self.read_bytes

    def fraction(self) -> float:
        """0..1 for the progress bar: the upload is most of the work when there is one."""
        steps, read = self.snapshot()
        if not steps:
            return 0.0
        current = steps[-1]
        if current == "upload":
            share = read / self.total_bytes if self.total_bytes else 1.0
            return 0.8 * min(1.0, share)
        return {"transcription": 0.85, "extraction": 0.9, "saving": 0.95}.get(current, 0.0)


def step_states(
    steps_started: list[str],
    *,
    has_recording: bool,
    has_transcript: bool,
    finished: bool,
    failed: bool = False,
    transcription_failed: str | None = None,
) -> list[tuple[str, str, str]]:
    """(label, state, note) per step; state is done, running, waiting, skipped or failed.
    `transcription_failed` is the reason a transcription that ran gave no transcript."""
    current = steps_started[-1] if steps_started and not finished else None
    reached = PROCESS_STEPS.index(steps_started[-1]) if steps_started else -1
    if finished:
        reached = len(PROCESS_STEPS)
    rows = []
    for number, step in enumerate(PROCESS_STEPS):
        note = ""
        if step == "upload" and not has_recording:
            state, note = "skipped", "no recording given"
        elif step == "transcription" and transcription_failed and step in steps_started:
            state, note = "failed", transcription_failed
        elif step == "transcription" and step not in steps_started:
            state = "skipped" if reached > number else "waiting"
            note = (
                "transcript provided, nothing to transcribe"
                if has_transcript
                else "no transcriber configured — stored as waiting for a transcript"
            )
        elif step == "extraction" and not has_transcript and step not in steps_started:
            state, note = ("skipped" if reached > number else "waiting"), "needs a transcript"
        elif step == current:
            state = "failed" if failed else "running"
        elif number < reached:
            state = "done"
        else:
            state = "waiting"
        rows.append((STEP_LABELS[step], state, note))
    return rows


class ProgressReader(io.RawIOBase):
    """Reads through to the uploaded file (no copy), counting bytes for the progress bar."""

    def __init__(self, source: IO[bytes], progress: ProcessProgress) -> None:
        super().__init__()
        self._source = source
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        chunk = self._source.read(len(view))
        size = len(chunk) if chunk else 0
        view[:size] = chunk or b""
        self._progress.add_bytes(size)
        return size
