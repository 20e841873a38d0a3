"""Choosing an index backend: settings, the factory, DynamoDB table creation and its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from meeting_storage import ConfigurationError, MeetingStorage, Settings
from meeting_storage.cli.main import main
from meeting_storage.core.retry import retrying
from meeting_storage.index.dynamodb import DynamoDbIndex, cloudformation_template
from meeting_storage.index.s3json import S3JsonIndex
from meeting_storage.index.sql import SqlIndex
from meeting_storage.ops.doctor import run_doctor
from tests.conftest import REGION

BASE = {"S3_BUCKET_NAME": "my-meetings", "AWS_REGION": "eu-west-1"}


def settings_of(**env: str) -> Settings:
    return Settings.from_mapping({**BASE, **env})


def test_backend_choice() -> None:
    assert settings_of().index_backend == "s3json"
    dynamo = settings_of(USE_DYNAMODB="true")
    assert dynamo.index_backend == "dynamodb" and dynamo.use_dynamodb
    assert dynamo.dynamodb_table_name == "meeting-metadata"
    assert settings_of(INDEX_BACKEND="dynamodb", DYNAMODB_TABLE_NAME="team1").use_dynamodb
    sqlite = settings_of(INDEX_BACKEND="sqlite", LOCAL_DATA_DIR="/srv/data")
    assert sqlite.resolved_database_url == "sqlite:////srv/data/index.sqlite3"
    pg = settings_of(INDEX_BACKEND="postgres", DATABASE_URL="postgresql://u:p@db/meetings")
    assert pg.resolved_database_url == "postgresql://u:p@db/meetings"
    assert settings_of(DATABASE_URL="postgresql://x/y").database_url is None  # unused


def test_dynamodb_endpoint_follows_the_sdk_convention() -> None:
    both = settings_of(AWS_ENDPOINT_URL="http://127.0.0.1:8333")
    assert both.s3_endpoint_url == both.dynamodb_endpoint_url == "http://127.0.0.1:8333"
    split = settings_of(
        AWS_ENDPOINT_URL="http://127.0.0.1:8333",
        AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:4567/",
    )
    assert split.s3_endpoint_url == "http://127.0.0.1:8333"
    assert split.dynamodb_endpoint_url == "http://127.0.0.1:4567"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INDEX_BACKEND": "mongodb"}, "INDEX_BACKEND 'mongodb' is not available"),
        ({"USE_DYNAMODB": "true", "INDEX_BACKEND": "sqlite"}, "USE_DYNAMODB=true asks for"),
        ({"USE_DYNAMODB": "maybe"}, "USE_DYNAMODB must be true or false"),
        ({"INDEX_BACKEND": "postgres"}, "DATABASE_URL not configured"),
        (
            {"INDEX_BACKEND": "postgres", "DATABASE_URL": "mysql://x/y"},
            "must start with postgresql://",
        ),
        ({"INDEX_BACKEND": "sqlite", "DATABASE_URL": "postgresql://x/y"}, "sqlite:///path"),
        ({"USE_DYNAMODB": "true", "DYNAMODB_TABLE_NAME": "a b"}, "not a valid table name"),
        ({"AWS_ENDPOINT_URL_DYNAMODB": "localhost:4567"}, "is not a URL like http://"),
    ],
)
def test_invalid_index_settings_are_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        settings_of(**env)


def test_factory_builds_the_configured_backend(moto_settings: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    assert isinstance(MeetingStorage(moto_settings).index, S3JsonIndex)
    dynamo = MeetingStorage(replace(moto_settings, index_backend="dynamodb", use_dynamodb=True))
    assert isinstance(dynamo.index, DynamoDbIndex)
    sqlite = MeetingStorage(replace(moto_settings, index_backend="sqlite"))
    assert isinstance(sqlite.index, SqlIndex)
    assert sqlite.index.check().startswith("SQLite index")
    assert (tmp_path / "local" / "index.sqlite3").is_file()


def test_missing_dynamodb_table_says_how_to_fix_it(
    moto_settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    settings = replace(moto_settings, index_backend="dynamodb", use_dynamodb=True)
    storage = MeetingStorage(settings)
    with pytest.raises(ConfigurationError) as caught:
        storage.list_meetings()
    message = caught.value.message
    assert "DynamoDB table not found" in message
    assert "dynamodb create-table" in message and "USE_DYNAMODB=false" in message
    doctor = {c.name: c for c in run_doctor(storage).checks}
    assert doctor["index backend"].status == "fail"
    assert "create-table" in doctor["index backend"].fix
    # process still stores the meeting, and says it is not listed yet
    result = storage.process("Alice: We decided to keep going with the plan.")
    assert not result.indexed and "DynamoDB table not found" in (result.index_warning or "")


def test_create_table_command(
    moto_settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "S3_BUCKET_NAME": moto_settings.bucket,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "test-access-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret-key",
        "USE_DYNAMODB": "true",
        "DYNAMODB_TABLE_NAME": "team-meetings",
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["dynamodb", "create-table", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"success": True, "table": "team-meetings", "created": True}
    table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName="team-meetings")
    assert table["Table"]["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [k["AttributeName"] for k in table["Table"]["KeySchema"]] == ["meeting_id"]
    assert main(["dynamodb", "create-table"]) == 0
    assert "already exists" in capsys.readouterr().out
    assert main(["--json", "list"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0


def test_the_index_docs_show_the_cloudformation_template() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "index-backends.md").read_text()
    snippet = json.dumps(cloudformation_template(), indent=2)
    assert snippet in page


@pytest.mark.parametrize(
    "backend_settings",
    ["dynamodb-moto", pytest.param("dynamodb-dynalite", marks=pytest.mark.dynalite)],
    indirect=True,
)
def test_listing_uses_a_query_on_the_index_never_a_scan(backend_settings: Settings) -> None:
    storage = MeetingStorage(backend_settings)
    client: Any = storage.index._client  # type: ignore[attr-defined]
    calls: list[str] = []
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    for n in range(3):
        storage.process(f"Alice: Meeting number {n} went fine.")
    calls.clear()
    page = storage.list_meetings(limit=2)
    assert calls == ["Query"] and len(page.meetings) == 2 and page.next_cursor
    calls.clear()
    storage.list_meetings(limit=2, cursor=page.next_cursor)
    assert calls == ["Query"]


def test_retrying_gives_up_on_errors_that_do_not_pass() -> None:
    from meeting_storage import BackendUnavailableError

    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise BackendUnavailableError("blip")
        return "ok"

    assert retrying(flaky, sleep=lambda _: None) == "ok" and len(attempts) == 3

    def misconfigured() -> None:
        attempts.append(1)
        raise ConfigurationError("no table")

    attempts.clear()
    with pytest.raises(ConfigurationError):
        retrying(misconfigured, sleep=lambda _: None)
    assert len(attempts) == 1
