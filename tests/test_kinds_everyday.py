"""Meeting kinds on everyday meetings: detection against each meeting's gold `kind` (from the
wording alone and with the file name), the gold sections of a few stand-ups and a
post-mortem, and the cases the detector and the section cues must get right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.everyday_quality import EVERYDAY, kind_accuracy, load_meetings
from meeting_storage.analysis import parse_transcript
from meeting_storage.analysis.kinds import (
    CUSTOMER_CALL,
    INTERVIEW,
    KINDS,
    ONE_TO_ONE,
    OTHER,
    PLANNING,
    RETRO,
    STANDUP,
    detect_kind,
    sections_for,
)
from meeting_storage.core.analysis import ActionItem, SummarySection

DEV_FLOOR = 0.9


def _records(folder: str) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((EVERYDAY / folder).glob("*.json"))
    ]


# ---------------------------------------------------------------- the everyday set


@pytest.mark.parametrize("folder", ["dev", "heldout"])
def test_every_everyday_meeting_has_a_gold_kind_the_product_knows(folder: str) -> None:
    records = _records(folder)
    assert records
    for record in records:
        assert record["kind"] in KINDS, record["meeting"]
        assert isinstance(record["genre"], str) and record["genre"], record["meeting"]
    # The dev set holds every kind, "other" included.
    if folder == "dev":
        assert {r["kind"] for r in records} == set(KINDS)


def test_kind_detection_meets_its_floor_on_the_dev_set() -> None:
    accuracy = kind_accuracy(load_meetings(EVERYDAY / "dev"))
    assert accuracy["kind detection (wording)"] >= DEV_FLOOR
    assert accuracy["kind detection (with file name)"] >= DEV_FLOOR


def test_the_detector_never_reads_the_gold_kind_or_the_meeting_id() -> None:
    """Wording only: the same transcript under another id and kind is detected the same."""
    for record in _records("dev"):
        transcript = parse_transcript(record["transcript"])
        renamed = {"x": {**record, "meeting": "x", "kind": OTHER}}
        assert kind_accuracy(renamed)["kind detection (wording)"] == float(
            detect_kind(transcript) == OTHER
        )


def _sections_of(record: dict[str, Any]) -> tuple[SummarySection, ...]:
    gold_items = tuple(
        ActionItem(item["text"], item["owner"], item["due"]) for item in record["action_items"]
    )
    return sections_for(record["kind"], parse_transcript(record["transcript"]), gold_items)


_WITH_GOLD_SECTIONS = sorted(
    path.name for path in (EVERYDAY / "dev").glob("*.json") if "sections" in path.read_text()
)


def test_some_dev_meetings_have_gold_sections() -> None:
    assert len(_WITH_GOLD_SECTIONS) >= 3


@pytest.mark.parametrize("name", _WITH_GOLD_SECTIONS)
def test_the_sections_pick_the_sentences_a_person_would(name: str) -> None:
    """Each gold phrase is in its section, for its speaker, and in no other section of theirs;
    the phrases under "nowhere" (jokes, hypotheticals, questions) are in no section."""
    record = json.loads(Path(EVERYDAY / "dev" / name).read_text(encoding="utf-8"))
    sections = _sections_of(record)
    for expected in record["sections"]["expected"]:
        speaker, title, says = expected["speaker"], expected["title"], expected["says"].lower()
        where = [
            s.title
            for s in sections
            if s.speaker == speaker and any(says in i.lower() for i in s.items)
        ]
        assert where == [title], f"{name}: {says!r} of {speaker} found in {where}, not {title}"
    for phrase in record["sections"]["nowhere"]:
        listed = [i for s in sections for i in s.items if phrase.lower() in i.lower()]
        assert not listed, f"{name}: {phrase!r} listed as {listed}"


# ---------------------------------------------------------------- detection, pure cases


def _kind(*lines: str, name: str | None = None) -> str:
    return detect_kind(parse_transcript("\n".join(lines)), name)


def test_a_standup_is_recognised_without_being_called_one() -> None:
    assert (
        _kind(
            "Ann: Morning. Let's do the round. Raj?",
            "Raj: Yesterday I finished the export. Today I'll start the import.",
            "Ann: Any blockers?",
            "Raj: I'm blocked on the staging database.",
            "Ann: Mia?",
            "Mia: Yesterday I reviewed the pull requests. Today I'm on the docs. No blockers.",
            "Ann: Thanks all.",
        )
        == STANDUP
    )


def test_two_people_talking_about_growth_is_a_one_on_one() -> None:
    lines = (
        "Kim: Hey, how's it going?",
        "Lee: Good. I wanted to talk about the promotion.",
        "Kim: Sure. What's on your mind?",
        "Lee: I'd like some feedback on my last project.",
    )
    assert _kind(*lines) == ONE_TO_ONE
    # The same words with four people in the room are not a 1:1.
    crowd = (*lines, "Sam: I agree.", "Ola: Me too, thanks.")
    assert _kind(*crowd) != ONE_TO_ONE


def test_a_meeting_of_another_sort_is_other_even_with_planning_words() -> None:
    assert (
        _kind(
            "Eva: Okay, this is the design review for the billing service. Tom, the design doc?",
            "Tom: The proposal is one queue. The goal is to ship it this quarter.",
            "Eva: And the requirement on retries is in scope.",
            "Tom: Yes, it is in scope.",
            "Eva: Good, let's go with the queue.",
        )
        == OTHER
    )
    assert _kind("Ann: The weather is nice.", "Bob: It is, the park was busy.") == OTHER


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Q3 retrospective.txt", RETRO),
        ("hiring-plan.txt", PLANNING),
        ("candidate debrief.m4a", INTERVIEW),
        ("ACME sales call.txt", CUSTOMER_CALL),
        ("Design review - search.txt", OTHER),
    ],
)
def test_a_name_that_says_the_kind_decides_it(name: str, kind: str) -> None:
    standup = ("Raj: Yesterday I fixed the build. Today I'll do the release. No blockers.",) * 3
    assert _kind(*standup, name=name) == kind


def test_a_customer_call_is_told_from_an_internal_budget_review() -> None:
    assert (
        _kind(
            "Ana: Hi Pat, thanks for making the time. I've got Li from our solutions team here.",
            "Pat: Hi. We're evaluating three vendors and your quote was the highest.",
            "Li: We can set up a pilot, and I'll send our SOC 2 report.",
            "Pat: Good, our procurement team will want the contract by Friday.",
        )
        == CUSTOMER_CALL
    )
    assert (
        _kind(
            "Ada: Okay, budget review. We renew the monitoring contract this month.",
            "Ben: The renewal is ten thousand. Procurement wants an answer.",
            "Ada: We approve the renewal, the budget has room.",
        )
        == OTHER
    )


# ---------------------------------------------------------------- sections, pure cases


def _by_person(*lines: str) -> dict[str | None, dict[str, tuple[str, ...]]]:
    found: dict[str | None, dict[str, tuple[str, ...]]] = {}
    for section in sections_for(STANDUP, parse_transcript("\n".join(lines))):
        found.setdefault(section.speaker, {})[section.title] = section.items
    return found


def test_a_standup_sentence_lands_in_one_section_blockers_first() -> None:
    person = _by_person(
        "Raj: Today I'm blocked on the staging database, waiting for access.",
        "Raj: Yesterday I finished the export job.",
    )["Raj"]
    assert person["Blockers"] == ("Today I'm blocked on the staging database, waiting for access.",)
    assert person["Today"] == ()
    assert person["Yesterday"] == ("Yesterday I finished the export job.",)


def test_the_answer_to_blockers_is_a_blocker_and_no_blockers_lists_nothing() -> None:
    people = _by_person(
        "Ann: Raj, today I'll chase the vendor. Blockers?",
        "Raj: I need the credentials from the security team.",
        "Ann: Mia, anything blocking you?",
        "Mia: No blockers for me, I'm on the docs all day.",
    )
    assert people["Raj"]["Blockers"] == ("I need the credentials from the security team.",)
    assert people["Mia"]["Blockers"] == ()
    assert not any("?" in item for person in people.values() for s in person.values() for item in s)


def test_a_standup_today_is_what_the_speaker_does_not_who_is_out() -> None:
    people = _by_person(
        "Ann: Quick one, Jonas is out today so it's the two of us.",
        "Ann: Today I'll write the release notes.",
    )
    assert people["Ann"]["Today"] == ("Today I'll write the release notes.",)


def test_a_retro_sorts_answers_to_its_questions_and_leaves_commitments_to_actions() -> None:
    transcript = parse_transcript(
        "\n".join(
            (
                "Dana: What went well?",
                "Eli: The new pager setup.",
                "Dana: And what didn't go well?",
                "Eli: The hand-over notes were incomplete again.",
                "Eli: I'll write a hand-over template by Friday.",
            )
        )
    )
    actions = (ActionItem("Eli will write a hand-over template", "Eli", "Friday"),)
    sections = {s.title: s.items for s in sections_for(RETRO, transcript, actions)}
    assert sections["Went well"] == ("The new pager setup.",)
    assert sections["To improve"] == ("The hand-over notes were incomplete again.",)
    assert sections["Actions"] == ("Eli will write a hand-over template",)
