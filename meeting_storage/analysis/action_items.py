"""Action items: commitments and assignments of work, with an owner and a due date.

"I'll send the minutes", "as the designer you're going to work on the design", "can you
e-mail your slides?" answered by "yes", "I'll ask the marketing expert to ...", the chair
handing out work by role at the end, "Paula, please post the status update". A request and
its owner's answer are one item; a request its addressee hands on to someone else is not
theirs. Each is scored (wording, work verb, a time after the
meeting, place in the meeting, hedges, questions, negation) and rewritten in the third
person with its owner: "The Project Manager will type up the minutes ...".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from meeting_storage.analysis.decisions import SETTLED_WORD
from meeting_storage.analysis.participants import ROLE_HEADS, Participant, title_role
from meeting_storage.analysis.sentences import (
    AGREEMENT,
    CONDITIONAL,
    ING_TO_BASE,
    MIN_SENTENCES_FOR_PHASES,
    PROGRESSIVE,
    STOPWORDS,
    Candidate,
    Sentence,
    base_verb_phrase,
    clause_at,
    leader_of,
)
from meeting_storage.analysis.spoken_text import compress, is_backchannel, sentence_case, words

# A name: a capital (Latin-1 too: José, Émile, Zoë) then letters of any script.
_NAME = r"[A-Z\u00c0-\u00d6\u00d8-\u00de][^\W\d_]+"
TEAM = "the team"  # the subject of "we"/"let's" items and of the chair's closing instructions
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
    rf"(?P<who>{_ROLE_PHRASE}|{_NAME}|you(?:\s+all|\s+guys)?)\s+(?:if\s+(?:you|they|he|she)\s+could|to)\s+"
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
    rf"(?P<who>\b{_ROLE_PHRASE}(?:\s+and\s+{_ROLE_PHRASE})?|\b{_NAME}(?:\s+and\s+{_NAME})?)"
    rf"\s*(?:,\s*)?(?:{_MODAL_FUTURE}|'s going to|\s+is going to|{_OBLIGATION}|\s+can)\s+"
    rf"(?!you\b|we\b|i\b|they\b){_FILLERS_BEFORE_VERB}(?P<verb>[a-z][a-z-]*)",
    re.I,
)


_VOCATIVE = re.compile(
    rf"(?:^|,\s*|\b(?:and|as|for)\s+)(?:as\s+)?(?P<who>{_ROLE_PHRASE}|{_NAME}),\s*(?:you|can you|"
    r"could you|would you|will you|please|i need you|i'd like you|i want you)\b",
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
    r"[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?|(?:the )?end of (?:the )?(?:(?:next|this) )?(?:day|week|"
    r"month|sprint|quarter|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)|noon|eleven|"
    r"twelve|the (?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|"
    r"ninth|tenth|eleventh|twelfth|\w+teenth|twentieth|thirtieth|twenty-\w+|thirty-first))|"
    r"\b(next (?:meeting|week|month|sprint|"
    r"monday|tuesday|wednesday|thursday|friday)|tomorrow|today|tonight|right away|"
    r"this (?:morning|afternoon|evening|week|sprint|month)|in the next \w+ (?:minutes|hours|days)|"
    r"(?:end|beginning) of (?:the )?(?:day|week|month|sprint|quarter))\b",
    re.I,
)


_WORK_VERBS = frozenset(
    """send email e-mail mail prepare write type draft research investigate look find check
    review update contact call phone schedule organise organize book arrange work finish
    complete fix test build design figure bring share circulate distribute set follow
    report collect gather analyse analyze compare create develop implement deliver provide
    order buy put produce sort attach forward print upload download install deploy
    document summarise summarize sketch plan evaluate estimate measure confirm clarify
    explore read study prototype mock code continue investigate add switch post pull submit
    rebalance revert rerun upgrade pair invite brief publish migrate merge refactor
    reply file raise escalate announce notify inform ping chase handle onboard translate ship
    interview renew sign negotiate remove restart monitor profile hire include nominate
    rebaseline request cancel recover subscribe""".split()
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
    r"have a look|having a look|take care of|taking care of|work (?:on|out)|working (?:on|out)|"
    r"record (?:the|a|some|new)\b|run (?:the|a|an|our|some) (?!meeting|session|agenda)\w|"
    r"open (?:a|an|the) (?:\w+ )?(?:ticket|issue|bug|case|pull request|pr)\b|"
    r"start (?:on )?(?:the|a|an) (?!meeting|session|presentation|discussion|call)\w|"
    r"keep (?:a|the) (?:log|record|list|note|tally)\b)"
)
_PHRASAL_ANYWHERE = re.compile(r"\b" + _PHRASAL_WORK.pattern.removeprefix("^"))


# Telling, asking or showing someone outside the room is work: "I'll tell marketing".
_TO_OTHERS = re.compile(
    r"(?:tell|ask|show|talk to|give|(?:present|bring|take) \w+(?: \w+)? (?:to|at))\s+"
    r"(?!(?:you|us|me|everyone|everybody|all|them|him|her|it|that|this|the group|the team)\b)"
    r"(?:the\s+)?[a-z]"
)


# "I'll do it if we have time" hedges; "a check that fails the deploy if a flag is on" does not.
_HEDGE_IF = re.compile(
    r"\bif (?:we|i|you|they|there|it|time|needed|necessary|possible|we've|that's|so)\b|"
    r"\b(?:unless|otherwise|in case)\b"
)


# Work already done is news, not an action item: "I already talked to the product owner".
_ALREADY_DONE = re.compile(r"\b(?:i|we|they|he|she)(?:'ve| have)? already\b")


_NEGATED = re.compile(
    r"\b(?:won't|will not|not going to|don't need to|doesn't need to|can't|cannot|shouldn't|"
    r"never|no need)\b"
)


def _owner_label(name: str, participants: dict[str, Participant]) -> str:
    """A name or role said in the meeting, as the participant's label when we know them."""
    bare = re.sub(r"^(?:the|our)\s+", "", name.strip(), flags=re.I)
    for participant in participants.values():
        if participant.name and participant.name.lower() == bare.lower():
            return participant.label
    if re.search(rf"(?:{ROLE_HEADS})s?$", bare, re.I):
        return f"the {title_role(bare.lower())}"
    return bare


