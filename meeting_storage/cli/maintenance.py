"""Keeping the storage in order: reindex, doctor, migrate, and the DynamoDB index table."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meeting_storage.cli.command import CommandParser
from meeting_storage.cli.text import progress_printer
from meeting_storage.core.settings import load_settings
from meeting_storage.ops.doctor import run_doctor as check_health
from meeting_storage.ops.migrate import migrate_folder
from meeting_storage.ops.reconcile import reconcile
from meeting_storage.ops.reindex import reindex as rebuild_index
from meeting_storage.service.facade import MeetingStorage


def add_reindex_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    reindex = commands.add_parser(
        "reindex", parents=[common], help="rebuild the index from the metadata.json files in S3"
    )
    reindex.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint of an interrupted run"
    )


def add_doctor_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    doctor = commands.add_parser(
        "doctor", parents=[common], help="check configuration and storage health"
    )
    doctor.add_argument(
        "--fix",
        action="store_true",
        help="repair drift: finish interrupted deletes, remove old leftovers, re-sync the index",
    )


def add_dynamodb_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    dynamodb = commands.add_parser("dynamodb", parents=[common], help="the DynamoDB index table")
    dynamodb_commands = dynamodb.add_subparsers(
        dest="dynamodb_command", required=True, parser_class=CommandParser
    )
    dynamodb_commands.add_parser(
        "create-table",
        parents=[common],
        help="create DYNAMODB_TABLE_NAME with on-demand billing (needs dynamodb:CreateTable)",
    )
    dynamodb_commands.add_parser(
        "cloudformation", parents=[common], help="print a CloudFormation template for the table"
    )


def add_migrate_parser(commands: Any, common: argparse.ArgumentParser) -> None:
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


def run_reindex(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    report = rebuild_index(service, progress=progress_printer(), restart=args.restart)
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


def run_doctor(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    report = check_health(storage(), fix=args.fix)
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


def run_dynamodb(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
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


def run_migrate(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    report = migrate_folder(
        storage(),
        args.folder,
        dry_run=args.dry_run,
        verify=args.verify,
        delete_local=args.delete_local,
        progress=progress_printer(),
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


def add_footprint_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    footprint = commands.add_parser(
        "footprint", parents=[common], help="the store's running totals and their reconciliation"
    )
    footprint_commands = footprint.add_subparsers(
        dest="footprint_command", required=True, parser_class=CommandParser
    )
    reconcile_parser = footprint_commands.add_parser(
        "reconcile",
        parents=[common],
        help="compare the totals with a listing (or the S3 Inventory report) and repair drift",
    )
    reconcile_parser.add_argument(
        "--check", action="store_true", help="only report the drift, change nothing"
    )


def run_footprint(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    result = reconcile(storage(), fix=not args.check)
    data = result.to_dict()
    lines = [
        f"{data['meetings']:,} meetings as of {result.as_of:%Y-%m-%d %H:%M} UTC (from the "
        f"{result.source}); {data['other_prefix_objects']:,} objects under other prefixes, "
        f"{data['noncurrent_objects']:,} noncurrent versions."
    ]
    lines += [f"  {d.name}: recorded {d.recorded:,}, actual {d.actual:,}" for d in result.drift]
    if not result.drift:
        lines.append("The running totals agreed.")
    elif result.repaired:
        lines.append(f"Repaired {len(result.drift)} total(s).")
    else:
        lines.append(f"{len(result.drift)} total(s) drifted; run without --check to repair.")
    return {
        **data,
        "_human": "\n".join(lines),
        "_exit_status": 1 if result.drift and not result.repaired else 0,
    }
