"""What an extractor returns, and the protocol every extractor (rule-based, Bedrock) follows.

The JSON shapes are the storage contract: summary.json is
`{"summary", "action_items": [{"text", "owner", "due"}], "decisions": [{"text"}], "participants"}`
and requirements.json is `[{"text", "priority"}]` with priority MUST, SHOULD or COULD.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from meeting_storage.analysis.transcript import Transcript

PRIORITIES = ("MUST", "SHOULD", "COULD")
METHOD_RULE_BASED = "rule_based"
METHOD_BEDROCK = "bedrock"


@dataclass(frozen=True)
class ModelUsage:
    """The tokens a language model was billed for, summed over every call of one extraction."""

    model_id: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class Extraction:
    summary: dict[str, Any]
    requirements: list[dict[str, Any]] = field(default_factory=list)
    method: str = METHOD_RULE_BASED
    bedrock_used: bool = False
    # Things the user should know about how this came about (e.g. why Bedrock was not used).
    notes: tuple[str, ...] = ()
    # The model calls that were billed, also when their answer was not used (a fallback after
    # a broken answer); None when no model was called.
    model_usage: ModelUsage | None = None

    @property
    def action_items(self) -> list[dict[str, Any]]:
        items = self.summary.get("action_items", [])
        return items if isinstance(items, list) else []

    @property
    def decisions(self) -> list[dict[str, Any]]:
        items = self.summary.get("decisions", [])
        return items if isinstance(items, list) else []


class Extractor(Protocol):
    """Turns a transcript into a summary, action items, decisions and requirements."""

    @property
    def method(self) -> str: ...

    def extract(self, transcript: Transcript) -> Extraction: ...
