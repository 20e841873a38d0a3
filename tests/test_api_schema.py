"""Property-based run of the REST API against its own OpenAPI document (schemathesis + moto).

Schemathesis generates requests from /openapi.json, valid and invalid, and checks that no
answer is a server error and that every answer matches the documented status codes, content
types and schemas. The number of examples per operation is bounded so the run stays short.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from meeting_storage import MeetingStorage, Settings
from meeting_storage.api.app import create_app
from meeting_storage.api.dependencies import get_storage

TOKEN = "schemathesis-token-0123456789"
MAX_EXAMPLES = 25

# The storage is swapped per test (a fresh moto bucket) through the dependency override.
app = create_app(settings=Settings(bucket="schema-bucket", api_token=TOKEN))
# The schema says what a request looks like; some rules it cannot express are refused with
# 400/415 by design (an opaque cursor, since before until, a recording's magic bytes, a declared
# content type), and 404/409/413 depend on what is stored and configured. Schema-valid requests
# must never get 422 or a 5xx.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "404", "409", "413", "415"]
            }
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)


@pytest.fixture
def api_storage(moto_storage: MeetingStorage) -> Iterator[MeetingStorage]:
    app.dependency_overrides[get_storage] = lambda: moto_storage
    yield moto_storage
    app.dependency_overrides.clear()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, api_storage: MeetingStorage) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
