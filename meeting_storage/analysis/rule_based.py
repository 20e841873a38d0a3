"""The rule-based extractor: a pure function of the transcript, no network, fast.

It reads a meeting the way a note-taker would:

1. Turns are rebuilt (a sentence cut by someone's "yeah" is joined again), split into
   sentences and tidied (fillers, stutters, false starts, spoken numbers): sentences.py.
2. Speakers' names and roles come from their introductions, so owners read "the project
   manager" or "Laura" rather than "Speaker B": participants.py.
3. Every sentence is scored as a possible action item (a commitment or an assignment, with
   something to do and preferably a time: "I'll send the minutes", "as the designer you're
   going to work on the design", "can you e-mail your slides?" answered by "yes"), a decision
   (agreed, chosen, a proposal others accept, a figure the group settles on) and a
   requirement (what the product must, should or could do): action_items.py, decisions.py,
   requirements.py. The best few above a confidence
   floor are kept, ranked, and capped by the meeting's length: a one-hour meeting yields a
   handful of items, not fifty. Work a named person takes on is kept past that cap (up to
   40 items): a stand-up where five people each take something on has five.
4. Items are rewritten short, in the third person, with the owner named: "The project
   manager will type up the minutes and email those out to all of you."
5. The summary is the few most central sentences (content words shared with the rest of the
   meeting), spread over the meeting and tidied: summary.py.
6. Every item is linked to the transcript line it came from (its sentence, with its times
   and speaker): grounding.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from meeting_storage.analysis.action_items import action_candidates
from meeting_storage.analysis.decisions import decision_candidates
from meeting_storage.analysis.extract import METHOD_RULE_BASED, Extraction
from meeting_storage.analysis.grounding import ground
from meeting_storage.analysis.participants import find_participants
from meeting_storage.analysis.requirements import requirement_candidates
from meeting_storage.analysis.sentences import Candidate, ItemLimit, meeting_sentences, select
from meeting_storage.analysis.summary import summarise
from meeting_storage.analysis.transcript import Transcript
from meeting_storage.core.analysis import ActionItem, Decision, Evidence, Requirement, Summary

WORDS_PER_MINUTE = 150  # conversational speech, to estimate a length when there are no times


ACTION_LIMIT = ItemLimit(base=3, per_hour=6, maximum=40, floor=3.0, owned=3.0)
DECISION_LIMIT = ItemLimit(base=5, per_hour=6, maximum=12, floor=2.5)
REQUIREMENT_LIMIT = ItemLimit(base=3, per_hour=8, maximum=15, floor=2.0)


@dataclass(frozen=True)
class Limits:
    actions: ItemLimit = ACTION_LIMIT
    decisions: ItemLimit = DECISION_LIMIT
    requirements: ItemLimit = REQUIREMENT_LIMIT


class RuleBasedExtractor:
    """Summary, action items, decisions and requirements from wording alone (no network)."""

    method = METHOD_RULE_BASED

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def extract(self, transcript: Transcript) -> Extraction:
        sentences = meeting_sentences(transcript.utterances)
        participants = find_participants((s.speaker, s.tidy) for s in sentences)
        hours = _hours(transcript)
        actions = select(action_candidates(sentences, participants), self.limits.actions, hours)
        used = {c.sentence.index for c in actions}  # a sentence is an action or a decision
        decisions = select(
            [
                c
                for c in decision_candidates(sentences, participants)
                if c.sentence.index not in used
            ],
            self.limits.decisions,
            hours,
        )
        requirements = select(
            requirement_candidates(sentences, used), self.limits.requirements, hours
        )
        grounded = ground(
            transcript,
            [ActionItem(c.text, c.owner, c.due, evidence=_said(c)) for c in actions],
            [
                Decision(c.text, c.sentence.speaker, attributed=True, evidence=_said(c))
                for c in decisions
            ],
            # Every requirement candidate has the priority its wording gave it.
            [Requirement(c.text, c.priority or "", evidence=_said(c)) for c in requirements],
            drop_unfound=False,
        )
        summary = Summary(
            text=summarise(sentences, hours),
            action_items=grounded.action_items,
            decisions=grounded.decisions,
            participants=tuple(p.description for p in participants.values()),
        )
        return Extraction(
            summary=summary,
            requirements=grounded.requirements,
            method=self.method,
        )


def _said(candidate: Candidate) -> Evidence:
    """The sentence an item was read from: what grounding looks for in the transcript."""
    return Evidence(quote=candidate.sentence.raw, speaker=candidate.sentence.speaker)


def _hours(transcript: Transcript) -> float:
    duration = transcript.duration_seconds
    if duration:
        return duration / 3600
    return transcript.word_count / WORDS_PER_MINUTE / 60
