"""JWT bearer tokens of the OpenID Connect provider (OIDC_SERVER_METADATA_URL).

A token is accepted when it is signed by a key of the provider's JWKS (its `jwks_uri`, keys
cached and fetched again for an unknown key id), with one of the provider's asymmetric
algorithms, by the provider's issuer, for this application (`aud`: OIDC_CLIENT_ID or
OIDC_AUDIENCE), and not expired. The person is its email claim; their role comes from the
same settings as the dashboard's (core/access.py `role_for`).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import jwt

from meeting_storage.core.errors import BackendUnavailableError, UnauthorizedError
from meeting_storage.core.settings import Settings

# Asymmetric only: a symmetric ("HS256") or unsigned ("none") token proves nothing here.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 30
FETCH_TIMEOUT = 10


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


class OidcVerifier:
    """Verifies the provider's JWTs; its metadata is read on first use."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_server_metadata_url is not None
        self.metadata_url = settings.oidc_server_metadata_url
        self.audiences = [a for a in (settings.oidc_client_id, settings.oidc_audience) if a]
        self._lock = threading.Lock()
        self._issuer: str | None = None
        self._keys: jwt.PyJWKClient | None = None

    def _provider(self) -> tuple[str, jwt.PyJWKClient]:
        with self._lock:
            if self._issuer is None or self._keys is None:
                try:
                    with urllib.request.urlopen(  # noqa: S310 - an http(s) URL (settings check)
                        self.metadata_url, timeout=FETCH_TIMEOUT
                    ) as answer:
                        metadata = json.loads(answer.read())
                    issuer, jwks_uri = str(metadata["issuer"]), str(metadata["jwks_uri"])
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    raise BackendUnavailableError(
                        f"Cannot read the OpenID Connect provider's metadata at "
                        f"{self.metadata_url} ({exc}); check OIDC_SERVER_METADATA_URL."
                    ) from exc
                self._keys = jwt.PyJWKClient(jwks_uri, cache_keys=True, timeout=FETCH_TIMEOUT)
                self._issuer = issuer
            return self._issuer, self._keys

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or UnauthorizedError saying what is wrong with it."""
        issuer, keys = self._provider()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            # A token without a key id: any of the provider's signing keys may have signed it.
            candidates = [keys.get_signing_key(kid)] if kid else keys.get_signing_keys()
            claims: dict[str, Any] = {}
            for number, key in enumerate(candidates, 1):
                try:
                    claims = jwt.decode(
                        token,
                        key.key,
                        algorithms=ALGORITHMS,
                        audience=self.audiences,
                        issuer=issuer,
                        leeway=LEEWAY_SECONDS,
                        options={"require": ["exp", "iss", "aud"]},
                    )
                    break
                except jwt.InvalidSignatureError:
                    if number == len(candidates):
                        raise
        except jwt.PyJWKClientConnectionError as exc:
            raise BackendUnavailableError(
                f"Cannot read the OpenID Connect provider's keys: {exc}"
            ) from exc
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise UnauthorizedError(
                f"The bearer token was refused ({exc}); sign in again for a new one."
            ) from exc
        return claims
