"""The rule-based extractor: a pure function of the transcript, no network, fast.

It reads a meeting the way a note-taker would:

1. Turns are rebuilt (a sentence cut by someone's "yeah" is joined again), split into
   sentences and tidied (fillers, stutters, false starts, spoken numbers).
2. Speakers' names and roles come from their introductions, so owners read "the project
   manager" or "Laura" rather than "Speaker B".
3. Every sentence is scored as a possible action item (a commitment or an assignment, with
   something to do and preferably a time: "I'll send the minutes", "as the designer you're
   going to work on the design", "can you e-mail your slides?" answered by "yes"), a decision
   (agreed, chosen, a proposal others accept, a figure the group settles on) and a
   requirement (what the product must, should or could do). The best few above a confidence
   floor are kept, ranked, and capped by the meeting's length: a one-hour meeting yields a
   handful of items, not fifty.
4. Items are rewritten short, in the third person, with the owner named: "The project
   manager will type up the minutes and email those out to all of you."
5. The summary is the few most central sentences (content words shared with the rest of the
   meeting), spread over the meeting and tidied.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .extract import METHOD_RULE_BASED, Extraction
from .participants import ROLE_HEADS, Participant, find_participants, title_role
from .spoken_text import compress, is_backchannel, sentence_case, split_sentences, tidy, words
from .transcript import Transcript, Utterance

WORDS_PER_MINUTE = 150
MAX_ITEM_WORDS = 16  # items longer than this are cut at a comma when there is one  # conversational speech, to estimate a length when there are no times

_STOPWORDS = frozenset(
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

# ---------------------------------------------------------------------- patterns

_MODAL_FUTURE = r"(?:'ll|\s+will|\s+shall|'m going to|\s+am going to|'re going to|\s+are going to)"
_OBLIGATION = (
    r"(?:\s+need to|\s+needs to|\s+have to|\s+has to|\s+should|\s+must|'ve got to|\s+have got to)"
)
_FILLERS_BEFORE_VERB = r"(?:(?:also|then|just|probably|definitely|actually|maybe|first|quickly|try and|try to|be able to|start|go and|come and)\s+)*"
_FUNCTION_WORDS = (
    r"so|and|the|but|then|okay|ok|well|now|um|uh|as|for|to|a|an|of|with|i|you|we|they|it|is|"
    r"are|that|this|our|your|my|ask|tell|be|will|can"
)
_ROLE_PHRASE = (
    rf"(?:the\s+|our\s+)?(?:(?!(?:{_FUNCTION_WORDS})\b)[a-z-]+\s+){{0,3}}?(?:{ROLE_HEADS})s?"
)
_SELF = re.compile(
    rf"\bi(?:{_MODAL_FUTURE}|{_OBLIGATION}|\s+can|'d better)\s+{_FILLERS_BEFORE_VERB}"
    r"(?P<verb>[a-z][a-z-]*)"
)
_YOU = re.compile(
    rf"\byou(?:\s+all|\s+guys|\s+two)?(?:{_MODAL_FUTURE}|{_OBLIGATION})\s+{_FILLERS_BEFORE_VERB}"
    r"(?P<verb>[a-z][a-z-]*)"
)
_REQUEST = re.compile(
    r"\b(?:can|could|would|will)\s+you(?:\s+(?:please|also|just|maybe))*\s+(?P<verb>[a-z][a-z-]*)"
)
_POLITE_REQUEST = re.compile(
    r"\b(?:if you could|if you would|would you mind|i'd like you to|i want you to|you might want to|"
    r"i'd ask you to|i need you(?: guys| all| two| both)? to|i'd like you(?: guys| all| two)? to)\s+"
    r"(?:(?:maybe|just|also|please|perhaps)\s+)*(?P<verb>[a-z][a-z-]*)"
)
_LETS = re.compile(r"\blet's\s+(?:(?:also|just|then|maybe)\s+)*(?P<verb>[a-z][a-z-]*)")
# The chair handing out work by role at the end: "the industrial designer for the working design".
_ROLE_TASK = re.compile(
    rf"(?P<who>\b(?:the\s+|our\s+)?(?:(?!(?:{_FUNCTION_WORDS})\b)[a-z-]+\s+){{0,3}}?(?:{ROLE_HEADS}))\b"
    r"[^.?!]{0,40}?\b(?:for|on|with|to do|does|will do|is doing)\s+(?P<task>(?:the|a|an|some|our|"
    r"your|their)\s+[a-z][\w -]{3,60})",
    re.I,
)
_YOU_PRESENT = re.compile(
    r"(?<!can )(?<!could )(?<!would )(?<!will )(?<!do )(?<!did )(?<!if )"
    r"\b(?:and\s+|so\s+|then\s+)?you(?:\s+all|\s+guys|\s+two)?\s+(?:(?:just|also|then)\s+)*"
    r"(?P<verb>[a-z][a-z-]*)"
)
_DELEGATE = re.compile(
    rf"\b(?:i(?:'ll| will|'m going to| am going to|'d like to| want to| would like to)?|can i|"
    rf"let me|we(?:'ll| will)?)\s+(?:just\s+|also\s+|then\s+)*ask\s+"
    rf"(?P<who>{_ROLE_PHRASE}|[A-Z][a-z]+|you(?:\s+all|\s+guys)?)\s+(?:if\s+(?:you|they|he|she)\s+could|to)\s+"
    rf"{_FILLERS_BEFORE_VERB}(?P<verb>[a-z][a-z-]*)",
    re.I,
)
_NOT_OWNERS = frozenset(
    """everyone everybody nobody someone somebody anyone anybody people which whoever
    he she who one none each both either neither""".split()
)
_IMPERATIVE = re.compile(r"^(?P<verb>[a-z][a-z-]*)\b")
_PLEASE = re.compile(r"\bplease\s+(?P<verb>[a-z][a-z-]*)")
_WE = re.compile(
    rf"\bwe(?:{_MODAL_FUTURE}|{_OBLIGATION})\s+{_FILLERS_BEFORE_VERB}(?P<verb>[a-z][a-z-]*)"
)
_THIRD = re.compile(
    rf"(?P<who>\b{_ROLE_PHRASE}(?:\s+and\s+{_ROLE_PHRASE})?|\b[A-Z][a-z]+(?:\s+and\s+[A-Z][a-z]+)?)"
    rf"\s*(?:,\s*)?(?:{_MODAL_FUTURE}|'s going to|\s+is going to|{_OBLIGATION}|\s+can)\s+"
    rf"(?!you\b|we\b|i\b|they\b){_FILLERS_BEFORE_VERB}(?P<verb>[a-z][a-z-]*)",
    re.I,
)
_VOCATIVE = re.compile(
    rf"(?:^|,\s*|\b(?:and|as|for)\s+)(?:as\s+)?(?P<who>{_ROLE_PHRASE}|[A-Z][a-z]+),\s*(?:you|can you|could you)\b",
    re.I,
)
_MARKER = re.compile(
    r"\b(?:action items?|to-?dos?|follow(?:-| )up on|next steps?|take care of|responsible for|"
    r"in charge of|deadline|due (?:on|by))\b"
)
_TIME_CUE = re.compile(
    r"\b(?:next (?:meeting|time|week|month|session|call|sprint|monday|tuesday|wednesday|"
    r"thursday|friday)|tomorrow|tonight|this (?:afternoon|evening|week)|later today|"
    r"(?:in )?between now and then|inbetween now and then|until then|till then|after (?:the|this) "
    r"meeting|for next|end of (?:the )?(?:day|week|month)|asap|as soon as possible|"
    r"(?:by|before|on) (?:the )?(?:next|monday|tuesday|wednesday|thursday|friday|saturday|"
    r"sunday|tomorrow|then|end)|in the (?:next|coming) (?:few )?(?:days|weeks)|"
    r"\d{4}-\d{2}-\d{2})"
)
_DUE = re.compile(
    r"\b(?:by|before|until|due|on)\s+((?:the\s+)?(?:next\s+|this\s+)?(?:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|tomorrow|tonight|end of (?:the )?(?:day|week|month)|"
    r"week|month|meeting)|\d{4}-\d{2}-\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?)|\b(next (?:meeting|week|month|monday|tuesday|"
    r"wednesday|thursday|friday)|tomorrow)\b",
    re.I,
)
_WORK_VERBS = frozenset(
    """send email e-mail mail prepare write type draft research investigate look find check
    review update contact call phone schedule organise organize book arrange work finish
    complete fix test build design figure bring share circulate distribute set follow
    report collect gather analyse analyze compare create develop implement deliver provide
    order buy put produce sort attach forward print upload download install deploy
    document summarise summarize sketch plan evaluate estimate measure confirm clarify
    explore read study prototype mock code continue investigate""".split()
)
_IN_MEETING_VERBS = frozenset(
    """be go say tell show start begin move introduce explain ask stop leave wait sit stand
    pass hand repeat wrap recap turn switch open close see mean know guess need want like
    love let keep hear speak admit agree disagree answer add erase rub scroll pull run take
    give draw try come get talk present discuss decide choose""".split()
)
# Verbs that only mean work to be done with their particle: "come up with", "look into".
_PHRASAL_WORK = re.compile(
    r"^(?:come up with|coming up with|look (?:at|into)|looking (?:at|into)|find out|finding out|"
    r"think about|thinking about|go through|going through|get back to|getting back to|"
    r"set up|setting up|write up|writing up|follow up|following up|figure out|figuring out|"
    r"sort out|sorting out|put together|putting together|check out|checking out|"
    r"get in touch|talk to|talking to|get (?:the|a|some|them|it)\b|take a look|taking a look|"
    r"have a look|having a look|take care of|taking care of|work (?:on|out)|working (?:on|out))"
)
_PROGRESSIVE = re.compile(r"\bbe\s+(?P<verb>[a-z]+ing)\b")
_ING_TO_BASE = {
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

_DECIDED = re.compile(
    r"\b(?:we|they|i|you|the (?:group|team|board|committee)|everyone|everybody|all of us)\s+"
    r"(?:have\s+|'ve\s+|all\s+|both\s+|finally\s+)?(?:decided|agreed|settled|concluded|chose|"
    r"chosen|picked|opted|determined|voted)\b"
)
_DECISION_WORD = re.compile(
    r"\b(?:decision|consensus|conclusion|agreed|settled|final answer|that's decided|it's decided)\b"
)
_CHOICE = re.compile(
    r"\b(?:let's|let us|we'll|we will|we're going to|we are going to|we should|we'd better|"
    r"i suggest|i'd suggest|i propose|i'd propose|i recommend|we'd go for|let me)\s+"
    r"(?:just\s+|all\s+|probably\s+|definitely\s+|then\s+)*"
    r"(?:go with|go for|stick with|stick to|use|choose|choose for|pick|take|have|include|keep|"
    r"opt for|settle on|settle for|make it|drop|skip|add|put|offer|sell|target|aim|focus|"
    r"integrate|incorporate|want|need|apply|start with)\b"
)
_PROPOSAL = re.compile(
    r"\b(?:let's|let us|we could|we should|how about|what about|why don't we|i suggest|"
    r"i'd suggest|i propose|maybe we|shall we|should we|we might|we can)\b"
)
_AGREEMENT = re.compile(
    r"^(?:\W*(?:yeah|yes|yep|yup|okay|ok|sure|agreed|fine|good|great|exactly|definitely|"
    r"absolutely|right|i agree|sounds good|that's good|that's fine|perfect|cool|alright|"
    r"of course|true|mm-hmm|uh-huh)\b)",
    re.I,
)
_EVERYONE_OK = re.compile(
    r"\b(?:everybody|everyone|all|we|you all)(?:'s|'re| is| are)?\s+(?:okay|ok|happy|fine|agreed|"
    r"in agreement|good|all right|alright)\s+(?:with|on)\b"
)
_GROUP_FUTURE = re.compile(
    r"\b(?:we|it|they|the [a-z]+|this|that)\s*(?:'re|'s|\s+are|\s+is)?\s*(?:going to|will|'ll)\s+"
    r"(?:be\s+)?(?:sell|sold|selling|cost|have|having|use|using|contain|include|support|run|ship|"
    r"launch|target|make|aim|aiming|feature|come|cost|need|go)\b"
)
_PRODUCT_SPEC = re.compile(
    r"\b(?:it|the (?!meeting|time|question|point|idea|thing)[a-z-]+(?: [a-z-]+)?)\s+(?:should|must|will|'ll|"
    r"is going to|'s going to|has to|needs to)\s+(?:be\s+|also\s+|definitely\s+)*(?:have|use|be|"
    r"contain|include|support|cost|sell|sold|run|work|look|feature|come|made|available)\b"
)
_WANT = re.compile(
    r"\bwe(?:\s+don't|\s+do not)?\s+(?:want|need|would like|'d like)\s+(?:it|the \w+|to|them|this)\b"
)
_CONSTRAINT = re.compile(
    r"\b(?:must not|cannot|can't|shouldn't|should not|no more than|not more than|any more than|"
    r"at most|maximum|at least|minimum|limit|budget|exceed)\b"
)
_CONCRETE = re.compile(
    r"\d|\b(?:euros?|dollars?|pounds?|percent|per cent|million|thousand|hundred|price|cost|"
    r"budget|deadline)\b"
)
_RECAP = re.compile(
    r"\b(?:to sum up|to summari[sz]e|so to recap|in summary|we've got|we have got|so we have|"
    r"the points we|we agreed on|we decided on)\b"
)
_UNCERTAIN = re.compile(
    r"\b(?:i don't know|not sure|maybe|might|perhaps|possibly|i wonder|wondering|or not|"
    r"whether|don't think|do you think|any ideas|i guess|up to (?:us|you|them|the))\b"
)
_CONDITIONAL = re.compile(r"\b(?:if|unless|otherwise|in case)\b")
_NEGATED = re.compile(
    r"\b(?:won't|will not|not going to|don't need to|doesn't need to|can't|cannot|shouldn't|"
    r"never|no need)\b"
)
_HYPOTHETICAL = re.compile(r"\b(?:would|could|might)\b(?!\s+(?:like|you))")
_PAST = re.compile(
    r"\b(?:we had|we used to|last time|yesterday|last week|we were|i was|i did|i've done|"
    r"we've done|i had|i've had|i got|i received|i found)\b"
)
_CONTINUATION = re.compile(r"^[a-z]")
_CLAUSE_END = re.compile(
    r"(?:[.?!;]\s|,?\s+(?:so|because|but|cause|although|though|whereas|unless|which is|"
    r"and then we|and you'll|and we'll|and i'll|and you|and we|and i|isn't it|right)\b|,\s+i guess\b|,\s+i think\b)"
)

_REQUIREMENT_PRIORITY = (
    ("MUST", re.compile(r"\b(?:must|has to|have to|needs? to|required|requires?|requirement|shall|essential|necessary|mandatory|critical|can't|cannot|should not|shouldn't)\b")),
    ("SHOULD", re.compile(r"\b(?:should|ought to|important|expected to|prefer|preferably|want|wants|like it to|would like|'d like)\b")),
    ("COULD", re.compile(r"\b(?:could|might|nice to have|would be nice|would be good|would be cool|optional|may|maybe|perhaps|possibly|bonus|extra)\b")),
)  # fmt: skip
_PRODUCT_SUBJECT = re.compile(
    r"\b(?:it|the (?!meeting|time|question)[a-z-]+|this|system|app|application|product|device|"
    r"feature|interface|design|users?|customers?|people|buttons?|screen|battery|case|price|cost)\b"
)


@dataclass
class _Sentence:
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
class _Candidate:
    score: float
    sentence: _Sentence
    text: str
    owner: str | None = None
    due: str | None = None
    priority: str | None = None

    @property
    def tokens(self) -> set[str]:
        return {w.lower() for w in words(self.text) if w.lower() not in _STOPWORDS}


@dataclass(frozen=True)
class Limits:
    """How many items a meeting of a given length yields at most."""

    actions_base: float = 3.0
    actions_per_hour: float = 6.0
    actions_max: int = 12
    decisions_base: float = 5.0
    decisions_per_hour: float = 6.0
    decisions_max: int = 12
    requirements_base: float = 3.0
    requirements_per_hour: float = 8.0
    requirements_max: int = 15
    action_floor: float = 3.0
    decision_floor: float = 2.5
    requirement_floor: float = 2.0

    def cap(self, base: float, per_hour: float, maximum: int, hours: float) -> int:
        return max(1, min(maximum, round(base + per_hour * hours)))


class RuleBasedExtractor:
    """Summary, action items, decisions and requirements from wording alone (no network)."""

    method = METHOD_RULE_BASED

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def extract(self, transcript: Transcript) -> Extraction:
        sentences = _sentences(transcript.utterances)
        participants = find_participants((s.speaker, s.tidy) for s in sentences)
        hours = _hours(transcript)
        limits = self.limits
        actions = _select(
            _action_candidates(sentences, participants),
            limits.action_floor,
            limits.cap(limits.actions_base, limits.actions_per_hour, limits.actions_max, hours),
        )
        used = {c.sentence.index for c in actions}
        decisions = _select(
            [
                c
                for c in _decision_candidates(sentences, participants)
                if c.sentence.index not in used
            ],
            limits.decision_floor,
            limits.cap(
                limits.decisions_base, limits.decisions_per_hour, limits.decisions_max, hours
            ),
        )
        requirements = _select(
            _requirement_candidates(sentences, used),
            limits.requirement_floor,
            limits.cap(
                limits.requirements_base,
                limits.requirements_per_hour,
                limits.requirements_max,
                hours,
            ),
        )
        summary: dict[str, Any] = {
            "summary": _summary(sentences, hours),
            "action_items": [{"text": c.text, "owner": c.owner, "due": c.due} for c in actions],
            "decisions": [{"text": c.text} for c in decisions],
            "participants": [p.description for p in participants.values()],
        }
        return Extraction(
            summary=summary,
            requirements=[{"text": c.text, "priority": c.priority} for c in requirements],
            method=self.method,
        )


# ---------------------------------------------------------------------- sentences


def _hours(transcript: Transcript) -> float:
    duration = transcript.duration_seconds
    if duration:
        return duration / 3600
    return transcript.word_count / WORDS_PER_MINUTE / 60


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


def _sentences(utterances: Sequence[Utterance]) -> list[_Sentence]:
    turns = _turns(utterances)
    total_words = max(1, sum(len(t.text.split()) for t in turns))
    sentences: list[_Sentence] = []
    seen_words = 0
    for turn_index, turn in enumerate(turns):
        for raw in split_sentences(turn.text):
            clean = tidy(raw)
            lower = clean.lower()
            sentence = _Sentence(
                index=len(sentences),
                turn=turn_index,
                speaker=turn.speaker,
                raw=raw,
                tidy=clean,
                lower=lower,
                position=seen_words / total_words,
                is_question=raw.rstrip().endswith("?"),
                content=[w for w in (x.lower() for x in words(clean)) if w not in _STOPWORDS],
            )
            sentences.append(sentence)
            seen_words += len(raw.split())
    return sentences


def _select(candidates: list[_Candidate], floor: float, limit: int) -> list[_Candidate]:
    """The best candidates above the floor, near-duplicates dropped, at most `limit`."""
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (-c.score, c.sentence.index)):
        if candidate.score < floor or len(chosen) >= limit:
            break
        tokens = candidate.tokens
        if not tokens:
            continue
        if any(_overlap(tokens, other.tokens) >= 0.6 for other in chosen):
            continue
        chosen.append(candidate)
    return chosen


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


# ---------------------------------------------------------------------- action items


def _owner_label(name: str, participants: dict[str, Participant]) -> str:
    """A name or role said in the meeting, as the participant's label when we know them."""
    bare = re.sub(r"^(?:the|our)\s+", "", name.strip(), flags=re.I)
    for participant in participants.values():
        if participant.name and participant.name.lower() == bare.lower():
            return participant.label
    if re.search(rf"(?:{ROLE_HEADS})s?$", bare, re.I):
        return f"the {title_role(bare.lower())}"
    return bare


