"""GET /costs: the cost review, its what-if query parameters built from the inputs
costs.whatif declares (the CLI's `cost` options come from the same declaration)."""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal

from fastapi import Depends, Query

from meeting_storage.api.dependencies import Storage, token_router
from meeting_storage.api.errors import error_responses
from meeting_storage.api.schemas.costs import CostsResponse
from meeting_storage.costs import whatif
from meeting_storage.ops import cost_review

router = token_router()


def _what_if_parameter(spec: whatif.WhatIfInput) -> inspect.Parameter:
    """The query parameter of one declared what-if input, with its bounds. Usage inputs are
    optional (None: the bucket's value stays); the others default as declared."""
    value_type: Any
    query: Any
    other = whatif.conflicting(spec.name)
    description = f"{spec.help} (not with {other})" if other else spec.help
    if spec.kind in (whatif.Kind.COUNT, whatif.Kind.DAYS):
        value_type = int
        query = Query(ge=spec.minimum, le=spec.maximum, description=description)
    elif spec.kind is whatif.Kind.AMOUNT:
        value_type = float
        query = Query(ge=spec.minimum, le=spec.maximum, description=description)
    elif spec.kind is whatif.Kind.FLAG:
        value_type, query = bool, Query(description=description)
    elif spec.kind is whatif.Kind.CHOICE:
        value_type, query = Literal[spec.choices], Query(description=description)
    else:
        value_type = str
        query = Query(min_length=1, max_length=spec.maximum, description=description)
    if spec.name in whatif.USAGE_INPUT:
        value_type, default = value_type | None, None
    else:
        default = spec.default
    return inspect.Parameter(
        spec.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=default,
        annotation=Annotated[value_type, query],
    )


def _what_if_parameters() -> list[inspect.Parameter]:
    """months, then the usage inputs in their declared order, keep_forever after the one it
    excludes."""
    parameters = [_what_if_parameter(whatif.MONTHS)]
    for spec in whatif.USAGE_INPUTS:
        parameters.append(_what_if_parameter(spec))
        if spec.name == whatif.KEEP_FOREVER.excludes:
            parameters.append(_what_if_parameter(whatif.KEEP_FOREVER))
    return parameters


class WhatIfQuery:
    """GET /costs's what-if query parameters, one per declared input (costs.whatif). FastAPI
    reads them, with their bounds, from this dependency's signature; the values come back
    as given (None: not given)."""

    __signature__ = inspect.Signature(_what_if_parameters())

    def __call__(self, **values: Any) -> dict[str, Any]:
        return values


# The archive classes of the query, as the declaration lists them (a test checks they are
# the lifecycle policy's).
ArchiveClass: Any = Literal[whatif.USAGE_INPUT["archive_storage_class"].choices]


@router.get(
    "/costs",
    response_model=CostsResponse,
    response_model_exclude_unset=True,
    tags=["costs"],
    summary="Footprint, this month's cost and a projection, line by line",
    responses=error_responses(400, 422, 503),
)
def costs(
    storage: Storage,
    what_if: Annotated[dict[str, Any], Depends(WhatIfQuery())],
    meetings: Annotated[
        bool, Query(description="include footprint.meetings, one entry per stored meeting")
    ] = False,
) -> dict[str, Any]:
    """What `python -m meeting_storage cost --json` prints: the price table, what is stored,
    this calendar month's cost line by line, a month-by-month projection, and the projection
    with and without the lifecycle policy. The what-if inputs default to the bucket's recent
    history and set-up (its lifecycle policy, index backend, transcriber and extractor); each
    query parameter overrides one. 400 when both retention_days and keep_forever are given."""
    values = dict(what_if)
    months = whatif.check_months(values.pop(whatif.MONTHS.name))
    keep_forever = values.pop(whatif.KEEP_FOREVER.name)
    overrides = whatif.usage_overrides(values, keep_forever=keep_forever)
    report = cost_review.cost_report(storage, months=months, **overrides)
    return {"success": True, **report.to_dict(meetings=meetings)}
