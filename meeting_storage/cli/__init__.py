"""The command line: `meeting-storage` and `python -m meeting_storage`."""

from meeting_storage.cli.main import main

__all__ = ["main"]
