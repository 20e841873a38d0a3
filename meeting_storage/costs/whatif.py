"""The what-if inputs of a cost projection, declared once.

Each input says what it is called on every face (the `Usage` field and REST API query
parameter, the CLI's --option, the Costs page's label), its kind and bounds, its default and
its help text. The CLI's `cost` flags, the GET /costs query and the Costs page's widgets are
built from these declarations, and `usage_overrides` checks values against them, so all faces
accept the same values and refuse the rest with the same message. Keeping amounts under a
million keeps every figure a finite float in JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from meeting_storage.core.errors import InvalidInputError
from meeting_storage.costs.pricing import ARCHIVE_CLASSES, DEFAULT_BEDROCK_MODEL, GLACIER

MAX_PROJECTION_MONTHS = 120
MAX_WHAT_IF_COUNT = 1_000_000
MAX_WHAT_IF_AMOUNT = 1_000_000
MAX_WHAT_IF_DAYS = 36_500
MAX_MODEL_ID_LENGTH = 2048


class Kind(StrEnum):
    COUNT = "count"  # a whole number from `minimum` to `maximum`
    DAYS = "days"  # whole days from `minimum` to `maximum`; not set (None): never
    AMOUNT = "amount"  # a Decimal from `minimum` to `maximum`
    FLAG = "flag"  # on or off
    CHOICE = "choice"  # one of `choices`
    TEXT = "text"  # text of 1 to `maximum` characters


@dataclass(frozen=True)
class WhatIfInput:
    """One what-if input: its names, kind, bounds, default and help text."""

    name: str  # the `Usage` field and the REST API's query parameter
    option: str  # the CLI's option, without the leading --
    label: str  # the Costs page's widget label
    unit: str
    kind: Kind
    help: str
    default: Any  # when neither the caller nor the bucket says otherwise
    from_history: bool = False  # True: the bucket's history and set-up give the default
    # Whole numbers: the bounds of counts and days, of amounts, or the length of a text.
    minimum: int = 0
    maximum: int = 0
    choices: tuple[str, ...] = ()
    step: int = 1  # the page's widget step
    excludes: str | None = None  # an input that cannot be given with this one

    @property
    def flag(self) -> str:
        return f"--{self.option}"

    @property
    def dest(self) -> str:
        """The attribute the CLI's parser stores the option in."""
        return self.option.replace("-", "_")

    def check(self, value: object, label: str | None = None) -> Any:
        """`value` as the projection takes it (an amount as a Decimal), or InvalidInputError
        naming the input as `label` (by default its name)."""
        named = label or self.name
        if self.kind in (Kind.COUNT, Kind.DAYS):
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not self.minimum <= value <= self.maximum
            ):
                days = " days" if self.kind is Kind.DAYS else ""
                raise InvalidInputError(
                    f"{named} must be from {self.minimum:,} to {self.maximum:,}{days}."
                )
            return value
        if self.kind is Kind.AMOUNT:
            amount = _amount(value, self.minimum, self.maximum)
            if amount is None:
                raise InvalidInputError(
                    f"{named} must be a number from {self.minimum:,} to {self.maximum:,}."
                )
            return amount
        if self.kind is Kind.FLAG:
            if not isinstance(value, bool):
                raise InvalidInputError(f"{named} must be true or false.")
            return value
        if self.kind is Kind.CHOICE:
            if value not in self.choices:
                raise InvalidInputError(f"{named} must be one of {', '.join(self.choices)}.")
            return value
        if not isinstance(value, str) or not 1 <= len(value) <= self.maximum:
            raise InvalidInputError(
                f"{named} must be a {self.unit} of 1 to {self.maximum:,} characters."
            )
        return value


