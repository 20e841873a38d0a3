"""Meeting kinds: what sort of meeting it was, and the summary sections that kind calls for.

A stand-up is read as yesterday / today / blockers for each person, a retro as went well / to
improve / actions, a customer call as what the customer needs, their concerns and the next
steps. The kind is chosen at upload or detected here from the file name, the title and the
wording; `sections_for` then sorts the meeting's sentences into the kind's sections. Both are
pure functions, used by every extractor (an LLM extractor is asked for the same sections).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from meeting_storage.analysis.extract import Extraction, Extractor
from meeting_storage.analysis.llm import LlmExtractor
from meeting_storage.analysis.sentences import Sentence, meeting_sentences
from meeting_storage.analysis.spoken_text import compress
from meeting_storage.analysis.transcript import Transcript
from meeting_storage.core.analysis import ActionItem, SummarySection
from meeting_storage.core.errors import InvalidInputError

STANDUP = "stand-up"
RETRO = "retro"
PLANNING = "planning"
ONE_TO_ONE = "1:1"
CUSTOMER_CALL = "customer call"
INTERVIEW = "interview"
OTHER = "other"
KINDS = (STANDUP, RETRO, PLANNING, ONE_TO_ONE, CUSTOMER_CALL, INTERVIEW, OTHER)
# What a person may type for a kind ("standup", "1on1", "sales call"), to its name.
_ALIASES = {
    "standup": STANDUP, "stand up": STANDUP, "daily": STANDUP, "scrum": STANDUP,
    "retrospective": RETRO, "post-mortem": RETRO, "postmortem": RETRO,
    "sprint planning": PLANNING, "plan": PLANNING,
    "1-1": ONE_TO_ONE, "1on1": ONE_TO_ONE, "one-on-one": ONE_TO_ONE, "one on one": ONE_TO_ONE,
    "customer": CUSTOMER_CALL, "sales": CUSTOMER_CALL, "sales call": CUSTOMER_CALL,
    "customer-call": CUSTOMER_CALL, "client call": CUSTOMER_CALL,
    "hiring": INTERVIEW, "debrief": INTERVIEW, "hiring debrief": INTERVIEW,
}  # fmt: skip
MAX_SECTION_ITEMS = 8


def normalise_kind(value: str | None) -> str | None:
    """The kind's canonical name; None for none given; InvalidInputError for an unknown one."""
    if value is None or not value.strip():
        return None
    key = " ".join(value.strip().lower().replace("_", " ").split())
    if key in KINDS:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    raise InvalidInputError(f"Unknown meeting kind {value!r}; choose one of: {', '.join(KINDS)}.")


# Words that point at each kind in a file name or title: the kinds' names and aliases. A
# name that says a meeting of another sort (a design review, a budget, an incident) is
# "other". The first match wins, in this order.
_NAME_CUES: dict[str, re.Pattern[str]] = {
    STANDUP: re.compile(r"stand.?up|daily|scrum", re.I),
    RETRO: re.compile(r"retro|post.?mortem|lessons", re.I),
    PLANNING: re.compile(r"planning|\bplan\b|roadmap|kick.?off", re.I),
    ONE_TO_ONE: re.compile(r"\b1.?(?:on|to|:)?.?1\b|one.on.one", re.I),
    CUSTOMER_CALL: re.compile(r"customer|client|sales|demo|prospect", re.I),
    INTERVIEW: re.compile(r"interview|hiring|debrief|candidate", re.I),
    OTHER: re.compile(r"design.?review|steering|budget|procurement|incident|outage", re.I),
}


@dataclass(frozen=True)
class _Cues:
    """What people say in a meeting of one kind: `strong` words all but name it (3 points
    each), `weak` ones lean towards it (1 point each)."""

    strong: re.Pattern[str]
    weak: re.Pattern[str]


def _words(*alternatives: str) -> re.Pattern[str]:
    # Not followed by a letter, rather than a word boundary, so that "blockers?" can match.
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")(?!\w)", re.I)


