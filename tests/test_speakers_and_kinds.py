"""Speakers with names and meeting kinds: the pure functions, then every face (service on every
index backend, CLI, REST API, dashboard)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meeting_storage import InvalidInputError, MeetingStorage, NotFoundError
from meeting_storage.analysis import parse_transcript
from meeting_storage.analysis.kinds import (
    OTHER,
    RETRO,
    STANDUP,
    detect_kind,
    normalise_kind,
    sections_for,
)
from meeting_storage.analysis.speakers import (
    check_name,
    rename_in_transcript,
    renamed_mapping,
    suggest_names,
)
from meeting_storage.core.analysis import ActionItem, Summary, SummarySection
from meeting_storage.index.query import MeetingFilter
from tests.conftest import app_test
from tests.test_api import make_client
from tests.test_cli import run

STANDUP_TEXT = """\
[00:00:05] Speaker A: Morning all, quick stand-up. Yesterday I finished the login page tests.
[00:00:12] Speaker A: Today I'll pick up the password reset flow.
[00:00:20] Speaker B: Hi, I'm Carol from finance, joining for the budget item.
[00:00:26] Speaker B: Yesterday I reviewed the invoices with the vendor.
[00:00:31] Speaker B: I'm blocked on the export from the billing system, waiting on access.
[00:00:40] Speaker C: Today I'm going to deploy the search fix to staging.
[00:00:47] Speaker C: No blockers for me.
[00:00:52] Speaker A: Speaker B, can you send the invoice summary to the team by Friday?
[00:00:58] Speaker B: Sure, I'll send the invoice summary by Friday.
"""

RETRO_TEXT = """\
Dana: Let's do the retro for the release.
Eli: The release checklist went really well, nobody missed a step.
Dana: The rollback took too long, the problem was the missing runbook.
Eli: Next time we should improve the alerting so we notice sooner.
Dana: Eli, can you write the rollback runbook by Thursday?
Eli: Yes, I'll write the rollback runbook by Thursday.
"""


# ---------------------------------------------------------------- kinds, pure


def test_kind_names_and_aliases_are_normalised_and_unknown_ones_refused() -> None:
    assert normalise_kind("Standup") == STANDUP
    assert normalise_kind(" retrospective ") == RETRO
    assert normalise_kind("1on1") == "1:1"
    assert normalise_kind("sales call") == "customer call"
    assert normalise_kind("") is None and normalise_kind(None) is None
    with pytest.raises(InvalidInputError, match="stand-up, retro"):
        normalise_kind("board game night")


def test_the_kind_is_detected_from_the_name_first_then_the_wording() -> None:
    standup = parse_transcript(STANDUP_TEXT)
    assert detect_kind(standup) == STANDUP
    assert detect_kind(standup, "Q3 retrospective.txt") == RETRO
    neutral = parse_transcript("Ann: The weather is nice.\nBob: It is, the park was busy.")
    assert detect_kind(neutral) == OTHER


def test_a_standup_is_summarised_per_person_yesterday_today_blockers() -> None:
    sections = sections_for(STANDUP, parse_transcript(STANDUP_TEXT))
    by_person: dict[str | None, dict[str, tuple[str, ...]]] = {}
    for section in sections:
        by_person.setdefault(section.speaker, {})[section.title] = section.items
    assert set(by_person) == {"Speaker A", "Speaker B", "Speaker C"}
    assert any("login page tests" in item for item in by_person["Speaker A"]["Yesterday"])
    assert any("password reset" in item for item in by_person["Speaker A"]["Today"])
    assert any("billing system" in item for item in by_person["Speaker B"]["Blockers"])
    assert not any("billing" in item for item in by_person["Speaker B"]["Yesterday"])
    assert any("search fix" in item for item in by_person["Speaker C"]["Today"])


def test_a_retro_has_went_well_to_improve_and_its_actions() -> None:
    actions = (ActionItem("Eli will write the rollback runbook", "Eli", "Thursday"),)
    sections = {
        s.title: s.items for s in sections_for(RETRO, parse_transcript(RETRO_TEXT), actions)
    }
    assert list(sections) == ["Went well", "To improve", "Actions"]
    assert any("checklist" in item for item in sections["Went well"])
    assert any("rollback took too long" in item for item in sections["To improve"])
    assert sections["Actions"] == ("Eli will write the rollback runbook",)  # owner named once
    assert sections_for(OTHER, parse_transcript(RETRO_TEXT)) == ()


def test_summary_json_keeps_its_shape_with_and_without_kind() -> None:
    old = {"summary": "s", "action_items": [], "decisions": []}
    assert Summary.from_json(old).to_json() == old  # older files: no new keys appear
    shaped = Summary(
        text="s",
        kind=STANDUP,
        sections=(SummarySection("Blockers", ("waiting on access",), "Carol"),),
    )
    data = shaped.to_json()
    assert data["kind"] == STANDUP
    assert data["sections"] == [
        {"title": "Blockers", "items": ["waiting on access"], "speaker": "Carol"}
    ]
    assert Summary.from_json(json.loads(json.dumps(data))) == shaped


# ---------------------------------------------------------------- speakers, pure


def test_names_are_suggested_from_introductions_for_generic_labels_only() -> None:
    assert suggest_names(STANDUP_TEXT) == {"Speaker B": "Carol"}
    assert suggest_names("Dana: Hi, I'm Carol.\nEli: Hello.") == {}  # Dana is already a name


def test_renaming_changes_speaker_labels_not_words_in_what_was_said() -> None:
    text = (
        "[00:00:01] Speaker B: Hello.\n"
        "[00:00:02] Speaker A: Speaker B, can you help?\n"
        "Speaker B (00:00:03): Yes.\n"
        "Speaker BB: another person."
    )
    renamed = rename_in_transcript(text, "Speaker B", "Carol")
    assert renamed.splitlines() == [
        "[00:00:01] Carol: Hello.",
        "[00:00:02] Speaker A: Speaker B, can you help?",
        "Carol (00:00:03): Yes.",
        "Speaker BB: another person.",
    ]
    vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\n<v Speaker B>Hi there\n"
    assert "<v Carol>Hi there" in rename_in_transcript(vtt, "Speaker B", "Carol")


def test_the_mapping_remembers_the_original_label_across_renames() -> None:
    first = renamed_mapping({}, "spk_1", "Carol")
    assert first == {"spk_1": "Carol"}
    assert renamed_mapping(first, "Carol", "Caroline") == {"spk_1": "Caroline"}
    assert renamed_mapping(first, "Carol", "spk_1") == {}  # back to the label: no entry


@pytest.mark.parametrize("bad", ["", "   ", "x" * 61, "Carol: hi", "Carol\nSmith"], ids=repr)
def test_bad_names_are_refused_with_what_to_do(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        check_name(bad)


# ---------------------------------------------------------------- the service, every backend


def test_a_rename_follows_into_transcript_owners_decisions_and_the_index(
    indexed_storage: MeetingStorage,
) -> None:
    stored = indexed_storage.process(STANDUP_TEXT, title="Daily stand-up")
    meeting_id = stored.record.meeting_id
    assert stored.record.kind == STANDUP and stored.summary.kind == STANDUP
    before = indexed_storage.speakers(meeting_id)
    assert before.speakers == ("Speaker A", "Speaker B", "Speaker C")
    assert before.suggestions == {"Speaker B": "Carol"}

    result = indexed_storage.rename_speaker(meeting_id, "Speaker B", "Carol")
    assert result.indexed
    meeting = indexed_storage.get_meeting(meeting_id)
    assert "Speaker B:" not in meeting.transcription
    assert "] Carol: Yesterday I reviewed the invoices" in meeting.transcription
    owners = [item.owner for item in meeting.summary.action_items]
    assert "Carol" in owners and "Speaker B" not in owners
    assert all("Speaker B" not in item.text for item in meeting.summary.action_items)
    said_by = {item.evidence.speaker for item in meeting.summary.action_items if item.evidence}
    assert "Carol" in said_by and "Speaker B" not in said_by  # evidence follows the rename
    assert {s.speaker for s in meeting.summary.sections} >= {"Carol"}
    assert meeting.record.speaker_names == {"Speaker B": "Carol"}
    assert "Carol" in meeting.record.action_item_owners

    by_owner = indexed_storage.list_meetings(filters=MeetingFilter(owner="Carol"))
    assert [r.meeting_id for r in by_owner.meetings] == [meeting_id]
    assert indexed_storage.list_meetings(filters=MeetingFilter(owner="Speaker B")).meetings == []

    indexed_storage.rename_speaker(meeting_id, "Carol", "Caroline")
    assert indexed_storage.get_record(meeting_id).speaker_names == {"Speaker B": "Caroline"}


def test_renaming_a_speaker_that_is_not_there_or_onto_another_is_refused(
    moto_storage: MeetingStorage,
) -> None:
    meeting_id = moto_storage.process(STANDUP_TEXT).record.meeting_id
    with pytest.raises(InvalidInputError, match=r"no speaker 'Speaker Z'.*Speaker A, Speaker B"):
        moto_storage.rename_speaker(meeting_id, "Speaker Z", "Zed")
    with pytest.raises(InvalidInputError, match="already has a speaker 'Speaker C'"):
        moto_storage.rename_speaker(meeting_id, "Speaker B", "Speaker C")
    with pytest.raises(NotFoundError):
        moto_storage.rename_speaker("meeting-" + "0" * 32, "Speaker B", "Carol")
    assert moto_storage.get_record(meeting_id).speaker_names == {}  # nothing changed


def test_names_given_before_apply_to_a_transcript_attached_later(
    moto_storage: MeetingStorage,
) -> None:
    meeting_id = moto_storage.process(STANDUP_TEXT).record.meeting_id
    moto_storage.rename_speaker(meeting_id, "Speaker B", "Carol")
    moto_storage.attach_transcript(meeting_id, STANDUP_TEXT)
    meeting = moto_storage.get_meeting(meeting_id)
    assert "Speaker B:" not in meeting.transcription and "Carol:" in meeting.transcription
    assert meeting.record.speaker_names == {"Speaker B": "Carol"}


def test_a_chosen_kind_is_kept_and_an_unknown_kind_stores_nothing(
    moto_storage: MeetingStorage,
) -> None:
    result = moto_storage.process(RETRO_TEXT, kind="retrospective")
    assert result.record.kind == RETRO
    assert [s.title for s in result.summary.sections] == ["Went well", "To improve", "Actions"]
    with pytest.raises(InvalidInputError, match="Unknown meeting kind"):
        moto_storage.process(RETRO_TEXT, kind="party")
    assert moto_storage.count_meetings() == 1


# ---------------------------------------------------------------- CLI


def test_cli_lists_and_renames_speakers(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    status, stored = run(
        capsys, moto_storage, "process", "--text", STANDUP_TEXT, "--kind", "standup"
    )
    assert status == 0
    meeting_id = stored["meeting_id"]
    assert stored["meeting_summary"]["kind"] == STANDUP
    status, listed = run(capsys, moto_storage, "speakers", "list", meeting_id)
    assert status == 0 and listed["suggestions"] == {"Speaker B": "Carol"}
    status, renamed = run(
        capsys, moto_storage, "speakers", "rename", meeting_id, "Speaker B", "Carol"
    )
    assert status == 0
    owners = [item["owner"] for item in renamed["meeting_summary"]["action_items"]]
    assert "Carol" in owners
    status, failed = run(capsys, moto_storage, "speakers", "rename", meeting_id, "Nobody", "X")
    assert status == 1 and failed["error"]["code"] == "invalid_input"
    status, bad_kind = run(capsys, moto_storage, "process", "--text", STANDUP_TEXT, "--kind", "x")
    assert status == 1 and "Unknown meeting kind" in bad_kind["error"]["message"]


# ---------------------------------------------------------------- REST API


def test_api_lists_and_renames_speakers(moto_storage: MeetingStorage) -> None:
    with make_client(moto_storage) as client:
        stored = client.post(
            "/api/meeting/process", json={"text": RETRO_TEXT, "kind": "retro", "wait": True}
        ).json()
        meeting_id = stored["meeting_id"]
        assert stored["meeting_summary"]["kind"] == RETRO
        listed = client.get(f"/api/meetings/{meeting_id}/speakers")
        assert listed.status_code == 200 and listed.json()["speakers"] == ["Dana", "Eli"]
        renamed = client.post(
            f"/api/meetings/{meeting_id}/speakers/rename", json={"old": "Eli", "new": "Elias"}
        )
        assert renamed.status_code == 200, renamed.text
        assert renamed.json()["speaker_names"] == {"Eli": "Elias"}
        meeting = client.get(f"/api/meetings/{meeting_id}").json()["meeting"]
        assert "Elias: Yes, I'll write the rollback runbook" in meeting["transcription"]
        missing = client.post(
            f"/api/meetings/{meeting_id}/speakers/rename", json={"old": "Nobody", "new": "X"}
        )
        assert missing.status_code == 400 and missing.json()["error"]["code"] == "invalid_input"
        unknown = client.get(f"/api/meetings/meeting-{'0' * 32}/speakers")
        assert unknown.status_code == 404
        bad_kind = client.post(
            "/api/meeting/process", json={"text": RETRO_TEXT, "kind": "x", "wait": True}
        )
        assert bad_kind.status_code == 400


# ---------------------------------------------------------------- dashboard


def _meeting_page(meeting_id: str) -> Any:
    at = app_test().run()
    at.query_params["id"] = meeting_id
    at.switch_page("pages/3_Meeting.py").run()
    assert not at.exception
    return at


def test_the_meeting_page_shows_sections_and_renames_a_speaker(dashboard: MeetingStorage) -> None:
    meeting_id = dashboard.process(STANDUP_TEXT, kind="stand-up").record.meeting_id
    at = _meeting_page(meeting_id)
    markdown = " ".join(element.value for element in at.markdown)
    assert "Speaker B: Blockers" in markdown.replace("\\", "")
    form = at.get("form")
    assert form, "the rename form is on the page"
    speaker = next(box for box in at.selectbox if box.label == "Speaker")
    speaker.set_value("Speaker B")
    name = next(box for box in at.text_input if box.label == "Name")
    name.set_value("Carol")
    next(button for button in at.button if button.label == "Rename").click().run()
    assert not at.exception
    assert dashboard.get_record(meeting_id).speaker_names == {"Speaker B": "Carol"}


def test_a_language_model_is_asked_for_the_kinds_sections(moto_storage: MeetingStorage) -> None:
    """The kind is known before extracting, so an LLM extractor fills the kind's sections."""
    from meeting_storage.analysis.extract import Extraction
    from meeting_storage.analysis.llm import LlmExtractor

    asked: list[tuple[str, ...]] = []

    class Recording(LlmExtractor):
        def __init__(self) -> None:  # no transport: the call is recorded, not sent
            pass

        def extract(self, transcript: Any, *, sections: Any = None) -> Extraction:
            asked.append(tuple(sections or ()))
            return Extraction(
                summary=Summary(
                    text="s", sections=(SummarySection("Went well", ("The checklist.",)),)
                )
            )

    moto_storage.extractor = Recording()
    result = moto_storage.process(RETRO_TEXT, title="Release retro")
    assert asked == [("Went well", "To improve", "Actions")]
    assert result.summary.kind == RETRO
    assert result.summary.sections == (SummarySection("Went well", ("The checklist.",)),)


def test_renaming_needs_an_editor_and_leaves_one_audit_event(moto_storage: MeetingStorage) -> None:
    from meeting_storage.core.access import Principal, Role
    from meeting_storage.core.errors import ForbiddenError

    editor = moto_storage.acting_as(Principal("ed@example.com", Role.EDITOR, "api"))
    viewer = moto_storage.acting_as(Principal("vi@example.com", Role.VIEWER, "dashboard"))
    meeting_id = editor.process(STANDUP_TEXT).record.meeting_id
    assert viewer.speakers(meeting_id).speakers  # a viewer may read them
    with pytest.raises(ForbiddenError):
        viewer.rename_speaker(meeting_id, "Speaker B", "Carol")
    assert moto_storage.get_record(meeting_id).speaker_names == {}  # nothing changed
    editor.rename_speaker(meeting_id, "Speaker B", "Carol")
    renames = moto_storage.audit_events(meeting_id=meeting_id)
    renames = [e for e in renames if e.action == "speakers.rename"]
    assert [(e.actor, e.outcome) for e in renames] == [
        ("ed@example.com", "ok"),
        ("vi@example.com", "forbidden"),
    ]
    assert renames[0].details["new"] == "Carol"
