"""What an extractor returns, and the protocol every extractor (rule-based, Bedrock, any
OpenAI-compatible model) follows.

The summary and requirements are the typed values of meeting_storage.core.analysis, whose
`to_json()` writes summary.json and requirements.json (the storage contract).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from meeting_storage.analysis.transcript import Transcript
from meeting_storage.core.analysis import ActionItem, Decision, Requirement, Summary

METHOD_RULE_BASED = "rule_based"
METHOD_BEDROCK = "bedrock"
METHOD_OPENAI = "openai"


@dataclass(frozen=True)
class ModelUsage:
    """The tokens a language model was billed for, summed over every call of one extraction."""

    model_id: str
    input_tokens: int
    output_tokens: int
    # Who ran the model: "bedrock" (priced from the Bedrock price table) or "openai" (any
    # OpenAI-compatible server; priced where costs/llm_prices.py knows the model).
    provider: str = METHOD_BEDROCK


@dataclass(frozen=True)
class Extraction:
    summary: Summary
    requirements: tuple[Requirement, ...] = ()
    method: str = METHOD_RULE_BASED
    bedrock_used: bool = False
    # Things the user should know about how this came about (e.g. why Bedrock was not used).
    notes: tuple[str, ...] = ()
    # The model calls that were billed, also when their answer was not used (a fallback after
    # a broken answer); None when no model was called.
    model_usage: ModelUsage | None = None
    # Items a language model returned that could not be found in the transcript (left out).
    dropped_items: int = 0

    @property
    def action_items(self) -> tuple[ActionItem, ...]:
        return self.summary.action_items

    @property
    def decisions(self) -> tuple[Decision, ...]:
        return self.summary.decisions


class Extractor(Protocol):
    """Turns a transcript into a summary, action items, decisions and requirements."""

    @property
    def method(self) -> str: ...

    def extract(self, transcript: Transcript) -> Extraction: ...
