"""Extraction with a language model: one core for every model, whatever carries the calls.

The core owns what makes an answer trustworthy; a transport (llm_bedrock's Converse API,
llm_openai's chat completions) only carries one prompt to the model and its answer back.

A transcript is cut at utterance boundaries into chunks of at most `chunk_chars` characters
(nothing is truncated). Each chunk is extracted on its own (map); when there is more than
one, a last call merges the partial results into one (reduce). Every answer must be a JSON
object of this shape, checked field by field:

    {"summary": str,
     "action_items": [{"text": str, "owner": str | null, "due": str | null, "quote": str}],
     "decisions": [{"text": str, "quote": str}],
     "requirements": [{"text": str, "priority": "MUST" | "SHOULD" | "COULD", "quote": str}],
     "sections": {name: str}}            # only when extra summary sections were asked for

A missing "quote" is allowed and a decision may be a plain string. validate_outcome() parses
an answer into typed items; `Outcome.to_json()` is this shape again, which the reduce call
sends back to the model.

A call that fails for a reason that may pass (throttling, HTTP 429 or 5xx, an answer that is
not valid JSON) is retried with backoff (core/retry.py), `attempts` times in all. Any failure
left after that (access denied, an unknown model, a timeout, a broken contract, no network)
falls back to the rule-based extractor; the result then says extraction_method "rule_based"
and carries a note saying why.

Every item is then grounded (grounding.py): an item whose quote and text cannot be found in
the transcript is dropped, and the count is recorded. A used answer's summary.json holds
`"extraction": {"method", "model", "input_tokens", "output_tokens", "dropped_items"}`.

The result's `model_usage` sums the input and output tokens the model reported for every
call that got an answer, including answers that were then rejected and calls made before a
later one failed: they are billed too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from string import Template
from typing import Any, Protocol

from meeting_storage.analysis.extract import Extraction, Extractor, ModelUsage
from meeting_storage.analysis.grounding import ground
from meeting_storage.analysis.rule_based import RuleBasedExtractor
from meeting_storage.analysis.transcript import Transcript
from meeting_storage.core.analysis import (
    PRIORITIES,
    ActionItem,
    Decision,
    Evidence,
    Requirement,
    Summary,
    SummarySection,
)
from meeting_storage.core.retry import Backoff, retrying

logger = logging.getLogger(__name__)
DEFAULT_CHUNK_CHARS = 24_000  # about 6,000 tokens: well inside every current model's window
MAX_OUTPUT_TOKENS = 2_000
DEFAULT_ATTEMPTS = 3
# Around 1 s, then 2 s: a throttled or overloaded model needs a moment, not a hammering.
LLM_BACKOFF = Backoff(base_delay=1.0, max_delay=20.0, jitter=(0.5, 1.5))
# A sane upper bound; well above what a long meeting yields, so the meeting sets the count.
MAX_ITEMS = {"action_items": 30, "decisions": 20, "requirements": 25}

SYSTEM_PROMPT = """You extract the outcomes of a meeting from its transcript.
Answer with one JSON object and nothing else, exactly of this shape:
{"summary": "3 to 5 sentences on what the meeting was about and what came out of it",
 "action_items": [{"text": "Owner will do what (short)", "owner": "name or role, or null",
                   "due": "when, as said in the meeting, or null",
                   "quote": "the words of the transcript where it was said, copied exactly"}],
 "decisions": [{"text": "what was decided, one short sentence", "quote": "copied words"}],
 "requirements": [{"text": "what the product or system must/should/could do",
                   "priority": "MUST or SHOULD or COULD", "quote": "copied words"}]$sections}