def _leader(sentences: Sequence[_Sentence], participants: dict[str, Participant]) -> str | None:
    """Who chairs: a manager/chair/lead by role, else whoever speaks most."""
    for participant in participants.values():
        if participant.role and re.search(
            r"\b(?:manager|chair\w*|lead|leader|facilitator|host|moderator|owner)$",
            participant.role,
        ):
            return participant.speaker
    spoken = Counter(s.speaker for s in sentences if s.speaker)
    return spoken.most_common(1)[0][0] if spoken else None


def _responder(
    sentences: Sequence[_Sentence],
    sentence: _Sentence,
    participants: dict[str, Participant],
    *,
    agreement_only: bool = False,
) -> str | None:
    """Who said yes to a request ("Can you e-mail your slides?" - "Yes, I think I can").

    With `agreement_only` (an assignment, not a question) only the first reply counts, and
    only when one person answered: "you'll do the evaluation" - "Okay." names the addressee.
    """
    repliers: list[str] = []
    for later in sentences[sentence.index + 1 : sentence.index + 6]:
        if later.speaker is None or later.speaker == sentence.speaker:
            if agreement_only and repliers:
                break
            continue
        agrees = _AGREEMENT.match(later.lower) or re.search(r"\bi(?:'ll| will| can)\b", later.lower)
        if agrees and later.speaker not in repliers:
            repliers.append(later.speaker)
            if not agreement_only:
                break
        elif not is_backchannel(later.raw):
            break
    if (len(repliers) != 1 and agreement_only) or not repliers:
        return None
    speaker = repliers[0]
    return participants[speaker].label if speaker in participants else speaker


