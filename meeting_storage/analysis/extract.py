"""Rule-based extraction: a pure function of the transcript text, no network.

It finds the few most informative sentences for a summary, action items with an owner and
a due date where the speaker states them, decisions, and requirements with a MoSCoW
priority taken from modal verbs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

SUMMARY_SENTENCES = 3
# Letters are matched as [^\W\d_] (any script), so names like José, Émile or Zoë count;
# "starts with a capital" is checked with str.isupper() where it matters.
_SPEAKER_RE = re.compile(r"^\s*([^\W\d_][\w .'-]{0,40}?)\s*:\s+(.*)$")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u00c0-\u00d6\u00d8-\u00de\"'])")
_WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['-])+")
_STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at for with by from up about into over after is are
    was were be been being have has had do does did will would shall should can could may
    might must i you he she it we they me him her us them my your his its our their this
    that these those so just very really yeah okay ok um uh like well right yes no not then
    there here what which who when where how all any some also too going gonna think know
    mean get got let's lets
    """.split()
)
_ACTION_PATTERNS = [
    re.compile(r"\baction item\b", re.I),
    re.compile(r"\b(?:I|we|you|he|she|they|[^\W\d_]{2,}) (?:will|'ll|shall) (?!be\b)\w+", re.I),
    re.compile(r"\b(?:I|we)'ll\b", re.I),
    re.compile(r"\b(?:needs?|has|have) to\b", re.I),
    re.compile(r"\b(?:to-?do|follow up|take care of|be responsible for)\b", re.I),
    re.compile(r"\bcan you\b|\bcould you\b|\bplease\b", re.I),
]
_DECISION_PATTERNS = [
    re.compile(
        r"\b(?:we|they|team)\s+(?:have\s+)?(?:decided|agreed|settled|chose|concluded)\b", re.I
    ),
    re.compile(r"\b(?:decision|agreed|consensus)\b", re.I),
    re.compile(r"\blet's go with\b|\bwe'll go with\b|\bgoing with\b", re.I),
]
_REQUIREMENT_PRIORITY = [
    ("MUST", re.compile(r"\b(?:must|has to|have to|required|requirement|needs? to|shall)\b", re.I)),
    ("SHOULD", re.compile(r"\b(?:should|ought to|important|expected to)\b", re.I)),
    ("COULD", re.compile(r"\b(?:could|nice to have|would be nice|optional|may want)\b", re.I)),
]
_REQUIREMENT_SUBJECT = re.compile(
    r"\b(?:system|app|application|product|device|remote|feature|interface|user|design|it)\b", re.I
)
_DUE_RE = re.compile(
    r"\b(?:by|before|until|due)\s+((?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|tomorrow|tonight|end of (?:the )?(?:day|week|month)|next (?:week|month|meeting)"
    r"|\d{4}-\d{2}-\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}))",
    re.I,
)
_OWNER_IN_TEXT = re.compile(r"^(?:([^\W\d_]+)\s+(?:will|'ll|is going to|needs to|should)\b)")


@dataclass(frozen=True)
class Extraction:
    summary: dict[str, Any]
    requirements: list[dict[str, Any]] = field(default_factory=list)
    method: str = "rule_based"
    bedrock_used: bool = False

    @property
    def action_items(self) -> list[dict[str, Any]]:
        items = self.summary.get("action_items", [])
        return items if isinstance(items, list) else []


class Extractor(Protocol):
    method: str

    def extract(self, text: str) -> Extraction: ...


@dataclass(frozen=True)
class _Utterance:
    speaker: str | None
    text: str


def _utterances(text: str) -> list[_Utterance]:
    result: list[_Utterance] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _SPEAKER_RE.match(line)
        if match and match.group(1)[0].isupper():
            speaker, body = match.group(1).strip(), match.group(2)
        else:
            speaker, body = None, line
        for sentence in _SENTENCE_SPLIT.split(body):
            sentence = sentence.strip()
            if len(_WORD_RE.findall(sentence)) >= 3:
                result.append(_Utterance(speaker, sentence))
    return result


def _summary(utterances: list[_Utterance]) -> str:
    words = Counter(
        word.lower()
        for u in utterances
        for word in _WORD_RE.findall(u.text)
        if word.lower() not in _STOPWORDS
    )
    if not words:
        return ""

    def score(index: int) -> float:
        tokens = [w.lower() for w in _WORD_RE.findall(utterances[index].text)]
        content = [w for w in tokens if w not in _STOPWORDS]
        if len(content) < 3:
            return 0.0
        total: float = sum(words[w] for w in set(content))
        return total / math.sqrt(len(tokens))

    best = sorted(range(len(utterances)), key=score, reverse=True)[:SUMMARY_SENTENCES]
    return " ".join(utterances[i].text for i in sorted(best))


def _owner(utterance: _Utterance) -> str | None:
    match = _OWNER_IN_TEXT.match(utterance.text)
    if match and match.group(1)[0].isupper() and match.group(1).lower() not in _STOPWORDS:
        return match.group(1)
    if re.match(r"^(?:I|I'll|I will)\b", utterance.text):
        return utterance.speaker
    return None


def _due(text: str) -> str | None:
    match = _DUE_RE.search(text)
    return match.group(1) if match else None


class RuleBasedExtractor:
    method = "rule_based"

    def extract(self, text: str) -> Extraction:
        utterances = _utterances(text)
        action_items = []
        decisions = []
        requirements = []
        for utterance in utterances:
            sentence = utterance.text
            if any(p.search(sentence) for p in _DECISION_PATTERNS):
                decisions.append({"text": sentence, "speaker": utterance.speaker})
            elif any(p.search(sentence) for p in _ACTION_PATTERNS) and not sentence.endswith("?"):
                action_items.append(
                    {"text": sentence, "owner": _owner(utterance), "due": _due(sentence)}
                )
            for priority, pattern in _REQUIREMENT_PRIORITY:
                if pattern.search(sentence) and _REQUIREMENT_SUBJECT.search(sentence):
                    requirements.append({"text": sentence, "priority": priority})
                    break
        speakers = sorted({u.speaker for u in utterances if u.speaker})
        summary = {
            "summary": _summary(utterances),
            "action_items": action_items,
            "decisions": decisions,
            "participants": speakers,
        }
        return Extraction(summary=summary, requirements=requirements, method=self.method)
