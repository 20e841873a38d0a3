"""Memory and speed of uploading a 1 GB recording, on the embedded SeaweedFS server.

- The CLI (`upload FILE`, by path) against a bare boto3 `upload_file` of the same file to the
  same server (its default TransferConfig): throughput and peak RSS of each whole process,
  and the RSS growth over the same command with a 1 MB file. The streamed path the CLI used
  before (`upload_audio` on a reader) is the baseline row.
- The REST API (`serve`): its RSS growth while a client sends 1 GB through the multipart
  `POST /api/meetings/upload`, and while a client uploads 1 GB with `upload-url` (a presigned
  POST straight to S3) and the API then checks and stores it (`/api/meeting/process`).
- The dashboard's direct upload: the service calls the Upload page makes around the
  browser's POST (`create_browser_upload`, `check_uploaded_audio`, `process`), in a process
  of their own; the POST itself goes from another process (curl), as from a browser.

Peak RSS of a finished process comes from the kernel (wait4); of a running server, from its
high-water mark (VmHWM), reset before the upload (/proc/PID/clear_refs). Run:
`python -m bench.upload_memory [--size-mb 1024] [--runs 3]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from meeting_storage.storage.embedded import EmbeddedS3, free_port

ROOT = Path(__file__).resolve().parent.parent
KEY, SECRET = "bench-upload", "bench-upload-secret"
BUCKET = "bench-upload"
MIB = 1024 * 1024
TRANSCRIPT = "Alice: We decided to ship on Friday. Bob: I will send the notes by Monday."
GOALS = {"cli_ratio": 0.9, "cli_growth_mb": 150, "server_growth_mb": 50}

BOTO3_UPLOAD = """
import sys, boto3
from botocore.config import Config
client = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2],
    aws_secret_access_key=sys.argv[3], region_name="us-east-1",
    config=Config(signature_version="s3v4", request_checksum_calculation="when_required",
                  s3={"addressing_style": "path"}))
client.upload_file(sys.argv[5], sys.argv[4], "bench/boto3.wav")
"""
STREAMED_UPLOAD = """
import sys
from meeting_storage import MeetingStorage, load_settings
with open(sys.argv[1], "rb") as handle:
    MeetingStorage(load_settings()).upload_audio(handle, "streamed.wav")
"""
DASHBOARD_CALLS = """
import json, sys
from meeting_storage import MeetingStorage, load_settings
storage = MeetingStorage(load_settings())
storage.list_meetings(limit=1)
name, size = sys.argv[1], int(sys.argv[2])
print("ready", flush=True); sys.stdin.readline()
signed = storage.create_browser_upload(name, size)
print(json.dumps({"url": signed.url, "fields": signed.fields, "key": signed.audio_s3_key}),
      flush=True)
sys.stdin.readline()  # the browser's POST is done
storage.check_uploaded_audio(signed.audio_s3_key)
storage.process(sys.argv[3], audio_s3_key=signed.audio_s3_key)
print("stored", flush=True); sys.stdin.readline()
"""


def wav_file(path: Path, size: int) -> Path:
    """A WAV header then silence, `size` bytes, written in 16 MiB blocks."""
    import struct

    data = size - 44
    header = b"RIFF" + struct.pack("<I", size - 8) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data"
    header += struct.pack("<I", data)
    with path.open("wb") as out:
        out.write(header)
        block = bytes(16 * MIB)
        left = data
        while left:
            out.write(block[: min(left, len(block))])
            left -= min(left, len(block))
    return path


def environment(s3: EmbeddedS3, data_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "S3_", "INDEX_", "DATABASE_"))
    }
    env.update(
        {
            "S3_BUCKET_NAME": BUCKET,
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": s3.endpoint_url,
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "LOCAL_DATA_DIR": str(data_dir),
            "MAX_UPLOAD_MB": "5000",
            "TRANSCRIBER": "none",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def run_measured(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one finished process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{command[:4]} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def proc_status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def reset_peak(pid: int) -> float:
    """Reset the process's RSS high-water mark; its RSS now, in MB."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return proc_status(pid, "VmRSS")


def curl_post(url: str, fields: dict[str, str], path: Path, headers: dict[str, str]) -> None:
    """A multipart POST streamed from disk, as a browser sends one."""
    command = ["curl", "-sS", "-f", "-o", "/dev/null", "--max-time", "600"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    for name, value in fields.items():
        command += ["--form-string", f"{name}={value}"]
    command += ["-F", f"file=@{path}", url]
    subprocess.run(command, check=True)


def cli_rows(s3: EmbeddedS3, env: dict[str, str], big: Path, small: Path, runs: int) -> list[Any]:
    size_mb = big.stat().st_size / MIB
    commands = {
        "boto3 upload_file": lambda path: [
            sys.executable,
            "-c",
            BOTO3_UPLOAD,
            s3.endpoint_url,
            KEY,
            SECRET,
            BUCKET,
            str(path),
        ],
        "CLI upload (by path)": lambda path: [
            sys.executable,
            "-m",
            "meeting_storage",
            "upload",
            str(path),
            "--json",
        ],
        "before: streamed upload_audio": lambda path: [
            sys.executable,
            "-c",
            STREAMED_UPLOAD,
            str(path),
        ],
    }
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    base: dict[str, float] = {}
    for name, command in commands.items():
        base[name] = run_measured(command(small), env)[1]
    for _ in range(runs):  # interleaved, so drift of the shared machine hits all alike
        for name, command in commands.items():
            results[name].append(run_measured(command(big), env))
    rows = []
    reference = statistics.median(wall for wall, _ in results["boto3 upload_file"])
    for name, measured in results.items():
        wall = statistics.median(w for w, _ in measured)
        peak = max(p for _, p in measured)
        rows.append(
            (
                name,
                size_mb / wall,
                reference / wall,
                peak,
                peak - base[name],
                min(w for w, _ in measured),
            )
        )
    return rows


@contextlib.contextmanager
def api_server(env: dict[str, str]) -> Iterator[tuple[str, int, str]]:
    token = secrets.token_urlsafe(24)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "meeting_storage", "serve", "--port", str(port)],
        env={**env, "API_TOKEN": token},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/api/health", timeout=1).ok:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the API did not start")
            time.sleep(0.3)
        yield url, process.pid, token
    finally:
        process.terminate()
        process.wait(timeout=30)


