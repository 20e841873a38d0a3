"""The dashboard's sign-in set-up: the OpenID Connect settings from `.env` handed to Streamlit
as a generated secrets file, and the rule that a dashboard without sign-in listens only on
this machine.

Streamlit's `st.login` reads its provider from an `[auth]` section of its secrets. Rather than
asking for a hand-edited `.streamlit/secrets.toml`, `meeting-storage dashboard` writes one
from the OIDC_* settings into a private temporary folder and points Streamlit at it (after
the usual secrets files, so their other secrets still load). Without OIDC_* settings an
existing `.streamlit/secrets.toml` with an `[auth]` section is used as it is.
"""

from __future__ import annotations

import json
import os
import secrets
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from meeting_storage.core.errors import ConfigurationError
from meeting_storage.core.settings import Settings

OIDC_SETTINGS = (
    "OIDC_SERVER_METADATA_URL",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "AUTH_COOKIE_SECRET",
    "OIDC_REDIRECT_URI",
)
SECRETS_NAME = "secrets.toml"


@dataclass(frozen=True)
class SignInSetup:
    """How the dashboard signs people in: `source` is "env" (the OIDC_* settings),
    "secrets.toml" (an existing `[auth]` section) or None (no sign-in: one local
    administrator). `auth` is the `[auth]` section to generate, for "env" only."""

    source: str | None
    auth: dict[str, str] | None = None
    notes: tuple[str, ...] = ()

    @property
    def signs_in(self) -> bool:
        return self.source is not None


def default_secrets_files(app_dir: Path) -> list[Path]:
    """Where Streamlit looks for secrets by default: the user's and the app folder's."""
    return [Path.home() / ".streamlit" / SECRETS_NAME, app_dir / ".streamlit" / SECRETS_NAME]


def has_auth_section(paths: Sequence[Path]) -> bool:
    """Whether any of these secrets files has an `[auth]` section (unreadable ones: no)."""
    for path in paths:
        try:
            with path.open("rb") as handle:
                if isinstance(tomllib.load(handle).get("auth"), dict):
                    return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def sign_in_setup(
    settings: Settings, port: int, app_dir: Path, address: str = "127.0.0.1"
) -> SignInSetup:
    """The sign-in the dashboard will use, or a ConfigurationError saying what is missing."""
    metadata_url, client_id = settings.oidc_server_metadata_url, settings.oidc_client_id
    if not (settings.oidc_configured and metadata_url and client_id):
        if has_auth_section(default_secrets_files(app_dir)):
            return SignInSetup("secrets.toml")
        return SignInSetup(None)
    if not settings.oidc_client_secret:
        raise ConfigurationError(
            "OIDC_CLIENT_SECRET is not set: the dashboard's sign-in needs the client secret "
            "the OpenID Connect provider issued with OIDC_CLIENT_ID (see docs/access.md)."
        )
    notes: list[str] = []
    cookie_secret = settings.auth_cookie_secret
    if not cookie_secret:
        # Signed-in people stay signed in only until the dashboard restarts.
        cookie_secret = secrets.token_urlsafe(32)
        notes.append(
            "AUTH_COOKIE_SECRET is not set; sign-ins last until the dashboard stops. Set it "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) to keep them."
        )
    redirect_uri = settings.oidc_redirect_uri or f"http://localhost:{port}/oauth2callback"
    if not settings.oidc_redirect_uri and not _is_loopback(address):
        notes.append(
            f"OIDC_REDIRECT_URI is not set, so the provider sends people back to {redirect_uri}, "
            "which works only on this machine; set it to this dashboard's public address + "
            "/oauth2callback."
        )
    return SignInSetup(
        "env",
        auth={
            "redirect_uri": redirect_uri,
            "cookie_secret": cookie_secret,
            "client_id": client_id,
            "client_secret": settings.oidc_client_secret,
            "server_metadata_url": metadata_url,
        },
        notes=tuple(notes),
    )


def check_dashboard_address(address: str, setup: SignInSetup) -> None:
    """A dashboard without sign-in never listens beyond this machine: everyone who could
    reach it would be its administrator."""
    if setup.signs_in or _is_loopback(address):
        return
    raise ConfigurationError(
        f"Refusing to run the dashboard on {address} without sign-in: anyone who can reach it "
        "could read and delete every meeting. Configure an OpenID Connect provider in .env "
        f"({', '.join(OIDC_SETTINGS[:4])}; see docs/access.md), or listen on 127.0.0.1."
    )


def _is_loopback(address: str) -> bool:
    # The API's rule for addresses, imported here so that other commands start without FastAPI.
    from meeting_storage.api.auth import is_loopback_host

    return is_loopback_host(address)


def auth_toml(auth: dict[str, str]) -> str:
    """The `[auth]` section as TOML (JSON string escapes are valid TOML basic strings)."""
    lines = [
        "# Generated by `meeting-storage dashboard` from .env; deleted when it stops.",
        "[auth]",
    ]
    lines += [f"{name} = {json.dumps(value)}" for name, value in auth.items()]
    return "\n".join(lines) + "\n"


def write_secrets(folder: Path, auth: dict[str, str]) -> Path:
    """Write the generated secrets file, readable by this user only."""
    path = folder / SECRETS_NAME
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(auth_toml(auth))
    return path


def streamlit_secrets_args(app_dir: Path, generated: Path | None) -> list[str]:
    """`streamlit run` options that add the generated file after the default ones (later files
    win, so its `[auth]` replaces theirs while their other secrets still load)."""
    if generated is None:
        return []
    args: list[str] = []
    for path in [*default_secrets_files(app_dir), generated]:
        args += ["--secrets.files", str(path)]
    return args
