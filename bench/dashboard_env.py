"""What the dashboard benchmarks share: a moto bucket configured as the dashboard reads its
settings, and a count of the S3 requests a render makes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import Any


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

    storage.audio.client.meta.events.register("before-call.s3.*", count)
    try:
        yield calls
    finally:
        storage.audio.client.meta.events.unregister("before-call.s3.*", count)
