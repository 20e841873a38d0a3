"""token create / list / revoke, and audit: the personal API tokens and the audit trail."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from meeting_storage.cli.text import printable
from meeting_storage.core.access import Role
from meeting_storage.index.query import parse_day
from meeting_storage.service.facade import MeetingStorage
from meeting_storage.service.tokens import DEFAULT_EXPIRES_DAYS


def add_token_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    token = commands.add_parser("token", help="personal REST API tokens")
    actions = token.add_subparsers(dest="action", required=True)
    create = actions.add_parser(
        "create", parents=[common], help="a new token for one person and role, shown once"
    )
    create.add_argument("--email", required=True, help="whom the token acts as")
    create.add_argument("--role", required=True, choices=[role.value for role in Role])
    create.add_argument("--name", default="", help="what the token is for")
    create.add_argument(
        "--expires-days",
        type=int,
        default=DEFAULT_EXPIRES_DAYS,
        help=f"valid this many days (default {DEFAULT_EXPIRES_DAYS})",
    )
    actions.add_parser("list", parents=[common], help="every token, without secrets")
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a token for good")
    revoke.add_argument("token_id")


def add_audit_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    audit = commands.add_parser("audit", parents=[common], help="who did what, newest first")
    audit.add_argument("--since", help="on or after this date (YYYY-MM-DD) or date-time")
    audit.add_argument("--meeting", help="only this meeting's events")
    audit.add_argument("--actor", help="only this person's events (an address, or local)")


def run_token(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    if args.action == "create":
        created = service.create_token(
            args.email, args.role, name=args.name, expires_days=args.expires_days
        )
        human = (
            f"Token {created.record.token_id} for {created.record.email} "
            f"({created.record.role}), valid until {created.record.expires_at:%Y-%m-%d}. "
            "It is shown this once; send it as `Authorization: Bearer <token>`:\n"
            f"{created.token}"
        )
        return {**created.to_dict(), "_human": human}
    if args.action == "list":
        tokens = service.list_tokens()
        lines = [
            f"{t.token_id}  {printable(t.email)[:40]:<40} {t.role:<7} "
            f"{'revoked' if t.revoked_at else 'expires ' + (t.expires_at.date().isoformat() if t.expires_at else 'never')}"
            f"  {printable(t.name)[:30]}"
            for t in tokens
        ] or ["No API tokens."]
        return {"tokens": [t.to_dict() for t in tokens], "_human": "\n".join(lines)}
    record = service.revoke_token(args.token_id)
    return {**record.to_dict(), "_human": f"Revoked {record.token_id} ({record.email})."}


def run_audit(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    since = parse_day(args.since) if args.since else None
    events = storage().audit_events(since, args.meeting, args.actor)
    lines = [
        f"{e.at:%Y-%m-%d %H:%M:%S}  {printable(e.actor)[:30]:<30} {e.action:<26} "
        f"{e.outcome:<9} {e.meeting_id or ''}"
        for e in events
    ] or ["No audit events."]
    return {"events": [e.to_dict() for e in events], "_human": "\n".join(lines)}
