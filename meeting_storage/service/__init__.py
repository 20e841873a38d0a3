"""The service: the one facade every face calls (`MeetingStorage`, `open_storage`)."""

from meeting_storage.service.facade import MeetingStorage, open_storage

__all__ = ["MeetingStorage", "open_storage"]
