"""Signing in to the dashboard in a real browser, at a real OpenID Connect provider.

`streamlit run app.py` on SeaweedFS with the `[auth]` secrets `meeting-storage dashboard`
generates from OIDC_* settings, oidc-provider-mock as the provider (its authorization form
signs in whatever subject is typed, with `email` = the subject), and Debian's Chromium. A
signed-out visitor sees only the sign-in screen on every page; a viewer reads but has no
upload or delete; an editor deletes their own meeting but not another's; an administrator
reads the audit trail that shows it; someone with no role sees nothing; signing out ends it.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import requests

from meeting_storage import MeetingStorage, Settings
from meeting_storage.cli.dashboard_auth import sign_in_setup, streamlit_secrets_args, write_secrets
from meeting_storage.core.access import Principal, Role
from meeting_storage.storage.embedded import exit_with_parent, free_port
from tests.conftest import APP, SAMPLE_TRANSCRIPT, settings_environment, wav_bytes
from tests.test_dashboard_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    VIEWPORT,
    screenshot,
    settled,
)

ADMIN = "ada@example.com"
EDITOR = "ed@example.com"
OTHER_EDITOR = "eve@example.com"
VIEWER = "vic@example.com"
STRANGER = "sam@elsewhere.example"
OWN_TITLE = "Editor's own standup"
OTHER_TITLE = "Another team's planning"
PAGES = ("", "Upload", "Meetings", "Costs", "Activity")


@dataclass(frozen=True)
class Dashboard:
    url: str
    settings: Settings
    bucket: str
    own_id: str
    other_id: str


@pytest.fixture
def signed_in_dashboard(
    seaweed_settings: Settings, oidc_provider: str, tmp_path: Path
) -> Iterator[Dashboard]:
    """The dashboard signing people in at `oidc_provider`, with two editors' meetings."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        "OIDC_SERVER_METADATA_URL": f"{oidc_provider}/.well-known/openid-configuration",
        "OIDC_CLIENT_ID": "meeting-storage",
        "OIDC_CLIENT_SECRET": "test-secret",
        "OIDC_REDIRECT_URI": f"{url}/oauth2callback",
        "AUTH_COOKIE_SECRET": "a-cookie-secret-only-for-this-test",
        "ADMIN_EMAILS": ADMIN,
        "EDITOR_EMAILS": f"{EDITOR},{OTHER_EDITOR}",
        "VIEWER_EMAILS": VIEWER,
    }
    settings = replace(
        seaweed_settings,
        oidc_server_metadata_url=environment["OIDC_SERVER_METADATA_URL"],
        oidc_client_id="meeting-storage",
        oidc_client_secret="test-secret",
        oidc_redirect_uri=environment["OIDC_REDIRECT_URI"],
        auth_cookie_secret=environment["AUTH_COOKIE_SECRET"],
    )
    # The very secrets file `meeting-storage dashboard` writes for these settings.
    setup = sign_in_setup(settings, port, APP.parent)
    assert setup.auth is not None
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    secrets_file = write_secrets(private, setup.auth)

    storage = MeetingStorage(seaweed_settings)
    own_id = store(storage, EDITOR, OWN_TITLE)
    other_id = store(storage, OTHER_EDITOR, OTHER_TITLE)

    env = {**os.environ, **settings_environment(seaweed_settings), **environment}
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
                "--server.headless",
                "true",
                *streamlit_secrets_args(APP.parent, secrets_file),
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=exit_with_parent,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/_stcore/health", timeout=1).text == "ok":
                    break
            assert time.monotonic() < deadline, "streamlit did not start:\n" + log_path.read_text()
            time.sleep(0.2)
        yield Dashboard(url, seaweed_settings, seaweed_settings.bucket, own_id, other_id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


def store(storage: MeetingStorage, uploader: str, title: str) -> str:
    result = storage.acting_as(Principal(uploader, Role.EDITOR, "cli")).process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes(1.0)),
        audio_filename="Meeting.wav",
        title=title,
    )
    return result.record.meeting_id


