"""Who is who: names and roles that speakers give when they introduce themselves.

"I'm Laura and I'm the project manager", "My name is Iain", "I'll be the Project Manager",
"I'm supposed to be an industrial designer". Action items are then owned by "the project
manager" or "Laura" instead of "Speaker B". Pure functions over sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# The last word of a job title: "user interface designer", "product owner", "scrum master".
ROLE_HEADS = (
    "manager|designer|engineer|developer|expert|executive|lead|leader|owner|analyst|architect|"
    "director|officer|coordinator|co-ordinator|consultant|researcher|scientist|tester|specialist|"
    "administrator|admin|secretary|chair|chairman|chairwoman|chairperson|facilitator|master|"
    "intern|marketer|writer|editor|assistant|president|ceo|cto|cfo|coo|pm|qa|representative|"
    "rep|advisor|adviser|strategist|planner|producer|accountant|lawyer|counsel|head|supervisor|"
    "technician|programmer|scrum master|note-taker|notetaker|minute-taker|moderator|host"
)
_NOT_IN_ROLE = (
    r"the|a|an|and|so|sure|not|also|just|really|going|glad|happy|here|now|very|still|in|on|of|"
    r"for|to|with|at|i|you|we|it|is|be|that|this|my|your|our|um|uh|like|kind|sort"
)
_ROLE = rf"((?:(?!(?:{_NOT_IN_ROLE})\b)[A-Za-z-]+\s+){{0,3}}?(?:{ROLE_HEADS}))\b"
_ROLE_INTRO = re.compile(
    r"\b(?:i'm|i am|i'll be|i will be|i've been|my role is|my job is|i work as|i act as|"
    r"i'm supposed to be|i am supposed to be|i'm going to be|i'm here as|i'm acting as|"
    r"as)\s+(?:uh\s+|um\s+)*(?:(?:the|a|an|your|our|this)\s+)?(?:uh\s+|um\s+)*" + _ROLE,
    re.I,
)
_NAME_INTRO = re.compile(
    r"\b(?i:my name is|my name's|i'm called|call me|this is|i am|i'm)\s+"
    r"([A-Z\u00c0-\u00d6\u00d8-\u00de][^\W\d_'\-]*[^\W\d_](?:\s+[A-Z\u00c0-\u00d6\u00d8-\u00de][^\W\d_'\-]+)?)"
    r"(?=\s*(?:[,.!?]|$|and\b|from\b|here\b))"
)
_NOT_NAMES = frozenset(
    """I Im Okay Ok Sure Sorry Not Just Glad Happy Fine Good Here Going Gonna Looking Done
    Yes No Really Also The A An In On At From With Project User Marketing Industrial
    Interface Designer Manager Expert Supposed Very So And But Afraid Thinking Trying Still
    Back Well Right Quite Pretty Kind Sort Actually Basically Responsible Working Yeah Yep
    Alright Great Cool Hi Hello Thanks Thank Um Uh Mm Oh Speaker Everyone Everybody All
    Ready Sorry Finished Through Over Afraid Interested Curious Late Busy Free Open""".split()
)
_ARTICLE = re.compile(r"^(?:the|a|an|our|your|this)\s+", re.I)
_NOT_ROLE_WORDS = frozenset({"good", "bad", "big", "real", "great", "little", "project's"})


@dataclass(frozen=True)
class Participant:
    speaker: str
    name: str | None = None
    role: str | None = None

    @property
    def label(self) -> str:
        """How to refer to them: the role when they gave one, else their name, else the label."""
        if self.role:
            return f"the {title_role(self.role)}"
        return self.name or self.speaker

    @property
    def description(self) -> str:
        details = [d for d in (self.name, title_role(self.role) if self.role else None) if d]
        return f"{self.speaker} ({', '.join(details)})" if details else self.speaker


def title_role(role: str) -> str:
    return " ".join(
        w.upper()
        if w in {"ceo", "cto", "cfo", "coo", "pm", "qa", "ux", "ui", "hr", "vp"}
        else w.title()
        for w in role.split()
    )


def normalise_role(raw: str) -> str | None:
    words = [w for w in _ARTICLE.sub("", raw.strip()).lower().split() if w not in {"uh", "um"}]
    while words and words[0] in _NOT_ROLE_WORDS:
        words = words[1:]
    if not words:
        return None
    return " ".join(words)


def find_participants(sentences: Iterable[tuple[str | None, str]]) -> dict[str, Participant]:
    """Participants by speaker label, from (speaker, sentence) pairs in meeting order."""
    names: dict[str, str] = {}
    roles: dict[str, str] = {}
    order: list[str] = []
    for speaker, sentence in sentences:
        if not speaker:
            continue
        if speaker not in order:
            order.append(speaker)
        if speaker not in roles:
            for match in _ROLE_INTRO.finditer(sentence):
                # "as the designer, you ..." talks about someone else.
                if match.group(0).lower().startswith("as "):
                    before = sentence[: match.start()].lower()[-60:]
                    rest = sentence[match.end() : match.end() + 40].lower()
                    about_self = re.search(r"\b(?:i|i'm|i'll|i've|my|me)\b", before) or re.match(
                        r"^,?\s*(?:i|i'll|i'm|i will|my|me)\b", rest
                    )
                    if not about_self:
                        continue  # "as the designer, you ..." is about someone else
                role = normalise_role(match.group(1))
                if role:
                    roles[speaker] = role
                    break
        if speaker not in names:
            for match in _NAME_INTRO.finditer(sentence):
                candidate = match.group(1)
                first = candidate.split()[0]
                if first in _NOT_NAMES or first.lower() in ROLE_HEADS.split("|"):
                    continue
                names[speaker] = candidate.split()[0] if " " in candidate else candidate
                break
    return {
        speaker: Participant(speaker, names.get(speaker), roles.get(speaker)) for speaker in order
    }
