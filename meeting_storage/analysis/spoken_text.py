"""Spoken language made readable: fillers, repeats, false starts, spoken numbers, sentences.

Pure functions over strings. `tidy` keeps the meaning of a sentence and drops what only
speech has ("um", "you know", "our our", "des design"); `compress` goes further for list
items (hedges, leading "so/okay/well", "gonna" -> "going to").
"""

from __future__ import annotations

import re

_FILLER = re.compile(
    r"(?:,\s*(?=(?:u+m+|u+h+|e+r+|a+h+|h+m+|m+h?m+)[,.]))?"  # "by, uh, Friday" -> "by Friday"
    r"(?:(?<=\s)|^)(?:u+m+|u+h+m*|e+r+m+|e+r+|a+h+|e+h+|h+m+|m+h?m+|mm-hmm|mm-hm|uh-huh|uh-uh|"
    r"mhm|hm+|ehm|ah+a?|oh+)(?:[,.]|(?=\s)|$)",
    re.I,
)
_PARENTHETICAL = re.compile(
    r"(?:,\s*|(?<=\s)|^)(?:you know|i mean|you see|sort of|kind of|kinda|like|"
    r"let's see|i dunno|whatever)(?:,\s*|(?=\s+(?:you know|i mean|um|uh)\b))",
    re.I,
)
_HEDGE = re.compile(
    r"\b(?:you know|i mean|sort of|kind of|kinda|basically|actually|really|just|pretty much|"
    r"literally|probably|obviously|definitely|perhaps|maybe|i guess|i think|i suppose|i believe|"
    r"i reckon|i'd say|as it were|or something|or whatever|and stuff|and so on|etcetera|etc)\b,?",
    re.I,
)
_LEADING = re.compile(
    r"^(?:(?:so|okay|ok|'kay|kay|right|well|alright|all right|and|but|yeah|yes|yep|oh|now|"
    r"anyway|um|uh|hmm|mm|then|also|plus|great|good|cool|fine|sure|no(?=\s*[,.!])|because|'cause|cause)"
    r"\b[,.!]?\s*)+",
    re.I,
)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_REPEAT = re.compile(
    r"\b(\w+(?:'\w+)?(?:\s+\w+(?:'\w+)?){0,2})(?:\s*[,\u2014\u2013-]?\s+\1\b)+", re.I
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?;:])")
_DOUBLE_PUNCT = re.compile(r"([,;:])\s*(?=[,.!?;:])|^[,;:.\s]+")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_CONTRACTIONS = [
    (re.compile(r"\bgonna\b", re.I), "going to"),
    (re.compile(r"\bwanna\b", re.I), "want to"),
    (re.compile(r"\bgotta\b", re.I), "have to"),
    (re.compile(r"\bdunno\b", re.I), "don't know"),
    (re.compile(r"\bcoulda\b", re.I), "could have"),
    (re.compile(r"\bwoulda\b", re.I), "would have"),
    (re.compile(r"\bshoulda\b", re.I), "should have"),
    (re.compile(r"(?<![\w'])'kay\b", re.I), "okay"),
    (re.compile(r"(?<![\w'])'cause\b", re.I), "because"),
    (re.compile(r"\bcos\b", re.I), "because"),
]

# ---------------------------------------------------------------------- numbers

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1000}
_BIG = ("million", "billion")
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, *_SCALES, "and", "a"])
_NUMBER_RUN = re.compile(rf"\b(?:(?:{_NUMBER_WORD})[\s-]+)*(?:{_NUMBER_WORD})\b", re.I)
_CURRENCY = r"(?:euros?|dollars?|pounds?|pence|cents?|bucks|francs?|yen|kroner?|rupees?)"
_PRICE = re.compile(rf"\b(\d{{1,3}}) (\d{{2}}) ({_CURRENCY})\b", re.I)


def _number_value(words: list[str]) -> int | None:
    total, current, seen = 0, 0, False
    for word in words:
        if word in {"and", "a"}:
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] == 1000:
                total, current = total + current, 0
        else:
            return None
        seen = True
    return total + current if seen else None


def _spell_out_run(match: re.Match[str]) -> str:
    text = match.group(0)
    words = [w.lower() for w in re.split(r"[\s-]+", text)]
    # Leading "a"/"and" belong to the sentence, not to the number.
    prefix: list[str] = []
    while words and words[0] in {"a", "and"}:
        prefix.append(text.split()[len(prefix)])
        words = words[1:]
    suffix: list[str] = []
    while words and words[-1] in {"a", "and"}:
        suffix.insert(0, words.pop())
    if not words:
        return text
    # Two separate numbers spoken in a row ("twelve fifty") stay two groups: a price or a year.
    groups: list[list[str]] = [[]]
    for word in words:
        group = groups[-1]
        if group and _starts_new_number(group, word):
            groups.append([word])
        else:
            group.append(word)
    values = [_number_value(group) for group in groups]
    if any(v is None for v in values):
        return text
    single_small = len(words) == 1 and (_UNITS.get(words[0], 99) < 10)
    if single_small:  # "one remote", "two people" read better as words
        return text
    rendered = " ".join(str(v) for v in values)
    return " ".join([*prefix, rendered, *suffix])


