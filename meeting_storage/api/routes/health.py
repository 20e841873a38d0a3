"""Liveness and readiness: public endpoints (no token needed); readiness runs the doctor."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import JSONResponse

from meeting_storage.api.auth import optional_token
from meeting_storage.api.dependencies import PublicStorage, public_router
from meeting_storage.api.schemas.health import HealthResponse, ReadyResponse
from meeting_storage.ops import doctor

router = public_router("health")


def package_version() -> str:
    try:
        return version("meeting-storage")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


@router.get("/health", response_model=HealthResponse, summary="Liveness")
def health() -> dict[str, Any]:
    """The server is up. No token needed, no storage touched."""
    return {"success": True, "status": "ok", "version": package_version()}


@router.get(
    "/health/ready",
    response_model=ReadyResponse,
    summary="Readiness (doctor checks)",
    responses={503: {"model": ReadyResponse, "description": "a check failed"}},
)
def ready(storage: PublicStorage, authenticated: Annotated[bool, Depends(optional_token)]) -> Any:
    """The doctor's configuration, bucket, region, versioning and encryption checks (not the
    per-meeting ones). 503 when one fails. Messages and fixes only with a valid token."""
    report = doctor.run_doctor(storage, contents=False)
    checks = [
        {
            "name": check.name,
            "status": check.status,
            "message": check.message if authenticated else None,
            "fix": check.fix if authenticated else None,
        }
        for check in report.checks
    ]
    body = {"success": report.healthy, "ready": report.healthy, "checks": checks}
    if report.healthy:
        return body
    failed = ", ".join(check.name for check in report.checks if check.status == "fail")
    body["error"] = {"code": "backend_unavailable", "message": f"Not ready: {failed} failed."}
    return JSONResponse(body, status_code=503)
