"""A meeting's analysis as typed values: the summary with its action items and decisions, and
the requirements.

The JSON shapes are the storage contract, and what the CLI's --json and the REST API print:
summary.json is
`{"summary", "action_items": [{"text", "owner", "due"}], "decisions": [{"text", "speaker"?}],
"participants"?, "kind"?, "sections"?: [{"title", "items", "speaker"?}]}` and requirements.json is `[{"text", "priority"}]` with priority MUST, SHOULD
or COULD. `to_json()` writes exactly these shapes.

Every action item, decision and requirement may carry `"evidence": {"start", "end", "speaker",
"quote"}`: the transcript line(s) it came from, times in seconds from the start (null when the
transcript has no times). It is optional: files written before it existed have none, and an
item without it is written without the key.

`from_json()` reads whatever older or hand-edited files hold, the way the dashboard always
read them: a missing field takes its default, text of another type is turned into text, an
item that cannot be one (an action item that is not an object, a list that is not a list) is
dropped. Keys this version does not know are kept in `extra` and written back after the known
ones, so rewriting a file never loses what was in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PRIORITIES = ("MUST", "SHOULD", "COULD")
# Action items may carry `done: true` or a closed `status` (written by hand or by other tools).
_DONE_STATES = frozenset({"done", "closed", "completed", "complete", "resolved"})

_ACTION_ITEM_KEYS = frozenset({"text", "owner", "due"})
_DECISION_KEYS = frozenset({"text", "speaker"})
_REQUIREMENT_KEYS = frozenset({"text", "priority"})
_SUMMARY_KEYS = frozenset(
    {"summary", "action_items", "decisions", "participants", "kind", "sections"}
)
_SECTION_KEYS = frozenset({"title", "speaker", "items"})


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _extra(value: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key not in known}


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if value >= 0 else None


@dataclass(frozen=True)
class Evidence:
    """Where in the transcript an item was said: the line(s) `quote`, said by `speaker`, from
    `start` to `end` seconds (None when the transcript has no times)."""

    quote: str
    start: float | None = None
    end: float | None = None
    speaker: str | None = None

    @classmethod
    def from_json(cls, value: Any) -> Evidence | None:
        """The evidence an item's "evidence" object holds; None when it is not one."""
        if not isinstance(value, Mapping) or not isinstance(value.get("quote"), str):
            return None
        start = _seconds(value.get("start"))
        end = _seconds(value.get("end"))
        return cls(
            quote=value["quote"],
            start=start,
            end=end if end is not None and (start is None or end >= start) else start,
            speaker=_optional_text(value.get("speaker")),
        )

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "speaker": self.speaker, "quote": self.quote}


def _evidence(value: Mapping[str, Any]) -> Evidence | None:
    return Evidence.from_json(value.get("evidence"))


def _known(known: frozenset[str], evidence: Evidence | None) -> frozenset[str]:
    """The keys read into fields: "evidence" only when it was one (else kept as it was)."""
    return known | {"evidence"} if evidence is not None else known


def _with_evidence(data: dict[str, Any], evidence: Evidence | None) -> dict[str, Any]:
    if evidence is not None:
        data["evidence"] = evidence.to_json()
    return data


@dataclass(frozen=True)
class ActionItem:
    """Work someone is to do after the meeting: "Carol will send the budget", by Friday."""

    text: str
    owner: str | None = None
    due: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    evidence: Evidence | None = None

    @property
    def is_open(self) -> bool:
        """Open unless marked done (`done: true` or a closed `status`)."""
        if self.extra.get("done") is True:
            return False
        return str(self.extra.get("status") or "").strip().lower() not in _DONE_STATES

    @classmethod
    def from_json(cls, value: Any) -> ActionItem | None:
        """The item an object of summary.json's "action_items" holds; None for anything else."""
        if not isinstance(value, Mapping):
            return None
        evidence = _evidence(value)
        return cls(
            text=_text(value.get("text")),
            owner=_optional_text(value.get("owner")),
            due=_optional_text(value.get("due")),
            extra=_extra(value, _known(_ACTION_ITEM_KEYS, evidence)),
            evidence=evidence,
        )

    def to_json(self) -> dict[str, Any]:
        data = {"text": self.text, "owner": self.owner, "due": self.due}
        return {**_with_evidence(data, self.evidence), **self.extra}


