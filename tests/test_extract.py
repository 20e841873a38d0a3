"""Rule-based extraction (a pure function of the text) and transcript decoding."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

import pytest

from meeting_storage import InvalidInputError
from meeting_storage.analysis import (
    RuleBasedExtractor,
    decode_transcript,
    parse_transcript,
    requirements_to_json,
)
from meeting_storage.analysis.summary import SUMMARY_SENTENCES
from meeting_storage.analysis.transcript import MAX_TRANSCRIPT_BYTES, normalise_text
from tests.conftest import SAMPLE_TRANSCRIPT


@dataclass(frozen=True)
class Extracted:
    """An extraction as summary.json and requirements.json hold it."""

    method: str
    bedrock_used: bool
    summary: dict[str, Any]
    requirements: list[dict[str, Any]]
    action_items: list[dict[str, Any]]


def extract(text: str) -> Extracted:
    result = RuleBasedExtractor().extract(parse_transcript(text))
    return Extracted(
        method=result.method,
        bedrock_used=result.bedrock_used,
        summary=result.summary.to_json(),
        requirements=requirements_to_json(result.requirements),
        action_items=[item.to_json() for item in result.action_items],
    )


def item_with(items: list[dict[str, object]], fragment: str) -> dict[str, object]:
    found = [item for item in items if fragment in str(item["text"])]
    assert len(found) == 1, (fragment, items)
    return found[0]


def sentences_of(text: str) -> list[str]:
    """The sentences of a transcript, without speaker labels."""
    result = []
    for line in text.splitlines():
        body = re.sub(r"^\s*[^\W\d_][\w .'-]{0,40}?\s*:\s+", "", line.strip())
        result += [s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if s.strip()]
    return result


# ---------------------------------------------------------------- action items


def test_action_item_with_speaker_as_owner_and_a_due_day() -> None:
    result = extract("Carol: I will send the budget by Friday.")
    item = item_with(result.action_items, "send the budget")
    assert item["owner"] == "Carol"
    assert item["due"] == "Friday"
    # The text names the owner instead of "I" (and never carries the speaker label).
    assert item["text"] == "Carol will send the budget by Friday."


def test_action_item_with_named_owner_and_relative_due_date() -> None:
    result = extract("Dave will prepare the demo by next week")
    item = item_with(result.action_items, "prepare the demo")
    assert item["owner"] == "Dave"
    assert item["due"] == "next week"


def test_action_item_owner_named_by_someone_else() -> None:
    result = extract("Alice: Dave will prepare the prototype demo by next week.")
    assert item_with(result.action_items, "prototype")["owner"] == "Dave"


@pytest.mark.parametrize(
    ("text", "owner", "due"),
    [
        ("Bob: I'll update the roadmap before Monday.", "Bob", "Monday"),
        ("Erin: I will file the report by end of the month.", "Erin", "end of the month"),
        ("Frank: I will book the room by 2026-03-01.", "Frank", "2026-03-01"),
        ("Gina: We need to follow up with legal about the contract.", None, None),
        ("José will send the slides by Friday.", "José", "Friday"),
        ("Émile: I will review the draft by tomorrow.", "Émile", "tomorrow"),
    ],
)
def test_action_item_owners_and_dates(text: str, owner: str | None, due: str | None) -> None:
    items = extract(text).action_items
    assert len(items) == 1, items
    assert items[0]["owner"] == owner
    assert items[0]["due"] == due


def test_questions_and_plain_statements_are_not_action_items() -> None:
    result = extract(
        "Alice: Will you send the notes by Friday?\n"
        "Bob: The weather was lovely this weekend at the lake.\n"
    )
    assert result.action_items == []


# ---------------------------------------------------------------- decisions


def test_decisions() -> None:
    result = extract(
        "Alice: We decided to use rechargeable batteries instead.\n"
        "Bob: After a long discussion we agreed on a March launch date.\n"
        "Carol: Lunch was good and the coffee machine is fixed now.\n"
    )
    # Ranked by confidence, each with who said it.
    decisions = {d["text"]: d["speaker"] for d in result.summary["decisions"]}
    assert decisions == {
        "We decided to use rechargeable batteries instead.": "Alice",
        "After a long discussion we agreed on a March launch date.": "Bob",
    }
    # A decision is not also counted as an action item.
    assert all("decided" not in item["text"] for item in result.action_items)


# ---------------------------------------------------------------- requirements


def test_requirements_get_moscow_priorities() -> None:
    result = extract(
        "Bob: The app must work offline on every supported phone.\n"
        "Alice: The interface should stay simple enough for older users.\n"
        "Carol: The system could offer a dark theme later on.\n"
        "Dave: I enjoyed the pizza at lunch today with the team.\n"
    )
    priorities = {r["text"]: r["priority"] for r in result.requirements}
    assert priorities == {
        "The app must work offline on every supported phone.": "MUST",
        "The interface should stay simple enough for older users.": "SHOULD",
        "The system could offer a dark theme later on.": "COULD",
    }


def test_sample_transcript_end_to_end() -> None:
    result = extract(SAMPLE_TRANSCRIPT)
    assert result.method == "rule_based" and result.bedrock_used is False
    assert {"summary", "action_items", "decisions", "participants"} <= set(result.summary)
    assert result.summary["participants"] == ["Alice", "Bob", "Carol"]
    owners = {item["owner"] for item in result.action_items}
    assert {"Carol", "Dave"} <= owners
    assert {"MUST", "SHOULD", "COULD"} <= {r["priority"] for r in result.requirements}
    assert len(result.summary["decisions"]) >= 1


# ---------------------------------------------------------------- summary


def test_summary_is_at_most_three_sentences_of_the_text() -> None:
    text = "\n".join(
        [
            "Alice: Welcome everyone to the quarterly planning meeting for the launch.",
            "Bob: The launch budget grew because shipping costs doubled this quarter.",
            "Carol: Marketing wants the launch moved to May because of the trade fair.",
            "Dave: Our support team needs two more people before the launch happens.",
            "Alice: The budget review with finance happens next Tuesday afternoon.",
            "Bob: Shipping partners sent new offers that lower costs for the launch.",
        ]
    )
    summary = extract(text).summary["summary"]
    assert summary
    pieces = [s for s in re.split(r"(?<=[.!?])\s+", summary) if s]
    assert 1 <= len(pieces) <= SUMMARY_SENTENCES
    own = sentences_of(text)
    for piece in pieces:
        assert piece in own, piece
    # The sentences keep the order in which they were said.
    assert [own.index(p) for p in pieces] == sorted(own.index(p) for p in pieces)


def test_participants_are_the_speakers() -> None:
    result = extract(
        "Alice Smith: Good morning, let's review the roadmap together.\n"
        "bob: lowercase labels are not speakers in this transcript at all.\n"
        "Zoë: I will circulate the minutes after the meeting.\n"
        "Alice Smith: Thanks everyone for coming to the review today.\n"
    )
    assert result.summary["participants"] == ["Alice Smith", "Zoë"]
    assert item_with(result.action_items, "circulate")["owner"] == "Zoë"


# ---------------------------------------------------------------- messy input


MESSY = """\
Alice: um so, uh, yeah I I think we we should, you know, like
Bob: yeah yeah. Um. Uh.
Carol: so... the the thing is, uh, I'll - I'll send the, um, the notes by, uh, Friday
Bob: okay okay okay
...
Dave: I will uh I will look into it
: :
Alice:
Bob: !!!
[crosstalk] [inaudible 00:12:31]
Carol: we we decided, uh, decided to — to go with the the blue one
00:14:02 Speaker 2: the app must uh must not crash, right?
"""


def assert_well_formed(result: Extracted) -> None:
    summary = result.summary
    assert isinstance(summary["summary"], str)
    for item in summary["action_items"]:
        assert set(item) - {"evidence"} == {"text", "owner", "due"}
        assert item["text"].strip() and item["text"] == item["text"].strip()
        assert item["owner"] is None or item["owner"].strip()
        assert item["due"] is None or item["due"].strip()
    for decision in summary["decisions"]:
        assert decision["text"].strip()
    for requirement in result.requirements:
        assert requirement["text"].strip()
        assert requirement["priority"] in {"MUST", "SHOULD", "COULD"}
    assert all(name.strip() for name in summary["participants"])
    assert len(result.action_items) == len(summary["action_items"])


def test_messy_spoken_transcript() -> None:
    result = extract(MESSY)
    assert_well_formed(result)
    assert result.summary["summary"]
    assert {"Alice", "Bob", "Carol", "Dave"} <= set(result.summary["participants"])
    assert any("look into it" in item["text"] for item in result.action_items)


@pytest.mark.parametrize(
    "text",
    ["ok", "...", "Alice:", "::::", "a b", "Bob: uh", "🙂 🙂 🙂 🙂", "x" * 50_000],
)
def test_degenerate_transcripts_do_not_crash(text: str) -> None:
    assert_well_formed(extract(text))


def test_an_empty_transcript_is_refused_before_extraction() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        extract("\n\n\n")


def test_random_text_never_crashes() -> None:
    rng = random.Random(99)
    words = [
        "Alice:", "Bob:", "I", "will", "we", "decided", "must", "should", "could", "the",
        "app", "by", "Friday", "next", "week", "uh", "um", ".", "?", "!", "\n", "José",
        "agreed", "please", "système", "—", "",
    ]  # fmt: skip
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 80)))
        if text.strip():
            assert_well_formed(extract(text))


# ---------------------------------------------------------------- decoding


def test_decode_accepts_utf8_with_bom_and_crlf() -> None:
    data = "\ufeffAlice: Réunion d'équipe.\r\nBob: D'accord.\rCarol: Oui.\r\n".encode()
    assert decode_transcript(data) == "Alice: Réunion d'équipe.\nBob: D'accord.\nCarol: Oui."


def test_decode_accepts_plain_utf8() -> None:
    assert decode_transcript("  会议 — ok  \n".encode()) == "会议 — ok"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("Réunion d'équipe".encode("latin-1"), id="latin-1"),
        pytest.param("Alice: hello".encode("utf-16"), id="utf-16"),
        pytest.param(b"Alice: hello\x00world", id="nul"),
        pytest.param(b"", id="empty"),
        pytest.param(b"   \r\n\t\n ", id="whitespace"),
        pytest.param(b"\xef\xbb\xbf", id="bom-only"),
        pytest.param(b"\xef\xbb\xbf  \r\n", id="bom-and-whitespace"),
    ],
)
def test_decode_refuses(data: bytes) -> None:
    with pytest.raises(InvalidInputError) as info:
        decode_transcript(data, source="transcript 'x.txt'")
    assert "transcript 'x.txt'" in info.value.message


def test_decode_names_the_bad_byte() -> None:
    with pytest.raises(InvalidInputError, match="byte 1 is invalid"):
        decode_transcript("Réunion".encode("latin-1"))


def test_decode_refuses_oversize_input() -> None:
    decode_transcript(b"a" * MAX_TRANSCRIPT_BYTES)  # exactly the limit is fine
    with pytest.raises(InvalidInputError, match="larger than 20 MB"):
        decode_transcript(b"a" * (MAX_TRANSCRIPT_BYTES + 1))


def test_text_given_as_a_string_gets_the_same_checks() -> None:
    """`process(text)` normalises strings directly; they must meet the same rules as bytes."""
    assert normalise_text("a\r\nb\rc") == "a\nb\nc"
    with pytest.raises(InvalidInputError):
        normalise_text("a\x00b")
    with pytest.raises(InvalidInputError):
        normalise_text(" \n ")
    with pytest.raises(InvalidInputError, match="larger than"):
        normalise_text("a" * (MAX_TRANSCRIPT_BYTES + 1))
    with pytest.raises(InvalidInputError, match="larger than"):
        normalise_text("é" * (MAX_TRANSCRIPT_BYTES // 2 + 1))  # counted in UTF-8 bytes
    # A lone surrogate (json.loads accepts "\ud800") cannot be stored as UTF-8.
    with pytest.raises(InvalidInputError, match="surrogate"):
        normalise_text("Alice: hello \ud800 there")
