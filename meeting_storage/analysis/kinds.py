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


# Words that point at each kind, in the name or title (strong) and in what was said.
_NAME_CUES: dict[str, re.Pattern[str]] = {
    STANDUP: re.compile(r"stand.?up|daily|scrum", re.I),
    RETRO: re.compile(r"retro|post.?mortem|lessons", re.I),
    PLANNING: re.compile(r"planning|roadmap|kick.?off", re.I),
    ONE_TO_ONE: re.compile(r"\b1.?(?:on|to|:)?.?1\b|one.on.one", re.I),
    CUSTOMER_CALL: re.compile(r"customer|client|sales|demo|prospect", re.I),
    INTERVIEW: re.compile(r"interview|hiring|debrief|candidate", re.I),
}
_SPEECH_CUES: dict[str, re.Pattern[str]] = {
    STANDUP: re.compile(
        r"\b(?:yesterday i|today i(?:'m| am| will|'ll)|blocker|blocked on|stand.?up|"
        r"anything blocking|no blockers)\b",
        re.I,
    ),
    RETRO: re.compile(
        r"\b(?:went well|didn't go well|went wrong|to improve|retro(?:spective)?|post.?mortem|"
        r"root cause|lessons learned|what we'd do differently)\b",
        re.I,
    ),
    PLANNING: re.compile(
        r"\b(?:sprint|story points|backlog|roadmap|capacity|milestone|this quarter|next quarter|"
        r"scope)\b",
        re.I,
    ),
    ONE_TO_ONE: re.compile(
        r"\b(?:career|your growth|feedback for you|how are you doing|one.on.one|1:1|"
        r"promotion|development plan)\b",
        re.I,
    ),
    CUSTOMER_CALL: re.compile(
        r"\b(?:your team|pricing|contract|renewal|proposal|trial|licen[cs]e|our product|"
        r"your use case|procurement|quote)\b",
        re.I,
    ),
    INTERVIEW: re.compile(
        r"\b(?:candidate|hire|no hire|strong yes|interview(?:ed)?|culture fit|offer|"
        r"references?)\b",
        re.I,
    ),
}
_MIN_SPEECH_HITS = 3


def detect_kind(transcript: Transcript, *names: str | None) -> str:
    """The kind the file name or title says, else the one the wording points at most, else
    "other" when nothing points clearly anywhere."""
    for kind, cue in _NAME_CUES.items():
        if any(name and cue.search(name) for name in names):
            return kind
    text = " ".join(u.text for u in transcript.utterances)
    hits = {kind: len(cue.findall(text)) for kind, cue in _SPEECH_CUES.items()}
    best = max(hits, key=lambda kind: hits[kind])
    if hits[best] < _MIN_SPEECH_HITS:
        return OTHER
    return best


@dataclass(frozen=True)
class _Section:
    title: str
    cue: re.Pattern[str] | None  # None: the meeting's action items fill it


def _cue(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


_ACTIONS = _Section("Actions", None)
_SECTIONS: dict[str, tuple[_Section, ...]] = {
    STANDUP: (
        _Section(
            "Yesterday",
            _cue(
                r"\b(?:yesterday|finished|wrapped up|got .* done|i (?:did|fixed|shipped|merged|"
                r"closed|reviewed|deployed|worked on)|last (?:night|evening))\b"
            ),
        ),
        _Section(
            "Today",
            _cue(
                r"\b(?:today|this morning|this afternoon|i'll|i will|i'm going to|i'm gonna|"
                r"next up|i'm (?:on|picking up|working on)|i plan to)\b"
            ),
        ),
        _Section(
            "Blockers",
            _cue(
                r"\b(?:block(?:ed|er|ers|ing)|stuck|waiting (?:on|for)|can't (?:get|move)|"
                r"need help|depends on|held up)\b"
            ),
        ),
    ),
    RETRO: (
        _Section(
            "Went well",
            _cue(
                r"\b(?:went (?:really )?well|worked well|good job|great job|happy with|"
                r"proud|kudos|shout.?out|helped a lot|smooth(?:ly)?)\b"
            ),
        ),
        _Section(
            "To improve",
            _cue(
                r"\b(?:didn't go well|went wrong|(?:could|should) (?:have )?(?:be(?:en)? )?"
                r"better|too (?:slow|late|long)|pain(?:ful)?|frustrat|problem was|"
                r"root cause|next time|improve|missed)\b"
            ),
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
    if kind in _PER_PERSON:
        speakers = list(dict.fromkeys(s.speaker for s in sentences if s.speaker))
        return tuple(
            found
            for speaker in speakers
            for found in _fill(layout, [s for s in sentences if s.speaker == speaker], (), speaker)
        )
    return _fill(layout, sentences, action_items, None)


def _fill(
    layout: Sequence[_Section],
    sentences: Sequence[Sentence],
    action_items: Sequence[ActionItem],
    speaker: str | None,
) -> tuple[SummarySection, ...]:
    used: set[int] = set()
    filled: list[SummarySection] = []
    for section in layout:
        if section.cue is None:
            items = [_action_text(item) for item in action_items if item.is_open]
        else:
            chosen = [
                s
                for s in sentences
                if s.index not in used and not s.is_question and section.cue.search(s.tidy)
            ][:MAX_SECTION_ITEMS]
            used.update(s.index for s in chosen)
            items = [compress(s.tidy) for s in chosen]
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