@dataclass(frozen=True)
class Decision:
    """What the meeting settled, and who said it.

    `attributed` says whether the decision was attributed to a speaker at all: the rule-based
    extractor attributes every decision (`speaker` None when the transcript names no one) and
    writes a "speaker" key; Bedrock does not, and its decisions have no "speaker" key.
    """

    text: str
    speaker: str | None = None
    attributed: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    evidence: Evidence | None = None

    @classmethod
    def from_json(cls, value: Any) -> Decision | None:
        """A decision from an object or (in older files) a plain string; None for anything else."""
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return cls(text=str(value))
        if not isinstance(value, Mapping):
            return None
        evidence = _evidence(value)
        return cls(
            text=_text(value.get("text")),
            speaker=_optional_text(value.get("speaker")),
            attributed="speaker" in value,
            extra=_extra(value, _known(_DECISION_KEYS, evidence)),
            evidence=evidence,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"text": self.text}
        if self.attributed or self.speaker is not None:
            data["speaker"] = self.speaker
        return {**_with_evidence(data, self.evidence), **self.extra}


@dataclass(frozen=True)
class Requirement:
    """What the product must, should or could do; `priority` is one of PRIORITIES (or "" when
    an older file gave none)."""

    text: str
    priority: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)
    evidence: Evidence | None = None

    @classmethod
    def from_json(cls, value: Any) -> Requirement | None:
        """A requirement from an object or a plain string; None for anything else."""
        if isinstance(value, str):
            return cls(text=value)
        if not isinstance(value, Mapping):
            return None
        evidence = _evidence(value)
        return cls(
            text=_text(value.get("text")),
            priority=_text(value.get("priority")),
            extra=_extra(value, _known(_REQUIREMENT_KEYS, evidence)),
            evidence=evidence,
        )

    def to_json(self) -> dict[str, Any]:
        data = {"text": self.text, "priority": self.priority}
        return {**_with_evidence(data, self.evidence), **self.extra}


@dataclass(frozen=True)
class SummarySection:
    """One part of a summary shaped by the meeting's kind: a stand-up's "Blockers" for one
    person, a retro's "Went well". `speaker` is set for per-person sections."""

    title: str
    items: tuple[str, ...] = ()
    speaker: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_json(cls, value: Any) -> SummarySection | None:
        if not isinstance(value, Mapping):
            return None
        return cls(
            title=_text(value.get("title")),
            items=tuple(_text(item) for item in _items(value.get("items")) if item is not None),
            speaker=_optional_text(value.get("speaker")),
            extra=_extra(value, _SECTION_KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"title": self.title, "items": list(self.items)}
        if self.speaker is not None:
            data["speaker"] = self.speaker
        return {**data, **self.extra}


@dataclass(frozen=True)
class Summary:
    """What summary.json holds: the summary text, the action items, the decisions and who took
    part.

    `participants` is None when they were not recorded (meetings awaiting a transcript, files
    from before they were); summary.json then has no "participants" key.
    """

    text: str = ""
    action_items: tuple[ActionItem, ...] = ()
    decisions: tuple[Decision, ...] = ()
    participants: tuple[str, ...] | None = None
    # The meeting's kind (see analysis/kinds.py) and the sections it selects; older files
    # have neither, and summary.json then has no "kind" or "sections" key.
    kind: str | None = None
    sections: tuple[SummarySection, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @classmethod
    def from_json(cls, value: Any) -> Summary:
        """summary.json's content; an empty summary when it is not a JSON object."""
        if not isinstance(value, Mapping):
            return cls()
        participants = value.get("participants")
        return cls(
            text=_text(value.get("summary")),
            action_items=tuple(
                item
                for item in map(ActionItem.from_json, _items(value.get("action_items")))
                if item is not None
            ),
            decisions=tuple(
                item
                for item in map(Decision.from_json, _items(value.get("decisions")))
                if item is not None
            ),
            participants=(
                tuple(str(p) for p in participants if p is not None)
                if isinstance(participants, list)
                else None
            ),
            kind=_optional_text(value.get("kind")),
            sections=tuple(
                section
                for section in map(SummarySection.from_json, _items(value.get("sections")))
                if section is not None
            ),
            extra=_extra(value, _SUMMARY_KEYS),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "summary": self.text,
            "action_items": [item.to_json() for item in self.action_items],
            "decisions": [decision.to_json() for decision in self.decisions],
        }
        if self.participants is not None:
            data["participants"] = list(self.participants)
        if self.kind is not None:
            data["kind"] = self.kind
        if self.sections:
            data["sections"] = [section.to_json() for section in self.sections]
        return {**data, **self.extra}


def requirements_from_json(value: Any) -> tuple[Requirement, ...]:
    """requirements.json's content; no requirements when it is not a JSON list."""
    found = (Requirement.from_json(item) for item in _items(value))
    return tuple(requirement for requirement in found if requirement is not None)


def requirements_to_json(requirements: Iterable[Requirement]) -> list[dict[str, Any]]:
    return [requirement.to_json() for requirement in requirements]
