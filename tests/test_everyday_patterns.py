"""The rule-based extractor on everyday meetings: the patterns of eval/everyday, each with
what must be found and what must not (work already done, jokes, hypotheticals, proposals
turned down, requests handed on to someone else), and its figures on the everyday set."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bench.everyday_quality import (
    EVERYDAY,
    Predicted,
    eval_dir,
    load_meetings,
    load_scorer,
    score_set,
)
from meeting_storage.analysis import RuleBasedExtractor, parse_transcript
from meeting_storage.analysis.rule_based import ACTION_LIMIT
from meeting_storage.core.analysis import Summary

SCORER_DIR = EVERYDAY.parent  # eval/: score.py beside the everyday meetings


def summary_of(*lines: str) -> Summary:
    return RuleBasedExtractor().extract(parse_transcript("\n".join(lines))).summary


def actions(summary: Summary) -> dict[str, list[str]]:
    """Owner -> the texts of their action items."""
    found: dict[str, list[str]] = {}
    for item in summary.action_items:
        found.setdefault(item.owner or "", []).append(item.text)
    return found


def decisions(summary: Summary) -> list[str]:
    return [d.text for d in summary.decisions]


STANDUP = (
    "Carol: Okay, morning everyone. Dave, you want to kick off?",
    "Dave: Yeah. Yesterday I finished the login migration, that's merged and deployed.",
    "Dave: Today I'll fix the flaky checkout test.",
    "Carol: Great, thanks. Priya?",
    "Priya: I'll finish the reindex script by Thursday.",
    "Carol: Tom, what about you?",
    "Tom: I already updated the on-call runbook, that's done.",
    "Tom: Today I'm going to set up the new alert for failed payments.",
    "Carol: Nice. Lena?",
    "Lena: I'll review the pull request for the cart page this afternoon.",
    "Lena: And if we ever move the cart to the new framework we'd have to redo all the styling.",
    "Carol: Sam?",
    "Sam: I'll write up the release notes for version 4.2 by tomorrow.",
    "Sam: Oh, and somebody should buy a cake for Lena's birthday, ha, I nominate Dave.",
    "Dave: Ha, no.",
    "Carol: And I'll talk to design about the empty states and report back on Friday.",
)


def test_a_standup_where_five_people_take_something_on_has_one_item_each() -> None:
    found = actions(summary_of(*STANDUP))
    assert set(found) == {"Dave", "Priya", "Tom", "Lena", "Sam", "Carol"}
    assert found["Dave"] == ["Dave will fix the flaky checkout test."]
    assert found["Tom"] == ["Tom will set up the new alert for failed payments."]
    assert found["Priya"] == ["Priya will finish the reindex script by Thursday."]


def test_a_standup_keeps_work_done_jokes_and_hypotheticals_out() -> None:
    texts = " ".join(t for items in actions(summary_of(*STANDUP)).values() for t in items)
    for distractor in ("login migration", "runbook", "cake", "styling"):
        assert distractor not in texts
    assert not decisions(summary_of(*STANDUP))


def test_dues_said_the_everyday_way() -> None:
    items = {a.owner: a.due for a in summary_of(*STANDUP).action_items}
    assert items["Lena"] == "this afternoon"
    assert items["Dave"] == "Today"
    assert items["Sam"] == "tomorrow"
    assert items["Carol"] == "Friday"


def test_a_request_and_its_answer_are_one_item_with_the_requests_words() -> None:
    summary = summary_of(
        "Carol: Tom, can you get Priya read access to the replica today?",
        "Tom: Yep, I'll sort that out this morning.",
    )
    assert [(a.text, a.owner) for a in summary.action_items] == [
        ("Tom will get Priya read access to the replica today.", "Tom")
    ]


def test_a_request_answered_with_the_work_named_keeps_the_answer() -> None:
    summary = summary_of(
        "Ivan: Mei, can you check her references?",
        "Mei: Yes, I'll call the two references by Wednesday.",
    )
    assert [(a.text, a.owner, a.due) for a in summary.action_items] == [
        ("Mei will call the two references by Wednesday.", "Mei", "Wednesday")
    ]


def test_a_request_turned_down_and_handed_on_belongs_to_who_took_it() -> None:
    summary = summary_of(
        "Zoe: Liam, can you book the bus from the office?",
        "Liam: Actually, I'm swamped. Can Noah do it?",
        "Noah: Yeah, fine, I'll book the bus from the office.",
    )
    assert [(a.text, a.owner) for a in summary.action_items] == [
        ("Noah will book the bus from the office.", "Noah")
    ]


def test_assignments_by_name_in_an_escalation() -> None:
    found = actions(
        summary_of(
            "Sofia: Paula, please post a status page update saying payments are degraded.",
            "Paula: Will do.",
            "Sofia: Dan, I need you to pull the list of failed orders since nine.",
            "Dan: Okay.",
        )
    )
    assert found == {
        "Paula": ["Paula will post a status page update saying payments are degraded."],
        "Dan": ["Dan will pull the list of failed orders since nine."],
    }


def test_telling_someone_outside_the_room_is_work_telling_the_room_is_not() -> None:
    assert actions(
        summary_of(
            "Helen: Can you tell marketing and get the invoice details?",
            "Olga: Sure, I'll tell marketing this afternoon.",
        )
    ) == {"Olga": ["Olga will tell marketing and get the invoice details."]}
    assert not summary_of("Olga: I'll tell you what I think about the invoice.").action_items


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Zoe: Alright, we're going with the lake house.", "We're going with the lake house."),
        (
            "Helen: Alright, we approve the twenty thousand for the trade show.",
            "We approve the 20000 for the trade show.",
        ),
        ("Elena: Agreed, quiet hours are in scope.", "Quiet hours are in scope."),
        (
            "George: Okay, we're moving go-live to June fifteenth.",
            "We're moving go-live to June fifteenth.",
        ),
    ],
)
def test_decisions_in_the_present_tense(line: str, expected: str) -> None:
    assert decisions(summary_of("Anna: So where are we on this?", line)) == [expected]


def test_a_proposal_turned_down_is_a_decision_not_an_action() -> None:
    summary = summary_of(
        "Noah: Should we do a hackathon on day two?",
        "Zoe: Hmm, no, let's not, people want time to talk, not code.",
    )
    assert decisions(summary) == ["We will not do a hackathon on day two."]
    assert not summary.action_items


def test_a_proposal_turned_down_for_something_else_says_what_instead() -> None:
    summary = summary_of(
        "Kim: Should we do dark mode now? It's like eight points.",
        "Nina: No, let's not, we'll push dark mode to next quarter.",
    )
    assert decisions(summary) == [
        "We will not do dark mode now; we will push dark mode to next quarter."
    ]


def test_a_question_answered_no_is_not_a_decision() -> None:
    summary = summary_of(
        "Anna: Do we have any other background information on the market?",
        "Ben: No, not really.",
    )
    assert not decisions(summary)


def test_a_point_settled_with_decided_is_a_decision_not_a_team_action() -> None:
    summary = summary_of(
        "Maria: Let's also set the pool size alert at eighty percent. Decided.",
        "Jonas: Sounds good.",
    )
    assert decisions(summary) == ["We will also set the pool size alert at 80 percent."]
    assert not summary.action_items


def test_the_number_of_items_follows_the_meeting_up_to_a_sane_bound() -> None:
    tags = [f"{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(50)]
    # Each takes on different work (near-duplicates are one item).
    lines = [
        f"Person{tag}: I'll prepare the report{tag} and the forecast{tag} by Friday."
        for tag in tags
    ]
    twelve = summary_of(*lines[:12]).action_items
    assert len(twelve) == 12
    assert len(summary_of(*lines).action_items) == ACTION_LIMIT.maximum == 40


# The everyday set itself.


def _records(folder: str) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((EVERYDAY / folder).glob("*.json"))
    ]


@pytest.mark.parametrize(("folder", "least"), [("dev", 12), ("heldout", 6)])
def test_the_everyday_set_parses_in_the_ami_dev_shape(folder: str, least: int) -> None:
    records = _records(folder)
    assert len(records) >= least
    assert len({r["kind"] for r in records}) >= least // 2
    for record in records:
        turns = record["transcript"].splitlines()
        assert 15 <= len(turns) <= 60, record["meeting"]
        speakers = {re.match(r"^([A-Z][a-z]+): \S", t).group(1) for t in turns}  # type: ignore[union-attr]
        assert all(isinstance(a, str) and a for a in record["actions"])
        assert [a["text"] for a in record["action_items"]] == record["actions"]
        owners = {a["owner"] for a in record["action_items"]}
        assert owners <= speakers, f"{record['meeting']}: an owner who is not in the meeting"
        for field in ("decisions", "requirements", "distractors", "problems"):
            assert isinstance(record[field], list)
        transcript = parse_transcript(record["transcript"])
        assert transcript.speakers and len(transcript.utterances) == len(turns)


def test_the_everyday_set_has_distractors_of_every_kind() -> None:
    distractors = [d for r in _records("dev") for d in r["distractors"]]
    assert len(distractors) >= 12


@pytest.mark.parametrize("folder", ["dev", "heldout"])
def test_the_rule_based_extractor_meets_its_goals_on_the_everyday_set(folder: str) -> None:
    # The repository's copy of the evaluation's scorer, so the suite needs nothing beside it.
    scorer = load_scorer(SCORER_DIR)
    meetings = load_meetings(EVERYDAY / folder)
    extractor = RuleBasedExtractor()
    predicted = {}
    for meeting, record in meetings.items():
        summary = extractor.extract(parse_transcript(record["transcript"])).summary
        predicted[meeting] = Predicted(
            actions=[a.to_json() for a in summary.action_items],
            decisions=[d.text for d in summary.decisions],
            seconds=0.0,
        )
    figures = score_set(scorer, meetings, predicted)
    assert figures["action F1@0.3"] >= 0.70
    assert figures["owners right"] >= 0.95
    assert figures["decision recall@0.3"] >= 0.60
    assert figures["distractors"] <= max(1, len(meetings) // 12)


def test_the_scorer_copy_is_the_evaluations_own() -> None:
    """eval/score.py is the AMI evaluation's scorer, unchanged, wherever that one is found."""
    shared = eval_dir()
    copy = (SCORER_DIR / "score.py").read_text(encoding="utf-8")
    assert "def score(predicted: list[str], gold: list[str], threshold: float)" in copy
    if shared is not None and (shared / "score.py").is_file():
        assert (shared / "score.py").read_text(encoding="utf-8") == copy
