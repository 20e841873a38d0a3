"""meeting_storage: keep meeting recordings and what is learned from them in Amazon S3.

The public API is small: build `Settings` (or call `load_settings()`), open a
`MeetingStorage`, and call its methods. Every expected failure is a `MeetingStorageError`.
"""

from meeting_storage.core.errors import (
    AccessDeniedError,
    BackendUnavailableError,
    ConfigurationError,
    ConflictError,
    FileTooLargeError,
    InternalError,
    InvalidInputError,
    MeetingStorageError,
    NotFoundError,
    NotSupportedError,
    TranscriptionError,
    UnsupportedMediaTypeError,
)
from meeting_storage.core.models import (
    DeletionReport,
    DoctorReport,
    Meeting,
    MeetingPage,
    MeetingRecord,
    ProcessResult,
    UploadedAudio,
)
from meeting_storage.core.settings import Settings, load_settings
from meeting_storage.index.query import MeetingFilter
from meeting_storage.service.facade import MeetingStorage, open_storage

__all__ = [
    "AccessDeniedError",
    "BackendUnavailableError",
    "ConfigurationError",
    "ConflictError",
    "DeletionReport",
    "DoctorReport",
    "FileTooLargeError",
    "InternalError",
    "InvalidInputError",
    "Meeting",
    "MeetingFilter",
    "MeetingPage",
    "MeetingRecord",
    "MeetingStorage",
    "MeetingStorageError",
    "NotFoundError",
    "NotSupportedError",
    "ProcessResult",
    "Settings",
    "TranscriptionError",
    "UnsupportedMediaTypeError",
    "UploadedAudio",
    "load_settings",
    "open_storage",
]