def _clause(text: str, start: int) -> str:
    """From `start` to the end of the clause (a sentence end, "so", "because", "but")."""
    rest = text[start:]
    match = _CLAUSE_END.search(rest, 12)
    return rest[: match.start()] if match else rest


def _base_verb_phrase(phrase: str) -> str:
    """ "will be working on" -> "will work on"."""

    def to_base(match: re.Match[str]) -> str:
        verb = match.group("verb")
        return _ING_TO_BASE.get(verb, f"be {verb}")

    return _PROGRESSIVE.sub(to_base, phrase, count=1)


_SUBJECTS = {
    "self": re.compile(rf"^i(?:{_MODAL_FUTURE}|{_OBLIGATION}|\s+can|'d better)\s+", re.I),
    "you": re.compile(rf"^you(?:\s+all|\s+guys|\s+two)?(?:{_MODAL_FUTURE}|{_OBLIGATION})\s+", re.I),
    "request": re.compile(
        r"^(?:can|could|would|will)\s+you(?:\s+(?:please|also|just|maybe))*\s+", re.I
    ),
    "third": re.compile(
        rf"^(?P<who>.+?)\s*,?\s*(?:{_MODAL_FUTURE}|'s going to|\s+is going to|{_OBLIGATION}|"
        r"\s+can)\s+",
        re.I,
    ),
    "delegate": re.compile(r"^.*?\bask\s+.+?\s+(?:if\s+\w+\s+could|to)\s+", re.I),
    "we": re.compile(rf"^we(?:{_MODAL_FUTURE}|{_OBLIGATION})\s+", re.I),
    "lets": re.compile(r"^let's\s+", re.I),
    "role_task": re.compile(r"^"),
    "please": re.compile(r"^please\s+", re.I),
    "imperative": re.compile(r"^"),
}


