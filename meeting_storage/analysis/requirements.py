"""Requirements: what the product must, should or could do, with a MoSCoW priority.

The priority comes from the wording: must/has to/needs to/required -> MUST,
should/important/want -> SHOULD, could/nice to have/optional -> COULD.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from meeting_storage.analysis.decisions import statement_text
from meeting_storage.analysis.sentences import CONDITIONAL, PAST, Candidate, Sentence
from meeting_storage.analysis.spoken_text import words

_REQUIREMENT_PRIORITY = (
    ("MUST", re.compile(r"\b(?:must|has to|have to|needs? to|required|requires?|requirement|shall|essential|necessary|mandatory|critical|can't|cannot|should not|shouldn't)\b")),
    ("SHOULD", re.compile(r"\b(?:should|ought to|important|expected to|prefer|preferably|want|wants|like it to|would like|'d like)\b")),
    ("COULD", re.compile(r"\b(?:could|might|nice to have|would be nice|would be good|would be cool|optional|may|maybe|perhaps|possibly|bonus|extra)\b")),
)  # fmt: skip


_PRODUCT_SUBJECT = re.compile(
    r"\b(?:it|the (?!meeting|time|question)[a-z-]+|this|system|app|application|product|device|"
    r"feature|interface|design|users?|customers?|people|buttons?|screen|battery|case|price|cost)\b"
)


_PERSONAL = re.compile(r"\bi(?:'ll| will|'m going to| have to| need to)\b")
_SUBJECT_MODAL = re.compile(
    r"\b(?:it|the [a-z-]+(?: [a-z-]+)?|system|product|device|app)\s+(?:must|should|has to|"
    r"needs to|could|shall|ought to|cannot|can't|would be nice|would be good)\b"
)
_USERS_WANT = re.compile(
    r"\b(?:users?|customers?|people|they)\s+(?:want|need|prefer|like|expect)\b"
)


def requirement_candidates(sentences: Sequence[Sentence], used: set[int]) -> list[Candidate]:
    candidates: list[Candidate] = []
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
        if _PERSONAL.search(lower):
            continue  # "I have to ..." is about the speaker, not the product
        score = 1.5
        topical = sorted((frequent[w] for w in set(sentence.content)), reverse=True)[:3]
        score += min(1.5, sum(math.log(1 + f) for f in topical) / 6)
        if _SUBJECT_MODAL.search(lower):
            score += 1.0
        if _USERS_WANT.search(lower):
            score += 0.5
        if PAST.search(lower) or CONDITIONAL.search(lower):
            score -= 0.75
        if len(sentence.content) > 20:
            score -= 0.5
        text = statement_text(sentence.tidy, match.start())
        if len(words(text)) < 4:
            continue
        candidates.append(Candidate(score=score, sentence=sentence, text=text, priority=priority))
    return candidates
