"""Personal API tokens: created by an administrator for one person and one role, shown once,
kept only as a hash.

A token is `mst_<16 hex digits: its id>_<43 random characters>` (256 random bits). Its
record, auth/tokens/tok-<id>.json in the bucket, holds the SHA-256 of the whole token (a
fast hash is enough for a random secret of this length; there is nothing to guess), the
person's address, the role, the expiry and, once revoked, when. The id inside the token
finds its record with one GET; the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from meeting_storage.core import layout
from meeting_storage.core.access import Principal, Role
from meeting_storage.core.errors import (
    InvalidInputError,
    NotFoundError,
    UnauthorizedError,
)
from meeting_storage.core.models import parse_timestamp, utc_now
from meeting_storage.service.access import AccessControl
from meeting_storage.storage.blobs import BlobStore

TOKEN_PREFIX = "mst_"  # noqa: S105 - how a personal token starts, not a secret
DEFAULT_EXPIRES_DAYS = 90
MAX_EXPIRES_DAYS = 3650
_TOKEN_RE = re.compile(r"^mst_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")
_EMAIL_RE = re.compile(r"^[^@\s,]+@[^@\s,]+$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    """A personal token's record (never the token itself)."""

    token_id: str
    email: str
    role: Role
    name: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    revoked_at: datetime | None = None
    sha256: str = ""

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def to_dict(self) -> dict[str, object]:
        """What `token list` shows: everything but the hash."""
        return {
            "token_id": self.token_id,
            "email": self.email,
            "role": str(self.role),
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    def stored(self) -> bytes:
        return json.dumps({**self.to_dict(), "sha256": self.sha256}, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> ApiToken:
        raw = json.loads(data)

        def when(name: str) -> datetime | None:
            value = raw.get(name)
            return parse_timestamp(str(value)) if value else None

        created = when("created_at")
        if not isinstance(raw, dict) or created is None:
            raise ValueError("not a token record")
        return cls(
            token_id=str(raw["token_id"]),
            email=str(raw["email"]),
            role=Role(str(raw["role"])),
            name=str(raw.get("name") or ""),
            created_at=created,
            created_by=str(raw.get("created_by") or ""),
            expires_at=when("expires_at"),
            revoked_at=when("revoked_at"),
            sha256=str(raw.get("sha256") or ""),
        )


@dataclass(frozen=True)
class CreatedToken:
    """A new token: `token` is shown this once and stored nowhere."""

    token: str
    record: ApiToken

    def to_dict(self) -> dict[str, object]:
        return {
            "token": self.token,
            "token_id": self.record.token_id,
            "email": self.record.email,
            "role": str(self.record.role),
            "name": self.record.name,
            "expires_at": self.record.expires_at.isoformat() if self.record.expires_at else None,
        }


class TokenStore:
    """The tokens' records under auth/tokens/ in the bucket."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def put(self, record: ApiToken, *, new: bool = False) -> None:
        key = layout.token_key(record.token_id)
        self.blobs.put(key, record.stored(), "application/json", if_none_match=new)

    def get(self, token_id: str) -> ApiToken | None:
        try:
            return ApiToken.from_bytes(self.blobs.get(layout.token_key(token_id)).data)
        except NotFoundError:
            return None
        except (ValueError, KeyError):
            return None

    def all(self) -> list[ApiToken]:
        found = []
        for info in self.blobs.iter_objects(layout.TOKENS_PREFIX):
            token_id = info.key.removeprefix(layout.TOKENS_PREFIX).removesuffix(".json")
            try:
                record = self.get(token_id)
            except InvalidInputError:
                continue
            if record is not None:
                found.append(record)
        return sorted(found, key=lambda r: r.created_at, reverse=True)


class ApiTokens(AccessControl):
    """The personal API tokens part of `MeetingStorage`."""

    token_store: TokenStore

    def create_token(
        self,
        email: str,
        role: str,
        *,
        name: str = "",
        expires_days: int | None = DEFAULT_EXPIRES_DAYS,
    ) -> CreatedToken:
        """A new token acting as `email` with `role` (administrators only)."""
        self.authorize("token.manage")
        email = (email or "").strip().lower()
        if not _EMAIL_RE.match(email) or len(email) > 320:
            raise InvalidInputError(f"{email[:80]!r} is not an email address.")
        try:
            chosen = Role((role or "").strip().lower())
        except ValueError:
            raise InvalidInputError(
                f"role must be one of {', '.join(r.value for r in Role)}, not {role!r}."
            ) from None
        if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
            raise InvalidInputError(f"expires_days must be from 1 to {MAX_EXPIRES_DAYS}.")
        name = " ".join((name or "").split())[:100]
        token_id = layout.new_token_id()
        token = f"{TOKEN_PREFIX}{token_id.removeprefix('tok-')}_{secrets.token_urlsafe(32)}"
        now = utc_now()
        record = ApiToken(
            token_id=token_id,
            email=email,
            role=chosen,
            name=name,
            created_at=now,
            created_by=self.principal.email,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
            sha256=token_hash(token),
        )
        with self.audited("token.create", None, token_id=token_id, email=email, role=chosen):
            self.token_store.put(record, new=True)
        return CreatedToken(token=token, record=record)

    def list_tokens(self) -> list[ApiToken]:
        """Every token's record, newest first, without secrets (administrators only)."""
        self.authorize("token.manage")
        return self.token_store.all()

    def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke a token for good (administrators only); its record stays, for the trail."""
        layout.validate_token_id(token_id)
        self.authorize("token.manage")
        with self.audited("token.revoke", None, token_id=token_id) as scope:
            record = self.token_store.get(token_id)
            if record is None:
                raise NotFoundError(f"No token {token_id}; `token list` shows them.")
            scope.details["email"] = record.email
            if record.revoked_at is None:
                record = replace(record, revoked_at=utc_now())
                self.token_store.put(record)
        return record

    def authenticate_token(self, token: str, via: str = "api") -> Principal:
        """The principal a personal token acts as, or UnauthorizedError (unknown, revoked,
        expired). The same answer for each, so a caller learns nothing about other tokens."""
        refused = UnauthorizedError(
            "Unknown, revoked or expired API token: ask an administrator for a new one "
            "(`meeting-storage token create`)."
        )
        match = _TOKEN_RE.match(token or "")
        if match is None:
            raise refused
        record = self.token_store.get(f"tok-{match.group(1)}")
        if (
            record is None
            or not hmac.compare_digest(record.sha256, token_hash(token))
            or not record.active(datetime.now(UTC))
        ):
            raise refused
        return Principal(record.email, record.role, via)
