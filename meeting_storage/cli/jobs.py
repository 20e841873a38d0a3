"""Job commands: `worker` (work the queue) and `queue` (create, status, notify, cloudformation)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from meeting_storage.cli.command import CommandParser
from meeting_storage.core.models import MeetingRecord
from meeting_storage.core.settings import load_settings
from meeting_storage.queue.sqs import cloudformation_template, create_queue_pair, make_sqs_client
from meeting_storage.service.facade import MeetingStorage
from meeting_storage.service.worker import WorkerInterrupted, run_worker


def add_worker_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    worker = commands.add_parser(
        "worker", parents=[common], help="process queued meetings (QUEUE_BACKEND) until stopped"
    )
    worker.add_argument(
        "--max-jobs", type=int, help="stop after this many messages (default: never)"
    )
    worker.add_argument(
        "--exit-when-empty", action="store_true", help="stop when the queue has nothing to do"
    )


def add_queue_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    queue = commands.add_parser("queue", parents=[common], help="the job queue")
    queue_commands = queue.add_subparsers(
        dest="queue_command", required=True, parser_class=CommandParser
    )
    create = queue_commands.add_parser(
        "create",
        parents=[common],
        help="create an SQS queue and its dead-letter queue (redrive policy); print the URLs",
    )
    create.add_argument("--name", default="meeting-jobs", help="queue name (default meeting-jobs)")
    queue_commands.add_parser(
        "status", parents=[common], help="messages waiting, in flight and dead-lettered"
    )
    queue_commands.add_parser(
        "notify",
        parents=[common],
        help="send the bucket's ObjectCreated events under meetings/ to the SQS queue",
    )
    template = queue_commands.add_parser(
        "cloudformation", parents=[common], help="print a CloudFormation template for the queues"
    )
    template.add_argument(
        "--name", default="meeting-jobs", help="queue name (default meeting-jobs)"
    )


def run_worker_command(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    """Work the queue. SIGTERM or Ctrl+C: finish the current job, then exit; a second one:
    give the current job back to the queue and exit at once."""
    service = storage()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise WorkerInterrupted()
        stop.set()
        print("Stopping after the current job (again to stop now).", file=sys.stderr, flush=True)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    as_json = bool(getattr(args, "json", False))

    def on_outcome(meeting_id: str, outcome: str) -> None:
        if not as_json:
            print(f"{meeting_id}: {outcome}", file=sys.stderr, flush=True)

    print(f"Worker on {service.queue.describe()}.", file=sys.stderr, flush=True)
    try:
        stats = run_worker(
            service,
            stop,
            max_jobs=args.max_jobs,
            exit_when_empty=args.exit_when_empty,
            on_outcome=on_outcome,
        )
        outcomes = stats.outcomes
    except WorkerInterrupted:
        outcomes = {"interrupted": 1}
    return {
        "outcomes": outcomes,
        "_human": "Worker stopped: "
        + (", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "no jobs"),
    }


def run_queue(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    if args.queue_command == "cloudformation":
        settings = load_settings(require_bucket=False)
        template = cloudformation_template(
            args.name, settings.job_max_attempts, settings.job_visibility_timeout
        )
        return {"template": template, "_human": json.dumps(template, indent=2)}
    if args.queue_command == "create":
        settings = load_settings(require_bucket=False)
        created = create_queue_pair(
            make_sqs_client(settings),
            args.name,
            max_receives=settings.job_max_attempts,
            visibility=settings.job_visibility_timeout,
        )
        return {
            **created,
            "_human": (
                f"Queue: {created['queue_url']}\nDead-letter queue: {created['dead_letter_url']} "
                f"(after {settings.job_max_attempts} receives)\nSet QUEUE_BACKEND=sqs and "
                f"QUEUE_URL={created['queue_url']} in .env."
            ),
        }
    service = storage()
    if args.queue_command == "notify":
        arn = service.notify_on_upload()
        return {
            "queue_arn": arn,
            "_human": f"ObjectCreated events under meetings/ now go to {arn}.",
        }
    counts = service.queue.counts()
    return {
        "queue": service.queue.describe(),
        "waiting": counts.waiting,
        "in_flight": counts.in_flight,
        "dead": counts.dead,
        "notes": list(counts.notes),
        "_human": "\n".join(
            [
                service.queue.describe(),
                f"waiting {counts.waiting}, in flight {counts.in_flight}, dead {counts.dead}",
                *counts.notes,
            ]
        ),
    }


def progress_line(record: MeetingRecord) -> str:
    """One line of a waiting command's progress."""
    line = f"{record.meeting_id}: {record.status}"
    if record.progress is not None and record.in_flight:
        line += f" ({record.progress:.0%})"
    if record.failure_reason:
        line += f" - {record.failure_reason}"
    return line
