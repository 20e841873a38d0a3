"""Grounding: every action item, decision and requirement linked to the transcript line(s) it
came from, for every extractor.

An extractor hands over its items with a provisional `Evidence` whose quote is what it read
(the rule-based extractor: the sentence it scored; a language model: the words it quotes), or
none. `ground_extraction` looks for that quote, and then for the item's own text, among the
transcript's utterances (one, or two in a row for a sentence cut by a line break): the words
of the query that an utterance holds, as a share of the query's words, ignoring case,
punctuation and small words. The best utterance at or above `MIN_MATCH` gives the evidence:
its start and end in seconds, its speaker, and the sentence(s) in it that hold the words,
quoted from the transcript itself (never the extractor's own wording).

Transcripts without times (plain text) give evidence with the quote and speaker and
`start`/`end` None: the item still shows where it was said, but cannot be played.

A language model may return an item nobody said; `drop_unfound=True` drops items that cannot
be found and counts them (`Grounded.dropped`). The rule-based extractor only ever returns what
was said, so its items are kept even when a rewrite hides the words (without evidence).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import TypeVar

from meeting_storage.analysis.transcript import Transcript
from meeting_storage.core.analysis import ActionItem, Decision, Evidence, Requirement

MIN_MATCH = 0.6  # share of the query's words the transcript must hold
MAX_QUOTE_CHARS = 400
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
# Small words that say nothing about which line an item came from.
_STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as is are was were be been being
    it its it's this that these those there here i i'll i'm we we'll we're you you'll your he
    she they them their our us me my will would shall should can could do does did done have
    has had so then than just also very really um uh er ah oh yeah yes no not okay ok well
    like gonna let let's go going get got about into up out over all some any what which who
    when where how why""".split()
)

Item = TypeVar("Item", ActionItem, Decision, Requirement)


def words(text: str) -> list[str]:
    """The words of `text` that tell lines apart: lower case, without the small ones."""
    return [w for w in _WORD.findall(text.lower().replace("\u2019", "'")) if w not in _STOPWORDS]


@dataclass(frozen=True)
class _Segment:
    """One utterance, or two in a row, of the transcript."""

    first: int
    last: int
    words: frozenset[str]


@dataclass(frozen=True)
class Grounded:
    action_items: tuple[ActionItem, ...]
    decisions: tuple[Decision, ...]
    requirements: tuple[Requirement, ...]
    dropped: int = 0


class TranscriptLines:
    """A transcript's utterances, ready to be searched for the line an item came from."""

    def __init__(self, transcript: Transcript) -> None:
        self.utterances = transcript.utterances
        # The speaker's name counts too: "Carol will send..." was said by Carol.
        single = [
            _Segment(i, i, frozenset(words(u.text) + words(u.speaker or "")))
            for i, u in enumerate(self.utterances)
        ]
        pairs = [_Segment(a.first, b.last, a.words | b.words) for a, b in pairwise(single)]
        self._segments = single + pairs

    def find(self, *queries: str | None) -> Evidence | None:
        """Evidence for the first query found in the transcript; None when none is."""
        for query in queries:
            if not query:
                continue
            wanted = set(words(query))
            if not wanted:
                continue
            best: _Segment | None = None
            best_key = (0.0, 0, 0)
            for segment in self._segments:
                share = len(wanted & segment.words) / len(wanted)
                # Ties go to the shorter segment (one line rather than two), then the earlier.
                key = (share, segment.first - segment.last, -segment.first)
                if best is None or key > best_key:
                    best, best_key = segment, key
            if best is not None and best_key[0] >= MIN_MATCH:
                return self._evidence(best, wanted)
        return None

    def _evidence(self, segment: _Segment, wanted: set[str]) -> Evidence:
        lines = self.utterances[segment.first : segment.last + 1]
        first, last = lines[0], lines[-1]
        end = last.end
        if end is None and last.start is not None:
            following = self.utterances[segment.last + 1 : segment.last + 2]
            end = following[0].start if following and following[0].start is not None else None
            end = end if end is not None and end >= last.start else last.start
        start = first.start
        if start is not None and end is not None and end < start:
            end = start
        return Evidence(
            quote=_quote(" ".join(u.text for u in lines), wanted),
            start=start,
            end=end,
            speaker=first.speaker,
        )


def _quote(text: str, wanted: set[str]) -> str:
    """The sentences of `text` that hold the wanted words (all of it when it is short)."""
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    sentences = [s for s in _SENTENCE.split(text) if s.strip()]
    hits = [n for n, s in enumerate(sentences) if wanted & set(words(s))]
    if not hits:
        return text[:MAX_QUOTE_CHARS].rstrip() + "…"
    best = max(hits, key=lambda n: len(wanted & set(words(sentences[n]))))
    picked = sentences[best]
    for n in (best + 1, best - 1):  # a neighbour that also holds wanted words, if it fits
        if n in hits and len(picked) + len(sentences[n]) < MAX_QUOTE_CHARS:
            picked = f"{picked} {sentences[n]}" if n > best else f"{sentences[n]} {picked}"
    return picked if len(picked) <= MAX_QUOTE_CHARS else picked[:MAX_QUOTE_CHARS].rstrip() + "…"


def _ground(
    items: Sequence[Item], lines: TranscriptLines, drop_unfound: bool
) -> tuple[list[Item], int]:
    kept: list[Item] = []
    dropped = 0
    for item in items:
        hint = item.evidence.quote if item.evidence is not None else None
        evidence = lines.find(hint, item.text)
        if evidence is None and drop_unfound:
            dropped += 1
            continue
        kept.append(replace(item, evidence=evidence))
    return kept, dropped


def ground(
    transcript: Transcript,
    action_items: Sequence[ActionItem],
    decisions: Sequence[Decision],
    requirements: Sequence[Requirement],
    *,
    drop_unfound: bool,
) -> Grounded:
    """The items with their evidence found in `transcript` (see the module docstring)."""
    lines = TranscriptLines(transcript)
    actions, dropped_actions = _ground(action_items, lines, drop_unfound)
    found_decisions, dropped_decisions = _ground(decisions, lines, drop_unfound)
    found_requirements, dropped_requirements = _ground(requirements, lines, drop_unfound)
    return Grounded(
        action_items=tuple(actions),
        decisions=tuple(found_decisions),
        requirements=tuple(found_requirements),
        dropped=dropped_actions + dropped_decisions + dropped_requirements,
    )