def sign_in(page: Any, dashboard: Dashboard, email: str) -> None:
    """Through the dashboard's Sign in button and the provider's authorization form."""
    from playwright.sync_api import expect

    page.goto(dashboard.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator("input[name=sub]").fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{dashboard.url}/**")
    settled(page)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def main_text(page: Any) -> str:
    settled(page)
    return str(page.locator("[data-testid=stApp]").inner_text())


def assert_shows_no_data(page: Any, dashboard: Dashboard) -> None:
    shown = main_text(page)
    for secret in (OWN_TITLE, OTHER_TITLE, dashboard.bucket, dashboard.own_id):
        assert secret not in shown, f"{secret!r} shown at {page.url}"
    assert page.locator("[data-testid=stDataFrame]").count() == 0
    assert page.locator("[data-testid=stMetric]").count() == 0


def test_sign_in_roles_and_sign_out_in_chromium(signed_in_dashboard: Dashboard) -> None:
    assert CHROMIUM.is_file(), "The browser test needs Debian's Chromium at /usr/bin/chromium."
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    dashboard = signed_in_dashboard
    meeting = f"{dashboard.url}/Meeting?id="
    started = time.perf_counter()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # Signed out: every page, and a meeting's own address, shows only the sign-in.
            page = browser.new_page(viewport=VIEWPORT)
            page.set_default_timeout(TIMEOUT_MS)
            for path in PAGES:
                page.goto(f"{dashboard.url}/{path}")
                expect(page.get_by_role("button", name="Sign in")).to_be_visible()
                assert_shows_no_data(page, dashboard)
            page.goto(meeting + dashboard.own_id)
            expect(page.get_by_role("button", name="Sign in")).to_be_visible()
            assert_shows_no_data(page, dashboard)
            screenshot(page, "sign-in")
            page.close()

            # A viewer reads the meetings but has no upload and no delete.
            viewer = browser.new_context(viewport=VIEWPORT).new_page()
            sign_in(viewer, dashboard, VIEWER)
            expect(viewer.get_by_text(f"Signed in as {VIEWER} (viewer)")).to_be_visible()
            sidebar = viewer.locator("[data-testid=stSidebar]")
            expect(sidebar.get_by_role("link", name="Meetings")).to_be_visible()
            expect(sidebar.get_by_role("link", name="Upload")).to_have_count(0)
            viewer.goto(meeting + dashboard.own_id)
            expect(viewer.get_by_role("heading", name=OWN_TITLE)).to_be_visible()
            settled(viewer)
            expect(viewer.get_by_role("button", name="Delete meeting…")).to_have_count(0)
            viewer.goto(f"{dashboard.url}/Upload")
            expect(viewer.get_by_text("Your role cannot upload meetings")).to_be_visible()
            expect(viewer.locator("[data-testid=stFileUploader]")).to_have_count(0)
            # Signing out ends it: the pages are closed again.
            viewer.get_by_role("button", name="Sign out").click()
            with contextlib.suppress(Exception):  # the provider's end-of-session page
                viewer.get_by_role("button", name="End session").click(timeout=5_000)
            viewer.wait_for_url(f"{dashboard.url}/**")
            expect(viewer.get_by_role("button", name="Sign in")).to_be_visible()
            viewer.goto(meeting + dashboard.own_id)
            expect(viewer.get_by_role("button", name="Sign in")).to_be_visible()
            assert_shows_no_data(viewer, dashboard)
            viewer.context.close()

            # An editor deletes their own meeting, and cannot delete another's.
            editor = browser.new_context(viewport=VIEWPORT).new_page()
            sign_in(editor, dashboard, EDITOR)
            editor.goto(meeting + dashboard.other_id)
            expect(editor.get_by_role("heading", name=OTHER_TITLE)).to_be_visible()
            settled(editor)
            expect(editor.get_by_role("button", name="Delete meeting…")).to_have_count(0)
            editor.goto(meeting + dashboard.own_id)
            expect(editor.get_by_role("heading", name=OWN_TITLE)).to_be_visible()
            editor.get_by_role("button", name="Delete meeting…").click()
            dialog = editor.get_by_role("dialog")
            confirmation = dialog.get_by_role("textbox")
            confirmation.fill("delete")
            confirmation.press("Enter")
            settled(editor)
            dialog.get_by_role("button", name="Delete meeting").click()
            expect(editor.get_by_text(f"Deleted {OWN_TITLE}.")).to_be_visible()
            editor.context.close()

            # Someone with no role sees whom to ask, and nothing else.
            stranger = browser.new_context(viewport=VIEWPORT).new_page()
            sign_in(stranger, dashboard, STRANGER)
            expect(stranger.get_by_text("No access.")).to_be_visible()
            expect(stranger.get_by_text(ADMIN)).to_be_visible()
            screenshot(stranger, "no-access")
            for path in PAGES:
                stranger.goto(f"{dashboard.url}/{path}")
                expect(stranger.get_by_text("No access.")).to_be_visible()
                assert_shows_no_data(stranger, dashboard)
            stranger.context.close()

            # The administrator reads who deleted what on the Activity page.
            admin = browser.new_context(viewport=VIEWPORT).new_page()
            sign_in(admin, dashboard, ADMIN)
            admin.get_by_role("link", name="Activity").first.click()
            expect(admin.get_by_role("heading", name="Activity")).to_be_visible()
            settled(admin)
            grid = admin.locator("[data-testid=stDataFrame]").first
            expect(grid).to_be_visible()
            cells = grid.locator("[role=gridcell]").all_inner_texts()
            assert "meeting.delete" in cells and EDITOR in cells
            screenshot(admin, "activity")
            admin.context.close()
        finally:
            browser.close()
    print(f"\nsign-in browser test: {time.perf_counter() - started:.1f} s")
    remaining = MeetingStorage(dashboard.settings).list_meetings().meetings
    assert {r.meeting_id for r in remaining} == {dashboard.other_id}
