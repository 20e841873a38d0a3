"""Amazon Bedrock extraction: the Converse API with a validated JSON contract, map-reduce.

A transcript is cut at utterance boundaries into chunks of at most `chunk_chars` characters
(nothing is truncated). Each chunk is extracted on its own (map); when there is more than
one, a last call merges the partial results into one (reduce). Every answer must be a JSON
object of this shape, checked field by field:

    {"summary": str,
     "action_items": [{"text": str, "owner": str | null, "due": str | null}],
     "decisions": [str],
     "requirements": [{"text": str, "priority": "MUST" | "SHOULD" | "COULD"}]}

validate_outcome() parses an answer into typed action items, decisions and requirements;
`Outcome.to_json()` is this shape again, which the reduce call sends back to the model.

Any failure (throttling, access denied, an unknown model, invalid JSON, a broken contract,
no network) falls back to the rule-based extractor; the result then says
extraction_method "rule_based", bedrock_used false, and carries a note saying why.

The result's `model_usage` sums the input and output tokens Bedrock reported for every call
that got an answer, including answers that were then rejected and calls made before a later
one failed: Bedrock bills those too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from meeting_storage.analysis.extract import METHOD_BEDROCK, Extraction, Extractor, ModelUsage
from meeting_storage.analysis.rule_based import RuleBasedExtractor
from meeting_storage.analysis.transcript import Transcript
from meeting_storage.core.analysis import PRIORITIES, ActionItem, Decision, Requirement, Summary
from meeting_storage.core.errors import client_error_code
from meeting_storage.storage.aws import AWS_ERRORS

logger = logging.getLogger(__name__)
DEFAULT_CHUNK_CHARS = 24_000  # about 6,000 tokens: well inside every Converse model's window
MAX_OUTPUT_TOKENS = 2_000
BEDROCK_ACTION = "bedrock:InvokeModel"

SYSTEM_PROMPT = """You extract the outcomes of a meeting from its transcript.
Answer with one JSON object and nothing else, exactly of this shape:
{"summary": "3 to 5 sentences on what the meeting was about and what came out of it",
 "action_items": [{"text": "Owner will do what (short)", "owner": "name or role, or null",
                   "due": "when, as said in the meeting, or null"}],
 "decisions": ["what was decided, one short sentence each"],
 "requirements": [{"text": "what the product or system must/should/could do",
                   "priority": "MUST or SHOULD or COULD"}]}
Rules: only what the transcript supports; no invented owners or dates; merge duplicates;
an action item is a commitment or assignment of work after the meeting, not something done
during it; keep each item under 25 words; at most 10 action items, 10 decisions and 15
requirements. Use empty lists when there are none."""

MAP_PROMPT = "Transcript part {part} of {parts}:\n<transcript>\n{text}\n</transcript>"
REDUCE_PROMPT = (
    "These are the outcomes extracted from the {parts} consecutive parts of one meeting, as "
    "JSON. Merge them into one object of the same shape: one summary of the whole meeting, "
    "duplicates removed, the most important items first.\n<parts>\n{parts_json}\n</parts>"
)


class ContractError(ValueError):
    """The model's answer is not the JSON object the contract asks for."""


@dataclass(frozen=True)
class Outcome:
    """One answer of the model, checked against the contract."""

    summary: str
    action_items: tuple[ActionItem, ...] = ()
    decisions: tuple[Decision, ...] = ()
    requirements: tuple[Requirement, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The contract's shape (decisions as plain strings), as the prompts show it."""
        return {
            "summary": self.summary,
            "action_items": [item.to_json() for item in self.action_items],
            "decisions": [decision.text for decision in self.decisions],
            "requirements": [requirement.to_json() for requirement in self.requirements],
        }


@dataclass
class _TokenTally:
    """The tokens of one extraction's answered calls so far."""

    answers: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, response: Mapping[str, Any]) -> None:
        usage = response.get("usage") or {}
        self.answers += 1
        self.input_tokens += int(usage.get("inputTokens") or 0)
        self.output_tokens += int(usage.get("outputTokens") or 0)


