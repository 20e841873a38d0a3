"""The what-if inputs are declared once (costs.whatif); the CLI's `cost` flags, the REST API's
GET /costs query and the Costs page's widgets are built from that declaration, so every face
takes the same inputs within the same bounds."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

import pytest

from meeting_storage import InvalidInputError, Settings
from meeting_storage.api.app import create_app
from meeting_storage.cli.main import build_parser
from meeting_storage.costs import whatif
from meeting_storage.costs.usage import Usage
from meeting_storage.costs.whatif import KEEP_FOREVER, MONTHS, USAGE_INPUTS, Kind
from ui import what_if

EVERY_INPUT = (MONTHS, *USAGE_INPUTS, KEEP_FOREVER)
BOUNDED = [spec for spec in EVERY_INPUT if spec.kind in (Kind.COUNT, Kind.DAYS, Kind.AMOUNT)]


def cost_options() -> dict[str, argparse.Action]:
    commands = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    cost = commands.choices["cost"]
    return {flag: action for action in cost._actions for flag in action.option_strings}


def costs_query() -> dict[str, dict[str, Any]]:
    app = create_app(settings=Settings(bucket="what-if", api_token="what-if-token-0123456789"))
    parameters = app.openapi()["paths"]["/api/costs"]["get"]["parameters"]
    return {p["name"]: p for p in parameters if p["in"] == "query"}


def test_usage_fields_are_the_declared_inputs_and_defaults() -> None:
    fields = Usage().to_dict()
    for spec in USAGE_INPUTS:
        assert getattr(Usage(), spec.name) == spec.default
    assert set(fields) - {spec.name for spec in USAGE_INPUTS} == {"views_per_meeting"}


def test_the_cli_has_an_option_for_every_declared_input() -> None:
    options = cost_options()
    for spec in EVERY_INPUT:
        assert spec.flag in options, spec.name
        assert options[spec.flag].help and spec.help in options[spec.flag].help
    choices = options[whatif.USAGE_INPUT["archive_storage_class"].flag].choices
    assert tuple(choices or ()) == whatif.USAGE_INPUT["archive_storage_class"].choices


def test_the_api_query_takes_every_declared_input_within_its_bounds() -> None:
    query = costs_query()
    assert set(query) == {spec.name for spec in EVERY_INPUT} | {"meetings"}
    for spec in BOUNDED:
        schema = query[spec.name]["schema"]
        bounded = next((s for s in schema.get("anyOf", []) if "maximum" in s), schema)
        assert (bounded["minimum"], bounded["maximum"]) == (spec.minimum, spec.maximum)


class Widgets:
    """Stands in for a Streamlit container: records each widget and answers its value."""

    def __init__(self) -> None:
        self.made: dict[str, dict[str, Any]] = {}

    def number_input(self, label: str, **options: Any) -> Any:
        self.made[label] = options
        return options["value"]


@pytest.mark.parametrize(
    "spec", [s for s in USAGE_INPUTS if s in BOUNDED], ids=lambda spec: spec.name
)
def test_the_page_widgets_take_the_declared_bounds(spec: whatif.WhatIfInput) -> None:
    widgets = Widgets()
    too_much = spec.maximum + 1
    if spec.kind is Kind.AMOUNT:
        assert what_if.amount(widgets, spec.name, Decimal(too_much), key="k") == spec.maximum
    elif spec.kind is Kind.COUNT:
        assert what_if.count(widgets, spec.name, too_much, key="k") == spec.maximum
    else:  # days: 0 on the page means not set
        assert what_if.days(widgets, spec.name, too_much, key="k") == spec.maximum
        assert what_if.days(widgets, spec.name, None, key="k") is None
    options = widgets.made[spec.label]
    assert options["max_value"] == spec.maximum
    assert options["min_value"] == (0 if spec.kind is Kind.DAYS else spec.minimum)


@pytest.mark.parametrize("spec", BOUNDED, ids=lambda spec: spec.name)
def test_each_bound_is_checked_where_it_is_declared(spec: whatif.WhatIfInput) -> None:
    too_much = spec.maximum + (Decimal("0.5") if spec.kind is Kind.AMOUNT else 1)
    with pytest.raises(InvalidInputError, match=f"{spec.flag} must be"):
        if spec is MONTHS:
            whatif.check_months(int(too_much), spec.flag)
        else:
            whatif.usage_overrides({spec.name: too_much}, names={spec.name: spec.flag})
    assert spec.check(spec.maximum) == spec.maximum
