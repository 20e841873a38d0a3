"""`python -m meeting_storage COMMAND` (also `meeting-storage`): the command-line contract.

With --json every command prints one JSON object on stdout: {"success": true, ...} or
{"success": false, "error": {"code", "message"}}. Exit status: 0 success, 1 failure,
2 usage error. Expected errors never print a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, NoReturn

from meeting_storage.analysis import parse_transcript
from meeting_storage.analysis.backends import make_extractor
from meeting_storage.analysis.extract import Extractor
from meeting_storage.analysis.rule_based import RuleBasedExtractor
from meeting_storage.analysis.transcript import decode_transcript
from meeting_storage.core.analysis import Requirement, Summary, requirements_to_json
from meeting_storage.core.errors import InternalError, InvalidInputError, MeetingStorageError
from meeting_storage.core.formatting import format_money, human_size
from meeting_storage.core.models import (
    STATUS_AWAITING_TRANSCRIPT,
    MeetingPage,
    MeetingRecord,
    ProcessResult,
)
from meeting_storage.core.settings import Settings, load_settings
from meeting_storage.costs import whatif
from meeting_storage.costs.pricing import ARCHIVE_CLASSES, GLACIER, RESTORE_TIERS, PriceTable
from meeting_storage.costs.review import CostReport
from meeting_storage.index import DEFAULT_LIMIT, MAX_LIMIT
from meeting_storage.index.query import HIGHLIGHT, MeetingFilter, parse_day
from meeting_storage.ops import iam, lifecycle
from meeting_storage.ops.cost_review import cost_report, lifecycle_savings
from meeting_storage.ops.doctor import run_doctor
from meeting_storage.ops.hardening import bucket_state, harden_bucket
from meeting_storage.ops.migrate import migrate_folder
from meeting_storage.ops.reindex import reindex as rebuild_index
from meeting_storage.render.report import analysis_lines, processing_breakdown, summary_line
from meeting_storage.service.facade import RECENTLY_DELETED_DAYS, MeetingStorage, open_storage
from meeting_storage.storage import archive
from meeting_storage.storage.embedded import EmbeddedS3

DEFAULT_DASHBOARD_PORT = 8501
logger = logging.getLogger(__name__)


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser = _Parser(
        prog="meeting-storage",
        description="Store, list, show, play and delete meeting recordings and their analysis in S3.",
    )
    # Also accepted before the command (`--json list`); main() looks for it anywhere in argv.
    parser.add_argument(
        "--json", action="store_true", dest="json_first", help="print one JSON object on stdout"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    upload = commands.add_parser("upload", parents=[common], help="upload a recording")
    upload.add_argument("audio", type=Path, help="audio or video file")
    upload.add_argument("--filename", help="file name to store it under (default: the file's)")

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
        help="configured: Bedrock when BEDROCK_MODEL_ID is set, else rule-based (default)",
    )

    attach = commands.add_parser(
        "attach-transcript",
        parents=[common],
        help="give a stored meeting (e.g. one awaiting a transcript) its transcript",
    )
    attach.add_argument("meeting_id")
    attach_source = attach.add_mutually_exclusive_group(required=True)
    attach_source.add_argument("--text", help="the transcript text")
    attach_source.add_argument("--transcript", type=Path, help="a transcript file (any format)")

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

    show = commands.add_parser("show", parents=[common], help="show one meeting")
    show.add_argument("meeting_id")
    show.add_argument("--expires-in", type=int, help="audio URL lifetime in seconds")

    delete = commands.add_parser("delete", parents=[common], help="delete a meeting completely")
    delete.add_argument("meeting_id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument(
        "--purge", action="store_true", help="in a versioned bucket, also remove every old version"
    )

    reindex = commands.add_parser(
        "reindex", parents=[common], help="rebuild the index from the metadata.json files in S3"
    )
    reindex.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint of an interrupted run"
    )
    doctor = commands.add_parser(
        "doctor", parents=[common], help="check configuration and storage health"
    )
    doctor.add_argument(
        "--fix",
        action="store_true",
        help="repair drift: finish interrupted deletes, remove old leftovers, re-sync the index",
    )

    dynamodb = commands.add_parser("dynamodb", parents=[common], help="the DynamoDB index table")
    dynamodb_commands = dynamodb.add_subparsers(
        dest="dynamodb_command", required=True, parser_class=_Parser
    )
    dynamodb_commands.add_parser(
        "create-table",
        parents=[common],
        help="create DYNAMODB_TABLE_NAME with on-demand billing (needs dynamodb:CreateTable)",
    )
    dynamodb_commands.add_parser(
        "cloudformation", parents=[common], help="print a CloudFormation template for the table"
    )

    restore = commands.add_parser(
        "restore-audio", parents=[common], help="restore a meeting's archived recording"
    )
    restore.add_argument("meeting_id")
    restore.add_argument(
        "--days",
        type=int,
        default=archive.DEFAULT_RESTORE_DAYS,
        help="keep the restored copy this many days",
    )
    restore.add_argument(
        "--tier",
        choices=RESTORE_TIERS,
        default=archive.DEFAULT_RESTORE_TIER,
        help="retrieval tier (Bulk is cheapest, Expedited fastest)",
    )

    deleted = commands.add_parser(
        "deleted", parents=[common], help="list recently deleted meetings (versioned bucket)"
    )
    deleted.add_argument("--days", type=int, default=RECENTLY_DELETED_DAYS)
    undelete = commands.add_parser(
        "undelete", parents=[common], help="restore a recently deleted meeting"
    )
    undelete.add_argument("meeting_id")

    _add_cost_parser(commands, common)
    _add_lifecycle_parser(commands, common)

    bucket = commands.add_parser("bucket", help="the bucket's hardening state")
    bucket_commands = bucket.add_subparsers(
        dest="bucket_command", required=True, parser_class=_Parser
    )
    bucket_commands.add_parser(
        "show", parents=[common], help="versioning, encryption, public access block, lifecycle"
    )
    harden = bucket_commands.add_parser(
        "harden",
        parents=[common],
        help="turn on versioning, default encryption and the public access block",
    )
    harden.add_argument("--dry-run", action="store_true", help="only say what would change")

    policy = commands.add_parser(
        "iam-policy", parents=[common], help="print the least-privilege IAM policy"
    )
    policy.add_argument("--restore", action="store_true", help="allow restoring archived audio")
    policy.add_argument(
        "--admin",
        action="store_true",
        help="allow `bucket harden`, `lifecycle apply` and `dynamodb create-table` "
        "(an administrator's policy)",
    )
    policy.add_argument(
        "--no-versioning",
        action="store_true",
        help="leave out old-version actions (purge, recently deleted, undelete)",
    )
    policy.add_argument("--transcribe", action="store_true", help="allow Amazon Transcribe")
    policy.add_argument("--bedrock-model", help="allow invoking this Bedrock model id")
    policy.add_argument("--dynamodb-table", help="allow this DynamoDB index table")
    policy.add_argument("--kms-key-arn", help="allow the bucket's SSE-KMS key")

    migrate = commands.add_parser(
        "migrate", parents=[common], help="import an existing uploads/ folder"
    )
    migrate.add_argument("folder", type=Path)
    migrate.add_argument("--dry-run", action="store_true", help="only say what would happen")
    migrate.add_argument(
        "--verify", action="store_true", help="compare what is in S3 with the local files"
    )
    migrate.add_argument(
        "--delete-local",
        action="store_true",
        help="delete local files that verified (implies --verify)",
    )

    embedded = commands.add_parser(
        "embedded-s3",
        parents=[common],
        help="run the local SeaweedFS server for a loopback endpoint",
    )
    embedded.add_argument("--data-dir", type=Path, default=Path(".data/s3"))

    dashboard = commands.add_parser(
        "dashboard",
        parents=[common],
        help="run the Streamlit dashboard (and the local SeaweedFS server for a loopback endpoint)",
    )
    dashboard.add_argument("--app", type=Path, default=Path("app.py"), help="the dashboard script")
    dashboard.add_argument(
        "--port", type=int, help=f"default {DEFAULT_DASHBOARD_PORT}, or a free one"
    )
    dashboard.add_argument("--address", default="127.0.0.1", help="address to listen on")
    dashboard.add_argument("--data-dir", type=Path, default=Path(".data/s3"))

    serve = commands.add_parser(
        "serve", parents=[common], help="serve the REST API (OpenAPI docs at /docs)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    return parser


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of at least 0")
    return value


def _add_cost_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    cost = commands.add_parser(
        "cost",
        parents=[common],
        help="this month's cost and a projection, line by line",
        description="What-if inputs default to the bucket's recent history and its lifecycle "
        "policy; every flag overrides one.",
    )
    months = whatif.MONTHS
    cost.add_argument(
        months.flag,
        type=int,
        default=months.default,
        help=f"{months.help} ({months.minimum}-{months.maximum})",
    )
    keep_forever = whatif.KEEP_FOREVER
    for spec in whatif.USAGE_INPUTS:
        if spec.name == keep_forever.excludes:
            either = cost.add_mutually_exclusive_group()
            _add_what_if_option(either, spec)
            either.add_argument(keep_forever.flag, action="store_true", help=keep_forever.help)
        else:
            _add_what_if_option(cost, spec)
    cost.add_argument("--csv", type=Path, help="also write every line item to this CSV file")


# How the `cost` options of what-if inputs read their text; flags and choices aside.
_WHAT_IF_TYPES: dict[whatif.Kind, Callable[[str], Any]] = {
    whatif.Kind.COUNT: int,
    whatif.Kind.DAYS: int,
    whatif.Kind.AMOUNT: _decimal,
    whatif.Kind.TEXT: str,
}


def _add_what_if_option(parser: Any, spec: whatif.WhatIfInput) -> None:
    """The `cost` option of one what-if input; not given (None), the bucket's value stays."""
    if spec.kind is whatif.Kind.FLAG:
        parser.add_argument(spec.flag, action=argparse.BooleanOptionalAction, help=spec.help)
    elif spec.kind is whatif.Kind.CHOICE:
        parser.add_argument(spec.flag, choices=spec.choices, help=spec.help)
    else:
        parser.add_argument(spec.flag, type=_WHAT_IF_TYPES[spec.kind], help=spec.help)


