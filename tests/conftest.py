"""Shared fixtures: moto for speed, real servers for what moto does not check.

`storage` runs a test once per S3 implementation (moto and SeaweedFS); `moto_storage` and
`seaweed_storage` pick one. `backend_settings` and `indexed_storage` run a test once per
index backend (S3 JSON on moto and SeaweedFS, DynamoDB on moto and dynalite, SQLite,
PostgreSQL). Every test gets a fresh bucket, table or database, so tests never see each
other's meetings. The servers (SeaweedFS, dynalite, PostgreSQL) are started once per session
on free loopback ports in temporary folders, and stopped at the end.

Every AWS API call the package makes during the run is recorded (`operation_recorder.py`);
the last test, and failing that the end of the session, checks that the IAM policy
`iam-policy` generates allows each one.
"""

from __future__ import annotations

import io
import math
import os
import struct
import uuid
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from meeting_storage import MeetingStorage, Settings
from meeting_storage.storage.aws import make_s3_client
from meeting_storage.storage.embedded import EmbeddedS3
from tests import operation_recorder

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"

SAMPLE_TRANSCRIPT = """\
Alice: Welcome everyone, today we plan the remote control launch and the budget review.
Bob: The remote control must work with every television sold in Europe.
Alice: We decided to use rechargeable batteries instead of disposable ones.
Carol: I will send the revised budget to finance by Friday.
Bob: The interface should stay simple enough for older users.
Alice: Dave will prepare the prototype demo by next week.
Carol: It would be nice to have a voice search feature, but it is optional.
"""


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's .env, AWS config or credentials."""
    for name in list(os.environ):
        if name.startswith(
            ("AWS_", "S3_", "DYNAMODB_", "API_", "BEDROCK_", "TRANSCRIBE")
        ) or name in {
            "STORE_IN_S3",
            "SKIP_LOCAL_STORAGE",
            "USE_DYNAMODB",
            "PRESIGNED_URL_EXPIRY",
            "MAX_UPLOAD_MB",
            "LOCAL_DATA_DIR",
            "INDEX_BACKEND",
            "WHISPER_MODEL_DIR",
            "DATABASE_URL",
        }:
            monkeypatch.delenv(name)
    for name in list(os.environ):
        if name.startswith(("QUEUE_", "JOB_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.chdir(tmp_path)


def make_settings(bucket: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bucket": bucket,
        "region": REGION,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": SECRET_KEY,
        "local_data_dir": tmp_path / "local",
        # Storage tests store recordings without transcribing them; analysis tests opt in.
        "transcriber": "none",
    }
    values.update(overrides)
    return Settings(**values)


def new_bucket_name() -> str:
    return f"test-{uuid.uuid4().hex[:20]}"


# ---------------------------------------------------------------- moto


@pytest.fixture
def moto_settings(tmp_path: Path) -> Iterator[Settings]:
    with mock_aws():
        settings = make_settings(new_bucket_name(), tmp_path)
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=settings.bucket)
        yield settings


@pytest.fixture
def moto_storage(moto_settings: Settings) -> MeetingStorage:
    return MeetingStorage(moto_settings)


# ---------------------------------------------------------------- SeaweedFS


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    server = EmbeddedS3(
        tmp_path_factory.mktemp("seaweedfs"),
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        volume_size_limit_mb=16,
    )
    with server:
        server.ensure_bucket("warmup-bucket", REGION, timeout=90)
        yield server


def raw_seaweed_client(server: EmbeddedS3) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(signature_version="s3v4"),
    )


@pytest.fixture
def seaweed_settings(seaweedfs: EmbeddedS3, tmp_path: Path) -> Iterator[Settings]:
    settings = make_settings(new_bucket_name(), tmp_path, s3_endpoint_url=seaweedfs.endpoint_url)
    seaweedfs.ensure_bucket(settings.bucket, REGION, versioned_and_encrypted=False)
    yield settings
    drop_bucket(raw_seaweed_client(seaweedfs), settings.bucket)


