"""Meeting commands: upload, process, analyze, attach-transcript, list, show, delete."""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from meeting_storage.analysis import parse_transcript
from meeting_storage.analysis.backends import make_extractor
from meeting_storage.analysis.extract import Extractor
from meeting_storage.analysis.kinds import KINDS
from meeting_storage.analysis.rule_based import RuleBasedExtractor
from meeting_storage.analysis.transcript import decode_transcript
from meeting_storage.cli.jobs import progress_line
from meeting_storage.cli.text import (
    analysis_text,
    archive_lines,
    meetings_table,
    printable,
    processing_cost_lines,
    stored_message,
)
from meeting_storage.core.analysis import requirements_to_json
from meeting_storage.core.errors import InvalidInputError, JobFailedError
from meeting_storage.core.models import STATUS_AWAITING_TRANSCRIPT, STATUS_FAILED, MeetingRecord
from meeting_storage.core.settings import load_settings
from meeting_storage.index import DEFAULT_LIMIT, MAX_LIMIT
from meeting_storage.index.query import MeetingFilter, parse_day
from meeting_storage.service.facade import MeetingStorage
from meeting_storage.service.worker import wait_for_meeting


def add_upload_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    upload = commands.add_parser("upload", parents=[common], help="upload a recording")
    upload.add_argument("audio", type=Path, help="audio or video file")
    upload.add_argument("--filename", help="file name to store it under (default: the file's)")


def add_process_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    process = commands.add_parser(
        "process", parents=[common], help="analyse a transcript and store the whole meeting"
    )
    # Without a transcript, a recording is stored as awaiting one (see `attach-transcript`).
    source = process.add_mutually_exclusive_group()
    source.add_argument("--text", help="the transcript text")
    source.add_argument(
        "--transcript",
        type=Path,
        help="a UTF-8 transcript: text, WebVTT (.vtt), SRT (.srt) or AWS Transcribe JSON",
    )
    audio = process.add_mutually_exclusive_group()
    audio.add_argument("--audio", type=Path, help="a recording to upload with the meeting")
    audio.add_argument("--audio-s3-key", help="a recording already uploaded (meetings/...)")
    process.add_argument("--filename", help="the meeting's file name")
    process.add_argument("--title", default="", help="a title for the meeting")
    process.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    process.add_argument(
        "--kind",
        help=f"the meeting's kind, which shapes the summary: {', '.join(KINDS)} "
        "(default: detected)",
    )
    # Waiting, this command works the queue itself while no worker takes the job (docs/queue.md).
    process.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="wait for the meeting's job, showing its progress (default); --no-wait: return "
        "the queued meeting at once",
    )


def add_analyze_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    analyze = commands.add_parser(
        "analyze",
        parents=[common],
        help="analyse a transcript without storing anything (no S3 settings needed)",
    )
    analyze.add_argument("--transcript", type=Path, required=True, help="the transcript file")
    analyze.add_argument(
        "--extractor",
        choices=["configured", "rule-based"],
        default="configured",
        help="configured: the EXTRACTOR setting (Bedrock when BEDROCK_MODEL_ID is set, any "
        "OpenAI-compatible server with EXTRACTOR=openai), else rule-based (default)",
    )


def add_attach_transcript_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    attach = commands.add_parser(
        "attach-transcript",
        parents=[common],
        help="give a stored meeting (e.g. one awaiting a transcript) its transcript",
    )
    attach.add_argument("meeting_id")
    attach_source = attach.add_mutually_exclusive_group(required=True)
    attach_source.add_argument("--text", help="the transcript text")
    attach_source.add_argument("--transcript", type=Path, help="a transcript file (any format)")


def add_list_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    listing = commands.add_parser("list", parents=[common], help="list meetings, newest first")
    listing.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"1-{MAX_LIMIT}")
    listing.add_argument("--cursor", help="next_cursor of the previous page")
    listing.add_argument(
        "--search",
        help="words to find (full-text with INDEX_BACKEND=sqlite/postgres: titles, file names, "
        "summaries, action items, requirements and transcripts)",
    )
    listing.add_argument("--from", dest="date_from", help="on or after this date (YYYY-MM-DD)")
    listing.add_argument("--to", dest="date_to", help="up to and including this date")
    open_items = listing.add_mutually_exclusive_group()
    open_items.add_argument(
        "--open-actions",
        dest="open_actions",
        action="store_const",
        const=True,
        help="only meetings with open action items",
    )
    open_items.add_argument(
        "--no-open-actions",
        dest="open_actions",
        action="store_const",
        const=False,
        help="only meetings without open action items",
    )
    listing.add_argument("--method", help="only this extraction method (e.g. rule_based)")
    listing.add_argument("--owner", help="only meetings with an action item owned by this person")
    listing.add_argument(
        "--uploaded-by", help="only meetings this person stored (an address, or local)"
    )


