"""Settings: one frozen object, read once from the environment and `.env`, validated at start.

Real environment variables win over `.env` (python-dotenv's `override=False`). This is the
only module that reads the process environment; everything else receives a `Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from meeting_storage.core.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_RE = re.compile(r"^(?!xn--)(?!sthree-)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
# S3-compatible servers name regions their own way: "auto" (Cloudflare R2), "nyc3"
# (DigitalOcean Spaces), "fr-par" (Scaleway), "garage"...
_CUSTOM_REGION_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
INDEX_BACKENDS = ("s3json", "dynamodb", "sqlite", "postgres")
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
_TABLE_RE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
# Streamed uploads of unknown size use 16 MiB parts and S3 allows 10,000 parts (~156 GiB).
MAX_UPLOAD_MB_LIMIT = 150_000
TRANSCRIBERS = ("auto", "aws", "whisper", "none")
QUEUE_BACKENDS = ("local", "sqs")
# Amazon Transcribe language codes look like en-US, de-DE, zh-CN; "auto" lets it identify one.
_LANGUAGE_RE = re.compile(r"^(?:[a-z]{2,3}-[A-Z]{2}|auto)$")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs cannot live longer than 7 days
MIN_API_TOKEN_LENGTH = 16
MEETING_VISIBILITIES = ("team", "owner")
_API_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII: it travels in an HTTP header
# Who extracts action items, decisions and requirements (auto: Bedrock when BEDROCK_MODEL_ID
# is set, else the rule-based extractor).
EXTRACTORS = ("auto", "rule_based", "bedrock", "openai")
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
# The origins the bucket's CORS rule lets upload straight from the browser (`make run`'s port).
DEFAULT_DASHBOARD_ORIGINS = ("http://localhost:8501", "http://127.0.0.1:8501")
_ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
DIRECT_UPLOAD_CHOICES = ("auto", "true", "false")


@dataclass(frozen=True)
class Settings:
    bucket: str
    region: str = "us-east-1"
    store_in_s3: bool = True
    skip_local_storage: bool = True
    use_dynamodb: bool = False
    dynamodb_table_name: str = "meeting-metadata"
    index_backend: str = "s3json"
    presigned_url_expiry: int = 3600
    max_upload_bytes: int = 500 * 1024 * 1024
    s3_endpoint_url: str | None = None
    dynamodb_endpoint_url: str | None = None
    database_url: str | None = None
    aws_profile: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    local_data_dir: Path = Path(".data/local")
    # REST API: the bearer token every endpoint but health requires, and the largest request
    # body it reads (the multipart upload is limited by max_upload_bytes instead).
    api_token: str | None = field(default=None, repr=False)
    api_max_body_bytes: int = 25 * 1024 * 1024
    # Analysis: who turns recordings into text, and whether Amazon Bedrock extracts.
    transcriber: str = "auto"
    transcribe_language: str = "en-US"
    transcribe_timeout: int = 1800
    transcribe_endpoint_url: str | None = None
    whisper_model_dir: Path | None = None
    bedrock_model_id: str | None = None
    bedrock_region: str | None = None
    bedrock_endpoint_url: str | None = None
    # Where an Amazon S3 Inventory report of the bucket is delivered (s3://BUCKET/PREFIX, or
    # a key prefix in the bucket): the reconciliation of the totals reads it instead of
    # listing the bucket.
    s3_inventory_prefix: str | None = None
    # Any OpenAI-compatible chat-completions server (Ollama, vLLM, llama.cpp, LM Studio,
    # OpenAI, Azure OpenAI) with EXTRACTOR=openai.
    extractor: str = "auto"
    openai_base_url: str = DEFAULT_OPENAI_BASE_URL
    openai_api_key: str | None = field(default=None, repr=False)
    openai_model: str | None = None
    openai_timeout: int = 120
    # Access: who has which role (addresses or @domain patterns, or a claim of the OIDC
    # provider), and whether viewers and editors see every meeting or only their own.
    admin_emails: tuple[str, ...] = ()
    editor_emails: tuple[str, ...] = ()
    viewer_emails: tuple[str, ...] = ()
    oidc_roles_claim: str | None = None
    meeting_visibility: str = "team"
    # OpenID Connect: the dashboard's sign-in, and the JWT bearer tokens the API accepts.
    oidc_server_metadata_url: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = field(default=None, repr=False)
    oidc_redirect_uri: str | None = None
    auth_cookie_secret: str | None = field(default=None, repr=False)
    oidc_audience: str | None = None

    @property
    def oidc_configured(self) -> bool:
        """True when an OpenID Connect provider is configured (its metadata URL and a client)."""
        return bool(self.oidc_server_metadata_url and self.oidc_client_id)

    # Browser uploads straight to S3: the page origins the bucket's CORS rule allows, and
    # whether the Upload page uses them (auto: unless the endpoint looks server-only).
    dashboard_origins: tuple[str, ...] = DEFAULT_DASHBOARD_ORIGINS
    direct_uploads: str = "auto"
    # Jobs: the queue that hands stored recordings to `worker` processes (docs/queue.md).
    queue_backend: str = "local"
    queue_url: str | None = None
    sqs_endpoint_url: str | None = None
    job_max_attempts: int = 3
    job_visibility_timeout: int = 300
    job_stale_minutes: int = 60
    job_retry_delay: int = 10
    # A pause (seconds) before one job step ("transcription", "extraction", "saving"), so tests
    # and demonstrations can stop a worker in the middle of it; never set in production.
    job_pause_step: str | None = None
    job_pause_seconds: float = 0.0

    @property
    def uploads_dir(self) -> Path:
        """Where SKIP_LOCAL_STORAGE=false keeps a copy of every upload."""
        return self.local_data_dir / "uploads"

    @property
    def sqlite_path(self) -> Path:
        """The default SQLite index file (INDEX_BACKEND=sqlite without DATABASE_URL)."""
        return self.local_data_dir / "index.sqlite3"

    @property
    def resolved_database_url(self) -> str:
        """DATABASE_URL, or for SQLite the default file under LOCAL_DATA_DIR."""
        if self.database_url:
            return self.database_url
        if self.index_backend == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        raise ConfigurationError(
            "DATABASE_URL not configured: INDEX_BACKEND=postgres needs it, e.g. "
            "postgresql://user:password@host:5432/meetings"
        )

    @property
    def max_upload_mb(self) -> int:
        return self.max_upload_bytes // (1024 * 1024)

    @property
    def bucket_on_aws(self) -> bool:
        """True when the bucket is Amazon S3 itself (no S3-compatible endpoint configured)."""
        return self.s3_endpoint_url is None

    @classmethod
    def from_mapping(
        cls, env: Mapping[str, str | None], *, require_bucket: bool = True
    ) -> Settings:
        """Build and validate settings from a mapping of variable names to values.

        `require_bucket=False` is for commands that never touch storage (`analyze`).
        """
        problems: list[str] = []

        def text(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        def flag(name: str, default: bool) -> bool:
            value = text(name)
            if value is None:
                return default
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
            problems.append(f"{name} must be true or false, not {value!r}")
            return default

        def integer(name: str, default: int, low: int, high: int) -> int:
            value = text(name)
            if value is None:
                return default
            try:
                number = int(value)
            except ValueError:
                problems.append(f"{name} must be a whole number, not {value!r}")
                return default
            if not low <= number <= high:
                problems.append(f"{name} must be between {low} and {high}, not {number}")
                return default
            return number

        bucket = text("S3_BUCKET_NAME")
        if bucket is None and require_bucket:
            problems.append(
                "S3_BUCKET_NAME not configured: set it in .env (copy .env.example) or the "
                "environment; `make run` uses the embedded local server's bucket"
            )
        elif bucket is not None and (
            not _BUCKET_RE.match(bucket) or re.match(r"^\d+\.\d+\.\d+\.\d+$", bucket)
        ):
            problems.append(
                f"S3_BUCKET_NAME {bucket!r} is not a valid bucket name (3-63 characters: "
                "lowercase letters, digits, dots and hyphens)"
            )
        endpoint_name = "AWS_ENDPOINT_URL_S3" if text("AWS_ENDPOINT_URL_S3") else "AWS_ENDPOINT_URL"
        endpoint = text(endpoint_name)
        if endpoint is not None and not _valid_endpoint(endpoint):
            problems.append(
                f"{endpoint_name} {endpoint!r} is not a URL like http://127.0.0.1:8333 or "
                "https://s3.example.com (http:// or https://, a host, an optional port)"
            )
        region_name = "AWS_REGION" if text("AWS_REGION") else "AWS_DEFAULT_REGION"
        region = text(region_name) or "us-east-1"
        region_re = _CUSTOM_REGION_RE if endpoint is not None else _REGION_RE
        if len(region) > 64 or not region_re.match(region):
            problems.append(f"{region_name} {region!r} is not a region name like us-east-1")
        dynamodb_name = (
            "AWS_ENDPOINT_URL_DYNAMODB" if text("AWS_ENDPOINT_URL_DYNAMODB") else "AWS_ENDPOINT_URL"
        )
        dynamodb_endpoint = text(dynamodb_name)
        if dynamodb_endpoint is not None and not _valid_endpoint(dynamodb_endpoint):
            problems.append(
                f"{dynamodb_name} {dynamodb_endpoint!r} is not a URL like http://127.0.0.1:8000"
            )

        def endpoint_url(*names: str) -> str | None:
            """The first of these variables that is set (the AWS SDK's per-service convention)."""
            for name in names:
                value = text(name)
                if value is None:
                    continue
                if not _valid_endpoint(value):
                    problems.append(
                        f"{name} {value!r} is not a URL like https://service.example.com "
                        "(http:// or https://, a host, an optional port)"
                    )
                    return None
                return value.rstrip("/")
            return None

        transcriber = (text("TRANSCRIBER") or "auto").lower()
        if transcriber not in TRANSCRIBERS:
            problems.append(f"TRANSCRIBER {transcriber!r} is not one of {', '.join(TRANSCRIBERS)}")
        language = text("TRANSCRIBE_LANGUAGE") or "en-US"
        if not _LANGUAGE_RE.match(language):
            problems.append(
                f"TRANSCRIBE_LANGUAGE {language!r} must be a language code like en-US, or auto"
            )
        bedrock_region = text("BEDROCK_REGION")
        if bedrock_region is not None and not _REGION_RE.match(bedrock_region):
            problems.append(
                f"BEDROCK_REGION {bedrock_region!r} is not a region name like us-east-1"
            )
        whisper_dir = text("WHISPER_MODEL_DIR")
        extractor = (text("EXTRACTOR") or "auto").lower().replace("-", "_")
        if extractor not in EXTRACTORS:
            problems.append(f"EXTRACTOR {extractor!r} is not one of {', '.join(EXTRACTORS)}")
        openai_model = text("OPENAI_MODEL")
        if extractor == "openai" and openai_model is None:
            problems.append(
                "EXTRACTOR=openai needs OPENAI_MODEL, the model's name on the server (e.g. "
                "llama3.1:8b for Ollama, gpt-4o-mini for OpenAI)"
            )
        if extractor == "bedrock" and text("BEDROCK_MODEL_ID") is None:
            problems.append("EXTRACTOR=bedrock needs BEDROCK_MODEL_ID")
        openai_base_url = text("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL
        if not _valid_endpoint(openai_base_url):
            problems.append(
                f"OPENAI_BASE_URL {openai_base_url!r} is not a URL like http://localhost:11434/v1"
            )
        use_dynamodb = flag("USE_DYNAMODB", False)
        chosen = text("INDEX_BACKEND")
        index_backend = (chosen or ("dynamodb" if use_dynamodb else "s3json")).lower()
        if index_backend not in INDEX_BACKENDS:
            problems.append(
                f"INDEX_BACKEND {index_backend!r} is not available; choose one of "
                f"{', '.join(INDEX_BACKENDS)}"
            )
        elif use_dynamodb and index_backend != "dynamodb":
            problems.append(
                f"USE_DYNAMODB=true asks for the DynamoDB index but INDEX_BACKEND is "
                f"{index_backend}; set INDEX_BACKEND=dynamodb (or remove it), or USE_DYNAMODB=false"
            )
        table = text("DYNAMODB_TABLE_NAME") or "meeting-metadata"
        if not _TABLE_RE.match(table):
            problems.append(
                f"DYNAMODB_TABLE_NAME {table!r} is not a valid table name (3-255 letters, digits, "
                "'_', '-' and '.')"
            )
        database_url = text("DATABASE_URL")
        if index_backend == "postgres":
            if database_url is None:
                problems.append(
                    "DATABASE_URL not configured: INDEX_BACKEND=postgres needs it, e.g. "
                    "postgresql://user:password@host:5432/meetings"
                )
            elif not database_url.startswith(_POSTGRES_SCHEMES):
                problems.append(
                    "DATABASE_URL must start with postgresql:// for INDEX_BACKEND=postgres"
                )
        elif index_backend == "sqlite" and database_url and not database_url.startswith("sqlite:"):
            problems.append(
                "DATABASE_URL must be a sqlite:///path URL for INDEX_BACKEND=sqlite (or leave it "
                "out to use LOCAL_DATA_DIR/index.sqlite3)"
            )
        access_key = text("AWS_ACCESS_KEY_ID")
        secret_key = text("AWS_SECRET_ACCESS_KEY")
        if (access_key is None) != (secret_key is None):
            problems.append("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither")
        api_token = text("API_TOKEN")
        if api_token is not None and (
            len(api_token) < MIN_API_TOKEN_LENGTH or not _API_TOKEN_RE.match(api_token)
        ):
            problems.append(
                f"API_TOKEN must be at least {MIN_API_TOKEN_LENGTH} printable ASCII characters "
                "without spaces; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )

        def emails(name: str) -> tuple[str, ...]:
            entries = tuple(e.strip() for e in (text(name) or "").split(",") if e.strip())
            for entry in entries:
                if "@" not in entry or any(ch.isspace() for ch in entry):
                    problems.append(
                        f"{name} entry {entry!r} is not an address (alice@example.com) or a "
                        "domain pattern (@example.com)"
                    )
            return entries

        visibility = (text("MEETING_VISIBILITY") or "team").lower()
        if visibility not in MEETING_VISIBILITIES:
            problems.append(
                f"MEETING_VISIBILITY {visibility!r} is not one of {', '.join(MEETING_VISIBILITIES)}"
            )
        oidc_metadata = text("OIDC_SERVER_METADATA_URL")
        if oidc_metadata is not None and not _valid_url(oidc_metadata):
            problems.append(
                f"OIDC_SERVER_METADATA_URL {oidc_metadata!r} is not a URL like "
                "https://accounts.google.com/.well-known/openid-configuration"
            )
        oidc_client = text("OIDC_CLIENT_ID")
        if (oidc_metadata is None) != (oidc_client is None):
            problems.append(
                "set both OIDC_SERVER_METADATA_URL and OIDC_CLIENT_ID (the OpenID Connect "
                "provider and this application's client there), or neither"
            )
        settings = cls(
            bucket=bucket or "",
            region=region,
            store_in_s3=flag("STORE_IN_S3", True),
            skip_local_storage=flag("SKIP_LOCAL_STORAGE", True),
            use_dynamodb=index_backend == "dynamodb",
            dynamodb_table_name=table,
            index_backend=index_backend,
            presigned_url_expiry=integer("PRESIGNED_URL_EXPIRY", 3600, 1, MAX_PRESIGN_SECONDS),
            max_upload_bytes=integer("MAX_UPLOAD_MB", 500, 1, MAX_UPLOAD_MB_LIMIT) * 1024 * 1024,
            s3_endpoint_url=endpoint.rstrip("/") if endpoint else None,
            dynamodb_endpoint_url=dynamodb_endpoint.rstrip("/") if dynamodb_endpoint else None,
            database_url=database_url if index_backend in {"sqlite", "postgres"} else None,
            aws_profile=text("AWS_PROFILE"),
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=text("AWS_SESSION_TOKEN"),
            local_data_dir=Path(text("LOCAL_DATA_DIR") or ".data/local"),
            api_token=api_token,
            api_max_body_bytes=integer("API_MAX_BODY_MB", 25, 1, 1024) * 1024 * 1024,
            transcriber=transcriber,
            transcribe_language=language,
            transcribe_timeout=integer("TRANSCRIBE_TIMEOUT", 1800, 30, 6 * 3600),
            transcribe_endpoint_url=endpoint_url("AWS_ENDPOINT_URL_TRANSCRIBE", "AWS_ENDPOINT_URL"),
            whisper_model_dir=Path(whisper_dir) if whisper_dir else None,
            bedrock_model_id=text("BEDROCK_MODEL_ID"),
            bedrock_region=bedrock_region,
            bedrock_endpoint_url=endpoint_url(
                "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"
            ),
            s3_inventory_prefix=text("S3_INVENTORY_PREFIX"),
            extractor=extractor,
            openai_base_url=openai_base_url.rstrip("/"),
            openai_api_key=text("OPENAI_API_KEY"),
            openai_model=openai_model,
            openai_timeout=integer("OPENAI_TIMEOUT", 120, 1, 3600),
            admin_emails=emails("ADMIN_EMAILS"),
            editor_emails=emails("EDITOR_EMAILS"),
            viewer_emails=emails("VIEWER_EMAILS"),
            oidc_roles_claim=text("OIDC_ROLES_CLAIM"),
            meeting_visibility=visibility,
            oidc_server_metadata_url=oidc_metadata,
            oidc_client_id=oidc_client,
            oidc_client_secret=text("OIDC_CLIENT_SECRET"),
            oidc_redirect_uri=text("OIDC_REDIRECT_URI"),
            auth_cookie_secret=text("AUTH_COOKIE_SECRET"),
            oidc_audience=text("OIDC_AUDIENCE"),
        )
        origins = tuple(
            origin.strip().rstrip("/")
            for origin in (text("DASHBOARD_ORIGINS") or "").split(",")
            if origin.strip()
        )
        for origin in origins:
            if not _ORIGIN_RE.match(origin):
                problems.append(
                    f"DASHBOARD_ORIGINS entry {origin!r} is not an origin like "
                    "http://localhost:8501 (scheme, host and port, no path)"
                )
        direct = (text("DIRECT_UPLOADS") or "auto").lower()
        if direct not in DIRECT_UPLOAD_CHOICES:
            problems.append(
                f"DIRECT_UPLOADS {direct!r} is not one of {', '.join(DIRECT_UPLOAD_CHOICES)}"
            )
        settings = replace(
            settings, dashboard_origins=origins or DEFAULT_DASHBOARD_ORIGINS, direct_uploads=direct
        )
        queue_backend = (text("QUEUE_BACKEND") or "local").lower()
        queue_url = text("QUEUE_URL")
        if queue_backend not in QUEUE_BACKENDS:
            problems.append(
                f"QUEUE_BACKEND {queue_backend!r} is not one of {', '.join(QUEUE_BACKENDS)}"
            )
        elif queue_backend == "sqs" and queue_url is None:
            problems.append(
                "QUEUE_URL not configured: QUEUE_BACKEND=sqs needs the SQS queue's URL; "
                "`python -m meeting_storage queue create` makes one and prints it"
            )
        pause = text("JOB_PAUSE")
        pause_step, pause_seconds = None, 0.0
        if pause is not None:
            step, _, seconds = pause.partition(":")
            try:
                pause_step, pause_seconds = step.strip(), float(seconds)
            except ValueError:
                problems.append(f"JOB_PAUSE must look like saving:5 (step:seconds), not {pause!r}")
        settings = replace(
            settings,
            queue_backend=queue_backend,
            queue_url=queue_url,
            sqs_endpoint_url=endpoint_url("AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL"),
            job_max_attempts=integer("JOB_MAX_ATTEMPTS", 3, 1, 100),
            job_visibility_timeout=integer("JOB_VISIBILITY_TIMEOUT", 300, 5, 12 * 3600),
            job_stale_minutes=integer("JOB_STALE_MINUTES", 60, 1, 7 * 24 * 60),
            job_retry_delay=integer("JOB_RETRY_DELAY", 10, 0, 900),
            job_pause_step=pause_step,
            job_pause_seconds=pause_seconds,
        )
        if problems:
            raise ConfigurationError("Invalid configuration: " + "; ".join(problems) + ".")
        return settings


def _valid_url(url: str) -> bool:
    """An http(s) URL with a host (a path and query allowed, unlike an endpoint)."""
    if any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _valid_endpoint(url: str) -> bool:
    if any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
    )


def load_settings(
    dotenv_path: str | os.PathLike[str] | None = ".env",
    environ: Mapping[str, str] | None = None,
    *,
    require_bucket: bool = True,
) -> Settings:
    """Read `.env` (if present) under the real environment, which wins, and validate."""
    merged: dict[str, str | None] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        merged.update(dotenv_values(dotenv_path))
    merged.update(os.environ if environ is None else environ)
    return Settings.from_mapping(merged, require_bucket=require_bucket)
