"""The recording picker that uploads from the browser straight to S3 (a presigned POST), with
a progress bar: a static component served from `browser_upload_frontend/` (no build step,
nothing from a CDN). The page signs the upload when the picker asks, and hears back the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

from meeting_storage.core.models import PresignedUpload
from meeting_storage.storage.media import ALLOWED_EXTENSIONS
from ui.upload import BrowserEvent, parse_browser_event

FRONTEND = Path(__file__).parent / "browser_upload_frontend"
_component = components.declare_component("browser_upload", path=str(FRONTEND))


def signed_args(request_id: str, upload: PresignedUpload) -> dict[str, Any]:
    """What the picker needs to send the file: where, the policy's fields, and the key."""
    return {
        "id": request_id,
        "url": upload.url,
        "fields": dict(upload.fields or {}),
        "key": upload.audio_s3_key,
    }


def browser_upload(
    *,
    key: str,
    max_bytes: int,
    signed: dict[str, Any] | None = None,
    problem: str | None = None,
) -> BrowserEvent | None:
    """Draw the picker; the last thing it reported (picked, uploaded, error), or None."""
    value = _component(
        key=key,
        accept=",".join(f".{extension}" for extension in ALLOWED_EXTENSIONS),
        max_bytes=max_bytes,
        upload=signed,
        problem=problem,
        default=None,
    )
    return parse_browser_event(value)