def _add_lifecycle_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("lifecycle", help="the bucket's lifecycle policy")
    actions = parser.add_subparsers(dest="lifecycle_command", required=True, parser_class=_Parser)
    actions.add_parser("show", parents=[common], help="the rules and their projected savings")
    apply = actions.add_parser(
        "apply", parents=[common], help="archive recordings and expire whole meetings"
    )
    apply.add_argument("--archive-days", type=int, default=lifecycle.DEFAULT_ARCHIVE_DAYS)
    apply.add_argument("--archive-class", choices=ARCHIVE_CLASSES, default=GLACIER)
    apply.add_argument("--no-archive", action="store_true", help="keep recordings in Standard")
    expiry = apply.add_mutually_exclusive_group()
    expiry.add_argument("--expire-days", type=int, default=lifecycle.DEFAULT_EXPIRE_DAYS)
    expiry.add_argument("--keep-forever", action="store_true", help="never expire meetings")
    apply.add_argument(
        "--noncurrent-days",
        type=int,
        default=lifecycle.DEFAULT_NONCURRENT_DAYS,
        help="keep deleted versions (the undelete window) this many days",
    )
    apply.add_argument("--dry-run", action="store_true", help="show the rules, write nothing")


def main(argv: Sequence[str] | None = None, *, storage: MeetingStorage | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args_list
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as exc:
        return _fail("usage", str(exc), as_json, status=2)
    command: Callable[[argparse.Namespace, Callable[[], MeetingStorage]], dict[str, Any]]
    command = _COMMANDS[args.command]
    cached: list[MeetingStorage] = [storage] if storage is not None else []

    def get_storage() -> MeetingStorage:
        if not cached:
            cached.append(open_storage())
        return cached[0]

    with _bug_log() as log_path:
        try:
            result = command(args, get_storage)
        except InternalError as exc:
            return _fail_with_bug(exc, log_path, as_json)
        except MeetingStorageError as exc:
            return _fail(exc.code, exc.message, as_json, status=exc.exit_status)
        except KeyboardInterrupt:
            return _fail("interrupted", "Interrupted.", as_json, status=130)
        except Exception as exc:  # a bug: one line here, its traceback in the log file
            logger.error("Unexpected error in the %r command", args.command, exc_info=exc)
            return _fail_with_bug(InternalError.of(exc), log_path, as_json)
    status = int(result.pop("_exit_status", 0))
    human = result.pop("_human", None)
    if as_json:
        print(json.dumps({"success": True, **result}, ensure_ascii=False, indent=2, default=str))
    elif human:
        print(human)
    return status


def _fail(code: str, message: str, as_json: bool, *, status: int) -> int:
    if as_json:
        print(json.dumps({"success": False, "error": {"code": code, "message": message}}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return status


@contextlib.contextmanager
def _bug_log() -> Iterator[Path]:
    """While a command runs, the package's errors (a bug's traceback) go to a file in the
    temporary folder, created only if one is written: never onto the terminal."""
    path = Path(tempfile.gettempdir()) / f"meeting-storage-{os.getuid()}-errors.log"
    handler = logging.FileHandler(path, delay=True, encoding="utf-8")
    handler.setLevel(logging.ERROR)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    package = logging.getLogger("meeting_storage")
    package.addHandler(handler)
    try:
        yield path
    finally:
        package.removeHandler(handler)
        handler.close()


def _fail_with_bug(error: InternalError, log_path: Path, as_json: bool) -> int:
    message = f"{error.message} The log is {log_path}."
    if not as_json:
        message = f"{error.code}: {message}"
    return _fail(error.code, message, as_json, status=error.exit_status)


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


def _cmd_upload(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    with _open_file(args.audio, "audio file") as handle:
        size = os.fstat(handle.fileno()).st_size
        uploaded = storage().upload_audio(handle, args.filename or args.audio.name, size=size)
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


def _cmd_process(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    text = _read_transcript(args.transcript) if args.transcript is not None else args.text
    transcript_name = args.transcript.name if args.transcript is not None else None
    if text is None and args.audio is None and args.audio_s3_key is None:
        raise InvalidInputError("Give --text or --transcript, and/or --audio or --audio-s3-key.")
    service = storage()
    if args.audio is not None:
        with _open_file(args.audio, "audio file") as handle:
            result = service.process(
                text,
                audio_file=handle,
                audio_filename=args.audio.name,
                filename=args.filename,
                title=args.title,
                tags=args.tag,
                transcript_filename=transcript_name,
            )
    else:
        result = service.process(
            text,
            audio_s3_key=args.audio_s3_key,
            filename=args.filename,
            title=args.title,
            tags=args.tag,
            transcript_filename=transcript_name,
        )
    return {**result.to_dict(), "_human": _stored_message(result)}


def _stored_message(result: ProcessResult) -> str:
    record = result.record
    if record.status == STATUS_AWAITING_TRANSCRIPT:
        lines = [f"Stored {record.meeting_id} with its recording, awaiting a transcript."]
    else:
        lines = [
            f"Stored {record.meeting_id}: {record.action_items_count} action item(s), "
            f"{record.requirements_count} requirement(s).",
            _printable(summary_line(result.summary)),
        ]
    lines += [f"Note: {_printable(note)}" for note in record.notes]
    if result.index_warning:
        lines.append(f"warning: {result.index_warning}")
    return "\n".join(lines)


def _cmd_analyze(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
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
        "_human": _analysis_text(extraction.summary, extraction.requirements, extraction.notes),
    }


def _analysis_text(
    summary: Summary, requirements: Sequence[Requirement], notes: Sequence[str] = ()
) -> str:
    lines = [_printable(line) for line in analysis_lines(summary, requirements)]
    lines += [f"Note: {_printable(note)}" for note in notes]
    return "\n".join(lines)


def _cmd_attach_transcript(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    text = _read_transcript(args.transcript) if args.transcript is not None else args.text
    name = args.transcript.name if args.transcript is not None else None
    result = storage().attach_transcript(args.meeting_id, text, transcript_filename=name)
    return {**result.to_dict(), "_human": _stored_message(result)}


def _filters(args: argparse.Namespace) -> MeetingFilter | None:
    filters = MeetingFilter(
        date_from=parse_day(args.date_from) if args.date_from else None,
        date_to=parse_day(args.date_to, end=True) if args.date_to else None,
        has_open_action_items=args.open_actions,
        extraction_method=(args.method or "").strip() or None,
        owner=(args.owner or "").strip() or None,
    )
    return None if filters.is_empty else filters


def _cmd_list(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
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
        "_human": _table(page, searching=bool((args.search or "").strip())),
    }
    if args.search:
        result["ranked"] = page.ranked
        result["search_note"] = page.search_note
    return result


def _table(page: MeetingPage, *, searching: bool = False) -> str:
    records = page.meetings
    if not records:
        if searching:
            return "No meetings match." + (
                f"\nNote: {page.search_note}" if page.search_note else ""
            )
        return "No meetings stored yet. Store one with `process --transcript FILE`."
    rows = [("DATE (UTC)", "MEETING ID", "ACTIONS", "REQS", "TITLE / FILE")]
    for r in records:
        rows.append(
            (
                r.timestamp.strftime("%Y-%m-%d %H:%M"),
                r.meeting_id,
                str(r.action_items_count),
                str(r.requirements_count),
                _printable(r.display_title)[:60],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)]
        lines.append("  ".join([*cells, row[4]]))
        snippet = page.snippets.get(records[n - 1].meeting_id) if n else None
        if snippet:
            shown = _printable(snippet.replace("\n", " ")).replace(HIGHLIGHT, "")
            if sys.stdout.isatty():
                shown = _printable(snippet.replace("\n", " "))
                shown = _bold(shown)
            lines.append(" " * (widths[0] + 2) + shown[:160])
    if page.next_cursor:
        lines.append(f"More: --cursor {page.next_cursor}")
    if page.search_note:
        lines.append(f"Note: {page.search_note}")
    return "\n".join(lines)


def _bold(snippet: str) -> str:
    """Matched words (between ** markers) in bold on a terminal."""
    parts = snippet.split(HIGHLIGHT)
    return "".join(f"\033[1m{part}\033[0m" if n % 2 else part for n, part in enumerate(parts))


def _processing_cost_lines(record: MeetingRecord, prices: PriceTable) -> list[str]:
    """The recorded processing cost and what it was made of, on one line (none if unknown)."""
    if record.processing_cost_usd is None:
        return []
    parts = ", ".join(_printable(part) for part in processing_breakdown(record, prices))
    return [f"Processing cost: {format_money(record.processing_cost_usd)} ({parts})"]


def _printable(text: str) -> str:
    """Terminal-safe text: no escape sequences from user-supplied names."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _cmd_show(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    meeting = service.get_meeting(args.meeting_id)
    data = meeting.to_dict()
    if args.expires_in is not None and meeting.audio_url:
        data["audio_url"] = service.presign_audio(args.meeting_id, args.expires_in)
    record = meeting.record
    lines = [
        f"{record.meeting_id}  {record.timestamp.isoformat()}  {_printable(record.display_title)}",
        f"Audio: {data['audio_url'] or meeting.audio_unavailable_reason}",
        *_archive_lines(meeting.audio_archive),
        *_processing_cost_lines(record, service.prices),
        "",
    ]
    if record.status == STATUS_AWAITING_TRANSCRIPT:
        lines.append(
            f"Awaiting a transcript: attach-transcript {record.meeting_id} --transcript FILE"
        )
        lines += [f"Note: {_printable(note)}" for note in record.notes]
    else:
        lines.append(_analysis_text(meeting.summary, meeting.requirements, record.notes))
    return {"meeting": data, "_human": "\n".join(lines)}


def _cmd_delete(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    if not args.yes:
        record = service.get_record(args.meeting_id)
        if not sys.stdin.isatty():
            raise InvalidInputError(
                f"Refusing to delete {args.meeting_id} without confirmation; pass --yes."
            )
        try:
            answer = input(
                f"Delete {record.meeting_id} ({_printable(record.display_title)}) and all its "
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


def _progress_printer() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        rate = done / max(time.monotonic() - started, 1e-6)
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if done == total else ""
        print(f"\r[{bar}] {done}/{total} ({rate:.0f}/s)", end=end, file=sys.stderr, flush=True)

    return show


def _cmd_reindex(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    report = rebuild_index(service, progress=_progress_printer(), restart=args.restart)
    human = (
        f"Indexed {report.indexed} of {report.total} meeting(s) into "
        f"{service.index.describe()}"
        + (" (continued an interrupted run)" if report.resumed_after else "")
        + f"; removed {report.removed} stale entr(ies)."
    )
    if report.unreadable:
        human += f"\nSkipped {len(report.unreadable)} unreadable metadata.json: " + ", ".join(
            report.unreadable[:5]
        )
    return {**report.to_dict(), "_human": human}


def _cmd_doctor(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    report = run_doctor(storage(), fix=args.fix)
    marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
    lines = [f"[FIX ] {repair.message}" for repair in report.repairs]
    if args.fix and not report.repairs:
        lines.append("[FIX ] nothing to repair")
    for check in report.checks:
        lines.append(f"[{marks[check.status]}] {check.name}: {check.message}")
        if check.fix and check.status != "ok":
            lines.append(f"       fix: {check.fix}")
    return {
        **report.to_dict(),
        "_human": "\n".join(lines),
        "_exit_status": 0 if report.healthy else 1,
    }


def _archive_lines(status: Any) -> list[str]:
    if status is None or not status.archived:
        return []
    line = f"Archive: {status.storage_class}, restore {status.restore.replace('_', ' ')}"
    if status.restored_until is not None:
        line += f" (playable until {status.restored_until.isoformat()})"
    return [line]


def _usage_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The `cost` options given, checked, as overrides of the bucket's what-if inputs."""
    keep_forever = whatif.KEEP_FOREVER
    return whatif.usage_overrides(
        {spec.name: getattr(args, spec.dest) for spec in whatif.USAGE_INPUTS},
        keep_forever=getattr(args, keep_forever.dest),
        names={spec.name: spec.flag for spec in (*whatif.USAGE_INPUTS, keep_forever)},
    )


def _cmd_cost(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    months = whatif.check_months(args.months, whatif.MONTHS.flag)
    report = cost_report(storage(), months=months, **_usage_overrides(args))
    if args.csv is not None:
        try:
            with args.csv.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerows(report.csv_rows())
        except OSError as exc:
            raise InvalidInputError(f"Cannot write {str(args.csv)!r}: {exc.strerror}.") from exc
    data = report.to_dict()
    if args.csv is not None:
        data["csv"] = str(args.csv)
    return {**data, "_human": _cost_table(report)}


def _cost_table(report: CostReport) -> str:
    prices, footprint = report.prices, report.footprint
    lines = [
        f"Prices: {prices.region}, list prices of {prices.date.isoformat()} (USD)",
        f"Stored: {human_size(footprint.total_bytes)} in {footprint.object_count} objects, "
        f"{len(footprint.meetings)} meetings",
    ]
    for prefix, tally in footprint.by_prefix.items():
        lines.append(f"  {prefix:<16} {human_size(tally.bytes):>14}  {tally.objects} objects")
    for name, tally in footprint.by_storage_class.items():
        lines.append(f"  {name:<16} {human_size(tally.bytes):>14}  {tally.objects} objects")
    if footprint.noncurrent is not None:
        lines.append(f"  {'old versions':<16} {human_size(footprint.noncurrent.bytes):>14}")
    lines += ["", f"This month: {format_money(report.monthly.total_usd)}"]
    for item in report.monthly.items:
        lines.append(
            f"  {item.name:<62} {item.quantity:>12.4f} {item.unit:<28} {format_money(item.usd):>12}"
        )
    usage = report.usage
    lines += [
        "",
        f"Projection ({usage.meetings_per_month} new meeting(s) a month of "
        f"{usage.average_minutes} min and {usage.average_audio_mb} MB; lifecycle "
        f"{'on' if usage.lifecycle else 'off'}):",
    ]
    for month in report.projection:
        stored = sum(month.stored_bytes.values())
        lines.append(
            f"  month {month.month:>3}: {month.meetings_stored:>7} meetings "
            f"{human_size(stored):>12} {format_money(month.total_usd):>12}"
        )
    comparison = report.lifecycle
    lines += [
        "",
        f"Over {len(comparison.with_lifecycle)} months: "
        f"{format_money(sum(comparison.without_lifecycle, Decimal(0)))} without lifecycle, "
        f"{format_money(sum(comparison.with_lifecycle, Decimal(0)))} with it "
        + (
            f"(saves {format_money(comparison.savings_usd)})"
            if comparison.savings_usd >= 0
            else f"(costs {format_money(-comparison.savings_usd)} more)"
        ),
    ]
    if report.notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in report.notes)]
    return "\n".join(lines)


def _cmd_lifecycle(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    service = storage()
    if args.lifecycle_command == "show":
        rules = lifecycle.bucket_rules(service)
        policy = lifecycle.LifecyclePolicy.from_rules(rules)
        problems = [{"status": s, "message": m} for s, m in lifecycle.rule_problems(rules)]
        savings = lifecycle_savings(service, policy or lifecycle.LifecyclePolicy())
        lines = [
            f"Policy: {policy.describe()}" if policy else "Policy: none from this tool",
            *(f"  rule {rule.get('ID', '?')}: {json.dumps(rule)}" for rule in rules),
            *(f"{p['status'].upper()}: {p['message']}" for p in problems),
            _savings_line(savings, applied=policy is not None),
        ]
        if policy is None:
            lines.append("Apply one with `lifecycle apply` (see `lifecycle apply --help`).")
        return {
            "rules": rules,
            "policy": policy.to_dict() if policy else None,
            "description": policy.describe() if policy else None,
            "problems": problems,
            "projected_savings": savings.to_dict(),
            "_human": "\n".join(lines),
        }
    proposed = lifecycle.LifecyclePolicy(
        archive_days=None if args.no_archive else args.archive_days,
        archive_storage_class=args.archive_class,
        expire_days=None if args.keep_forever else args.expire_days,
        noncurrent_days=args.noncurrent_days,
    )
    change = lifecycle.apply_lifecycle(service, proposed, dry_run=args.dry_run)
    savings = lifecycle_savings(service, proposed)
    verb = "Would apply" if args.dry_run else "Applied"
    lines = [
        f"{verb}: {proposed.describe()}",
        *(f"  rule {rule.get('ID', '?')}: {json.dumps(rule)}" for rule in change.after),
        _savings_line(savings, applied=True),
    ]
    return {
        **change.to_dict(),
        "projected_savings": savings.to_dict(),
        "_human": "\n".join(lines),
    }


def _savings_line(savings: Any, *, applied: bool) -> str:
    what = "This policy" if applied else "The default policy"
    months = len(savings.with_lifecycle)
    if savings.savings_usd >= 0:
        effect = f"saves {format_money(savings.savings_usd)}"
    else:
        effect = f"costs {format_money(-savings.savings_usd)} more (transitions cost more than they save)"
    return f"{what} {effect} over {months} months at the bucket's recent rate of meetings."


def _cmd_bucket(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    if args.bucket_command == "show":
        state = bucket_state(service)
        data = state.to_dict()
        lines = [f"{name}: {value}" for name, value in data.items() if name != "problems"]
        lines += [f"note: {problem}" for problem in state.problems]
        return {**data, "_human": "\n".join(lines)}
    report = harden_bucket(service, dry_run=args.dry_run)
    if not report.changes:
        human = f"s3://{service.settings.bucket} needs no changes."
    else:
        verb = "Would change" if args.dry_run else "Changed"
        human = "\n".join(
            f"{verb} {change.setting}: {change.before} -> {change.after}"
            for change in report.changes
        )
    if report.after.problems:
        human += "\n" + "\n".join(f"note: {problem}" for problem in report.after.problems)
    return {**report.to_dict(), "_human": human}


def _cmd_iam_policy(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    settings = storage().settings
    overrides: dict[str, Any] = {
        "versioning": not args.no_versioning,
        "restore": args.restore,
        "admin": args.admin,
        "transcribe": args.transcribe,
        "bedrock_model_id": args.bedrock_model,
        "kms_key_arn": args.kms_key_arn,
    }
    if args.dynamodb_table:
        overrides["dynamodb_table"] = args.dynamodb_table
    features = iam.PolicyFeatures.from_settings(settings, **overrides)
    document = iam.build_policy(settings.bucket, settings.region, features)
    return {
        "policy": document,
        "features": features.to_dict(),
        "_human": json.dumps(document, indent=2),
    }


def _cmd_migrate(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    report = migrate_folder(
        storage(),
        args.folder,
        dry_run=args.dry_run,
        verify=args.verify,
        delete_local=args.delete_local,
        progress=_progress_printer(),
    )
    counts = report.to_dict()["counts"]
    verb = "Would import" if args.dry_run else "Imported"
    lines = [
        f"{verb} {counts['imported']}, skipped {counts['skipped']}, failed {counts['failed']}"
        + (
            f"; verified {counts['verified']}, verification failed {counts['verification_failed']}"
            if report.verified
            else ""
        )
        + (
            f"; {'would delete' if args.dry_run else 'deleted'} {counts['deleted_local']} "
            "local file(s)"
            if args.delete_local
            else ""
        )
    ]
    for item in report.imported:
        lines.append(f"  imported {item['path']} -> {item.get('meeting_id') or '(dry run)'}")
    for item in report.skipped:
        lines.append(f"  skipped  {item['path']}: {item['reason']}")
    for item in report.failed:
        lines.append(f"  FAILED   {item['path']}: {item['error']['message']}")
    for item in report.verified:
        if not item["ok"]:
            lines.append(f"  NOT VERIFIED {item['path']}: {item['problem']}")
    return {
        **report.to_dict(),
        "_human": "\n".join(lines),
        "_exit_status": 0 if report.ok else 1,
    }


def _cmd_restore_audio(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    result = storage().restore_audio(args.meeting_id, days=args.days, tier=args.tier)
    human = (
        f"Restore {'requested' if result.requested else 'already in progress'} for "
        f"{result.meeting_id} ({args.tier} tier, {args.days} days, about "
        f"{format_money(result.estimated_cost_usd)}); status: {result.status.restore.replace('_', ' ')}."
    )
    return {**result.to_dict(), "_human": human}


def _cmd_deleted(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    meetings = storage().recently_deleted(args.days)
    lines = [
        f"{m.deleted_at:%Y-%m-%d %H:%M}  {m.record.meeting_id}  "
        f"{_printable(m.record.display_title)[:60]}"
        for m in meetings
    ] or [f"No meetings deleted in the last {args.days} days can be restored."]
    return {
        "meetings": [m.to_dict() for m in meetings],
        "count": len(meetings),
        "_human": "\n".join(lines),
    }


def _cmd_undelete(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    record = storage().undelete(args.meeting_id)
    return {
        "meeting_id": record.meeting_id,
        "meeting": record.to_dict(),
        "_human": f"Restored {record.meeting_id} ({_printable(record.display_title)}).",
    }


def _cmd_dynamodb(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    from meeting_storage.index.dynamodb import cloudformation_template, create_table
    from meeting_storage.storage.aws import make_dynamodb_client

    settings = load_settings()
    table = settings.dynamodb_table_name
    if args.dynamodb_command == "cloudformation":
        template = cloudformation_template(table)
        return {"template": template, "_human": json.dumps(template, indent=2)}
    created = create_table(make_dynamodb_client(settings), table)
    where = settings.dynamodb_endpoint_url or f"AWS {settings.region}"
    human = (
        f"Created DynamoDB table {table} (on-demand) on {where}."
        if created
        else f"DynamoDB table {table} already exists on {where}."
    )
    if settings.index_backend != "dynamodb":
        human += " Set USE_DYNAMODB=true to use it, then run `reindex`."
    else:
        human += " Run `reindex` to fill it from S3."
    return {"table": table, "created": created, "_human": human}


def _embedded_server(settings: Settings, data_dir: Path) -> EmbeddedS3 | None:
    """The local SeaweedFS server for a loopback endpoint, or None for any other endpoint."""
    from urllib.parse import urlparse

    from meeting_storage.storage.embedded import DEFAULT_S3_PORT, EmbeddedS3, is_loopback_endpoint

    if not is_loopback_endpoint(settings.s3_endpoint_url):
        return None
    if not (settings.aws_access_key_id and settings.aws_secret_access_key):
        raise InvalidInputError(
            "The embedded server needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in .env "
            "(copy .env.example)."
        )
    port = urlparse(settings.s3_endpoint_url).port or DEFAULT_S3_PORT
    return EmbeddedS3(
        data_dir,
        access_key=settings.aws_access_key_id,
        secret_key=settings.aws_secret_access_key,
        s3_port=port,
    )


def _cmd_embedded_s3(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    settings: Settings = load_settings()
    server = _embedded_server(settings, args.data_dir)
    if server is None:
        return {
            "started": False,
            "_human": f"Using {settings.s3_endpoint_url or 'AWS S3'}; no local server needed.",
        }
    # Stop SeaweedFS (its own process group) on SIGTERM too, not only on Ctrl+C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    with server:
        server.ensure_bucket(settings.bucket, settings.region)
        print(
            f"SeaweedFS S3 on {server.endpoint_url}, bucket {settings.bucket}, data in "
            f"{args.data_dir}. Press Ctrl+C to stop.",
            file=sys.stderr,
            flush=True,
        )
        try:
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return {"started": True, "_human": "Stopped."}


def _cmd_serve(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    import secrets
    from dataclasses import replace

    import uvicorn

    from meeting_storage.api.app import check_bind_address, create_app

    if not 0 <= args.port <= 65535:
        raise InvalidInputError(f"--port must be between 0 and 65535, not {args.port}.")
    settings: Settings = load_settings()
    check_bind_address(args.host, settings.api_token)
    if settings.api_token is None:
        # Loopback only (checked above): a fresh token for this run, shown to whoever started it.
        settings = replace(settings, api_token=secrets.token_urlsafe(32))
        print(
            f"API_TOKEN is not set; the token for this run is: {settings.api_token}\n"
            "Set API_TOKEN in .env to keep one across restarts.",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(settings=settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"REST API on http://{shown}:{args.port} (docs at /docs). Press Ctrl+C to stop.",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        server_header=False,
        proxy_headers=False,
        log_level="info",
    )
    return {"started": True, "_human": "Stopped."}


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _cmd_dashboard(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    """Start the local S3 server when the endpoint is loopback, then `streamlit run` the app
    as a child process; Ctrl+C or SIGTERM stops both, and so does either one exiting."""
    import subprocess

    from meeting_storage.storage.embedded import exit_with_parent, free_port, port_is_free

    app = args.app.resolve()
    if not app.is_file():
        raise InvalidInputError(
            f"The dashboard script {str(args.app)!r} does not exist; run this from the "
            "project folder (where app.py is) or pass --app."
        )
    settings: Settings = load_settings()
    port = args.port or (
        DEFAULT_DASHBOARD_PORT if port_is_free(DEFAULT_DASHBOARD_PORT) else free_port()
    )
    host = "localhost" if args.address in {"127.0.0.1", "0.0.0.0", "::"} else args.address  # noqa: S104
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    server = _embedded_server(settings, args.data_dir)
    dashboard: subprocess.Popen[bytes] | None = None
    status = 0
    try:
        if server is not None:
            server.start()
            server.ensure_bucket(settings.bucket, settings.region)
            where = f"SeaweedFS S3 on {server.endpoint_url} (data in {args.data_dir})"
        else:
            where = settings.s3_endpoint_url or f"AWS S3 in {settings.region}"
        dashboard = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(app),
                "--server.port",
                str(port),
                "--server.address",
                args.address,
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=app.parent,
            stdin=subprocess.DEVNULL,
            preexec_fn=exit_with_parent,  # one prctl call between fork and exec
        )
        print(
            f"Storage: bucket {settings.bucket} via {where}.\n"
            f"Dashboard: http://{host}:{port}  (Ctrl+C stops it"
            + (" and the local S3 server)" if server is not None else ")"),
            file=sys.stderr,
            flush=True,
        )
        while dashboard.poll() is None:
            if server is not None and (server.process is None or server.process.poll() is not None):
                print(f"error: SeaweedFS stopped; see {server.log_path}", file=sys.stderr)
                status = 1
                break
            time.sleep(0.5)
        else:
            status = dashboard.returncode
    except KeyboardInterrupt:
        pass
    finally:
        if dashboard is not None and dashboard.poll() is None:
            dashboard.terminate()
            try:
                dashboard.wait(timeout=15)
            except subprocess.TimeoutExpired:
                dashboard.kill()
                dashboard.wait()
        if server is not None:
            server.stop()
    return {"started": True, "_human": "Stopped.", "_exit_status": status}


_COMMANDS: dict[
    str, Callable[[argparse.Namespace, Callable[[], MeetingStorage]], dict[str, Any]]
] = {
    "upload": _cmd_upload,
    "process": _cmd_process,
    "analyze": _cmd_analyze,
    "attach-transcript": _cmd_attach_transcript,
    "list": _cmd_list,
    "show": _cmd_show,
    "delete": _cmd_delete,
    "reindex": _cmd_reindex,
    "doctor": _cmd_doctor,
    "dynamodb": _cmd_dynamodb,
    "cost": _cmd_cost,
    "lifecycle": _cmd_lifecycle,
    "bucket": _cmd_bucket,
    "iam-policy": _cmd_iam_policy,
    "migrate": _cmd_migrate,
    "restore-audio": _cmd_restore_audio,
    "deleted": _cmd_deleted,
    "undelete": _cmd_undelete,
    "embedded-s3": _cmd_embedded_s3,
    "dashboard": _cmd_dashboard,
    "serve": _cmd_serve,
}