def _action_text(clause: str, owner: str | None, kind: str) -> str:
    """The clause in the third person with its owner as subject: "X will do Y"."""
    clause = _base_verb_phrase(compress(clause).rstrip("."))
    if kind == "imperative":
        clause = clause[:1].lower() + clause[1:]
    subject = f"{owner} will " if owner else ("You will " if kind == "you" else "")
    clause = _SUBJECTS[kind].sub(subject, clause, count=1)
    if owner:
        clause = re.sub(r"\b(?:my|your)\b", "their", clause)
        clause = re.sub(r"\b(?:myself|yourself)\b", "themselves", clause)
        clause = re.sub(r"\b(?:I|you)(?:'ll| will)\b", "they will", clause)
    clause = re.sub(r"\bwill will\b", "will", clause)
    clause = re.sub(r"\s+as well\?$", " as well", clause)
    return sentence_case(_base_verb_phrase(clause).rstrip("?"))


def _with_antecedent(clause: str, sentences: Sequence[_Sentence], sentence: _Sentence) -> str:
    """ "I'll look into that" after someone's question: say what "that" is."""
    if not re.search(
        r"\b(?:into|at|out|about|check|investigate)\s+(?:that|this|it)\s*$", clause.lower()
    ):
        return clause
    for earlier in reversed(sentences[max(0, sentence.index - 8) : sentence.index]):
        if (
            earlier.speaker != sentence.speaker
            and earlier.is_question
            and len(earlier.content) >= 3
        ):
            question = compress(earlier.tidy).rstrip("?.")
            question = re.sub(
                r"^(?:can i ask|i was wondering|just wondering|do you know)\W*",
                "",
                question,
                flags=re.I,
            )
            question = re.sub(
                r"^(are|is|do|does|did|can|could|should|will|would)\s+(we|you|they|it|i|he|she)\b",
                r"\2 \1",
                question,
                flags=re.I,
            )
            subject = re.sub(r"\s+(?:that|this|it)\s*$", "", clause)
            return f"{subject} whether {question[0].lower()}{question[1:]}"
    return clause


