"""The whole path in a real browser: SeaweedFS, `streamlit run app.py`, and Debian's Chromium.

Loads the samples, uploads a real recording, finds it in the list, opens it, checks that the
player's presigned URL returns the recording's bytes, deletes it, and saves a screenshot of
every page under docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from meeting_storage import MeetingStorage, Settings
from meeting_storage.ops.samples import SAMPLES
from meeting_storage.storage.bucket import with_dashboard_rule
from meeting_storage.storage.embedded import exit_with_parent, free_port
from tests.conftest import APP, PROJECT_ROOT, SAMPLE_TRANSCRIPT, settings_environment, wav_bytes

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 30_000


@pytest.fixture
def dashboard_url(seaweed_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port against a fresh SeaweedFS bucket.

    It runs in an empty folder (no .env there), configured only by its environment; the
    project's .streamlit/config.toml still applies, being next to app.py.
    """
    # The bucket as `make run` creates it on the embedded server: versioned and encrypted.
    bucket = MeetingStorage(seaweed_settings).bucket
    bucket.enable_versioning()
    bucket.enable_default_encryption()
    port = free_port()
    # ... with `make run`'s CORS rule for the dashboard's own origin.
    origin = f"http://127.0.0.1:{port}"
    bucket.put_cors_rules(with_dashboard_rule([], [origin]))
    env = {
        **os.environ,
        **settings_environment(seaweed_settings),
        "DASHBOARD_ORIGINS": origin,
    }
    log_path = tmp_path / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(APP),
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=exit_with_parent,
        )
    # As `make run` does: one worker beside the dashboard processes the queued meetings.
    worker = subprocess.Popen(
        [sys.executable, "-m", "meeting_storage", "worker"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=exit_with_parent,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            assert time.monotonic() < deadline, "streamlit did not start:\n" + log_path.read_text()
            time.sleep(0.2)
        yield url
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def settled(page: Any) -> None:
    """Wait until the page's script run has finished and the page has drawn."""
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=TIMEOUT_MS)
    page.wait_for_timeout(800)
    page.wait_for_selector("[data-test-script-state=notRunning]", timeout=TIMEOUT_MS)


def grid_titles(page: Any) -> list[str]:
    """The Title column of the first table, read from the grid's accessible cells."""
    cells = page.locator("[data-testid=stDataFrame] [role=gridcell][aria-colindex='2']")
    return [text.strip() for text in cells.all_inner_texts()]


def screenshot(page: Any, name: str) -> None:
    """The whole page (the app scrolls inside its main area, so the window is made as tall
    as the content, up to a limit, for the picture)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    settled(page)
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size(
        {"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], min(int(height), 2200))}
    )
    settled(page)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(VIEWPORT)


def test_upload_list_play_delete_in_chromium(
    dashboard_url: str, seaweed_settings: Settings, tmp_path: Path
) -> None:
    assert CHROMIUM.is_file(), (
        "The browser test needs Debian's Chromium at /usr/bin/chromium: "
        "apt-get install chromium (`make test` installs it)."
    )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    recording = tmp_path / "Product sync.wav"
    recording.write_bytes(wav_bytes(3.0))
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)

            # Home: an empty store on a loopback endpoint offers the samples.
            page.goto(dashboard_url)
            page.get_by_role("button", name=f"Load {len(SAMPLES)} sample meetings").click()
            expect(page.get_by_text(f"Stored {len(SAMPLES)} sample meetings.")).to_be_visible()
            expect(page.get_by_text("Newest meetings")).to_be_visible()
            # A store like `make run`'s opens green: nothing for a local server to fix.
            expect(page.get_by_text("Healthy:")).to_be_visible()
            screenshot(page, "home")

            # Upload a real recording with a pasted transcript: the browser sends it
            # straight to SeaweedFS (presigned POST) with a progress bar.
            page.get_by_role("link", name="Upload").first.click()
            expect(page.get_by_text("up to 500 MB")).to_be_visible()
            page.get_by_label("…or paste the transcript (optional)").fill(SAMPLE_TRANSCRIPT)
            page.get_by_label("Title (optional)").fill("Product sync")
            page.get_by_label("Title (optional)").press("Enter")
            settled(page)
            picker = page.frame_locator("iframe[title*=browser_upload]")
            picker.locator("input[type=file]").set_input_files(recording)
            expect(picker.get_by_text("Product sync.wav")).to_be_visible()
            with page.expect_request(
                lambda request: (
                    request.method == "POST"
                    and request.url.startswith(seaweed_settings.s3_endpoint_url or "-")
                )
            ):
                picker.get_by_role("button", name="Upload and store").click()
            expect(page.get_by_text("Stored Product sync and queued it")).to_be_visible()
            screenshot(page, "upload")

            # Its page: the player gets a presigned URL that returns the recording's bytes.
            page.get_by_role("link", name="Open the meeting").click()
            page.wait_for_url("**/Meeting?id=meeting-*")
            meeting_url = page.url
            expect(page.get_by_role("heading", name="Product sync")).to_be_visible()
            source = page.locator("audio").get_attribute("src")
            assert source and "X-Amz-Signature=" in source
            played = requests.get(source, timeout=10)
            assert played.status_code == 200 and played.content == recording.read_bytes()
            expect(page.get_by_role("heading", name="Action items (2)")).to_be_visible()
            expect(page.get_by_text("Participants: Alice, Bob, Carol")).to_be_visible()
            screenshot(page, "meeting")

            # The list shows it, newest first; selecting its row opens the same page.
            page.get_by_role("link", name="Meetings").first.click()
            expect(page.get_by_text("Meetings 1–5, newest first")).to_be_visible()
            settled(page)
            assert grid_titles(page)[0] == "Product sync"
            assert set(grid_titles(page)[1:]) == {sample.title for sample in SAMPLES}
            screenshot(page, "meetings")
            grid = page.locator("[data-testid=stDataFrame]").first.bounding_box()
            assert grid is not None
            page.mouse.click(grid["x"] + 15, grid["y"] + 35 + 17)  # the first row's checkbox
            page.wait_for_url(meeting_url)

            # Delete it, confirming by typing; the list no longer shows it.
            expect(page.get_by_role("heading", name="Product sync")).to_be_visible()
            page.get_by_role("button", name="Delete meeting…").click()
            dialog = page.get_by_role("dialog")
            expect(dialog.get_by_text("This deletes Product sync")).to_be_visible()
            confirmation = dialog.get_by_role("textbox")
            confirmation.fill("delete")
            confirmation.press("Enter")
            settled(page)
            dialog.get_by_role("button", name="Delete meeting").click()
            expect(page.get_by_text("Deleted Product sync.")).to_be_visible()
            expect(page.get_by_text("Meetings 1–4, newest first")).to_be_visible()
            settled(page)
            assert "Product sync" not in grid_titles(page)
            assert requests.get(source, timeout=10).status_code == 404

            # What it costs.
            page.get_by_role("link", name="Costs").first.click()
            expect(page.get_by_text("Next 12 months").first).to_be_visible()
            expect(page.get_by_text("as of 2025-11-01", exact=False)).to_be_visible()
            expect(page.get_by_text("Cost per month, by category", exact=False)).to_be_visible()
            screenshot(page, "costs")
        finally:
            browser.close()
    print(f"\nbrowser test: {time.perf_counter() - started:.1f} s")
    storage = MeetingStorage(seaweed_settings)
    assert {r.title for r in storage.list_meetings().meetings} == {s.title for s in SAMPLES}


def test_a_wrong_file_sent_straight_to_the_bucket_is_removed_and_reported(
    dashboard_url: str, seaweed_settings: Settings, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    impostor = tmp_path / "minutes.wav"
    impostor.write_bytes(b"These are typed minutes, not a recording.\n" * 50)
    storage = MeetingStorage(seaweed_settings)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(f"{dashboard_url}/Upload")
            settled(page)
            picker = page.frame_locator("iframe[title*=browser_upload]")
            picker.locator("input[type=file]").set_input_files(impostor)
            picker.get_by_role("button", name="Upload and store").click()
            expect(page.get_by_text("It was removed from the bucket.")).to_be_visible()
        finally:
            browser.close()
    assert list(storage.audio.iter_objects("meetings/")) == []
    assert storage.list_meetings().meetings == []
