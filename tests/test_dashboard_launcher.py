"""`make run`'s launcher (`meeting-storage dashboard`): it starts the local S3 server and the
dashboard, prints the URL, and Ctrl+C or SIGTERM stops both, leaving nothing running."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from meeting_storage import MeetingStorage
from meeting_storage.storage.embedded import port_is_free
from tests.conftest import ACCESS_KEY, APP, SECRET_KEY, make_settings, settings_environment


def fixed_port() -> int:
    """A free port below the kernel's ephemeral range, so none of the ports SeaweedFS asks
    the kernel for (port 0) can turn out to be this one."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        port = random.randrange(max(1024, low - 12000), low)
        if port_is_free(port):
            return port
    raise AssertionError("no free port below the ephemeral range")


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
    return found


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm", "sigkill"])
def test_dashboard_command_starts_and_stops_everything(tmp_path: Path, stop: str) -> None:
    s3_port, web_port = fixed_port(), fixed_port()
    while web_port == s3_port:
        web_port = fixed_port()
    data_dir = tmp_path / "s3-data"
    settings = make_settings(
        "launcher-bucket",
        tmp_path,
        s3_endpoint_url=f"http://127.0.0.1:{s3_port}",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    env = {**os.environ, **settings_environment(settings)}
    log = tmp_path / "launcher.log"
    with log.open("wb") as out:
        launcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meeting_storage",
                "dashboard",
                "--app",
                str(APP),
                "--port",
                str(web_port),
                "--data-dir",
                str(data_dir),
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, like a terminal's foreground job
        )
    try:
        deadline = time.monotonic() + 90
        while not log.read_text().count("Dashboard: http://localhost:"):
            assert launcher.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"http://127.0.0.1:{web_port}/_stcore/health", timeout=1).ok:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert listening(s3_port)
        assert f"Dashboard: http://localhost:{web_port}" in log.read_text()
        assert processes_mentioning(str(data_dir))  # SeaweedFS, with its data in data_dir
        # The bucket lets the dashboard's own page upload straight to it (CORS).
        rules = MeetingStorage(settings).bucket.cors_rules()
        allowed = {origin for rule in rules for origin in rule["AllowedOrigins"]}
        assert {f"http://localhost:{web_port}", f"http://127.0.0.1:{web_port}"} <= allowed
        assert set(settings.dashboard_origins) <= allowed

        if stop == "ctrl-c":
            os.killpg(launcher.pid, signal.SIGINT)  # what the terminal sends to the job
        elif stop == "sigterm":
            launcher.send_signal(signal.SIGTERM)  # to the launcher only
        else:
            # No chance to clean up: the children go because their parent died (Linux).
            launcher.send_signal(signal.SIGKILL)
        status = launcher.wait(timeout=60)
        assert status == (-signal.SIGKILL if stop == "sigkill" else 0), log.read_text()
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
            launcher.wait()
        print(log.read_text())  # shown by pytest when the test fails

    def running() -> bool:
        return bool(
            listening(s3_port)
            or listening(web_port)
            or processes_mentioning(str(data_dir))
            or processes_mentioning(f"--server.port\x00{web_port}")
        )

    deadline = time.monotonic() + 20
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not listening(s3_port) and not listening(web_port)
    assert not processes_mentioning(str(data_dir)), "SeaweedFS was left running"
    assert not processes_mentioning(f"--server.port\x00{web_port}"), "streamlit was left running"
    if stop != "sigkill":
        assert "Stopped." in log.read_text()
