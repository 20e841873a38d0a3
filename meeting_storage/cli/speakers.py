"""Speaker commands: `speakers list ID` (with names suggested from introductions) and
`speakers rename ID OLD NEW`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from meeting_storage.cli.command import CommandParser
from meeting_storage.cli.text import printable, stored_message
from meeting_storage.service.facade import MeetingStorage


def add_speakers_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    speakers = commands.add_parser("speakers", help="a meeting's speakers and their names")
    speaker_commands = speakers.add_subparsers(
        dest="speakers_command", required=True, parser_class=CommandParser
    )
    listing = speaker_commands.add_parser(
        "list", parents=[common], help="the speakers, the names given and names suggested"
    )
    listing.add_argument("meeting_id")
    rename = speaker_commands.add_parser(
        "rename",
        parents=[common],
        help="rename a speaker everywhere: transcript, owners, decisions, search",
    )
    rename.add_argument("meeting_id")
    rename.add_argument("old", help='the speaker as the transcript names them (e.g. "Speaker B")')
    rename.add_argument("new", help="the name to give them")


def run_speakers(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    service = storage()
    if args.speakers_command == "rename":
        result = service.rename_speaker(args.meeting_id, args.old, args.new)
        human = f"Renamed {printable(args.old)} to {printable(args.new)} in {args.meeting_id}."
        if result.index_warning:
            human += "\n" + stored_message(result)
        return {**result.to_dict(), "_human": human}
    speakers = service.speakers(args.meeting_id)
    lines = [f"Speakers of {speakers.meeting_id}:"]
    originals = {name: label for label, name in speakers.names.items()}
    for speaker in speakers.speakers:
        line = f"  {printable(speaker)}"
        if speaker in originals:
            line += f"  (was {printable(originals[speaker])})"
        if speaker in speakers.suggestions:
            line += f"  suggested: {printable(speakers.suggestions[speaker])}"
        lines.append(line)
    if not speakers.speakers:
        lines.append("  none: the transcript names no speakers")
    return {**speakers.to_dict(), "_human": "\n".join(lines)}
