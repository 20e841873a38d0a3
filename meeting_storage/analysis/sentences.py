"""A meeting as a list of tidied sentences, and what the item finders share.

Turns cut by someone's "yeah" are joined again, split into sentences, tidied (fillers,
stutters, false starts, spoken numbers) and placed in the meeting (0.0 at the start, 1.0 at
the end). Candidates found by action_items.py, decisions.py and requirements.py are kept by
`select`: the best few above a confidence floor, near-duplicates dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from meeting_storage.analysis.participants import Participant
from meeting_storage.analysis.spoken_text import is_backchannel, split_sentences, tidy, words
from meeting_storage.analysis.transcript import Utterance

STOPWORDS = frozenset(
    """a an the and or but if of to in on at for with by from up about into over after is are
    was were be been being have has had do does did will would shall should can could may
    might must i you he she it we they me him her us them my your his its our their this
    that these those so just very really yeah okay ok um uh like well right yes no not then
    there here what which who when where how all any some also too going gonna think know
    mean get got let's lets kind sort thing things something stuff lot bit actually maybe
    one two yep mm hmm oh cause because than as way want need much many more most other
    go say said see look make little sure good great say guess i'm it's that's don't we're
    you're they're there's can't didn't doesn't isn't i'll we'll you'll i've we've i'd
    okay alright mm-hmm gonna wanna just even still quite pretty probably anyway now""".split()
)


PROGRESSIVE = re.compile(r"\bbe\s+(?P<verb>[a-z]+ing)\b")


ING_TO_BASE = {
    "doing": "do", "making": "make", "having": "have", "taking": "take", "writing": "write",
    "using": "use", "preparing": "prepare", "typing": "type", "sharing": "share",
    "coming": "come", "giving": "give", "deciding": "decide", "organising": "organise",
    "organizing": "organize", "researching": "research", "working": "work", "thinking": "think",
    "looking": "look", "sending": "send", "checking": "check", "emailing": "email",
    "e-mailing": "e-mail", "getting": "get", "putting": "put", "planning": "plan",
    "creating": "create", "designing": "design", "developing": "develop", "testing": "test",
    "writing up": "write up", "finding": "find", "building": "build", "reviewing": "review",
    "updating": "update", "investigating": "investigate", "focusing": "focus",
    "focussing": "focus", "contacting": "contact", "drafting": "draft", "producing": "produce",
    "presenting": "present", "exploring": "explore", "analysing": "analyse",
    "analyzing": "analyze", "handling": "handle", "running": "run", "setting": "set",
    "coordinating": "coordinate", "co-ordinating": "co-ordinate", "gathering": "gather",
    "collecting": "collect", "calling": "call", "bringing": "bring", "trying": "try",
    "figuring": "figure", "sorting": "sort", "mailing": "mail", "reading": "read",
    "studying": "study", "comparing": "compare", "considering": "consider",
}  # fmt: skip


AGREEMENT = re.compile(
    r"^(?:\W*(?:yeah|yes|yep|yup|okay|ok|sure|agreed|fine|good|great|exactly|definitely|"
    r"absolutely|right|i agree|sounds good|that's good|that's fine|perfect|cool|alright|"
    r"of course|true|mm-hmm|uh-huh)\b)",
    re.I,
)


CONDITIONAL = re.compile(r"\b(?:if|unless|otherwise|in case)\b")


PAST = re.compile(
    r"\b(?:we had|we used to|last time|yesterday|last week|we were|i was|i did|i've done|"
    r"we've done|i had|i've had|i got|i received|i found)\b"
)


_CONTINUATION = re.compile(r"^[a-z]")


_CLAUSE_END = re.compile(
    r"(?:[.?!;]\s|,?\s+(?:so|because|but|(?<!root )cause|although|though|whereas|unless|which is|"
    r"and then we|and you'll|and we'll|and i'll|and you|and we|and i|isn't it|right)\b|,\s+i guess\b|,\s+i think\b)"
)


@dataclass
class Sentence:
    index: int
    turn: int
    speaker: str | None
    raw: str
    tidy: str
    lower: str
    position: float  # 0.0 at the start of the meeting, 1.0 at the end
    is_question: bool
    content: list[str] = field(default_factory=list)


@dataclass
class Candidate:
    score: float
    sentence: Sentence
    text: str
    owner: str | None = None
    due: str | None = None
    priority: str | None = None
    explicit: bool = False  # written as an item ("Action: ..."): kept even past the length cap
    # Someone named took on recognisable work ("Dave: I'll fix the flaky test"): kept past the
    # length cap when it scores at least the limit's `owned`.
    committed: bool = False

    @property
    def tokens(self) -> set[str]:
        return {w.lower() for w in words(self.text) if w.lower() not in STOPWORDS}


def _turns(utterances: Sequence[Utterance]) -> list[Utterance]:
    """Join a speaker's sentence that someone's "yeah" or a short aside interrupted."""
    turns: list[Utterance] = []
    open_turn: dict[str, int] = {}  # speaker -> index of their unfinished turn
    for utterance in utterances:
        text = utterance.text.strip()
        if not text:
            continue
        speaker = utterance.speaker
        if speaker is not None and speaker in open_turn:
            index = open_turn[speaker]
            between = turns[index + 1 :]
            continues = _CONTINUATION.match(text) is not None
            only_feedback = all(is_backchannel(t.text) for t in between)
            if (only_feedback and len(between) <= 3) or (continues and len(between) <= 2):
                previous = turns[index]
                turns[index] = Utterance(f"{previous.text} {text}", speaker, previous.start)
                if re.search(r"[.!?]$", text):
                    open_turn.pop(speaker)
                continue
        turns.append(Utterance(text, speaker, utterance.start, utterance.end))
        if speaker is not None:
            if re.search(r"[.!?]$", text) or is_backchannel(text):
                open_turn.pop(speaker, None)
            else:
                open_turn[speaker] = len(turns) - 1
        # An unfinished turn stays open only while the conversation has not moved on.
        for other, index in list(open_turn.items()):
            if len(turns) - 1 - index > 3:
                open_turn.pop(other)
    return turns


# Below this, "early in the meeting" and "while wrapping up" mean nothing.
MIN_SENTENCES_FOR_PHASES = 20


def meeting_sentences(utterances: Sequence[Utterance]) -> list[Sentence]:
    turns = _turns(utterances)
    total_words = max(1, sum(len(t.text.split()) for t in turns))
    sentences: list[Sentence] = []
    seen_words = 0
    for turn_index, turn in enumerate(turns):
        for raw in split_sentences(turn.text):
            clean = tidy(raw)
            lower = clean.lower()
            sentence = Sentence(
                index=len(sentences),
                turn=turn_index,
                speaker=turn.speaker,
                raw=raw,
                tidy=clean,
                lower=lower,
                position=seen_words / total_words,
                is_question=raw.rstrip().endswith("?"),
                content=[w for w in (x.lower() for x in words(clean)) if w not in STOPWORDS],
            )
            sentences.append(sentence)
            seen_words += len(raw.split())
    if len(sentences) < MIN_SENTENCES_FOR_PHASES:
        # A few lines of notes have no opening or wrap-up: every sentence counts the same.
        for sentence in sentences:
            sentence.position = 0.5
    return sentences


@dataclass(frozen=True)
class ItemLimit:
    """At most `base + per_hour * hours` items (and never more than `maximum`), each scoring
    at least `floor`: a one-hour meeting yields a handful of items, not fifty."""

    base: float
    per_hour: float
    maximum: int
    floor: float
    # Items with an owner scoring at least this are kept past the length cap (up to
    # `maximum`): a stand-up where five people each take something on has five items.
    owned: float | None = None

    def count(self, hours: float) -> int:
        return max(1, min(self.maximum, round(self.base + self.per_hour * hours)))


def select(candidates: list[Candidate], limit: ItemLimit, hours: float) -> list[Candidate]:
    """The best candidates above the floor, near-duplicates dropped, ranked, at most the limit."""
    chosen: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (-c.score, c.sentence.index)):
        if candidate.score < limit.floor:
            break
        owned = limit.owned is not None and candidate.committed and candidate.score >= limit.owned
        room = limit.maximum if candidate.explicit or owned else limit.count(hours)
        if len(chosen) >= room:
            continue
        tokens = candidate.tokens
        if not tokens:
            continue
        if any(overlap(tokens, other.tokens) >= 0.6 for other in chosen):
            continue
        chosen.append(candidate)
    return chosen


def overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def leader_of(sentences: Sequence[Sentence], participants: dict[str, Participant]) -> str | None:
    """Who chairs: a manager/chair/lead by role, else whoever speaks most."""
    for participant in participants.values():
        if participant.role and re.search(
            r"\b(?:manager|chair\w*|lead|leader|facilitator|host|moderator|owner)$",
            participant.role,
        ):
            return participant.speaker
    spoken = Counter(s.speaker for s in sentences if s.speaker)
    return spoken.most_common(1)[0][0] if spoken else None


def clause_at(text: str, start: int) -> str:
    """From `start` to the end of the clause (a sentence end, "so", "because", "but")."""
    rest = text[start:]
    match = _CLAUSE_END.search(rest, 12)
    return rest[: match.start()] if match else rest


def base_verb_phrase(phrase: str) -> str:
    """ "will be working on" -> "will work on"."""

    def to_base(match: re.Match[str]) -> str:
        verb = match.group("verb")
        return ING_TO_BASE.get(verb, f"be {verb}")

    return PROGRESSIVE.sub(to_base, phrase, count=1)


def agreement_after(sentences: Sequence[Sentence], sentence: Sentence) -> int:
    """How many other speakers agree in the next few sentences."""
    agreeing: set[str] = set()
    for later in sentences[sentence.index + 1 : sentence.index + 6]:
        if later.speaker is None or later.speaker == sentence.speaker:
            continue
        if AGREEMENT.match(later.lower):
            agreeing.add(later.speaker)
        elif not is_backchannel(later.raw):
            break
    return len(agreeing)
