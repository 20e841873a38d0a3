"""Field types that accept only what a JSON client means: text that can be stored, ISO 8601
date-times in UTC, integers that are integers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from meeting_storage.core.errors import InvalidInputError

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _utf8_text(value: str) -> str:
    """Refuse lone surrogates (valid JSON escapes, but not text that can be stored)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc
    return value


def _iso_only(value: Any) -> Any:
    """Date-times as ISO 8601 text only: no numbers read as Unix time by accident."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 date-time such as 2026-01-15T09:30:00Z")
    return value


def _json_integer(value: Any) -> Any:
    """A JSON integer (6795 or 6795.0), not a string or a boolean that merely converts to one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


def _utc(value: datetime) -> datetime:
    """An aware UTC datetime; times without a zone are taken as UTC."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        # A valid date-time that UTC cannot hold (before year 1): a 400 like the other rules
        # the schema cannot express, not a 422 for a request the schema allows.
        raise InvalidInputError(
            "The time is out of range once converted to UTC; give a later time."
        ) from exc


Text = Annotated[str, AfterValidator(_utf8_text)]
# After the constraints in Annotated[...], so that they stay in the JSON schema.
JSON_INTEGER = BeforeValidator(_json_integer)
UtcDatetime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_utc)]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
