"""Home page (app.py): configuration, health, counts, newest meetings, samples, errors."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meeting_storage import BackendUnavailableError, MeetingStorage, Settings
from meeting_storage.ops import doctor
from meeting_storage.ops.hardening import harden_bucket
from meeting_storage.ops.reconcile import reconcile
from meeting_storage.ops.samples import SAMPLES
from meeting_storage.storage.embedded import free_port
from tests.conftest import (
    SAMPLE_TRANSCRIPT,
    app_test,
    make_settings,
    table_with,
    unescape,
    use_dashboard_settings,
    wav_bytes,
)


def texts(elements: object) -> list[str]:
    return [unescape(str(e.value)) for e in elements]  # type: ignore[attr-defined]


def test_empty_store_renders_configuration_health_and_counts(dashboard: MeetingStorage) -> None:
    at = app_test().run()
    assert not at.exception
    config = table_with(at, "Setting")
    values = dict(zip(config["Setting"], config["Value"], strict=True))
    assert values["Bucket"] == dashboard.settings.bucket
    assert values["Region"] == "us-east-1"
    assert values["Endpoint"] == "AWS S3"
    assert values["Index"] == f"S3 JSON index s3://{dashboard.settings.bucket}/index/meetings.json"
    assert values["Extractor"] == "rule-based"
    assert values["Largest recording"] == "500 MB"
    assert any("checks passed" in text and "0 failed" in text for text in texts(at.warning))
    assert [m.value for m in at.metric] == ["0", "0 bytes", "0"]
    # Not the embedded default (moto answers for AWS S3): no sample button, just a hint.
    assert "No meetings yet" in texts(at.info)[0]
    assert not [b for b in at.button if b.label.startswith("Load")]
    assert {link.label for link in at.page_link} >= {"Upload", "Meetings", "Costs"}


def test_counts_size_and_newest_meetings(dashboard: MeetingStorage) -> None:
    for n in range(7):
        dashboard.process(
            SAMPLE_TRANSCRIPT,
            audio_file=io.BytesIO(wav_bytes()),
            audio_filename=f"sync-{n}.wav",
            title=f"Sync {n}",
            recorded_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=n),
        )
    at = app_test().run()
    assert not at.exception
    meetings, stored, objects = (m.value for m in at.metric)
    assert meetings == "7"
    assert objects == str(7 * 5)  # the running totals: audio + four documents each
    assert stored.endswith("KiB")
    assert any("not yet checked against the bucket" in text for text in texts(at.caption))
    newest = table_with(at, "Title")
    assert list(newest["Title"]) == [f"Sync {n}" for n in (6, 5, 4, 3, 2)]

    # The reconciliation counts what the product did not count on writing: the index.
    reconcile(dashboard)
    from ui import service

    service.after_write()
    at = app_test().run()
    index_objects = len(list(dashboard.audio.iter_objects("index/")))
    assert at.metric[2].value == str(7 * 5 + index_objects)
    assert any("checked against a listing of the bucket as of" in t for t in texts(at.caption))


def test_selecting_a_newest_meeting_opens_it(dashboard: MeetingStorage) -> None:
    result = dashboard.process(SAMPLE_TRANSCRIPT, title="Launch")
    at = app_test().run()
    at.session_state["newest_meetings"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params == {"id": result.record.meeting_id}
    assert at.title[0].value == "Launch"


def test_full_health_check_on_request(dashboard: MeetingStorage) -> None:
    at = app_test().run()
    assert "index" not in set(table_with(at, "Check")["Check"])
    next(b for b in at.button if b.label == "Run every check").click().run()
    assert not at.exception
    assert {"bucket", "index", "orphan audio"} <= set(table_with(at, "Check")["Check"])


def test_sample_meetings_on_the_embedded_default(seaweed_dashboard: MeetingStorage) -> None:
    at = app_test().run()
    assert not at.exception
    button = next(b for b in at.button if b.label == f"Load {len(SAMPLES)} sample meetings")
    button.click().run()
    assert not at.exception
    assert f"Stored {len(SAMPLES)} sample meetings." in texts(at.success)
    assert at.metric[0].value == str(len(SAMPLES))
    assert set(table_with(at, "Title")["Title"]) == {s.title for s in SAMPLES}
    assert not [b for b in at.button if b.label.startswith("Load")]


def test_missing_configuration_is_explained_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, streamlit_project_config: None, fresh_dashboard_caches: None
) -> None:
    at = app_test().run()
    assert not at.exception
    message = texts(at.error)[0]
    assert "Configuration problem" in message
    assert "S3_BUCKET_NAME not configured: set it in .env" in message
    # Without settings nobody can tell whether sign-in is required: the page stops there.
    assert not at.page_link


def test_unreachable_store_shows_the_problem_on_the_home_page(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings: Settings = make_settings("unreachable-bucket", tmp_path, s3_endpoint_url=closed)
    use_dashboard_settings(settings, monkeypatch)
    at = app_test(timeout=120).run()
    assert not at.exception
    errors = texts(at.error)
    assert any("Not healthy" in e for e in errors)
    assert any(
        "Cannot reach the S3 endpoint" in e and "Fix:" in e and "make run" in e for e in errors
    )
    assert not at.metric  # no counts from a store that cannot be reached

    for page in ("pages/2_Meetings.py", "pages/4_Costs.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert any("Storage unavailable" in e for e in texts(at.error)), page


def test_a_health_check_that_cannot_run_is_a_failed_check(
    dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(storage: MeetingStorage, **kwargs: object) -> object:
        raise BackendUnavailableError("S3 is unavailable or throttling (SlowDown); retry.")

    monkeypatch.setattr(doctor, "run_doctor", broken)
    at = app_test().run()
    assert not at.exception
    errors = texts(at.error)
    assert any("Not healthy" in e for e in errors)
    assert any("doctor:" in e and "throttling" in e for e in errors)


def test_another_index_backend(
    moto_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    streamlit_project_config: None,
    fresh_dashboard_caches: None,
) -> None:
    storage = use_dashboard_settings(replace(moto_settings, index_backend="sqlite"), monkeypatch)
    storage.process(SAMPLE_TRANSCRIPT, title="Remote control launch")
    at = app_test().run()
    assert not at.exception
    values = dict(zip(*(table_with(at, "Setting")[c] for c in ("Setting", "Value")), strict=True))
    assert values["Index"].startswith("SQLite index sqlite:///")
    assert at.metric[0].value == "1"
    at.switch_page("pages/2_Meetings.py").run()
    at.text_input(key="meetings_search").input("batteries").run()
    assert list(table_with(at, "Title")["Title"]) == ["Remote control launch"]


def test_the_bucket_set_up_is_reported(dashboard: MeetingStorage) -> None:
    at = app_test().run()
    assert not at.exception
    findings = table_with(at, "To fix")
    assert findings["Setting"].tolist() == [
        "Region",
        "Versioning",
        "Default encryption",
        "Public access block",
        "Lifecycle",
    ]
    assert findings["State"].tolist()[0] == dashboard.settings.region
    summary = next(t for t in texts(at.markdown) if t.startswith("**Bucket set-up:**"))
    assert "versioning, default encryption, public access block, lifecycle need attention" in (
        summary
    )

    harden_bucket(dashboard)
    from ui import service

    service.after_write()
    at.run()
    summary = next(t for t in texts(at.markdown) if t.startswith("**Bucket set-up:**"))
    assert "lifecycle need attention" in summary and "versioning" not in summary
    findings = table_with(at, "To fix")
    states = dict(zip(findings["Setting"], findings["Status"], strict=True))
    assert states["Versioning"] == states["Default encryption"] == "ok"


@pytest.mark.seaweedfs
def test_a_fresh_embedded_store_is_green(seaweed_dashboard: MeetingStorage) -> None:
    """A loopback S3-compatible server (like `make run`'s) with versioning and encryption on:
    what the server cannot do is not applicable, not a warning."""
    harden_bucket(seaweed_dashboard)  # what the embedded server does when it creates the bucket
    at = app_test().run()
    assert not at.exception
    assert any(text.startswith("**Healthy:**") for text in texts(at.success))
    summary = next(t for t in texts(at.markdown) if t.startswith("**Bucket set-up:**"))
    assert "follows the best practices this server supports" in summary
    findings = table_with(at, "To fix")
    statuses = dict(zip(findings["Setting"], findings["Status"], strict=True))
    assert (
        statuses["Public access block"]
        == statuses["Lifecycle"]
        == ("not applicable to a local server")
    )
    assert statuses["Versioning"] == statuses["Default encryption"] == "ok"