# "Other" has cues of its own: what design reviews, steering committees, budget reviews and
# incident calls say. A meeting whose wording points there at least as much as at any named
# kind is "other", however many planning or customer words it also has.
_WORDING: dict[str, _Cues] = {
    STANDUP: _Cues(
        _words(
            r"stand.?up", r"yesterday,? (?:i|we)", r"i spent yesterday", r"any ?blockers?",
            r"no blockers", r"blockers\?", r"(?:i'm|i am) blocked", r"blocked on",
            r"(?:let's )?do the round", r"anything blocking",
        ),
        _words(
            r"today,? i(?:'ll| will|'m| am)", r"(?:i'm|i am) (?:still )?(?:on|fighting) the",
            r"me next", r"that's everyone", r"keep (?:it|this) (?:quick|tight|short)",
            r"(?:good )?morning", r"blocker",
        ),
    ),
    RETRO: _Cues(
        _words(
            r"retro(?:spective)?", r"post.?mortem", r"went (?:really )?well", r"didn't go well",
            r"went wrong", r"lessons learned", r"blameless", r"glad,? sad", r"what would have caught",
            r"do differently",
        ),
        _words(
            r"root cause", r"timeline", r"next time", r"what caused", r"caused it",
            r"rolled back", r"would have (?:caught|seen|saved)", r"keep doing", r"glad", r"sad",
        ),
    ),
    PLANNING: _Cues(
        _words(
            r"planning", r"backlog", r"story points", r"capacity",
            r"roadmap", r"sprint goal", r"(?:this|next) quarter",
        ),
        _words(
            r"(?:this|next) sprint", r"q[1-4]", r"goals?", r"scope", r"launch(?:ing)?",
            r"milestones?", r"priorit(?:y|ies|ise|ize)", r"weeks to go", r"deadline",
            r"objections\?", r"target",
        ),
    ),
    ONE_TO_ONE: _Cues(
        _words(
            r"one.on.ones?", r"1:1", r"how(?:'s| is) it going", r"how are things",
            r"how was (?:the|your) week", r"how are you(?: doing)?",
            r"what's on your mind", r"anything (?:else )?i can do", r"career",
            r"promotion", r"same time next week", r"goal.?setting", r"development plan",
            r"your growth",
        ),
        _words(
            r"feedback", r"great job", r"senior", r"mentor(?:ing)?", r"training",
            r"day off",
        ),
    ),
    CUSTOMER_CALL: _Cues(
        _words(
            r"thanks for (?:making|taking) (?:the )?time", r"thanks for (?:jumping on|fitting us in)",
            r"evaluating (?:\w+ )?vendors?", r"our (?:solutions|legal|sales|support) team",
            r"your (?:quote|platform|product|contract|subscription|account|use case|"
            r"\w+ team)",
            r"pilot", r"demo", r"soc ?2", r"iso \d+", r"nda", r"dpa",
        ),
        _words(
            r"pricing", r"quote", r"proposal", r"references?", r"subscription", r"vendors?",
            r"procurement", r"renewal", r"licen[cs]es?", r"seats", r"contract",
            r"on (?:our|your) side", r"your timeline",
        ),
    ),
    INTERVIEW: _Cues(
        _words(
            r"debrief", r"candidates?", r"(?:strong|lean) (?:hire|no hire|yes|no)", r"no hire",
            r"interview(?:s|ed|ers?)?", r"culture.?fit", r"portfolio", r"take.?homes?",
            r"offer letter", r"(?:final|next) round",
        ),
        _words(
            r"hire", r"offers?", r"references", r"(?:the|this) \w+ role", r"system design",
            r"pipeline", r"signal", r"salary band",
        ),
    ),
    OTHER: _Cues(
        _words(
            r"design review", r"review of the", r"design doc", r"steering(?: committee)?",
            r"incident (?:bridge|call)", r"escalation call", r"budget review",
            r"procurement review", r"go.?live", r"(?:we're )?(?:green|amber|red)(?= on|\.)",
            r"status page", r"fail ?over", r"we approve",
        ),
        _words(
            r"budget", r"approved?", r"overrun", r"status", r"outage", r"in scope",
            r"next (?:update|check.?in)", r"thousand", r"requirement", r"the doc",
        ),
    ),
}  # fmt: skip
_STRONG, _WEAK = 3, 1
# The first turns usually say what the meeting is ("Okay, quick stand-up"): they count twice.
_OPENING_TURNS = 2
_MIN_SCORE = 4


