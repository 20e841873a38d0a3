"""The way back for a meeting: restore-audio (an archived recording), deleted and undelete
(a meeting deleted in a versioned bucket)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from meeting_storage.cli.text import printable
from meeting_storage.core.formatting import format_money
from meeting_storage.costs.pricing import RESTORE_TIERS
from meeting_storage.service.facade import RECENTLY_DELETED_DAYS, MeetingStorage
from meeting_storage.storage import archive


def add_restore_audio_parser(commands: Any, common: argparse.ArgumentParser) -> None:
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


def add_deleted_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    deleted = commands.add_parser(
        "deleted", parents=[common], help="list recently deleted meetings (versioned bucket)"
    )
    deleted.add_argument("--days", type=int, default=RECENTLY_DELETED_DAYS)


def add_undelete_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    undelete = commands.add_parser(
        "undelete", parents=[common], help="restore a recently deleted meeting"
    )
    undelete.add_argument("meeting_id")


def run_restore_audio(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    result = storage().restore_audio(args.meeting_id, days=args.days, tier=args.tier)
    human = (
        f"Restore {'requested' if result.requested else 'already in progress'} for "
        f"{result.meeting_id} ({args.tier} tier, {args.days} days, about "
        f"{format_money(result.estimated_cost_usd)}); status: {result.status.restore.replace('_', ' ')}."
    )
    return {**result.to_dict(), "_human": human}


def run_deleted(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    meetings = storage().recently_deleted(args.days)
    lines = [
        f"{m.deleted_at:%Y-%m-%d %H:%M}  {m.record.meeting_id}  "
        f"{printable(m.record.display_title)[:60]}"
        for m in meetings
    ] or [f"No meetings deleted in the last {args.days} days can be restored."]
    return {
        "meetings": [m.to_dict() for m in meetings],
        "count": len(meetings),
        "_human": "\n".join(lines),
    }


def run_undelete(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    record = storage().undelete(args.meeting_id)
    return {
        "meeting_id": record.meeting_id,
        "meeting": record.to_dict(),
        "_human": f"Restored {record.meeting_id} ({printable(record.display_title)}).",
    }
