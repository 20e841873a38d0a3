"""The rule-based extractor on tidy notes, a messy spoken meeting, and a long one."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from meeting_storage.analysis import RuleBasedExtractor, parse_transcript, requirements_to_json
from meeting_storage.analysis.participants import find_participants
from meeting_storage.analysis.rule_based import Limits
from meeting_storage.analysis.spoken_text import (
    compress,
    is_backchannel,
    split_sentences,
    spoken_numbers_to_digits,
    tidy,
)
from tests.conftest import SAMPLE_TRANSCRIPT

FIXTURES = Path(__file__).parent / "fixtures"


def extract(text: str) -> tuple[dict, list[dict]]:  # type: ignore[type-arg]
    result = RuleBasedExtractor().extract(parse_transcript(text))
    assert result.method == "rule_based" and not result.bedrock_used
    return result.summary.to_json(), requirements_to_json(result.requirements)


def test_tidy_notes() -> None:
    summary, requirements = extract(SAMPLE_TRANSCRIPT)
    actions = {item["owner"]: item for item in summary["action_items"]}
    assert actions["Carol"]["text"] == "Carol will send the revised budget to finance by Friday."
    assert actions["Carol"]["due"] == "Friday"
    assert actions["Dave"]["due"] == "next week"
    assert [d["text"] for d in summary["decisions"]] == [
        "We decided to use rechargeable batteries instead of disposable ones."
    ]
    priorities = {r["priority"]: r["text"] for r in requirements}
    assert priorities["MUST"].startswith("The remote control must work with every television")
    assert priorities["SHOULD"].startswith("The interface should stay simple")
    assert priorities["COULD"] == "It would be nice to have a voice search feature."
    assert summary["participants"] == ["Alice", "Bob", "Carol"]


def test_messy_spoken_meeting_gets_owners_from_introductions() -> None:
    summary, requirements = extract((FIXTURES / "messy-planning.txt").read_text())
    assert summary["participants"] == [
        "Speaker A (Maria, Product Manager)",
        "Speaker B (Ken, Backend Developer)",
        "Speaker C (Sofia, UX Designer)",
    ]
    actions = {item["owner"]: item for item in summary["action_items"]}
    # "Ken, you're gonna integrate ..." -> the addressee; "can you send ...?" "Yes" -> who said yes.
    assert actions["Backend Developer"]["text"] == (
        "The Backend Developer will integrate the payment provider by the end of next week."
    )
    assert actions["UX Designer"]["text"] == (
        "The UX Designer will send the new checkout mock-ups to the team by Friday."
    )
    assert actions["UX Designer"]["due"] == "Friday"
    assert actions["Product Manager"]["text"] == (
        "The Product Manager will write up the minutes and share them tomorrow."
    )
    decisions = [d["text"] for d in summary["decisions"]]
    assert "We will go with the cheaper provider and handle refunds manually for now." in decisions
    assert any("45000 euros" in d for d in decisions)
    assert {r["priority"] for r in requirements} == {"MUST", "SHOULD", "COULD"}
    texts = " ".join(item["text"] for item in [*summary["action_items"], *requirements])
    for filler in (" um ", " uh ", "you know", "the the"):
        assert filler not in f" {texts.lower()} "


def test_questions_hypotheticals_and_chatter_are_not_action_items() -> None:
    summary, _ = extract(
        "Alice: Should we send the invoice today?\n"
        "Bob: If we had more time I would rewrite the parser.\n"
        "Carol: I'm going to draw my favourite animal now.\n"
        "Bob: Yeah.\n"
        "Alice: Okay.\n"
    )
    assert summary["action_items"] == []


def test_a_long_messy_meeting_yields_a_handful_of_items() -> None:
    rng = random.Random(7)
    speakers = [f"Speaker {c}" for c in "ABCDEF"]
    fillers = ["um", "uh", "you know", "like", "so", "I mean"]
    lines = [
        "I'll send the report by Friday.",
        "We decided to use the cheaper supplier.",
        "The app must load in under two seconds.",
        "Yeah.",
        "Mm-hmm.",
        "and then the the thing with the",
        "I think maybe we should look at the numbers again at some point",
        "Can you check the contract?",
        "Sure, I can do that.",
        "So the budget is twenty thousand euros for the quarter.",
        "I don't know, it depends on what marketing says about the launch.",
        "We'll need to talk to the vendor about the shipping dates next week.",
    ]
    transcript = []
    words = 0
    while words < 10_000:
        line = rng.choice(lines)
        noisy = " ".join(
            f"{rng.choice(fillers)} {word}" if rng.random() < 0.15 else word
            for word in line.split()
        )
        transcript.append(f"{rng.choice(speakers)}: {noisy}")
        words += len(noisy.split())
    text = "\n".join(transcript)
    # Its speed is measured by `make bench` (bench/extraction_quality.py), not timed here.
    summary, requirements = extract(text)
    limits = Limits()
    assert 1 <= len(summary["action_items"]) <= limits.actions.maximum
    assert len(summary["decisions"]) <= limits.decisions.maximum
    assert len(requirements) <= limits.requirements.maximum
    texts = [item["text"].lower() for item in summary["action_items"]]
    assert len(set(texts)) == len(texts)  # no duplicates


def test_extraction_is_deterministic() -> None:
    text = (FIXTURES / "messy-planning.txt").read_text()
    assert extract(text) == extract(text)


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        (
            "Um well this is the kick-off meeting for our our project.",
            "well this is the kick-off meeting for our project.",
        ),
        ("so des uh design a new remote control", "so design a new remote control"),
        ("we're gonna sell it for twenty five Euro", "we're going to sell it for 25 Euro"),
        ("no more than twelve fifty Euros", "no more than 12.50 Euros"),
        ("the User Interf Interface Designer", "the User Interface Designer"),
    ],
)
def test_tidy_removes_what_only_speech_has(spoken: str, written: str) -> None:
    assert tidy(spoken) == written


def test_compress_makes_a_short_list_item() -> None:
    assert compress("Okay so um I think we should basically just ship it, you know") == (
        "We should ship it."
    )
    assert spoken_numbers_to_digits("one remote and fifty million euros") == (
        "one remote and 50 million euros"
    )
    assert split_sentences("One. Two? Three!") == ["One.", "Two?", "Three!"]
    assert is_backchannel("Mm-hmm, yeah.") and not is_backchannel("Yeah, ship it on Monday.")


def test_roles_and_names_from_introductions() -> None:
    participants = find_participants(
        [
            ("Speaker A", "Hi, I'm David and I'm supposed to be an industrial designer."),
            ("Speaker B", "My name is Rose Lindgren. I'll be the Project Manager."),
            ("Speaker C", "Yeah, I'm sure."),
            ("Speaker A", "As the industrial designer, you will work on it."),
        ]
    )
    assert participants["Speaker A"].label == "the Industrial Designer"
    assert participants["Speaker A"].name == "David"
    assert participants["Speaker B"].description == "Speaker B (Rose, Project Manager)"
    assert participants["Speaker C"].label == "Speaker C"


def test_written_notes_keep_every_item_they_list() -> None:
    summary, requirements = extract((FIXTURES / "written-notes.txt").read_text())
    assert [(a["owner"], a["text"], a["due"]) for a in summary["action_items"]] == [
        ("Bob", "Bob will send the draft spec by Friday.", "Friday"),
        ("Alice", "Alice will review the open pull requests.", None),
        ("Carol", "Carol will book the room for the demo next week.", "next week"),
        ("Dave", "Dave will update the roadmap (due 2024-05-10).", "2024-05-10"),
    ]
    assert [{k: v for k, v in d.items() if k != "evidence"} for d in summary["decisions"]] == [
        {"text": "We will use Postgres for the new service.", "speaker": None}
    ]
    assert [(r["text"], r["priority"]) for r in requirements] == [
        ("The API must support pagination.", "MUST")
    ]
