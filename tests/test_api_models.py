"""The API's response models name the same fields as the `to_dict`s whose JSON they describe,
so the OpenAPI document and the responses cannot drift apart."""

from __future__ import annotations

import io
import types
import typing
from typing import Any

from pydantic import BaseModel

from meeting_storage import MeetingStorage
from meeting_storage.api.schemas.costs import CostsResponse
from meeting_storage.api.schemas.meetings import (
    DeleteResponse,
    MeetingOut,
    MeetingRecordOut,
    ProcessResponse,
    UploadUrlResponse,
)
from meeting_storage.ops.cost_review import cost_report
from tests.conftest import SAMPLE_TRANSCRIPT, wav_bytes

# What the route adds around a to_dict, not the to_dict's own fields.
ENVELOPE = {"success", "stored"}
# Optional fields a to_dict writes only when they apply.
ONLY_WHEN_SET = {"index_warning"}
# What the to_dicts write and the API does not publish (its response models leave them out of
# the answer): publishing them is a change of the REST contract, made on purpose or not at all.
NOT_PUBLISHED = [
    "ProcessResponse.notes: not in the model",
    "ProcessResponse.status: not in the model",
    "ProcessResponse.transcribed_by: not in the model",
    "MeetingOut.audio_archive: not in the model",
]


def _nested(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """The models an annotation holds, and how: "one" (maybe optional), "list" or "dict"."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "one")]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return [found for arg in args for found in _nested(arg)]
    if origin is list:
        return [(model, "list") for model, _ in _nested(args[0])]
    if origin is dict:
        return [(model, "dict") for model, _ in _nested(args[1])]
    return []


def drift(model: type[BaseModel], data: dict[str, Any], path: str = "") -> list[str]:
    """Where `data` (a to_dict's JSON) and `model` name different fields, nested models too."""
    declared = set(model.model_fields) - ENVELOPE
    keys = set(data)
    problems = [f"{path}{name}: not in to_dict" for name in sorted(declared - keys - ONLY_WHEN_SET)]
    if model.model_config.get("extra") != "allow":  # a model that allows more keeps the rest
        problems += [f"{path}{name}: not in the model" for name in sorted(keys - declared)]
    for name, info in model.model_fields.items():
        value = data.get(name)
        for nested, shape in _nested(info.annotation):
            if shape == "list" and isinstance(value, list):
                items = value
            elif shape == "dict" and isinstance(value, dict):
                items = list(value.values())
            else:
                items = [value]
            for item in items:
                if isinstance(item, dict):
                    problems += drift(nested, item, f"{path}{name}.")
    return problems


def test_each_response_model_names_the_fields_its_to_dict_writes(
    moto_storage: MeetingStorage,
) -> None:
    uploaded = moto_storage.upload_audio(io.BytesIO(wav_bytes()), "weekly.wav")
    result = moto_storage.process(SAMPLE_TRANSCRIPT, audio_s3_key=uploaded.audio_s3_key)
    meeting_id = result.record.meeting_id
    presigned = moto_storage.create_upload("next.wav", "audio/wav", size=100)
    documents = {
        ProcessResponse: result.to_dict(),
        MeetingRecordOut: result.record.to_dict(),
        MeetingOut: moto_storage.get_meeting(meeting_id).to_dict(),
        UploadUrlResponse: presigned.to_dict(),
        CostsResponse: cost_report(moto_storage, months=2).to_dict(meetings=True),
        DeleteResponse: moto_storage.delete_meeting(meeting_id).to_dict(),
    }
    problems = [
        f"{model.__name__}.{problem}"
        for model, data in documents.items()
        for problem in drift(model, data)
    ]
    assert problems == NOT_PUBLISHED
