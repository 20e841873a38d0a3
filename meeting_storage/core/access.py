"""Who may do what: roles, the acting principal, and one pure permission table.

Three roles, ordered: a viewer reads (list, search, open, play, download, costs); an editor
also uploads, processes, attaches transcripts, renames speakers and deletes the meetings they
uploaded; an administrator may do anything. Settings say who has which role (addresses or
`@domain` patterns, or a claim of the OIDC provider) and whether everyone with a role sees
every meeting (`MEETING_VISIBILITY=team`) or viewers and editors only their own (`owner`).

`allowed` is the single table every face goes through (via the service's `authorize`), so a
button the dashboard hides is refused by the service anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from meeting_storage.core.settings import Settings

__all__ = [
    "ACTIONS",
    "LOCAL_OPERATOR",
    "OUTCOMES",
    "VIA",
    "AuditEvent",
    "Principal",
    "Role",
    "allowed",
    "can_see",
    "claimed_email",
    "email_matches",
    "role_for",
]


class Role(StrEnum):
    """A role, ordered viewer < editor < admin (not alphabetically)."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self.value]

    def __lt__(self, other: str) -> bool:
        return self.rank < Role(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Role(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Role(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Role(other).rank


_RANK = {"viewer": 0, "editor": 1, "admin": 2}

VIA = ("dashboard", "api", "cli")


@dataclass(frozen=True)
class Principal:
    """Who is acting: an email address (or `local`), their role, and through which face."""

    email: str
    role: Role
    via: str

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN


# The CLI and an unconfigured local dashboard: whoever holds the AWS credentials already has
# the bucket, so refusing them anything would protect nothing.
LOCAL_OPERATOR = Principal("local", Role.ADMIN, "cli")

# The least role each action needs. Actions on one meeting also need to see it (visibility),
# and `meeting.delete` by an editor needs the meeting to be theirs.
ACTIONS: dict[str, Role] = {
    "meeting.read": Role.VIEWER,
    "costs.read": Role.VIEWER,
    "meeting.upload": Role.EDITOR,
    "meeting.process": Role.EDITOR,
    "meeting.attach_transcript": Role.EDITOR,
    "speakers.rename": Role.EDITOR,
    "meeting.delete": Role.EDITOR,
    "meeting.undelete": Role.ADMIN,
    "meeting.purge": Role.ADMIN,
    "archive.restore": Role.ADMIN,
    "lifecycle.apply": Role.ADMIN,
    "bucket.harden": Role.ADMIN,
    "token.manage": Role.ADMIN,
    "audit.read": Role.ADMIN,
    "store.maintain": Role.ADMIN,
}

# Actions an editor may take only on meetings they uploaded.
_OWN_ONLY = {"meeting.delete"}


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def can_see(principal: Principal, owner: str | None, settings: Settings) -> bool:
    """Whether the principal sees a meeting uploaded by `owner` (None: nobody recorded)."""
    if principal.is_admin or settings.meeting_visibility != "owner":
        return True
    return _same(principal.email, owner)


def allowed(principal: Principal, action: str, owner: str | None, settings: Settings) -> bool:
    """Whether `principal` may take `action` on a meeting uploaded by `owner` (None for an
    action on no particular meeting, or a meeting nobody is recorded as uploading)."""
    needed = ACTIONS.get(action)
    if needed is None or principal.role < needed:
        return False
    if principal.is_admin:
        return True
    if owner is not None and not can_see(principal, owner, settings):
        return False
    if action in _OWN_ONLY:
        return _same(principal.email, owner)
    return True


def email_matches(email: str, patterns: tuple[str, ...]) -> bool:
    """`alice@example.com` matches itself and `@example.com` (case-insensitive)."""
    address = email.strip().lower()
    if "@" not in address:
        return False
    domain = "@" + address.rsplit("@", 1)[1]
    for pattern in patterns:
        wanted = pattern.strip().lower()
        if wanted and (wanted == address or (wanted.startswith("@") and wanted == domain)):
            return True
    return False


def _claim_roles(claims: Mapping[str, object] | None, name: str | None) -> set[Role]:
    if not claims or not name:
        return set()
    value = claims.get(name)
    if isinstance(value, str):
        values: list[object] = list(re.split(r"[\s,]+", value))
    elif isinstance(value, list | tuple | set | frozenset):
        values = list(value)
    else:
        return set()
    found: set[Role] = set()
    for item in values:
        if isinstance(item, str) and item.strip().lower() in _RANK:
            found.add(Role(item.strip().lower()))
    return found


def role_for(email: str, claims: Mapping[str, object] | None, settings: Settings) -> Role | None:
    """The highest role the settings give this address (or its claims); None: no access."""
    granted = _claim_roles(claims, settings.oidc_roles_claim)
    if email_matches(email, settings.admin_emails):
        granted.add(Role.ADMIN)
    if email_matches(email, settings.editor_emails):
        granted.add(Role.EDITOR)
    if email_matches(email, settings.viewer_emails):
        granted.add(Role.VIEWER)
    return max(granted, key=lambda role: role.rank) if granted else None


def claimed_email(claims: Mapping[str, object]) -> str | None:
    """The person's address in an OpenID Connect token's claims (lower-cased): `email`, or
    an address-like `preferred_username`, `upn` or `username` (Entra ID, Cognito); None
    when there is none or the provider says the address is not verified."""
    if claims.get("email_verified") is False:
        return None
    for name in ("email", "preferred_username", "upn", "username"):
        value = claims.get(name)
        if isinstance(value, str) and re.fullmatch(r"[^@\s,]+@[^@\s,]+", value.strip()):
            return value.strip().lower()
    return None


OUTCOMES = ("ok", "forbidden", "failed")


@dataclass(frozen=True)
class AuditEvent:
    """One change (or refused attempt): who, in which role, through which face, did what to
    which meeting, and how it ended. `details` never holds a secret."""

    at: datetime
    actor: str
    role: str
    via: str
    action: str
    meeting_id: str | None
    details: Mapping[str, object]
    outcome: str = "ok"

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at.astimezone(UTC).isoformat(),
            "actor": self.actor,
            "role": self.role,
            "via": self.via,
            "action": self.action,
            "meeting_id": self.meeting_id,
            "details": dict(self.details),
            "outcome": self.outcome,
        }

    @classmethod
    def from_dict(cls, data: object) -> AuditEvent | None:
        """The event, or None for an object that is not one (never an exception)."""
        if not isinstance(data, dict):
            return None
        try:
            at = datetime.fromisoformat(str(data["at"]))
            details = data.get("details") or {}
            meeting_id = data.get("meeting_id")
            return cls(
                at=at if at.tzinfo else at.replace(tzinfo=UTC),
                actor=str(data["actor"]),
                role=str(data["role"]),
                via=str(data["via"]),
                action=str(data["action"]),
                meeting_id=str(meeting_id) if meeting_id else None,
                details=dict(details) if isinstance(details, dict) else {},
                outcome=str(data.get("outcome", "ok")),
            )
        except (KeyError, TypeError, ValueError):
            return None
