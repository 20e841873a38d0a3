"""Who is using the dashboard: the gate every page passes before it shows anything.

With sign-in configured (OIDC_* settings handed to Streamlit by `meeting-storage dashboard`,
or an `[auth]` section in `.streamlit/secrets.toml`), a page shows only a sign-in screen until
Streamlit's `st.login` has signed the person in, and then only what their role allows:
someone whose address (or claims) matches no role sees a page saying whom to ask, and no
data. Without sign-in the dashboard is one local administrator (it listens only on this
machine, see `meeting-storage dashboard`) and says so on every page.

`decide` is the pure judgement (settings, whether Streamlit has an `[auth]` section, and
`st.user`'s claims in; a `Gate` out); `require_principal` renders it and stops the page for
anyone who may not go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from meeting_storage import MeetingStorageError, Settings, load_settings
from meeting_storage.core.access import Principal, Role, role_for
from ui.formatting import escape_markdown

VIA = "dashboard"
LOCAL_ADMINISTRATOR = Principal("local", Role.ADMIN, VIA)

# What the gate found: a reason to stop the page, or a principal to go on with.
LOCAL = "local"
SIGNED_IN = "signed_in"
SIGN_IN = "sign_in"
NOT_HANDED_OVER = "not_handed_over"
NO_EMAIL = "no_email"
NO_ROLE = "no_role"


@dataclass(frozen=True)
class Gate:
    """The gate's verdict: `principal` is set only for LOCAL and SIGNED_IN."""

    state: str
    principal: Principal | None = None
    email: str | None = None

    @property
    def passes(self) -> bool:
        return self.principal is not None


def sign_in_configured(settings: Settings, has_auth_section: bool) -> bool:
    return settings.oidc_configured or has_auth_section


def decide(settings: Settings, has_auth_section: bool, user: Mapping[str, object]) -> Gate:
    """Who may go on, from the settings, Streamlit's secrets and `st.user` (its claims)."""
    if not sign_in_configured(settings, has_auth_section):
        return Gate(LOCAL, LOCAL_ADMINISTRATOR)
    if not has_auth_section:
        # OIDC_* are set but Streamlit was started without them (`streamlit run` directly):
        # fail closed rather than fall back to the local administrator.
        return Gate(NOT_HANDED_OVER)
    if user.get("is_logged_in") is not True:
        return Gate(SIGN_IN)
    email = user.get("email")
    if not isinstance(email, str) or "@" not in email:
        return Gate(NO_EMAIL)
    if user.get("email_verified") is False:
        # The provider itself does not vouch for the address: it cannot grant a role.
        return Gate(NO_ROLE, email=email)
    role = role_for(email, user, settings)
    if role is None:
        return Gate(NO_ROLE, email=email)
    return Gate(SIGNED_IN, Principal(email, role, VIA), email=email)


def admin_contact(settings: Settings) -> str:
    """Whom someone without access should ask: the first administrator's address, if any."""
    for entry in settings.admin_emails:
        if not entry.startswith("@"):
            return entry
    return ""


def _has_auth_section() -> bool:
    """Whether Streamlit has an `[auth]` section in its secrets (never raises)."""
    try:
        return st.secrets.load_if_toml_exists() and "auth" in st.secrets
    except (FileNotFoundError, KeyError):
        return False


def _user_claims() -> dict[str, object]:
    return dict(st.user.to_dict())


def require_principal() -> Principal:
    """The person using this page, or (for anyone who may not go on) a screen that says why,
    with no data on it, and the page stops."""
    try:
        settings = load_settings()
    except MeetingStorageError as error:
        st.error(f"**Configuration problem.** {escape_markdown(error.message)}")
        st.stop()
    gate = decide(settings, _has_auth_section(), _user_claims())
    if gate.principal is not None:
        _who_is_here(gate)
        return gate.principal
    _stop_screen(gate, settings)
    raise AssertionError("unreachable: st.stop() ends the page")


def _who_is_here(gate: Gate) -> None:
    principal = gate.principal
    if principal is None:
        return
    if gate.state == LOCAL:
        st.sidebar.caption(
            ":material/shield_person: **Local administrator.** No sign-in is configured, so "
            "this dashboard acts as one administrator and listens only on this machine. Set "
            "OIDC_SERVER_METADATA_URL, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and AUTH_COOKIE_SECRET "
            "in .env to sign people in (docs/access.md)."
        )
        return
    with st.sidebar:
        st.caption(f"Signed in as {escape_markdown(principal.email)} ({principal.role})")
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")


def _stop_screen(gate: Gate, settings: Settings) -> None:
    st.title("Meeting storage", anchor=False)
    if gate.state == SIGN_IN:
        st.markdown("Sign in with your organisation's account to open the meetings.")
        st.button(
            "Sign in", type="primary", icon=":material/login:", on_click=st.login, key="sign_in"
        )
    elif gate.state == NOT_HANDED_OVER:
        st.error(
            "**Sign-in is configured but not available.** OIDC_SERVER_METADATA_URL and "
            "OIDC_CLIENT_ID are set, but this dashboard was started without them. Start it "
            "with `make run` (`meeting-storage dashboard`), which hands them to Streamlit.",
            icon=":material/error:",
        )
    else:
        contact = admin_contact(settings)
        ask = (
            f"Ask **{escape_markdown(contact)}** for access."
            if contact
            else "Ask the person who runs this dashboard to give you a role."
        )
        if gate.state == NO_EMAIL:
            st.warning(
                "**No access.** Your sign-in did not include an email address, which the roles "
                f"are given to. {ask}",
                icon=":material/block:",
            )
        else:
            st.warning(
                f"**No access.** You are signed in as **{escape_markdown(gate.email or '')}**, "
                f"but this address has no role here. {ask}",
                icon=":material/block:",
            )
        st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="sign_out")
    st.stop()