def drop_bucket(client: Any, bucket: str) -> None:
    """Delete a test bucket and everything in it, so SeaweedFS frees its volumes."""
    try:
        paginator = client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            objects = [
                {"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if objects:
                client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except Exception:  # noqa: S110 - best effort: the server is thrown away at the end anyway
        pass


@pytest.fixture
def seaweed_storage(seaweed_settings: Settings) -> MeetingStorage:
    return MeetingStorage(seaweed_settings)


# ---------------------------------------------------------------- both


@pytest.fixture(params=["moto", "seaweedfs"])
def storage(request: pytest.FixtureRequest) -> MeetingStorage:
    """The same test against moto and against a real S3 server."""
    name = "moto_storage" if request.param == "moto" else "seaweed_storage"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


def s3_client_for(storage: MeetingStorage) -> Any:
    return make_s3_client(storage.settings)


# ---------------------------------------------------------------- sample media


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A real, playable mono 16-bit WAV file with a 440 Hz tone."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
            for n in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


def wav_header_then(size: int) -> bytes:
    """A WAV header followed by `size` bytes of silence (for large-file tests)."""
    header = wav_bytes(0.01)
    return header + bytes(max(0, size - len(header)))


@pytest.fixture
def wav_file(tmp_path: Path) -> Path:
    path = tmp_path / "Team sync.wav"
    path.write_bytes(wav_bytes())
    return path


# ---------------------------------------------------------------- dashboard

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "app.py"
STREAMLIT_CONFIG = PROJECT_ROOT / ".streamlit" / "config.toml"


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that make load_settings() return these settings."""
    env = {
        "S3_BUCKET_NAME": settings.bucket,
        "AWS_REGION": settings.region,
        "STORE_IN_S3": str(settings.store_in_s3).lower(),
        "SKIP_LOCAL_STORAGE": str(settings.skip_local_storage).lower(),
        "LOCAL_DATA_DIR": str(settings.local_data_dir),
        "MAX_UPLOAD_MB": str(settings.max_upload_mb),
        "PRESIGNED_URL_EXPIRY": str(settings.presigned_url_expiry),
        "INDEX_BACKEND": settings.index_backend,
        "USE_DYNAMODB": str(settings.use_dynamodb).lower(),
        "DYNAMODB_TABLE_NAME": settings.dynamodb_table_name,
        "TRANSCRIBER": settings.transcriber,
    }
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.dynamodb_endpoint_url:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = settings.dynamodb_endpoint_url
    if settings.aws_access_key_id and settings.aws_secret_access_key:
        env["AWS_ACCESS_KEY_ID"] = settings.aws_access_key_id
        env["AWS_SECRET_ACCESS_KEY"] = settings.aws_secret_access_key
    if settings.s3_endpoint_url:
        env["AWS_ENDPOINT_URL_S3"] = settings.s3_endpoint_url  # S3 only, as in these settings
    env["DASHBOARD_ORIGINS"] = ",".join(settings.dashboard_origins)
    env["DIRECT_UPLOADS"] = settings.direct_uploads
    return env


@pytest.fixture
def streamlit_project_config() -> Iterator[None]:
    """The options of .streamlit/config.toml, as `streamlit run app.py` would apply them
    (AppTest itself reads no config file)."""
    import tomllib

    from streamlit import config

    options = tomllib.loads(STREAMLIT_CONFIG.read_text())
    saved = {}
    for section, values in options.items():
        for name, value in values.items():
            key = f"{section}.{name}"
            saved[key] = config.get_option(key)
            config.set_option(key, value)
    yield
    for key, value in saved.items():
        config.set_option(key, value)


@pytest.fixture
def fresh_dashboard_caches() -> Iterator[None]:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def use_dashboard_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> MeetingStorage:
    """Configure the dashboard through the environment (as `.env` would) and return the very
    service instance its pages use."""
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    from ui import service

    storage = service.get_storage()
    assert storage.settings == settings
    return storage


@pytest.fixture
def dashboard(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> MeetingStorage:
    """The dashboard on a fresh moto bucket."""
    return use_dashboard_settings(moto_settings, monkeypatch)


@pytest.fixture
def seaweed_dashboard(
    seaweed_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> MeetingStorage:
    """The dashboard on a fresh bucket of the real SeaweedFS server (a loopback endpoint, like
    the embedded default)."""
    return use_dashboard_settings(seaweed_settings, monkeypatch)


def app_test(timeout: float = 60) -> Any:
    """The dashboard as AppTest sees it, starting on the home page."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(APP), default_timeout=timeout)


def unescape(markdown: str) -> str:
    """The text a reader sees for escaped Markdown."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown)


def table_with(at: Any, column: str) -> Any:
    """The first st.dataframe on the page that has this column, as a pandas DataFrame."""
    for element in at.dataframe:
        frame = element.value
        if column in frame.columns:
            return frame
    raise AssertionError(f"no table with a {column!r} column")


# ---------------------------------------------------------------- index backends

INDEX_BACKENDS = [
    "s3json-moto",
    pytest.param("s3json-seaweedfs", marks=pytest.mark.seaweedfs),
    "dynamodb-moto",
    pytest.param("dynamodb-dynalite", marks=pytest.mark.dynalite),
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def dynalite_endpoint() -> Iterator[str]:
    from tests.servers import dynalite

    with dynalite() as url:
        yield url


@pytest.fixture(scope="session")
def sqs_endpoint() -> Iterator[str]:
    """A moto server for SQS (the queue backend's tests and worker subprocesses)."""
    from tests.servers import moto_server

    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    from tests.servers import PostgresServer

    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    name = f"test_{uuid.uuid4().hex[:16]}"
    url: str = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)


def new_table_name() -> str:
    return f"meetings-{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=INDEX_BACKENDS)
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh bucket and a fresh, empty index of each backend.

    S3 is moto, except with SeaweedFS for s3json-seaweedfs and dynamodb-dynalite (real
    servers together). The DynamoDB table exists already (`dynamodb create-table` is
    tested on its own)."""
    from meeting_storage.index.dynamodb import create_table
    from meeting_storage.storage.aws import make_dynamodb_client

    backend: str = request.param
    if backend in {"s3json-seaweedfs", "dynamodb-dynalite"}:
        settings: Settings = request.getfixturevalue("seaweed_settings")
        if backend == "dynamodb-dynalite":
            settings = replace(
                settings,
                index_backend="dynamodb",
                use_dynamodb=True,
                dynamodb_table_name=new_table_name(),
                dynamodb_endpoint_url=request.getfixturevalue("dynalite_endpoint"),
            )
            create_table(make_dynamodb_client(settings), settings.dynamodb_table_name)
        yield settings
        return
    settings = request.getfixturevalue("moto_settings")
    if backend == "dynamodb-moto":
        settings = replace(
            settings,
            index_backend="dynamodb",
            use_dynamodb=True,
            dynamodb_table_name=new_table_name(),
        )
        create_table(make_dynamodb_client(settings), settings.dynamodb_table_name)
    elif backend == "sqlite":
        settings = replace(settings, index_backend="sqlite")
    elif backend == "postgres":
        settings = replace(
            settings, index_backend="postgres", database_url=request.getfixturevalue("postgres_url")
        )
    yield settings


@pytest.fixture
def indexed_storage(backend_settings: Settings) -> Iterator[MeetingStorage]:
    """A MeetingStorage whose index is built by the factory from the settings."""
    service = MeetingStorage(backend_settings)
    yield service
    close = getattr(service.index, "close", None)
    if close is not None:
        close()


# ---------------------------------------------------------------- the IAM policy covers every call

FINAL_TEST = "test_the_iam_policy_allows_every_call_the_suite_made"


@pytest.fixture(scope="session", autouse=True)
def _record_aws_calls() -> Iterator[None]:
    with operation_recorder.recording():
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the policy check after every other test, whatever order they were collected in."""
    final = [item for item in items if item.name == FINAL_TEST]
    items[:] = [item for item in items if item.name != FINAL_TEST] + final


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """When the final test did not run (deselected with -k, or a single file), check here."""
    if operation_recorder.CHECKED or not operation_recorder.RECORDED:
        return
    gaps = operation_recorder.policy_gaps()
    if gaps:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "\nThe generated IAM policy misses calls the package made:\n  " + "\n  ".join(
            gaps
        )
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:  # pragma: no cover - always present in a normal run
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# ---------------------------------------------------------------- OpenID Connect


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider on a free loopback port: its issuer URL. Sign someone
    in with tests.servers.oidc_sign_in(issuer, subject, claims)."""
    from tests.servers import oidc_provider_mock

    with oidc_provider_mock() as issuer:
        yield issuer
