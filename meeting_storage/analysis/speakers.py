"""Speakers with names: renaming a label ("spk_0", "Speaker B") everywhere it appears, and
suggesting names from introductions ("Hi, I'm Carol from finance").

A rename rewrites the transcript's speaker labels, the owners of action items, the speakers
of decisions and per-person sections, the participants, and whole-word mentions of the label
in the items' text, so the transcript, owners, decisions and search all follow. Pure
functions of the texts; the service stores the result and the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from meeting_storage.analysis.extract import Extraction
from meeting_storage.analysis.participants import find_participants
from meeting_storage.analysis.sentences import meeting_sentences
from meeting_storage.analysis.transcript import parse_transcript
from meeting_storage.core.analysis import Evidence, Requirement, Summary, SummarySection
from meeting_storage.core.errors import InvalidInputError

MAX_NAME_CHARS = 60
# Labels a transcriber or a file gives when it does not know the name.
GENERIC_LABEL = re.compile(r"^(?:spk_\d+|speaker[ _-]?\w{1,3}|unknown(?: speaker)?|s\d+)$", re.I)
_TIME_PREFIX = r"(?:[\[(]?(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?[\])]?\s*(?:-\s*)?)?"


def check_name(name: str, what: str = "The new name") -> str:
    """A speaker name as it will be stored: one line, trimmed, not empty, not too long, and
    without a colon (which would read as a new speaker in the transcript)."""
    if not isinstance(name, str):
        raise InvalidInputError(f"{what} must be text.")
    if any(ord(ch) < 32 for ch in name.strip()):
        raise InvalidInputError(f"{what} must be one line, without control characters.")
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInputError(f"{what} is empty; give the speaker's name.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise InvalidInputError(f"{what} is longer than {MAX_NAME_CHARS} characters.")
    if ":" in cleaned:
        raise InvalidInputError(f"{what} cannot contain a colon (it would start a new speaker).")
    return cleaned


def transcript_speakers(text: str) -> list[str]:
    """The speakers of a stored transcript, in order of first appearance."""
    if not text.strip():
        return []
    return parse_transcript(text).speakers


def suggest_names(text: str) -> dict[str, str]:
    """Names for generic labels, from the speakers' own introductions ("I'm Carol")."""
    if not text.strip():
        return {}
    transcript = parse_transcript(text)
    sentences = meeting_sentences(transcript.utterances)
    participants = find_participants((s.speaker, s.tidy) for s in sentences)
    taken = set(transcript.speakers)
    suggestions: dict[str, str] = {}
    for label, participant in participants.items():
        name = participant.name
        if name and GENERIC_LABEL.match(label) and name not in taken:
            suggestions[label] = name
    return suggestions


def _mention(label: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(label)}(?![\w-])")


def rename_in_transcript(text: str, old: str, new: str) -> str:
    """The transcript with `old` as speaker label (at the start of a line) renamed."""
    line = re.compile(
        rf"^(?P<lead>\s*{_TIME_PREFIX}){re.escape(old)}(?P<tail>\s*(?:[\[(][^\])]*[\])])?\s*:)",
        re.M,
    )
    renamed = line.sub(lambda m: f"{m.group('lead')}{new}{m.group('tail')}", text)
    # WebVTT voice tags and Otter-style header lines name the speaker too.
    renamed = re.sub(rf"(<v(?:\.[^ >]*)?\s+){re.escape(old)}>", rf"\g<1>{new}>", renamed)
    return re.sub(
        rf"^(\s*){re.escape(old)}(\s+(?:\d{{1,2}}:)?\d{{1,2}}:\d{{2}}\s*)$",
        rf"\g<1>{new}\2",
        renamed,
        flags=re.M,
    )


def _swap(value: str | None, old: str, new: str) -> str | None:
    if value is None:
        return None
    if value == old:
        return new
    return _mention(old).sub(new, value)


def _swap_extra(extra: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """Nested `speaker` keys (an item's evidence) follow the rename too."""
    renamed: dict[str, Any] = {}
    for key, value in extra.items():
        if isinstance(value, Mapping):
            renamed[key] = {
                k: (new if k == "speaker" and v == old else v) for k, v in value.items()
            }
        else:
            renamed[key] = value
    return renamed


def _swap_evidence(evidence: Evidence | None, old: str, new: str) -> Evidence | None:
    """The evidence's speaker is the transcript's label: it follows the rename."""
    if evidence is None or evidence.speaker != old:
        return evidence
    return replace(evidence, speaker=new)


def rename_in_summary(summary: Summary, old: str, new: str) -> Summary:
    return replace(
        summary,
        text=_swap(summary.text, old, new) or "",
        action_items=tuple(
            replace(
                item,
                text=_swap(item.text, old, new) or "",
                owner=_swap(item.owner, old, new),
                extra=_swap_extra(item.extra, old, new),
                evidence=_swap_evidence(item.evidence, old, new),
            )
            for item in summary.action_items
        ),
        decisions=tuple(
            replace(
                decision,
                text=_swap(decision.text, old, new) or "",
                speaker=_swap(decision.speaker, old, new),
                extra=_swap_extra(decision.extra, old, new),
                evidence=_swap_evidence(decision.evidence, old, new),
            )
            for decision in summary.decisions
        ),
        participants=(
            tuple(_swap(p, old, new) or "" for p in summary.participants)
            if summary.participants is not None
            else None
        ),
        sections=tuple(
            SummarySection(
                title=section.title,
                items=tuple(_swap(item, old, new) or "" for item in section.items),
                speaker=_swap(section.speaker, old, new),
                extra=section.extra,
            )
            for section in summary.sections
        ),
    )


def rename_in_requirements(
    requirements: tuple[Requirement, ...], old: str, new: str
) -> tuple[Requirement, ...]:
    return tuple(
        replace(
            requirement,
            text=_swap(requirement.text, old, new) or "",
            extra=_swap_extra(requirement.extra, old, new),
            evidence=_swap_evidence(requirement.evidence, old, new),
        )
        for requirement in requirements
    )


def renamed_mapping(mapping: Mapping[str, str], old: str, new: str) -> dict[str, str]:
    """The meeting's {original label: name} after renaming `old` (a label or a name given
    before) to `new`: the original label is remembered however often it is renamed."""
    updated = dict(mapping)
    originals = [label for label, name in mapping.items() if name == old]
    for label in originals or [old]:
        updated[label] = new
    return {label: name for label, name in updated.items() if label != name}


def with_speaker_renamed(
    text: str, extraction: Extraction, old: str, new: str
) -> tuple[str, Extraction]:
    """A transcript and its extraction with speaker `old` renamed to `new` throughout."""
    renamed = replace(
        extraction,
        summary=rename_in_summary(extraction.summary, old, new),
        requirements=rename_in_requirements(extraction.requirements, old, new),
    )
    return rename_in_transcript(text, old, new), renamed
