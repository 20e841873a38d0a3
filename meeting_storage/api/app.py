"""The REST API (FastAPI): the design document's endpoints over the same `MeetingStorage`.

Route handlers are thin: validate the request, call one service method, shape the JSON. Every
failure is `{"success": false, "error": {"code", "message"}}` with the HTTP status the error
carries (`MeetingStorageError.http_status`), the same codes as the CLI. Every endpoint but
health requires `Authorization: Bearer <API_TOKEN>`. Request bodies are size-limited before
they are read; the multipart upload streams its file to S3 as it arrives.

This module builds the app from its parts: schemas/ (the OpenAPI models), routes/ (one router
per group), errors (the envelope and the bug boundary), auth (the token, the bind address),
limits (body sizes), dependencies (the storage service every route gets).

Run it with `python -m meeting_storage serve` (or `make api`); the OpenAPI document is at
/openapi.json and browsable at /docs.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from meeting_storage.api.auth import check_bind_address
from meeting_storage.api.dependencies import StorageFactory, StorageProvider
from meeting_storage.api.errors import InternalErrors, add_error_handlers
from meeting_storage.api.limits import MULTIPART_OVERHEAD, BodySizeLimit
from meeting_storage.api.oidc import OidcVerifier
from meeting_storage.api.routes import access, costs, health, meetings, speakers
from meeting_storage.core.errors import ConfigurationError
from meeting_storage.core.settings import Settings, load_settings
from meeting_storage.service.facade import open_storage

# The serve command imports these from here.
__all__ = ["check_bind_address", "create_app"]


def create_app(
    storage_factory: StorageFactory | None = None, *, settings: Settings | None = None
) -> FastAPI:
    """The ASGI app. `settings` default to the environment and .env; the storage service is
    opened from them on first use unless `storage_factory` provides it."""
    settings = settings or load_settings()
    if not settings.api_token:
        raise ConfigurationError(
            "API_TOKEN not configured: every endpoint but health needs a bearer token. Set "
            "API_TOKEN in .env or the environment (`python -m meeting_storage serve` generates "
            "one for a loopback address)."
        )
    resolved = settings
    # /docs and /redoc serve Swagger UI and ReDoc from the package, not a CDN, so they work offline.
    app = FastAPIOffline(
        title="meeting-storage",
        version=health.package_version(),
        description=(
            "Store meeting recordings, transcripts, summaries and requirements in Amazon S3. "
            "Every endpoint but /api/health requires `Authorization: Bearer <token>`: API_TOKEN, "
            "a personal token or the OpenID Connect provider's JWT (use Authorize); what it may "
            "do is its role's (403 `forbidden` otherwise). Errors are `{success: false, error: {code, message}}`."
        ),
    )
    app.state.api_token = settings.api_token
    app.state.settings = settings
    app.state.oidc_verifier = OidcVerifier(settings) if settings.oidc_configured else None
    app.state.storage_provider = StorageProvider(
        storage_factory or (lambda: open_storage(resolved))
    )
    add_error_handlers(app)
    app.include_router(health.router)
    app.include_router(meetings.router)
    app.include_router(speakers.router)
    app.include_router(costs.router)
    app.include_router(access.router)
    app.add_middleware(
        BodySizeLimit,
        default=settings.api_max_body_bytes,
        per_path={meetings.UPLOAD_PATH: settings.max_upload_bytes + MULTIPART_OVERHEAD},
    )
    app.add_middleware(InternalErrors)
    return app
