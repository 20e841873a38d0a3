"""What every command module shares: the parser that reports a usage error instead of
exiting, and the shape of a command.

A command takes the parsed arguments and a way to open the storage (opened only by the
commands that need it) and returns its JSON object; two keys of that object are for the
terminal only: `_human`, the text printed without --json, and `_exit_status`, when a command
that ran reports a failure (an unhealthy doctor, a migration with failures).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NoReturn

from meeting_storage.service.facade import MeetingStorage


class UsageError(Exception):
    pass


class CommandParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


Command = Callable[[argparse.Namespace, Callable[[], MeetingStorage]], dict[str, Any]]
