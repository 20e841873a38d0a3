"""The Costs page's what-if widgets, built from the declared inputs (`costs.whatif`): their
labels, bounds, steps and help text are the ones the CLI's `cost` flags and the REST API's
GET /costs query take, so the page accepts what they accept."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from meeting_storage.costs.whatif import USAGE_INPUT, Kind

# A widget goes into the page or one of its columns or expanders.
Container = Any


def _help(name: str) -> str:
    text = USAGE_INPUT[name].help
    return f"{text[:1].upper()}{text[1:]}."


def count(container: Container, name: str, value: int, *, key: str) -> int:
    """A whole number within the input's bounds, starting at `value` (clamped into them: one
    very long recording in the history must not break the page)."""
    spec = USAGE_INPUT[name]
    assert spec.kind is Kind.COUNT
    low, high = int(spec.minimum), int(spec.maximum)
    chosen = container.number_input(
        spec.label,
        min_value=low,
        max_value=high,
        value=min(max(value, low), high),
        step=int(spec.step),
        key=key,
        help=_help(name),
    )
    return int(chosen)


def amount(container: Container, name: str, value: Decimal, *, key: str) -> Decimal:
    """An amount within the input's bounds, starting at `value` (clamped into them)."""
    spec = USAGE_INPUT[name]
    assert spec.kind is Kind.AMOUNT
    low, high = float(spec.minimum), float(spec.maximum)
    chosen = container.number_input(
        spec.label,
        min_value=low,
        max_value=high,
        value=min(max(float(value), low), high),
        step=float(spec.step),
        key=key,
        help=_help(name),
    )
    return Decimal(str(chosen))


def days(container: Container, name: str, value: int | None, *, key: str) -> int | None:
    """Days within the input's bounds, or 0 for not set (None): never archive or expire."""
    spec = USAGE_INPUT[name]
    assert spec.kind is Kind.DAYS
    high = int(spec.maximum)
    chosen = container.number_input(
        spec.label,
        min_value=0,
        max_value=high,
        value=min(value or 0, high),
        step=int(spec.step),
        key=key,
        help=_help(name),
    )
    return int(chosen) or None


def switch(container: Container, name: str, value: bool, *, key: str) -> bool:
    spec = USAGE_INPUT[name]
    assert spec.kind is Kind.FLAG
    return bool(container.toggle(spec.label, value=value, key=key, help=_help(name)))


def choice(
    container: Container,
    name: str,
    value: str,
    *,
    key: str,
    options: Sequence[str] | None = None,
    label_of: Callable[[str], str] = str,
    disabled: bool = False,
) -> str:
    """One of the input's choices (or of `options`, for a free-text input such as the
    Bedrock model), starting at `value`, shown as `label_of` names it."""
    spec = USAGE_INPUT[name]
    listed = list(options if options is not None else spec.choices)
    chosen = container.selectbox(
        spec.label,
        listed,
        index=listed.index(value) if value in listed else 0,
        format_func=label_of,
        key=key,
        help=_help(name),
        disabled=disabled,
    )
    return str(chosen)
