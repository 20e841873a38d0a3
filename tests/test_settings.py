"""Settings: defaults, validation with messages that name the variable, `.env` precedence."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from meeting_storage import ConfigurationError, Settings, load_settings
from meeting_storage.core.settings import MAX_PRESIGN_SECONDS

BASE = {"S3_BUCKET_NAME": "meeting-bucket"}


def settings_from(**values: str) -> Settings:
    return Settings.from_mapping({**BASE, **values})


def problem(**values: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_mapping({**BASE, **values})
    return info.value.message


def test_defaults() -> None:
    settings = Settings.from_mapping(BASE)
    assert settings.bucket == "meeting-bucket"
    assert settings.store_in_s3 is True
    assert settings.skip_local_storage is True
    assert settings.use_dynamodb is False
    assert settings.presigned_url_expiry == 3600
    assert settings.region == "us-east-1"
    assert settings.index_backend == "s3json"
    assert settings.s3_endpoint_url is None
    assert settings.max_upload_bytes == 500 * 1024 * 1024
    assert settings.max_upload_mb == 500
    assert settings.aws_access_key_id is None and settings.aws_secret_access_key is None
    assert settings.local_data_dir == Path(".data/local")
    assert settings.uploads_dir == Path(".data/local/uploads")


def test_values_are_read_and_trimmed() -> None:
    settings = settings_from(
        S3_BUCKET_NAME="  my.bucket-01  ",
        AWS_REGION="eu-central-1",
        STORE_IN_S3="No",
        SKIP_LOCAL_STORAGE="off",
        PRESIGNED_URL_EXPIRY=" 60 ",
        MAX_UPLOAD_MB="2",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        AWS_PROFILE="work",
        LOCAL_DATA_DIR="/srv/meetings",
        INDEX_BACKEND="S3JSON",
    )
    assert settings.bucket == "my.bucket-01"
    assert settings.region == "eu-central-1"
    assert settings.store_in_s3 is False
    assert settings.skip_local_storage is False
    assert settings.presigned_url_expiry == 60
    assert settings.max_upload_bytes == 2 * 1024 * 1024
    assert settings.aws_access_key_id == "AKIAEXAMPLE"
    assert settings.aws_profile == "work"
    assert settings.local_data_dir == Path("/srv/meetings")
    assert settings.index_backend == "s3json"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("On", True), ("0", False), ("FALSE", False)],
)
def test_booleans(value: str, expected: bool) -> None:
    assert settings_from(STORE_IN_S3=value).store_in_s3 is expected
    assert settings_from(SKIP_LOCAL_STORAGE=value).skip_local_storage is expected


@pytest.mark.parametrize("env", [{}, {"S3_BUCKET_NAME": ""}, {"S3_BUCKET_NAME": "   "}])
def test_missing_bucket(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_mapping(env)
    assert "S3_BUCKET_NAME not configured" in info.value.message


@pytest.mark.parametrize(
    "bucket",
    [
        "ab",
        "a" * 64,
        "My-Bucket",
        "my_bucket",
        "-bucket",
        "bucket-",
        "bucket.",
        "my..bucket",
        "192.168.1.1",
        "xn--bucket",
        "sthree-bucket",
        "bucket name",
        "s3://bucket",
        "bucket/with/slash",
    ],
)
def test_invalid_bucket_names(bucket: str) -> None:
    message = problem(S3_BUCKET_NAME=bucket)
    assert "S3_BUCKET_NAME" in message and "not a valid bucket name" in message
    assert repr(bucket) in message


@pytest.mark.parametrize("bucket", ["abc", "a" * 63, "my.bucket.name", "bucket-1-2", "123bucket"])
def test_valid_bucket_names(bucket: str) -> None:
    assert settings_from(S3_BUCKET_NAME=bucket).bucket == bucket


@pytest.mark.parametrize("name", ["STORE_IN_S3", "SKIP_LOCAL_STORAGE", "USE_DYNAMODB"])
def test_invalid_booleans(name: str) -> None:
    message = problem(**{name: "maybe"})
    assert f"{name} must be true or false" in message
    assert "'maybe'" in message


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("PRESIGNED_URL_EXPIRY", "soon", "must be a whole number"),
        ("PRESIGNED_URL_EXPIRY", "1.5", "must be a whole number"),
        ("PRESIGNED_URL_EXPIRY", "0", "must be between 1 and"),
        ("PRESIGNED_URL_EXPIRY", "-5", "must be between 1 and"),
        ("PRESIGNED_URL_EXPIRY", str(MAX_PRESIGN_SECONDS + 1), "must be between 1 and"),
        ("MAX_UPLOAD_MB", "big", "must be a whole number"),
        ("MAX_UPLOAD_MB", "0", "must be between 1 and"),
        ("MAX_UPLOAD_MB", "-1", "must be between 1 and"),
        ("MAX_UPLOAD_MB", "99999999999", "must be between 1 and"),
    ],
)
def test_invalid_numbers(name: str, value: str, fragment: str) -> None:
    message = problem(**{name: value})
    assert name in message and fragment in message
    assert value in message


def test_presign_limit_is_seven_days() -> None:
    assert settings_from(PRESIGNED_URL_EXPIRY=str(MAX_PRESIGN_SECONDS)).presigned_url_expiry == (
        7 * 24 * 3600
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "localhost:9000",
        "ftp://example.com",
        "http://",
        "https://:9000",
        "http://host with space",
        "http://localhost:99999",
        "http://localhost:port",
        "//example.com",
    ],
)
def test_malformed_endpoint(endpoint: str) -> None:
    message = problem(AWS_ENDPOINT_URL=endpoint)
    assert "AWS_ENDPOINT_URL" in message and repr(endpoint) in message
    message = problem(AWS_ENDPOINT_URL_S3=endpoint)
    assert "AWS_ENDPOINT_URL_S3" in message


def test_endpoint_s3_wins_over_generic_endpoint() -> None:
    settings = settings_from(
        AWS_ENDPOINT_URL="http://generic.example:1111",
        AWS_ENDPOINT_URL_S3="http://s3-only.example:2222/",
    )
    assert settings.s3_endpoint_url == "http://s3-only.example:2222"
    assert settings_from(AWS_ENDPOINT_URL="https://s3.example.com").s3_endpoint_url == (
        "https://s3.example.com"
    )


def test_region_sources_and_validation() -> None:
    assert settings_from(AWS_DEFAULT_REGION="ap-southeast-2").region == "ap-southeast-2"
    assert (
        settings_from(AWS_REGION="eu-west-3", AWS_DEFAULT_REGION="ap-southeast-2").region
        == "eu-west-3"
    )
    assert settings_from(AWS_REGION="us-gov-west-1").region == "us-gov-west-1"
    message = problem(AWS_REGION="Europe")
    assert "AWS_REGION" in message and "'Europe'" in message
    assert "AWS_DEFAULT_REGION" in problem(AWS_DEFAULT_REGION="moon")


def test_s3_compatible_endpoints_accept_their_region_names() -> None:
    # Cloudflare R2 wants "auto"; other S3-compatible services have names like "nyc3".
    r2 = settings_from(AWS_ENDPOINT_URL="https://acct.r2.cloudflarestorage.com", AWS_REGION="auto")
    assert r2.region == "auto"
    spaces = settings_from(AWS_ENDPOINT_URL="https://nyc3.example.com", AWS_REGION="nyc3")
    assert spaces.region == "nyc3"
    assert "AWS_REGION" in problem(AWS_REGION="auto")  # not a name AWS itself knows
    assert "AWS_REGION" in problem(AWS_ENDPOINT_URL="http://localhost:1", AWS_REGION="Bad Name")


def test_use_dynamodb_conflicting_with_index_backend_is_explained() -> None:
    message = problem(USE_DYNAMODB="true", INDEX_BACKEND="sqlite")
    assert "USE_DYNAMODB" in message and "INDEX_BACKEND" in message
    assert settings_from(USE_DYNAMODB="false").use_dynamodb is False
    assert settings_from(USE_DYNAMODB="true").index_backend == "dynamodb"


def test_unknown_index_backend() -> None:
    message = problem(INDEX_BACKEND="mongodb")
    assert "INDEX_BACKEND" in message and "'mongodb'" in message


@pytest.mark.parametrize(
    "keys",
    [{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY": "secret"}],
)
def test_only_one_aws_key(keys: dict[str, str]) -> None:
    message = problem(**keys)
    assert "AWS_ACCESS_KEY_ID" in message and "AWS_SECRET_ACCESS_KEY" in message


def test_all_problems_are_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_mapping(
            {
                "STORE_IN_S3": "maybe",
                "PRESIGNED_URL_EXPIRY": "never",
                "MAX_UPLOAD_MB": "0",
                "AWS_ENDPOINT_URL": "localhost",
                "USE_DYNAMODB": "yes",
                "INDEX_BACKEND": "sqlite",
                "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
            }
        )
    message = info.value.message
    for name in (
        "S3_BUCKET_NAME not configured",
        "STORE_IN_S3",
        "PRESIGNED_URL_EXPIRY",
        "MAX_UPLOAD_MB",
        "AWS_ENDPOINT_URL",
        "USE_DYNAMODB",
        "AWS_SECRET_ACCESS_KEY",
    ):
        assert name in message, name
    assert message.count(";") >= 6  # one problem per variable, all in one message


def test_load_settings_reads_dotenv_and_the_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / "custom.env"
    dotenv.write_text(
        "# comment\n"
        "S3_BUCKET_NAME=from-dotenv\n"
        "AWS_REGION=eu-west-1\n"
        'PRESIGNED_URL_EXPIRY="120"\n'
        "STORE_IN_S3=false\n",
        encoding="utf-8",
    )
    from_file = load_settings(dotenv_path=dotenv, environ={})
    assert from_file.bucket == "from-dotenv"
    assert from_file.region == "eu-west-1"
    assert from_file.presigned_url_expiry == 120
    assert from_file.store_in_s3 is False

    both = load_settings(
        dotenv_path=dotenv,
        environ={"S3_BUCKET_NAME": "from-environment", "STORE_IN_S3": "true"},
    )
    assert both.bucket == "from-environment"
    assert both.store_in_s3 is True
    assert both.region == "eu-west-1"  # not overridden, so the file's value stays


def test_load_settings_uses_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("S3_BUCKET_NAME=from-dotenv\nMAX_UPLOAD_MB=7\n", encoding="utf-8")
    monkeypatch.setenv("S3_BUCKET_NAME", "from-process")
    settings = load_settings(dotenv_path=dotenv)
    assert settings.bucket == "from-process"
    assert settings.max_upload_mb == 7


def test_load_settings_without_a_dotenv_file(tmp_path: Path) -> None:
    settings = load_settings(dotenv_path=tmp_path / "missing.env", environ=BASE)
    assert settings.bucket == "meeting-bucket"
    assert load_settings(dotenv_path=None, environ=BASE).bucket == "meeting-bucket"
    with pytest.raises(ConfigurationError, match="S3_BUCKET_NAME not configured"):
        load_settings(dotenv_path=tmp_path / "missing.env", environ={})


def test_a_broken_dotenv_value_is_reported(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("S3_BUCKET_NAME=Bad_Bucket\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="S3_BUCKET_NAME"):
        load_settings(dotenv_path=dotenv, environ={})


def test_settings_are_frozen() -> None:
    settings = Settings.from_mapping(BASE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.bucket = "other"  # type: ignore[misc]
    changed = dataclasses.replace(settings, store_in_s3=False)
    assert changed.store_in_s3 is False and settings.store_in_s3 is True