Rules: only what the transcript supports; every item's quote is copied word for word from
the transcript line where it was said (without the speaker's name or time); no invented
owners or dates; merge duplicates; an action item is a commitment or assignment of work after
the meeting, not something already done, a hypothetical, a joke, or a proposal that was
declined, cancelled or reassigned later (then the later owner counts); keep each item under 25
words; list every action item the meeting agreed, however many (at most $max_actions), at most
$max_decisions decisions and $max_requirements requirements. Use empty lists when there are
none."""
SECTIONS_SHAPE = ',\n "sections": {$names}'
MAP_PROMPT = "Transcript part {part} of {parts}:\n<transcript>\n{text}\n</transcript>"
REDUCE_PROMPT = (
    "These are the outcomes extracted from the {parts} consecutive parts of one meeting, as "
    "JSON. Merge them into one object of the same shape: one summary of the whole meeting, "
    "duplicates removed, the most important items first, each item keeping its quote.\n"
    "<parts>\n{parts_json}\n</parts>"
)


def system_prompt(sections: Sequence[str] = ()) -> str:
    """The instructions every call sends; `sections` names extra summary sections (e.g. a
    stand-up's "Yesterday", "Today", "Blockers") the answer must fill in, as text each."""
    shape = ""
    if sections:
        names = ", ".join(f'{json.dumps(name)}: "..."' for name in sections)
        shape = Template(SECTIONS_SHAPE).substitute(names=names)
    return Template(SYSTEM_PROMPT).substitute(
        sections=shape,
        max_actions=MAX_ITEMS["action_items"],
        max_decisions=MAX_ITEMS["decisions"],
        max_requirements=MAX_ITEMS["requirements"],
    )


class ContractError(ValueError):
    """The model's answer is not the JSON object the contract asks for."""


class ModelCallError(Exception):
    """A call to the model failed; `reason` is one sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientModelError(ModelCallError):
    """A failure that may pass (throttling, an overloaded server): worth a retry, after
    `retry_after` seconds when the server said how long (HTTP Retry-After)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Answer:
    """One reply of the model: its text, the tokens billed, and whether it was cut off."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False


class Transport(Protocol):
    """Carries one prompt to a model and its answer back; raises ModelCallError (or
    TransientModelError) for the failures it knows."""

    @property
    def method(self) -> str: ...  # the extraction method it stands for: "bedrock", "openai"

    @property
    def model_id(self) -> str: ...

    @property
    def label(self) -> str: ...  # who was asked, for notes: "Amazon Bedrock (model)"

    def complete(self, system: str, prompt: str, max_tokens: int) -> Answer: ...


@dataclass(frozen=True)
class Outcome:
    """One answer of the model, checked against the contract. Items carry the model's quote
    as their provisional evidence until they are grounded."""

    summary: str
    action_items: tuple[ActionItem, ...] = ()
    decisions: tuple[Decision, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    sections: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The contract's shape (a decision without a quote as a plain string)."""
        data: dict[str, Any] = {
            "summary": self.summary,
            "action_items": [_quoted(item.to_json(), item.evidence) for item in self.action_items],
            "decisions": [
                _quoted({"text": d.text}, d.evidence) if d.evidence else d.text
                for d in self.decisions
            ],
            "requirements": [_quoted(r.to_json(), r.evidence) for r in self.requirements],
        }
        if self.sections:
            data["sections"] = dict(self.sections)
        return data


def _quoted(data: dict[str, Any], evidence: Evidence | None) -> dict[str, Any]:
    data.pop("evidence", None)
    if evidence is not None:
        data["quote"] = evidence.quote
    return data


@dataclass
class _TokenTally:
    """The tokens of one extraction's answered calls so far."""

    answers: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, answer: Answer) -> None:
        self.answers += 1
        self.input_tokens += answer.input_tokens
        self.output_tokens += answer.output_tokens


class LlmExtractor:
    """Extraction with a language model through `transport`, with a rule-based fallback."""

    def __init__(
        self,
        transport: Transport,
        *,
        fallback: Extractor | None = None,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        max_tokens: int = MAX_OUTPUT_TOKENS,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] | None = None,
        sections: Sequence[str] = (),
    ) -> None:
        self.transport = transport
        self.fallback = fallback or RuleBasedExtractor()
        self.chunk_chars = chunk_chars
        self.max_tokens = max_tokens
        self.attempts = max(1, attempts)
        self.backoff = backoff or LLM_BACKOFF
        self.sleep = sleep
        self.sections = tuple(sections)

    @property
    def method(self) -> str:
        return self.transport.method

    @property
    def model_id(self) -> str:
        return self.transport.model_id

    def extract(
        self, transcript: Transcript, *, sections: Sequence[str] | None = None
    ) -> Extraction:
        """The meeting's outcomes; `sections` (default: the extractor's own) names extra
        summary sections to fill in for this meeting, e.g. the ones its kind asks for."""
        asked = self.sections if sections is None else tuple(sections)
        tally = _TokenTally()
        try:
            outcome = self._map_reduce(transcript, tally, asked)
        except Exception as exc:  # any failure means: use the rule-based extractor
            # A model refusing or answering badly is expected; anything else is a bug worth
            # its traceback, although the meeting still gets its extraction.
            expected = isinstance(exc, (ContractError, ModelCallError))
            reason = failure_reason(exc)
            logger.log(
                logging.WARNING if expected else logging.ERROR,
                "%s not used, falling back to the rule-based extractor: %s",
                self.transport.label,
                reason,
                exc_info=None if expected else exc,
            )
            result = self.fallback.extract(transcript)
            note = (
                f"{self.transport.label} was not used: {reason} "
                "The rule-based extractor was used instead."
            )
            return replace(
                result,
                bedrock_used=False,
                notes=(*result.notes, note),
                model_usage=self._usage(tally),
            )
        grounded = ground(
            transcript,
            outcome.action_items,
            outcome.decisions,
            outcome.requirements,
            drop_unfound=True,
        )
        info: dict[str, Any] = {
            "method": self.method,
            "model": self.model_id,
            "input_tokens": tally.input_tokens,
            "output_tokens": tally.output_tokens,
            "dropped_items": grounded.dropped,
        }
        extra: dict[str, Any] = {"extraction": info}
        summary = Summary(
            text=outcome.summary,
            action_items=grounded.action_items,
            decisions=grounded.decisions,
            participants=tuple(transcript.speakers),
            sections=tuple(
                SummarySection(name, section_items(outcome.sections.get(name, "")))
                for name in asked
            ),
            extra=extra,
        )
        notes: tuple[str, ...] = ()
        if grounded.dropped:
            notes = (
                f"{self.transport.label} returned {grounded.dropped} item(s) that could not be "
                "found in the transcript; they were left out.",
            )
        return Extraction(
            summary=summary,
            requirements=grounded.requirements,
            method=self.method,
            bedrock_used=self.method == "bedrock",
            notes=notes,
            model_usage=self._usage(tally),
            dropped_items=grounded.dropped,
        )

    def _usage(self, tally: _TokenTally) -> ModelUsage | None:
        if not tally.answers:
            return None
        return ModelUsage(
            self.model_id, tally.input_tokens, tally.output_tokens, provider=self.method
        )

    def _map_reduce(
        self, transcript: Transcript, tally: _TokenTally, sections: Sequence[str]
    ) -> Outcome:
        chunks = chunk_transcript(transcript, self.chunk_chars)
        partials = [
            self._ask(MAP_PROMPT.format(part=n, parts=len(chunks), text=chunk), tally, sections)
            for n, chunk in enumerate(chunks, start=1)
        ]
        if len(partials) == 1:
            return partials[0]
        parts_json = json.dumps([partial.to_json() for partial in partials], ensure_ascii=False)
        reduce = REDUCE_PROMPT.format(parts=len(partials), parts_json=parts_json)
        return self._ask(reduce, tally, sections)

    def _ask(self, prompt: str, tally: _TokenTally, sections: Sequence[str]) -> Outcome:
        system = system_prompt(sections)

        def once() -> Outcome:
            answer = self.transport.complete(system, prompt, self.max_tokens)
            tally.add(answer)  # billed whether or not the answer is usable
            if answer.truncated:
                raise ContractError("the answer was cut off at the output token limit")
            return validate_outcome(parse_json_answer(answer.text), sections)

        return retrying(
            once,
            attempts=self.attempts,
            backoff=self.backoff,
            retry_on=(TransientModelError, _RetryableContractError),
            sleep=self.sleep,
            asked_wait=lambda exc: getattr(exc, "retry_after", None),
        )