def _starts_new_number(group: list[str], word: str) -> bool:
    last = group[-1]
    if word in _SCALES or word in {"and", "a"}:
        return False
    if last in _TENS and word in _UNITS and _UNITS[word] < 10:
        return False  # twenty five
    # "hundred and five" goes on; "twelve fifty" and "five six" are two numbers.
    return not (last in _SCALES or last in {"and", "a"})


def spoken_numbers_to_digits(text: str) -> str:
    """ "twenty five Euro" -> "25 Euro", "twelve fifty Euros" -> "12.50 Euros"."""
    text = _NUMBER_RUN.sub(_spell_out_run, text)
    return _PRICE.sub(r"\1.\2 \3", text)


# ---------------------------------------------------------------------- tidying


def _drop_false_starts(text: str) -> str:
    """ "des design", "ro remote", "wor- work", "l remember": cut-off words."""
    words = text.split(" ")
    kept: list[str] = []
    for i, word in enumerate(words):
        lone_letter = len(word) == 1 and word.isalpha() and word.lower() not in {"a", "i"}
        if lone_letter and i + 1 < len(words):
            continue  # a lone letter before more words is a word that was cut off
        nxt = words[i + 1].lower().strip(",.") if i + 1 < len(words) else ""
        bare = word.lower().rstrip("-")
        if (
            nxt
            and bare
            and len(bare) < len(nxt)
            and (word.endswith("-") or len(bare) <= 4 or len(nxt) - len(bare) >= 2)
            and nxt.startswith(bare)
            and bare not in {"a", "i", "in", "on", "to", "the", "an", "at", "it", "is", "be", "we"}
        ):
            continue
        kept.append(word)
    return " ".join(kept)


def _squash(text: str) -> str:
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _DOUBLE_PUNCT.sub("", text)
    return _SPACES.sub(" ", text).strip(" ,;:")


_SPELLED = re.compile(r"\b(?:[A-Za-z]_){2,}")


def tidy(text: str) -> str:
    """The sentence without fillers, stutters and false starts; words otherwise kept."""
    text = _SPELLED.sub(lambda m: m.group(0).replace("_", ""), text)  # "D_V_D_" -> "DVD"
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _FILLER.sub(" ", text)
    text = _PARENTHETICAL.sub(" ", text)
    text = _squash(text)
    text = _drop_false_starts(text)
    previous = None
    while previous != text:
        previous = text
        text = _REPEAT.sub(r"\1", text)
    text = spoken_numbers_to_digits(text)
    return _squash(text)


def compress(text: str) -> str:
    """A short list item: tidy, then no hedges or leading discourse markers; capitalised."""
    text = _BULLET.sub("", tidy(text))
    text = _HEDGE.sub(" ", text)
    text = _squash(text)
    text = _LEADING.sub("", text)
    text = _squash(text)
    return sentence_case(text)


def sentence_case(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    text = re.sub(r"\bi\b", "I", text)
    if text[-1] not in ".!?":
        text = text.rstrip(",;:-") + "."
    return text


def split_sentences(text: str, max_words: int = 60) -> list[str]:
    """Sentences of a turn; very long unpunctuated stretches are cut at commas."""
    sentences: list[str] = []
    pieces = _SENTENCE_SPLIT.split(text)
    if len(pieces) > 1 and re.fullmatch(r"\d+[.)]", pieces[0].strip()):
        pieces[:2] = [f"{pieces[0]} {pieces[1]}"]  # "1. Dave - update the roadmap" is one item
    for sentence in pieces:
        sentence = sentence.strip()
        if not sentence:
            continue
        words = sentence.split()
        if len(words) <= max_words:
            sentences.append(sentence)
            continue
        chunk: list[str] = []
        for word in words:
            chunk.append(word)
            if (len(chunk) >= max_words // 2 and word.endswith(",")) or len(chunk) >= max_words:
                sentences.append(" ".join(chunk))
                chunk = []
        if chunk:
            sentences.append(" ".join(chunk))
    return sentences


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def is_backchannel(text: str) -> bool:
    """ "Yeah.", "Mm-hmm.", "Okay, right." - feedback, not content."""
    tokens = [w.lower().strip("'") for w in words(text)]
    return len(tokens) <= 4 and all(t in _BACKCHANNEL_WORDS for t in tokens)


_BACKCHANNEL_WORDS = frozenset(
    """yeah yes yep yup no nope okay ok kay right alright sure mm hmm mmm mm-hmm uh-huh um uh
    cool great good fine oh ah aha wow really true exactly absolutely indeed so well and
    thanks thank you nice lovely excellent perfect hm mhm huh uh-uh ooh oops god""".split()
)
