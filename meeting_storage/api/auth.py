"""Who may call the API: the bearer token every endpoint but health requires, and the rule
that the server listens beyond this machine only with a configured API_TOKEN."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from meeting_storage.core.errors import ConfigurationError, UnauthorizedError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

_bearer = HTTPBearer(
    auto_error=False,
    description="The server's API_TOKEN (printed at start when it generated one).",
)


def _token_ok(request: Request, token: str | None) -> bool:
    expected: str = request.app.state.api_token
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if not _token_ok(request, credentials.credentials if credentials else None):
        raise UnauthorizedError(
            "Missing or wrong bearer token: send `Authorization: Bearer <API_TOKEN>`."
        )


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