def api_rows(env: dict[str, str], big: Path, warm: Path) -> list[Any]:
    """The API's growth while `big` is sent, after `warm` (large enough to go up in parts)
    has been sent the same way, so that one-time set-up is not counted as growth."""
    rows = []
    with api_server(env) as (url, pid, token):
        auth = {"Authorization": f"Bearer {token}"}

        def multipart(path: Path) -> None:
            curl_post(f"{url}/api/meetings/upload", {}, path, auth)

        def presigned(path: Path) -> None:
            answer = requests.post(
                f"{url}/api/meetings/upload-url",
                json={
                    "filename": path.name,
                    "content_type": "audio/wav",
                    "size": path.stat().st_size,
                },
                headers=auth,
                timeout=30,
            )
            answer.raise_for_status()
            signed = answer.json()
            curl_post(signed["url"], signed["fields"], path, {})
            stored = requests.post(
                f"{url}/api/meeting/process",
                json={"text": TRANSCRIPT, "audio_s3_key": signed["audio_s3_key"]},
                headers=auth,
                timeout=600,
            )
            stored.raise_for_status()

        for name, send in (
            ("API multipart upload", multipart),
            ("API upload-url + process", presigned),
        ):
            send(warm)  # imports, clients, thread pools, the multipart machinery
            before = reset_peak(pid)
            started = time.perf_counter()
            send(big)
            wall = time.perf_counter() - started
            peak = proc_status(pid, "VmHWM")
            rows.append((name, before, peak, peak - before, wall))
    return rows


def dashboard_row(env: dict[str, str], big: Path) -> tuple[Any, ...]:
    process = subprocess.Popen(
        [sys.executable, "-c", DASHBOARD_CALLS, big.name, str(big.stat().st_size), TRANSCRIPT],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin and process.stdout
    assert process.stdout.readline().strip() == "ready"
    before = reset_peak(process.pid)
    started = time.perf_counter()
    process.stdin.write("sign\n")
    process.stdin.flush()
    signed = json.loads(process.stdout.readline())
    curl_post(signed["url"], signed["fields"], big, {})
    process.stdin.write("posted\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == "stored"
    wall = time.perf_counter() - started
    peak = proc_status(process.pid, "VmHWM")
    process.stdin.write("bye\n")
    process.stdin.flush()
    process.wait(timeout=30)
    return ("dashboard direct upload (service calls)", before, peak, peak - before, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as folder:
        work = Path(folder)
        big = wav_file(work / "recording-1g.wav", args.size_mb * MIB)
        small = wav_file(work / "recording-1m.wav", MIB)
        warm = wav_file(work / "recording-40m.wav", 40 * MIB)
        with EmbeddedS3(work / "s3", access_key=KEY, secret_key=SECRET) as s3:
            s3.ensure_bucket(BUCKET, timeout=90)
            env = environment(s3, work / "local")
            cli = cli_rows(s3, env, big, small, args.runs)
            servers = [*api_rows(env, big, warm), dashboard_row(env, big)]
    print(f"\nUploading a {args.size_mb} MB recording to SeaweedFS (median of {args.runs} runs)\n")
    print("| upload | MB/s | × boto3 | peak RSS MB | growth over a 1 MB upload, MB |")
    print("|---|---:|---:|---:|---:|")
    for name, speed, ratio, peak, growth, _ in cli:
        print(f"| {name} | {speed:.0f} | {ratio:.2f} | {peak:.0f} | {growth:.0f} |")
    print(
        f"\nGoals: the CLI at ≥ {GOALS['cli_ratio']}× boto3's throughput, ≤ "
        f"{GOALS['cli_growth_mb']} MB growth.\n"
    )
    print("| server, while a client uploads | RSS before MB | peak MB | growth MB | seconds |")
    print("|---|---:|---:|---:|---:|")
    for name, before, peak, growth, wall in servers:
        print(f"| {name} | {before:.0f} | {peak:.0f} | {growth:.0f} | {wall:.1f} |")
    print(f"\nGoal: ≤ {GOALS['server_growth_mb']} MB growth for the server.")


if __name__ == "__main__":
    main()
