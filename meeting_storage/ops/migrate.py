"""Importing an existing uploads/ folder into the S3 layout.

Each recording in the folder (searched recursively; hidden files are ignored) becomes a
meeting, with the transcript beside it when there is one: the file with the same name and a
`.txt` extension. Each meeting is stored by `MeetingStorage.process`, which is all or nothing.

- Idempotent: metadata.json records the SHA-256 of each recording (`audio_sha256`); a
  recording whose hash is already stored is skipped, and so is a local copy kept by
  SKIP_LOCAL_STORAGE=false (`{uuid}_{name}`) whose S3 object is still listed.
- Resumable: every recording is stored independently, so after an interruption the next
  run stores the rest (what was half written is removed by `process` itself).
- `verify` compares every stored recording with the local file: size and ETag (the MD5 of a
  single-part upload, or of each 16 MiB part), or, when the ETag is not an MD5 (SSE-KMS),
  the SHA-256 of the downloaded bytes; and the stored transcript with the local one.
- `delete_local` removes a local file only after it verified in the same run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meeting_storage.analysis.transcript import decode_transcript
from meeting_storage.core import layout
from meeting_storage.core.errors import InvalidInputError, MeetingStorageError
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT, MeetingRecord
from meeting_storage.costs.processing import MULTIPART_PART_BYTES, MULTIPART_THRESHOLD_BYTES
from meeting_storage.storage.media import ALLOWED_EXTENSIONS

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

AUDIO_EXTENSIONS = frozenset(
    {*ALLOWED_EXTENSIONS, "aac", "oga", "opus", "weba", "mkv", "m4v", "mov", "mpga"}
)
TRANSCRIPT_EXTENSIONS = (".txt",)
READ_CHUNK = 1024 * 1024
IMPORTED_TAG = "imported"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Candidate:
    audio: Path
    transcript: Path | None
    relative: str


@dataclass
class MigrationReport:
    dry_run: bool
    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    verified: list[dict[str, Any]] = field(default_factory=list)
    deleted_local: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and all(item["ok"] for item in self.verified)

    def to_dict(self) -> dict[str, Any]:
        return {
            "complete": self.ok,
            "dry_run": self.dry_run,
            "imported": self.imported,
            "skipped": self.skipped,
            "failed": self.failed,
            "verified": self.verified,
            "deleted_local": self.deleted_local,
            "counts": {
                "imported": len(self.imported),
                "skipped": len(self.skipped),
                "failed": len(self.failed),
                "verified": sum(1 for item in self.verified if item["ok"]),
                "verification_failed": sum(1 for item in self.verified if not item["ok"]),
                "deleted_local": len(self.deleted_local),
            },
        }


def _visible_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        yield path


def find_candidates(folder: Path) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """(recordings with their transcripts, files skipped with the reason)."""
    files = list(_visible_files(folder))
    transcripts = {
        (path.parent, path.stem.casefold()): path
        for path in files
        if path.suffix.lower() in TRANSCRIPT_EXTENSIONS
    }
    candidates: list[Candidate] = []
    used: set[Path] = set()
    skipped: list[dict[str, Any]] = []
    for path in files:
        extension = path.suffix.lower().lstrip(".")
        relative = path.relative_to(folder).as_posix()
        if extension in AUDIO_EXTENSIONS:
            transcript = transcripts.get((path.parent, path.stem.casefold()))
            if transcript is not None:
                used.add(transcript)
            candidates.append(Candidate(path, transcript, relative))
        elif path.suffix.lower() not in TRANSCRIPT_EXTENSIONS:
            skipped.append({"path": relative, "reason": "not a recording or a transcript"})
    for path in files:
        if path.suffix.lower() in TRANSCRIPT_EXTENSIONS and path not in used:
            skipped.append(
                {
                    "path": path.relative_to(folder).as_posix(),
                    "reason": "a transcript with no recording of the same name beside it "
                    "(store it with `process --transcript FILE`)",
                }
            )
    return candidates, skipped


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def expected_etag(path: Path) -> str:
    """The ETag S3 gives this file uploaded as `upload_stream` uploads it: the MD5 of a
    single PUT, or the MD5 of the parts' MD5s and the number of parts for a multipart upload."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size < MULTIPART_THRESHOLD_BYTES:
            return hashlib.md5(handle.read(), usedforsecurity=False).hexdigest()
        digests = []
        while part := handle.read(MULTIPART_PART_BYTES):
            digests.append(hashlib.md5(part, usedforsecurity=False).digest())
    combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(digests)}"


def _title(path: Path) -> str:
    stem = path.stem
    prefix, underscore, rest = stem.partition("_")
    if underscore and len(prefix) == 32 and all(c in "0123456789abcdef" for c in prefix):
        stem = rest  # a local copy named {uuid}_{name}
    return stem


def _read_transcript(path: Path) -> str:
    return decode_transcript(path.read_bytes(), f"transcript {path.name!r}")


