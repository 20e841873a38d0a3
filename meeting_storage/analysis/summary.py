"""The summary: the few sentences most central to the meeting, in meeting order."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from meeting_storage.analysis.sentences import Sentence, overlap
from meeting_storage.analysis.spoken_text import compress

SUMMARY_SENTENCES = 3  # for a meeting under half an hour; one more at 30 and at 60 minutes
_FRAMING = re.compile(
    r"\b(?:this is the|(?:this|today's|the) meeting|we're here|we are here|the purpose|the aim|"
    r"the goal|agenda|we're designing|we are designing|project is|we need to discuss)\b"
)


def summarise(sentences: Sequence[Sentence], hours: float) -> str:
    """The few sentences that share most content words with the rest of the meeting."""
    usable = [s for s in sentences if len(set(s.content)) >= 5 and not s.is_question]
    if not usable:
        usable = [s for s in sentences if s.content]
    if not usable:
        return ""
    frequency = Counter(w for s in usable for w in set(s.content))
    count = SUMMARY_SENTENCES + (hours >= 0.5) + (hours >= 1.0)

    def centrality(sentence: Sentence) -> float:
        distinct = set(sentence.content)
        weight = sum(math.log(1 + frequency[w]) for w in distinct if frequency[w] > 1)
        weight /= math.sqrt(max(12, len(sentence.raw.split())))
        if sentence.position < 0.2 and _FRAMING.search(sentence.lower):
            weight *= 1.5
        if re.search(r"\b(?:i|my|me)\b", sentence.lower) and not _FRAMING.search(sentence.lower):
            weight *= 0.8
        return weight

    ranked = sorted(usable, key=centrality, reverse=True)[: max(30, count * 6)]
    chosen: list[Sentence] = []
    for sentence in ranked:
        tokens = set(sentence.content)
        if any(overlap(tokens, set(other.content)) >= 0.5 for other in chosen):
            continue
        chosen.append(sentence)
        if len(chosen) == count:
            break
    return " ".join(compress(s.tidy) for s in sorted(chosen, key=lambda s: s.index))