class BedrockExtractor:
    """Extraction with a Bedrock model through the Converse API, with a rule-based fallback."""

    method = METHOD_BEDROCK

    def __init__(
        self,
        client: Any,
        model_id: str,
        *,
        fallback: Extractor | None = None,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        max_tokens: int = MAX_OUTPUT_TOKENS,
    ) -> None:
        self._client = client
        self.model_id = model_id
        self.fallback = fallback or RuleBasedExtractor()
        self.chunk_chars = chunk_chars
        self.max_tokens = max_tokens

    def extract(self, transcript: Transcript) -> Extraction:
        tally = _TokenTally()
        try:
            outcome = self._map_reduce(transcript, tally)
        except Exception as exc:  # any failure means: use the rule-based extractor
            # Bedrock refusing or answering badly is expected; anything else is a bug worth
            # its traceback, although the meeting still gets its extraction.
            expected = isinstance(exc, (ContractError, *AWS_ERRORS))
            logger.log(
                logging.WARNING if expected else logging.ERROR,
                "Amazon Bedrock (%s) not used, falling back to the rule-based extractor: %s",
                self.model_id,
                failure_reason(exc),
                exc_info=None if expected else exc,
            )
            result = self.fallback.extract(transcript)
            note = (
                f"Amazon Bedrock ({self.model_id}) was not used: {failure_reason(exc)} "
                "The rule-based extractor was used instead."
            )
            return replace(
                result,
                bedrock_used=False,
                notes=(*result.notes, note),
                model_usage=self._usage(tally),
            )
        summary = Summary(
            text=outcome.summary,
            action_items=outcome.action_items,
            decisions=outcome.decisions,
            participants=tuple(transcript.speakers),
        )
        return Extraction(
            summary=summary,
            requirements=outcome.requirements,
            method=METHOD_BEDROCK,
            bedrock_used=True,
            model_usage=self._usage(tally),
        )

    def _usage(self, tally: _TokenTally) -> ModelUsage | None:
        if not tally.answers:
            return None
        return ModelUsage(self.model_id, tally.input_tokens, tally.output_tokens)

    def _map_reduce(self, transcript: Transcript, tally: _TokenTally) -> Outcome:
        chunks = chunk_transcript(transcript, self.chunk_chars)
        partials = [
            self._ask(MAP_PROMPT.format(part=n, parts=len(chunks), text=chunk), tally)
            for n, chunk in enumerate(chunks, start=1)
        ]
        if len(partials) == 1:
            return partials[0]
        parts_json = json.dumps([partial.to_json() for partial in partials], ensure_ascii=False)
        return self._ask(REDUCE_PROMPT.format(parts=len(partials), parts_json=parts_json), tally)

    def _ask(self, prompt: str, tally: _TokenTally) -> Outcome:
        response = self._client.converse(
            modelId=self.model_id,
            system=[{"text": SYSTEM_PROMPT}],
            messages=[{"role": "user", "content": [{"text": prompt}]}],
            inferenceConfig={"maxTokens": self.max_tokens, "temperature": 0.0},
        )
        tally.add(response)  # billed whether or not the answer is usable
        if response.get("stopReason") == "max_tokens":
            raise ContractError("the answer was cut off at the output token limit")
        content = response.get("output", {}).get("message", {}).get("content", [])
        text = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return validate_outcome(parse_json_answer(text))


