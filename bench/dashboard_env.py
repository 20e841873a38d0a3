"""What the dashboard benchmarks share: a moto bucket configured as the dashboard reads its
settings, and a count of the S3 requests a render makes."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def moto_dashboard(bucket: str) -> Iterator[None]:
    """A fresh moto bucket, configured through the environment (no .env from the project)."""
    import boto3
    from moto import mock_aws
    from streamlit import config

    config.set_option("server.maxUploadSize", 500)
    with tempfile.TemporaryDirectory() as folder, mock_aws():
        os.environ.update(
            {
                "S3_BUCKET_NAME": bucket,
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "LOCAL_DATA_DIR": folder,
            }
        )
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
            os.environ.pop(name, None)
        os.chdir(folder)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=bucket)
        yield


@contextlib.contextmanager
def s3_requests(storage: Any) -> Iterator[Counter[str]]:
    """Counts every S3 request the storage's client makes while the block runs."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    storage.audio._client.meta.events.register("before-call.s3.*", count)
    try:
        yield calls
    finally:
        storage.audio._client.meta.events.unregister("before-call.s3.*", count)


def median_render(
    page: str,
    prepare: Callable[[Any], None],
    check: Callable[[Any], None],
    *,
    repeats: int,
    timeout: float,
) -> tuple[float, int]:
    """Milliseconds to render `page` in AppTest (median of `repeats`, data caches cleared
    before each) after `prepare(at)` has set it up, and the S3 requests that render made;
    `check(at)` asserts what the page shows."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from ui import service

    with s3_requests(service.get_storage()) as calls:
        times = []
        for _ in range(repeats):
            st.cache_data.clear()
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
            at.switch_page(page)
            prepare(at)
            calls.clear()
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
            assert not at.exception, at.exception
            check(at)
        return statistics.median(times) * 1000, sum(calls.values())