def kind_scores(transcript: Transcript) -> dict[str, int]:
    """How strongly the wording points at each kind (and at "other")."""
    utterances = transcript.utterances
    texts = [u.text for u in utterances] + [u.text for u in utterances[:_OPENING_TURNS]]
    text = "\n".join(texts)
    scores = {
        kind: _STRONG * len(cues.strong.findall(text)) + _WEAK * len(cues.weak.findall(text))
        for kind, cues in _WORDING.items()
    }
    # A 1:1 is two people; a meeting of four or more is something else.
    speakers = len(transcript.speakers)
    if speakers == 2:
        scores[ONE_TO_ONE] += _STRONG
    elif speakers >= 4:
        scores[ONE_TO_ONE] = 0
    return scores


def detect_kind(transcript: Transcript, *names: str | None) -> str:
    """The kind the file name or title says, else the one the wording points at most, else
    "other" when the wording points nowhere clearly or at a meeting of another sort."""
    for kind, cue in _NAME_CUES.items():
        if any(name and cue.search(name) for name in names):
            return kind
    scores = kind_scores(transcript)
    best = max((kind for kind in KINDS if kind != OTHER), key=lambda kind: scores[kind])
    if scores[best] < _MIN_SCORE or scores[OTHER] >= scores[best]:
        return OTHER
    return best


@dataclass(frozen=True)
class _Section:
    title: str
    cue: re.Pattern[str] | None  # None: the meeting's action items fill it
    # A question that asks for this section ("Blockers?", "What went well?"): the answer that
    # follows belongs here even without the section's words ("I need the copy from marketing").
    prompt: re.Pattern[str] | None = None
    # A sentence must also say this to belong here (a stand-up's "today" is what *I* do today,
    # not "Jonas is out today").
    needs: re.Pattern[str] | None = None
    # Sentences saying this never belong here (a commitment is an action, not a reflection).
    avoid: re.Pattern[str] | None = None
    # Where a sentence fits several sections, the one of highest rank takes it ("Today I'm
    # blocked on the export" is a blocker, not today's plan).
    rank: int = 0


