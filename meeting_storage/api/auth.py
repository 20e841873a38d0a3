"""Who may call the API: the bearer token every endpoint but health requires, and the rule
that the server listens beyond this machine only with a configured API_TOKEN.

A bearer token is one of: API_TOKEN (the administrator's bootstrap token), a personal token
(`mst_...`, see service/tokens.py) acting as its person and role, or, with an OpenID Connect
provider configured, a JWT of that provider acting as the person it names, with the role
the settings give them."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from meeting_storage.api.oidc import OidcVerifier, looks_like_jwt
from meeting_storage.core.access import Principal, Role, claimed_email, role_for
from meeting_storage.core.errors import ConfigurationError, ForbiddenError, UnauthorizedError
from meeting_storage.core.settings import Settings
from meeting_storage.service.facade import MeetingStorage
from meeting_storage.service.tokens import TOKEN_PREFIX

# Who the audit trail names for a request with API_TOKEN.
BOOTSTRAP_ACTOR = "api-token"
MISSING = "Missing or wrong bearer token: send `Authorization: Bearer <token>` (API_TOKEN, a personal token from `meeting-storage token create`, or the OpenID Connect provider's token)."

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

_bearer = HTTPBearer(
    auto_error=False,
    description=(
        "The server's API_TOKEN (printed at start when it generated one), a personal token "
        "(`meeting-storage token create`), or the OpenID Connect provider's JWT."
    ),
)


def _token_ok(request: Request, token: str | None) -> bool:
    expected: str = request.app.state.api_token
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def resolve_principal(request: Request, token: str | None, storage: MeetingStorage) -> Principal:
    """Who the request acts as, or UnauthorizedError (no valid token) or ForbiddenError (a
    valid identity the settings give no role)."""
    if not token:
        raise UnauthorizedError(MISSING)
    if _token_ok(request, token):
        return Principal(BOOTSTRAP_ACTOR, Role.ADMIN, "api")
    if token.startswith(TOKEN_PREFIX):
        return storage.authenticate_token(token, "api")
    verifier: OidcVerifier | None = request.app.state.oidc_verifier
    if verifier is not None and looks_like_jwt(token):
        claims = verifier.verify(token)
        settings: Settings = request.app.state.settings
        email = claimed_email(claims)
        role = role_for(email, claims, settings) if email else None
        if email is None or role is None:
            raise ForbiddenError(
                f"{email or 'This identity'} has no access to meeting-storage; ask an "
                "administrator to add you to ADMIN_EMAILS, EDITOR_EMAILS or VIEWER_EMAILS."
            )
        return Principal(email, role, "api")
    raise UnauthorizedError(MISSING)


def optional_token(request: Request) -> bool:
    """True for a request with the right bearer token (read directly: the endpoints that use
    this are public, so the OpenAPI document must not declare a security requirement)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and _token_ok(request, token.strip() or None)


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind_address(host: str, token: str | None) -> None:
    """The server never listens beyond this machine without a configured API_TOKEN."""
    if token is None and not is_loopback_host(host):
        raise ConfigurationError(
            f"Refusing to serve on {host} without API_TOKEN: anyone who can reach it could read "
            "and delete meetings. Set API_TOKEN in .env or the environment, or serve on "
            "127.0.0.1."
        )
