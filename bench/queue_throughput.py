"""Job throughput: 24 short meetings processed by 1, 2 and 4 worker processes, on the local
queue and on SQS (a moto server), with SeaweedFS for the bucket.

Each meeting is submitted with a transcript (TRANSCRIBER=none, rule-based extraction), so a
job is the extraction and the S3 writes of a meeting; the index is SQLite (the S3 JSON index
is one object that every status change rewrites, so its conditional writes serialise the
workers). The meetings are queued first; then the workers start (`--exit-when-empty`) and
the time runs until the last one exits, start-up included (measured alone, and printed).
Prints meetings per minute and the
speed-up over one worker. Run with `make bench` (or `python -m bench.queue_throughput`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from meeting_storage import MeetingStorage, Settings
from meeting_storage.queue.sqs import create_queue_pair, make_sqs_client
from meeting_storage.storage.embedded import EmbeddedS3, free_port

MEETINGS = 24
WORKERS = (1, 2, 4)
ACCESS_KEY = "bench-access-key"
SECRET_KEY = "bench-secret-key"  # noqa: S105 - the local test server's key
REGION = "us-east-1"
ROOT = Path(__file__).resolve().parent.parent
TRANSCRIPT = """\
Alice: Welcome to the weekly sync. Let's go through the launch checklist.
Bob: The landing page is ready. I will publish it on Monday.
Carol: We decided to move the beta to the first of March.
Alice: Carol, please send the release notes to the team by Friday.
Bob: The system must support single sign-on before launch.
Carol: I'll check the pricing page with legal.
"""


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QUEUE_", "JOB_"))}
    env.update(
        {
            "S3_BUCKET_NAME": settings.bucket,
            "AWS_REGION": settings.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL_S3": settings.s3_endpoint_url or "",
            "LOCAL_DATA_DIR": str(settings.local_data_dir),
            "TRANSCRIBER": "none",
            "INDEX_BACKEND": settings.index_backend,
            "QUEUE_BACKEND": settings.queue_backend,
            "PYTHONPATH": str(ROOT),
        }
    )
    if settings.queue_url:
        env["QUEUE_URL"] = settings.queue_url
    if settings.sqs_endpoint_url:
        env["AWS_ENDPOINT_URL_SQS"] = settings.sqs_endpoint_url
    return env


def run(settings: Settings, workers: int, folder: Path, meetings: int = MEETINGS) -> float:
    """Seconds from starting `workers` processes (`--exit-when-empty`) on a queue holding
    `meetings` queued meetings until they have all exited, every meeting complete."""
    storage = MeetingStorage(settings)
    ids = [
        storage.submit_meeting(TRANSCRIPT, title=f"Sync {n}").record.meeting_id
        for n in range(meetings)
    ]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "meeting_storage", "worker", "--exit-when-empty"],
            env=environment(settings),
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            process.wait(timeout=600)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    done = [storage.get_record(m).status for m in ids]
    assert done.count("complete") == meetings, done
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        folder = Path(tmp)
        server = EmbeddedS3(
            folder / "s3", access_key=ACCESS_KEY, secret_key=SECRET_KEY, volume_size_limit_mb=16
        )
        port = free_port()
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with server:
                time.sleep(2)
                rows = []
                startup = 0.0
                for backend in ("local", "sqs"):
                    baseline = None
                    for workers in WORKERS:
                        bucket = f"bench-{uuid.uuid4().hex[:12]}"
                        server.ensure_bucket(bucket, REGION, timeout=90)
                        settings = Settings(
                            bucket=bucket,
                            region=REGION,
                            aws_access_key_id=ACCESS_KEY,
                            aws_secret_access_key=SECRET_KEY,
                            s3_endpoint_url=server.endpoint_url,
                            local_data_dir=folder / bucket,
                            transcriber="none",
                            index_backend="sqlite",
                            queue_backend=backend,
                        )
                        if backend == "sqs":
                            settings = replace(
                                settings, sqs_endpoint_url=f"http://127.0.0.1:{port}"
                            )
                            created = create_queue_pair(
                                make_sqs_client(settings), bucket, max_receives=3, visibility=300
                            )
                            settings = replace(settings, queue_url=created["queue_url"])
                        if backend == "local" and workers == 1:
                            startup = run(settings, 1, folder, meetings=0)
                        seconds = run(settings, workers, folder)
                        per_minute = MEETINGS / seconds * 60
                        baseline = baseline or per_minute
                        rows.append((backend, workers, seconds, per_minute, per_minute / baseline))
                        print(
                            f"  {backend} x{workers}: {seconds:.1f} s", file=sys.stderr, flush=True
                        )
        finally:
            moto.terminate()
            moto.wait(timeout=30)
    print(f"\nQueue throughput: {MEETINGS} short meetings (transcript given, rule-based)")
    print(
        f"{os.cpu_count()} CPU cores; SeaweedFS for the bucket; SQLite index; SQS on a moto "
        "server.\n"
    )
    print(f"A worker's start-up and exit on an empty queue: {startup:.1f} s (counted below).\n")
    print("| backend | workers | seconds | meetings/min | vs 1 worker |")
    print("|---|---:|---:|---:|---:|")
    for backend, workers, seconds, per_minute, speedup in rows:
        print(f"| {backend} | {workers} | {seconds:.1f} | {per_minute:.0f} | {speedup:.2f}x |")


if __name__ == "__main__":
    main()
