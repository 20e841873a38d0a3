"""Settings: one frozen object, read once from the environment and `.env`, validated at start.

Real environment variables win over `.env` (python-dotenv's `override=False`). This is the
only module that reads the process environment; everything else receives a `Settings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from .errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET_RE = re.compile(r"^(?!xn--)(?!sthree-)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
_INDEX_BACKENDS = ("s3json",)
TRANSCRIBERS = ("auto", "aws", "whisper", "none")
# Amazon Transcribe language codes look like en-US, de-DE, zh-CN; "auto" lets it identify one.
_LANGUAGE_RE = re.compile(r"^(?:[a-z]{2,3}-[A-Z]{2}|auto)$")
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs cannot live longer than 7 days


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
    aws_profile: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    local_data_dir: Path = Path(".data/local")
    # Analysis: who turns recordings into text, and whether Amazon Bedrock extracts.
    transcriber: str = "auto"
    transcribe_language: str = "en-US"
    transcribe_timeout: int = 1800
    transcribe_endpoint_url: str | None = None
    whisper_model_dir: Path | None = None
    bedrock_model_id: str | None = None
    bedrock_region: str | None = None
    bedrock_endpoint_url: str | None = None

    @property
    def uploads_dir(self) -> Path:
        """Where SKIP_LOCAL_STORAGE=false keeps a copy of every upload."""
        return self.local_data_dir / "uploads"

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
        region = text("AWS_REGION") or text("AWS_DEFAULT_REGION") or "us-east-1"
        if not _REGION_RE.match(region):
            problems.append(f"AWS_REGION {region!r} is not a region name like us-east-1")

        def endpoint_url(*names: str) -> str | None:
            for name in names:
                value = text(name)
                if value is None:
                    continue
                if not re.match(r"^https?://[^\s/]+", value):
                    problems.append(f"{name} {value!r} must start with http:// or https://")
                    return None
                return value.rstrip("/")
            return None

        endpoint = endpoint_url("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
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
        use_dynamodb = flag("USE_DYNAMODB", False)
        index_backend = (text("INDEX_BACKEND") or "s3json").lower()
        if index_backend not in _INDEX_BACKENDS:
            problems.append(
                f"INDEX_BACKEND {index_backend!r} is not available; choose one of "
                f"{', '.join(_INDEX_BACKENDS)}"
            )
        if use_dynamodb:
            problems.append(
                "USE_DYNAMODB=true needs the DynamoDB index backend, which this version does not "
                "include; set USE_DYNAMODB=false to use the S3 JSON index"
            )
        access_key = text("AWS_ACCESS_KEY_ID")
        secret_key = text("AWS_SECRET_ACCESS_KEY")
        if (access_key is None) != (secret_key is None):
            problems.append("set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither")
        settings = cls(
            bucket=bucket or "",
            region=region,
            store_in_s3=flag("STORE_IN_S3", True),
            skip_local_storage=flag("SKIP_LOCAL_STORAGE", True),
            use_dynamodb=use_dynamodb,
            dynamodb_table_name=text("DYNAMODB_TABLE_NAME") or "meeting-metadata",
            index_backend=index_backend,
            presigned_url_expiry=integer("PRESIGNED_URL_EXPIRY", 3600, 1, MAX_PRESIGN_SECONDS),
            max_upload_bytes=integer("MAX_UPLOAD_MB", 500, 1, 5 * 1024 * 1024) * 1024 * 1024,
            s3_endpoint_url=endpoint,
            aws_profile=text("AWS_PROFILE"),
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=text("AWS_SESSION_TOKEN"),
            local_data_dir=Path(text("LOCAL_DATA_DIR") or ".data/local"),
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
        )
        if problems:
            raise ConfigurationError("Invalid configuration: " + "; ".join(problems) + ".")
        return settings


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
