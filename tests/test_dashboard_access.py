"""The dashboard's sign-in gate and roles, page by page (AppTest with a seeded `st.user`):
signed out every page shows only the sign-in screen; someone without a role sees whom to ask
and no data; a viewer, an editor and an administrator see only what their role can use;
without sign-in configured the dashboard is one local administrator and says so."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from meeting_storage import MeetingStorage, Settings
from meeting_storage.core.access import Principal, Role
from tests.conftest import (
    SAMPLE_TRANSCRIPT,
    app_test,
    make_settings,
    table_with,
    unescape,
    wav_bytes,
)
from ui import access

HOME = "app.py"
UPLOAD = "pages/1_Upload.py"
MEETINGS = "pages/2_Meetings.py"
MEETING = "pages/3_Meeting.py"
COSTS = "pages/4_Costs.py"
ACTIVITY = "pages/5_Activity.py"
PAGES = (UPLOAD, MEETINGS, MEETING, COSTS, ACTIVITY)

ADMIN = "ada@example.com"
EDITOR = "ed@example.com"
OTHER_EDITOR = "eve@example.com"
VIEWER = "vic@example.com"
STRANGER = "sam@elsewhere.example"
TITLE = "Quarterly roadmap review"
AUTH_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-test-cookie-secret-of-some-length",
        "client_id": "meeting-storage",
        "client_secret": "test-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}


@pytest.fixture
def signed_in_dashboard(dashboard: MeetingStorage, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The dashboard with an OpenID Connect provider configured (as `.env` would set it) and
    the roles given by address."""
    for name, value in {
        "OIDC_SERVER_METADATA_URL": AUTH_SECRETS["auth"]["server_metadata_url"],
        "OIDC_CLIENT_ID": "meeting-storage",
        "OIDC_CLIENT_SECRET": "test-secret",
        "ADMIN_EMAILS": ADMIN,
        "EDITOR_EMAILS": f"{EDITOR},{OTHER_EDITOR}",
        "VIEWER_EMAILS": VIEWER,
    }.items():
        monkeypatch.setenv(name, value)
    return dashboard


def person(email: str, role: Role) -> Principal:
    return Principal(email, role, "cli")


def store(storage: MeetingStorage, uploader: Principal, title: str = TITLE) -> str:
    result = storage.acting_as(uploader).process(
        SAMPLE_TRANSCRIPT,
        audio_file=io.BytesIO(wav_bytes()),
        audio_filename="Roadmap.wav",
        title=title,
    )
    return result.record.meeting_id


def run_as(user: dict[str, object] | None, page: str = HOME, **query: str) -> Any:
    """The page as `user` sees it (None: signed out), with Streamlit's [auth] secrets."""
    at = app_test()
    at.secrets.update(AUTH_SECRETS)
    at.user = {"is_logged_in": False} if user is None else {"is_logged_in": True, **user}
    at.run()
    if page != HOME:
        for name, value in query.items():
            at.query_params[name] = value
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def everything_shown(at: Any) -> str:
    """Every element's content on the page, main area and sidebar, as one string."""
    return "\n".join(str(getattr(node, "proto", "") or "") for node in at._tree)


def button_labels(at: Any) -> set[str]:
    return {button.label for button in at.button}


def nav_labels(at: Any) -> set[str]:
    return {link.label for link in at.sidebar.get("page_link")}


# ------------------------------------------------------------------ the pure judgement


def settings_with(**values: Any) -> Settings:
    return replace(make_settings("gate-bucket", Path("/tmp/gate")), **values)


SIGN_IN_SETTINGS = dict(
    oidc_server_metadata_url="https://idp.example/.well-known/openid-configuration",
    oidc_client_id="meeting-storage",
    admin_emails=("@admins.example", ADMIN),
    editor_emails=(EDITOR,),
    viewer_emails=("@example.com",),
    oidc_roles_claim="groups",
)


