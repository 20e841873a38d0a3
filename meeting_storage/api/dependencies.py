"""What every route depends on: the storage service (opened on first use), the refusal of
query parameters an endpoint does not take, and (but for health) the bearer token, which
says who the request acts as."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from meeting_storage.api.auth import MISSING, Credentials, resolve_principal
from meeting_storage.api.errors import error_responses
from meeting_storage.core.errors import InvalidInputError, UnauthorizedError
from meeting_storage.service.facade import MeetingStorage

API_PREFIX = "/api"

StorageFactory = Callable[[], MeetingStorage]


class StorageProvider:
    """Opens the storage service on first use (so a bad setting is a 503, not a crash)."""

    def __init__(self, factory: StorageFactory) -> None:
        self._factory = factory
        self._storage: MeetingStorage | None = None
        self._lock = threading.Lock()

    def __call__(self) -> MeetingStorage:
        with self._lock:
            if self._storage is None:
                self._storage = self._factory()
            return self._storage


def get_storage(request: Request) -> MeetingStorage:
    """The dependency every route gets its MeetingStorage from (override it in tests)."""
    provider: StorageProvider = request.app.state.storage_provider
    return provider()


def _query_names(dependant: Any) -> set[str]:
    """Every query parameter an endpoint declares, its dependencies' included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters the endpoint does not take, instead of silently ignoring a
    misspelt filter (`?serach=`) and answering as if none was given."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(set(request.query_params.keys()) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise InvalidInputError(
            f"Unknown query parameter(s): {', '.join(repr(u) for u in unknown)}; "
            f"this endpoint takes: {takes}."
        )


def require_token(credentials: Credentials) -> str:
    """The request's bearer token; 401 before anything is opened when there is none."""
    if credentials is None or not credentials.credentials:
        raise UnauthorizedError(MISSING)
    return credentials.credentials


def acting_storage(
    request: Request,
    token: Annotated[str, Depends(require_token)],
    storage: Annotated[MeetingStorage, Depends(get_storage)],
) -> MeetingStorage:
    """The storage service acting for the token's principal (401 for a wrong, revoked or
    expired token; 403 for an identity without a role): every operation of the route is
    checked and audited as that person."""
    principal = resolve_principal(request, token, storage)
    request.state.principal = principal
    return storage.acting_as(principal)


# What the routes that need a token take; public routes take PublicStorage.
Storage = Annotated[MeetingStorage, Depends(acting_storage)]
PublicStorage = Annotated[MeetingStorage, Depends(get_storage)]


def public_router(tag: str) -> APIRouter:
    """The endpoints anyone may call (health); they refuse unknown query parameters with 400."""
    return APIRouter(
        prefix=API_PREFIX,
        tags=[tag],
        dependencies=[Depends(reject_unknown_query)],
        responses=error_responses(400),
    )


def token_router() -> APIRouter:
    """The endpoints that need the bearer token; they refuse unknown query parameters with 400."""
    return APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(acting_storage), Depends(reject_unknown_query)],
        responses=error_responses(400, 401, 403),
    )
