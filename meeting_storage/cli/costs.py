"""What the bucket costs and how it is kept: cost, lifecycle, bucket, iam-policy."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from meeting_storage.cli.command import CommandParser
from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.formatting import format_money, human_size
from meeting_storage.costs import whatif
from meeting_storage.costs.pricing import ARCHIVE_CLASSES, GLACIER
from meeting_storage.costs.review import CostReport
from meeting_storage.ops import iam, lifecycle
from meeting_storage.ops.cost_review import cost_report, lifecycle_savings
from meeting_storage.ops.hardening import bucket_state, harden_bucket
from meeting_storage.service.facade import MeetingStorage


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a number of at least 0")
    return value


def add_cost_parser(commands: Any, common: argparse.ArgumentParser) -> None:
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


def add_lifecycle_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("lifecycle", help="the bucket's lifecycle policy")
    actions = parser.add_subparsers(
        dest="lifecycle_command", required=True, parser_class=CommandParser
    )
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
    apply.add_argument(
        "--audit-days",
        type=int,
        default=lifecycle.DEFAULT_AUDIT_DAYS,
        help="keep the audit trail (audit/) this many days",
    )
    apply.add_argument("--dry-run", action="store_true", help="show the rules, write nothing")


def add_bucket_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    bucket = commands.add_parser("bucket", help="the bucket's hardening state")
    bucket_commands = bucket.add_subparsers(
        dest="bucket_command", required=True, parser_class=CommandParser
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


def add_iam_policy_parser(commands: Any, common: argparse.ArgumentParser) -> None:
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


def _usage_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The `cost` options given, checked, as overrides of the bucket's what-if inputs."""
    keep_forever = whatif.KEEP_FOREVER
    return whatif.usage_overrides(
        {spec.name: getattr(args, spec.dest) for spec in whatif.USAGE_INPUTS},
        keep_forever=getattr(args, keep_forever.dest),
        names={spec.name: spec.flag for spec in (*whatif.USAGE_INPUTS, keep_forever)},
    )


def run_cost(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
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


def run_lifecycle(
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
        audit_days=args.audit_days,
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


def run_bucket(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
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


def run_iam_policy(
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
