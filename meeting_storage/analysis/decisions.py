"""Decisions: what the group agreed, chose, or settled on.

"We decided ...", "let's go with ...", a proposal or an option question others say yes to,
the chair settling a point in a few words ("Okay, advanced chip."), a figure the group
commits to. Talk about the meeting itself, questions, hedges and hypotheticals count
against a sentence.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from meeting_storage.analysis.participants import Participant
from meeting_storage.analysis.sentences import (
    CONDITIONAL,
    PAST,
    STOPWORDS,
    Candidate,
    Sentence,
    agreement_after,
    base_verb_phrase,
    clause_at,
    leader_of,
)
from meeting_storage.analysis.spoken_text import compress, is_backchannel, sentence_case, words

MAX_ITEM_WORDS = 16  # longer decisions are cut at a comma when there is one


_DECIDED = re.compile(
    r"\b(?:we|they|i|you|the (?:group|team|board|committee)|everyone|everybody|all of us)\s+"
    r"(?:have\s+|'ve\s+|all\s+|both\s+|finally\s+)?(?:decided|agreed|settled|concluded|chose|"
    r"chosen|picked|opted|determined|voted)\b"
)


# The group settling something in the present tense: "we're going with the lake house",
# "we approve the twenty thousand", "quiet hours are in scope".
_SETTLED = re.compile(
    r"\b(?:we're|we are)\s+(?:going (?:with|for)|moving|pushing|postponing|keeping|launching|"
    r"dropping|cancelling|canceling|switching|sticking with|approving|doing)\b(?! you\b)|"
    r"\bwe\s+(?:approve|keep|go with|stick with|stay with|replace|drop|cancel|switch to)\b|"
    r"\b(?:is|are)\s+(?:approved|in scope|out of scope)\b|\b(?:we're|we are) not \w+ing\b|"
    r"\b(?:moves|is moved|is pushed|slips) to\b|\b(?:stays|waits)[.!]?$|"
    r"^(?:(?:okay|ok|good|right|great|fine|so)\W+)*[\w -]{3,40}? it is\b(?=[,.!]|$)"
)


# "Agreed, we'll revisit in Q3", "No laptops in the morning, agreed", "activation is our
# number one goal": settled in so many words.
_AGREED_PLAN = re.compile(
    r"^agreed\W+(?:we'll|we will|let's|we're|we)\b|(?:,|^)\s*agreed\W*$|"
    r"\b(?:is|are) (?:our|the) (?:number one|top|main|first|second|third|only) "
    r"(?:goal|priority|focus|objective)\b"
)
# "Highlighting would be nice, but let's not do it in this round."
_NOT_NOW = re.compile(r"\blet's not (?:do|start|build|add|change|touch|go)\b")
_NEXT_STEP = re.compile(r"\bnext steps? (?:is|are|will be)\b")


# A proposal put to the group that someone turns down ("Should we do dark mode now?" - "No,
# let's not, we'll push it to next quarter"): the decision is the "no", and what replaces it.
_PROPOSAL_PUT = re.compile(
    r"^(?:(?:so|and|okay|ok|um|uh|hmm|also|then)\W+)*(?:(?:should|shall|could|can|would) we|"
    r"do we (?:want|need) to)\s+(?:also\s+|just\s+|maybe\s+|all\s+)*(?P<option>.+?)\??$|"
    r"^(?:(?:so|and|okay|um|uh|hmm|also)\W+)*(?:we could|why don't we)\s+(?P<option2>.+?)[.?!]?$"
)
_LETS_NOT = re.compile(r"\blet's not (?P<x>[^,.;!?]+)")
_TURNED_DOWN = re.compile(
    r"^(?:\W*(?:hmm|um|uh|ha|well|honestly)\W+)*(?:no|nope|not now|not yet|not this (?:year|time))\b"
)
_INSTEAD = re.compile(
    r"(?=\b(?:we'll|we will|let's(?! not)|we're going to|we're going with|we're)\s+(?P<alt>[^.;!?]+))"
)
# Where the alternative ends and a reason or a new clause begins.
_ASIDE = re.compile(r",\s*(?:we|let's|the \w+ \w+s\b|that|it|because|since|as)\b.*$")


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
    r"whether|don't think|do you think|any ideas|i guess|up to (?:us|you|them|the)|either)\b"
)


_HYPOTHETICAL = re.compile(r"\b(?:would|could|might)\b(?!\s+(?:like|you))")


_MEETING_TALK = re.compile(
    r"\b(?:meeting|agenda|wrap up|minutes|presentation|powerpoint|slides?|discuss|talk about|"
    r"move on|session|whiteboard|points|introduce|get to know|break|coach|instructions?|"
    r"questionnaires?|drawing|draw|favourite animal|next time|last time|today|kick-off|kickoff|"
    r"line-up|lunch|coffee|keep (?:this|it) (?:quick|short|brief))\b"
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


def _topicality(sentence: Sentence, frequency: Counter[str]) -> float:
    """0..1: how much the sentence is about what the meeting keeps talking about."""
    top = sorted((frequency[w] for w in set(sentence.content)), reverse=True)[:3]
    return min(1.0, sum(math.log(1 + f) for f in top if f > 2) / 8)


# Written notes: "Decision: we use Postgres", "- Agreed: ship on Monday".
_NOTED_DECISION = re.compile(
    r"^\s*(?:[-*\u2022]|\d+[.)])?\s*(?:decisions?|decided|agreed|resolution|outcome)\s*[:\-\u2013]\s*"
    r"(?P<text>.+)$",
    re.I,
)


def decision_candidates(
    sentences: Sequence[Sentence], participants: dict[str, Participant]
) -> list[Candidate]:
    frequency = Counter(w for s in sentences for w in set(s.content))
    leader = leader_of(sentences, participants)
    candidates: list[Candidate] = []
    for sentence in sentences:
        lower = sentence.lower
        noted = _NOTED_DECISION.match(sentence.tidy)
        if noted and len(words(noted.group("text"))) >= 2:
            text = sentence_case(compress(noted.group("text")))
            candidates.append(Candidate(score=4.5, sentence=sentence, text=text, explicit=True))
            continue
        confirmation = _confirmation(sentence, sentences, frequency, leader)
        if confirmation is None and sentence.is_question:
            confirmation = _accepted_option(sentence, sentences)
        if confirmation is not None:
            candidates.append(confirmation)
            continue
        if _MEETING_ITSELF.search(lower):
            continue
        declined = _turned_down(sentence, sentences)
        if declined is not None:
            candidates.append(declined)
            continue
        if len(sentence.content) < 2:
            continue
        score = 0.0
        start = 0
        for pattern, weight in (
            (_DECIDED, 3.0),
            (_SETTLED, 3.0),
            (_AGREED_PLAN, 3.0),
            (_NOT_NOW, 3.0),
            (_NEXT_STEP, 2.0),
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
        if _settled_next(sentence, sentences):
            score += 3.0  # "Let's set the alert at eighty percent. Decided."
        if score == 0.0 and _PROPOSAL.search(lower) and _firmly_agreed(sentence, sentences):
            score = 2.0  # "Let's write them during the sprint." - "Agreed."
        if score == 0.0:
            continue
        agreed = agreement_after(sentences, sentence)
        if agreed and (
            _PROPOSAL.search(lower)
            or _CHOICE.search(lower)
            or _NEXT_STEP.search(lower)
            or sentence.is_question
        ):
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
        if CONDITIONAL.search(lower):
            score -= 0.75
        if _HYPOTHETICAL.search(lower):
            score -= 0.5
        if PAST.search(lower):
            score -= 1.0
        if re.search(r"\bi(?:'ll| will|'m going to)\b", lower) and not _CHOICE.search(lower):
            score -= 1.0
        substance = [w for w in sentence.content if not _DECISION_WORD.fullmatch(w)]
        if len(substance) < 3:
            score -= 0.5 if len(substance) == 2 else 2.0
        if sentence.position < 0.05:
            score -= 0.5
        text = statement_text(sentence.tidy, start)
        if len(words(text)) < 3:
            continue
        candidates.append(Candidate(score=score, sentence=sentence, text=text))
    return candidates


_MEETING_ITSELF = re.compile(
    r"\b(?:keep (?:this|it) (?:quick|short|brief)|let's (?:get started|start|begin|kick off|go round))"
)
SETTLED_WORD = re.compile(r"^(?:decided|agreed|settled|that's decided|that's settled)\W*$")


_FIRM_YES = re.compile(
    r"^(?:agreed|deal|sounds good|that works|works for me|fine by me|makes sense|"
    r"let's do (?:it|that))\b"
)


def _firmly_agreed(sentence: Sentence, sentences: Sequence[Sentence]) -> bool:
    """Someone else answers "Agreed." (not just "yeah", which mostly means "I hear you")."""
    for later in sentences[sentence.index + 1 : sentence.index + 3]:
        if later.speaker not in {None, sentence.speaker}:
            return _FIRM_YES.match(later.lower) is not None
    return False


def _settled_next(sentence: Sentence, sentences: Sequence[Sentence]) -> bool:
    following = sentences[sentence.index + 1 : sentence.index + 2]
    return bool(
        following
        and following[0].speaker == sentence.speaker
        and SETTLED_WORD.match(following[0].lower)
    )


def _turned_down(sentence: Sentence, sentences: Sequence[Sentence]) -> Candidate | None:
    """ "Should we do a hackathon?" - "No, let's not." -> "We will not do a hackathon." """
    proposal = _PROPOSAL_PUT.match(sentence.lower)
    if proposal is None:
        return None
    group = "option" if proposal.group("option") else "option2"
    # The option as said (names keep their capitals): sentence.lower is sentence.tidy lowered.
    option = sentence.tidy[proposal.start(group) : proposal.end(group)]
    option = re.sub(r"\s*,?\s*(?:ha|haha)\s*$", "", option)
    option_words = [w for w in words(option) if w.lower() not in STOPWORDS]
    if len(option_words) < 2 or _MEETING_TALK.search(option):
        return None
    replies = [
        s
        for s in sentences[sentence.index + 1 : sentence.index + 5]
        if s.speaker not in {None, sentence.speaker} and not is_backchannel(s.raw)
    ]
    # The first two answers: someone may weigh in before the chair says no.
    reply = next((s for s in replies[:2] if _TURNED_DOWN.match(s.lower)), None)
    if reply is None:
        return None
    instead_of = _LETS_NOT.search(reply.lower)
    if (
        instead_of
        and re.search(r"\b(?:it|that|this|them|those)\b", option.lower())
        and len([w for w in words(instead_of.group("x")) if w not in STOPWORDS]) >= 2
    ):
        # "No, let's not start mobile this quarter": the answer names it better than "it".
        option = reply.tidy[instead_of.start("x") : instead_of.end("x")]
    text = f"We will not {option[:1].lower()}{option[1:]}"
    instead = None
    for later in sentences[reply.index : reply.index + 2]:
        if later.turn != reply.turn or instead:
            break
        for found in _INSTEAD.finditer(later.lower):
            if not re.match(r"(?:not|doing that|do that)\b", found.group("alt")):
                instead = _ASIDE.sub("", later.tidy[found.start() : found.end("alt")])
                break
    if instead:
        instead = re.sub(
            r"^(?:we'll|we will|let's|we're going to)\s+", "we will ", instead, flags=re.I
        )
        text = f"{text}; {instead}"
    return Candidate(score=3.5, sentence=sentence, text=sentence_case(compress(text)))


def _accepted_option(sentence: Sentence, sentences: Sequence[Sentence]) -> Candidate | None:
    """ "Are we going for speech recognition?" - "Yeah." -> "We will go for speech recognition." """
    match = _OPTION_QUESTION.match(sentence.lower)
    if not match:
        return None
    agreed = agreement_after(sentences, sentence)
    option = compress(match.group("option")).rstrip(".?")
    if option.lower().startswith("to "):
        return None  # "Do we want to tell customers?" asks, it does not settle anything
    option_words = [w for w in words(option.lower()) if w not in STOPWORDS]
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
    return Candidate(
        score=score, sentence=sentence, text=sentence_case(f"We will {phrase} {option}")
    )


def _confirmation(
    sentence: Sentence,
    sentences: Sequence[Sentence],
    frequency: Counter[str],
    leader: str | None,
) -> Candidate | None:
    """The chair settling a point in a few words: "Okay, advanced chip." """
    if sentence.speaker != leader or sentence.is_question or sentence.position < 0.1:
        return None
    match = _CONFIRMATION.match(sentence.lower)
    if not match:
        return None
    phrase = match.group("np")
    content = [w for w in words(phrase.lower()) if w not in STOPWORDS]
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
    score = 2.0 + 0.5 * min(2, agreement_after(sentences, sentence)) + 0.25 * len(content)
    return Candidate(score=score, sentence=sentence, text=sentence_case(phrase))


_CLAUSE_START = re.compile(
    r"[,.;:?!]\s+|\s(?:so|but|because|cause|and then|I think|I believe)\s+", re.I
)


def statement_text(text: str, start: int) -> str:
    # Start at the clause that holds the decision, unless that cuts off its subject.
    boundaries = [m.end() for m in _CLAUSE_START.finditer(text[:start])]
    clause_start = boundaries[-1] if boundaries and start - boundaries[-1] < 60 else 0
    clause = clause_at(text, clause_start)
    substance = [
        w for w in re.findall(r"[a-z0-9][a-z0-9'-]*", clause.lower()) if w not in STOPWORDS
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
    return sentence_case(_shorten(base_verb_phrase(clause).rstrip("?")))


def _shorten(text: str, limit: int = MAX_ITEM_WORDS) -> str:
    """Long items end at the last comma before `limit` words (what follows is usually an aside)."""
    tokens = text.split()
    if len(tokens) <= limit:
        return text
    head = " ".join(tokens[:limit])
    cut = head.rfind(",")
    return head[:cut] if cut >= len(head) // 3 else text
