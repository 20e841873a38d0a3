"""Commands that run servers until stopped: embedded-s3 (the local SeaweedFS), serve (the
REST API) and dashboard (Streamlit, with the local SeaweedFS for a loopback endpoint)."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meeting_storage.cli.dashboard_auth import (
    check_dashboard_address,
    sign_in_setup,
    streamlit_secrets_args,
    write_secrets,
)
from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.settings import Settings, load_settings
from meeting_storage.service.facade import MeetingStorage
from meeting_storage.storage.embedded import EmbeddedS3

DEFAULT_DASHBOARD_PORT = 8501
_SIGN_IN = {
    "env": "OpenID Connect (OIDC_* settings in .env)",
    "secrets.toml": "OpenID Connect (the [auth] section of .streamlit/secrets.toml)",
    None: "none; one local administrator (set OIDC_* in .env to sign people in)",
}


def add_embedded_s3_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    embedded = commands.add_parser(
        "embedded-s3",
        parents=[common],
        help="run the local SeaweedFS server for a loopback endpoint",
    )
    embedded.add_argument("--data-dir", type=Path, default=Path(".data/s3"))


def add_dashboard_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        parents=[common],
        help="run the Streamlit dashboard (and the local SeaweedFS server for a loopback endpoint)",
    )
    dashboard.add_argument("--app", type=Path, default=Path("app.py"), help="the dashboard script")
    dashboard.add_argument(
        "--port", type=int, help=f"default {DEFAULT_DASHBOARD_PORT}, or a free one"
    )
    dashboard.add_argument("--address", default="127.0.0.1", help="address to listen on")
    dashboard.add_argument("--data-dir", type=Path, default=Path(".data/s3"))


def add_serve_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve", parents=[common], help="serve the REST API (OpenAPI docs at /docs)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")


def _embedded_server(settings: Settings, data_dir: Path) -> EmbeddedS3 | None:
    """The local SeaweedFS server for a loopback endpoint, or None for any other endpoint."""
    from urllib.parse import urlparse

    from meeting_storage.storage.embedded import DEFAULT_S3_PORT, EmbeddedS3, is_loopback_endpoint

    if not is_loopback_endpoint(settings.s3_endpoint_url):
        return None
    if not (settings.aws_access_key_id and settings.aws_secret_access_key):
        raise InvalidInputError(
            "The embedded server needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in .env "
            "(copy .env.example)."
        )
    port = urlparse(settings.s3_endpoint_url).port or DEFAULT_S3_PORT
    return EmbeddedS3(
        data_dir,
        access_key=settings.aws_access_key_id,
        secret_key=settings.aws_secret_access_key,
        s3_port=port,
    )


def run_embedded_s3(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    settings: Settings = load_settings()
    server = _embedded_server(settings, args.data_dir)
    if server is None:
        return {
            "started": False,
            "_human": f"Using {settings.s3_endpoint_url or 'AWS S3'}; no local server needed.",
        }
    # Stop SeaweedFS (its own process group) on SIGTERM too, not only on Ctrl+C.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    with server:
        server.ensure_bucket(
            settings.bucket, settings.region, cors_origins=settings.dashboard_origins
        )
        print(
            f"SeaweedFS S3 on {server.endpoint_url}, bucket {settings.bucket}, data in "
            f"{args.data_dir}. Press Ctrl+C to stop.",
            file=sys.stderr,
            flush=True,
        )
        try:
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return {"started": True, "_human": "Stopped."}


def run_serve(args: argparse.Namespace, storage: Callable[[], MeetingStorage]) -> dict[str, Any]:
    import secrets
    from dataclasses import replace

    import uvicorn

    from meeting_storage.api.app import check_bind_address, create_app

    if not 0 <= args.port <= 65535:
        raise InvalidInputError(f"--port must be between 0 and 65535, not {args.port}.")
    settings: Settings = load_settings()
    check_bind_address(args.host, settings.api_token)
    if settings.api_token is None:
        # Loopback only (checked above): a fresh token for this run, shown to whoever started it.
        settings = replace(settings, api_token=secrets.token_urlsafe(32))
        print(
            f"API_TOKEN is not set; the token for this run is: {settings.api_token}\n"
            "Set API_TOKEN in .env to keep one across restarts.",
            file=sys.stderr,
            flush=True,
        )
    app = create_app(settings=settings)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"REST API on http://{shown}:{args.port} (docs at /docs). Press Ctrl+C to stop.",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        server_header=False,
        proxy_headers=False,
        log_level="info",
    )
    return {"started": True, "_human": "Stopped."}


def dashboard_origins(settings: Settings, host: str, port: int) -> tuple[str, ...]:
    """DASHBOARD_ORIGINS and the origins this dashboard is served from, for the CORS rule."""
    served = {f"http://localhost:{port}", f"http://127.0.0.1:{port}", f"http://{host}:{port}"}
    return tuple(sorted({*settings.dashboard_origins, *served}))


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_dashboard(
    args: argparse.Namespace, storage: Callable[[], MeetingStorage]
) -> dict[str, Any]:
    """Start the local S3 server when the endpoint is loopback, then `streamlit run` the app
    as a child process; Ctrl+C or SIGTERM stops both, and so does either one exiting."""
    import subprocess

    from meeting_storage.storage.embedded import exit_with_parent, free_port, port_is_free

    app = args.app.resolve()
    if not app.is_file():
        raise InvalidInputError(
            f"The dashboard script {str(args.app)!r} does not exist; run this from the "
            "project folder (where app.py is) or pass --app."
        )
    settings: Settings = load_settings()
    port = args.port or (
        DEFAULT_DASHBOARD_PORT if port_is_free(DEFAULT_DASHBOARD_PORT) else free_port()
    )
    host = "localhost" if args.address in {"127.0.0.1", "0.0.0.0", "::"} else args.address  # noqa: S104
    # Sign-in first: a dashboard without it refuses a non-loopback address before anything starts.
    sign_in = sign_in_setup(settings, port, app.parent, args.address)
    check_dashboard_address(args.address, sign_in)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    server = _embedded_server(settings, args.data_dir)
    dashboard: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    status = 0
    private = tempfile.TemporaryDirectory(prefix="meeting-storage-dashboard-")
    try:
        generated = (
            write_secrets(Path(private.name), sign_in.auth) if sign_in.auth is not None else None
        )
        if server is not None:
            server.start()
            server.ensure_bucket(
                settings.bucket,
                settings.region,
                cors_origins=dashboard_origins(settings, host, port),
            )
            where = f"SeaweedFS S3 on {server.endpoint_url} (data in {args.data_dir})"
        else:
            where = settings.s3_endpoint_url or f"AWS S3 in {settings.region}"
        dashboard = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(app),
                "--server.port",
                str(port),
                "--server.address",
                args.address,
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                *streamlit_secrets_args(app.parent, generated),
            ],
            cwd=app.parent,
            stdin=subprocess.DEVNULL,
            preexec_fn=exit_with_parent,  # one prctl call between fork and exec
        )
        for note in sign_in.notes:
            print(f"note: {note}", file=sys.stderr, flush=True)
        if settings.queue_backend == "local":
            # The local queue needs a worker on this machine: one runs beside the dashboard.
            worker = subprocess.Popen(
                [sys.executable, "-m", "meeting_storage", "worker"],
                cwd=app.parent,
                stdin=subprocess.DEVNULL,
                preexec_fn=exit_with_parent,
            )
        print(
            f"Storage: bucket {settings.bucket} via {where}.\n"
            f"Sign-in: {_SIGN_IN[sign_in.source]}.\n"
            f"Dashboard: http://{host}:{port}  (Ctrl+C stops it"
            + (" and the local S3 server)" if server is not None else ")"),
            file=sys.stderr,
            flush=True,
        )
        while dashboard.poll() is None:
            if server is not None and (server.process is None or server.process.poll() is not None):
                print(f"error: SeaweedFS stopped; see {server.log_path}", file=sys.stderr)
                status = 1
                break
            time.sleep(0.5)
        else:
            status = dashboard.returncode
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()  # SIGTERM: it finishes (or returns) the current job
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if dashboard is not None and dashboard.poll() is None:
            dashboard.terminate()
            try:
                dashboard.wait(timeout=15)
            except subprocess.TimeoutExpired:
                dashboard.kill()
                dashboard.wait()
        if server is not None:
            server.stop()
        private.cleanup()  # the generated secrets file holds the client secret
    return {"started": True, "_human": "Stopped.", "_exit_status": status}
