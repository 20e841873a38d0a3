"""The command line's parser: the commands of every group, in the order `--help` lists them."""

from __future__ import annotations

import argparse

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
from meeting_storage.cli.command import CommandParser


def build_parser() -> argparse.ArgumentParser:
    common = CommandParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser = CommandParser(
        prog="meeting-storage",
        description="Store, list, show, play and delete meeting recordings and their analysis in S3.",
    )
    # Also accepted before the command (`--json list`); main() looks for it anywhere in argv.
    parser.add_argument(
        "--json", action="store_true", dest="json_first", help="print one JSON object on stdout"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for add_parser in (
        meetings.add_upload_parser,
        meetings.add_process_parser,
        meetings.add_analyze_parser,
        meetings.add_attach_transcript_parser,
        meetings.add_list_parser,
        meetings.add_show_parser,
        meetings.add_delete_parser,
        speakers.add_speakers_parser,
        maintenance.add_reindex_parser,
        maintenance.add_doctor_parser,
        maintenance.add_dynamodb_parser,
        recovery.add_restore_audio_parser,
        recovery.add_deleted_parser,
        recovery.add_undelete_parser,
        costs.add_cost_parser,
        costs.add_lifecycle_parser,
        costs.add_bucket_parser,
        costs.add_iam_policy_parser,
        maintenance.add_migrate_parser,
        servers.add_embedded_s3_parser,
        servers.add_dashboard_parser,
        servers.add_serve_parser,
        maintenance.add_footprint_parser,
        access.add_token_parser,
        access.add_audit_parser,
        jobs.add_worker_parser,
        jobs.add_queue_parser,
    ):
        add_parser(commands, common)
    return parser