def _responder(
    sentences: Sequence[Sentence],
    sentence: Sentence,
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
        agrees = AGREEMENT.match(later.lower) or re.search(r"\bi(?:'ll| will| can)\b", later.lower)
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


_SUBJECTS = {
    "self": re.compile(rf"^i(?:{_MODAL_FUTURE}|{_OBLIGATION}|\s+can|'d better)\s+", re.I),
    "you": re.compile(rf"^you(?:\s+all|\s+guys|\s+two)?(?:{_MODAL_FUTURE}|{_OBLIGATION})\s+", re.I),
    "request": re.compile(
        r"^(?:(?:can|could|would|will)\s+you|if you could|if you would|would you mind|"
        r"i'd like you to|i want you to|you might want to|i'd ask you to|"
        r"i need you(?: guys| all| two| both)? to|i'd like you(?: guys| all| two)? to)"
        r"(?:\s+(?:please|also|just|maybe|perhaps))*\s+",
        re.I,
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
    clause = base_verb_phrase(compress(clause).rstrip("."))
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
    return sentence_case(base_verb_phrase(clause).rstrip("?"))


def _with_antecedent(clause: str, sentences: Sequence[Sentence], sentence: Sentence) -> str:
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


# Written notes: "Action: Bob to send the draft", "TODO: review the PRs", and the lines of an
# "Action items:" list ("1. Dave - update the roadmap").
_ACTION_HEADING = re.compile(
    r"^(?:action items?|actions|next steps|to-?dos?|follow[- ]ups?|tasks)\s*:?\s*$", re.I
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_ACTION_LABEL = re.compile(
    r"^\s*(?:[-*\u2022]|\d+[.)])?\s*(?:action(?: item)?|todo|to-?do|ai|task|follow[- ]up)s?\s*[:\-\u2013]\s*",
    re.I,
)
_NOTED_OWNER = re.compile(
    rf"^(?P<who>{_NAME}(?:\s+(?:and|&)\s+{_NAME})?)\s*(?:to\s+|[-\u2013:]\s*|will\s+)"
    r"(?P<task>[a-z].+)$"
)


def _noted_action(sentence: Sentence, in_action_list: bool) -> Candidate | None:
    """An action item written as a note, or None."""
    text = sentence.tidy
    label = _ACTION_LABEL.match(text)
    if label:
        text = text[label.end() :]
    elif in_action_list and _LIST_ITEM.match(text):
        text = _LIST_ITEM.sub("", text)
    else:
        text = _LIST_ITEM.sub("", text)
        named = _NOTED_OWNER.match(text)
        if not (named and text.split(" to ", 1)[0] == named.group("who")):
            return None
        if named.group("who").split()[0].lower() in STOPWORDS:
            return None  # "And to put the buttons ..." is speech, not a note
        verb = named.group("task").split()[0].lower()
        if verb not in _WORK_VERBS and not _PHRASAL_WORK.match(named.group("task").lower()):
            return None
    named = _NOTED_OWNER.match(text)
    owner = named.group("who") if named else None
    task = named.group("task") if named else text
    if len(words(task)) < 2:
        return None
    body = compress(task).rstrip(".")
    body = body[:1].lower() + body[1:]
    rendered = f"{owner} will {body}" if owner else body
    due = _DUE.search(sentence.tidy)
    return Candidate(
        score=4.5,
        sentence=sentence,
        text=sentence_case(rendered),
        owner=owner,
        due=(due.group(1) or due.group(2)) if due else None,
        explicit=True,
    )


def action_candidates(
    sentences: Sequence[Sentence], participants: dict[str, Participant]
) -> list[Candidate]:
    leader = leader_of(sentences, participants)
    # Words the meeting also uses in lower case are ordinary words, not names.
    common_words = {w for s in sentences for w in words(s.tidy) if w.islower()}
    candidates: list[Candidate] = []
    kinds: dict[int, str] = {}  # candidate position -> how it was worded
    in_action_list = False
    for sentence in sentences:
        lower = sentence.lower
        if _ACTION_HEADING.match(lower):
            in_action_list = True
            continue
        in_action_list = in_action_list and _LIST_ITEM.match(sentence.raw) is not None
        noted = _noted_action(sentence, in_action_list)
        if noted is not None:
            candidates.append(noted)
            continue
        if len(sentence.content) < 2 and not _PHRASAL_ANYWHERE.search(lower):
            continue  # too little said, unless it is "I'll look into it"
        wording = _action_wording(sentence, sentences, participants, leader, common_words)
        if wording is None:
            continue
        following = sentences[sentence.index + 1 : sentence.index + 2]
        if (
            wording.kind in {"lets", "we"}
            and following
            and following[0].speaker == sentence.speaker
            and SETTLED_WORD.match(following[0].lower)
        ):
            continue  # "Let's set the alert at eighty percent. Decided." is a decision
        clause_lower = clause_at(lower, wording.start)
        clause = sentence.tidy[wording.start : wording.start + len(clause_lower)]
        after_verb = clause_lower[clause_lower.find(wording.verb) :]
        verb = wording.verb
        progressive = PROGRESSIVE.match(re.sub(r"\b(?:just|really|also)\s+", "", after_verb))
        if progressive:
            verb = ING_TO_BASE.get(progressive.group("verb"), verb)
            after_verb = after_verb[progressive.end("verb") - len(progressive.group("verb")) :]
        score = wording.base
        work = _PHRASAL_WORK.match(after_verb) is not None or verb in _WORK_VERBS
        # "Can you get Priya access?" asks for work; "you'll get a message" does not.
        work = work or (verb == "get" and wording.kind in {"request", "please"})
        if work:
            score += 1.0
        elif verb in _IN_MEETING_VERBS and not _TO_OTHERS.match(after_verb):
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
        answering = wording.kind == "self" and _answers_someone(sentences, sentence)
        if answering:
            score += 1.0  # "Sure, I'll take that": a commitment someone asked for
        elif sentence.position < 0.1:
            score -= 1.0
        if CONDITIONAL.search(lower[: wording.start]) or _HEDGE_IF.search(clause_lower):
            score -= 1.0
        if _NEGATED.search(clause_lower) or _ALREADY_DONE.search(lower):
            score -= 3.0
        if re.search(r"\b(?:maybe|might|perhaps|i don't know|not sure|i'm sure)\b", lower):
            score -= 0.5
        if re.search(r"\b(?:i'll|i will) just\b", lower):
            score -= 0.5
        if wording.kind != "request" and sentence.is_question:
            score -= 2.0
        phrasal = _PHRASAL_WORK.match(after_verb) is not None
        if len([w for w in words(clause_lower) if w not in STOPWORDS]) < 2 and not phrasal:
            score -= 1.0  # "I'll do it": nothing said about the work ("I'll look into it" is)
        if len(clause_lower.split()) > 30:
            score -= 0.5
        if re.match(
            r"(?:get|receive|be sent|be given|be told|hear|hearing)\b(?! back to| in touch)",
            after_verb,
        ) and wording.kind not in {"request", "please"}:
            score -= 2.0  # "we'll get the results": work that others do
        clause = _with_antecedent(clause, sentences, sentence)
        if wording.task is not None:
            task = compress(clause_at(wording.task, 0)).rstrip(".")
            text = sentence_case(f"{wording.owner} will work on {task[:1].lower()}{task[1:]}")
        else:
            text = _action_text(clause, wording.owner, wording.kind)
        if len(words(text)) < 3:
            continue
        due = _DUE.search(sentence.tidy)
        kinds[len(candidates)] = wording.kind
        candidates.append(
            Candidate(
                score=score,
                sentence=sentence,
                text=text,
                # "The team will ..." reads well, but names no one to follow up with.
                owner=None if wording.owner == TEAM else _capitalise_owner(wording.owner),
                due=(due.group(1) or due.group(2)) if due else None,
                committed=work
                and wording.owner not in {None, TEAM}
                and _names_the_work(after_verb),
            )
        )
    return _settle_exchanges(sentences, candidates, kinds)


_ASKED_KINDS = frozenset({"request", "you", "please"})
_ACCEPTS = re.compile(r"^(?:on it|will do|i'll take (?:that|it)|i can do that|happy to)\b")
_DECLINES = re.compile(
    r"^(?:no\b|nope\b|sorry\b)|\b(?:i'm swamped|i'm out|i'm off|i'm too busy|i can't|i cannot|"
    r"not me|that's a lot|(?:can|could) (?!you\b|i\b|we\b)\w+ (?:do|take|handle) (?:it|that))"
)
_ASKING = re.compile(r"\b(?:can|could|would|will) you\b|\bplease\b|\bneed you\b|\byou'll\b")
_DOES_IT = re.compile(
    r"\bi(?:'ll| will| can)\s+(?:\w+\s+){0,2}?(?:it|that|this|those|them)\b(?!\s+(?:to|for|with)\b)"
)
_VAGUE_OBJECT = re.compile(r"\b(?:that|it|this|those|them)\b")


def _names_the_work(after_verb: str) -> bool:
    """ "fix the flaky checkout test" names the work; "write all this down" does not."""
    rest = after_verb.split(maxsplit=1)[1] if " " in after_verb else ""
    if re.match(
        r"(?:up\s+|out\s+|on\s+|into\s+|together\s+)?(?:all\s+)?(?:this|that|it|"
        r"these|those|them|we|we've|you|nothing|something|anything)\b",
        rest,
    ):
        return False
    return len([w for w in words(rest) if w.lower() not in STOPWORDS]) >= 2


def _answers_someone(sentences: Sequence[Sentence], sentence: Sentence) -> bool:
    """The sentence's turn opens with a yes to what someone else just said."""
    first = sentence
    while first.index > 0 and sentences[first.index - 1].turn == sentence.turn:
        first = sentences[first.index - 1]
    if first.index == 0 or sentences[first.index - 1].speaker in {None, sentence.speaker}:
        return False
    if not (AGREEMENT.match(first.lower) or _ACCEPTS.match(first.lower)):
        return False
    # ... and what they said was put to this speaker: a request, or their name.
    asked = _turn_text(sentences, sentences[first.index - 1])
    name = (sentence.speaker or "").lower()
    return bool(_ASKING.search(asked)) or bool(name and re.search(rf"\b{re.escape(name)}\b", asked))


def _turn_text(sentences: Sequence[Sentence], sentence: Sentence) -> str:
    return " ".join(s.lower for s in sentences if s.turn == sentence.turn)


def _settle_exchanges(
    sentences: Sequence[Sentence], candidates: list[Candidate], kinds: dict[int, str]
) -> list[Candidate]:
    """One item per exchange: a request ("Kim, could you do the pipeline?") and its owner's
    answer ("Sure, I'll fix the deploy pipeline retries") are one piece of work; a request
    its addressee turns down ("I'm swamped, can Noah do it?") is no one's work."""
    dropped: set[int] = set()
    for r, asked in enumerate(candidates):
        if kinds.get(r) not in _ASKED_KINDS or asked.owner is None or r in dropped:
            continue
        later = [
            s
            for s in sentences[asked.sentence.index + 1 : asked.sentence.index + 5]
            if s.speaker is not None and s.speaker != asked.sentence.speaker
        ]
        reply = later[0] if later else None
        answers = [
            c
            for c, answer in enumerate(candidates)
            if c != r
            and c not in dropped
            and kinds.get(c) == "self"
            and answer.owner == asked.owner
            and 0 < answer.sentence.index - asked.sentence.index <= 4
        ]
        if not answers:
            if reply is not None and _DECLINES.search(_turn_text(sentences, reply)):
                dropped.add(r)
            continue
        c = answers[0]
        answer = candidates[c]
        owner_words = {w.lower() for w in words(answer.owner or "")}
        said = answer.tokens - owner_words
        vague = (
            len(said) <= 2
            or _VAGUE_OBJECT.search(" ".join(answer.text.split()[-3:]).lower())
            or _DOES_IT.search(answer.sentence.lower)
        )
        keep, drop = (r, c) if vague or len(asked.tokens) > len(answer.tokens) + 1 else (c, r)
        candidates[keep].score = max(asked.score, answer.score) + 0.5
        candidates[keep].due = candidates[keep].due or candidates[drop].due
        dropped.add(drop)
    return [c for i, c in enumerate(candidates) if i not in dropped]


def _capitalise_owner(owner: str | None) -> str | None:
    if owner is None:
        return None
    bare = re.sub(r"^the\s+", "", owner)
    return " ".join(w if w[:1].isupper() else w.capitalize() for w in bare.split())


def _action_wording(
    sentence: Sentence,
    sentences: Sequence[Sentence],
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
            and first not in STOPWORDS | _NOT_OWNERS
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
            # Unanswered, a request is not yet anyone's work.
            "request",
            request.start(),
            request.group("verb"),
            owner,
            2.5 if owner else 0.0,
        )
    wrapping_up = sentence.speaker == leader and sentence.position >= 0.85
    lets = _LETS.search(lower) if wrapping_up or _TIME_CUE.search(lower) else None
    if lets and (
        lets.group("verb") in _WORK_VERBS or _PHRASAL_WORK.match(lower[lets.start("verb") :])
    ):
        return _ActionWording("lets", lets.start(), lets.group("verb"), TEAM, 1.5)
    if sentence.speaker == leader and sentence.position >= 0.75:
        assignment = _ROLE_TASK.search(sentence.tidy)
        if assignment:
            owner = _owner_label(assignment.group("who"), participants)
            return _ActionWording(
                "role_task", assignment.start(), "work", owner, 2.0, assignment.group("task")
            )
    please = _PLEASE.search(lower)
    if please:
        # "Paula, please post a status update": the person named is the owner.
        vocative = _VOCATIVE.search(sentence.tidy[: please.start() + 8])
        owner = _owner_label(vocative.group("who"), participants) if vocative else None
        return _ActionWording(
            "please", please.start(), please.group("verb"), owner, 2.5 if owner else 1.5
        )
    we = _WE.search(lower)
    if we:
        # In a few lines of notes "we need to follow up with legal" is a to-do; in a
        # conversation "we need to ..." is mostly thinking aloud.
        obliged = re.match(rf"we{_OBLIGATION}", lower[we.start() :]) is not None
        base = 2.0 if obliged and len(sentences) < MIN_SENTENCES_FOR_PHASES else 1.0
        return _ActionWording("we", we.start(), we.group("verb"), TEAM, base)
    if sentence.speaker == leader and sentence.position >= 0.75 and not sentence.is_question:
        stripped = compress(sentence.tidy).lower()
        imperative = _IMPERATIVE.match(stripped)
        if imperative and imperative.group("verb") in _WORK_VERBS | {"check", "look"}:
            start = sentence.lower.find(imperative.group("verb"))
            if start >= 0:
                return _ActionWording("imperative", start, imperative.group("verb"), TEAM, 1.5)
    return None
