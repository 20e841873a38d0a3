"""`python -m meeting_storage serve` as a real server against a real S3 server (SeaweedFS).

Plain HTTP only, as another tool would use the API: get a presigned upload, send the
recording straight to S3 (POST policy and PUT), process it, play it, delete it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from meeting_storage import Settings
from meeting_storage.storage.embedded import free_port
from tests.conftest import ACCESS_KEY, SAMPLE_TRANSCRIPT, SECRET_KEY, wav_bytes

pytestmark = pytest.mark.seaweedfs

TOKEN = "seaweed-api-token-0123456789"
START_TIMEOUT = 30.0
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def request(self, method: str, path: str, token: str | None = TOKEN, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


def start_server(settings: Settings, workdir: Path, token: str | None) -> Server:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "S3_BUCKET_NAME": settings.bucket,
        "AWS_REGION": settings.region,
        "AWS_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "LOCAL_DATA_DIR": str(workdir / "local"),
        "MAX_UPLOAD_MB": "2",
        # The checkout under test, not whichever copy of the package the venv has installed.
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    if token:
        env["API_TOKEN"] = token
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "meeting_storage", "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log=log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(server.url + "/api/health", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            time.sleep(0.1)
    stop_server(server)
    raise AssertionError(f"serve did not answer within {START_TIMEOUT} s:\n{log.read_text()}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=15)


@pytest.fixture
def api_server(seaweed_settings: Settings, tmp_path: Path) -> Iterator[Server]:
    server = start_server(seaweed_settings, tmp_path, TOKEN)
    yield server
    stop_server(server)
    # uvicorn shuts down cleanly, then re-raises the signal it caught.
    assert server.process.returncode in (0, -signal.SIGTERM), server.log.read_text()
    assert "Application shutdown complete" in server.log.read_text()


def process_and_play(server: Server, audio_s3_key: str, expected: bytes) -> str:
    processed = server.request(
        "POST",
        "/api/meeting/process",
        json={
            "text": SAMPLE_TRANSCRIPT,
            "audio_s3_key": audio_s3_key,
            "filename": "Sync.wav",
            "wait": True,
        },
    )
    assert processed.status_code == 200, processed.text
    meeting_id: str = processed.json()["meeting_id"]
    assert processed.json()["meeting_summary"]["action_items"]
    shown = server.request("GET", f"/api/meetings/{meeting_id}")
    assert shown.status_code == 200, shown.text
    meeting = shown.json()["meeting"]
    assert meeting["metadata"]["audio_s3_key"] == audio_s3_key
    assert meeting["metadata"]["content_type"] == "audio/wav"
    played = requests.get(meeting["audio_url"], timeout=30)
    assert played.status_code == 200 and played.content == expected
    assert SECRET_KEY not in shown.text
    return meeting_id


def test_presigned_post_upload_then_process_play_and_delete(api_server: Server) -> None:
    audio = wav_bytes()
    answer = api_server.request(
        "POST",
        "/api/meetings/upload-url",
        json={"filename": "Team sync.wav", "content_type": "audio/wav"},
    )
    assert answer.status_code == 200, answer.text
    upload = answer.json()
    assert upload["method"] == "POST" and upload["max_bytes"] == 2 * 1024 * 1024
    assert SECRET_KEY not in answer.text

    # S3 itself enforces the policy: another key, another type or too many bytes are refused.
    other_key = {**upload["fields"], "key": "meetings/" + "0" * 32 + "_other.wav"}
    refused = requests.post(
        upload["url"], data=other_key, files={"file": ("a.wav", audio)}, timeout=30
    )
    assert refused.status_code == 403
    other_type = {**upload["fields"], "Content-Type": "text/html"}
    refused = requests.post(
        upload["url"], data=other_type, files={"file": ("a.wav", audio)}, timeout=30
    )
    assert refused.status_code == 403
    too_large = audio + bytes(2 * 1024 * 1024)
    refused = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a.wav", too_large)}, timeout=30
    )
    assert refused.status_code == 400 and "EntityTooLarge" in refused.text

    sent = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a.wav", audio)}, timeout=30
    )
    assert sent.status_code in (200, 201, 204), sent.text
    meeting_id = process_and_play(api_server, upload["audio_s3_key"], audio)

    listed = api_server.request("GET", "/api/meetings", params={"limit": 50}).json()
    assert [m["meeting_id"] for m in listed["meetings"]] == [meeting_id]
    deleted = api_server.request("DELETE", f"/api/meetings/{meeting_id}")
    assert deleted.status_code == 200
    assert upload["audio_s3_key"] in deleted.json()["deleted"]
    assert api_server.request("GET", f"/api/meetings/{meeting_id}").status_code == 404
    assert api_server.request("DELETE", f"/api/meetings/{meeting_id}").status_code == 404


def test_presigned_put_upload_signs_type_and_size(api_server: Server) -> None:
    audio = wav_bytes()
    upload = api_server.request(
        "POST",
        "/api/meetings/upload-url",
        json={
            "filename": "Stand-up.wav",
            "content_type": "audio/wav",
            "size": len(audio),
            "method": "PUT",
        },
    ).json()
    wrong_type = {**upload["headers"], "Content-Type": "text/html"}
    assert (
        requests.put(upload["url"], data=audio, headers=wrong_type, timeout=30).status_code == 403
    )
    longer = audio + b"more"
    assert (
        requests.put(upload["url"], data=longer, headers=upload["headers"], timeout=30).status_code
        == 403
    )
    sent = requests.put(upload["url"], data=audio, headers=upload["headers"], timeout=30)
    assert sent.status_code == 200, sent.text
    process_and_play(api_server, upload["audio_s3_key"], audio)

    # What is stored and what it costs, measured on the real server.
    costs = api_server.request("GET", "/api/costs")
    assert costs.status_code == 200, costs.text
    footprint = costs.json()["footprint"]
    assert footprint["by_prefix"]["meetings/"] == {"objects": 1, "bytes": len(audio)}
    assert footprint["by_prefix"]["transcriptions/"]["objects"] == 4
    # The manifest, the month, the locator and the store's totals.
    assert footprint["by_prefix"]["index/"]["objects"] == 4
    assert footprint["object_count"] == 9 and footprint["meeting_count"] == 1
    standard = costs.json()["monthly"]["items"][0]
    assert standard["name"] == "S3 Standard storage"
    assert standard["quantity"] == pytest.approx(footprint["total_bytes"] / 1024**3)


def test_a_direct_upload_that_is_not_audio_is_refused_by_process(api_server: Server) -> None:
    fake = b"<html>not a recording</html>"
    upload = api_server.request(
        "POST",
        "/api/meetings/upload-url",
        json={"filename": "x.wav", "content_type": "audio/wav", "size": len(fake), "method": "PUT"},
    ).json()
    assert requests.put(upload["url"], data=fake, headers=upload["headers"], timeout=30).ok
    refused = api_server.request(
        "POST",
        "/api/meeting/process",
        json={"text": SAMPLE_TRANSCRIPT, "audio_s3_key": upload["audio_s3_key"]},
    )
    assert refused.status_code == 415
    assert refused.json()["error"]["code"] == "unsupported_media_type"


def test_multipart_upload_through_the_server(api_server: Server) -> None:
    audio = wav_bytes()
    uploaded = api_server.request(
        "POST", "/api/meetings/upload", files={"file": ("Retro.wav", audio, "audio/wav")}
    )
    assert uploaded.status_code == 200, uploaded.text
    process_and_play(api_server, uploaded.json()["audio_s3_key"], audio)
    not_audio = api_server.request(
        "POST", "/api/meetings/upload", files={"file": ("a.wav", b"%PDF-1.7\n" + bytes(500))}
    )
    assert not_audio.status_code == 415
    too_large = api_server.request(
        "POST", "/api/meetings/upload", files={"file": ("a.wav", audio + bytes(3 * 1024 * 1024))}
    )
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "file_too_large"


def test_health_ready_and_auth_over_http(api_server: Server) -> None:
    assert api_server.request("GET", "/api/health", token=None).json()["status"] == "ok"
    ready = api_server.request("GET", "/api/health/ready", token=None)
    assert ready.status_code == 200 and ready.json()["ready"] is True
    denied = api_server.request("GET", "/api/meetings", token="wrong-token-0123456789")
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"] == "Bearer"
    docs = requests.get(api_server.url + "/docs", timeout=10)
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    costs = api_server.request("GET", "/api/costs", params={"months": 2})
    assert costs.status_code == 200, costs.text
    review = costs.json()
    assert review["footprint"]["object_count"] == 0 and review["footprint"]["total_bytes"] == 0
    assert [month["month"] for month in review["projection"]] == [1, 2]
    assert review["usage"]["lifecycle"] is False  # SeaweedFS has no lifecycle rules
    bad = api_server.request("GET", "/api/costs", params={"months": 0})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert "server" not in {name.lower() for name in ready.headers}


def test_without_api_token_serve_prints_a_token_for_the_run(
    seaweed_settings: Settings, tmp_path: Path
) -> None:
    server = start_server(seaweed_settings, tmp_path, token=None)
    try:
        match = re.search(r"the token for this run is: (\S+)", server.log.read_text())
        assert match, server.log.read_text()
        assert server.request("GET", "/api/meetings", token=None).status_code == 401
        assert server.request("GET", "/api/meetings", token=match.group(1)).status_code == 200
    finally:
        stop_server(server)
