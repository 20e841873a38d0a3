"""The typed analysis (Summary, ActionItem, Decision, Requirement) against the JSON files it
reads and writes, and the one rendering of it: the page's lists, the CLI's lines and the
Markdown report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from meeting_storage import Meeting, MeetingRecord, ProcessResult
from meeting_storage.analysis import (
    ActionItem,
    Decision,
    Requirement,
    RuleBasedExtractor,
    Summary,
    parse_transcript,
    requirements_from_json,
    requirements_to_json,
)
from meeting_storage.cli.text import analysis_text
from meeting_storage.index.document import search_text_of, with_action_item_facts
from meeting_storage.render.report import (
    NO_SUMMARY,
    NONE_FOUND,
    analysis_lines,
    analysis_view,
    meeting_markdown,
)
from meeting_storage.service.processing import AWAITING_EXTRACTION
from tests.conftest import SAMPLE_TRANSCRIPT

# summary.json and requirements.json as today's extractors write them.
RULE_BASED_SUMMARY: dict[str, Any] = {
    "summary": "We planned the launch.",
    "action_items": [
        {"text": "Carol will send the budget by Friday.", "owner": "Carol", "due": "Friday"},
        {"text": "Book the room.", "owner": None, "due": None},
    ],
    "decisions": [
        {"text": "We use rechargeable batteries.", "speaker": "Bob"},
        {"text": "We ship in May.", "speaker": None},
    ],
    "participants": ["Alice", "Bob", "Carol"],
}
BEDROCK_SUMMARY: dict[str, Any] = {
    "summary": "We planned the launch.",
    "action_items": [{"text": "Carol will send the budget", "owner": "Carol", "due": "Friday"}],
    "decisions": [{"text": "Use rechargeable batteries"}],
    "participants": ["Alice", "Bob"],
}
REQUIREMENTS: list[dict[str, Any]] = [
    {"text": "The remote must be easy to find.", "priority": "MUST"},
    {"text": "It could glow in the dark.", "priority": "COULD"},
]
START = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


def dumped(value: Any) -> str:
    """The bytes the service writes (and the CLI prints) for a JSON value."""
    return json.dumps(value, ensure_ascii=False, indent=2)


# ------------------------------------------------------------------ JSON round trips


@pytest.mark.parametrize("data", [RULE_BASED_SUMMARY, BEDROCK_SUMMARY], ids=["rules", "bedrock"])
def test_summary_round_trips_to_the_same_bytes(data: dict[str, Any]) -> None:
    summary = Summary.from_json(json.loads(dumped(data)))
    assert dumped(summary.to_json()) == dumped(data)


def test_the_awaiting_summary_keeps_its_shape_without_participants() -> None:
    written = AWAITING_EXTRACTION.summary.to_json()
    assert dumped(written) == dumped({"summary": "", "action_items": [], "decisions": []})
    assert Summary.from_json(written).to_json() == written


def test_each_type_writes_exactly_its_json_shape() -> None:
    assert ActionItem("Send it").to_json() == {"text": "Send it", "owner": None, "due": None}
    assert list(ActionItem("x", "Bob", "Friday").to_json()) == ["text", "owner", "due"]
    assert Decision("Ship it").to_json() == {"text": "Ship it"}  # Bedrock: no speaker key
    assert Decision("Ship it", None, attributed=True).to_json() == {
        "text": "Ship it",
        "speaker": None,
    }
    assert Decision("Ship it", "Ann").to_json() == {"text": "Ship it", "speaker": "Ann"}
    assert Requirement("It must work", "MUST").to_json() == {
        "text": "It must work",
        "priority": "MUST",
    }
    assert requirements_to_json(requirements_from_json(REQUIREMENTS)) == REQUIREMENTS


def test_an_older_file_missing_fields_reads_with_defaults() -> None:
    summary = Summary.from_json(
        {"summary": "Old.", "action_items": [{"text": "Call Bob"}], "decisions": ["Go"]}
    )
    assert summary.participants is None
    (item,) = summary.action_items
    assert (item.text, item.owner, item.due) == ("Call Bob", None, None)
    assert summary.decisions == (Decision("Go"),)
    assert summary.to_json() == {
        "summary": "Old.",
        "action_items": [{"text": "Call Bob", "owner": None, "due": None}],
        "decisions": [{"text": "Go"}],
    }
    assert Summary.from_json({}).to_json() == {"summary": "", "action_items": [], "decisions": []}
    assert requirements_from_json([{"text": "It must work"}]) == (Requirement("It must work"),)
    assert requirements_to_json(requirements_from_json([{"text": "x"}])) == [
        {"text": "x", "priority": ""}
    ]


def test_wrong_types_are_dropped_or_turned_into_text() -> None:
    summary = Summary.from_json(
        {
            "summary": None,
            "action_items": [{"text": 42, "owner": 7}, "not an object", None],
            "decisions": [3, None, ["x"], {"text": "Kept"}],
            "participants": ["Ann", None, 5],
        }
    )
    assert summary.text == ""
    assert summary.action_items == (ActionItem("42", "7"),)
    assert [d.text for d in summary.decisions] == ["3", "Kept"]
    assert summary.participants == ("Ann", "5")
    assert Summary.from_json(["not", "a", "summary"]) == Summary()
    assert Summary.from_json({"action_items": "none", "decisions": {}}).action_items == ()
    assert requirements_from_json({"text": "not a list"}) == ()
    assert requirements_from_json(["A plain string", 3, None]) == (Requirement("A plain string"),)


def test_unknown_keys_are_kept_on_a_round_trip() -> None:
    data = {
        "summary": "s",
        "action_items": [{"text": "a", "owner": "Bob", "due": None, "done": True, "id": 7}],
        "decisions": [{"text": "d", "speaker": "Ann", "confidence": 0.9}],
        "participants": [],
        "language": "en",
    }
    summary = Summary.from_json(data)
    assert summary.extra == {"language": "en"}
    assert summary.action_items[0].extra == {"done": True, "id": 7}
    assert summary.to_json() == data
    requirements = [{"text": "r", "priority": "SHOULD", "source": "email"}]
    assert requirements_to_json(requirements_from_json(requirements)) == requirements


def test_done_action_items_are_not_open() -> None:
    items = [
        {"text": "a", "done": True},
        {"text": "b", "status": " Closed "},
        {"text": "c", "status": "in progress", "owner": "bob"},
        {"text": "d", "owner": "Bob"},
    ]
    summary = Summary.from_json({"action_items": items})
    assert [item.is_open for item in summary.action_items] == [False, False, True, True]
    record = MeetingRecord(meeting_id="meeting-abc", timestamp=START, filename="x.wav")
    facts = with_action_item_facts(record, summary)
    assert facts.open_action_items_count == 2 and facts.action_item_owners == ("bob",)


def test_search_text_comes_from_the_typed_fields() -> None:
    text = search_text_of(
        Summary.from_json(RULE_BASED_SUMMARY), requirements_from_json(REQUIREMENTS), "said"
    )
    assert text.summary.splitlines() == [
        "We planned the launch.",
        "We use rechargeable batteries.",
        "We ship in May.",
    ]
    assert text.action_items.splitlines() == [
        "Carol: Carol will send the budget by Friday.",
        "Book the room.",
    ]
    assert text.requirements.splitlines() == [r["text"] for r in REQUIREMENTS]
    assert search_text_of().is_empty


def test_models_print_todays_json() -> None:
    record = MeetingRecord(meeting_id="meeting-abc", timestamp=START, filename="x.wav")
    summary = Summary.from_json(RULE_BASED_SUMMARY)
    requirements = requirements_from_json(REQUIREMENTS)
    meeting = Meeting(record, "Ann: hi", summary, requirements, audio_url=None)
    assert meeting.to_dict()["summary"] == RULE_BASED_SUMMARY
    assert meeting.to_dict()["requirements"] == REQUIREMENTS
    result = ProcessResult(record, summary, requirements).to_dict()
    assert result["meeting_summary"] == RULE_BASED_SUMMARY
    assert result["requirements"] == REQUIREMENTS


def test_the_rule_based_extractor_writes_todays_shapes() -> None:
    result = RuleBasedExtractor().extract(parse_transcript(SAMPLE_TRANSCRIPT))
    written = result.summary.to_json()
    assert list(written) == ["summary", "action_items", "decisions", "participants"]
    # Each item ends with the evidence of where it was said.
    assert all(
        list(item) == ["text", "owner", "due", "evidence"] for item in written["action_items"]
    )
    assert all(list(item) == ["text", "speaker", "evidence"] for item in written["decisions"])
    assert all(
        list(item) == ["text", "priority", "evidence"]
        for item in requirements_to_json(result.requirements)
    )
    assert Summary.from_json(written) == result.summary


# ------------------------------------------------------------------ the one rendering


def test_the_view_has_the_page_tables_and_empty_wording() -> None:
    view = analysis_view(Summary.from_json(RULE_BASED_SUMMARY), requirements_from_json([]))
    actions, decisions, requirements = view.lists
    assert actions.counted_title == "Action items (2)"
    assert actions.columns == ("Action", "Owner", "Due")
    assert actions.rows[1] == ("Book the room.", "", "")
    assert decisions.column("Speaker") == ["Bob", ""]
    assert requirements.counted_title == "Requirements (0)" and not requirements.rows
    assert requirements.empty == NONE_FOUND == "None found."
    assert view.participants_line == "Participants: Alice, Bob, Carol"
    empty = analysis_view(Summary(), ())
    assert empty.summary_or_placeholder == NO_SUMMARY and empty.participants_line is None


def test_the_command_line_lines() -> None:
    summary = Summary.from_json(RULE_BASED_SUMMARY)
    requirements = requirements_from_json(REQUIREMENTS)
    assert analysis_lines(summary, requirements) == [
        "Summary: We planned the launch.",
        "  - action (Carol) due Friday: Carol will send the budget by Friday.",
        "  - action: Book the room.",
        "  - decision: We use rechargeable batteries.",
        "  - decision: We ship in May.",
        "  - MUST: The remote must be easy to find.",
        "  - COULD: It could glow in the dark.",
    ]
    hostile = Summary(text="a\x1b[31mb", action_items=(ActionItem("x", owner="\x1b]0;"),))
    assert analysis_text(hostile, (), ["a note"]).splitlines() == [
        "Summary: a?[31mb",
        "  - action (?]0;): x",
        "Note: a note",
    ]


def test_the_markdown_report() -> None:
    record = MeetingRecord(
        meeting_id="meeting-abc", timestamp=START, filename="x.wav", title="Launch"
    )
    meeting = Meeting(
        record,
        "",
        Summary.from_json(BEDROCK_SUMMARY),
        requirements_from_json(REQUIREMENTS),
        audio_url=None,
    )
    report = meeting_markdown(meeting)
    assert "| Participants | Alice\\, Bob |" in report
    assert (
        "## Action items\n\n| Action | Owner | Due |\n|---|---|---|\n"
        "| Carol will send the budget | Carol | Friday |\n" in report
    )
    assert (
        "## Decisions\n\n| Decision | Speaker |\n|---|---|\n| Use rechargeable batteries |   |"
        in (report)
    )
    assert "| The remote must be easy to find\\. | MUST |" in report
    assert report.endswith("## Transcript\n\n_No transcript yet._\n")

    empty = meeting_markdown(Meeting(record, "", Summary(), (), audio_url=None))
    assert "## Summary\n\n_No summary yet._\n" in empty
    assert "## Decisions\n\n_None found._\n" in empty
    assert "| Participants | unknown |" in empty