def _amount(value: object, minimum: int, maximum: int) -> Decimal | None:
    """A Decimal within the bounds (floats by their shortest text, so 0.1 is 0.1), or None for
    anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not amount.is_finite() or not minimum <= amount <= maximum:
        return None
    return amount if amount else Decimal(0)  # no -0.0


MONTHS = WhatIfInput(
    "months",
    "months",
    "Months",
    "months",
    Kind.COUNT,
    "months to project",
    default=12,
    minimum=1,
    maximum=MAX_PROJECTION_MONTHS,
)
# The inputs that set a field of `Usage`, in the order the faces show them. Their defaults are
# the design document's example: 100 meetings a month, 50 MB of audio and 1 MB of documents.
USAGE_INPUTS = (
    WhatIfInput(
        "meetings_per_month",
        "meetings-per-month",
        "Meetings per month",
        "meetings",
        Kind.COUNT,
        "new meetings a month",
        default=100,
        from_history=True,
        maximum=MAX_WHAT_IF_COUNT,
        step=10,
    ),
    WhatIfInput(
        "average_minutes",
        "minutes",
        "Average length (minutes)",
        "minutes",
        Kind.AMOUNT,
        "average meeting length in minutes",
        default=Decimal(30),
        from_history=True,
        maximum=MAX_WHAT_IF_AMOUNT,
        step=5,
    ),
    WhatIfInput(
        "average_audio_mb",
        "audio-mb",
        "Average recording (MB)",
        "MB",
        Kind.AMOUNT,
        "average recording size in MB",
        default=Decimal(50),
        from_history=True,
        maximum=MAX_WHAT_IF_AMOUNT,
        step=5,
    ),
    WhatIfInput(
        "average_documents_kb",
        "documents-kb",
        "Transcript and analysis (KB)",
        "KB",
        Kind.AMOUNT,
        "average transcript and documents per meeting in KB",
        default=Decimal(1024),
        from_history=True,
        maximum=MAX_WHAT_IF_AMOUNT,
        step=64,
    ),
    WhatIfInput(
        "lifecycle",
        "lifecycle",
        "Lifecycle policy",
        "",
        Kind.FLAG,
        "archive recordings and expire meetings",
        default=False,
        from_history=True,
    ),
    WhatIfInput(
        "archive_days",
        "archive-days",
        "Archive recordings after (days, 0 = never)",
        "days",
        Kind.DAYS,
        "archive recordings after this many days",
        default=90,
        from_history=True,
        minimum=1,
        maximum=MAX_WHAT_IF_DAYS,
        step=30,
    ),
    WhatIfInput(
        "archive_storage_class",
        "archive-class",
        "Archive to",
        "",
        Kind.CHOICE,
        "the storage class recordings are archived to",
        default=GLACIER,
        from_history=True,
        choices=ARCHIVE_CLASSES,
    ),
    WhatIfInput(
        "retention_days",
        "retention-days",
        "Delete meetings after (days, 0 = keep)",
        "days",
        Kind.DAYS,
        "expire meetings after this many days",
        default=365,
        from_history=True,
        minimum=1,
        maximum=MAX_WHAT_IF_DAYS,
        step=30,
    ),
    WhatIfInput(
        "dynamodb",
        "dynamodb",
        "DynamoDB index",
        "",
        Kind.FLAG,
        "a DynamoDB index instead of the S3 JSON index",
        default=False,
        from_history=True,
    ),
    WhatIfInput(
        "transcribe",
        "transcribe",
        "Amazon Transcribe",
        "",
        Kind.FLAG,
        "transcribe every meeting with Amazon Transcribe ($ per audio minute)",
        default=False,
        from_history=True,
    ),
    WhatIfInput(
        "bedrock",
        "bedrock",
        "Bedrock summaries",
        "",
        Kind.FLAG,
        "extract the summary and action items with Amazon Bedrock ($ per token)",
        default=False,
        from_history=True,
    ),
    WhatIfInput(
        "bedrock_model_id",
        "bedrock-model",
        "Bedrock model",
        "Bedrock model id",
        Kind.TEXT,
        "the Bedrock model priced",
        default=DEFAULT_BEDROCK_MODEL,
        from_history=True,
        maximum=MAX_MODEL_ID_LENGTH,
    ),
    WhatIfInput(
        "plays_per_meeting",
        "plays-per-meeting",
        "Times each recording is played (downloads)",
        "plays",
        Kind.AMOUNT,
        "plays of each new recording (billed as data transfer)",
        default=Decimal(1),
        maximum=MAX_WHAT_IF_AMOUNT,
    ),
    WhatIfInput(
        "listings_per_month",
        "listings-per-month",
        "Meeting list views per month",
        "views",
        Kind.COUNT,
        "views of the meeting list a month",
        default=300,
        maximum=MAX_WHAT_IF_COUNT,
        step=50,
    ),
)
KEEP_FOREVER = WhatIfInput(
    "keep_forever",
    "keep-forever",
    "Keep meetings forever",
    "",
    Kind.FLAG,
    "never expire meetings",
    default=False,
    excludes="retention_days",
)
USAGE_INPUT = {spec.name: spec for spec in USAGE_INPUTS}


def conflicting(name: str) -> str | None:
    """The input that cannot be given together with input `name` (None: any can)."""
    if name == KEEP_FOREVER.name:
        return KEEP_FOREVER.excludes
    return KEEP_FOREVER.name if name == KEEP_FOREVER.excludes else None


USAGE_DEFAULTS: Mapping[str, Any] = {spec.name: spec.default for spec in USAGE_INPUTS}


def check_months(months: int, name: str = MONTHS.name) -> int:
    """The length of a projection: 1 to MAX_PROJECTION_MONTHS months."""
    checked: int = MONTHS.check(months, name)
    return checked


def usage_overrides(
    values: Mapping[str, Any],
    *,
    keep_forever: bool = False,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Checked `Usage` overrides from what-if inputs keyed by `Usage` field (None: not given,
    keep the default); `keep_forever` means no retention. Errors (InvalidInputError) name an
    input as `names` spells it (e.g. the CLI's --options), by default by its field name."""
    unknown = sorted(set(values) - set(USAGE_INPUT))
    if unknown:
        raise ValueError(f"not what-if inputs: {', '.join(unknown)}")

    def label(name: str) -> str:
        return (names or {}).get(name, name)

    overrides = {
        name: USAGE_INPUT[name].check(value, label(name))
        for name, value in values.items()
        if value is not None
    }
    if keep_forever:
        excluded = KEEP_FOREVER.excludes
        if excluded is not None and values.get(excluded) is not None:
            raise InvalidInputError(
                f"Give {label(excluded)} or {label(KEEP_FOREVER.name)}, not both."
            )
        overrides["retention_days"] = None
    return overrides
