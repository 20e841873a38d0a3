"""`python -m meeting_storage COMMAND` (also `meeting-storage`): the command-line contract.

With --json every command prints one JSON object on stdout: {"success": true, ...} or
{"success": false, "error": {"code", "message"}}. Exit status: 0 success, 1 failure,
2 usage error. Expected errors never print a traceback.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from meeting_storage.cli import (
    access,
    costs,
    jobs,
    maintenance,
    meetings,
    recovery,
    servers,
    speakers,
)
from meeting_storage.cli.command import Command, UsageError
from meeting_storage.cli.parser import build_parser
from meeting_storage.core.errors import InternalError, MeetingStorageError
from meeting_storage.service.facade import MeetingStorage, open_storage

__all__ = ["build_parser", "main"]

logger = logging.getLogger(__name__)

_COMMANDS: dict[str, Command] = {
    "upload": meetings.run_upload,
    "process": meetings.run_process,
    "analyze": meetings.run_analyze,
    "attach-transcript": meetings.run_attach_transcript,
    "list": meetings.run_list,
    "show": meetings.run_show,
    "delete": meetings.run_delete,
    "speakers": speakers.run_speakers,
    "reindex": maintenance.run_reindex,
    "doctor": maintenance.run_doctor,
    "dynamodb": maintenance.run_dynamodb,
    "cost": costs.run_cost,
    "lifecycle": costs.run_lifecycle,
    "bucket": costs.run_bucket,
    "iam-policy": costs.run_iam_policy,
    "migrate": maintenance.run_migrate,
    "restore-audio": recovery.run_restore_audio,
    "deleted": recovery.run_deleted,
    "undelete": recovery.run_undelete,
    "embedded-s3": servers.run_embedded_s3,
    "dashboard": servers.run_dashboard,
    "serve": servers.run_serve,
    "footprint": maintenance.run_footprint,
    "token": access.run_token,
    "audit": access.run_audit,
    "worker": jobs.run_worker_command,
    "queue": jobs.run_queue,
}


def main(argv: Sequence[str] | None = None, *, storage: MeetingStorage | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args_list
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as exc:
        return _fail("usage", str(exc), as_json, status=2)
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
