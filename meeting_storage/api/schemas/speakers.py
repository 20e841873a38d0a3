"""The models of the speaker endpoints: list a meeting's speakers, rename one."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from meeting_storage.api.schemas.fields import Text


class SpeakersResponse(BaseModel):
    success: Literal[True] = True
    meeting_id: str
    speakers: list[str] = Field(description="as the transcript names them now, in order")
    names: dict[str, str] = Field(description="names given so far: {original label: name}")
    suggestions: dict[str, str] = Field(
        description="names suggested from introductions (I'm Carol): {label: name}"
    )


class RenameSpeakerRequest(BaseModel):
    old: Text = Field(min_length=1, max_length=200, examples=["Speaker B"])
    new: Text = Field(min_length=1, max_length=200, examples=["Carol"])


class RenameSpeakerResponse(BaseModel):
    success: Literal[True] = True
    meeting_id: str
    meeting_summary: dict[str, Any]
    requirements: list[dict[str, Any]]
    speaker_names: dict[str, str]
    indexed: bool = True
    index_warning: str | None = None