class _RetryableContractError(ContractError):
    """An answer that was not JSON at all: asking again may well get JSON."""


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
        raise _RetryableContractError("the answer was not valid JSON (no object in it)")
    try:
        return json.loads(cleaned[start : end + 1])
    except ValueError as exc:
        raise _RetryableContractError(f"the answer was not valid JSON ({exc})") from exc


def validate_outcome(data: Any, sections: Sequence[str] = ()) -> Outcome:
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
        sections=_sections(data.get("sections"), sections),
    )


def _list(data: dict[str, Any], name: str) -> Sequence[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ContractError(f'"{name}" must be a list')
    return value[: MAX_ITEMS.get(name, len(value))]


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


def _quote(item: Mapping[str, Any], where: str) -> Evidence | None:
    quote = _optional_text(item.get("quote"), f"{where}.quote")
    return Evidence(quote=quote) if quote else None


def _action_item(item: Any, n: int) -> ActionItem:
    if not isinstance(item, dict):
        raise ContractError(f"action_items[{n}] must be an object")
    return ActionItem(
        text=_text(item.get("text"), f"action_items[{n}].text"),
        owner=_optional_text(item.get("owner"), f"action_items[{n}].owner"),
        due=_optional_text(item.get("due"), f"action_items[{n}].due"),
        evidence=_quote(item, f"action_items[{n}]"),
    )


def _decision(item: Any, n: int) -> Decision:
    if isinstance(item, dict):  # {"text": ..., "quote": ...}, or a plain string
        return Decision(
            _text(item.get("text"), f"decisions[{n}]"),
            evidence=_quote(item, f"decisions[{n}]"),
        )
    return Decision(_text(item, f"decisions[{n}]"))


def _requirement(item: Any, n: int) -> Requirement:
    if not isinstance(item, dict):
        raise ContractError(f"requirements[{n}] must be an object")
    priority = str(item.get("priority", "")).strip().upper()
    priority = {"HIGH": "MUST", "MEDIUM": "SHOULD", "LOW": "COULD"}.get(priority, priority)
    if priority not in PRIORITIES:
        raise ContractError(f"requirements[{n}].priority must be one of {', '.join(PRIORITIES)}")
    return Requirement(
        _text(item.get("text"), f"requirements[{n}].text"),
        priority,
        evidence=_quote(item, f"requirements[{n}]"),
    )


def _sections(value: Any, asked: Sequence[str]) -> dict[str, str]:
    """The asked-for sections' text; a list of points is joined, a missing one is empty."""
    if not asked:
        return {}
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ContractError('"sections" must be an object')
    found: dict[str, str] = {}
    for name in asked:
        text = value.get(name)
        if isinstance(text, list):
            text = "\n".join(str(point) for point in text if point is not None)
        found[name] = text.strip() if isinstance(text, str) else ""
    return found


def failure_reason(exc: BaseException) -> str:
    """One sentence for the user: why the model's answer could not be used."""
    if isinstance(exc, ContractError):
        return f"the model's answer did not follow the JSON contract: {exc}."
    if isinstance(exc, ModelCallError):
        return exc.reason
    return f"unexpected error ({type(exc).__name__}: {exc})."


_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s*")


def section_items(text: str) -> tuple[str, ...]:
    """A section the model wrote as one text: its lines (bullets removed) as the items."""
    lines = (_BULLET.sub("", line).strip() for line in text.splitlines())
    return tuple(line for line in lines if line)