def add_show_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    show = commands.add_parser("show", parents=[common], help="show one meeting")
    show.add_argument("meeting_id")
    show.add_argument("--expires-in", type=int, help="audio URL lifetime in seconds")


def add_delete_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    delete = commands.add_parser("delete", parents=[common], help="delete a meeting completely")
    delete.add_argument("meeting_id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument(
        "--purge", action="store_true", help="in a versioned bucket, also remove every old version"
    )


def _open_file(path: Path, what: str) -> IO[bytes]:
    try:
        return path.open("rb")
    except FileNotFoundError as exc:
        raise InvalidInputError(f"The {what} {str(path)!r} does not exist.") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(f"The {what} {str(path)!r} is a folder, not a file.") from exc
    except PermissionError as exc:
        raise InvalidInputError(f"The {what} {str(path)!r} cannot be read (permission).") from exc
    except OSError as exc:  # a name too long for the file system, for example
        raise InvalidInputError(
            f"The {what} {str(path)!r} cannot be opened: {exc.strerror or exc}."
        ) from exc


def run_upload(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    name = args.filename or args.audio.name
    with _open_file(args.audio, "audio file") as handle:
        regular = stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
        if not regular:  # a pipe or a device: streamed as it is read
            uploaded = storage().upload_audio(handle, name)
    if regular:  # a file on disk: by its path, parts read as they are sent
        uploaded = storage().upload_audio_path(args.audio, name)
    return {
        "audio_s3_key": uploaded.audio_s3_key,
        "filename": uploaded.filename,
        "size": uploaded.size,
        "content_type": uploaded.content_type,
        "_human": f"Uploaded {uploaded.size} bytes to {uploaded.audio_s3_key}",
    }


def _read_transcript(path: Path) -> str:
    with _open_file(path, "transcript") as handle:
        return decode_transcript(handle.read(), f"transcript {path.name!r}")


def run_process(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    text = _read_transcript(args.transcript) if args.transcript is not None else args.text
    transcript_name = args.transcript.name if args.transcript is not None else None
    if text is None and args.audio is None and args.audio_s3_key is None:
        raise InvalidInputError("Give --text or --transcript, and/or --audio or --audio-s3-key.")
    service = storage()
    if args.audio is not None:
        with _open_file(args.audio, "audio file") as handle:
            submitted = service.submit_meeting(
                text,
                audio_file=handle,
                audio_filename=args.audio.name,
                filename=args.filename,
                title=args.title,
                tags=args.tag,
                transcript_filename=transcript_name,
                kind=args.kind,
            )
    else:
        submitted = service.submit_meeting(
            text,
            audio_s3_key=args.audio_s3_key,
            filename=args.filename,
            title=args.title,
            tags=args.tag,
            transcript_filename=transcript_name,
            kind=args.kind,
        )
    if not args.wait:
        return {
            **submitted.to_dict(),
            "_human": f"Queued meeting {submitted.record.meeting_id}; a worker processes it "
            f"(`show {submitted.record.meeting_id}` tells how far it is).",
        }
    as_json = bool(getattr(args, "json", False))

    def on_status(record: MeetingRecord) -> None:
        if not as_json:
            print(progress_line(record), file=sys.stderr, flush=True)

    record = wait_for_meeting(service, submitted.record.meeting_id, on_status=on_status)
    if record.status == STATUS_FAILED:
        raise JobFailedError(
            f"Meeting {record.meeting_id} failed at {record.failed_step or 'a step'}: "
            f"{record.failure_reason} Retry it from the dashboard or with `doctor --fix`."
        )
    result = service.result_of(record, submitted.index_warning)
    return {**result.to_dict(), "_human": stored_message(result)}


def run_analyze(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    text = _read_transcript(args.transcript)
    transcript = parse_transcript(text, args.transcript.name)
    if args.extractor == "rule-based":
        extractor: Extractor = RuleBasedExtractor()
    else:
        extractor = make_extractor(load_settings(require_bucket=False))
    started = time.perf_counter()
    extraction = extractor.extract(transcript)
    elapsed = time.perf_counter() - started
    result = {
        "meeting_summary": extraction.summary.to_json(),
        "requirements": requirements_to_json(extraction.requirements),
        "extraction_method": extraction.method,
        "bedrock_used": extraction.bedrock_used,
        "notes": list(extraction.notes),
        "dropped_items": extraction.dropped_items,
        "transcript": {
            "format": transcript.format,
            "speakers": transcript.speakers,
            "utterances": len(transcript.utterances),
            "words": transcript.word_count,
            "duration_seconds": transcript.duration_seconds,
        },
        "elapsed_seconds": round(elapsed, 4),
    }
    return {
        **result,
        "_human": analysis_text(extraction.summary, extraction.requirements, extraction.notes),
    }


def run_attach_transcript(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    text = _read_transcript(args.transcript) if args.transcript is not None else args.text
    name = args.transcript.name if args.transcript is not None else None
    result = storage().attach_transcript(args.meeting_id, text, transcript_filename=name)
    return {**result.to_dict(), "_human": stored_message(result)}


def _filters(args: argparse.Namespace) -> MeetingFilter | None:
    filters = MeetingFilter(
        date_from=parse_day(args.date_from) if args.date_from else None,
        date_to=parse_day(args.date_to, end=True) if args.date_to else None,
        has_open_action_items=args.open_actions,
        extraction_method=(args.method or "").strip() or None,
        owner=(args.owner or "").strip() or None,
        uploaded_by=(args.uploaded_by or "").strip() or None,
    )
    return None if filters.is_empty else filters


def run_list(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    page = storage().list_meetings(
        limit=args.limit, cursor=args.cursor, search=args.search, filters=_filters(args)
    )
    meetings = []
    for record in page.meetings:
        data = record.to_dict()
        if record.meeting_id in page.snippets:
            data["snippet"] = page.snippets[record.meeting_id]
        meetings.append(data)
    result: dict[str, Any] = {
        "meetings": meetings,
        "count": len(meetings),
        "next_cursor": page.next_cursor,
        "_human": meetings_table(page, searching=bool((args.search or "").strip())),
    }
    if args.search:
        result["ranked"] = page.ranked
        result["search_note"] = page.search_note
    return result


def run_show(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    meeting = service.get_meeting(args.meeting_id)
    data = meeting.to_dict()
    if args.expires_in is not None and meeting.audio_url:
        data["audio_url"] = service.presign_audio(args.meeting_id, args.expires_in)
    record = meeting.record
    lines = [
        f"{record.meeting_id}  {record.timestamp.isoformat()}  {printable(record.display_title)}",
        f"Audio: {data['audio_url'] or meeting.audio_unavailable_reason}",
        *archive_lines(meeting.audio_archive),
        *processing_cost_lines(record, service.prices),
        "",
    ]
    if record.status == STATUS_AWAITING_TRANSCRIPT:
        lines.append(
            f"Awaiting a transcript: attach-transcript {record.meeting_id} --transcript FILE"
        )
        lines += [f"Note: {printable(note)}" for note in record.notes]
    else:
        lines.append(analysis_text(meeting.summary, meeting.requirements, record.notes))
    return {"meeting": data, "_human": "\n".join(lines)}


def run_delete(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    if not args.yes:
        record = service.get_record(args.meeting_id)
        if not sys.stdin.isatty():
            raise InvalidInputError(
                f"Refusing to delete {args.meeting_id} without confirmation; pass --yes."
            )
        try:
            answer = input(
                f"Delete {record.meeting_id} ({printable(record.display_title)}) and all its "
                "files? Type the meeting id to confirm: "
            )
        except EOFError:  # Ctrl+D at the prompt: no confirmation
            answer = ""
        if answer.strip() != record.meeting_id:
            raise InvalidInputError("Not deleted: the confirmation did not match the meeting id.")
    report = service.delete_meeting(args.meeting_id, purge=args.purge)
    kind = "permanently " if report.purged else ""
    human = f"Deleted {kind}{report.meeting_id}: {len(report.deleted)} object(s)\n" + "\n".join(
        f"  {key}" for key in report.deleted
    )
    return {**report.to_dict(), "_human": human}
