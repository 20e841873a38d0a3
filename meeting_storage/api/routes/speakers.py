"""The speaker endpoints: a meeting's speakers with suggested names, and renaming one
everywhere (transcript, owners, decisions, search)."""

from __future__ import annotations

from typing import Any

from meeting_storage.api.dependencies import Storage, token_router
from meeting_storage.api.errors import error_responses
from meeting_storage.api.routes.meetings import MeetingId
from meeting_storage.api.schemas.speakers import (
    RenameSpeakerRequest,
    RenameSpeakerResponse,
    SpeakersResponse,
)

router = token_router()


@router.get(
    "/meetings/{meeting_id:meeting_id}/speakers",
    response_model=SpeakersResponse,
    tags=["speakers"],
    summary="A meeting's speakers, the names given and names suggested",
    responses=error_responses(400, 404, 422, 503),
)
def list_speakers(meeting_id: MeetingId, storage: Storage) -> dict[str, Any]:
    return {"success": True, **storage.speakers(meeting_id).to_dict()}


@router.post(
    "/meetings/{meeting_id:meeting_id}/speakers/rename",
    response_model=RenameSpeakerResponse,
    tags=["speakers"],
    summary="Rename a speaker everywhere in a meeting",
    responses=error_responses(400, 404, 409, 422, 503),
)
def rename_speaker(
    meeting_id: MeetingId, body: RenameSpeakerRequest, storage: Storage
) -> dict[str, Any]:
    """Renames `old` (as the transcript names the speaker now) to `new` in the transcript,
    the action items' owners, the decisions, the summary's sections and the search text; the
    mapping is kept with the meeting. 400 when the meeting has no such speaker."""
    result = storage.rename_speaker(meeting_id, body.old, body.new)
    return {
        "success": True,
        "meeting_id": meeting_id,
        "meeting_summary": result.summary.to_json(),
        "requirements": [r.to_json() for r in result.requirements],
        "speaker_names": dict(result.record.speaker_names),
        "indexed": result.indexed,
        "index_warning": result.index_warning,
    }
