"""`meeting-storage dashboard` and sign-in: the OIDC_* settings handed to Streamlit as a
generated `[auth]` secrets file (private, deleted at exit), an existing
`.streamlit/secrets.toml` `[auth]` section kept, and no listening beyond this machine
without sign-in."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from meeting_storage import ConfigurationError, Settings
from meeting_storage.cli.dashboard_auth import (
    OIDC_SETTINGS,
    check_dashboard_address,
    sign_in_setup,
    streamlit_secrets_args,
    write_secrets,
)
from meeting_storage.storage.embedded import free_port, port_is_free
from tests.conftest import ACCESS_KEY, APP, SECRET_KEY, make_settings, settings_environment

METADATA = "https://login.example.com/.well-known/openid-configuration"


def oidc(settings: Settings, **values: object) -> Settings:
    configured: dict[str, object] = {
        "oidc_server_metadata_url": METADATA,
        "oidc_client_id": "meeting-storage",
        "oidc_client_secret": "client-secret",
        "auth_cookie_secret": "cookie-secret-cookie-secret",
    }
    return replace(settings, **{**configured, **values})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sign-in-bucket", tmp_path)


def test_oidc_settings_become_streamlits_auth_section(settings: Settings, tmp_path: Path) -> None:
    setup = sign_in_setup(oidc(settings), 8765, tmp_path)
    assert setup.source == "env" and setup.signs_in and not setup.notes
    assert setup.auth == {
        "redirect_uri": "http://localhost:8765/oauth2callback",
        "cookie_secret": "cookie-secret-cookie-secret",
        "client_id": "meeting-storage",
        "client_secret": "client-secret",
        "server_metadata_url": METADATA,
    }
    explicit = sign_in_setup(
        oidc(settings, oidc_redirect_uri="https://meetings.example.com/oauth2callback"),
        8765,
        tmp_path,
    )
    assert explicit.auth and explicit.auth["redirect_uri"] == (
        "https://meetings.example.com/oauth2callback"
    )

    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    tricky = {**setup.auth, "client_secret": 'quote " back\\slash \u00e9'}
    path = write_secrets(folder, tricky)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text()) == {"auth": tricky}
    # After Streamlit's own secrets files, so its [auth] wins and their other secrets load.
    args = streamlit_secrets_args(tmp_path, path)
    assert args[0::2] == ["--secrets.files"] * 3
    assert args[1::2] == [
        str(Path.home() / ".streamlit" / "secrets.toml"),
        str(tmp_path / ".streamlit" / "secrets.toml"),
        str(path),
    ]
    assert streamlit_secrets_args(tmp_path, None) == []


def test_a_missing_cookie_secret_is_generated_and_a_missing_client_secret_explained(
    settings: Settings, tmp_path: Path
) -> None:
    setup = sign_in_setup(oidc(settings, auth_cookie_secret=None), 8501, tmp_path)
    assert setup.auth and len(setup.auth["cookie_secret"]) >= 32
    assert "AUTH_COOKIE_SECRET" in setup.notes[0]
    public = sign_in_setup(oidc(settings), 8501, tmp_path, "0.0.0.0")
    assert "OIDC_REDIRECT_URI is not set" in public.notes[0]
    assert not sign_in_setup(
        oidc(settings, oidc_redirect_uri="https://m.example.com/oauth2callback"),
        8501,
        tmp_path,
        "0.0.0.0",
    ).notes
    with pytest.raises(ConfigurationError, match="OIDC_CLIENT_SECRET"):
        sign_in_setup(oidc(settings, oidc_client_secret=None), 8501, tmp_path)


def test_an_existing_streamlit_auth_section_keeps_working(
    settings: Settings, tmp_path: Path
) -> None:
    assert sign_in_setup(settings, 8501, tmp_path).source is None
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[other]\nkey = "value"\n')
    assert sign_in_setup(settings, 8501, tmp_path).source is None
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n')
    setup = sign_in_setup(settings, 8501, tmp_path)
    assert setup.source == "secrets.toml" and setup.auth is None
    check_dashboard_address("0.0.0.0", setup)


def test_without_sign_in_only_loopback_addresses_are_allowed(
    settings: Settings, tmp_path: Path
) -> None:
    local = sign_in_setup(settings, 8501, tmp_path)
    for address in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_dashboard_address(address, local)
    for address in ("0.0.0.0", "::", "192.0.2.10", "meetings.example.com"):
        with pytest.raises(ConfigurationError) as refused:
            check_dashboard_address(address, local)
        for name in OIDC_SETTINGS[:4]:
            assert name in refused.value.message
    check_dashboard_address("0.0.0.0", sign_in_setup(oidc(settings), 8501, tmp_path))


def test_dashboard_command_refuses_0_0_0_0_without_sign_in_within_seconds(
    tmp_path: Path,
) -> None:
    s3_port, web_port = free_port(), free_port()
    settings = make_settings(
        "refused-bucket",
        tmp_path,
        s3_endpoint_url=f"http://127.0.0.1:{s3_port}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OIDC_", "AUTH_COOKIE"))
    }
    env.update(settings_environment(settings))
    started = time.monotonic()
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "meeting_storage",
            "dashboard",
            "--app",
            str(APP),
            "--address",
            "0.0.0.0",
            "--port",
            str(web_port),
            "--data-dir",
            str(tmp_path / "s3-data"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    assert finished.returncode != 0
    assert elapsed < 15, f"took {elapsed:.1f} s"
    for name in ("OIDC_SERVER_METADATA_URL", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"):
        assert name in finished.stderr, finished.stderr
    assert "Traceback" not in finished.stderr
    # Nothing was started: neither the dashboard nor the local S3 server.
    assert port_is_free(web_port) and port_is_free(s3_port)
    assert not (tmp_path / "s3-data").exists()


def test_dashboard_command_hands_oidc_settings_to_streamlit_and_deletes_them_at_exit(
    tmp_path: Path,
) -> None:
    s3_port, web_port = free_port(), free_port()
    data_dir = tmp_path / "s3-data"
    settings = make_settings(
        "handed-bucket",
        tmp_path,
        s3_endpoint_url=f"http://127.0.0.1:{s3_port}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    env = {**os.environ, **settings_environment(settings)}
    env.update(
        OIDC_SERVER_METADATA_URL=METADATA,
        OIDC_CLIENT_ID="meeting-storage",
        OIDC_CLIENT_SECRET="client-secret-never-printed",
        AUTH_COOKIE_SECRET="cookie-secret-cookie-secret",
    )
    log = tmp_path / "launcher.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [
                *(sys.executable, "-m", "meeting_storage", "dashboard", "--app", str(APP)),
                *("--port", str(web_port), "--data-dir", str(data_dir)),
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    generated: Path | None = None
    try:
        deadline = time.monotonic() + 90
        while generated is None:
            assert launcher.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            for command in streamlit_commands(web_port):
                # The generated file comes last, after Streamlit's usual ones.
                last = max(i for i, arg in enumerate(command) if arg == "--secrets.files")
                generated = Path(command[last + 1])
            time.sleep(0.2)
        assert "Sign-in: OpenID Connect (OIDC_* settings in .env)" in log.read_text()
        assert stat.S_IMODE(generated.stat().st_mode) == 0o600
        assert stat.S_IMODE(generated.parent.stat().st_mode) == 0o700
        auth = tomllib.loads(generated.read_text())["auth"]
        assert auth["redirect_uri"] == f"http://localhost:{web_port}/oauth2callback"
        assert auth["client_secret"] == "client-secret-never-printed"
        assert auth["server_metadata_url"] == METADATA
    finally:
        launcher.terminate()
        launcher.wait(timeout=60)
    assert not generated.exists() and not generated.parent.exists()
    assert "client-secret-never-printed" not in log.read_text()


def streamlit_commands(port: int) -> list[list[str]]:
    """The command lines of the `streamlit run` processes serving this port."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
            if "streamlit" in command and str(port) in command and "--secrets.files" in command:
                found.append(command)
    return found