def migrate_folder(
    storage: MeetingStorage,
    folder: Path,
    *,
    dry_run: bool = False,
    verify: bool = False,
    delete_local: bool = False,
    progress: Progress | None = None,
) -> MigrationReport:
    """Import `folder`'s recordings (and transcripts) as meetings; see the module docstring."""
    if not folder.is_dir():
        raise InvalidInputError(f"{str(folder)!r} is not a folder.")
    verify = verify or delete_local
    report = MigrationReport(dry_run=dry_run)
    candidates, report.skipped = find_candidates(folder)
    entries = list(storage.index_entries())
    by_hash = {r.audio_sha256: r for r in entries if r.audio_sha256}
    by_key = {r.audio_s3_key: r for r in entries if r.audio_s3_key}
    stored: list[tuple[Candidate, MeetingRecord, str]] = []
    for done, candidate in enumerate(candidates):
        if progress is not None:
            progress(done, len(candidates))
        try:
            outcome = _import_one(storage, candidate, by_hash, by_key, dry_run)
        except (MeetingStorageError, OSError) as exc:
            error = (
                exc.to_dict()
                if isinstance(exc, MeetingStorageError)
                else {"code": "invalid_input", "message": f"cannot read the file: {exc}"}
            )
            report.failed.append({"path": candidate.relative, "error": error})
            continue
        kind, entry, record, digest = outcome
        (report.imported if kind == "imported" else report.skipped).append(entry)
        if record is not None:
            stored.append((candidate, record, digest))
    if progress is not None:
        progress(len(candidates), len(candidates))
    if verify:
        for candidate, record, digest in stored:
            result = verify_copy(storage, candidate, record, digest)
            report.verified.append(result)
            if delete_local and result["ok"]:
                paths = [candidate.audio, *([candidate.transcript] if candidate.transcript else [])]
                for path in paths:
                    if not dry_run:
                        path.unlink(missing_ok=True)
                    report.deleted_local.append(path.relative_to(folder).as_posix())
    return report


def _import_one(
    storage: MeetingStorage,
    candidate: Candidate,
    by_hash: dict[str, MeetingRecord],
    by_key: dict[str, MeetingRecord],
    dry_run: bool,
) -> tuple[str, dict[str, Any], MeetingRecord | None, str]:
    """("imported" | "skipped", report entry, the stored meeting's record, SHA-256)."""
    digest = file_sha256(candidate.audio)
    existing = by_hash.get(digest)
    if existing is None:
        key = layout.audio_key_of_local_copy(candidate.audio.name)
        existing = by_key.get(key) if key else None
    text = _read_transcript(candidate.transcript) if candidate.transcript else None
    entry: dict[str, Any] = {
        "path": candidate.relative,
        "transcript": candidate.transcript.name if candidate.transcript else None,
        "size": candidate.audio.stat().st_size,
        "sha256": digest,
    }
    if existing is not None:
        if text is not None and existing.status == STATUS_AWAITING_TRANSCRIPT and not dry_run:
            existing = storage.attach_transcript(existing.meeting_id, text).record
            entry.update(meeting_id=existing.meeting_id, action="transcript attached")
            return "imported", entry, existing, digest
        entry.update(reason="already stored", meeting_id=existing.meeting_id)
        return "skipped", entry, existing, digest
    if dry_run:
        entry.update(meeting_id=None, action="would import")
        return "imported", entry, None, digest
    recorded_at = datetime.fromtimestamp(candidate.audio.stat().st_mtime, tz=UTC).replace(
        microsecond=0
    )
    with candidate.audio.open("rb") as handle:
        result = storage.process(
            text,
            audio_file=handle,
            audio_filename=candidate.audio.name,
            title=_title(candidate.audio),
            tags=(IMPORTED_TAG,),
            recorded_at=recorded_at,
        )
    record = result.record
    if record.audio_sha256 != digest:  # the file changed while it was being read
        storage.delete_meeting(record.meeting_id)
        raise InvalidInputError(f"{candidate.relative} changed while it was imported; run again.")
    by_hash[digest] = record
    entry.update(meeting_id=record.meeting_id, audio_s3_key=record.audio_s3_key, action="imported")
    return "imported", entry, record, digest


def verify_copy(
    storage: MeetingStorage, candidate: Candidate, record: MeetingRecord, digest: str
) -> dict[str, Any]:
    """Compare the stored recording (and transcript) with the local files."""
    result: dict[str, Any] = {
        "path": candidate.relative,
        "meeting_id": record.meeting_id,
        "ok": False,
    }
    key = record.audio_s3_key
    info = storage.audio.head(key) if key else None
    if key is None or info is None:
        result["problem"] = "the recording is missing from the bucket"
        return result
    local_size = candidate.audio.stat().st_size
    if info.size != local_size:
        result["problem"] = f"size differs: {info.size} bytes in S3, {local_size} locally"
        return result
    if info.etag.strip('"') == expected_etag(candidate.audio):
        result["method"] = "size and ETag (MD5)"
    elif storage.audio.content_sha256(key) == digest:
        result["method"] = "size and SHA-256 of the downloaded bytes"
    else:
        result["problem"] = "content differs from the local file"
        return result
    if candidate.transcript is not None:
        stored = storage.meeting_documents.read_transcript(record.meeting_id)
        if stored is None:
            result["problem"] = "the transcript is missing from the bucket"
            return result
        if stored != _read_transcript(candidate.transcript):
            result["problem"] = "the stored transcript differs from the local one"
            return result
        result["method"] += "; transcript text equal"
    result["ok"] = True
    return result