def test_the_gate_decides_from_settings_secrets_and_claims() -> None:
    local = settings_with()
    assert access.decide(local, False, {}).principal == access.LOCAL_ADMINISTRATOR
    assert access.decide(local, False, {}).state == access.LOCAL
    # An existing [auth] section in .streamlit/secrets.toml signs people in too.
    assert access.decide(local, True, {"is_logged_in": False}).state == access.SIGN_IN

    s = settings_with(**SIGN_IN_SETTINGS)
    # OIDC_* set but Streamlit started without them: closed, never the local administrator.
    assert access.decide(s, False, {"is_logged_in": True, "email": ADMIN}).state == (
        access.NOT_HANDED_OVER
    )
    assert access.decide(s, True, {}).state == access.SIGN_IN
    assert access.decide(s, True, {"is_logged_in": False, "email": ADMIN}).state == access.SIGN_IN
    assert access.decide(s, True, {"is_logged_in": True}).state == access.NO_EMAIL

    def role(claims: dict[str, object]) -> Role | None:
        gate = access.decide(s, True, {"is_logged_in": True, **claims})
        return gate.principal.role if gate.principal else None

    assert role({"email": ADMIN}) == Role.ADMIN
    assert role({"email": "x@admins.example"}) == Role.ADMIN
    assert role({"email": EDITOR}) == Role.EDITOR
    assert role({"email": "someone@example.com"}) == Role.VIEWER  # the @domain pattern
    assert role({"email": STRANGER}) is None
    assert role({"email": STRANGER, "groups": ["editor"]}) == Role.EDITOR  # the roles claim
    # An address the provider says it has not verified grants nothing.
    assert role({"email": ADMIN, "email_verified": False}) is None
    gate = access.decide(s, True, {"is_logged_in": True, "email": EDITOR})
    assert gate.principal == Principal(EDITOR, Role.EDITOR, "dashboard")


def test_whom_to_ask_is_the_first_administrator_address() -> None:
    assert access.admin_contact(settings_with(admin_emails=("@x.example", ADMIN))) == ADMIN
    assert access.admin_contact(settings_with(admin_emails=("@x.example",))) == ""


# ------------------------------------------------------------------ pages


@pytest.mark.parametrize("page", (HOME, *PAGES))
def test_signed_out_every_page_shows_only_the_sign_in_screen(
    signed_in_dashboard: MeetingStorage, page: str
) -> None:
    meeting_id = store(signed_in_dashboard, person(EDITOR, Role.EDITOR))
    at = run_as(None, page, id=meeting_id)
    shown = everything_shown(at)
    assert "Sign in" in button_labels(at)
    for secret in (TITLE, meeting_id, signed_in_dashboard.settings.bucket, "Meetings 1"):
        assert secret not in shown
    assert not at.dataframe and not at.metric and not at.get("audio") and not at.json
    assert nav_labels(at) == set()


def test_someone_without_a_role_sees_whom_to_ask_and_no_data(
    signed_in_dashboard: MeetingStorage,
) -> None:
    meeting_id = store(signed_in_dashboard, person(EDITOR, Role.EDITOR))
    for page in (HOME, MEETING):
        at = run_as({"email": STRANGER, "name": "Sam"}, page, id=meeting_id)
        (warning,) = at.warning
        said = unescape(warning.value)
        assert "No access" in said and f"Ask **{ADMIN}** for access" in said and STRANGER in said
        assert "Sign out" in button_labels(at)
        shown = everything_shown(at)
        assert TITLE not in shown and signed_in_dashboard.settings.bucket not in shown
        assert not at.dataframe and not at.metric and nav_labels(at) == set()


def test_a_viewer_reads_but_cannot_upload_delete_attach_or_read_the_audit_trail(
    signed_in_dashboard: MeetingStorage,
) -> None:
    meeting_id = store(signed_in_dashboard, person(EDITOR, Role.EDITOR))
    waiting = signed_in_dashboard.acting_as(person(EDITOR, Role.EDITOR)).process(
        None, audio_file=io.BytesIO(wav_bytes()), audio_filename="Waiting.wav"
    )
    viewer = {"email": VIEWER}

    home = run_as(viewer)
    assert nav_labels(home) == {"Home", "Meetings", "Costs"}
    assert f"Signed in as {VIEWER} (viewer)" in [unescape(c.value) for c in home.sidebar.caption]

    meeting = run_as(viewer, MEETING, id=meeting_id)
    assert unescape(meeting.title[0].value) == TITLE
    assert not any("Delete" in label for label in button_labels(meeting))
    assert "Sign out" in button_labels(meeting)
    # The meeting's own history is anyone's who may open it (the whole trail is not).
    history = next(df.value for df in meeting.dataframe if "Via" in df.value.columns)
    assert list(history["Who"]) == [EDITOR] and list(history["Action"]) == ["meeting.process"]

    awaiting = run_as(viewer, MEETING, id=waiting.record.meeting_id)
    assert not awaiting.get("file_uploader") and "Attach transcript" not in button_labels(awaiting)

    upload = run_as(viewer, UPLOAD)
    assert "Not allowed" in upload.warning[0].value and not upload.get("file_uploader")

    activity = run_as(viewer, ACTIVITY)
    assert "Not allowed" in activity.warning[0].value and not activity.dataframe

    meetings = run_as(viewer, MEETINGS)
    # Recently deleted meetings (and their restore) are for administrators only.
    assert [toggle.label for toggle in meetings.toggle] == ["Only the meetings I stored"]