@dataclass(frozen=True)
class _ActionWording:
    kind: str  # self, third, delegate, you, request, please, we, imperative
    start: int  # where the clause begins in the sentence
    verb: str
    owner: str | None
    base: float  # how strongly the wording alone says "someone will do something"
    task: str | None = None  # the work itself, when the wording names it apart from a verb


def _action_candidates(
    sentences: Sequence[_Sentence], participants: dict[str, Participant]
) -> list[_Candidate]:
    leader = _leader(sentences, participants)
    # Words the meeting also uses in lower case are ordinary words, not names.
    common_words = {w for s in sentences for w in words(s.tidy) if w.islower()}
    candidates: list[_Candidate] = []
    for sentence in sentences:
        lower = sentence.lower
        if len(sentence.content) < 2:
            continue
        wording = _action_wording(sentence, sentences, participants, leader, common_words)
        if wording is None:
            continue
        clause_lower = _clause(lower, wording.start)
        clause = sentence.tidy[wording.start : wording.start + len(clause_lower)]
        after_verb = clause_lower[clause_lower.find(wording.verb) :]
        verb = wording.verb
        progressive = _PROGRESSIVE.match(re.sub(r"\b(?:just|really|also)\s+", "", after_verb))
        if progressive:
            verb = _ING_TO_BASE.get(progressive.group("verb"), verb)
            after_verb = after_verb[progressive.end("verb") - len(progressive.group("verb")) :]
        score = wording.base
        if _PHRASAL_WORK.match(after_verb) or verb in _WORK_VERBS:
            score += 1.0
        elif verb in _IN_MEETING_VERBS:
            score -= 1.5
        elif wording.kind in {"we", "imperative", "please", "lets"}:
            score -= 1.0
        if _TIME_CUE.search(lower):
            score += 1.5
        if _MARKER.search(lower):
            score += 1.5
        if sentence.position >= 0.7:
            score += 0.5
        if sentence.position >= 0.85:
            score += 0.5
        if sentence.position < 0.1:
            score -= 1.0
        if _CONDITIONAL.search(lower[: wording.start]) or _CONDITIONAL.search(clause_lower):
            score -= 1.0
        if _NEGATED.search(clause_lower):
            score -= 3.0
        if re.search(r"\b(?:maybe|might|perhaps|i don't know|not sure|i'm sure)\b", lower):
            score -= 0.5
        if re.search(r"\b(?:i'll|i will) just\b", lower):
            score -= 0.5
        if wording.kind != "request" and sentence.is_question:
            score -= 2.0
        if len([w for w in words(clause_lower) if w not in _STOPWORDS]) < 2:
            score -= 1.0
        if len(clause_lower.split()) > 30:
            score -= 0.5
        if re.search(r"\b(?:get|receive|be sent|be given|be told|hear|hearing)\b", after_verb[:25]):
            score -= 2.0
        clause = _with_antecedent(clause, sentences, sentence)
        if wording.task is not None:
            task = _clause(wording.task, 0)
            text = sentence_case(
                f"{wording.owner} will work on {compress(task).rstrip('.')[:1].lower()}{compress(task).rstrip('.')[1:]}"
            )
        else:
            text = _action_text(clause, wording.owner, wording.kind)
        if len(words(text)) < 3:
            continue
        due = _DUE.search(sentence.tidy)
        candidates.append(
            _Candidate(
                score=score,
                sentence=sentence,
                text=text,
                owner=_capitalise_owner(wording.owner),
                due=(due.group(1) or due.group(2)) if due else None,
            )
        )
    return candidates