def chunk_transcript(transcript: Transcript, limit: int) -> list[str]:
    """The rendered transcript in pieces of at most `limit` characters, cut between lines."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in transcript.text.split("\n"):
        pieces = [line[i : i + limit] for i in range(0, len(line), limit)] or [""]
        for piece in pieces:
            if current and size + len(piece) + 1 > limit:
                chunks.append("\n".join(current))
                current, size = [], 0
            current.append(piece)
            size += len(piece) + 1
    if current and any(p.strip() for p in current):
        chunks.append("\n".join(current))
    return chunks or [""]


def parse_json_answer(text: str) -> Any:
    """The JSON object in a model's answer (tolerating a ```json fence around it)."""
    cleaned = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start < 0 or end < start:
        raise ContractError("the answer was not valid JSON (no object in it)")
    try:
        return json.loads(cleaned[start : end + 1])
    except ValueError as exc:
        raise ContractError(f"the answer was not valid JSON ({exc})") from exc


def validate_outcome(data: Any) -> Outcome:
    """The answer checked against the contract, normalised; ContractError names the problem."""
    if not isinstance(data, dict):
        raise ContractError("the answer is not a JSON object")
    summary = data.get("summary")
    if not isinstance(summary, str):
        raise ContractError('"summary" must be a string')
    return Outcome(
        summary=summary.strip(),
        action_items=tuple(
            _action_item(item, n) for n, item in enumerate(_list(data, "action_items"))
        ),
        decisions=tuple(_decision(item, n) for n, item in enumerate(_list(data, "decisions"))),
        requirements=tuple(
            _requirement(item, n) for n, item in enumerate(_list(data, "requirements"))
        ),
    )


def _list(data: dict[str, Any], name: str) -> Sequence[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ContractError(f'"{name}" must be a list')
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{where} must be a non-empty string")
    return value.strip()


def _optional_text(value: Any, where: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ContractError(f"{where} must be a string or null")
    return value.strip()


def _action_item(item: Any, n: int) -> ActionItem:
    if not isinstance(item, dict):
        raise ContractError(f"action_items[{n}] must be an object")
    return ActionItem(
        text=_text(item.get("text"), f"action_items[{n}].text"),
        owner=_optional_text(item.get("owner"), f"action_items[{n}].owner"),
        due=_optional_text(item.get("due"), f"action_items[{n}].due"),
    )


def _decision(item: Any, n: int) -> Decision:
    if isinstance(item, dict):  # tolerate {"text": ...}, the shape of our own files
        item = item.get("text")
    return Decision(_text(item, f"decisions[{n}]"))


def _requirement(item: Any, n: int) -> Requirement:
    if not isinstance(item, dict):
        raise ContractError(f"requirements[{n}] must be an object")
    priority = str(item.get("priority", "")).strip().upper()
    priority = {"HIGH": "MUST", "MEDIUM": "SHOULD", "LOW": "COULD"}.get(priority, priority)
    if priority not in PRIORITIES:
        raise ContractError(f"requirements[{n}].priority must be one of {', '.join(PRIORITIES)}")
    return Requirement(_text(item.get("text"), f"requirements[{n}].text"), priority)


def failure_reason(exc: BaseException) -> str:
    """One sentence for the user: why Bedrock's answer could not be used."""
    if isinstance(exc, ContractError):
        return f"the model's answer did not follow the JSON contract: {exc}."
    code = client_error_code(exc)
    if code == "ThrottlingException":
        return "Bedrock is throttling requests (ThrottlingException); try again later."
    if code in {"AccessDeniedException", "UnrecognizedClientException"}:
        return (
            f"access denied ({code}): the credentials need {BEDROCK_ACTION} on the model's ARN, "
            "and the model must be enabled under Model access in the Bedrock console."
        )
    if code == "ResourceNotFoundException":
        return "the model was not found: check BEDROCK_MODEL_ID and BEDROCK_REGION."
    if code in {"ValidationException", "ModelErrorException", "ModelNotReadyException"}:
        return f"the model refused the request ({code}: {_client_message(exc)})."
    if code:
        return f"Bedrock answered {code}: {_client_message(exc)}."
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials were found (set AWS_PROFILE or keys)."
    if isinstance(exc, BotoCoreError):
        return f"Bedrock could not be reached ({exc})."
    return f"unexpected error ({type(exc).__name__}: {exc})."


def _client_message(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(exc)