def _cue(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_FIRST_PERSON = _cue(r"\b(?:i|i'm|i'll|i've|i'd|me|my|we|we're|we'll|we've|our)\b")
_COMMITMENT = _cue(r"\b(?:i'll|i will|i can|let's|can you|could you|we're going with)\b")
# "Not really, no", "Nothing from me": nothing to list; nor is the agenda ("Glad first.").
_NOTHING = _cue(
    r"^(?:no|nope|not really|nothing|none|all good)\b(?!.*\b(?:i'm|i'll|i am|i will)\b)|"
    r"\bnothing from me\b|^(?:okay,? |so,? )?(?:\w+ ){0,2}first\W*$"
)
_ACTIONS = _Section("Actions", None)
_SECTIONS: dict[str, tuple[_Section, ...]] = {
    STANDUP: (
        _Section(
            "Yesterday",
            _cue(
                r"\b(?:yesterday|finished|wrapped up|got .* done|i (?:did|fixed|shipped|merged|"
                r"closed|reviewed|deployed|worked on)|last (?:night|evening)|already)\b"
            ),
            needs=_FIRST_PERSON,
            rank=1,
        ),
        _Section(
            "Today",
            _cue(
                r"\b(?:today|this morning|this afternoon|i'll|i will|i'm going to|i'm gonna|"
                r"next up|i'm (?:still )?(?:on|picking up|working on)|i'm still|i plan to)\b"
            ),
            needs=_FIRST_PERSON,
        ),
        _Section(
            "Blockers",
            _cue(
                r"\b(?:block(?:ed|er|ers|ing)|stuck|waiting (?:on|for)|can't (?:get|move)|"
                r"need help|depends on|held up|i need (?!to\b))"
            ),
            prompt=_cue(r"\b(?:block(?:ed|er|ers|ing)|stuck|in your way|need anything)"),
            avoid=_cue(r"\b(?:no|not any|without) blockers?\b|\bnothing (?:blocking|in my way)"),
            rank=2,
        ),
    ),
    RETRO: (
        _Section(
            "Went well",
            _cue(
                r"\b(?:went (?:really )?well|worked(?: well)?|good job|great job|happy with|"
                r"proud|kudos|shout.?out|helped a lot|smooth(?:ly)?|glad|caught|quick(?:ly)?|"
                r"on time)\b"
            ),
            prompt=_cue(r"\b(?:went (?:really )?well|worked|glad|good)\b"),
            avoid=_COMMITMENT,
            rank=2,
        ),
        _Section(
            "To improve",
            _cue(
                r"\b(?:didn't go well|went wrong|(?:could|should) (?:have )?(?:be(?:en)? )?"
                r"better|do better|too (?:slow|late|long)|pain(?:ful)?|frustrat|problem was|"
                r"root cause|next time|improve|missed|sad|late|missing|wasn't|weren't|isn't|"
                r"took (?:us )?\w+ (?:minutes|hours|days)|would have (?:caught|seen|saved))"
            ),
            prompt=_cue(
                r"\b(?:didn't go well|went wrong|improve|better|sad|didn't work|"
                r"would have caught|differently|caused)"
            ),
            avoid=_COMMITMENT,
            rank=1,
        ),
        _ACTIONS,
    ),
    PLANNING: (
        _Section(
            "Goals",
            _cue(r"\b(?:goal|objective|aim|priority|priorities|we want to|target|focus)\b"),
        ),
        _Section(
            "Risks",
            _cue(
                r"\b(?:risk|concern|worried|might slip|dependency|depends on|unknown|"
                r"capacity)\b"
            ),
        ),
        _ACTIONS,
    ),
    ONE_TO_ONE: (
        _Section(
            "Updates",
            _cue(r"\b(?:working on|finished|shipped|progress|update|this week|last week)\b"),
        ),
        _Section(
            "Feedback",
            _cue(
                r"\b(?:feedback|great job|well done|improve|would like you to|concern|"
                r"growth|career|promotion)\b"
            ),
        ),
        _ACTIONS,
    ),
    CUSTOMER_CALL: (
        _Section(
            "Customer needs",
            _cue(
                r"\b(?:we need|they need|need to be able|requirement|must have|looking for|"
                r"use case|important for us|would like)\b"
            ),
        ),
        _Section(
            "Concerns",
            _cue(
                r"\b(?:concern|worried|expensive|price|pricing|budget|competitor|"
                r"security|compliance|risk|not sure)\b"
            ),
        ),
        _Section("Next steps", None),
    ),
    INTERVIEW: (
        _Section(
            "Strengths",
            _cue(r"\b(?:strong|impressed|great|excellent|solid|good at|liked|clear)\b"),
        ),
        _Section(
            "Concerns",
            _cue(
                r"\b(?:concern|worried|weak|struggled|gap|lacked|not sure|red flag|"
                r"hesitant)\b"
            ),
        ),
        _Section(
            "Recommendation",
            _cue(
                r"\b(?:hire|no hire|offer|recommend|strong yes|lean (?:yes|no)|"
                r"move (?:forward|ahead)|next round|pass on)\b"
            ),
        ),
    ),
}
# Per-person sections: a stand-up is read person by person.
_PER_PERSON = frozenset({STANDUP})


def section_titles(kind: str | None) -> tuple[str, ...]:
    """The titles of the kind's sections (what an LLM is asked to fill); none for "other"."""
    return tuple(section.title for section in _SECTIONS.get(kind or OTHER, ()))


def sections_for(
    kind: str | None, transcript: Transcript, action_items: Sequence[ActionItem] = ()
) -> tuple[SummarySection, ...]:
    """The kind's sections, each filled with the meeting's sentences that belong in it."""
    layout = _SECTIONS.get(kind or OTHER, ())
    if not layout:
        return ()
    sentences = [s for s in meeting_sentences(transcript.utterances) if len(s.content) >= 2]
    answers = _answers(layout, meeting_sentences(transcript.utterances))
    if kind in _PER_PERSON:
        speakers = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
        return tuple(
            found
            for speaker in speakers
            for found in _fill(
                layout, [s for s in sentences if s.speaker == speaker], (), speaker, answers
            )
        )
    return _fill(layout, sentences, action_items, None, answers)


_MAX_ANSWER_TURNS = 3


def _answers(layout: Sequence[_Section], sentences: Sequence[Sentence]) -> dict[int, str]:
    """The sentences that answer a section's question, by index, to the section's title: what
    the others say after "Blockers?" or "What went well?", until the one who asked speaks
    again or someone asks something else."""
    answers: dict[int, str] = {}
    for position, question in enumerate(sentences):
        if not question.is_question:
            continue
        asked = next((x for x in layout if x.prompt and x.prompt.search(question.tidy)), None)
        if asked is None:
            continue
        turns: set[int] = set()
        for answer in sentences[position + 1 :]:
            if answer.is_question or answer.speaker == question.speaker:
                break
            turns.add(answer.turn)
            if len(turns) > _MAX_ANSWER_TURNS:
                break
            answers[answer.index] = asked.title
    return answers


def _belongs(section: _Section, sentence: Sentence, answers: dict[int, str]) -> bool:
    if section.cue is None or sentence.is_question or _NOTHING.search(sentence.tidy):
        return False
    if section.avoid and section.avoid.search(sentence.tidy):
        return False
    if section.needs and not section.needs.search(sentence.tidy):
        return False
    return answers.get(sentence.index) == section.title or bool(section.cue.search(sentence.tidy))


def _fill(
    layout: Sequence[_Section],
    sentences: Sequence[Sentence],
    action_items: Sequence[ActionItem],
    speaker: str | None,
    answers: dict[int, str],
) -> tuple[SummarySection, ...]:
    chosen: dict[str, list[Sentence]] = {section.title: [] for section in layout}
    by_rank = sorted(layout, key=lambda section: -section.rank)
    for sentence in sentences:
        # A sentence answering a section's question goes there; else to the first section,
        # highest rank first, whose words it says.
        asked = [x for x in layout if answers.get(sentence.index) == x.title]
        home = next((x for x in [*asked, *by_rank] if _belongs(x, sentence, answers)), None)
        if home is not None:
            chosen[home.title].append(sentence)
    filled: list[SummarySection] = []
    for section in layout:
        if section.cue is None:
            items = [_action_text(item) for item in action_items if item.is_open]
        else:
            items = [compress(s.tidy) for s in chosen[section.title]]
        if items or speaker is not None:
            filled.append(SummarySection(section.title, tuple(items[:MAX_SECTION_ITEMS]), speaker))
    if speaker is not None and not any(section.items for section in filled):
        return ()  # someone who only said "morning": no empty stand-up card
    return tuple(filled)


def _action_text(item: ActionItem) -> str:
    owner = f" ({item.owner})" if item.owner and item.owner not in item.text else ""
    return f"{item.text}{owner}"


def extract_with_kind(
    extractor: Extractor, transcript: Transcript, kind: str | None, *names: str | None
) -> Extraction:
    """Extract with the meeting's kind known first, so a language model is asked for the
    kind's sections; the rule-based extractor's are filled from the sentences (`with_kind`)."""
    chosen = normalise_kind(kind) or detect_kind(transcript, *names)
    if isinstance(extractor, LlmExtractor):
        extraction = extractor.extract(transcript, sections=section_titles(chosen))
    else:
        extraction = extractor.extract(transcript)
    return with_kind(extraction, transcript, chosen)


def with_kind(
    extraction: Extraction, transcript: Transcript, kind: str | None, *names: str | None
) -> Extraction:
    """The extraction with the meeting's kind (the one chosen, else detected) and its
    sections; sections an extractor already wrote (an LLM asked for them) are kept."""
    chosen = normalise_kind(kind) or detect_kind(transcript, *names)
    summary = extraction.summary
    sections = summary.sections or sections_for(chosen, transcript, summary.action_items)
    return replace(extraction, summary=replace(summary, kind=chosen, sections=sections))