def _capitalise_owner(owner: str | None) -> str | None:
    if owner is None:
        return None
    bare = re.sub(r"^the\s+", "", owner)
    return " ".join(w if w[:1].isupper() else w.capitalize() for w in bare.split())


def _action_wording(
    sentence: _Sentence,
    sentences: Sequence[_Sentence],
    participants: dict[str, Participant],
    leader: str | None,
    common_words: set[str],
) -> _ActionWording | None:
    """The strongest action wording in the sentence, if any."""
    lower = sentence.lower
    speaker = participants.get(sentence.speaker or "")
    speaker_label = speaker.label if speaker else None
    delegate = _DELEGATE.search(sentence.tidy)
    if delegate:
        who = delegate.group("who")
        owner = None if who.lower().startswith("you") else _owner_label(who, participants)
        return _ActionWording(
            "delegate",
            delegate.start(),
            delegate.group("verb").lower(),
            owner,
            2.5 if owner else 1.5,
        )
    third = _THIRD.search(sentence.tidy)
    if third:
        who = third.group("who")
        known_name = any(p.name and p.name.lower() == who.lower() for p in participants.values())
        is_role = re.search(rf"(?:{ROLE_HEADS})s?$", who, re.I) is not None
        verb = third.group("verb").lower()
        # Any capitalised name will do when what follows is work ("Dave will prepare ...").
        first = who.split()[0].lower()
        maybe_name = (
            who[:1].isupper()
            and first not in _STOPWORDS | _NOT_OWNERS
            and first not in common_words  # "Form will follow function" is not about a person
            and verb in _WORK_VERBS
        )
        if known_name or is_role or maybe_name:
            owner = _owner_label(who, participants)
            base = 2.5 if known_name or is_role else 2.0
            return _ActionWording("third", third.start("who"), verb, owner, base)
    self_match = _SELF.search(lower)
    if self_match:
        return _ActionWording(
            "self", self_match.start(), self_match.group("verb"), speaker_label, 2.0
        )
    you = _YOU.search(lower)
    polite = _POLITE_REQUEST.search(lower) if not you else None
    late_from_chair = sentence.speaker == leader and sentence.position >= 0.7
    present = _YOU_PRESENT.search(lower) if not (you or polite) and late_from_chair else None
    if present and not (
        present.group("verb") in _WORK_VERBS or _PHRASAL_WORK.match(lower[present.start("verb") :])
    ):
        present = None
    addressed = you or polite or present
    if addressed:
        vocative = _VOCATIVE.search(sentence.tidy[: addressed.start() + 12])
        owner = _owner_label(vocative.group("who"), participants) if vocative else None
        if owner is None:
            owner = _responder(sentences, sentence, participants, agreement_only=True)
        base = 2.5 if owner else 1.5
        kind = "you" if you else "request"
        return _ActionWording(kind, addressed.start(), addressed.group("verb"), owner, base)
    request = _REQUEST.search(lower)
    if request and sentence.is_question:
        owner = _responder(sentences, sentence, participants)
        return _ActionWording(
            "request", request.start(), request.group("verb"), owner, 2.5 if owner else 1.0
        )
    wrapping_up = sentence.speaker == leader and sentence.position >= 0.85
    lets = _LETS.search(lower) if wrapping_up or _TIME_CUE.search(lower) else None
    if lets and (
        lets.group("verb") in _WORK_VERBS or _PHRASAL_WORK.match(lower[lets.start("verb") :])
    ):
        return _ActionWording("lets", lets.start(), lets.group("verb"), "the team", 1.5)
    if sentence.speaker == leader and sentence.position >= 0.75:
        assignment = _ROLE_TASK.search(sentence.tidy)
        if assignment:
            owner = _owner_label(assignment.group("who"), participants)
            return _ActionWording(
                "role_task", assignment.start(), "work", owner, 2.0, assignment.group("task")
            )
    please = _PLEASE.search(lower)
    if please:
        return _ActionWording("please", please.start(), please.group("verb"), None, 1.5)
    we = _WE.search(lower)
    if we:
        return _ActionWording("we", we.start(), we.group("verb"), "the team", 1.0)
    if sentence.speaker == leader and sentence.position >= 0.75 and not sentence.is_question:
        stripped = compress(sentence.tidy).lower()
        imperative = _IMPERATIVE.match(stripped)
        if imperative and imperative.group("verb") in _WORK_VERBS | {"check", "look"}:
            start = sentence.lower.find(imperative.group("verb"))
            if start >= 0:
                return _ActionWording(
                    "imperative", start, imperative.group("verb"), "the team", 1.5
                )
    return None


# ---------------------------------------------------------------------- decisions


def _agreement_after(sentences: Sequence[_Sentence], sentence: _Sentence) -> int:
    """How many other speakers agree in the next few sentences."""
    agreeing: set[str] = set()
    for later in sentences[sentence.index + 1 : sentence.index + 6]:
        if later.speaker is None or later.speaker == sentence.speaker:
            continue
        if _AGREEMENT.match(later.lower):
            agreeing.add(later.speaker)
        elif not is_backchannel(later.raw):
            break
    return len(agreeing)