def test_an_editor_may_delete_only_the_meetings_they_uploaded(
    signed_in_dashboard: MeetingStorage,
) -> None:
    own = store(signed_in_dashboard, person(EDITOR, Role.EDITOR), "Own meeting")
    other = store(signed_in_dashboard, person(OTHER_EDITOR, Role.EDITOR), "Someone else's")
    editor = {"email": EDITOR}
    assert "Delete meeting…" in button_labels(run_as(editor, MEETING, id=own))
    assert "Delete meeting…" not in button_labels(run_as(editor, MEETING, id=other))
    home = run_as(editor)
    assert nav_labels(home) == {"Home", "Upload", "Meetings", "Costs"}
    meetings = run_as(editor, MEETINGS)
    assert set(table_with(meetings, "Title")["Meeting id"]) == {own, other}
    meetings.toggle(key="meetings_mine").set_value(True).run()
    assert list(table_with(meetings, "Title")["Meeting id"]) == [own]
    upload = run_as(editor, UPLOAD)
    assert upload.get("file_uploader") and not upload.warning


def test_an_administrator_deletes_any_meeting_and_reads_the_activity(
    signed_in_dashboard: MeetingStorage,
) -> None:
    meeting_id = store(signed_in_dashboard, person(EDITOR, Role.EDITOR))
    admin = {"email": ADMIN}
    home = run_as(admin)
    assert nav_labels(home) == {"Home", "Upload", "Meetings", "Costs", "Activity"}

    meeting = run_as(admin, MEETING, id=meeting_id)
    assert "Delete meeting…" in button_labels(meeting)
    # The meeting's own history: who uploaded it, through which face.
    history = next(df.value for df in meeting.dataframe if "Via" in df.value.columns)
    assert list(history["Who"]) == [EDITOR.lower()]
    assert list(history["Action"]) == ["meeting.process"]

    activity = run_as(admin, ACTIVITY)
    events = activity.dataframe[0].value
    assert meeting_id in set(events["Meeting"]) and EDITOR.lower() in set(events["Who"])
    activity.text_input(key="activity_actor").input(ADMIN).run()
    assert not activity.dataframe and "No recorded events." in [c.value for c in activity.caption]
    activity.text_input(key="activity_actor").input(EDITOR).run()
    assert list(activity.dataframe[0].value["Meeting"]) == [meeting_id]


def test_without_sign_in_the_dashboard_is_one_local_administrator_and_says_so(
    dashboard: MeetingStorage,
) -> None:
    meeting_id = store(dashboard, person(EDITOR, Role.EDITOR))
    for page in (HOME, *PAGES):
        at = app_test().run()
        if page != HOME:
            at.query_params["id"] = meeting_id
            at.switch_page(page).run()
        assert not at.exception
        banner = " ".join(caption.value for caption in at.sidebar.caption)
        assert "Local administrator" in banner and "OIDC_SERVER_METADATA_URL" in banner
        assert "Sign out" not in button_labels(at)
    meeting = run_local(MEETING, id=meeting_id)
    assert "Delete meeting…" in button_labels(meeting)


def run_local(page: str, **query: str) -> Any:
    at = app_test().run()
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_configured_sign_in_without_streamlit_secrets_fails_closed(
    signed_in_dashboard: MeetingStorage,
) -> None:
    at = app_test()
    at.user = {"is_logged_in": True, "email": ADMIN}
    at.run()
    assert not at.exception
    assert "Sign-in is configured but not available" in at.error[0].value
    assert signed_in_dashboard.settings.bucket not in everything_shown(at)
    assert not at.dataframe and not at.metric


def test_every_page_passes_the_gate_before_anything_else() -> None:
    """The first thing a page does (after its imports, definitions and constants) is set
    itself up, which signs people in: a new page that forgot would show its data to anyone."""
    import ast

    def inert(node: ast.stmt) -> bool:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            return True
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return True  # the docstring
        if isinstance(node, ast.Assign | ast.AnnAssign):
            return not any(isinstance(part, ast.Call) for part in ast.walk(node))
        return False

    root = Path(__file__).resolve().parent.parent
    for page in (HOME, *PAGES):
        tree = ast.parse((root / page).read_text())
        first = next(node for node in tree.body if not inert(node))
        assert isinstance(first, ast.Assign), page
        assert ast.unparse(first.value).startswith("components.page_setup("), page