_MEETING_TALK = re.compile(
    r"\b(?:meeting|agenda|wrap up|minutes|presentation|powerpoint|slides?|discuss|talk about|"
    r"move on|session|whiteboard|points|introduce|get to know|break|coach|instructions?|"
    r"questionnaires?|drawing|draw|favourite animal|next time|last time|today|kick-off|kickoff|"
    r"line-up|lunch|coffee)\b"
)
# A question that puts an option to the group; answered "yes" it is a decision.
_OPTION_QUESTION = re.compile(
    r"^(?:(?:so|okay|ok|and|right|then|well)\W+)*(?:are we (?:going (?:to go )?|gonna go )?"
    r"(?P<go>for|with)|shall we (?:go (?:for|with)|use|have|make|take|keep)|should we (?:go (?:for|with)|"
    r"use|have|make|take|keep)|do we (?:want|agree on|go (?:for|with))|did we (?:decide|agree) "
    r"(?:on|to)|are we (?:all )?(?:agreed|happy|okay|ok|fine) (?:on|with)|is (?:everyone|everybody) "
    r"(?:happy|okay|ok|fine|agreed) (?:with|on)|we're (?:going (?:for|with)|agreed on)|we (?:go|stick) "
    r"(?:for|with))\b\s*(?P<option>.+?)\??$"
)
_CONFIRMATION = re.compile(
    r"^(?:okay|ok|so|right|good|fine|alright|great|then)\b[,.]?\s+(?P<np>(?:[\w-]+\s+){0,3}[\w-]+)[.!]?$"
)


def _topicality(sentence: _Sentence, frequency: Counter[str]) -> float:
    """0..1: how much the sentence is about what the meeting keeps talking about."""
    top = sorted((frequency[w] for w in set(sentence.content)), reverse=True)[:3]
    return min(1.0, sum(math.log(1 + f) for f in top if f > 2) / 8)


def _decision_candidates(
    sentences: Sequence[_Sentence], participants: dict[str, Participant]
) -> list[_Candidate]:
    frequency = Counter(w for s in sentences for w in set(s.content))
    leader = _leader(sentences, participants)
    candidates: list[_Candidate] = []
    for sentence in sentences:
        lower = sentence.lower
        confirmation = _confirmation(sentence, sentences, frequency, leader)
        if confirmation is None and sentence.is_question:
            confirmation = _accepted_option(sentence, sentences)
        if confirmation is not None:
            candidates.append(confirmation)
            continue
        if len(sentence.content) < 2:
            continue
        score = 0.0
        start = 0
        for pattern, weight in (
            (_DECIDED, 3.0),
            (_EVERYONE_OK, 2.0),
            (_CHOICE, 2.0),
            (_GROUP_FUTURE, 1.0),
            (_PRODUCT_SPEC, 1.5),
            (_WANT, 1.0),
            (_DECISION_WORD, 1.5),
        ):
            matches = list(pattern.finditer(lower))
            if matches:
                score += weight
                # A restated decision ("it should be, the remote should be ...") ends a sentence.
                start = max(start, matches[-1].start())
        if score == 0.0:
            continue
        agreed = _agreement_after(sentences, sentence)
        if agreed and (_PROPOSAL.search(lower) or _CHOICE.search(lower) or sentence.is_question):
            score += 1.0 + 0.5 * min(agreed, 2)
        if _CONCRETE.search(lower):
            score += 1.0
        if _CONSTRAINT.search(lower):
            score += 0.5
        if _RECAP.search(lower):
            score += 0.5
        score += _topicality(sentence, frequency)
        if _MEETING_TALK.search(lower):
            score -= 1.5
        if sentence.is_question:
            score -= 0.5 if agreed and _EVERYONE_OK.search(lower) else 2.5
        if _UNCERTAIN.search(lower) or re.search(r"\bi'm sure\b", lower):
            score -= 1.5
        if _CONDITIONAL.search(lower):
            score -= 0.75
        if _HYPOTHETICAL.search(lower):
            score -= 0.5
        if _PAST.search(lower):
            score -= 1.0
        if re.search(r"\bi(?:'ll| will|'m going to)\b", lower) and not _CHOICE.search(lower):
            score -= 1.0
        substance = [w for w in sentence.content if not _DECISION_WORD.fullmatch(w)]
        if len(substance) < 3:
            score -= 0.5 if len(substance) == 2 else 2.0
        if sentence.position < 0.05:
            score -= 0.5
        text = _decision_text(sentence.tidy, start)
        if len(words(text)) < 3:
            continue
        candidates.append(_Candidate(score=score, sentence=sentence, text=text))
    return candidates


def _accepted_option(sentence: _Sentence, sentences: Sequence[_Sentence]) -> _Candidate | None:
    """ "Are we going for speech recognition?" - "Yeah." -> "We will go for speech recognition." """
    match = _OPTION_QUESTION.match(sentence.lower)
    if not match:
        return None
    agreed = _agreement_after(sentences, sentence)
    option = compress(match.group("option")).rstrip(".?")
    option_words = [w for w in words(option.lower()) if w not in _STOPWORDS]
    if not agreed or not option_words or len(option.split()) > 20 or _MEETING_TALK.search(option):
        return None
    verb = re.search(
        r"\b(?:go (?:for|with)|use|have|do|make|take|keep|want|agree on|decide on|stick with)\b",
        sentence.lower[: match.start("option")],
    )
    phrase = verb.group(0) if verb else "go " + (match.group("go") or "with")
    phrase = {"decide on": "go with", "agree on": "go with", "want": "have"}.get(phrase, phrase)
    option = option[:1].lower() + option[1:]
    score = 2.5 + 0.5 * min(agreed, 2) + min(1.0, len(option_words) * 0.25)
    return _Candidate(
        score=score, sentence=sentence, text=sentence_case(f"We will {phrase} {option}")
    )


def _confirmation(
    sentence: _Sentence,
    sentences: Sequence[_Sentence],
    frequency: Counter[str],
    leader: str | None,
) -> _Candidate | None:
    """The chair settling a point in a few words: "Okay, advanced chip." """
    if sentence.speaker != leader or sentence.is_question or sentence.position < 0.1:
        return None
    match = _CONFIRMATION.match(sentence.lower)
    if not match:
        return None
    phrase = match.group("np")
    content = [w for w in words(phrase.lower()) if w not in _STOPWORDS]
    if (
        len(phrase.split()) < 2
        or not content
        or is_backchannel(phrase)
        or any(frequency[w] < 2 for w in content)
    ):
        return None
    if _MEETING_TALK.search(phrase) or re.match(
        r"^(?:i|you|we|it|that|this|there|good|afternoon|morning|evening|everyone|everybody|bye|"
        r"thanks|thank|welcome|hello|hi)\b",
        phrase,
    ):
        return None
    score = 2.0 + 0.5 * min(2, _agreement_after(sentences, sentence)) + 0.25 * len(content)
    return _Candidate(score=score, sentence=sentence, text=sentence_case(phrase))


_CLAUSE_START = re.compile(
    r"[,.;:?!]\s+|\s(?:so|but|because|cause|and then|I think|I believe)\s+", re.I
)


def _decision_text(text: str, start: int) -> str:
    # Start at the clause that holds the decision, unless that cuts off its subject.
    boundaries = [m.end() for m in _CLAUSE_START.finditer(text[:start])]
    clause_start = boundaries[-1] if boundaries and start - boundaries[-1] < 60 else 0
    clause = _clause(text, clause_start)
    substance = [
        w for w in re.findall(r"[a-z0-9][a-z0-9'-]*", clause.lower()) if w not in _STOPWORDS
    ]
    if len([w for w in substance if not _DECISION_WORD.fullmatch(w)]) < 3:
        clause = text  # "..., we agreed that with finance": the decision is the whole sentence
    clause = compress(clause)
    clause = re.sub(r"^(?:let me|let's|let us)\s+", "We will ", clause, flags=re.I)
    clause = re.sub(r"^i (?:suggest|propose|recommend)(?: that)?\s+", "", clause, flags=re.I)
    clause = re.sub(r"\b(we|they|it)(?:'re| are|'s| is) going to\b", r"\1 will", clause, flags=re.I)
    clause = re.sub(
        r"^(?:so\s+)?(?:everybody|everyone)(?:'s| is) (okay|ok|happy|fine) with",
        r"Everybody is \1 with",
        clause,
        flags=re.I,
    )
    return sentence_case(_shorten(_base_verb_phrase(clause).rstrip("?")))


def _shorten(text: str, limit: int = MAX_ITEM_WORDS) -> str:
    """Long items end at the last comma before `limit` words (what follows is usually an aside)."""
    tokens = text.split()
    if len(tokens) <= limit:
        return text
    head = " ".join(tokens[:limit])
    cut = head.rfind(",")
    return head[:cut] if cut >= len(head) // 3 else text


# ---------------------------------------------------------------------- requirements


def _requirement_candidates(sentences: Sequence[_Sentence], used: set[int]) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    frequent = Counter(w for s in sentences for w in set(s.content))
    for sentence in sentences:
        if sentence.index in used or sentence.is_question or len(sentence.content) < 2:
            continue
        lower = sentence.lower
        priority = None
        match = None
        for level, pattern in _REQUIREMENT_PRIORITY:
            match = pattern.search(lower)
            if match:
                priority = level
                break
        if priority is None or match is None:
            continue
        if not _PRODUCT_SUBJECT.search(lower[: match.start() + 1]):
            continue
        if re.search(r"\bi(?:'ll| will|'m going to| have to| need to)\b", lower):
            continue
        score = 1.5
        topical = sorted((frequent[w] for w in set(sentence.content)), reverse=True)[:3]
        score += min(1.5, sum(math.log(1 + f) for f in topical) / 6)
        if re.search(
            r"\b(?:it|the [a-z-]+(?: [a-z-]+)?|system|product|device|app)\s+(?:must|should|has to|"
            r"needs to|could|shall|ought to|cannot|can't|would be nice|would be good)\b",
            lower,
        ):
            score += 1.0
        if re.search(
            r"\b(?:users?|customers?|people|they)\s+(?:want|need|prefer|like|expect)\b", lower
        ):
            score += 0.5
        if _PAST.search(lower) or _CONDITIONAL.search(lower):
            score -= 0.75
        if len(sentence.content) > 20:
            score -= 0.5
        text = _decision_text(sentence.tidy, match.start())
        if len(words(text)) < 4:
            continue
        candidates.append(_Candidate(score=score, sentence=sentence, text=text, priority=priority))
    return candidates


# ---------------------------------------------------------------------- summary


_FRAMING = re.compile(
    r"\b(?:this is the|(?:this|today's|the) meeting|we're here|we are here|the purpose|the aim|"
    r"the goal|agenda|we're designing|we are designing|project is|we need to discuss)\b"
)


def _summary(sentences: Sequence[_Sentence], hours: float) -> str:
    """The few sentences that share most content words with the rest of the meeting."""
    usable = [s for s in sentences if len(set(s.content)) >= 5 and not s.is_question]
    if not usable:
        usable = [s for s in sentences if s.content]
    if not usable:
        return ""
    frequency = Counter(w for s in usable for w in set(s.content))
    count = 3 if hours < 0.5 else 4 if hours < 1.0 else 5

    def centrality(sentence: _Sentence) -> float:
        distinct = set(sentence.content)
        weight = sum(math.log(1 + frequency[w]) for w in distinct if frequency[w] > 1)
        weight /= math.sqrt(max(12, len(sentence.raw.split())))
        if sentence.position < 0.2 and _FRAMING.search(sentence.lower):
            weight *= 1.5
        if re.search(r"\b(?:i|my|me)\b", sentence.lower) and not _FRAMING.search(sentence.lower):
            weight *= 0.8
        return weight

    ranked = sorted(usable, key=centrality, reverse=True)[: max(30, count * 6)]
    chosen: list[_Sentence] = []
    for sentence in ranked:
        tokens = set(sentence.content)
        if any(_overlap(tokens, set(other.content)) >= 0.5 for other in chosen):
            continue
        chosen.append(sentence)
        if len(chosen) == count:
            break
    return " ".join(compress(s.tidy) for s in sorted(chosen, key=lambda s: s.index))
